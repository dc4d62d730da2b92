// The history page shows its model's rows through Fluent, and its filter shows one group.
import QtQuick
import QtTest
import org.kde.updatecenter

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
}
