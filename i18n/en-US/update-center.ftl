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
action-whatsnew = What's New…
action-cancel = Cancel
action-details = Details
action-dismiss = Dismiss

running-version = You are running version { $version }.
uptodate-title = The system is up to date
uptodate-checked = Last checked { $time }.
unreachable-title = Updates cannot be shown right now
unreachable-explanation = Update Center cannot reach its service, so nothing can be checked or installed; the message above says why.
unchecked-title = Updates have not been checked yet
unchecked-explanation = Nothing is known yet about newer versions. Checking asks the update sources what they offer; nothing is downloaded.
available-title = Version { $version } is available
available-detail = { $delta ->
    [yes] { $size } to download (a { $image } image).
   *[no] { $size } to download.
} You are running version { $running }; it stays installed, so you can go back to it.
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
download-method-delta = Downloading only what changed
download-method-full = Downloading the whole image: { $reason }
delta-fallback-off = deltas are switched off in the settings
delta-fallback-index = the chunk index of the image cannot be read
delta-fallback-store = the chunk store { $store } could not be used
delta-fallback-ranges = parts of { $url } could not be fetched
delta-fallback-write = the rebuilt image cannot be written to { $path }
delta-fallback-mismatch = the rebuilt image did not match its checksum
delta-fallback-cache = the folder for rebuilt images, { $path }, cannot be used
delta-fallback-stopped = the rebuild stopped before its end
restart-title = Restart to start version { $version }
restart-explanation = Version { $running } keeps running until then. If the new version does not start, the computer goes back to { $running } by itself.
fallback-message = A new version did not start: { $details }. Nothing was lost; you can try it again later.
fallback-details = version { $failed } failed to boot { $tries ->
    [one] once
   *[other] { $tries } times
}; running { $running }
last-error = { $job ->
    [check] The last check for updates did not succeed: { $details }
   *[other] The last update did not succeed: { $details }
}
request-failed = That did not work: { $details }
connection-failed = The updates of this system cannot be shown: { $details }
# Failures, said from the helper's fields (update_center_client::ERROR_KINDS); each follows
# "last-error" or "request-failed" after a colon.
error-no-room = { $boot ->
    [yes] the EFI system partition ({ $dir }) needs { $missing } more room
   *[other] the file system of { $dir } needs { $missing } more room
}: { $can_remove ->
    [yes] remove version { $remove } or enlarge the partition
   *[other] enlarge the partition (every other version is in use or protected)
}
error-room-unknown = how much room { $dir } has cannot be found out
error-no-boot-partition = { $file } installs onto the EFI system partition, but none is mounted
error-unreachable = the mirror { $url } cannot be reached; check the network connection
error-http-status = { $status ->
    [401] { $url } wants a user name and password; set them in the settings (they stay in your keyring)
    [403] { $url } wants a user name and password; set them in the settings (they stay in your keyring)
   *[other] { $url } answered with the HTTP error { $status }
}
error-too-large = { $url } is larger than { $max } and was refused
error-unknown-size = the mirror does not say how large { $url } is, and the room is checked before anything is written
error-truncated = { $url } ended after { $got } of { $expected }
error-hash-mismatch = { $url } does not match its checksum in the signed list: the mirror served wrong bytes, and nothing of them was installed
error-signature = { $problem ->
    [no-keyring] no OpenPGP keyring is installed, so the versions { $source } offers cannot be verified
    [bad-keyring] the installed OpenPGP keyring cannot be read, so the versions { $source } offers cannot be verified
    [missing] { $source } offers no signature for its list of versions
    [corrupt] the signature of the list of versions at { $source } is corrupt
    [unknown-key] the list of versions at { $source } was signed by a key that is not in the installed keyring ({ $key })
    [expired-key] the key { $key } that signed the list of versions at { $source } has expired
    [bad-key] the key { $key } that signed the list of versions at { $source } is not acceptable
   *[mismatch] the list of versions at { $source } does not match its signature: it was altered
}
error-replayed = { $source } offers a signed list of versions older than one seen before (made { $offered }, seen { $seen }): a stale mirror, or an attempt to hold this computer on old versions; it was refused
error-no-sums = { $source } offers no list of versions (SHA256SUMS); it is not an update source
error-write-failed = the download of { $url } could not be written to disk
error-file-system = writing { $path } failed
error-up-to-date = the system is up to date: no newer version is offered
error-not-offered = version { $version } is not offered by the update sources
error-offered-in-part = version { $version } is offered without { $missing }, so it cannot be installed
error-already-installed = version { $version } is installed already
error-held-back = version { $version } is held back because the system went back from it or it failed to boot; install it by name to take it again
error-obsolete = version { $version } is older than the update definitions allow and is not installed
error-recovered-completed = the helper stopped while installing version { $version } and finished the installation when it started again
error-recovered-discarded = the helper stopped during an update and removed { $files ->
    [one] its unfinished file
   *[other] its { $files } unfinished files
} when it started again; nothing installed changed
error-cancelled = it was cancelled; nothing of it is left
error-busy = another update job is running; wait for it to finish or cancel it
error-not-authorized = you are not allowed to do this (the administrator's rules, or the password was not given)
error-no-service = the Update Center service is not running on the system bus; start it with “systemctl start update-center-helper” or ask your administrator
error-no-bus = the system bus cannot be reached; Update Center needs D-Bus to talk to its service
error-bus-denied = the system bus refused access to the Update Center service
error-no-answer = the Update Center service did not answer in time; it may be busy or stuck: try again, or restart it with “systemctl restart update-center-helper”
# A setting the helper refused (clients only), by what the setting takes.
error-setting-refused = { $which ->
    [source] the update source was not saved: give the address of a mirror (https://…) or the absolute path of a folder (/media/…)
    [delta-store] the chunk store was not saved: give the address of a store (https://…/store/), the absolute path of a folder, or leave it empty
    [windows] the maintenance windows were not saved: write each like “Sat,Sun 02:00 3h Europe/Berlin” (days, start, length, time zone) and separate several with “;”
    [busy-command] the busy command was not saved: give the absolute path of a program (/usr/local/bin/…)
   *[other] the setting { $setting } was not saved: its value is not allowed
}

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
confirm-boot-text = From the next restart on, the computer starts version { $version } instead of { $default }. Nothing is deleted: every installed version stays, and you can switch back the same way.
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
history-downloaded = Downloaded version { $version } ahead; it is installed later
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
history-fetched = { $delta ->
    [yes] Downloaded { $file } as a delta: { $fetched } fetched, { $reused } reused from installed versions
   *[no] Downloaded { $file } whole ({ $size }): { $reason }
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
settings-delta = Delta updates:
settings-delta-default = Only what changed, from the chunk store beside the images
settings-delta-ranges = Only what changed, by range requests of the image
settings-delta-off = Off: always download the whole image
settings-delta-custom = Only what changed, from another chunk store
settings-delta-store = Chunk store:
settings-delta-store-example = https://mirror.example.org/kde-linux/store/ or /media/usb/store
settings-delta-help = A delta downloads only the parts of a new version that no installed version has. Without a chunk store it falls back to range requests, then to the whole image.
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
settings-automatic-check = Check for updates automatically
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
tray-available = { $delta ->
    [yes] Version { $version } is available: { $size } to download (a { $image } image).
   *[no] Version { $version } is available ({ $size }).
}
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
notify-available-body = { $delta ->
    [yes] Version { $version } is ready to download: { $size } to download (a { $image } image).
   *[no] Version { $version } is ready to download ({ $size }).
}
notify-restart-title = Restart to finish the update
notify-restart-body = Version { $version } is installed and starts with the next restart.
notify-fell-back-title = The new version did not start
notify-action-view = View Updates
notify-action-restart = Restart Now

# Warnings about the update definitions (update_center_client::WARNING_KINDS), each after its
# file and line on the versions page.
definition-warning-unknown-key = the setting { $key }= in [{ $section }] is not known to systemd-sysupdate and is ignored
definition-warning-tries-left-one = TriesLeft=1 marks a new version bad after a single failed boot (a power cut, a hung firmware); use 2 or more
definition-warning-legacy-ignored = this older transfer file is ignored because *.transfer files exist (as systemd-sysupdate does); rename it to *.transfer or remove it
definition-warning-stale-source = { $days ->
    [one] the newest signed list of this source is a day old
   *[other] the newest signed list of this source is { $days } days old
}; it may have stopped publishing

# What the machine waits for before it goes on by itself (update_center_client::waiting::KINDS):
# each reason follows "Waiting for:", said from the helper's fields; times are said by
# waiting-time, in the local time zone.
waiting-title = Waiting for:
waiting-download-anyway = Download Anyway
waiting-download-anyway-help = Downloads the update now, this once; automatic downloads still wait.
waiting-metered = { $guess ->
    [yes] a connection that is not metered (this one probably is)
   *[no] a connection that is not metered
}
waiting-battery = mains power, or a battery charged to { $min } % (it is at { $percent } %)
waiting-captive-portal = a login to the network (it shows a login page first)
waiting-offline = a network connection
waiting-manual-restart = you to restart (automatic restarts are off)
waiting-outside-window = { $set ->
    [no] a maintenance window (none is set)
   *[yes] the next maintenance window, { $next }
}
waiting-inhibitor = { $who } to stop blocking shutdown: { $why } (process { $pid })
waiting-sessions = { $count ->
    [one] one person to log out ({ $users })
   *[other] { $count } people to log out ({ $users })
}
waiting-gpu-jobs = { $count ->
    [one] a GPU job to end (process { $pids })
   *[other] { $count } GPU jobs to end (processes { $pids })
}
waiting-busy-command = { $command } to report the computer free ({ $status })
waiting-overdue = a restart, for { $hours ->
    [one] an hour
   *[other] { $hours } hours
} now (since { $since }), longer than the { $max } hours allowed
waiting-rollout-wave = this machine's turn in the rollout of { $version } (it has reached { $share } % of the machines; this one comes at { $bucket } %)
waiting-rollout-paused = an administrator to resume the rollout of { $version }
waiting-rollout-halted = an administrator: the rollout of { $version } stopped after { $failures ->
    [one] one
   *[other] { $failures }
} of the { $started } machines that started it reported a failure
waiting-no-slot = a free restart slot of the group { $group } (other machines are restarting now)
waiting-fleet-unreachable = the fleet's servers, which cannot be reached ({ $servers }); no restart without a slot
waiting-no-machine-id = a machine id (/etc/machine-id), which names this machine in its fleet
waiting-time = { $when ->
    [today] today at { $time }
    [tomorrow] tomorrow at { $time }
    [yesterday] yesterday at { $time }
    [week] { $weekday ->
        [mon] Monday
        [tue] Tuesday
        [wed] Wednesday
        [thu] Thursday
        [fri] Friday
        [sat] Saturday
       *[sun] Sunday
    } at { $time }
   *[other] { $month }/{ $day }/{ $year } at { $time }
}
tray-download-anyway = Download the Update Anyway

# Settings: the update policy ([Policy] in update-center.conf, docs/policies.md)
settings-policy-section = Update Policy
settings-policy-install = Prepare downloaded updates for the next restart
settings-policy-restart = Restart into a new version:
settings-policy-restart-never = Never by itself: you restart
settings-policy-restart-window = In a maintenance window
settings-policy-restart-immediate = As soon as nothing holds it
settings-policy-windows = Maintenance windows:
settings-policy-windows-example = Sat,Sun 02:00 3h Europe/Berlin
settings-policy-windows-help = Days, start time, length and time zone; separate several with “;”, e.g. Mon..Fri 23:30 90min UTC.
settings-policy-metered = Download on metered connections too
settings-policy-battery = Least battery charge for downloads (%):
settings-policy-battery-help = 0: download at any charge. On mains power downloads never wait.
settings-policy-wait = Before restarting, wait for:
settings-policy-wait-sessions = People logged in
settings-policy-wait-gpu = GPU compute jobs
settings-policy-busy = Busy check program:
settings-policy-busy-example = /usr/local/bin/node-idle (exit status 0: free)
settings-policy-max-postpone = Warn after waiting (hours):
settings-policy-max-postpone-help = How long a prepared version may wait for its restart before it is reported loudly; 0: never.
settings-policy-check-interval = Check for updates every (hours):
settings-policy-downloads = Automatic downloads:
