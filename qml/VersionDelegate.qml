// One installed OS version: its number, size and badges.
import QtQuick
import QtQuick.Controls as QQC2
import QtQuick.Layouts
import org.kde.kirigami as Kirigami

QQC2.ItemDelegate {
    id: delegate

    required property string version
    required property bool complete
    required property bool booted
    required property real sizeBytes
    required property int fileCount
    required property string missingTransfers

    Accessible.name: qsTr("Version %1").arg(version)
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
                text: qsTr("Version %1").arg(delegate.version)
                elide: Text.ElideRight
                Layout.fillWidth: true
            }
            QQC2.Label {
                id: subtitle
                text: delegate.complete
                    ? qsTr("%1 in %n file(s)", "", delegate.fileCount).arg(Qt.locale().formattedDataSize(delegate.sizeBytes))
                    : qsTr("Missing: %1").arg(delegate.missingTransfers)
                opacity: 0.7
                elide: Text.ElideRight
                Layout.fillWidth: true
            }
        }

        Badge {
            visible: delegate.booted
            text: qsTr("Running")
            kind: Kirigami.MessageType.Positive
        }
        Badge {
            visible: !delegate.complete
            text: qsTr("Incomplete")
            kind: Kirigami.MessageType.Warning
        }
    }
}
