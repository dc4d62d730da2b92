// The Update Center window.
import QtQuick
import org.kde.kirigami as Kirigami
import org.kde.updatecenter

Kirigami.ApplicationWindow {
    id: root

    title: qsTr("Update Center")
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

    // Screenshots and tests wait for the first frame that shows loaded data.
    onFrameSwapped: versionModel.frameShown()
}
