// The model behind the history page, fed the helper's answer as it comes over the bus: each
// record becomes a row whose roles are the fields its message takes, the filter shows one group
// of records, and an answer it cannot read or an unreachable bus gives a message. The test
// runner points DBUS_SYSTEM_BUS_ADDRESS at a socket that does not exist.
import QtQuick
import QtQml.Models
import QtTest
import org.kde.updatecenter

TestCase {
    id: testCase
    name: "HistoryModel"

    // One record of each kind, newest first, as the helper answers `History`.
    readonly property string answer: '[' + [
        '{"time":"2026-11-26T08:13:00Z","event":"health-checked","passed":false,"checks":[{"name":"10-units.required","kind":"required","outcome":"failed","status":1,"output":"","duration_ms":5}]}',
        '{"time":"2026-11-26T08:12:00Z","event":"checked","candidate":"202611270800"}',
        '{"time":"2026-11-26T08:11:00Z","event":"fallback-acknowledged","failed":"202611270800"}',
        '{"time":"2026-11-26T08:10:00Z","event":"fallback-detected","failed":"202611270800","tries":3,"running":"202611260800"}',
        '{"time":"2026-11-26T08:09:00Z","event":"booted","version":"202611260800","entry":"k.efi","tries_left":null,"tries_done":null,"good":true}',
        '{"time":"2026-11-26T08:08:00Z","event":"rolled-back","version":"202611250800","once":true}',
        '{"time":"2026-11-26T08:07:00Z","event":"unpinned","version":"202611250800"}',
        '{"time":"2026-11-26T08:06:00Z","event":"pinned","version":"202611250800"}',
        '{"time":"2026-11-26T08:05:00Z","event":"recovered","version":"202611270800","completed":true}',
        '{"time":"2026-11-26T08:04:00Z","event":"failed","version":"202611270800","reason":"no room on /efi"}',
        '{"time":"2026-11-26T08:03:00Z","event":"committed","version":"202611260800"}',
        '{"time":"2026-11-26T08:02:00Z","event":"removed","version":"202610010800"}',
        '{"time":"2026-11-26T08:01:00Z","event":"started","version":"202611260800","download_bytes":1500000000}'
    ].join(",") + ']'

    Component {
        id: fixture
        QtObject {
            id: f
            readonly property HistoryModel model: HistoryModel {}
            readonly property Instantiator rows: Instantiator {
                model: f.model
                delegate: QtObject {
                    required property string kind
                    required property string group
                    required property real timeMs
                    required property string version
                    required property string running
                    required property int tries
                    required property string reason
                    required property bool passed
                    required property bool once
                    required property bool good
                    required property bool completed
                    required property bool available
                    required property string file
                    required property bool delta
                    required property real fetchedBytes
                    required property real reusedBytes
                    required property real fullBytes
                }
            }
            function kinds() {
                const out = [];
                for (let i = 0; i < rows.count; i++)
                    out.push(rows.objectAt(i).kind);
                return out;
            }
        }
    }

    function test_each_record_becomes_a_row_with_its_fields() {
        const f = createTemporaryObject(fixture, testCase);
        f.model.loadJson(testCase.answer);
        verify(f.model.loaded);
        compare(f.model.errorMessage, "");
        compare(f.model.count, 13);
        compare(f.rows.count, 13);
        compare(f.kinds(), ["health-checked", "checked", "fallback-acknowledged", "fallback-detected",
            "booted", "rolled-back", "unpinned", "pinned", "recovered", "failed", "committed",
            "removed", "started"]);

        const health = f.rows.objectAt(0);
        compare(health.group, "boots");
        verify(!health.passed);
        compare(health.timeMs, Date.UTC(2026, 10, 26, 8, 13));
        const check = f.rows.objectAt(1);
        compare(check.version, "202611270800");
        verify(check.available);
        const fallback = f.rows.objectAt(3);
        compare(fallback.version, "202611270800", "the version that failed");
        compare(fallback.running, "202611260800");
        compare(fallback.tries, 3);
        verify(f.rows.objectAt(4).good);
        verify(f.rows.objectAt(5).once);
        compare(f.rows.objectAt(5).group, "choices");
        verify(f.rows.objectAt(8).completed);
        compare(f.rows.objectAt(9).reason, "no room on /efi");
        compare(f.rows.objectAt(9).group, "updates");
        compare(f.rows.objectAt(12).version, "202611260800");
    }

    function test_a_fetched_record_says_how_the_image_came() {
        const f = createTemporaryObject(fixture, testCase);
        f.model.loadJson('[' + [
            '{"time":"2026-11-26T08:02:00Z","event":"fetched","version":"202611270800","file":"kde-linux_202611270800.erofs","seed_bytes":4000,"store_bytes":300,"range_bytes":200,"full_bytes":0,"fallback":""}',
            '{"time":"2026-11-26T08:01:00Z","event":"fetched","version":"202611270800","file":"kde-linux_202611270800.efi","seed_bytes":0,"store_bytes":0,"range_bytes":0,"full_bytes":4500,"fallback":"the chunk store failed"}'
        ].join(",") + ']');
        compare(f.model.errorMessage, "");
        compare(f.rows.count, 2);
        const delta = f.rows.objectAt(0);
        compare(delta.kind, "fetched");
        compare(delta.group, "updates");
        compare(delta.version, "202611270800");
        compare(delta.file, "kde-linux_202611270800.erofs");
        verify(delta.delta);
        compare(delta.fetchedBytes, 500, "from the store and by range requests");
        compare(delta.reusedBytes, 4000);
        compare(delta.fullBytes, 0);
        compare(delta.reason, "");
        const whole = f.rows.objectAt(1);
        verify(!whole.delta);
        compare(whole.fullBytes, 4500);
        compare(whole.reason, "the chunk store failed");
        f.model.filter = "updates";
        compare(f.model.count, 2);
    }

    function test_the_filter_shows_one_group() {
        const f = createTemporaryObject(fixture, testCase);
        f.model.loadJson(testCase.answer);
        f.model.filter = "boots";
        compare(f.kinds(), ["health-checked", "fallback-acknowledged", "fallback-detected", "booted"]);
        compare(f.model.count, 4);
        f.model.filter = "updates";
        compare(f.kinds(), ["recovered", "failed", "committed", "removed", "started"]);
        f.model.filter = "";
        compare(f.model.count, 13);
    }

    function test_an_answer_it_cannot_read_gives_a_message() {
        const f = createTemporaryObject(fixture, testCase);
        f.model.loadJson("{}");
        verify(f.model.loaded);
        compare(f.model.count, 0);
        verify(f.model.errorMessage.indexOf("The history cannot be read") === 0, f.model.errorMessage);
        f.model.loadJson("[]");
        compare(f.model.errorMessage, "");
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
