//! The administrator's settings: `/etc/update-center/update-center.conf`, an INI file like the
//! sysupdate.d definitions. Unknown keys and bad values are errors naming the file and line,
//! so that a typo never silently falls back to a default.

use crate::format::ini;
pub use crate::policy::gates::{Policy, RestartWhen};
pub use fleet::FleetSettings;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The settings file, inside the root.
pub const FILE: &str = "etc/update-center/update-center.conf";

/// What to do when a required health check fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnFailure {
    /// Leave the boot unblessed: systemd-boot falls back once the tries run out.
    Wait,
    /// Mark this boot's entry bad and reboot into the previous version at once.
    RebootPrevious,
}

/// Every setting, with its default.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Settings {
    /// `[Health] TimeoutSec=`: how long each health check may run.
    pub health_timeout: Duration,
    /// `[Health] OnFailure=`.
    pub on_failure: OnFailure,
    /// `[Updates] MaxRateBytesPerSec=`: the download bandwidth limit (none: as fast as the
    /// link goes).
    pub max_rate_bytes_per_sec: Option<u64>,
    /// How many versions to keep (`InstancesMax=` of every transfer, through a drop-in).
    pub instances_max: Option<u64>,
    /// Where updates come from instead of the definitions' source: a mirror URL, or a local
    /// folder for air-gapped machines (through a drop-in).
    pub source: Option<String>,
    /// `[Updates] AutomaticCheck=`: whether the daily timer asks the update sources.
    pub automatic_check: bool,
    /// `[Updates] AutomaticDownload=`: whether an automatic check that finds an update also
    /// downloads and stages it (it never restarts the machine).
    pub automatic_download: bool,
    /// `[Updates] PausedUntil=`: no automatic check or download before this time (UTC).
    #[serde(serialize_with = "rfc3339")]
    pub paused_until: Option<chrono::DateTime<chrono::Utc>>,
    /// `[Restart] Behaviour=`.
    pub restart: RestartBehaviour,
    /// `[Download] StallTimeoutSec=`: a download that receives no byte for this long breaks
    /// off and resumes (a few times), and the window over which the minimum rate is measured.
    pub stall_timeout: Duration,
    /// `[Download] MinRateBytesPerSec=`: a download slower than this over a stall window
    /// breaks off and resumes (a few times), so a mirror trickling bytes cannot hold the job.
    pub min_rate: u64,
    /// `[Download] DeadlineSec=`: the longest one download job may take in all.
    pub deadline: Duration,
    /// `[Delta] Store=`: where the chunks of a delta update come from.
    pub delta_store: DeltaStore,
    /// `[Policy]`: when the machine downloads, stages and restarts by itself.
    pub policy: Policy,
    /// `[Fleet]`: the restart slots and rollout waves of the machine's group.
    pub fleet: FleetSettings,
    /// `[Policy] CheckIntervalHours=`: the automatic path asks the sources at most this often
    /// (it runs more often, to catch maintenance windows).
    pub check_interval_hours: u64,
}

/// Where a delta update fetches the chunks no installed image has (`[Delta] Store=`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeltaStore {
    /// Empty: the chunk store `store/` beside the images (KDE Linux's layout), then range
    /// requests of the image, then a full download.
    #[default]
    Beside,
    /// `ranges`: no store; range requests of the image on the mirror.
    Ranges,
    /// `off`: always the full image.
    Off,
    /// A chunk store at this URL (`https://.../store/`).
    Url(String),
    /// A chunk store in this local folder (an air-gapped site's stick).
    Folder(PathBuf),
}

impl DeltaStore {
    /// The value as written in the settings file.
    pub fn value(&self) -> String {
        match self {
            Self::Beside => String::new(),
            Self::Ranges => "ranges".into(),
            Self::Off => "off".into(),
            Self::Url(url) => url.clone(),
            Self::Folder(path) => path.display().to_string(),
        }
    }

    /// Reads a value of `[Delta] Store=`.
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        let v = value.trim();
        const EXPECTED: &str = "expected nothing (the store beside the images), ranges, off, a store URL (https://.../) or a local folder (/...)";
        if v.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(EXPECTED);
        }
        match v {
            "" => Ok(Self::Beside),
            "ranges" => Ok(Self::Ranges),
            "off" => Ok(Self::Off),
            url if url.starts_with("https://") || url.starts_with("http://") => {
                // Credentials belong in the keyring, never in a file anyone may read.
                if crate::source::origin::Origin::of(url).is_none() {
                    return Err(
                        "a store URL carries no user name or password (user:password@); the mirror's credentials in the keyring are used",
                    );
                }
                let mut url = url.to_string();
                if !url.ends_with('/') {
                    url.push('/');
                }
                Ok(Self::Url(url))
            }
            folder if folder.starts_with('/') && !folder.split('/').any(|p| p == "..") => {
                Ok(Self::Folder(PathBuf::from(folder)))
            }
            _ => Err(EXPECTED),
        }
    }
}

/// How the desktop tells the person that a staged version waits for a restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestartBehaviour {
    /// A notification with "Restart now", and the tray icon.
    Notify,
    /// Only the tray icon and the window say so; no notification.
    Quiet,
}

/// The drop-in this product writes beside each transfer in `/etc/sysupdate.d/NAME.transfer.d/`,
/// so that systemd-sysupdate reads the same retention and source.
pub const DROPIN: &str = "50-update-center.conf";

/// The settings keys, as `Section.Key`, for the API and the CLI.
pub const KEYS: [&str; 28] = [
    "Health.TimeoutSec",
    "Health.OnFailure",
    "Updates.MaxRateBytesPerSec",
    "Updates.InstancesMax",
    "Updates.Source",
    "Updates.AutomaticCheck",
    "Updates.AutomaticDownload",
    "Updates.PausedUntil",
    "Restart.Behaviour",
    "Download.StallTimeoutSec",
    "Download.MinRateBytesPerSec",
    "Download.DeadlineSec",
    "Delta.Store",
    "Policy.AutomaticInstall",
    "Policy.Restart",
    "Policy.Windows",
    "Policy.UseLogindMaintenanceTime",
    "Policy.DownloadOnMetered",
    "Policy.MinBatteryPercent",
    "Policy.WaitForSessions",
    "Policy.WaitForGpuJobs",
    "Policy.BusyCommand",
    "Policy.MaxPostponeHours",
    "Policy.CheckIntervalHours",
    "Fleet.Etcd",
    "Fleet.FleetLock",
    "Fleet.Group",
    "Fleet.LeaseSec",
];

/// Keys anyone in the active session may set (the check action): pausing automatic updates
/// from the tray must not need an administrator.
pub const SESSION_KEYS: [&str; 1] = ["Updates.PausedUntil"];

fn rfc3339<S: serde::Serializer>(
    time: &Option<chrono::DateTime<chrono::Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match time {
        Some(t) => serializer.serialize_some(&t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        None => serializer.serialize_none(),
    }
}

fn yes_no(value: bool) -> String {
    if value { "yes" } else { "no" }.to_string()
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.trim() {
        "yes" | "true" | "on" | "1" => Some(true),
        "no" | "false" | "off" | "0" => Some(false),
        _ => None,
    }
}

impl Settings {
    /// The fetcher these settings ask for: `request` as the metadata timeout (and the longest
    /// stall), the bandwidth limit (or `fallback_rate` when none is set), the `[Download]`
    /// limits. The one place a fetcher is configured, for the service and the offline commands.
    pub fn fetcher(
        &self,
        request: Duration,
        fallback_rate: Option<u64>,
    ) -> crate::source::fetch::Fetcher {
        let connect = request.min(Duration::from_secs(
            crate::source::fetch::CONNECT_TIMEOUT_SECS,
        ));
        let rate = self.max_rate_bytes_per_sec.or(fallback_rate);
        let limits = crate::source::fetch::PayloadLimits {
            stall: self.stall_timeout.min(request),
            // A bandwidth limit below the minimum rate must not break every download off.
            min_rate: rate.map_or(self.min_rate, |r| self.min_rate.min(r / 2)),
            deadline: std::time::Instant::now() + self.deadline,
        };
        crate::source::fetch::Fetcher::with_payload_limits(connect, request, limits)
            .with_max_rate(rate)
            // Under its unit the helper has no network: the relay makes its requests.
            .with_relay(
                std::env::var_os(crate::source::relay::SOCKET_ENV).map(std::path::PathBuf::from),
            )
    }

    /// Whether automatic updates are paused at `now`.
    pub fn paused_at(&self, now: chrono::DateTime<chrono::Utc>) -> bool {
        self.paused_until.is_some_and(|until| now < until)
    }
}

impl Settings {
    /// Every setting as `Section.Key` -> value.
    pub fn to_map(&self) -> std::collections::BTreeMap<String, String> {
        let on_failure = match self.on_failure {
            OnFailure::Wait => "wait",
            OnFailure::RebootPrevious => "reboot-previous",
        };
        [
            (KEYS[0], self.health_timeout.as_secs().to_string()),
            (KEYS[1], on_failure.to_string()),
            (
                KEYS[2],
                self.max_rate_bytes_per_sec
                    .map(|r| r.to_string())
                    .unwrap_or_default(),
            ),
            (
                KEYS[3],
                self.instances_max
                    .map(|r| r.to_string())
                    .unwrap_or_default(),
            ),
            (KEYS[4], self.source.clone().unwrap_or_default()),
            (KEYS[5], yes_no(self.automatic_check)),
            (KEYS[6], yes_no(self.automatic_download)),
            (
                KEYS[7],
                self.paused_until
                    .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                    .unwrap_or_default(),
            ),
            (
                KEYS[8],
                match self.restart {
                    RestartBehaviour::Notify => "notify",
                    RestartBehaviour::Quiet => "quiet",
                }
                .to_string(),
            ),
            (KEYS[9], self.stall_timeout.as_secs().to_string()),
            (KEYS[10], self.min_rate.to_string()),
            (KEYS[11], self.deadline.as_secs().to_string()),
            (KEYS[12], self.delta_store.value()),
            (KEYS[13], yes_no(self.policy.automatic_install)),
            (KEYS[14], self.policy.restart.as_str().to_string()),
            (KEYS[15], self.policy.windows_text.clone()),
            (KEYS[16], yes_no(self.policy.logind_maintenance)),
            (KEYS[17], yes_no(self.policy.download_on_metered)),
            (KEYS[18], self.policy.min_battery_percent.to_string()),
            (KEYS[19], yes_no(self.policy.wait_for_sessions)),
            (KEYS[20], yes_no(self.policy.wait_for_gpu_jobs)),
            (
                KEYS[21],
                self.policy.busy_command.clone().unwrap_or_default(),
            ),
            (KEYS[22], self.policy.max_postpone_hours.to_string()),
            (KEYS[23], self.check_interval_hours.to_string()),
        ]
        .into_iter()
        .chain(KEYS[24..].iter().copied().zip(self.fleet.values()))
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}

/// Sets `Section.Key` to `value` (empty: back to the default) in the settings file, keeping
/// every other line; the value is checked first, and the file written atomically.
pub fn set(root: &Path, key: &str, value: &str) -> Result<Settings, SettingsError> {
    let shown = Path::new("/").join(FILE);
    let invalid = |message: String| SettingsError::Invalid {
        file: shown.clone(),
        line: 0,
        section: key.split('.').next().unwrap_or_default().to_string(),
        key: key.to_string(),
        message,
    };
    if !KEYS.contains(&key) {
        return Err(invalid(format!(
            "unknown setting; known: {}",
            KEYS.join(", ")
        )));
    }
    if value.contains(['\n', '\r']) || value.len() > 512 {
        return Err(invalid("a value is one line of at most 512 bytes".into()));
    }
    if key == "Updates.InstancesMax" || key == "Updates.Source" {
        set_dropins(root, key, value).map_err(|e| match e {
            SettingsError::Invalid { message, .. } => invalid(message),
            other => other,
        })?;
        return load(root);
    }
    let (section, name) = key.split_once('.').unwrap_or_default();
    let path = root.join(FILE);
    let text = read_text(root)?;
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut placed = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('[') && t.ends_with(']') {
            if current == section && !placed && !value.is_empty() {
                lines.push(format!("{name}={value}"));
                placed = true;
            }
            current = t[1..t.len() - 1].to_string();
        } else if current == section && t.split_once('=').is_some_and(|(k, _)| k.trim() == name) {
            if !placed && !value.is_empty() {
                lines.push(format!("{name}={value}"));
                placed = true;
            }
            continue;
        }
        lines.push(line.to_string());
    }
    if !placed && !value.is_empty() {
        if current != section {
            lines.push(format!("[{section}]"));
        }
        lines.push(format!("{name}={value}"));
    }
    let new_text = lines.join("\n") + "\n";
    // Checked as a whole before it replaces the file.
    let settings = parse(&shown, &new_text).map_err(|e| match e {
        SettingsError::Invalid { message, .. } => invalid(message),
        other => other,
    })?;
    crate::fsutil::write_atomically(&path, new_text.as_bytes()).map_err(|source| {
        SettingsError::Io {
            file: shown,
            source,
        }
    })?;
    Ok(settings)
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            health_timeout: Duration::from_secs(60),
            on_failure: OnFailure::Wait,
            max_rate_bytes_per_sec: None,
            instances_max: None,
            source: None,
            automatic_check: true,
            automatic_download: false,
            paused_until: None,
            restart: RestartBehaviour::Notify,
            stall_timeout: Duration::from_secs(30),
            min_rate: 1024,
            deadline: Duration::from_secs(6 * 3600),
            delta_store: DeltaStore::Beside,
            policy: Policy::default(),
            check_interval_hours: 24,
            fleet: FleetSettings::default(),
        }
    }
}

/// Why the settings cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The file is malformed.
    #[error("{0}")]
    Syntax(#[from] ini::SyntaxError),
    /// A key is unknown or its value is not allowed.
    #[error("{}:{line}: [{section}] {key}=: {message}", file.display())]
    Invalid {
        /// The file.
        file: PathBuf,
        /// The line.
        line: usize,
        /// The section.
        section: String,
        /// The key.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// The file cannot be read.
    #[error("cannot read {}: {source}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The settings file's text (empty when there is none).
fn read_text(root: &Path) -> Result<String, SettingsError> {
    match std::fs::read_to_string(root.join(FILE)) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(source) => Err(SettingsError::Io {
            file: Path::new("/").join(FILE),
            source,
        }),
    }
}

/// Reads the settings of the system under `root` (defaults when there is no file).
pub fn load(root: &Path) -> Result<Settings, SettingsError> {
    let shown = Path::new("/").join(FILE);
    let text = read_text(root)?;
    let mut settings = parse(&shown, &text)?;
    read_dropins(root, &mut settings);
    Ok(settings)
}

/// Names of the transfers of the system (`*.transfer` in every sysupdate.d directory).
fn transfer_names(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = ["etc", "run", "usr/local/lib", "usr/lib"]
        .iter()
        .filter_map(|d| std::fs::read_dir(root.join(d).join("sysupdate.d")).ok())
        .flat_map(|entries| entries.flatten())
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".transfer"))
                .map(str::to_string)
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

fn dropin_path(root: &Path, transfer: &str) -> std::path::PathBuf {
    root.join(format!("etc/sysupdate.d/{transfer}.transfer.d/{DROPIN}"))
}

/// Reads retention and source back from the first transfer's drop-in.
fn read_dropins(root: &Path, settings: &mut Settings) {
    let Some(first) = transfer_names(root).into_iter().next() else {
        return;
    };
    let path = dropin_path(root, &first);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return;
    };
    let Ok(assignments) = ini::parse(&path, &text) else {
        return;
    };
    for a in assignments {
        match (a.section.as_str(), a.key.as_str()) {
            ("Target", "InstancesMax") => settings.instances_max = a.value.trim().parse().ok(),
            ("Source", "Path") => settings.source = Some(a.value.trim().to_string()),
            _ => {}
        }
    }
}

/// Writes (or removes, for an empty value) retention or source in every transfer's drop-in,
/// keeping the other; each file atomically.
fn set_dropins(root: &Path, key: &str, value: &str) -> Result<(), SettingsError> {
    let invalid = |message: &str| SettingsError::Invalid {
        file: std::path::PathBuf::from(format!("/etc/sysupdate.d/*.transfer.d/{DROPIN}")),
        line: 0,
        section: String::new(),
        key: key.to_string(),
        message: message.to_string(),
    };
    let mut current = Settings::default();
    read_dropins(root, &mut current);
    if key == "Updates.InstancesMax" {
        current.instances_max = match value.trim() {
            "" => None,
            v => Some(
                v.parse::<u64>()
                    .ok()
                    .filter(|n| (2..=16).contains(n))
                    .ok_or_else(|| {
                        invalid("expected 2 to 16 (the running version and a new one at least)")
                    })?,
            ),
        };
    } else {
        let v = value.trim();
        let url = v.starts_with("https://") || v.starts_with("http://");
        let folder = v.starts_with('/');
        if !v.is_empty()
            && (!(url || folder) || v.chars().any(|c| c.is_whitespace() || c.is_control()))
        {
            return Err(invalid(
                "expected a mirror URL (https://...) or a local folder (/...), or nothing for the default",
            ));
        }
        // A password in the URL would be shown by GetSettings, kept in a world-readable
        // definition and sent over every redirect: it belongs in the keyring.
        if url && crate::source::fetch::Origin::of(v).is_none() {
            return Err(invalid(
                "a mirror URL carries no user name or password (user:password@); set them in Update Center's settings, which keep them in the keyring",
            ));
        }
        current.source = (!v.is_empty()).then(|| {
            if url && !v.ends_with('/') {
                format!("{v}/")
            } else {
                v.to_string()
            }
        });
    }
    let names = transfer_names(root);
    if names.is_empty() {
        return Err(invalid("the system has no *.transfer definitions"));
    }
    for name in names {
        let path = dropin_path(root, &name);
        let mut text = String::from(
            "# Written by Update Center from its settings; remove to go back to the defaults.\n",
        );
        if let Some(n) = current.instances_max {
            text.push_str(&format!("\n[Target]\nInstancesMax={n}\n"));
        }
        if let Some(source) = &current.source {
            let kind = if source.starts_with('/') {
                "regular-file"
            } else {
                "url-file"
            };
            text.push_str(&format!("\n[Source]\nType={kind}\nPath={source}\n"));
        }
        let io = |source: std::io::Error| SettingsError::Io {
            file: Path::new("/").join(path.strip_prefix(root).unwrap_or(&path)),
            source,
        };
        if current.instances_max.is_none() && current.source.is_none() {
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(e)),
                _ => {}
            }
        } else {
            crate::fsutil::write_atomically(&path, text.as_bytes()).map_err(io)?;
        }
    }
    Ok(())
}

mod fleet;
mod parse;
use parse::parse;
#[cfg(test)]
mod tests;
