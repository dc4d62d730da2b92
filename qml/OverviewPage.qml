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
        : status.jobRunning ? "progress"
        : status.restartPending ? "restart"
        : status.availableVersion !== "" ? "available"
        // Before the first check nothing is known about updates: say so, and offer the check
        // (never "up to date" beside "not checked yet").
        : status.lastCheckMs <= 0 ? "unchecked"
        : "uptodate"

    // Tests and screenshots read which card shows.
    onCardChanged: console.info("update-center: card " + card)

    actions: [
        Kirigami.Action {
            icon.name: "view-refresh"
            text: L10n.tr("action-check", {})
            enabled: !page.status.jobRunning && !page.status.busy
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
            text: page.status.connectionError
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
            text: page.status.errorMessage
            onVisibleChanged: if (!visible) page.status.clearError()
        }
        Kirigami.InlineMessage {
            objectName: "lastError"
            Layout.fillWidth: true
            position: Kirigami.InlineMessage.Position.Header
            type: Kirigami.MessageType.Warning
            visible: page.status.lastError !== "" && !page.status.jobRunning
            text: L10n.tr("last-error", { details: page.status.lastError })
        }
    }

    ColumnLayout {
        spacing: Kirigami.Units.largeSpacing

        Kirigami.LoadingPlaceholder {
            Layout.alignment: Qt.AlignHCenter
            visible: page.card === "loading"
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
            detail: L10n.tr("available-detail", {
                size: Qt.locale(L10n.locale).formattedDataSize(page.status.availableBytes),
                running: page.status.runningVersion
            })
            buttons: [
                QQC2.Button {
                    text: L10n.tr("action-install", {})
                    icon.name: "download"
                    enabled: !page.status.busy
                    onClicked: page.status.install("")
                },
                QQC2.Button {
                    text: L10n.tr("whatsnew-page-title", {})
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
    }
}
