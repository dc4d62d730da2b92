// What happened, newest first: checks, installs, failures, rollbacks, boots, health checks.
import QtQuick
import QtQuick.Controls as QQC2
import QtQuick.Layouts
import org.kde.kirigami as Kirigami
import org.kde.updatecenter
import org.kde.updatecenter.settings

Kirigami.ScrollablePage {
    id: page

    required property StatusModel status
    // A group of records to show alone (updates, boots), or "" for all.
    property alias filter: history.filter

    HistoryModel {
        id: history
        objectName: "historyModel"
    }

    title: L10n.tr("history-page-title", {})

    header: Kirigami.InlineMessage {
        position: Kirigami.InlineMessage.Position.Header
        type: Kirigami.MessageType.Error
        showCloseButton: false
        visible: history.errorMessage !== ""
        text: history.errorMessage
        actions: [
            Kirigami.Action {
                icon.name: "view-refresh"
                text: L10n.tr("action-try-again", {})
                onTriggered: history.refresh()
            }
        ]
    }

    function icon(event) {
        switch (event) {
        case "committed": return "update-none";
        case "failed":
        case "fallback-detected": return "dialog-error";
        case "rolled-back": return "edit-undo";
        case "removed": return "edit-delete";
        case "booted": return "system-reboot";
        case "pinned":
        case "unpinned": return "window-pin";
        case "checked": return "view-refresh";
        case "fetched":
        case "downloaded": return "download";
        case "health-checked": return "checkmark";
        default: return "documentinfo";
        }
    }

    onVisibleChanged: if (visible) history.refresh()
    Component.onCompleted: history.refresh()
    Connections {
        target: page.status
        function onChangesChanged() {
            if (page.visible) history.refresh();
        }
    }

    actions: [
        Kirigami.Action {
            text: L10n.tr("history-filter-all", {})
            checkable: true
            checked: page.filter === ""
            onTriggered: page.filter = ""
        },
        Kirigami.Action {
            text: L10n.tr("history-filter-updates", {})
            checkable: true
            checked: page.filter === "updates"
            onTriggered: page.filter = "updates"
        },
        Kirigami.Action {
            text: L10n.tr("history-filter-boots", {})
            checkable: true
            checked: page.filter === "boots"
            onTriggered: page.filter = "boots"
        }
    ]

    // Why, in the person's language, from the record's kind and fields (`details`: the JSON
    // of an ErrorDetails; sizes in bytes end in `_bytes`); its English only for a record
    // without a kind (older than kinds) or a kind this client has no message for.
    function said(prefix, details, english) {
        const why = JSON.parse(details || "{}");
        const kind = why.kind || "";
        if (kind === "" || !L10n.has(prefix + kind))
            return english;
        const values = why.fields || {};
        const args = {};
        for (const key in values) {
            if (key.endsWith("_bytes"))
                args[key.slice(0, -6)] = Qt.locale(L10n.locale).formattedDataSize(Number(values[key]));
            else
                args[key] = values[key];
        }
        return L10n.tr(prefix + kind, args);
    }

    ListView {
        id: list
        objectName: "historyList"
        model: history
        keyNavigationEnabled: true
        activeFocusOnTab: true
        Accessible.name: L10n.tr("history-page-title", {})
        delegate: QQC2.ItemDelegate {
            id: row
            required property string kind
            required property real timeMs
            required property string version
            required property string running
            required property int tries
            required property string reason
            required property string reasonDetails
            required property bool passed
            required property bool once
            required property bool good
            required property bool available
            required property string file
            required property bool delta
            required property real fetchedBytes
            required property real reusedBytes
            required property real fullBytes
            width: ListView.view.width
            Accessible.name: title.text
            Accessible.description: when.text
            contentItem: RowLayout {
                spacing: Kirigami.Units.largeSpacing
                Kirigami.Icon {
                    source: page.icon(row.kind)
                    Layout.preferredWidth: Kirigami.Units.iconSizes.smallMedium
                    Layout.preferredHeight: Kirigami.Units.iconSizes.smallMedium
                }
                ColumnLayout {
                    spacing: 0
                    Layout.fillWidth: true
                    QQC2.Label {
                        id: title
                        // How an image came has its own fields (sizes, said in the locale).
                        text: row.kind === "fetched" ? L10n.tr("history-fetched", {
                            file: row.file,
                            delta: row.delta ? "yes" : "no",
                            fetched: Qt.locale(L10n.locale).formattedDataSize(row.fetchedBytes),
                            reused: Qt.locale(L10n.locale).formattedDataSize(row.reusedBytes),
                            size: Qt.locale(L10n.locale).formattedDataSize(row.fullBytes),
                            reason: page.said("delta-fallback-", row.reasonDetails, row.reason)
                        }) : L10n.tr("history-" + row.kind, {
                            version: row.version,
                            running: row.running,
                            tries: row.tries,
                            reason: page.said("error-", row.reasonDetails, row.reason),
                            passed: row.passed ? "yes" : "no",
                            once: row.once ? "yes" : "no",
                            good: row.good ? "yes" : "no",
                            available: row.available ? "yes" : "no"
                        })
                        wrapMode: Text.Wrap
                        Layout.fillWidth: true
                    }
                    QQC2.Label {
                        id: when
                        // A date in the person's locale: data, not a message.
                        readonly property bool fromData: true
                        text: new Date(row.timeMs).toLocaleString(Qt.locale(L10n.locale), Locale.ShortFormat)
                        opacity: 0.7
                        Layout.fillWidth: true
                    }
                }
            }
        }

        Kirigami.PlaceholderMessage {
            anchors.centerIn: parent
            width: parent.width - Kirigami.Units.gridUnit * 4
            visible: list.count === 0
            icon.name: "view-history"
            text: L10n.tr("history-empty", {})
        }
    }
}
