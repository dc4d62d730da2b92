// The Update Center window: the overview first, the installed versions beside it.
import QtQuick
import org.kde.kirigami as Kirigami
import org.kde.updatecenter

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
    }
    VersionsPage {
        id: versionsPage
        visible: false
        versions: versionModel
        status: statusModel
    }

    function show(name) {
        pageStack.replace(name === "versions" ? versionsPage : overviewPage);
    }

    // `--versions` (for screenshots and tests) opens the installed versions first.
    pageStack.initialPage: Qt.application.arguments.indexOf("--versions") >= 0 ? versionsPage : overviewPage

    globalDrawer: Kirigami.GlobalDrawer {
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
                text: L10n.tr("versions-page-title", {})
                icon.name: "view-list-details"
                onTriggered: root.show("versions")
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
        onTriggered: versionModel.reportSettled()
    }
}
