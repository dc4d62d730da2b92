// The What's New page shows its model's release notes and package diff through Fluent.
import QtQuick
import QtTest
import org.kde.updatecenter

TestCase {
    id: testCase
    name: "WhatsNewPage"
    width: 640
    height: 1200
    visible: true
    when: windowShown

    readonly property string answer: JSON.stringify({
        from: "202611250800",
        to: "202611260800",
        releases: [{ version: "202611260800", date: "2026-11-26", description: ["Plasma 6.6"],
                     urls: ["https://kde.org/linux/releases/202611260800"] }],
        links: [],
        packages: {
            added: [{ name: "kpipewire", version: "6.6.0-1" }],
            removed: [],
            upgraded: [{ name: "linux", from: "6.17.8-1", to: "6.17.9-1" }],
            downgraded: []
        },
        notes: []
    })

    Component {
        id: pageComponent
        WhatsNewPage {
            width: 640
            height: 1200
        }
    }

    // Every visible text on the page.
    function texts(item) {
        let out = [];
        if (item.visible && typeof item.text === "string" && item.text !== "")
            out.push(item.text);
        for (let i = 0; i < item.children.length; i++)
            out = out.concat(texts(item.children[i]));
        return out;
    }

    function test_release_notes_and_package_changes_are_shown() {
        const page = createTemporaryObject(pageComponent, testCase);
        verify(page, "the page was created");
        const model = findChild(page, "changelogModel");
        verify(model);
        model.loadJson(testCase.answer);
        compare(findChild(page, "heading").text, "From version 202611250800 to 202611260800");
        compare(findChild(page, "packageSummary").text, "2 packages change: 1 upgraded, 1 added, 0 removed");
        compare(findChild(page, "packageGroup-upgraded").text, "Upgraded (1)");
        const shown = texts(page);
        for (const expected of ["Kernel 6.17.8-1 → 6.17.9-1", "Version 202611260800 (2026-11-26)", "Plasma 6.6",
                                "Open https://kde.org/linux/releases/202611260800", "linux: 6.17.8-1 → 6.17.9-1",
                                "kpipewire 6.6.0-1"])
            verify(shown.indexOf(expected) >= 0, expected + " in " + JSON.stringify(shown));
    }
}
