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
action-whatsnew = Neuigkeiten …
action-cancel = Abbrechen
action-details = Details
action-dismiss = Schließen

running-version = Sie verwenden Version { $version }.
uptodate-title = Das System ist auf dem neuesten Stand
uptodate-checked = Zuletzt gesucht: { $time }.
unreachable-title = Aktualisierungen können gerade nicht angezeigt werden
unreachable-explanation = Update Center erreicht seinen Dienst nicht, daher kann nichts gesucht oder installiert werden; die Meldung oben sagt, warum.
unchecked-title = Noch nicht nach Aktualisierungen gesucht
unchecked-explanation = Über neuere Versionen ist noch nichts bekannt. Die Suche fragt die Update-Quellen, was sie anbieten; dabei wird nichts heruntergeladen.
available-title = Version { $version } ist verfügbar
available-detail = { $delta ->
    [yes] { $size } herunterzuladen (ein Abbild von { $image }).
   *[no] { $size } herunterzuladen.
} Sie verwenden Version { $running }; sie bleibt installiert, sodass Sie zu ihr zurückkehren können.
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
download-method-delta = Nur das Geänderte wird heruntergeladen
download-method-full = Das ganze Abbild wird heruntergeladen: { $reason }
delta-fallback-off = Deltas sind in den Einstellungen ausgeschaltet
delta-fallback-index = der Chunk-Index des Abbilds ist nicht lesbar
delta-fallback-store = der Chunk-Speicher { $store } war nicht nutzbar
delta-fallback-ranges = Teile von { $url } ließen sich nicht abrufen
delta-fallback-write = das neu gebaute Abbild lässt sich nicht nach { $path } schreiben
delta-fallback-mismatch = das neu gebaute Abbild passte nicht zu seiner Prüfsumme
delta-fallback-cache = der Ordner für neu gebaute Abbilder, { $path }, ist nicht nutzbar
delta-fallback-stopped = der Neubau brach vor seinem Ende ab
restart-title = Neu starten, um Version { $version } zu verwenden
restart-explanation = Bis dahin läuft Version { $running } weiter. Startet die neue Version nicht, kehrt der Rechner von selbst zu { $running } zurück.
fallback-message = Eine neue Version ist nicht gestartet: { $details }. Es ging nichts verloren; Sie können sie später erneut versuchen.
fallback-details = Version { $failed } ist { $tries ->
    [one] einmal
   *[other] { $tries } Mal
} nicht gestartet; es läuft { $running }
last-error = { $job ->
    [check] Die letzte Suche nach Updates ist nicht gelungen: { $details }
   *[other] Das letzte Update ist nicht gelungen: { $details }
}
request-failed = Das hat nicht geklappt: { $details }
connection-failed = Die Aktualisierungen dieses Systems lassen sich nicht anzeigen: { $details }
# Fehler, aus den Feldern des Helfers gesagt (update_center_client::ERROR_KINDS); jeder folgt
# „last-error“ oder „request-failed“ nach einem Doppelpunkt.
error-no-room = { $boot ->
    [yes] der EFI-Systempartition ({ $dir }) fehlen { $missing } Platz
   *[other] dem Dateisystem von { $dir } fehlen { $missing } Platz
}: { $can_remove ->
    [yes] Version { $remove } entfernen oder die Partition vergrößern
   *[other] die Partition vergrößern (jede andere Version wird gebraucht oder ist geschützt)
}
error-room-unknown = wie viel Platz { $dir } hat, lässt sich nicht feststellen
error-no-boot-partition = { $file } installiert auf die EFI-Systempartition, aber keine ist eingehängt
error-unreachable = der Spiegelserver { $url } ist nicht erreichbar; bitte die Netzwerkverbindung prüfen
error-http-status = { $status ->
    [401] { $url } verlangt Benutzername und Passwort; sie lassen sich in den Einstellungen eintragen (sie bleiben in Ihrem Schlüsselbund)
    [403] { $url } verlangt Benutzername und Passwort; sie lassen sich in den Einstellungen eintragen (sie bleiben in Ihrem Schlüsselbund)
   *[other] { $url } antwortete mit dem HTTP-Fehler { $status }
}
error-too-large = { $url } ist größer als { $max } und wurde abgelehnt
error-unknown-size = der Spiegelserver nennt die Größe von { $url } nicht, und der Platz wird geprüft, bevor etwas geschrieben wird
error-truncated = { $url } endete nach { $got } von { $expected }
error-hash-mismatch = { $url } passt nicht zu seiner Prüfsumme in der signierten Liste: der Spiegelserver lieferte falsche Daten, und nichts davon wurde installiert
error-signature = { $problem ->
    [no-keyring] es ist kein OpenPGP-Schlüsselbund installiert, daher lassen sich die Versionen von { $source } nicht prüfen
    [bad-keyring] der installierte OpenPGP-Schlüsselbund ist nicht lesbar, daher lassen sich die Versionen von { $source } nicht prüfen
    [missing] { $source } bietet keine Signatur für seine Versionsliste an
    [corrupt] die Signatur der Versionsliste von { $source } ist beschädigt
    [unknown-key] die Versionsliste von { $source } wurde mit einem Schlüssel signiert, der nicht im installierten Schlüsselbund ist ({ $key })
    [expired-key] der Schlüssel { $key }, mit dem die Versionsliste von { $source } signiert wurde, ist abgelaufen
    [bad-key] der Schlüssel { $key }, mit dem die Versionsliste von { $source } signiert wurde, ist nicht annehmbar
   *[mismatch] die Versionsliste von { $source } passt nicht zu ihrer Signatur: sie wurde verändert
}
error-replayed = { $source } bietet eine signierte Versionsliste an, die älter ist als eine schon gesehene (erstellt { $offered }, gesehen { $seen }): ein veralteter Spiegelserver oder ein Versuch, diesen Rechner auf alten Versionen zu halten; sie wurde abgelehnt
error-no-sums = { $source } bietet keine Versionsliste (SHA256SUMS) an; es ist keine Update-Quelle
error-write-failed = der Download von { $url } ließ sich nicht auf die Festplatte schreiben
error-file-system = das Schreiben von { $path } ist fehlgeschlagen
error-up-to-date = das System ist aktuell: keine neuere Version wird angeboten
error-not-offered = Version { $version } wird von den Update-Quellen nicht angeboten
error-offered-in-part = Version { $version } wird ohne { $missing } angeboten und lässt sich daher nicht installieren
error-already-installed = Version { $version } ist bereits installiert
error-held-back = Version { $version } wird zurückgehalten, weil das System von ihr zurückgekehrt ist oder sie nicht gestartet ist; mit ihrem Namen installiert, wird sie wieder genommen
error-obsolete = Version { $version } ist älter, als die Update-Definitionen erlauben, und wird nicht installiert
error-recovered-completed = der Helfer wurde während der Installation von Version { $version } beendet und hat sie beim nächsten Start abgeschlossen
error-recovered-discarded = der Helfer wurde während eines Updates beendet und hat beim nächsten Start { $files ->
    [one] seine unfertige Datei
   *[other] seine { $files } unfertigen Dateien
} entfernt; nichts Installiertes hat sich geändert
error-cancelled = es wurde abgebrochen; nichts davon ist geblieben
error-busy = ein anderer Update-Auftrag läuft; bitte warten, bis er fertig ist, oder ihn abbrechen
error-not-authorized = Sie dürfen das nicht tun (die Regeln des Administrators, oder das Passwort wurde nicht eingegeben)
error-no-service = der Update-Center-Dienst läuft nicht auf dem Systembus; mit „systemctl start update-center-helper“ starten oder den Administrator fragen
error-no-bus = der Systembus ist nicht erreichbar; Update Center braucht D-Bus, um mit seinem Dienst zu sprechen
error-bus-denied = der Systembus verweigerte den Zugang zum Update-Center-Dienst
error-no-answer = der Update-Center-Dienst hat nicht rechtzeitig geantwortet; vielleicht ist er beschäftigt oder hängt: bitte erneut versuchen oder ihn mit „systemctl restart update-center-helper“ neu starten
error-setting-refused = { $which ->
    [source] die Update-Quelle wurde nicht gespeichert: geben Sie die Adresse eines Spiegels (https://…) oder den absoluten Pfad eines Ordners (/media/…) an
    [delta-store] der Chunk-Speicher wurde nicht gespeichert: geben Sie die Adresse eines Speichers (https://…/store/) oder den absoluten Pfad eines Ordners an, oder lassen Sie das Feld leer
    [windows] die Wartungsfenster wurden nicht gespeichert: schreiben Sie jedes wie „Sat,Sun 02:00 3h Europe/Berlin“ (Tage, Beginn, Dauer, Zeitzone) und trennen Sie mehrere mit „;“
    [busy-command] der Befehl wurde nicht gespeichert: geben Sie den absoluten Pfad eines Programms an (/usr/local/bin/…)
   *[other] die Einstellung { $setting } wurde nicht gespeichert: dieser Wert ist nicht erlaubt
}

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
confirm-boot-text = Ab dem nächsten Neustart startet der Rechner Version { $version } statt { $default }. Es wird nichts gelöscht: Alle installierten Versionen bleiben, und Sie können auf demselben Weg zurückwechseln.
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
history-downloaded = Version { $version } vorab heruntergeladen; sie wird später installiert
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
history-fetched = { $delta ->
    [yes] { $file } als Delta heruntergeladen: { $fetched } geladen, { $reused } aus installierten Versionen übernommen
   *[no] { $file } vollständig heruntergeladen ({ $size }): { $reason }
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
settings-delta = Delta-Updates:
settings-delta-default = Nur das Geänderte, aus dem Chunk-Speicher neben den Abbildern
settings-delta-ranges = Nur das Geänderte, über Bereichsanfragen an das Abbild
settings-delta-off = Aus: immer das ganze Abbild herunterladen
settings-delta-custom = Nur das Geänderte, aus einem anderen Chunk-Speicher
settings-delta-store = Chunk-Speicher:
settings-delta-store-example = https://mirror.example.org/kde-linux/store/ oder /media/usb/store
settings-delta-help = Ein Delta lädt nur die Teile einer neuen Version herunter, die keine installierte Version hat. Ohne Chunk-Speicher weicht es auf Bereichsanfragen aus, danach auf das ganze Abbild.
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
settings-automatic-check = Automatisch nach Aktualisierungen suchen
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
tray-available = { $delta ->
    [yes] Version { $version } ist verfügbar: { $size } herunterzuladen (ein Abbild von { $image }).
   *[no] Version { $version } ist verfügbar ({ $size }).
}
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
notify-available-body = { $delta ->
    [yes] Version { $version } kann heruntergeladen werden: { $size } herunterzuladen (ein Abbild von { $image }).
   *[no] Version { $version } kann heruntergeladen werden ({ $size }).
}
notify-restart-title = Neu starten, um die Aktualisierung abzuschließen
notify-restart-body = Version { $version } ist installiert und startet beim nächsten Neustart.
notify-fell-back-title = Die neue Version ist nicht gestartet
notify-action-view = Aktualisierungen anzeigen
notify-action-restart = Jetzt neu starten

# Warnungen zu den Update-Definitionen (update_center_client::WARNING_KINDS).
definition-warning-unknown-key = die Einstellung { $key }= in [{ $section }] kennt systemd-sysupdate nicht; sie wird übergangen
definition-warning-tries-left-one = TriesLeft=1 erklärt eine neue Version schon nach einem einzigen misslungenen Start für schlecht (ein Stromausfall, eine hängende Firmware); setzen Sie 2 oder mehr
definition-warning-legacy-ignored = diese ältere Transfer-Datei wird übergangen, weil es *.transfer-Dateien gibt (wie bei systemd-sysupdate); benennen Sie sie in *.transfer um oder entfernen Sie sie
definition-warning-stale-source = { $days ->
    [one] die neueste signierte Liste dieser Quelle ist einen Tag alt
   *[other] die neueste signierte Liste dieser Quelle ist { $days } Tage alt
}; vielleicht wird sie nicht mehr gepflegt

# What the machine waits for before it goes on by itself (update_center_client::waiting::KINDS):
# each reason follows "Waiting for:", said from the helper's fields; times are said by
# waiting-time, in the local time zone.
waiting-title = Wartet auf:
waiting-download-anyway = Trotzdem herunterladen
waiting-download-anyway-help = Lädt die Aktualisierung jetzt herunter, dieses eine Mal; automatische Downloads warten weiter.
waiting-metered = { $guess ->
    [yes] eine nicht getaktete Verbindung (diese ist wahrscheinlich getaktet)
   *[no] eine nicht getaktete Verbindung
}
waiting-battery = Netzstrom oder einen auf { $min } % geladenen Akku (er hat { $percent } %)
waiting-captive-portal = eine Anmeldung im Netzwerk (es zeigt zuerst eine Anmeldeseite)
waiting-offline = eine Netzwerkverbindung
waiting-manual-restart = Ihren Neustart (automatische Neustarts sind aus)
waiting-outside-window = { $set ->
    [no] ein Wartungsfenster (keines ist eingerichtet)
   *[yes] das nächste Wartungsfenster, { $next }
}
waiting-inhibitor = das Ende der Sperre des Herunterfahrens durch { $who }: { $why } (Prozess { $pid })
waiting-sessions = { $count ->
    [one] die Abmeldung einer angemeldeten Person ({ $users })
   *[other] die Abmeldung von { $count } angemeldeten Personen ({ $users })
}
waiting-gpu-jobs = { $count ->
    [one] das Ende eines GPU-Auftrags (Prozess { $pids })
   *[other] das Ende von { $count } GPU-Aufträgen (Prozesse { $pids })
}
waiting-busy-command = die Freigabe durch { $command } ({ $status })
waiting-overdue = einen Neustart, schon { $hours ->
    [one] eine Stunde
   *[other] { $hours } Stunden
} lang (seit { $since }), länger als die erlaubten { $max } Stunden
waiting-rollout-wave = die Reihe dieses Rechners beim Verteilen von { $version } (es hat { $share } % der Rechner erreicht; dieser kommt bei { $bucket } % an die Reihe)
waiting-rollout-paused = eine Administratorin, die das Verteilen von { $version } fortsetzt
waiting-rollout-halted = eine Administratorin: das Verteilen von { $version } wurde angehalten, nachdem { $failures ->
    [one] einer
   *[other] { $failures }
} der { $started } Rechner, die es begonnen haben, einen Fehler gemeldet { $failures ->
    [one] hat
   *[other] haben
}
waiting-no-slot = einen freien Neustartplatz der Gruppe { $group } (andere Rechner starten gerade neu)
waiting-fleet-unreachable = die Server der Flotte, die nicht erreichbar sind ({ $servers }); ohne Platz kein Neustart
waiting-no-machine-id = eine Maschinenkennung (/etc/machine-id), die diesen Rechner in seiner Flotte benennt
waiting-time = { $when ->
    [today] heute um { $time } Uhr
    [tomorrow] morgen um { $time } Uhr
    [yesterday] gestern um { $time } Uhr
    [week] { $weekday ->
        [mon] Montag
        [tue] Dienstag
        [wed] Mittwoch
        [thu] Donnerstag
        [fri] Freitag
        [sat] Samstag
       *[sun] Sonntag
    } um { $time } Uhr
   *[other] { $day }.{ $month }.{ $year } um { $time } Uhr
}
tray-download-anyway = Die Aktualisierung trotzdem herunterladen

# Settings: the update policy ([Policy] in update-center.conf, docs/policies.md)
settings-policy-section = Aktualisierungsrichtlinie
settings-policy-install = Heruntergeladene Aktualisierungen für den nächsten Neustart vorbereiten
settings-policy-restart = In eine neue Version neu starten:
settings-policy-restart-never = Nie von selbst: Sie starten neu
settings-policy-restart-window = In einem Wartungsfenster
settings-policy-restart-immediate = Sobald nichts dagegen spricht
settings-policy-windows = Wartungsfenster:
settings-policy-windows-example = Sat,Sun 02:00 3h Europe/Berlin
settings-policy-windows-help = Tage, Beginn, Dauer und Zeitzone; mehrere durch „;“ getrennt, z. B. Mon..Fri 23:30 90min UTC. Die Tage werden englisch abgekürzt.
settings-policy-metered = Auch über getaktete Verbindungen herunterladen
settings-policy-battery = Mindestladung des Akkus für Downloads (%):
settings-policy-battery-help = 0: bei jeder Ladung herunterladen. Am Netzstrom warten Downloads nie.
settings-policy-wait = Vor einem Neustart warten auf:
settings-policy-wait-sessions = Angemeldete Personen
settings-policy-wait-gpu = GPU-Rechenaufträge
settings-policy-busy = Programm für die Belegt-Prüfung:
settings-policy-busy-example = /usr/local/bin/node-idle (Rückgabewert 0: frei)
settings-policy-max-postpone = Warnen nach Wartezeit (Stunden):
settings-policy-max-postpone-help = Wie lange eine vorbereitete Version auf ihren Neustart warten darf, bevor es deutlich gemeldet wird; 0: nie.
settings-policy-check-interval = Nach Aktualisierungen suchen alle (Stunden):
settings-policy-downloads = Automatische Downloads:
