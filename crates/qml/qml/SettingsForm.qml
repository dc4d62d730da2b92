// The update settings as a Kirigami FormLayout, shared by Update Center's Settings page and the
// System Settings module. Edits stay pending in the SettingsModel until it is applied (the
// page's or System Settings' Apply button); the helper then asks polkit for an administrator.
import QtQuick
import QtQuick.Controls as QQC2
import QtQuick.Layouts
import org.kde.kirigami as Kirigami
import org.kde.updatecenter.settings

Kirigami.FormLayout {
    id: form

    required property SettingsModel settings

    readonly property string source: form.settings.source
    readonly property date pausedUntil: new Date(form.settings.pausedUntil || 0)
    readonly property bool paused: form.settings.pausedUntil !== "" && pausedUntil > new Date()

    // Automatic updates
    QQC2.CheckBox {
        id: automaticCheck
        objectName: "automaticCheck"
        Kirigami.FormData.label: L10n.tr("settings-automatic-section", {})
        text: L10n.tr("settings-automatic-check", {})
        checked: form.settings.automaticCheck
        onToggled: form.settings.set("Updates.AutomaticCheck", checked ? "yes" : "no")
    }
    QQC2.CheckBox {
        objectName: "automaticDownload"
        text: L10n.tr("settings-automatic-download", {})
        enabled: automaticCheck.checked
        checked: form.settings.automaticDownload
        onToggled: form.settings.set("Updates.AutomaticDownload", checked ? "yes" : "no")
    }
    RowLayout {
        visible: form.paused
        QQC2.Label {
            text: L10n.tr("settings-paused-until", { time: form.pausedUntil.toLocaleString(Qt.locale(L10n.locale), Locale.ShortFormat) })
        }
        QQC2.Button {
            text: L10n.tr("settings-resume", {})
            icon.name: "media-playback-start"
            onClicked: form.settings.set("Updates.PausedUntil", "")
        }
    }
    QQC2.ComboBox {
        objectName: "restartBehaviour"
        Kirigami.FormData.label: L10n.tr("settings-restart", {})
        textRole: "text"
        valueRole: "value"
        model: [
            { value: "notify", text: L10n.tr("settings-restart-notify", {}) },
            { value: "quiet", text: L10n.tr("settings-restart-quiet", {}) }
        ]
        currentIndex: form.settings.restartBehaviour === "quiet" ? 1 : 0
        Accessible.name: L10n.tr("settings-restart", {})
        onActivated: form.settings.set("Restart.Behaviour", currentValue)
    }
    QQC2.SpinBox {
        id: retention
        objectName: "retention"
        Kirigami.FormData.label: L10n.tr("settings-retention", {})
        from: 2
        to: 16
        value: form.settings.instancesMax || 4
        Accessible.name: L10n.tr("settings-retention", {})
        onValueModified: form.settings.set("Updates.InstancesMax", String(value))
    }
    QQC2.Label {
        text: L10n.tr("settings-retention-help", {})
        opacity: 0.7
        wrapMode: Text.Wrap
        // Wide: a readable column; narrow (mobile layout): the width there is.
        Layout.maximumWidth: form.wideMode ? Kirigami.Units.gridUnit * 24 : form.width
        Layout.fillWidth: !form.wideMode
    }

    // Update source
    Kirigami.Separator {
        Kirigami.FormData.isSection: true
        Kirigami.FormData.label: L10n.tr("settings-source-section", {})
    }
    QQC2.RadioButton {
        id: sourceDefault
        Kirigami.FormData.label: L10n.tr("settings-source", {})
        text: L10n.tr("settings-source-default", {})
        checked: form.source === ""
        onToggled: if (checked) form.settings.set("Updates.Source", "")
    }
    QQC2.RadioButton {
        id: sourceMirror
        text: L10n.tr("settings-source-mirror", {})
        checked: form.source.indexOf("http") === 0
    }
    QQC2.RadioButton {
        id: sourceFolder
        text: L10n.tr("settings-source-folder", {})
        checked: form.source.indexOf("/") === 0
    }
    QQC2.TextField {
        objectName: "sourceField"
        visible: sourceMirror.checked || sourceFolder.checked
        text: form.source
        placeholderText: sourceMirror.checked ? L10n.tr("settings-source-mirror-example", {}) : L10n.tr("settings-source-folder-example", {})
        Accessible.name: L10n.tr("settings-source", {})
        Layout.minimumWidth: Kirigami.Units.gridUnit * 16
        onEditingFinished: form.settings.set("Updates.Source", text)
    }
    QQC2.TextField {
        id: credentialUser
        objectName: "credentialUser"
        visible: sourceMirror.checked
        Kirigami.FormData.label: L10n.tr("settings-credentials-user", {})
        text: form.settings.credentialUser
        placeholderText: L10n.tr("settings-credentials-none", {})
        Accessible.name: L10n.tr("settings-credentials-user", {})
        onEditingFinished: if (text !== form.settings.credentialUser) form.settings.setCredentials(text, credentialPassword.text)
    }
    Kirigami.PasswordField {
        id: credentialPassword
        objectName: "credentialPassword"
        visible: sourceMirror.checked
        Kirigami.FormData.label: L10n.tr("settings-credentials-password", {})
        placeholderText: form.settings.hasPassword ? L10n.tr("settings-credentials-stored", {}) : ""
        Accessible.name: L10n.tr("settings-credentials-password", {})
        onEditingFinished: if (text !== "") form.settings.setCredentials(credentialUser.text, text)
    }
    QQC2.Label {
        visible: sourceMirror.checked
        text: L10n.tr("settings-credentials-help", {})
        opacity: 0.7
        wrapMode: Text.Wrap
        // Wide: a readable column; narrow (mobile layout): the width there is.
        Layout.maximumWidth: form.wideMode ? Kirigami.Units.gridUnit * 24 : form.width
        Layout.fillWidth: !form.wideMode
    }

    // Downloads
    Kirigami.Separator {
        Kirigami.FormData.isSection: true
        Kirigami.FormData.label: L10n.tr("settings-download-section", {})
    }
    QQC2.TextField {
        objectName: "maxRate"
        Kirigami.FormData.label: L10n.tr("settings-max-rate", {})
        text: form.settings.maxRateBytesPerSec > 0 ? String(Math.round(form.settings.maxRateBytesPerSec / 1000)) : ""
        placeholderText: L10n.tr("settings-max-rate-none", {})
        validator: IntValidator { bottom: 0 }
        Accessible.name: L10n.tr("settings-max-rate", {})
        onEditingFinished: form.settings.set("Updates.MaxRateBytesPerSec", text === "" || text === "0" ? "" : String(parseInt(text) * 1000))
    }

    // Health checks
    Kirigami.Separator {
        Kirigami.FormData.isSection: true
        Kirigami.FormData.label: L10n.tr("settings-health-section", {})
    }
    QQC2.ComboBox {
        objectName: "onFailure"
        Kirigami.FormData.label: L10n.tr("settings-on-failure", {})
        textRole: "text"
        valueRole: "value"
        model: [
            { value: "wait", text: L10n.tr("settings-on-failure-wait", {}) },
            { value: "reboot-previous", text: L10n.tr("settings-on-failure-reboot", {}) }
        ]
        currentIndex: form.settings.onFailure === "reboot-previous" ? 1 : 0
        Accessible.name: L10n.tr("settings-on-failure", {})
        onActivated: form.settings.set("Health.OnFailure", currentValue)
    }
    QQC2.SpinBox {
        objectName: "healthTimeout"
        Kirigami.FormData.label: L10n.tr("settings-health-timeout", {})
        from: 1
        to: 3600
        value: form.settings.healthTimeoutSecs
        Accessible.name: L10n.tr("settings-health-timeout", {})
        onValueModified: form.settings.set("Health.TimeoutSec", String(value))
    }
}
