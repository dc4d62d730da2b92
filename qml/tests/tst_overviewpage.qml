// The overview: beside the install button, What's New of the offer in a line or two and the
// way to the full page (reached and pressed with the keyboard); a failure said from the
// helper's fields through Fluent, its English only for a kind this client does not know.
import QtQuick
import QtTest
import org.kde.updatecenter

TestCase {
    id: testCase
    name: "OverviewPage"
    width: 800
    height: 900
    visible: true
    when: windowShown

    // Never started: the test sets what the helper would have said.
    StatusModel {
        id: statusModel
    }

    Component {
        id: pageComponent
        OverviewPage {
            width: 800
            height: 900
            status: statusModel
        }
    }

    Component {
        id: signalSpy
        SignalSpy {}
    }

    readonly property string answer: JSON.stringify({
        from: "202611250800",
        to: "202611261200",
        releases: [{ version: "202611261200", date: "2026-11-26", description: ["Plasma 6.6"], urls: [] }],
        links: [],
        packages: {
            added: [{ name: "kpipewire", version: "6.6.0-1" }],
            removed: [],
            upgraded: [{ name: "linux", from: "6.17.8-1", to: "6.17.9-1" }],
            downgraded: []
        },
        notes: []
    })

    function init() {
        statusModel.loaded = true;
        statusModel.lastCheckMs = 1795608000000;
        statusModel.runningVersion = "202611250800";
        statusModel.availableVersion = "202611261200";
        statusModel.availableBytes = 4096;
        statusModel.availableImageBytes = 4096;
        statusModel.lastError = "";
        statusModel.lastErrorDetails = "";
        statusModel.waiting = [];
        statusModel.waitingDownload = false;
        statusModel.overdue = false;
    }

    function details(kind, fields) {
        return JSON.stringify({ kind: kind, fields: fields });
    }

    function test_the_offer_shows_whats_new_beside_the_install_button() {
        const page = createTemporaryObject(pageComponent, testCase);
        verify(page, "the page was created");
        compare(page.card, "available");
        findChild(page, "overviewChangelog").loadJson(testCase.answer);
        const note = findChild(findChild(page, "availableCard"), "note");
        verify(note, "the card has a note");
        tryCompare(note, "text", "2 packages change: 1 upgraded, 1 added, 0 removed\nKernel 6.17.8-1 → 6.17.9-1");
        verify(note.visible);

        const install = findChild(page, "installButton");
        const whatsNew = findChild(page, "whatsNewButton");
        verify(install.visible && whatsNew.visible);
        compare(whatsNew.text, "What's New…");
        compare(whatsNew.parent, install.parent, "beside the install button");
        verify(whatsNew.x > install.x, "after it");
        verify(whatsNew.activeFocusOnTab, "the keyboard reaches it");

        // From the install button, Tab goes to it, and Space opens the full page.
        const spy = createTemporaryObject(signalSpy, testCase, { target: page, signalName: "showWhatsNew" });
        install.forceActiveFocus();
        keyClick(Qt.Key_Tab);
        verify(whatsNew.activeFocus, "Tab moved from Install to What's New");
        keyClick(Qt.Key_Space);
        compare(spy.count, 1, "Space opened What's New");

        // What's New of another version is not said of this one.
        statusModel.availableVersion = "202611270000";
        compare(note.text, "");
        verify(!note.visible);
    }

    // What the machine waits for, below the offer, and "Download anyway" past a metered
    // connection: reached with Tab after the offer's buttons, named for a screen reader, and
    // Space starts the person's own install.
    function test_what_the_machine_waits_for_shows_and_a_download_goes_past_it() {
        const page = createTemporaryObject(pageComponent, testCase);
        const waiting = findChild(page, "waiting");
        verify(waiting);
        verify(!waiting.visible, "nothing waits");

        statusModel.waiting = ["a connection that is not metered", "mains power, or a battery charged to 30 % (it is at 12 %)"];
        statusModel.waitingDownload = true;
        verify(waiting.visible);
        compare(waiting.Accessible.name, "Waiting for:");
        compare(waiting.Accessible.description, statusModel.waiting.join("\n"));
        const title = findChild(waiting, "waitingTitle");
        compare(title.text, "Waiting for:");
        const lines = [];
        for (let i = 0; i < 10; ++i) {
            const line = findChild(waiting, "waitingLine");
            if (!line)
                break;
            lines.push(line.text);
            line.objectName = "seen";
        }
        compare(lines, statusModel.waiting);

        const anyway = findChild(page, "downloadAnywayButton");
        verify(anyway.visible);
        compare(anyway.text, "Download Anyway");
        compare(anyway.Accessible.description, "Downloads the update now, this once; automatic downloads still wait.");
        findChild(page, "whatsNewButton").forceActiveFocus();
        keyClick(Qt.Key_Tab);
        verify(anyway.activeFocus, "Tab moved from What's New to Download Anyway");
        compare(statusModel.errorMessage, "");
        keyClick(Qt.Key_Space);
        // No helper here: the install is asked for and fails, and the status is read again
        // (and fails too).
        tryVerify(() => statusModel.busy || statusModel.errorMessage !== "", 20000, "Space started the install");
        tryVerify(() => !statusModel.busy && statusModel.connectionError !== "", 20000);
        statusModel.errorMessage = "";
        statusModel.errorKind = "";
        statusModel.connectionError = "";

        // Only the download gates: a staged version outside the windows has nothing to download.
        statusModel.waitingDownload = false;
        verify(!anyway.visible);
        statusModel.availableVersion = "";
        statusModel.restartPending = true;
        statusModel.defaultVersion = "202611261200";
        compare(page.card, "restart");
        statusModel.waiting = ["the next maintenance window, tomorrow at 02:00"];
        verify(waiting.visible, "shown below the restart");
        statusModel.restartPending = false;
        statusModel.availableVersion = "202611261200";
    }

    function test_a_failure_is_said_from_the_helpers_fields() {
        statusModel.availableVersion = "";
        statusModel.lastError = "the file system of /system needs 3 MB more: remove version 202611200930 or enlarge the partition";
        statusModel.lastErrorDetails = details("no-room", {
            dir: "/system", boot: "no", missing_bytes: "3145728", needed_bytes: "5242880",
            available_bytes: "2097152", can_remove: "yes", remove: "202611200930"
        });
        const page = createTemporaryObject(pageComponent, testCase);
        const message = findChild(page, "lastError");
        verify(message.visible);
        const size = Qt.locale("en-US").formattedDataSize(3145728);
        compare(message.text, "The last update did not succeed: the file system of /system needs " + size
            + " more room: remove version 202611200930 or enlarge the partition");

        statusModel.lastErrorDetails = details("no-room", {
            dir: "/efi/EFI/Linux", boot: "yes", missing_bytes: "3145728", can_remove: "no", remove: ""
        });
        compare(message.text, "The last update did not succeed: the EFI system partition (/efi/EFI/Linux) needs " + size
            + " more room: enlarge the partition (every other version is in use or protected)");

        statusModel.lastErrorDetails = details("unreachable", { url: "http://127.0.0.1:9/kde-linux/SHA256SUMS", job: "check" });
        compare(message.text, "The last check for updates did not succeed: the mirror http://127.0.0.1:9/kde-linux/SHA256SUMS cannot be reached; check the network connection");

        // A kind this client does not know: the helper's English, as it came.
        statusModel.lastErrorDetails = details("something-new", { what: "x" });
        compare(message.text, "The last update did not succeed: " + statusModel.lastError);
        statusModel.lastErrorDetails = details("", {});
        compare(message.text, "The last update did not succeed: " + statusModel.lastError);

        // A request the helper refused, by the error's name.
        statusModel.errorMessage = "another job is running: /org/kde/UpdateCenter1/job/3 (check, started by :1.7)";
        statusModel.errorKind = "busy";
        const refused = findChild(page, "requestError");
        verify(refused.visible);
        compare(refused.text, "That did not work: another update job is running; wait for it to finish or cancel it");
        statusModel.errorKind = "";
        compare(refused.text, statusModel.errorMessage);
        statusModel.errorMessage = "";
    }
}
