// The installed OS versions, newest first.
import QtQuick
import QtQuick.Controls as QQC2
import QtQuick.Layouts
import org.kde.kirigami as Kirigami
import org.kde.updatecenter
import org.kde.updatecenter.settings

Kirigami.ScrollablePage {
    id: page

    required property VersionModel versions
    required property StatusModel status

    title: L10n.tr("versions-page-title", {})

    actions: [
        Kirigami.Action {
            icon.name: "view-refresh"
            text: L10n.tr("action-refresh", {})
            shortcut: StandardKey.Refresh
            enabled: !page.versions.loading
            onTriggered: page.versions.refresh()
        }
    ]

    header: ColumnLayout {
        spacing: 0

        Kirigami.InlineMessage {
            id: errorMessage
            Layout.fillWidth: true
            position: Kirigami.InlineMessage.Position.Header
            type: Kirigami.MessageType.Error
            showCloseButton: false
            visible: page.versions.errorMessage !== ""
            text: page.versions.errorMessage
            actions: [
                Kirigami.Action {
                    icon.name: "view-refresh"
                    text: L10n.tr("action-try-again", {})
                    onTriggered: page.versions.refresh()
                }
            ]
        }

        // Problems in the update definitions that do not stop updates today but may hide
        // updates tomorrow (e.g. legacy files that are ignored): never only in a log.
        Kirigami.InlineMessage {
            objectName: "definitionWarnings"
            Layout.fillWidth: true
            position: Kirigami.InlineMessage.Position.Header
            type: Kirigami.MessageType.Warning
            showCloseButton: true
            visible: page.versions.warnings !== ""
            text: L10n.tr("definition-warnings", { details: page.versions.warnings })
        }
    }

    ListView {
        id: list
        model: page.versions
        currentIndex: -1
        // Tab goes from one version's actions to the next (each names its version), not to the
        // list: a list that took the focus would hand it back to the row it last had, and the
        // rows before that one could not be reached with Tab. (ScrollablePage makes its
        // flickable a tab stop when it is completed.)
        keyNavigationEnabled: true
        activeFocusOnTab: false
        onActiveFocusOnTabChanged: if (activeFocusOnTab) activeFocusOnTab = false
        Accessible.name: L10n.tr("versions-page-title", {})
        delegate: VersionDelegate {
            width: ListView.view.width
            onRequested: (what, version) => confirm.ask(what, version)
        }

        Kirigami.PlaceholderMessage {
            anchors.centerIn: parent
            width: parent.width - Kirigami.Units.gridUnit * 4
            visible: list.count === 0 && !page.versions.loading && page.versions.errorMessage === ""
            icon.name: "system-software-update"
            text: L10n.tr("versions-empty-title", {})
            explanation: L10n.tr("versions-empty-explanation", {})
        }

        Kirigami.LoadingPlaceholder {
            anchors.centerIn: parent
            visible: list.count === 0 && page.versions.loading
        }
    }

    // Says exactly what will happen before it happens: which version boots, that nothing is
    // deleted (or what is), and how to go back.
    Kirigami.PromptDialog {
        id: confirm
        objectName: "confirmDialog"

        property string what
        property string version

        function ask(what, version) {
            confirm.what = what;
            confirm.version = version;
            if (what === "pin" || what === "unpin") {
                page.status.setPinned(version, what === "pin");
                return;
            }
            open();
        }

        title: L10n.tr("confirm-" + what + "-title", { version: version })
        // "boot": instead of the version that boots by default now.
        subtitle: L10n.tr("confirm-" + what + "-text", {
            version: version,
            running: page.status.runningVersion,
            default: page.status.defaultVersion
        })
        standardButtons: Kirigami.Dialog.Cancel
        // The keyboard starts on the safe choice; Tab goes on to the other.
        onOpened: {
            standardButton(Kirigami.Dialog.Cancel).forceActiveFocus(Qt.TabFocusReason);
            console.info("update-center: dialog " + what);
        }
        onClosed: console.info("update-center: dialog closed")
        customFooterActions: [
            Kirigami.Action {
                text: L10n.tr("confirm-" + confirm.what + "-button", {})
                icon.name: confirm.what === "remove" ? "edit-delete" : "system-reboot"
                onTriggered: {
                    if (confirm.what === "remove") {
                        page.status.remove(confirm.version);
                    } else {
                        page.status.rollback(confirm.version, confirm.what === "once");
                    }
                    confirm.close();
                }
            }
        ]
    }

    // The list follows the helper: every change it signals is read again.
    Connections {
        target: page.status
        function onChangesChanged() {
            page.versions.refresh();
        }
    }
}
