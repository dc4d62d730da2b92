// The Settings page: the shared settings form with Defaults, Reset and Apply, as in System
// Settings. Nothing reaches the helper before Apply.
import QtQuick
import QtQuick.Controls as QQC2
import QtQuick.Layouts
import org.kde.kirigami as Kirigami
import org.kde.updatecenter.settings

Kirigami.ScrollablePage {
    id: page

    readonly property SettingsModel settings: SettingsModel {
        id: model
    }

    title: L10n.tr("settings-page-title", {})

    onVisibleChanged: if (visible && !model.needsSave) model.load()

    header: Kirigami.InlineMessage {
        visible: model.errorMessage !== ""
        type: Kirigami.MessageType.Error
        position: Kirigami.InlineMessage.Position.Header
        text: model.errorMessage
        showCloseButton: true
    }

    SettingsForm {
        settings: model
        enabled: model.loaded && !model.busy
    }

    footer: QQC2.ToolBar {
        RowLayout {
            anchors.fill: parent
            QQC2.Button {
                objectName: "defaultsButton"
                text: L10n.tr("settings-defaults", {})
                icon.name: "edit-undo"
                enabled: model.loaded && !model.isDefaults && !model.busy
                onClicked: model.defaults()
            }
            Item {
                Layout.fillWidth: true
            }
            QQC2.BusyIndicator {
                visible: model.busy
                running: visible
                Accessible.name: L10n.tr("settings-applying", {})
                Layout.preferredHeight: Kirigami.Units.iconSizes.medium
            }
            QQC2.Button {
                objectName: "resetButton"
                text: L10n.tr("settings-reset", {})
                icon.name: "edit-reset"
                enabled: model.needsSave && !model.busy
                onClicked: model.reset()
            }
            QQC2.Button {
                objectName: "applyButton"
                text: L10n.tr("settings-apply", {})
                icon.name: "dialog-ok-apply"
                enabled: model.needsSave && !model.busy
                onClicked: model.apply()
            }
        }
    }
}
