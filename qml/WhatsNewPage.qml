// What a new version brings: its release notes, and which packages change (searchable).
import QtQuick
import QtQuick.Controls as QQC2
import QtQuick.Layouts
import org.kde.kirigami as Kirigami
import org.kde.updatecenter
import org.kde.updatecenter.settings

Kirigami.ScrollablePage {
    id: page

    required property StatusModel status

    readonly property var log: {
        try {
            return JSON.parse(page.status.changelogJson || "{}");
        } catch (e) {
            return {};
        }
    }
    // Package changes as rows: { kind, name, text }, filtered by the search field.
    readonly property var packageRows: {
        const p = page.log.packages;
        if (!p) return [];
        const rows = [];
        for (const c of p.upgraded || []) rows.push({ kind: "upgraded", name: c.name, text: L10n.tr("package-changed", { name: c.name, from: c.from, to: c.to }) });
        for (const c of p.downgraded || []) rows.push({ kind: "downgraded", name: c.name, text: L10n.tr("package-changed", { name: c.name, from: c.from, to: c.to }) });
        for (const a of p.added || []) rows.push({ kind: "added", name: a.name, text: L10n.tr("package-single", { name: a.name, version: a.version }) });
        for (const r of p.removed || []) rows.push({ kind: "removed", name: r.name, text: L10n.tr("package-single", { name: r.name, version: r.version }) });
        const needle = search.text.toLowerCase();
        return needle === "" ? rows : rows.filter(r => r.name.toLowerCase().indexOf(needle) >= 0);
    }

    // Counts of the package changes, and the kernel's and Plasma's versions when they change.
    readonly property var packageCounts: {
        const p = page.log.packages;
        if (!p) return null;
        const n = k => (p[k] || []).length;
        return { upgraded: n("upgraded"), downgraded: n("downgraded"), added: n("added"), removed: n("removed") };
    }
    readonly property var highlights: {
        const p = page.log.packages;
        if (!p) return [];
        const out = [];
        for (const c of (p.upgraded || []).concat(p.downgraded || [])) {
            if (c.name === "linux" || c.name.startsWith("linux-image"))
                out.push(L10n.tr("whatsnew-kernel", { from: c.from, to: c.to }));
            else if (c.name === "plasma-workspace" || c.name === "plasma-desktop")
                out.push(L10n.tr("whatsnew-plasma", { from: c.from, to: c.to }));
        }
        return out;
    }

    title: L10n.tr("whatsnew-page-title", {})

    onVisibleChanged: if (visible) page.status.loadChangelog()

    ColumnLayout {
        spacing: Kirigami.Units.largeSpacing

        Kirigami.Heading {
            visible: page.log.to !== undefined
            text: L10n.tr("whatsnew-heading", { from: page.log.from || "", to: page.log.to || "" })
            level: 2
            wrapMode: Text.Wrap
            Layout.fillWidth: true
        }

        QQC2.Label {
            objectName: "packageSummary"
            visible: page.packageCounts !== null
            text: page.packageCounts === null ? "" : L10n.tr("whatsnew-summary", {
                total: page.packageCounts.upgraded + page.packageCounts.downgraded
                    + page.packageCounts.added + page.packageCounts.removed,
                upgraded: page.packageCounts.upgraded,
                downgraded: page.packageCounts.downgraded,
                added: page.packageCounts.added,
                removed: page.packageCounts.removed
            })
            textFormat: Text.PlainText
            wrapMode: Text.Wrap
            Layout.fillWidth: true
        }
        Repeater {
            model: page.highlights
            QQC2.Label {
                required property string modelData
                text: modelData
                textFormat: Text.PlainText
                font.bold: true
                wrapMode: Text.Wrap
                Layout.fillWidth: true
            }
        }

        Repeater {
            model: page.log.releases || []
            ColumnLayout {
                id: release
                required property var modelData
                spacing: Kirigami.Units.smallSpacing
                Layout.fillWidth: true
                Kirigami.Heading {
                    level: 3
                    text: release.modelData.date
                        ? L10n.tr("release-title-dated", { version: release.modelData.version, date: release.modelData.date })
                        : L10n.tr("release-title", { version: release.modelData.version })
                    textFormat: Text.PlainText
                    Layout.fillWidth: true
                    wrapMode: Text.Wrap
                }
                Repeater {
                    model: release.modelData.description || []
                    QQC2.Label {
                        required property string modelData
                        // The distribution's release notes: data, not a message.
                        readonly property bool fromData: true
                        text: modelData
                        // The mirror's words (not covered by the signature): never rich text.
                        textFormat: Text.PlainText
                        wrapMode: Text.Wrap
                        Layout.fillWidth: true
                    }
                }
                // The release's links (http(s) only, checked by the helper), opened in the
                // browser; buttons, so that the keyboard reaches them.
                Repeater {
                    model: release.modelData.urls || []
                    QQC2.Button {
                        required property string modelData
                        text: L10n.tr("release-link", { url: modelData })
                        icon.name: "internet-services"
                        onClicked: Qt.openUrlExternally(modelData)
                    }
                }
            }
        }

        Kirigami.PlaceholderMessage {
            visible: (page.log.releases || []).length === 0 && page.packageRows.length === 0 && search.text === ""
            icon.name: "documentinfo"
            text: L10n.tr("whatsnew-empty", {})
            explanation: (page.log.notes || []).join("\n")
            Layout.fillWidth: true
        }

        Kirigami.Heading {
            visible: page.log.packages !== undefined && page.log.packages !== null
            level: 3
            text: L10n.tr("packages-heading", {})
        }
        Kirigami.SearchField {
            id: search
            visible: page.log.packages !== undefined && page.log.packages !== null
            Layout.fillWidth: true
            Accessible.name: L10n.tr("packages-search", {})
            placeholderText: L10n.tr("packages-search", {})
        }
        // One group per kind of change, with its count; a group folds away (by mouse, or
        // Space on its header from the keyboard).
        Repeater {
            model: ["upgraded", "downgraded", "added", "removed"]
            ColumnLayout {
                id: group
                required property string modelData
                readonly property var rows: page.packageRows.filter(r => r.kind === group.modelData)
                property bool open: true
                visible: rows.length > 0
                spacing: Kirigami.Units.smallSpacing
                Layout.fillWidth: true
                QQC2.ToolButton {
                    objectName: "packageGroup-" + group.modelData
                    text: L10n.tr("package-group", {
                        kind: L10n.tr("package-" + group.modelData, {}),
                        count: group.rows.length
                    })
                    icon.name: group.open ? "go-down" : "go-next"
                    checkable: true
                    checked: group.open
                    onToggled: group.open = checked
                    Accessible.name: text
                }
                Repeater {
                    model: group.open ? group.rows : []
                    RowLayout {
                        id: pkg
                        required property var modelData
                        Layout.fillWidth: true
                        Layout.leftMargin: Kirigami.Units.largeSpacing
                        spacing: Kirigami.Units.largeSpacing
                        Badge {
                            text: L10n.tr("package-" + pkg.modelData.kind, {})
                            kind: pkg.modelData.kind === "removed" || pkg.modelData.kind === "downgraded"
                                ? Kirigami.MessageType.Warning : Kirigami.MessageType.Information
                        }
                        QQC2.Label {
                            text: pkg.modelData.text
                            textFormat: Text.PlainText
                            elide: Text.ElideRight
                            Layout.fillWidth: true
                        }
                    }
                }
            }
        }
    }
}
