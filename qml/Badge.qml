// A small coloured label that marks a state (running, incomplete, ...): its words and an icon
// say it, the colour only adds to them (never told by colour alone).
import QtQuick
import QtQuick.Controls as QQC2
import QtQuick.Layouts
import org.kde.kirigami as Kirigami

QQC2.Control {
    id: badge

    property string text
    property string iconName
    property int kind: Kirigami.MessageType.Information

    readonly property color tint: kind === Kirigami.MessageType.Positive ? Kirigami.Theme.positiveTextColor
        : kind === Kirigami.MessageType.Warning ? Kirigami.Theme.neutralTextColor
        : kind === Kirigami.MessageType.Error ? Kirigami.Theme.negativeTextColor
        : Kirigami.Theme.linkColor

    Accessible.role: Accessible.StaticText
    Accessible.name: text

    topPadding: Kirigami.Units.smallSpacing / 2
    bottomPadding: Kirigami.Units.smallSpacing / 2
    leftPadding: Kirigami.Units.smallSpacing * 2
    rightPadding: Kirigami.Units.smallSpacing * 2

    background: Rectangle {
        radius: height / 2
        color: Qt.alpha(badge.tint, 0.15)
        border.color: Qt.alpha(badge.tint, 0.6)
        border.width: 1
    }
    contentItem: RowLayout {
        spacing: Kirigami.Units.smallSpacing
        Kirigami.Icon {
            objectName: "badgeIcon"
            visible: badge.iconName !== ""
            source: badge.iconName
            color: badge.tint
            isMask: true
            Layout.preferredWidth: Kirigami.Units.iconSizes.small
            Layout.preferredHeight: Kirigami.Units.iconSizes.small
            Layout.alignment: Qt.AlignVCenter
        }
        QQC2.Label {
            text: badge.text
            color: badge.tint
            font.bold: true
            Layout.alignment: Qt.AlignVCenter
        }
    }
}
