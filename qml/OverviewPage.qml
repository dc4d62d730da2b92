// The overview: in one look, whether the system is up to date, what is on offer, what is
// happening now, whether a restart is due, and whether a new version failed to boot.
import QtQuick
import QtQuick.Controls as QQC2
import QtQuick.Layouts
import org.kde.kirigami as Kirigami
import org.kde.updatecenter
import org.kde.updatecenter.settings

Kirigami.ScrollablePage {
    id: page

    required property StatusModel status
    signal showVersions()
    signal showWhatsNew()

    title: L10n.tr("overview-page-title", {})

    // Which card shows: the first that applies, in this order.
    readonly property string card: !status.loaded ? "loading"
        // Without the helper nothing is known, and nothing can be asked: no "Check Now".
        : status.connectionError !== "" ? "unreachable"
        : status.jobRunning ? "progress"
        : status.restartPending ? "restart"
        : status.availableVersion !== "" ? "available"
        // Before the first check nothing is known about updates: say so, and offer the check
        // (never "up to date" beside "not checked yet").
        : status.lastCheckMs <= 0 ? "unchecked"
        : "uptodate"

    // Tests and screenshots read which card shows.
    onCardChanged: console.info("update-center: card " + card)

    // A failure in the person's language, from the helper's fields (`details`: the JSON of an
    // ErrorDetails, its `kind` and `fields`; sizes in bytes end in `_bytes` and are said in
    // the locale's units); the helper's English only for a kind this client has no message for.
    function failureText(details, english) {
        return said("error-", details, english);
    }
    // The same for any message family (`fallback-`: why an image comes whole).
    function said(prefix, details, english) {
        const failure = JSON.parse(details || "{}");
        const kind = failure.kind || "";
        if (kind === "" || !L10n.has(prefix + kind))
            return english;
        const values = failure.fields || {};
        const args = {};
        for (const key in values) {
            if (key.endsWith("_bytes"))
                args[key.slice(0, -6)] = Qt.locale(L10n.locale).formattedDataSize(Number(values[key]));
            else
                args[key] = values[key];
        }
        return L10n.tr(prefix + kind, args);
    }

    // What's New of the update on offer in a line or two, beside the install button; read
    // again whenever another version is offered.
    ChangelogModel {
        id: changelog
        objectName: "overviewChangelog"
    }
    Connections {
        target: page.status
        function onAvailableVersionChanged() {
            if (page.status.availableVersion !== "")
                changelog.refresh();
        }
    }
    readonly property string whatsNewSummary: {
        if (!changelog.hasPackages || changelog.toVersion !== page.status.availableVersion)
            return "";
        const lines = [L10n.tr("whatsnew-summary", {
            total: changelog.upgradedCount + changelog.downgradedCount
                + changelog.addedCount + changelog.removedCount,
            upgraded: changelog.upgradedCount,
            downgraded: changelog.downgradedCount,
            added: changelog.addedCount,
            removed: changelog.removedCount
        })];
        const parts = changelog.highlights.map(h => h.part === "kernel"
            ? L10n.tr("whatsnew-kernel", { from: h.from, to: h.to })
            : L10n.tr("whatsnew-plasma", { from: h.from, to: h.to }));
        if (parts.length > 0)
            lines.push(parts.join(" · "));
        return lines.join("\n");
    }

    actions: [
        Kirigami.Action {
            icon.name: "view-refresh"
            text: L10n.tr("action-check", {})
            enabled: !page.status.jobRunning && !page.status.busy && page.status.connectionError === ""
            onTriggered: page.status.check()
        }
    ]

    header: ColumnLayout {
        spacing: 0

        Kirigami.InlineMessage {
            objectName: "connectionError"
            Layout.fillWidth: true
            position: Kirigami.InlineMessage.Position.Header
            type: Kirigami.MessageType.Error
            visible: page.status.connectionError !== ""
            // Said from its kind where this client knows it; the English otherwise.
            text: page.status.connectionErrorKind !== "" && L10n.has("error-" + page.status.connectionErrorKind)
                ? L10n.tr("connection-failed", { details: L10n.tr("error-" + page.status.connectionErrorKind, {}) })
                : page.status.connectionError
            actions: [
                Kirigami.Action {
                    icon.name: "view-refresh"
                    text: L10n.tr("action-try-again", {})
                    onTriggered: page.status.start()
                }
            ]
        }
        Kirigami.InlineMessage {
            objectName: "fallbackMessage"
            Layout.fillWidth: true
            position: Kirigami.InlineMessage.Position.Header
            type: Kirigami.MessageType.Error
            icon.name: "dialog-warning"
            visible: page.status.fallbackFailed !== ""
            text: L10n.tr("fallback-message", { details: L10n.tr("fallback-details", {
                failed: page.status.fallbackFailed,
                tries: page.status.fallbackTries,
                running: page.status.fallbackRunning
            }) })
            actions: [
                Kirigami.Action {
                    text: L10n.tr("action-details", {})
                    icon.name: "view-list-details"
                    onTriggered: page.showVersions()
                },
                Kirigami.Action {
                    text: L10n.tr("action-dismiss", {})
                    icon.name: "dialog-ok"
                    onTriggered: page.status.acknowledgeFallback()
                }
            ]
        }
        Kirigami.InlineMessage {
            objectName: "requestError"
            Layout.fillWidth: true
            position: Kirigami.InlineMessage.Position.Header
            type: Kirigami.MessageType.Warning
            showCloseButton: true
            visible: page.status.errorMessage !== ""
            text: page.status.errorKind !== "" && L10n.has("error-" + page.status.errorKind)
                ? L10n.tr("request-failed", { details: L10n.tr("error-" + page.status.errorKind, {}) })
                : page.status.errorMessage
            onVisibleChanged: if (!visible) page.status.clearError()
        }
        Kirigami.InlineMessage {
            objectName: "lastError"
            Layout.fillWidth: true
            position: Kirigami.InlineMessage.Position.Header
            type: Kirigami.MessageType.Warning
            visible: page.status.lastError !== "" && !page.status.jobRunning
            // Which job failed (a check or an update), from the same fields.
            readonly property string job: (JSON.parse(page.status.lastErrorDetails || "{}").fields || {}).job || ""
            text: L10n.tr("last-error", {
                details: page.failureText(page.status.lastErrorDetails, page.status.lastError),
                job: job
            })
        }
    }

    ColumnLayout {
        spacing: Kirigami.Units.largeSpacing

        Kirigami.LoadingPlaceholder {
            Layout.alignment: Qt.AlignHCenter
            visible: page.card === "loading"
        }

        StatusCard {
            objectName: "unreachableCard"
            visible: page.card === "unreachable"
            iconName: "network-disconnect"
            heading: L10n.tr("unreachable-title", {})
            explanation: L10n.tr("unreachable-explanation", {})
            buttons: [
                QQC2.Button {
                    objectName: "tryAgainButton"
                    text: L10n.tr("action-try-again", {})
                    icon.name: "view-refresh"
                    onClicked: page.status.start()
                }
            ]
        }

        StatusCard {
            objectName: "uncheckedCard"
            visible: page.card === "unchecked"
            iconName: "system-software-update"
            heading: L10n.tr("unchecked-title", {})
            explanation: L10n.tr("unchecked-explanation", {})
            detail: page.status.runningVersion !== ""
                ? L10n.tr("running-version", { version: page.status.runningVersion }) : ""
            buttons: [
                QQC2.Button {
                    text: L10n.tr("action-check-now", {})
                    icon.name: "view-refresh"
                    enabled: !page.status.busy
                    onClicked: page.status.check()
                }
            ]
        }

        StatusCard {
            objectName: "upToDateCard"
            visible: page.card === "uptodate"
            iconName: "update-none"
            heading: L10n.tr("uptodate-title", {})
            explanation: L10n.tr("uptodate-checked", { time: new Date(page.status.lastCheckMs).toLocaleString(Qt.locale(L10n.locale), Locale.ShortFormat) })
            detail: page.status.runningVersion !== ""
                ? L10n.tr("running-version", { version: page.status.runningVersion }) : ""
            buttons: [
                QQC2.Button {
                    text: L10n.tr("action-check-now", {})
                    icon.name: "view-refresh"
                    enabled: !page.status.busy
                    onClicked: page.status.check()
                }
            ]
        }

        StatusCard {
            objectName: "availableCard"
            visible: page.card === "available"
            iconName: "update-low"
            heading: L10n.tr("available-title", { version: page.status.availableVersion })
            explanation: page.status.availableSummary
            explanationIsData: true
            note: page.whatsNewSummary
            detail: L10n.tr("available-detail", {
                size: Qt.locale(L10n.locale).formattedDataSize(page.status.availableBytes),
                image: Qt.locale(L10n.locale).formattedDataSize(page.status.availableImageBytes),
                // A delta takes the rest from the installed versions: then both sizes are said.
                delta: page.status.availableBytes < page.status.availableImageBytes ? "yes" : "no",
                running: page.status.runningVersion
            })
            buttons: [
                QQC2.Button {
                    objectName: "installButton"
                    text: L10n.tr("action-install", {})
                    icon.name: "download"
                    enabled: !page.status.busy
                    onClicked: page.status.install("")
                },
                // The full page: release notes, every package, the links.
                QQC2.Button {
                    objectName: "whatsNewButton"
                    text: L10n.tr("action-whatsnew", {})
                    icon.name: "documentinfo"
                    onClicked: page.showWhatsNew()
                }
            ]
        }

        StatusCard {
            objectName: "progressCard"
            visible: page.card === "progress"
            iconName: page.status.checking ? "view-refresh" : "download"
            heading: page.status.checking ? L10n.tr("checking-title", {})
                : page.status.installing ? L10n.tr("installing-title", { version: page.status.jobVersion })
                : page.status.downloading ? L10n.tr("downloading-title", { version: page.status.jobVersion })
                : L10n.tr("planning-title", {})
            explanation: !page.status.downloading ? ""
                : L10n.tr("download-progress", {
                    done: Qt.locale(L10n.locale).formattedDataSize(page.status.doneBytes),
                    total: Qt.locale(L10n.locale).formattedDataSize(page.status.totalBytes),
                    rate: Qt.locale(L10n.locale).formattedDataSize(page.status.rateBytesPerSec),
                    minutes: Math.max(1, Math.round(page.status.etaSecs / 60)),
                    known: page.status.etaSecs >= 0 ? "yes" : "no"
                })
            progress: page.status.totalBytes > 0 ? page.status.doneBytes / page.status.totalBytes : -1
            // How the image comes, beside the bar: only what changed (a delta), or the whole
            // image and why (the helper's reason, as it says it). The helper names the method
            // once an image has come; until then the offer says whether a delta is planned.
            readonly property bool deltaPlanned: page.status.jobVersion === page.status.availableVersion
                && page.status.availableBytes < page.status.availableImageBytes
            detail: !page.status.downloading ? ""
                : page.status.downloadMethod === "full" && page.status.downloadFallback !== ""
                    ? L10n.tr("download-method-full", {
                        reason: page.said("delta-fallback-", page.status.downloadFallbackDetails, page.status.downloadFallback)
                    })
                : page.status.downloadMethod === "delta" || (page.status.downloadMethod === "" && deltaPlanned)
                    ? L10n.tr("download-method-delta", {})
                : ""
            buttons: [
                QQC2.Button {
                    text: L10n.tr("action-cancel", {})
                    icon.name: "dialog-cancel"
                    enabled: !page.status.installing
                    onClicked: page.status.cancel()
                }
            ]
        }

        StatusCard {
            objectName: "restartCard"
            visible: page.card === "restart"
            iconName: "system-reboot"
            heading: L10n.tr("restart-title", { version: page.status.defaultVersion })
            explanation: L10n.tr("restart-explanation", { running: page.status.runningVersion })
            buttons: [
                QQC2.Button {
                    text: L10n.tr("action-restart", {})
                    icon.name: "system-reboot"
                    onClicked: page.status.restart()
                }
            ]
        }

        // What the machine waits for before it goes on by itself (the helper's `Waiting`, one
        // line each in the person's language), below the update it holds; a download held by
        // a metered connection, a low battery or a captive portal can be started anyway: a
        // person's own install is never held.
        RowLayout {
            id: waiting
            objectName: "waiting"
            visible: page.status.waiting.length > 0 && (page.card === "available" || page.card === "restart")
            spacing: Kirigami.Units.largeSpacing
            // As wide as its longest line (centred below the card), at most a readable column.
            Layout.alignment: Qt.AlignHCenter
            Layout.fillWidth: true
            Layout.maximumWidth: Math.min(implicitWidth, Kirigami.Units.gridUnit * 30)
            Layout.topMargin: Kirigami.Units.largeSpacing
            Accessible.role: Accessible.Grouping
            Accessible.name: L10n.tr("waiting-title", {})
            Accessible.description: page.status.waiting.join("\n")
            // Tests and screenshots read what is said to wait.
            onVisibleChanged: if (visible) console.info("update-center: waiting for " + page.status.waiting.join("; "))

            Kirigami.Icon {
                // Loud when a staged version has waited too long.
                source: page.status.overdue ? "dialog-warning" : "chronometer-pause"
                Layout.alignment: Qt.AlignTop
                Layout.preferredWidth: Kirigami.Units.iconSizes.medium
                Layout.preferredHeight: Kirigami.Units.iconSizes.medium
                Accessible.ignored: true
            }
            ColumnLayout {
                spacing: Kirigami.Units.smallSpacing
                Layout.fillWidth: true

                QQC2.Label {
                    objectName: "waitingTitle"
                    text: L10n.tr("waiting-title", {})
                    font.bold: true
                    Layout.fillWidth: true
                }
                Repeater {
                    model: page.status.waiting
                    QQC2.Label {
                        required property string modelData
                        objectName: "waitingLine"
                        text: modelData
                        // Names and reasons come from other programs: never rich text.
                        textFormat: Text.PlainText
                        wrapMode: Text.Wrap
                        Layout.fillWidth: true
                    }
                }
                QQC2.Button {
                    objectName: "downloadAnywayButton"
                    visible: page.status.waitingDownload && page.card === "available"
                    text: L10n.tr("waiting-download-anyway", {})
                    icon.name: "download"
                    enabled: !page.status.busy
                    Accessible.description: L10n.tr("waiting-download-anyway-help", {})
                    QQC2.ToolTip.text: L10n.tr("waiting-download-anyway-help", {})
                    QQC2.ToolTip.visible: hovered || visualFocus
                    QQC2.ToolTip.delay: Kirigami.Units.toolTipDelay
                    onClicked: page.status.install("")
                }
            }
        }
    }
}
