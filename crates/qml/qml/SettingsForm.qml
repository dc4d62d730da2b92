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

    // Delta updates: a chunk store of its own shows while its value is a URL or a folder, or
    // once chosen here before one is typed in.
    property bool deltaStoreChosen: false
    readonly property string deltaStoreKind: form.settings.deltaStoreKind
    readonly property bool deltaOwnStore: deltaStoreChosen || deltaStoreKind === "url" || deltaStoreKind === "folder"
    // The store of its own last seen, kept while another choice is tried, so that choosing a
    // store of its own again brings it back.
    property string ownDeltaStore: ""
    readonly property string shownOwnDeltaStore: form.settings.deltaStoreCustom
    onShownOwnDeltaStoreChanged: if (shownOwnDeltaStore !== "") ownDeltaStore = shownOwnDeltaStore
    Component.onCompleted: ownDeltaStore = shownOwnDeltaStore
    Connections {
        target: form.settings
        // The value changed (an edit, Reset, Defaults, a reload): the combo follows it again.
        function onDeltaStoreChanged() {
            form.deltaStoreChosen = false;
        }
        function onNeedsSaveChanged() {
            if (!form.settings.needsSave)
                form.deltaStoreChosen = false;
        }
    }

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

    // Update policy ([Policy], docs/policies.md): when the machine downloads, prepares and
    // restarts into a new version by itself, and what it waits for. A person's own install or
    // restart is never held by these.
    Kirigami.Separator {
        Kirigami.FormData.isSection: true
        Kirigami.FormData.label: L10n.tr("settings-policy-section", {})
    }
    QQC2.CheckBox {
        objectName: "policyAutomaticInstall"
        Kirigami.FormData.label: L10n.tr("settings-policy-downloads", {})
        text: L10n.tr("settings-policy-install", {})
        checked: form.settings.policyAutomaticInstall
        onToggled: form.settings.set("Policy.AutomaticInstall", checked ? "yes" : "no")
    }
    QQC2.CheckBox {
        objectName: "policyDownloadOnMetered"
        text: L10n.tr("settings-policy-metered", {})
        checked: form.settings.policyDownloadOnMetered
        onToggled: form.settings.set("Policy.DownloadOnMetered", checked ? "yes" : "no")
    }
    QQC2.SpinBox {
        objectName: "policyMinBattery"
        Kirigami.FormData.label: L10n.tr("settings-policy-battery", {})
        from: 0
        to: 100
        stepSize: 5
        editable: true
        value: form.settings.policyMinBatteryPercent
        Accessible.name: L10n.tr("settings-policy-battery", {})
        Accessible.description: L10n.tr("settings-policy-battery-help", {})
        onValueModified: form.settings.set("Policy.MinBatteryPercent", String(value))
    }
    QQC2.Label {
        text: L10n.tr("settings-policy-battery-help", {})
        opacity: 0.7
        wrapMode: Text.Wrap
        Layout.maximumWidth: form.wideMode ? Kirigami.Units.gridUnit * 24 : form.width
        Layout.fillWidth: !form.wideMode
    }
    QQC2.ComboBox {
        id: policyRestart
        objectName: "policyRestart"
        Kirigami.FormData.label: L10n.tr("settings-policy-restart", {})
        textRole: "text"
        valueRole: "value"
        model: [
            { value: "never", text: L10n.tr("settings-policy-restart-never", {}) },
            { value: "window", text: L10n.tr("settings-policy-restart-window", {}) },
            { value: "immediate", text: L10n.tr("settings-policy-restart-immediate", {}) }
        ]
        currentIndex: form.settings.policyRestart === "window" ? 1
            : form.settings.policyRestart === "immediate" ? 2
            : 0
        Accessible.name: L10n.tr("settings-policy-restart", {})
        onActivated: form.settings.set("Policy.Restart", currentValue)
    }
    // Checked by the helper when applied: a window it cannot read is refused with the reason,
    // which the page shows above the form.
    QQC2.TextField {
        objectName: "policyWindows"
        visible: form.settings.policyRestart === "window"
        Kirigami.FormData.label: L10n.tr("settings-policy-windows", {})
        text: form.settings.policyWindows
        placeholderText: L10n.tr("settings-policy-windows-example", {})
        Accessible.name: L10n.tr("settings-policy-windows", {})
        Accessible.description: L10n.tr("settings-policy-windows-help", {})
        Layout.minimumWidth: Kirigami.Units.gridUnit * 16
        onEditingFinished: form.settings.set("Policy.Windows", text.trim())
    }
    QQC2.Label {
        visible: form.settings.policyRestart === "window"
        text: L10n.tr("settings-policy-windows-help", {})
        opacity: 0.7
        wrapMode: Text.Wrap
        Layout.maximumWidth: form.wideMode ? Kirigami.Units.gridUnit * 24 : form.width
        Layout.fillWidth: !form.wideMode
    }
    QQC2.CheckBox {
        objectName: "policyWaitForSessions"
        Kirigami.FormData.label: L10n.tr("settings-policy-wait", {})
        text: L10n.tr("settings-policy-wait-sessions", {})
        checked: form.settings.policyWaitForSessions
        onToggled: form.settings.set("Policy.WaitForSessions", checked ? "yes" : "no")
    }
    QQC2.CheckBox {
        objectName: "policyWaitForGpuJobs"
        text: L10n.tr("settings-policy-wait-gpu", {})
        checked: form.settings.policyWaitForGpuJobs
        onToggled: form.settings.set("Policy.WaitForGpuJobs", checked ? "yes" : "no")
    }
    QQC2.TextField {
        objectName: "policyBusyCommand"
        Kirigami.FormData.label: L10n.tr("settings-policy-busy", {})
        text: form.settings.policyBusyCommand
        placeholderText: L10n.tr("settings-policy-busy-example", {})
        Accessible.name: L10n.tr("settings-policy-busy", {})
        Layout.minimumWidth: Kirigami.Units.gridUnit * 16
        onEditingFinished: form.settings.set("Policy.BusyCommand", text.trim())
    }
    QQC2.SpinBox {
        objectName: "policyMaxPostpone"
        Kirigami.FormData.label: L10n.tr("settings-policy-max-postpone", {})
        from: 0
        to: 24 * 365
        editable: true
        value: form.settings.policyMaxPostponeHours
        Accessible.name: L10n.tr("settings-policy-max-postpone", {})
        Accessible.description: L10n.tr("settings-policy-max-postpone-help", {})
        onValueModified: form.settings.set("Policy.MaxPostponeHours", String(value))
    }
    QQC2.Label {
        text: L10n.tr("settings-policy-max-postpone-help", {})
        opacity: 0.7
        wrapMode: Text.Wrap
        Layout.maximumWidth: form.wideMode ? Kirigami.Units.gridUnit * 24 : form.width
        Layout.fillWidth: !form.wideMode
    }
    QQC2.SpinBox {
        objectName: "policyCheckInterval"
        Kirigami.FormData.label: L10n.tr("settings-policy-check-interval", {})
        from: 1
        to: 24 * 30
        editable: true
        value: form.settings.policyCheckIntervalHours
        Accessible.name: L10n.tr("settings-policy-check-interval", {})
        onValueModified: form.settings.set("Policy.CheckIntervalHours", String(value))
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

    QQC2.ComboBox {
        id: deltaStore
        objectName: "deltaStore"
        Kirigami.FormData.label: L10n.tr("settings-delta", {})
        textRole: "text"
        valueRole: "value"
        model: [
            { value: "default", text: L10n.tr("settings-delta-default", {}) },
            { value: "ranges", text: L10n.tr("settings-delta-ranges", {}) },
            { value: "off", text: L10n.tr("settings-delta-off", {}) },
            { value: "store", text: L10n.tr("settings-delta-custom", {}) }
        ]
        currentIndex: form.deltaOwnStore ? 3
            : form.deltaStoreKind === "ranges" ? 1
            : form.deltaStoreKind === "off" ? 2
            : 0
        Accessible.name: L10n.tr("settings-delta", {})
        Accessible.description: L10n.tr("settings-delta-help", {})
        onActivated: {
            form.deltaStoreChosen = currentValue === "store";
            if (currentValue === "store") {
                // A store typed in before comes back; else the field below waits for one.
                if (form.ownDeltaStore !== "")
                    form.settings.set("Delta.Store", form.ownDeltaStore);
            } else {
                form.settings.set("Delta.Store", currentValue === "default" ? "" : currentValue);
            }
        }
    }
    QQC2.TextField {
        id: deltaStoreField
        objectName: "deltaStoreField"
        visible: form.deltaOwnStore
        Kirigami.FormData.label: L10n.tr("settings-delta-store", {})
        text: form.ownDeltaStore
        placeholderText: L10n.tr("settings-delta-store-example", {})
        Accessible.name: L10n.tr("settings-delta-store", {})
        Layout.minimumWidth: Kirigami.Units.gridUnit * 16
        onEditingFinished: {
            // Empty is not a store: the choices above say what empty means.
            if (text === "")
                return;
            form.ownDeltaStore = text;
            form.settings.set("Delta.Store", text);
        }
    }
    QQC2.Label {
        text: L10n.tr("settings-delta-help", {})
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
