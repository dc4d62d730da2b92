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
