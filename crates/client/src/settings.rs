//! The settings as the helper sends them (`GetSettings`: `Section.Key` -> text, D-Bus `a{ss}`),
//! read into typed fields. Values travel as text so that `SetSetting` takes them as an
//! administrator writes them in `update-center.conf`; [`Settings::from_map`] is the one place
//! where a client reads that text.

use std::collections::HashMap;

/// `[Health] TimeoutSec=`: seconds each health check may run.
pub const HEALTH_TIMEOUT_SEC: &str = "Health.TimeoutSec";
/// `[Health] OnFailure=`: `wait` or `reboot-previous`.
pub const HEALTH_ON_FAILURE: &str = "Health.OnFailure";
/// `[Updates] MaxRateBytesPerSec=`: the download bandwidth limit (empty: none).
pub const MAX_RATE_BYTES_PER_SEC: &str = "Updates.MaxRateBytesPerSec";
/// `[Updates] InstancesMax=`: how many versions to keep (the definitions' count when not set).
pub const INSTANCES_MAX: &str = "Updates.InstancesMax";
/// Read-only: `yes` when `Updates.InstancesMax` is this product's, `no` when the definitions'.
pub const INSTANCES_MAX_OVERRIDDEN: &str = "Updates.InstancesMaxOverridden";
/// `[Updates] Source=`: a mirror URL or a local folder (empty: the definitions' source).
pub const SOURCE: &str = "Updates.Source";
/// `[Updates] AutomaticCheck=`: `yes` or `no`.
pub const AUTOMATIC_CHECK: &str = "Updates.AutomaticCheck";
/// `[Updates] AutomaticDownload=`: `yes` or `no`.
pub const AUTOMATIC_DOWNLOAD: &str = "Updates.AutomaticDownload";
/// `[Updates] PausedUntil=`: an RFC 3339 time (empty: not paused).
pub const PAUSED_UNTIL: &str = "Updates.PausedUntil";
/// `[Restart] Behaviour=`: `notify` or `quiet`.
pub const RESTART_BEHAVIOUR: &str = "Restart.Behaviour";
/// `[Download] StallTimeoutSec=`.
pub const STALL_TIMEOUT_SEC: &str = "Download.StallTimeoutSec";
/// `[Download] MinRateBytesPerSec=`.
pub const MIN_RATE_BYTES_PER_SEC: &str = "Download.MinRateBytesPerSec";
/// `[Download] DeadlineSec=`.
pub const DEADLINE_SEC: &str = "Download.DeadlineSec";
/// `[Delta] Store=`: where a delta update fetches its chunks (see [`DeltaStore`]).
pub const DELTA_STORE: &str = "Delta.Store";
/// `[Policy] AutomaticInstall=`: an automatic download also stages the version.
pub const POLICY_AUTOMATIC_INSTALL: &str = "Policy.AutomaticInstall";
/// `[Policy] Restart=`: `never`, `window` or `immediate`.
pub const POLICY_RESTART: &str = "Policy.Restart";
/// `[Policy] Windows=`: maintenance windows, `;`-separated (`Sat,Sun 02:00 3h Europe/Berlin`).
pub const POLICY_WINDOWS: &str = "Policy.Windows";
/// `[Policy] UseLogindMaintenanceTime=`: logind's `DesignatedMaintenanceTime=` is a window.
pub const POLICY_USE_LOGIND_MAINTENANCE_TIME: &str = "Policy.UseLogindMaintenanceTime";
/// `[Policy] DownloadOnMetered=`: automatic downloads on a metered connection.
pub const POLICY_DOWNLOAD_ON_METERED: &str = "Policy.DownloadOnMetered";
/// `[Policy] MinBatteryPercent=`: no automatic download on battery below this (0: any).
pub const POLICY_MIN_BATTERY_PERCENT: &str = "Policy.MinBatteryPercent";
/// `[Policy] WaitForSessions=`: people logged in hold an automatic restart.
pub const POLICY_WAIT_FOR_SESSIONS: &str = "Policy.WaitForSessions";
/// `[Policy] WaitForGpuJobs=`: GPU compute work holds an automatic restart.
pub const POLICY_WAIT_FOR_GPU_JOBS: &str = "Policy.WaitForGpuJobs";
/// `[Policy] BusyCommand=`: a site's program; exit status 0: the machine may restart now.
pub const POLICY_BUSY_COMMAND: &str = "Policy.BusyCommand";
/// `[Policy] MaxPostponeHours=`: after this long waiting, the administrator is told loudly.
pub const POLICY_MAX_POSTPONE_HOURS: &str = "Policy.MaxPostponeHours";
/// `[Policy] CheckIntervalHours=`: the automatic path asks the sources at most this often.
pub const POLICY_CHECK_INTERVAL_HOURS: &str = "Policy.CheckIntervalHours";

/// When the machine restarts into a staged version by itself (`[Policy] Restart=`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestartWhen {
    /// Never: a person restarts (the default).
    #[default]
    Never,
    /// In a maintenance window, when nothing blocks.
    Window,
    /// As soon as nothing blocks.
    Immediate,
}

impl RestartWhen {
    /// Reads `never`, `window` or `immediate`.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "never" => Some(Self::Never),
            "window" => Some(Self::Window),
            "immediate" => Some(Self::Immediate),
            _ => None,
        }
    }

    /// As written in the settings.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Never => "never",
            Self::Window => "window",
            Self::Immediate => "immediate",
        }
    }
}

/// The policy part of the settings (`[Policy]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// An automatic download also stages the version.
    pub automatic_install: bool,
    /// When to restart by itself.
    pub restart: RestartWhen,
    /// Maintenance windows, as written.
    pub windows: String,
    /// logind's `DesignatedMaintenanceTime=` counts as a window.
    pub use_logind_maintenance_time: bool,
    /// Automatic downloads on metered connections.
    pub download_on_metered: bool,
    /// No automatic download on battery below this percentage.
    pub min_battery_percent: u64,
    /// People logged in hold an automatic restart.
    pub wait_for_sessions: bool,
    /// GPU compute work holds an automatic restart.
    pub wait_for_gpu_jobs: bool,
    /// The site's busy command (empty: none).
    pub busy_command: String,
    /// Hours after which waiting is reported loudly.
    pub max_postpone_hours: u64,
    /// Hours between automatic checks.
    pub check_interval_hours: u64,
}

/// What to do when a required health check fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnFailure {
    /// Leave the boot unblessed: systemd-boot falls back once the tries run out.
    #[default]
    Wait,
    /// Mark this boot's entry bad and reboot into the previous version at once.
    RebootPrevious,
}

impl OnFailure {
    /// The value as the settings file spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Wait => "wait",
            Self::RebootPrevious => "reboot-previous",
        }
    }
}

/// How the desktop tells the person that a staged version waits for a restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RestartBehaviour {
    /// A notification with "Restart now", and the tray icon.
    #[default]
    Notify,
    /// Only the tray icon and the window say so; no notification.
    Quiet,
}

impl RestartBehaviour {
    /// The value as the settings file spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Notify => "notify",
            Self::Quiet => "quiet",
        }
    }
}

/// Where a delta update fetches the chunks no installed version has (`[Delta] Store=`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum DeltaStore {
    /// Empty: the chunk store `store/` beside the images on the mirror (KDE Linux's layout),
    /// then range requests of the image, then the whole image.
    #[default]
    Beside,
    /// `ranges`: no store; range requests of the image on the mirror.
    Ranges,
    /// `off`: always the whole image.
    Off,
    /// A chunk store at this URL (`https://.../store/`).
    Url(String),
    /// A chunk store in this local folder (a stick at an air-gapped site).
    Folder(String),
}

impl DeltaStore {
    /// Reads a value of `Delta.Store`; text this client does not read counts as the default
    /// (the helper refuses it when it is set).
    pub fn parse(value: &str) -> Self {
        match value.trim() {
            "ranges" => Self::Ranges,
            "off" => Self::Off,
            url if url.starts_with("https://") || url.starts_with("http://") => {
                Self::Url(url.to_string())
            }
            folder if folder.starts_with('/') => Self::Folder(folder.to_string()),
            _ => Self::Beside,
        }
    }

    /// The value as the settings file spells it (empty for the default).
    pub fn value(&self) -> &str {
        match self {
            Self::Beside => "",
            Self::Ranges => "ranges",
            Self::Off => "off",
            Self::Url(text) | Self::Folder(text) => text,
        }
    }

    /// Which kind of value it is, for a form that offers them as choices: `default`,
    /// `ranges`, `off`, `url` or `folder`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Beside => "default",
            Self::Ranges => "ranges",
            Self::Off => "off",
            Self::Url(_) => "url",
            Self::Folder(_) => "folder",
        }
    }
}

/// The settings, typed. A key that is missing or holds text this client does not read counts
/// as its default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// How long each health check may run, in seconds.
    pub health_timeout_secs: u64,
    /// What to do when a required health check fails.
    pub on_failure: OnFailure,
    /// The download bandwidth limit, in bytes per second (`None`: as fast as the link goes).
    pub max_rate_bytes_per_sec: Option<u64>,
    /// How many versions to keep (the definitions' count unless overridden; `None`: unknown).
    pub instances_max: Option<u64>,
    /// Whether `instances_max` is this product's setting rather than the definitions' own.
    pub instances_max_overridden: bool,
    /// A mirror URL or a local folder (empty: the definitions' source).
    pub source: String,
    /// Whether the daily timer asks the update sources.
    pub automatic_check: bool,
    /// Whether an automatic check that finds an update also downloads and stages it.
    pub automatic_download: bool,
    /// No automatic check or download before this RFC 3339 time (empty: not paused).
    pub paused_until: String,
    /// How the desktop tells about a staged version.
    pub restart_behaviour: RestartBehaviour,
    /// Seconds without a byte after which a download breaks off and resumes.
    pub stall_timeout_secs: Option<u64>,
    /// A download slower than this, in bytes per second, breaks off and resumes.
    pub min_rate_bytes_per_sec: Option<u64>,
    /// The longest one download job may take, in seconds.
    pub deadline_secs: Option<u64>,
    /// Where a delta update fetches its chunks.
    pub delta_store: DeltaStore,
    /// When the machine downloads, stages and restarts by itself.
    pub policy: Policy,
}

impl Default for Settings {
    /// The defaults the helper writes.
    fn default() -> Self {
        Self::from_map(&HashMap::new())
    }
}

impl Settings {
    /// Reads a `GetSettings` map (or one with edits over it).
    pub fn from_map<S: std::hash::BuildHasher>(map: &HashMap<String, String, S>) -> Self {
        Self::from_lookup(|key| map.get(key).map(String::as_str))
    }

    /// Reads the settings from `lookup`, which gives the text of a key.
    pub fn from_lookup<'a>(lookup: impl Fn(&str) -> Option<&'a str>) -> Self {
        let text = |key: &str| lookup(key).unwrap_or_default();
        let number = |key: &str| text(key).parse::<u64>().ok();
        Self {
            health_timeout_secs: number(HEALTH_TIMEOUT_SEC).unwrap_or(60),
            on_failure: match text(HEALTH_ON_FAILURE) {
                "reboot-previous" => OnFailure::RebootPrevious,
                _ => OnFailure::Wait,
            },
            max_rate_bytes_per_sec: number(MAX_RATE_BYTES_PER_SEC).filter(|r| *r > 0),
            instances_max: number(INSTANCES_MAX),
            instances_max_overridden: text(INSTANCES_MAX_OVERRIDDEN) == "yes",
            source: text(SOURCE).to_string(),
            automatic_check: text(AUTOMATIC_CHECK) != "no",
            automatic_download: text(AUTOMATIC_DOWNLOAD) == "yes",
            paused_until: text(PAUSED_UNTIL).to_string(),
            restart_behaviour: match text(RESTART_BEHAVIOUR) {
                "quiet" => RestartBehaviour::Quiet,
                _ => RestartBehaviour::Notify,
            },
            stall_timeout_secs: number(STALL_TIMEOUT_SEC),
            min_rate_bytes_per_sec: number(MIN_RATE_BYTES_PER_SEC),
            deadline_secs: number(DEADLINE_SEC),
            delta_store: DeltaStore::parse(text(DELTA_STORE)),
            policy: Policy {
                automatic_install: text(POLICY_AUTOMATIC_INSTALL) != "no",
                restart: RestartWhen::parse(text(POLICY_RESTART)).unwrap_or_default(),
                windows: text(POLICY_WINDOWS).to_string(),
                use_logind_maintenance_time: text(POLICY_USE_LOGIND_MAINTENANCE_TIME) != "no",
                download_on_metered: text(POLICY_DOWNLOAD_ON_METERED) == "yes",
                min_battery_percent: number(POLICY_MIN_BATTERY_PERCENT).unwrap_or(30),
                wait_for_sessions: text(POLICY_WAIT_FOR_SESSIONS) != "no",
                wait_for_gpu_jobs: text(POLICY_WAIT_FOR_GPU_JOBS) != "no",
                busy_command: text(POLICY_BUSY_COMMAND).to_string(),
                max_postpone_hours: number(POLICY_MAX_POSTPONE_HOURS).unwrap_or(72),
                check_interval_hours: number(POLICY_CHECK_INTERVAL_HOURS).unwrap_or(24),
            },
        }
    }

    /// Whether automatic updates are paused at `now`.
    pub fn paused_at(&self, now: chrono::DateTime<chrono::Utc>) -> bool {
        chrono::DateTime::parse_from_rfc3339(&self.paused_until).is_ok_and(|until| now < until)
    }
}

/// Asks the helper for the settings.
pub async fn read(proxy: &crate::UpdateCenterProxy<'_>) -> Result<Settings, crate::Error> {
    Ok(Settings::from_map(&proxy.get_settings().await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pause_holds_until_its_time_and_an_unreadable_one_is_none() {
        let at = |t: &str| {
            chrono::DateTime::parse_from_rfc3339(t)
                .expect("time")
                .with_timezone(&chrono::Utc)
        };
        let paused = Settings {
            paused_until: "2026-11-30T08:00:00Z".into(),
            ..Settings::default()
        };
        assert!(paused.paused_at(at("2026-11-30T07:59:59Z")));
        assert!(!paused.paused_at(at("2026-11-30T08:00:00Z")));
        assert!(!Settings::default().paused_at(at("2026-11-30T07:00:00Z")));
        let garbled = Settings {
            paused_until: "tomorrow".into(),
            ..Settings::default()
        };
        assert!(!garbled.paused_at(at("2026-11-30T07:00:00Z")));
    }

    #[test]
    fn the_helpers_map_is_read_into_fields() {
        let map: HashMap<String, String> = [
            (HEALTH_TIMEOUT_SEC, "90"),
            (HEALTH_ON_FAILURE, "reboot-previous"),
            (MAX_RATE_BYTES_PER_SEC, "500000"),
            (INSTANCES_MAX, "3"),
            (INSTANCES_MAX_OVERRIDDEN, "yes"),
            (SOURCE, "https://mirror.example.org/"),
            (AUTOMATIC_CHECK, "no"),
            (AUTOMATIC_DOWNLOAD, "yes"),
            (PAUSED_UNTIL, "2026-11-30T08:00:00Z"),
            (RESTART_BEHAVIOUR, "quiet"),
            (STALL_TIMEOUT_SEC, "30"),
            (MIN_RATE_BYTES_PER_SEC, "1000"),
            (DEADLINE_SEC, "21600"),
            (DELTA_STORE, "/media/stick/store/"),
            (POLICY_AUTOMATIC_INSTALL, "no"),
            (POLICY_RESTART, "window"),
            (POLICY_WINDOWS, "Sat 02:00 3h UTC"),
            (POLICY_USE_LOGIND_MAINTENANCE_TIME, "no"),
            (POLICY_DOWNLOAD_ON_METERED, "yes"),
            (POLICY_MIN_BATTERY_PERCENT, "50"),
            (POLICY_WAIT_FOR_SESSIONS, "no"),
            (POLICY_WAIT_FOR_GPU_JOBS, "no"),
            (POLICY_BUSY_COMMAND, "/usr/local/bin/busy"),
            (POLICY_MAX_POSTPONE_HOURS, "168"),
            (POLICY_CHECK_INTERVAL_HOURS, "6"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let settings = Settings::from_map(&map);
        assert_eq!(
            settings,
            Settings {
                health_timeout_secs: 90,
                on_failure: OnFailure::RebootPrevious,
                max_rate_bytes_per_sec: Some(500_000),
                instances_max: Some(3),
                instances_max_overridden: true,
                source: "https://mirror.example.org/".into(),
                automatic_check: false,
                automatic_download: true,
                paused_until: "2026-11-30T08:00:00Z".into(),
                restart_behaviour: RestartBehaviour::Quiet,
                stall_timeout_secs: Some(30),
                min_rate_bytes_per_sec: Some(1000),
                deadline_secs: Some(21_600),
                delta_store: DeltaStore::Folder("/media/stick/store/".into()),
                policy: Policy {
                    automatic_install: false,
                    restart: RestartWhen::Window,
                    windows: "Sat 02:00 3h UTC".into(),
                    use_logind_maintenance_time: false,
                    download_on_metered: true,
                    min_battery_percent: 50,
                    wait_for_sessions: false,
                    wait_for_gpu_jobs: false,
                    busy_command: "/usr/local/bin/busy".into(),
                    max_postpone_hours: 168,
                    check_interval_hours: 6,
                },
            }
        );
        assert_eq!(settings.on_failure.as_str(), "reboot-previous");
        assert_eq!(settings.restart_behaviour.as_str(), "quiet");
    }

    #[test]
    fn missing_and_unreadable_values_are_the_defaults() {
        let map: HashMap<String, String> = [
            (MAX_RATE_BYTES_PER_SEC, ""),
            (INSTANCES_MAX, "many"),
            (RESTART_BEHAVIOUR, "loud"),
            (DELTA_STORE, "sometimes"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let settings = Settings::from_map(&map);
        assert_eq!(settings.health_timeout_secs, 60);
        assert_eq!(settings.on_failure, OnFailure::Wait);
        assert_eq!(settings.max_rate_bytes_per_sec, None);
        assert_eq!(settings.instances_max, None);
        assert!(!settings.instances_max_overridden);
        assert!(settings.automatic_check);
        assert!(!settings.automatic_download);
        assert_eq!(settings.restart_behaviour, RestartBehaviour::Notify);
        assert_eq!(settings.delta_store, DeltaStore::Beside);
        assert_eq!(settings.policy.restart, RestartWhen::Never);
        assert!(settings.policy.automatic_install && settings.policy.wait_for_sessions);
        assert_eq!(settings.policy.min_battery_percent, 30);
        assert_eq!(settings.policy.check_interval_hours, 24);
        assert_eq!(settings, Settings::default());
    }

    #[test]
    fn every_delta_store_value_reads_back_as_itself() {
        for (value, store, kind) in [
            ("", DeltaStore::Beside, "default"),
            ("ranges", DeltaStore::Ranges, "ranges"),
            ("off", DeltaStore::Off, "off"),
            (
                "https://mirror.example.org/kde-linux/store/",
                DeltaStore::Url("https://mirror.example.org/kde-linux/store/".into()),
                "url",
            ),
            (
                "http://10.0.0.1/store/",
                DeltaStore::Url("http://10.0.0.1/store/".into()),
                "url",
            ),
            (
                "/media/stick/store",
                DeltaStore::Folder("/media/stick/store".into()),
                "folder",
            ),
        ] {
            let read = DeltaStore::parse(value);
            assert_eq!(read, store, "{value:?}");
            assert_eq!(read.value(), value, "{value:?} round trip");
            assert_eq!(read.kind(), kind, "{value:?}");
            let map: HashMap<String, String> =
                [(DELTA_STORE.to_string(), value.to_string())].into();
            assert_eq!(Settings::from_map(&map).delta_store, store);
        }
        // Whitespace around a value is the helper's to refuse or trim, not a different value.
        assert_eq!(DeltaStore::parse(" off "), DeltaStore::Off);
    }
}
