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
    // An event kind to show alone, or "" for all.
    property string filter: ""

    readonly property var records: {
        try {
            const all = JSON.parse(page.status.historyJson || "[]");
            return page.filter === "" ? all : all.filter(r => page.kindGroup(r.event) === page.filter);
        } catch (e) {
            return [];
        }
    }

    title: L10n.tr("history-page-title", {})

    function kindGroup(event) {
        switch (event) {
        case "started":
        case "committed":
        case "failed":
        case "removed":
        case "recovered": return "updates";
        case "booted":
        case "fallback-detected":
        case "fallback-acknowledged":
        case "health-checked": return "boots";
        default: return "choices";
        }
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
        case "health-checked": return "checkmark";
        default: return "documentinfo";
        }
    }

    onVisibleChanged: if (visible) page.status.loadHistory()
    Component.onCompleted: page.status.loadHistory()
    Connections {
        target: page.status
        function onChangesChanged() {
            if (page.visible) page.status.loadHistory();
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

    ListView {
        id: list
        model: page.records
        keyNavigationEnabled: true
        activeFocusOnTab: true
        delegate: QQC2.ItemDelegate {
            id: row
            required property var modelData
            width: ListView.view.width
            Accessible.name: title.text
            Accessible.description: when.text
            contentItem: RowLayout {
                spacing: Kirigami.Units.largeSpacing
                Kirigami.Icon {
                    source: page.icon(row.modelData.event)
                    Layout.preferredWidth: Kirigami.Units.iconSizes.smallMedium
                    Layout.preferredHeight: Kirigami.Units.iconSizes.smallMedium
                }
                ColumnLayout {
                    spacing: 0
                    Layout.fillWidth: true
                    QQC2.Label {
                        id: title
                        text: L10n.tr("history-" + row.modelData.event, {
                            version: row.modelData.version || row.modelData.failed || row.modelData.candidate || "",
                            running: row.modelData.running || "",
                            tries: row.modelData.tries || 0,
                            reason: row.modelData.reason || "",
                            passed: row.modelData.passed ? "yes" : "no",
                            once: row.modelData.once ? "yes" : "no",
                            good: row.modelData.good ? "yes" : "no",
                            available: row.modelData.candidate ? "yes" : "no"
                        })
                        wrapMode: Text.Wrap
                        Layout.fillWidth: true
                    }
                    QQC2.Label {
                        id: when
                        // A date in the person's locale: data, not a message.
                        readonly property bool fromData: true
                        text: new Date(row.modelData.time).toLocaleString(Qt.locale(L10n.locale), Locale.ShortFormat)
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
