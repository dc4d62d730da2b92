// What a new version brings: its release notes, and which packages change (searchable).
import QtQuick
import QtQuick.Controls as QQC2
import QtQuick.Layouts
import org.kde.kirigami as Kirigami
import org.kde.updatecenter
import org.kde.updatecenter.settings

Kirigami.ScrollablePage {
    id: page

    ChangelogModel {
        id: changelog
        objectName: "changelogModel"
    }

    // Package changes as rows: { kind, name, text }, filtered by the search field.
    readonly property var packageRows: {
        const rows = changelog.packageChanges.map(c => ({
            kind: c.kind,
            name: c.name,
            text: c.kind === "upgraded" || c.kind === "downgraded"
                ? L10n.tr("package-changed", { name: c.name, from: c.from, to: c.to })
                : L10n.tr("package-single", { name: c.name, version: c.version })
        }));
        const needle = search.text.toLowerCase();
        return needle === "" ? rows : rows.filter(r => r.name.toLowerCase().indexOf(needle) >= 0);
    }

    title: L10n.tr("whatsnew-page-title", {})

    onVisibleChanged: if (visible) changelog.refresh()

    header: Kirigami.InlineMessage {
        position: Kirigami.InlineMessage.Position.Header
        type: Kirigami.MessageType.Error
        showCloseButton: false
        visible: changelog.errorMessage !== ""
        text: changelog.errorMessage
        actions: [
            Kirigami.Action {
                icon.name: "view-refresh"
                text: L10n.tr("action-try-again", {})
                onTriggered: changelog.refresh()
            }
        ]
    }

    ColumnLayout {
        spacing: Kirigami.Units.largeSpacing

        Kirigami.Heading {
            objectName: "heading"
            visible: changelog.toVersion !== ""
            text: L10n.tr("whatsnew-heading", { from: changelog.fromVersion, to: changelog.toVersion })
            level: 2
            wrapMode: Text.Wrap
            Layout.fillWidth: true
        }

        QQC2.Label {
            objectName: "packageSummary"
            visible: changelog.hasPackages
            text: !changelog.hasPackages ? "" : L10n.tr("whatsnew-summary", {
                total: changelog.upgradedCount + changelog.downgradedCount
                    + changelog.addedCount + changelog.removedCount,
                upgraded: changelog.upgradedCount,
                downgraded: changelog.downgradedCount,
                added: changelog.addedCount,
                removed: changelog.removedCount
            })
            textFormat: Text.PlainText
            wrapMode: Text.Wrap
            Layout.fillWidth: true
        }
        // The kernel's and Plasma's versions, when they change.
        Repeater {
            model: changelog.highlights
            QQC2.Label {
                required property var modelData
                text: modelData.part === "kernel"
                    ? L10n.tr("whatsnew-kernel", { from: modelData.from, to: modelData.to })
                    : L10n.tr("whatsnew-plasma", { from: modelData.from, to: modelData.to })
                textFormat: Text.PlainText
                font.bold: true
                wrapMode: Text.Wrap
                Layout.fillWidth: true
            }
        }

        Repeater {
            model: changelog
            ColumnLayout {
                id: release
                required property string version
                required property string date
                required property var description
                required property var urls
                spacing: Kirigami.Units.smallSpacing
                Layout.fillWidth: true
                Kirigami.Heading {
                    level: 3
                    text: release.date !== ""
                        ? L10n.tr("release-title-dated", { version: release.version, date: release.date })
                        : L10n.tr("release-title", { version: release.version })
                    textFormat: Text.PlainText
                    Layout.fillWidth: true
                    wrapMode: Text.Wrap
                }
                Repeater {
                    model: release.description
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
                    model: release.urls
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
            visible: changelog.loaded && changelog.count === 0 && page.packageRows.length === 0 && search.text === ""
            icon.name: "documentinfo"
            text: L10n.tr("whatsnew-empty", {})
            explanation: changelog.notes
            Layout.fillWidth: true
        }

        Kirigami.Heading {
            visible: changelog.hasPackages
            level: 3
            text: L10n.tr("packages-heading", {})
        }
        Kirigami.SearchField {
            id: search
            visible: changelog.hasPackages
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
                            iconName: pkg.modelData.kind === "upgraded" ? "go-up"
                                : pkg.modelData.kind === "downgraded" ? "go-down"
                                : pkg.modelData.kind === "added" ? "list-add" : "list-remove"
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
