// The installed OS versions, newest first.
import QtQuick
import QtQuick.Controls as QQC2
import QtQuick.Layouts
import org.kde.kirigami as Kirigami
import org.kde.updatecenter

Kirigami.ScrollablePage {
    id: page

    required property VersionModel versions

    title: qsTr("Installed Versions")

    actions: [
        Kirigami.Action {
            icon.name: "view-refresh"
            text: qsTr("Refresh")
            shortcut: StandardKey.Refresh
            enabled: !page.versions.loading
            onTriggered: page.versions.refresh()
        }
    ]

    header: Kirigami.InlineMessage {
        id: errorMessage
        position: Kirigami.InlineMessage.Position.Header
        type: Kirigami.MessageType.Error
        showCloseButton: false
        visible: page.versions.errorMessage !== ""
        text: page.versions.errorMessage
        actions: [
            Kirigami.Action {
                icon.name: "view-refresh"
                text: qsTr("Try Again")
                onTriggered: page.versions.refresh()
            }
        ]
    }

    ListView {
        id: list
        model: page.versions
        currentIndex: -1
        keyNavigationEnabled: true
        activeFocusOnTab: true
        delegate: VersionDelegate {
            width: ListView.view.width
        }

        Kirigami.PlaceholderMessage {
            anchors.centerIn: parent
            width: parent.width - Kirigami.Units.gridUnit * 4
            visible: list.count === 0 && !page.versions.loading && page.versions.errorMessage === ""
            icon.name: "system-software-update"
            text: qsTr("No OS versions are installed")
            explanation: qsTr("No files matching the update definitions were found on this system.")
        }

        Kirigami.LoadingPlaceholder {
            anchors.centerIn: parent
            visible: list.count === 0 && page.versions.loading
        }
    }
}
