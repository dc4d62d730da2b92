// The update settings. Each change goes to the helper, which asks polkit for an administrator.
// Written to depend only on a StatusModel, so that the System Settings module can show it too.
import QtQuick
import QtQuick.Controls as QQC2
import QtQuick.Layouts
import org.kde.kirigami as Kirigami
import org.kde.updatecenter

Kirigami.ScrollablePage {
    id: page

    required property StatusModel status

    readonly property var values: {
        try {
            return JSON.parse(page.status.settingsJson || "{}");
        } catch (e) {
            return {};
        }
    }
    readonly property string source: values["Updates.Source"] || ""

    title: L10n.tr("settings-page-title", {})

    onVisibleChanged: if (visible) page.status.loadSettings()

    Kirigami.FormLayout {
        QQC2.SpinBox {
            id: retention
            objectName: "retention"
            Kirigami.FormData.label: L10n.tr("settings-retention", {})
            from: 2
            to: 16
            value: parseInt(page.values["Updates.InstancesMax"] || "4")
            Accessible.name: L10n.tr("settings-retention", {})
            onValueModified: page.status.setSetting("Updates.InstancesMax", String(value))
        }
        QQC2.Label {
            text: L10n.tr("settings-retention-help", {})
            opacity: 0.7
            wrapMode: Text.Wrap
            Layout.maximumWidth: Kirigami.Units.gridUnit * 24
        }

        Kirigami.Separator {
            Kirigami.FormData.isSection: true
            Kirigami.FormData.label: L10n.tr("settings-source-section", {})
        }
        QQC2.RadioButton {
            id: sourceDefault
            Kirigami.FormData.label: L10n.tr("settings-source", {})
            text: L10n.tr("settings-source-default", {})
            checked: page.source === ""
            onToggled: if (checked) page.status.setSetting("Updates.Source", "")
        }
        QQC2.RadioButton {
            id: sourceMirror
            text: L10n.tr("settings-source-mirror", {})
            checked: page.source.indexOf("http") === 0
        }
        QQC2.RadioButton {
            id: sourceFolder
            text: L10n.tr("settings-source-folder", {})
            checked: page.source.indexOf("/") === 0
        }
        QQC2.TextField {
            visible: sourceMirror.checked || sourceFolder.checked
            text: page.source
            placeholderText: sourceMirror.checked ? L10n.tr("settings-source-mirror-example", {}) : L10n.tr("settings-source-folder-example", {})
            Accessible.name: L10n.tr("settings-source", {})
            Layout.minimumWidth: Kirigami.Units.gridUnit * 16
            onEditingFinished: page.status.setSetting("Updates.Source", text)
        }

        Kirigami.Separator {
            Kirigami.FormData.isSection: true
            Kirigami.FormData.label: L10n.tr("settings-download-section", {})
        }
        QQC2.TextField {
            Kirigami.FormData.label: L10n.tr("settings-max-rate", {})
            text: page.values["Updates.MaxRateBytesPerSec"] ? String(Math.round(parseInt(page.values["Updates.MaxRateBytesPerSec"]) / 1000)) : ""
            placeholderText: L10n.tr("settings-max-rate-none", {})
            validator: IntValidator { bottom: 0 }
            Accessible.name: L10n.tr("settings-max-rate", {})
            onEditingFinished: page.status.setSetting("Updates.MaxRateBytesPerSec", text === "" || text === "0" ? "" : String(parseInt(text) * 1000))
        }

        Kirigami.Separator {
            Kirigami.FormData.isSection: true
            Kirigami.FormData.label: L10n.tr("settings-health-section", {})
        }
        QQC2.ComboBox {
            Kirigami.FormData.label: L10n.tr("settings-on-failure", {})
            textRole: "text"
            valueRole: "value"
            model: [
                { value: "wait", text: L10n.tr("settings-on-failure-wait", {}) },
                { value: "reboot-previous", text: L10n.tr("settings-on-failure-reboot", {}) }
            ]
            currentIndex: page.values["Health.OnFailure"] === "reboot-previous" ? 1 : 0
            Accessible.name: L10n.tr("settings-on-failure", {})
            onActivated: page.status.setSetting("Health.OnFailure", currentValue)
        }
        QQC2.SpinBox {
            Kirigami.FormData.label: L10n.tr("settings-health-timeout", {})
            from: 1
            to: 3600
            value: parseInt(page.values["Health.TimeoutSec"] || "60")
            Accessible.name: L10n.tr("settings-health-timeout", {})
            onValueModified: page.status.setSetting("Health.TimeoutSec", String(value))
        }
    }
}
