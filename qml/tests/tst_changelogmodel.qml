// The model behind the What's New page, fed the helper's answer as it comes over the bus: the
// releases become rows, the package diff counts, changes and the kernel's and Plasma's versions;
// a changelog without package lists, an answer it cannot read and an unreachable bus are shown
// for what they are. The test runner points DBUS_SYSTEM_BUS_ADDRESS at a socket that does not
// exist.
import QtQuick
import QtQml.Models
import QtTest
import org.kde.updatecenter

TestCase {
    id: testCase
    name: "ChangelogModel"

    // As the helper answers `Changelog`.
    readonly property string full: JSON.stringify({
        from: "202611250800",
        to: "202611260800",
        releases: [
            { version: "202611260800", date: "2026-11-26", description: ["Plasma 6.6", "• Faster updates"],
              urls: ["https://kde.org/linux/releases/202611260800"] },
            { version: "202611255000", date: null, description: [], urls: [] }
        ],
        links: ["https://kde.org/linux/changelog/202611260800"],
        packages: {
            added: [{ name: "kpipewire", version: "6.6.0-1" }],
            removed: [{ name: "oldlib", version: "1.0-1" }],
            upgraded: [{ name: "linux", from: "6.17.8-1", to: "6.17.9-1" },
                       { name: "plasma-workspace", from: "6.5.3-1", to: "6.6.0-1" }],
            downgraded: [{ name: "mesa", from: "25.3.1-1", to: "25.3.0-1" }]
        },
        notes: []
    })
    readonly property string withoutPackages:
        '{"from":"1","to":"2","releases":[],"links":[],"packages":null,"notes":["no manifest for 1","no manifest for 2"]}'

    Component {
        id: fixture
        QtObject {
            id: f
            readonly property ChangelogModel model: ChangelogModel {}
            readonly property Instantiator rows: Instantiator {
                model: f.model
                delegate: QtObject {
                    required property string version
                    required property string date
                    required property var description
                    required property var urls
                }
            }
        }
    }

    function test_releases_become_rows_and_packages_are_counted_and_listed() {
        const f = createTemporaryObject(fixture, testCase);
        f.model.loadJson(testCase.full);
        verify(f.model.loaded);
        compare(f.model.errorMessage, "");
        compare(f.model.fromVersion, "202611250800");
        compare(f.model.toVersion, "202611260800");
        compare(f.model.count, 2);
        compare(f.rows.count, 2);
        const first = f.rows.objectAt(0);
        compare(first.version, "202611260800");
        compare(first.date, "2026-11-26");
        compare(first.description.length, 2);
        compare(first.description[1], "• Faster updates");
        compare(first.urls[0], "https://kde.org/linux/releases/202611260800");
        compare(f.rows.objectAt(1).date, "", "no date");
        compare(f.rows.objectAt(1).description.length, 0);

        verify(f.model.hasPackages);
        compare([f.model.upgradedCount, f.model.downgradedCount, f.model.addedCount, f.model.removedCount], [2, 1, 1, 1]);
        const changes = f.model.packageChanges;
        compare(changes.map(c => c.kind + " " + c.name), ["upgraded linux", "upgraded plasma-workspace",
            "downgraded mesa", "added kpipewire", "removed oldlib"]);
        compare(changes[0].from, "6.17.8-1");
        compare(changes[0].to, "6.17.9-1");
        compare(changes[3].version, "6.6.0-1");
        compare(f.model.highlights.map(h => h.part + " " + h.from + " " + h.to),
            ["kernel 6.17.8-1 6.17.9-1", "plasma 6.5.3-1 6.6.0-1"]);
        compare(f.model.notes, "");
    }

    function test_without_package_lists_the_notes_say_why() {
        const f = createTemporaryObject(fixture, testCase);
        f.model.loadJson(testCase.full);
        f.model.loadJson(testCase.withoutPackages);
        verify(!f.model.hasPackages);
        compare(f.model.count, 0);
        compare(f.rows.count, 0);
        compare(f.model.packageChanges.length, 0);
        compare(f.model.highlights.length, 0);
        compare(f.model.upgradedCount, 0);
        compare(f.model.notes, "no manifest for 1\nno manifest for 2");
    }

    function test_an_answer_it_cannot_read_gives_a_message() {
        const f = createTemporaryObject(fixture, testCase);
        f.model.loadJson("[]");
        verify(f.model.loaded);
        compare(f.model.count, 0);
        compare(f.model.toVersion, "");
        verify(f.model.errorMessage.indexOf("The release notes cannot be read") === 0, f.model.errorMessage);
    }

    function test_unreachable_bus_gives_a_message_and_no_rows() {
        const f = createTemporaryObject(fixture, testCase);
        f.model.refresh();
        verify(f.model.loading, "loading starts at once");
        tryVerify(() => f.model.loaded, 10000);
        verify(!f.model.loading);
        compare(f.model.count, 0);
        verify(f.model.errorMessage.indexOf("The updates of this system cannot be shown: the system bus cannot be reached") === 0, f.model.errorMessage);
    }
}
