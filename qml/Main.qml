// The Update Center window: the overview first, the installed versions beside it.
import QtQuick
import org.kde.kirigami as Kirigami
import org.kde.updatecenter
import org.kde.updatecenter.settings

Kirigami.ApplicationWindow {
    id: root

    title: L10n.tr("app-title", {})
    width: Kirigami.Units.gridUnit * 44
    height: Kirigami.Units.gridUnit * 30
    minimumWidth: Kirigami.Units.gridUnit * 20
    minimumHeight: Kirigami.Units.gridUnit * 18

    StatusModel {
        id: statusModel
        Component.onCompleted: start()
    }

    VersionModel {
        id: versionModel
        Component.onCompleted: refresh()
    }

    // The pages live as long as the window: switching keeps their state.
    OverviewPage {
        id: overviewPage
        visible: false
        status: statusModel
        onShowVersions: root.show("versions")
        onShowWhatsNew: root.show("whatsnew")
    }
    VersionsPage {
        id: versionsPage
        visible: false
        versions: versionModel
        status: statusModel
    }
    WhatsNewPage {
        id: whatsNewPage
        visible: false
    }
    HistoryPage {
        id: historyPage
        visible: false
        status: statusModel
    }
    SettingsPage {
        id: settingsPage
        visible: false
    }

    function page(name) {
        return name === "versions" ? versionsPage : name === "history" ? historyPage
            : name === "whatsnew" ? whatsNewPage : name === "settings" ? settingsPage : overviewPage;
    }
    function show(name) {
        pageStack.replace(page(name));
        console.info("update-center: page " + name);
    }

    // `--page NAME` (for screenshots and tests) opens another page first.
    readonly property string firstPage: {
        const args = Qt.application.arguments;
        const at = args.indexOf("--page");
        return at >= 0 && at + 1 < args.length ? args[at + 1] : "overview";
    }
    pageStack.initialPage: page(firstPage)

    globalDrawer: Kirigami.GlobalDrawer {
        width: Kirigami.Units.gridUnit * 12
        isMenu: !root.wideScreen
        modal: !root.wideScreen
        collapsible: true
        collapsed: !root.wideScreen
        showHeaderWhenCollapsed: true
        actions: [
            Kirigami.Action {
                text: L10n.tr("overview-page-title", {})
                icon.name: "system-software-update"
                onTriggered: root.show("overview")
            },
            Kirigami.Action {
                text: L10n.tr("whatsnew-page-title", {})
                icon.name: "documentinfo"
                onTriggered: root.show("whatsnew")
            },
            Kirigami.Action {
                text: L10n.tr("versions-page-title", {})
                icon.name: "view-list-details"
                onTriggered: root.show("versions")
            },
            Kirigami.Action {
                text: L10n.tr("history-page-title", {})
                icon.name: "view-history"
                onTriggered: root.show("history")
            },
            Kirigami.Action {
                text: L10n.tr("settings-page-title", {})
                icon.name: "configure"
                onTriggered: root.show("settings")
            }
        ]
    }


    // Screenshots and tests wait until the loaded data is on screen and the window has stopped
    // changing: animations (the inline message slides in) and items Kirigami creates after the
    // first frame (the action toolbar) each render further frames, which restart the timer.
    onFrameSwapped: {
        if (versionModel.loaded && !versionModel.loading && statusModel.loaded) {
            settleTimer.restart();
        }
    }
    Timer {
        id: settleTimer
        interval: Kirigami.Units.humanMoment / 4
        onTriggered: {
            if (L10n.pseudo) {
                root.reportTexts(root.contentItem);
                if (root.globalDrawer) root.reportTexts(root.globalDrawer.contentItem);
            }
            if (root.reportFocus) root.reportTabbable();
            versionModel.reportSettled();
        }
    }

    // Keyboard tests (`--report-focus`, tests/testbed/keyboard.rs): every change of the item
    // with the keyboard focus, and, whenever they change, the controls the Tab key should
    // reach, each by the name a screen reader says, its checked state, and `#` and its address
    // (two controls may have the same name).
    readonly property bool reportFocus: Qt.application.arguments.indexOf("--report-focus") >= 0
    onActiveFocusItemChanged: {
        if (reportFocus && activeFocusItem) console.info("update-center: focus " + describeItem(activeFocusItem));
    }
    property string reportedTabbable: ""
    function describeItem(item) {
        let name = item.Accessible.name;
        if (!name && typeof item.text === "string") name = item.text;
        if (!name) name = "<unnamed " + String(item).replace(/\(0x[0-9a-f]+.*\)$/, "") + ">";
        if (item.checkable === true) name += item.checked ? " [checked]" : " [unchecked]";
        const address = String(item).match(/0x[0-9a-f]+/);
        return name + " #" + (address ? address[0] : "");
    }
    function tabbable(item, out) {
        if (!item || !item.visible) return out;
        if (item.activeFocusOnTab && item.enabled && item.width > 0 && item.height > 0) out.push(describeItem(item));
        for (let i = 0; i < item.children.length; ++i) root.tabbable(item.children[i], out);
        return out;
    }
    function reportTabbable() {
        let top = root.contentItem;
        while (top.parent) top = top.parent;
        const names = JSON.stringify(root.tabbable(top, []));
        if (names !== reportedTabbable) {
            reportedTabbable = names;
            console.info("update-center: tabbable " + names);
        }
    }

    // In the pseudo-locale, every visible text is printed once the window settled, so that a
    // test can find text that did not come through Fluent.
    function reportTexts(item) {
        if (!item || !item.visible || item.fromData === true) return;
        if (item.text !== undefined && typeof item.text === "string" && item.text !== "" && item.opacity > 0) {
            console.info("update-center: text " + item.text);
        }
        if (item.placeholderText !== undefined && item.placeholderText !== "" && item.text === "") {
            console.info("update-center: text " + item.placeholderText);
        }
        for (let i = 0; i < item.children.length; ++i) {
            root.reportTexts(item.children[i]);
        }
    }
}
