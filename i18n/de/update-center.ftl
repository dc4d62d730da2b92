# Update Center: Texte der Benutzeroberfläche (Deutsch).
# Jede Nachricht wird aus QML als L10n.tr("id", { Argumente }) verwendet.

app-title = Update Center

versions-page-title = Installierte Versionen
action-refresh = Aktualisieren
action-try-again = Erneut versuchen

version-title = Version { $version }
version-released = Veröffentlicht am { $date }
version-summary = { $size } in { $count ->
    [one] einer Datei
   *[other] { $count } Dateien
}
version-missing = Es fehlt: { $transfers }
version-accessible-name = Version { $version }

badge-running = Läuft
badge-incomplete = Unvollständig

definition-warnings = Die Update-Definitionen brauchen Aufmerksamkeit: { $details }

versions-empty-title = Keine Systemversionen installiert
versions-empty-explanation = Auf diesem System wurden keine Dateien gefunden, die zu den Update-Definitionen passen.

overview-page-title = Übersicht
action-check = Nach Updates suchen
action-check-now = Jetzt suchen
action-install = Herunterladen und installieren
action-cancel = Abbrechen
action-details = Details
action-dismiss = Schließen

running-version = Sie verwenden Version { $version }.
uptodate-title = Das System ist auf dem neuesten Stand
uptodate-checked = Zuletzt gesucht: { $time }.
unchecked-title = Noch nicht nach Aktualisierungen gesucht
unchecked-explanation = Über neuere Versionen ist noch nichts bekannt. Die Suche fragt die Update-Quellen, was sie anbieten; dabei wird nichts heruntergeladen.
available-title = Version { $version } ist verfügbar
available-detail = { $size } herunterzuladen. Sie verwenden Version { $running }; sie bleibt installiert, sodass Sie zu ihr zurückkehren können.
checking-title = Update-Quellen werden abgefragt …
planning-title = Update wird vorbereitet …
downloading-title = Version { $version } wird heruntergeladen …
installing-title = Version { $version } wird installiert …
download-progress = { $known ->
    [yes] { $done } von { $total } mit { $rate }/s, noch etwa { $minutes ->
        [one] eine Minute
       *[other] { $minutes } Minuten
    }
   *[no] { $done } von { $total }
}
restart-title = Neu starten, um Version { $version } zu verwenden
restart-explanation = Bis dahin läuft Version { $running } weiter. Startet die neue Version nicht, kehrt der Rechner von selbst zu { $running } zurück.
fallback-message = Eine neue Version ist nicht gestartet: { $details }. Es ging nichts verloren; Sie können sie später erneut versuchen.
fallback-details = Version { $failed } ist { $tries ->
    [one] einmal
   *[other] { $tries } Mal
} nicht gestartet; es läuft { $running }
last-error = Das letzte Update ist nicht gelungen: { $details }

version-actions = Aktionen für Version { $version }
action-boot-this = Diese Version starten
action-boot-once = Einmal starten
action-pin = Behalten (anheften)
action-unpin = Entfernen erlauben (lösen)
action-remove = Entfernen

badge-default = Startet als Nächstes
badge-next-boot-once = Startet als Nächstes, einmalig
badge-on-trial = Auf Probe ({ $left ->
    [one] noch ein Versuch
   *[other] noch { $left } Versuche
})
badge-failed = Start fehlgeschlagen
badge-pinned = Angeheftet
badge-protected = Geschützt
badge-held-back = Zurückgehalten
badge-obsolete = Veraltet

confirm-boot-title = Version { $version } starten?
confirm-boot-text = Ab dem nächsten Neustart startet der Rechner Version { $version } statt { $running }. Es wird nichts gelöscht: Alle installierten Versionen bleiben, und Sie können auf demselben Weg zurückwechseln.
confirm-boot-button = Diese Version starten
confirm-once-title = Version { $version } einmal starten?
confirm-once-text = Der nächste Neustart startet Version { $version }; der Neustart danach startet wieder die übliche Version. Es wird nichts gelöscht.
confirm-once-button = Einmal starten
confirm-remove-title = Version { $version } entfernen?
confirm-remove-text = Ihre Dateien werden endgültig gelöscht, der Starteintrag zuerst. Sie verwenden weiterhin { $running }.
confirm-remove-button = Entfernen
confirm-pin-title = Version { $version } anheften
confirm-pin-text = { "" }
confirm-pin-button = Anheften
confirm-unpin-title = Version { $version } lösen
confirm-unpin-text = { "" }
confirm-unpin-button = Lösen

history-page-title = Verlauf
history-filter-all = Alle
history-filter-updates = Updates
history-filter-boots = Systemstarts
history-empty = Bisher ist nichts geschehen
history-started = Installation von Version { $version } begonnen
history-committed = Version { $version } installiert
history-failed = Installation von Version { $version } fehlgeschlagen: { $reason }
history-removed = Version { $version } entfernt
history-recovered = Ein unterbrochenes Update wurde abgeschlossen oder rückgängig gemacht
history-pinned = Version { $version } angeheftet
history-unpinned = Version { $version } gelöst
history-rolled-back = { $once ->
    [yes] Version { $version } nur für den nächsten Start gewählt
   *[no] Version { $version } als Startversion gewählt
}
history-booted = { $good ->
    [yes] Version { $version } gestartet
   *[no] Version { $version } auf Probe gestartet
}
history-fallback-detected = Version { $version } ist { $tries }-mal nicht gestartet; zurück zu { $running }
history-fallback-acknowledged = Hinweis zu Version { $version } geschlossen
history-health-checked = { $passed ->
    [yes] Systemprüfungen bestanden
   *[no] Systemprüfungen fehlgeschlagen
}
history-checked = { $available ->
    [yes] Nach Updates gesucht: Version { $version } ist verfügbar
   *[no] Nach Updates gesucht: Das System war auf dem neuesten Stand
}
action-restart = Jetzt neu starten …

whatsnew-page-title = Neuigkeiten
whatsnew-heading = Von Version { $from } zu { $to }
whatsnew-summary = { $total ->
    [0] Keine Paketänderungen
    [one] Ein Paket ändert sich
   *[other] { $total } Pakete ändern sich
}: { $upgraded } aktualisiert, { $added } hinzugefügt, { $removed } entfernt{ $downgraded ->
    [0] {""}
   *[other] , { $downgraded } zurückgestuft
}
whatsnew-kernel = Kernel { $from } → { $to }
whatsnew-plasma = Plasma { $from } → { $to }
release-link = { $url } öffnen
whatsnew-empty = Keine Versionshinweise
release-title = Version { $version }
release-title-dated = Version { $version } ({ $date })
packages-heading = Pakete
packages-search = Pakete durchsuchen
package-changed = { $name }: { $from } → { $to }
package-single = { $name } { $version }
package-group = { $kind } ({ $count })
package-upgraded = Aktualisiert
package-downgraded = Zurückgestuft
package-added = Hinzugefügt
package-removed = Entfernt

settings-page-title = Einstellungen
settings-retention = Zu behaltende Versionen:
settings-retention-help = Ältere Versionen werden entfernt, wenn eine neue kommt; die laufende, die Startversion und angeheftete Versionen bleiben immer.
settings-source-section = Update-Quelle
settings-source = Updates kommen von:
settings-source-default = Dem Spiegelserver der Distribution
settings-source-mirror = Einem anderen Spiegelserver
settings-source-folder = Einem lokalen Ordner (für Rechner ohne Internet)
settings-source-mirror-example = https://mirror.example.org/kde-linux/
settings-source-folder-example = /media/usb/kde-linux
settings-download-section = Downloads
settings-max-rate = Bandbreitenbegrenzung (kB/s):
settings-max-rate-none = Keine Begrenzung
settings-health-section = Systemprüfungen
settings-on-failure = Wenn eine Prüfung fehlschlägt:
settings-on-failure-wait = Die neue Version erneut versuchen lassen; nach ihren Versuchen zurückkehren
settings-on-failure-reboot = Sofort zur vorigen Version zurückkehren
settings-health-timeout = Zeit für jede Prüfung (Sekunden):

# Settings: automatic updates, restart, mirror credentials, buttons
settings-automatic-section = Automatische Aktualisierung:
settings-automatic-check = Täglich nach Aktualisierungen suchen
settings-automatic-download = Im Hintergrund herunterladen und installieren
settings-paused-until = Angehalten bis { $time }
settings-resume = Fortsetzen
settings-restart = Wenn eine Aktualisierung bereit ist:
settings-restart-notify = Benachrichtigen und Neustart anbieten
settings-restart-quiet = Nur im Systemabschnitt der Kontrollleiste anzeigen
settings-credentials-user = Benutzername:
settings-credentials-password = Passwort:
settings-credentials-none = Keiner (ein öffentlicher Spiegel)
settings-credentials-stored = In Ihrem Schlüsselbund gespeichert
settings-credentials-help = Benutzername und Passwort liegen in Ihrem Schlüsselbund, nie in einer Datei.
settings-apply = Anwenden
settings-reset = Zurücksetzen
settings-defaults = Voreinstellungen
settings-applying = Wird angewendet …
kcm-open-update-center = Aktualisierungszentrale öffnen

# Tray notifier
tray-title = Aktualisierungszentrale
tray-up-to-date = Das System ist auf dem neuesten Stand.
tray-available = Version { $version } ist verfügbar ({ $size }).
tray-downloading = Version { $version } wird heruntergeladen: { $percent } % ({ $done } von { $total })
tray-installing = Version { $version } wird installiert …
tray-restart-due = Starten Sie neu, um die Aktualisierung auf Version { $version } abzuschließen.
tray-fell-back = Eine neue Version ist nicht gestartet: { $details }. Es ging nichts verloren.
tray-open = Aktualisierungszentrale öffnen
tray-check = Nach Aktualisierungen suchen
tray-restart = Neu starten, um die Aktualisierung abzuschließen
tray-pause = Automatische Aktualisierung für einen Tag anhalten
tray-resume = Automatische Aktualisierung fortsetzen
notify-available-title = Systemaktualisierung verfügbar
notify-available-body = Version { $version } kann heruntergeladen werden ({ $size }).
notify-restart-title = Neu starten, um die Aktualisierung abzuschließen
notify-restart-body = Version { $version } ist installiert und startet beim nächsten Neustart.
notify-fell-back-title = Die neue Version ist nicht gestartet
notify-action-view = Aktualisierungen anzeigen
notify-action-restart = Jetzt neu starten
