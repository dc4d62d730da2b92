// The history page shows its model's rows through Fluent, and its filter shows one group.
import QtQuick
import QtTest
import org.kde.updatecenter
import org.kde.updatecenter.settings

TestCase {
    id: testCase
    name: "HistoryPage"
    width: 640
    height: 800
    visible: true
    when: windowShown

    readonly property string answer: '[' + [
        '{"time":"2026-11-26T08:03:00Z","event":"fallback-detected","failed":"202611270800","tries":3,"running":"202611260800"}',
        '{"time":"2026-11-26T08:02:00Z","event":"rolled-back","version":"202611250800","once":true}',
        '{"time":"2026-11-26T08:01:00Z","event":"failed","version":"202611270800","reason":"no room on /efi"}'
    ].join(",") + ']'

    StatusModel {
        id: statusModel
    }

    Component {
        id: pageComponent
        HistoryPage {
            width: 640
            height: 800
            status: statusModel
        }
    }

    function titles(list) {
        const out = [];
        for (let i = 0; i < list.count; i++) {
            const row = list.itemAtIndex(i);
            if (row)
                out.push(row.Accessible.name);
        }
        return out;
    }

    function test_records_are_said_through_fluent_and_filtered_by_group() {
        const page = createTemporaryObject(pageComponent, testCase);
        verify(page, "the page was created");
        const model = findChild(page, "historyModel");
        const list = findChild(page, "historyList");
        verify(model && list);
        model.loadJson(testCase.answer);
        tryCompare(list, "count", 3);
        tryVerify(() => titles(list).length === 3);
        compare(titles(list), [
            "Version 202611270800 failed to boot 3 times; went back to 202611260800",
            "Chose version 202611250800 for the next boot only",
            "Installing version 202611270800 failed: no room on /efi"
        ]);
        page.filter = "updates";
        tryCompare(list, "count", 1);
        page.filter = "";
        tryCompare(list, "count", 3);
    }

    function test_how_an_image_came_is_said_with_its_sizes() {
        const page = createTemporaryObject(pageComponent, testCase);
        const model = findChild(page, "historyModel");
        const list = findChild(page, "historyList");
        model.loadJson('[' + [
            '{"time":"2026-11-26T08:05:00Z","event":"fetched","version":"202611270800","file":"kde-linux_202611270800.erofs","seed_bytes":4194304,"store_bytes":1048576,"range_bytes":1048576,"full_bytes":0,"fallback":""}',
            '{"time":"2026-11-26T08:04:00Z","event":"fetched","version":"202611270800","file":"kde-linux_202611270800.efi","seed_bytes":0,"store_bytes":0,"range_bytes":0,"full_bytes":3145728,"fallback":"deltas are off ([Delta] Store=off)"}'
        ].join(",") + ']');
        tryCompare(list, "count", 2);
        tryVerify(() => titles(list).length === 2);
        const size = bytes => Qt.locale(L10n.locale).formattedDataSize(bytes);
        compare(titles(list), [
            "Downloaded kde-linux_202611270800.erofs as a delta: " + size(2097152) + " fetched, "
                + size(4194304) + " reused from installed versions",
            "Downloaded kde-linux_202611270800.efi whole (" + size(3145728)
                + "): deltas are off ([Delta] Store=off)"
        ]);
        page.filter = "updates";
        tryCompare(list, "count", 2);
    }
}
