# Update Center: user interface strings (English).
# Each message id is used from QML as L10n.tr("id", { arguments }).

app-title = Update Center

versions-page-title = Installed Versions
action-refresh = Refresh
action-try-again = Try Again

version-title = Version { $version }
version-released = Released { $date }
version-summary = { $size } in { $count ->
    [one] one file
   *[other] { $count } files
}
version-missing = Missing: { $transfers }
version-accessible-name = Version { $version }

badge-running = Running
badge-incomplete = Incomplete

definition-warnings = The update definitions need attention: { $details }

versions-empty-title = No OS versions are installed
versions-empty-explanation = No files matching the update definitions were found on this system.

overview-page-title = Overview
action-check = Check for Updates
action-check-now = Check Now
action-install = Download and Install
action-cancel = Cancel
action-details = Details
action-dismiss = Dismiss

running-version = You are running version { $version }.
uptodate-title = The system is up to date
uptodate-checked = Last checked { $time }.
unchecked-title = Updates have not been checked yet
unchecked-explanation = Nothing is known yet about newer versions. Checking asks the update sources what they offer; nothing is downloaded.
available-title = Version { $version } is available
available-detail = { $size } to download. You are running version { $running }; it stays installed, so you can go back to it.
checking-title = Checking the update sources…
planning-title = Preparing the update…
downloading-title = Downloading version { $version }…
installing-title = Installing version { $version }…
download-progress = { $known ->
    [yes] { $done } of { $total } at { $rate }/s, about { $minutes ->
        [one] one minute
       *[other] { $minutes } minutes
    } left
   *[no] { $done } of { $total }
}
restart-title = Restart to start version { $version }
restart-explanation = Version { $running } keeps running until then. If the new version does not start, the computer goes back to { $running } by itself.
fallback-message = A new version did not start: { $details }. Nothing was lost; you can try it again later.
fallback-details = version { $failed } failed to boot { $tries ->
    [one] once
   *[other] { $tries } times
}; running { $running }
last-error = The last update did not succeed: { $details }

version-actions = Actions for version { $version }
action-boot-this = Boot This Version
action-boot-once = Boot It Once
action-pin = Keep (Pin)
action-unpin = Allow Removal (Unpin)
action-remove = Remove

badge-default = Boots next
badge-next-boot-once = Boots next, once
badge-on-trial = On trial ({ $left ->
    [one] one try left
   *[other] { $left } tries left
})
badge-failed = Failed to boot
badge-pinned = Pinned
badge-protected = Protected
badge-held-back = Held back
badge-obsolete = Obsolete

confirm-boot-title = Boot version { $version }?
confirm-boot-text = From the next restart on, the computer starts version { $version } instead of { $running }. Nothing is deleted: every installed version stays, and you can switch back the same way.
confirm-boot-button = Boot This Version
confirm-once-title = Boot version { $version } once?
confirm-once-text = The next restart starts version { $version }; the restart after that starts the usual version again. Nothing is deleted.
confirm-once-button = Boot It Once
confirm-remove-title = Remove version { $version }?
confirm-remove-text = Its files are deleted for good, the boot entry first. You keep running { $running }.
confirm-remove-button = Remove
confirm-pin-title = Pin version { $version }
confirm-pin-text = { "" }
confirm-pin-button = Pin
confirm-unpin-title = Unpin version { $version }
confirm-unpin-text = { "" }
confirm-unpin-button = Unpin

history-page-title = History
history-filter-all = All
history-filter-updates = Updates
history-filter-boots = Boots
history-empty = Nothing has happened yet
history-started = Started installing version { $version }
history-committed = Installed version { $version }
history-failed = Installing version { $version } failed: { $reason }
history-removed = Removed version { $version }
history-recovered = Finished or undid an interrupted update
history-pinned = Pinned version { $version }
history-unpinned = Unpinned version { $version }
history-rolled-back = { $once ->
    [yes] Chose version { $version } for the next boot only
   *[no] Chose version { $version } as the version that boots
}
history-booted = { $good ->
    [yes] Started version { $version }
   *[no] Started version { $version } on trial
}
history-fallback-detected = Version { $version } failed to boot { $tries } times; went back to { $running }
history-fallback-acknowledged = Dismissed the notice about version { $version }
history-health-checked = { $passed ->
    [yes] Health checks passed
   *[no] Health checks failed
}
history-checked = { $available ->
    [yes] Checked for updates: version { $version } is available
   *[no] Checked for updates: the system was up to date
}
action-restart = Restart Now…

whatsnew-page-title = What's New
whatsnew-heading = From version { $from } to { $to }
whatsnew-summary = { $total ->
    [0] No package changes
    [one] One package changes
   *[other] { $total } packages change
}: { $upgraded } upgraded, { $added } added, { $removed } removed{ $downgraded ->
    [0] {""}
   *[other] , { $downgraded } downgraded
}
whatsnew-kernel = Kernel { $from } → { $to }
whatsnew-plasma = Plasma { $from } → { $to }
release-link = Open { $url }
whatsnew-empty = No release notes
release-title = Version { $version }
release-title-dated = Version { $version } ({ $date })
packages-heading = Packages
packages-search = Search packages
package-changed = { $name }: { $from } → { $to }
package-single = { $name } { $version }
package-group = { $kind } ({ $count })
package-upgraded = Upgraded
package-downgraded = Downgraded
package-added = Added
package-removed = Removed

settings-page-title = Settings
settings-retention = Versions to keep:
settings-retention-help = Older versions are removed when a new one arrives; the running, default and pinned versions always stay.
settings-source-section = Update Source
settings-source = Updates come from:
settings-source-default = The distribution's mirror
settings-source-mirror = Another mirror
settings-source-folder = A local folder (for machines without internet)
settings-source-mirror-example = https://mirror.example.org/kde-linux/
settings-source-folder-example = /media/usb/kde-linux
settings-download-section = Downloads
settings-max-rate = Bandwidth limit (kB/s):
settings-max-rate-none = No limit
settings-health-section = Health Checks
settings-on-failure = When a check fails:
settings-on-failure-wait = Let the new version retry; fall back after its tries
settings-on-failure-reboot = Go back to the previous version at once
settings-health-timeout = Time for each check (seconds):

# Settings: automatic updates, restart, mirror credentials, buttons
settings-automatic-section = Automatic updates:
settings-automatic-check = Check for updates every day
settings-automatic-download = Download and install updates in the background
settings-paused-until = Paused until { $time }
settings-resume = Resume
settings-restart = When an update is ready:
settings-restart-notify = Notify me and offer to restart
settings-restart-quiet = Only show it in the tray
settings-credentials-user = User name:
settings-credentials-password = Password:
settings-credentials-none = None (a public mirror)
settings-credentials-stored = Stored in your keyring
settings-credentials-help = The user name and password are kept in your keyring, never in a file.
settings-apply = Apply
settings-reset = Reset
settings-defaults = Defaults
settings-applying = Applying…
kcm-open-update-center = Open Update Center

# Tray notifier
tray-title = Update Center
tray-up-to-date = The system is up to date.
tray-available = Version { $version } is available ({ $size }).
tray-downloading = Downloading version { $version }: { $percent } % ({ $done } of { $total })
tray-installing = Installing version { $version }…
tray-restart-due = Restart to finish the update to version { $version }.
tray-fell-back = A new version did not start: { $details }. Nothing was lost.
tray-open = Open Update Center
tray-check = Check for Updates
tray-restart = Restart to Finish the Update
tray-pause = Pause Automatic Updates for a Day
tray-resume = Resume Automatic Updates
notify-available-title = System update available
notify-available-body = Version { $version } is ready to download ({ $size }).
notify-restart-title = Restart to finish the update
notify-restart-body = Version { $version } is installed and starts with the next restart.
notify-fell-back-title = The new version did not start
notify-action-view = View Updates
notify-action-restart = Restart Now
