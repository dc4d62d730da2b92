// The GUI's models against the real helper on a private bus with a real polkitd (started by
// tests/gui.rs): check, install with progress reaching 100 %, roll back; the history shows all
// three.
import QtQuick
import QtTest
import org.kde.updatecenter

TestCase {
    id: testCase
    name: "EndToEnd"

    StatusModel {
        id: status
        property real largestFraction: 0
        onDoneBytesChanged: {
            if (totalBytes > 0) {
                largestFraction = Math.max(largestFraction, doneBytes / totalBytes);
            }
        }
    }

    function test_check_install_rollback_and_history() {
        status.start();
        tryVerify(() => status.loaded, 20000, "the status arrives");
        compare(status.connectionError, "");
        const running = status.runningVersion;
        verify(running !== "", "the running version is known");
        compare(status.availableVersion, "");

        status.check();
        tryVerify(() => status.availableVersion !== "", 20000, "the check finds the update");
        const offered = status.availableVersion;
        verify(status.availableBytes > 0);

        status.install("");
        tryVerify(() => status.jobPhase === "downloading", 20000, "the download starts");
        tryCompare(status, "state", "ready-to-restart", 60000);
        compare(status.largestFraction, 1, "the progress reached 100 %");
        compare(status.defaultVersion, offered);
        compare(status.errorMessage, "");

        status.rollback(running, false);
        tryCompare(status, "defaultVersion", running, 20000);

        status.loadHistory();
        tryVerify(() => status.historyJson.indexOf("rolled-back") >= 0, 20000);
        const kinds = JSON.parse(status.historyJson).map(r => r.event);
        verify(kinds.indexOf("checked") >= 0, kinds);
        verify(kinds.indexOf("committed") >= 0, kinds);
        compare(kinds[0], "rolled-back", "newest first");
    }

    function test_a_settings_change_reaches_the_helper_and_survives_a_reload() {
        status.loadSettings();
        tryVerify(() => status.settingsJson !== "", 20000);
        status.setSetting("Updates.InstancesMax", "3");
        tryVerify(() => JSON.parse(status.settingsJson)["Updates.InstancesMax"] === "3", 20000);
        status.settingsJson = "";
        status.loadSettings();
        tryVerify(() => status.settingsJson !== "", 20000);
        compare(JSON.parse(status.settingsJson)["Updates.InstancesMax"], "3");
        status.setSetting("Updates.Source", "ftp://nowhere");
        tryVerify(() => status.errorMessage.indexOf("mirror URL") >= 0, 20000, "a bad value is refused with a reason");
    }
}
