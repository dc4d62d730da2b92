// One installed OS version: its number, release date, size and badges.
import QtQuick
import QtQuick.Controls as QQC2
import QtQuick.Layouts
import org.kde.kirigami as Kirigami
import org.kde.updatecenter

QQC2.ItemDelegate {
    id: delegate

    required property string version
    required property real releasedMs
    required property bool complete
    required property bool booted
    required property real sizeBytes
    required property int fileCount
    required property string missingTransfers

    readonly property string releasedText: isNaN(releasedMs) ? ""
        : L10n.tr("version-released", { date: new Date(releasedMs).toLocaleString(Qt.locale(), Locale.ShortFormat) })

    Accessible.name: L10n.tr("version-accessible-name", { version: version })
    Accessible.description: subtitle.text

    contentItem: RowLayout {
        spacing: Kirigami.Units.largeSpacing

        Kirigami.Icon {
            source: delegate.complete ? "system-software-update" : "data-warning"
            Layout.preferredWidth: Kirigami.Units.iconSizes.medium
            Layout.preferredHeight: Kirigami.Units.iconSizes.medium
        }

        ColumnLayout {
            spacing: 0
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
                        ? L10n.tr("version-summary", { size: Qt.locale().formattedDataSize(delegate.sizeBytes), count: delegate.fileCount })
                        : L10n.tr("version-missing", { transfers: delegate.missingTransfers });
                    return delegate.releasedText === "" ? detail : delegate.releasedText + " · " + detail;
                }
                opacity: 0.7
                elide: Text.ElideRight
                Layout.fillWidth: true
            }
        }

        Badge {
            objectName: "runningBadge"
            visible: delegate.booted
            text: L10n.tr("badge-running", {})
            kind: Kirigami.MessageType.Positive
        }
        Badge {
            objectName: "incompleteBadge"
            visible: !delegate.complete
            text: L10n.tr("badge-incomplete", {})
            kind: Kirigami.MessageType.Warning
        }
    }
}
