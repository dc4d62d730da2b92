// One state of the overview: a large icon, a heading, what it means, and what can be done.
import QtQuick
import QtQuick.Controls as QQC2
import QtQuick.Layouts
import org.kde.kirigami as Kirigami

ColumnLayout {
    id: card

    property string iconName
    property string heading
    property string explanation
    // Whether the explanation is data (the distribution's release notes), not a message.
    property bool explanationIsData: false
    property string detail
    // A line or two more (What's New of an update on offer), from messages.
    property string note
    // 0..1, or -1 for no progress bar.
    property real progress: -1
    property list<QQC2.Button> buttons

    spacing: Kirigami.Units.largeSpacing
    Layout.fillWidth: true
    Layout.topMargin: Kirigami.Units.gridUnit * 2

    Accessible.role: Accessible.Grouping
    Accessible.name: heading

    Kirigami.Icon {
        source: card.iconName
        Layout.alignment: Qt.AlignHCenter
        Layout.preferredWidth: Kirigami.Units.iconSizes.enormous
        Layout.preferredHeight: Kirigami.Units.iconSizes.enormous
    }
    Kirigami.Heading {
        text: card.heading
        level: 2
        wrapMode: Text.Wrap
        horizontalAlignment: Text.AlignHCenter
        Layout.fillWidth: true
    }
    QQC2.Label {
        objectName: "explanation"
        readonly property bool fromData: card.explanationIsData
        visible: text !== ""
        text: card.explanation
        // Release notes and errors carry the mirror's words: never rich text (no remote
        // images, no links to follow by accident).
        textFormat: Text.PlainText
        wrapMode: Text.Wrap
        horizontalAlignment: Text.AlignHCenter
        Layout.fillWidth: true
    }
    QQC2.Label {
        objectName: "note"
        visible: text !== ""
        text: card.note
        textFormat: Text.PlainText
        wrapMode: Text.Wrap
        horizontalAlignment: Text.AlignHCenter
        Layout.fillWidth: true
    }
    QQC2.ProgressBar {
        visible: card.progress >= 0
        from: 0
        to: 1
        value: Math.max(0, card.progress)
        indeterminate: card.progress < 0
        Layout.alignment: Qt.AlignHCenter
        Layout.preferredWidth: Kirigami.Units.gridUnit * 20
        Layout.maximumWidth: card.width
        Accessible.name: card.heading
        Accessible.description: card.detail
    }
    QQC2.Label {
        objectName: "detail"
        visible: text !== ""
        text: card.detail
        textFormat: Text.PlainText
        opacity: 0.7
        wrapMode: Text.Wrap
        horizontalAlignment: Text.AlignHCenter
        Layout.fillWidth: true
    }
    RowLayout {
        Layout.alignment: Qt.AlignHCenter
        spacing: Kirigami.Units.largeSpacing
        data: card.buttons
    }
}
