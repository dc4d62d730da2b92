// The Update Center window.
import QtQuick
import org.kde.kirigami as Kirigami
import org.kde.updatecenter

Kirigami.ApplicationWindow {
    id: root

    title: L10n.tr("app-title", {})
    width: Kirigami.Units.gridUnit * 44
    height: Kirigami.Units.gridUnit * 30
    minimumWidth: Kirigami.Units.gridUnit * 22
    minimumHeight: Kirigami.Units.gridUnit * 18

    VersionModel {
        id: versionModel
        Component.onCompleted: refresh()
    }

    pageStack.initialPage: VersionsPage {
        versions: versionModel
    }

    // Screenshots and tests wait until the loaded data is on screen and the window has stopped
    // changing: animations (the inline message slides in) and items Kirigami creates after the
    // first frame (the action toolbar) each render further frames, which restart the timer.
    onFrameSwapped: {
        if (versionModel.loaded && !versionModel.loading) {
            settleTimer.restart();
        }
    }
    Timer {
        id: settleTimer
        interval: Kirigami.Units.humanMoment / 4
        onTriggered: versionModel.reportSettled()
    }
}
