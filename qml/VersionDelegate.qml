// One installed OS version: its number, release date, size, its states as badges, and what can
// be done with it.
import QtQuick
import QtQuick.Controls as QQC2
import QtQuick.Layouts
import org.kde.kirigami as Kirigami
import org.kde.updatecenter
import org.kde.updatecenter.settings

QQC2.ItemDelegate {
    id: delegate

    required property string version
    required property real releasedMs
    required property bool complete
    required property bool booted
    required property real sizeBytes
    required property int fileCount
    required property string missingTransfers
    required property string stateNames
    required property int triesLeft
    required property int triesDone

    readonly property var states: stateNames === "" ? [] : stateNames.split(",")
    readonly property bool keep: states.indexOf("running") >= 0 || states.indexOf("default") >= 0
        || states.indexOf("pinned") >= 0 || states.indexOf("protected") >= 0
    readonly property string releasedText: isNaN(releasedMs) ? ""
        : L10n.tr("version-released", { date: new Date(releasedMs).toLocaleString(Qt.locale(L10n.locale), Locale.ShortFormat) })

    // Asked of the page, which confirms first: "boot", "once", "pin", "unpin", "remove".
    signal requested(string what, string version)

    Accessible.name: L10n.tr("version-accessible-name", { version: version })
    Accessible.description: subtitle.text

    function badgeText(state) {
        switch (state) {
        case "on-trial": return L10n.tr("badge-on-trial", { left: delegate.triesLeft });
        case "failed": return L10n.tr("badge-failed", { tries: delegate.triesDone });
        default: return L10n.tr("badge-" + state, {});
        }
    }
    // Each state has its own icon beside its words, so that no state is told by colour alone.
    function badgeIcon(state) {
        switch (state) {
        case "running": return "checkmark";
        case "default": return "system-reboot";
        case "next-boot-once": return "go-next";
        case "on-trial": return "chronometer";
        case "failed": return "dialog-error";
        case "pinned": return "window-pin";
        case "protected": return "security-high";
        case "held-back": return "media-playback-pause";
        case "incomplete": return "data-warning";
        case "obsolete": return "dialog-cancel";
        default: return "documentinfo";
        }
    }
    function badgeKind(state) {
        switch (state) {
        case "running": return Kirigami.MessageType.Positive;
        case "failed": return Kirigami.MessageType.Error;
        case "incomplete":
        case "on-trial":
        case "held-back": return Kirigami.MessageType.Warning;
        default: return Kirigami.MessageType.Information;
        }
    }

    contentItem: RowLayout {
        spacing: Kirigami.Units.largeSpacing

        Kirigami.Icon {
            source: delegate.complete ? "system-software-update" : "data-warning"
            Layout.preferredWidth: Kirigami.Units.iconSizes.medium
            Layout.preferredHeight: Kirigami.Units.iconSizes.medium
        }

        ColumnLayout {
            spacing: Kirigami.Units.smallSpacing
            Layout.fillWidth: true

            Kirigami.Heading {
                level: 4
                text: L10n.tr("version-title", { version: delegate.version })
                elide: Text.ElideRight
                Layout.fillWidth: true
            }
            QQC2.Label {
                id: subtitle
                text: {
                    const detail = delegate.complete
                        ? L10n.tr("version-summary", { size: Qt.locale(L10n.locale).formattedDataSize(delegate.sizeBytes), count: delegate.fileCount })
                        : L10n.tr("version-missing", { transfers: delegate.missingTransfers });
                    return delegate.releasedText === "" ? detail : delegate.releasedText + " · " + detail;
                }
                opacity: 0.7
                elide: Text.ElideRight
                Layout.fillWidth: true
            }
            Flow {
                spacing: Kirigami.Units.smallSpacing
                Layout.fillWidth: true
                visible: delegate.states.length > 0
                Repeater {
                    model: delegate.states
                    Badge {
                        required property string modelData
                        objectName: modelData + "Badge"
                        text: delegate.badgeText(modelData)
                        iconName: delegate.badgeIcon(modelData)
                        kind: delegate.badgeKind(modelData)
                    }
                }
            }
        }

        QQC2.ToolButton {
            objectName: "versionMenuButton"
            icon.name: "overflow-menu"
            text: L10n.tr("version-actions", { version: delegate.version })
            display: QQC2.AbstractButton.IconOnly
            QQC2.ToolTip.text: text
            QQC2.ToolTip.visible: hovered
            visible: delegate.complete
            onClicked: {
                // Opened from the keyboard, the first choice has the focus: Enter or Space
                // takes it, the arrows move on.
                const fromKeyboard = visualFocus;
                menu.popup();
                if (fromKeyboard) {
                    menu.currentIndex = 0;
                    menu.itemAt(0).forceActiveFocus(Qt.TabFocusReason);
                }
            }

            QQC2.Menu {
                id: menu
                QQC2.MenuItem {
                    text: L10n.tr("action-boot-this", {})
                    icon.name: "system-reboot"
                    enabled: delegate.states.indexOf("default") < 0 && delegate.states.indexOf("failed") < 0
                    onTriggered: delegate.requested("boot", delegate.version)
                }
                QQC2.MenuItem {
                    text: L10n.tr("action-boot-once", {})
                    icon.name: "go-next"
                    enabled: delegate.states.indexOf("failed") < 0
                    onTriggered: delegate.requested("once", delegate.version)
                }
                QQC2.MenuItem {
                    readonly property bool pinned: delegate.states.indexOf("pinned") >= 0
                    text: pinned ? L10n.tr("action-unpin", {}) : L10n.tr("action-pin", {})
                    icon.name: pinned ? "window-unpin" : "window-pin"
                    onTriggered: delegate.requested(pinned ? "unpin" : "pin", delegate.version)
                }
                QQC2.MenuItem {
                    text: L10n.tr("action-remove", {})
                    icon.name: "edit-delete"
                    enabled: !delegate.keep
                    onTriggered: delegate.requested("remove", delegate.version)
                }
            }
        }
    }
}
