//! The settings file read key by key: each value checked, with what is allowed said when it is
//! not.

use super::*;

pub(super) fn parse(shown: &Path, text: &str) -> Result<Settings, SettingsError> {
    let mut settings = Settings::default();
    for a in ini::parse(shown, text)? {
        let invalid = |message: &str| SettingsError::Invalid {
            file: a.file.clone(),
            line: a.line,
            section: a.section.clone(),
            key: a.key.clone(),
            message: message.to_string(),
        };
        match (a.section.as_str(), a.key.as_str()) {
            ("Health", "TimeoutSec") => {
                let secs: u64 = a
                    .value
                    .trim()
                    .parse()
                    .ok()
                    .filter(|s| (1..=3600).contains(s))
                    .ok_or_else(|| invalid("expected whole seconds from 1 to 3600"))?;
                settings.health_timeout = Duration::from_secs(secs);
            }
            ("Download", "StallTimeoutSec") => {
                settings.stall_timeout = Duration::from_secs(
                    a.value
                        .trim()
                        .parse()
                        .ok()
                        .filter(|s| (1..=3600).contains(s))
                        .ok_or_else(|| invalid("expected whole seconds from 1 to 3600"))?,
                );
            }
            ("Download", "MinRateBytesPerSec") => {
                settings.min_rate = a
                    .value
                    .trim()
                    .parse()
                    .ok()
                    .ok_or_else(|| invalid("expected bytes per second (0: no minimum)"))?;
            }
            ("Download", "DeadlineSec") => {
                settings.deadline = Duration::from_secs(
                    a.value
                        .trim()
                        .parse()
                        .ok()
                        .filter(|s| (60..=7 * 86_400).contains(s))
                        .ok_or_else(|| invalid("expected whole seconds from 60 to 604800"))?,
                );
            }
            ("Health", "OnFailure") => {
                settings.on_failure = match a.value.trim() {
                    "wait" => OnFailure::Wait,
                    "reboot-previous" => OnFailure::RebootPrevious,
                    _ => return Err(invalid("expected wait or reboot-previous")),
                }
            }
            ("Updates", "MaxRateBytesPerSec") => {
                settings.max_rate_bytes_per_sec = match a.value.trim() {
                    "" => None,
                    v => Some(
                        v.parse::<u64>()
                            .ok()
                            .filter(|r| *r >= 1024)
                            .ok_or_else(|| invalid("expected bytes per second, 1024 or more"))?,
                    ),
                }
            }
            ("Updates", "AutomaticCheck") => {
                settings.automatic_check =
                    parse_bool(&a.value).ok_or_else(|| invalid("expected yes or no"))?;
            }
            ("Updates", "AutomaticDownload") => {
                settings.automatic_download =
                    parse_bool(&a.value).ok_or_else(|| invalid("expected yes or no"))?;
            }
            ("Updates", "PausedUntil") => {
                settings.paused_until = match a.value.trim() {
                    "" => None,
                    v => Some(
                        chrono::DateTime::parse_from_rfc3339(v)
                            .map_err(|_| {
                                invalid("expected a time like 2026-11-27T09:00:00Z, or nothing")
                            })?
                            .with_timezone(&chrono::Utc),
                    ),
                }
            }
            ("Restart", "Behaviour") => {
                settings.restart = match a.value.trim() {
                    "notify" => RestartBehaviour::Notify,
                    "quiet" => RestartBehaviour::Quiet,
                    _ => return Err(invalid("expected notify or quiet")),
                }
            }
            ("Delta", "Store") => {
                settings.delta_store = DeltaStore::parse(&a.value).map_err(invalid)?;
            }
            ("Policy", "AutomaticInstall") => {
                settings.policy.automatic_install =
                    parse_bool(&a.value).ok_or_else(|| invalid("expected yes or no"))?;
            }
            ("Policy", "Restart") => {
                settings.policy.restart = RestartWhen::parse(&a.value)
                    .ok_or_else(|| invalid("expected never, window or immediate"))?;
            }
            ("Policy", "Windows") => {
                let text = a.value.trim();
                let windows = text
                    .split(';')
                    .map(str::trim)
                    .filter(|w| !w.is_empty())
                    .map(crate::policy::window::Window::parse)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| {
                        invalid(&format!(
                            "{e} (a window is written like `Sat,Sun 02:00 3h Europe/Berlin`; several are separated by `;`)"
                        ))
                    })?;
                settings.policy.windows = crate::policy::window::Windows::new(windows);
                settings.policy.windows_text = text.to_string();
            }
            ("Policy", "UseLogindMaintenanceTime") => {
                settings.policy.logind_maintenance =
                    parse_bool(&a.value).ok_or_else(|| invalid("expected yes or no"))?;
            }
            ("Policy", "DownloadOnMetered") => {
                settings.policy.download_on_metered =
                    parse_bool(&a.value).ok_or_else(|| invalid("expected yes or no"))?;
            }
            ("Policy", "MinBatteryPercent") => {
                settings.policy.min_battery_percent = a
                    .value
                    .trim()
                    .parse::<u8>()
                    .ok()
                    .filter(|p| *p <= 100)
                    .ok_or_else(|| invalid("expected a percentage from 0 (any charge) to 100"))?;
            }
            ("Policy", "WaitForSessions") => {
                settings.policy.wait_for_sessions =
                    parse_bool(&a.value).ok_or_else(|| invalid("expected yes or no"))?;
            }
            ("Policy", "WaitForGpuJobs") => {
                settings.policy.wait_for_gpu_jobs =
                    parse_bool(&a.value).ok_or_else(|| invalid("expected yes or no"))?;
            }
            ("Policy", "BusyCommand") => {
                let command = a.value.trim();
                settings.policy.busy_command = match command {
                    "" => None,
                    c if c.starts_with('/') && !c.chars().any(|ch| ch.is_control()) => {
                        Some(c.to_string())
                    }
                    _ => {
                        return Err(invalid(
                            "expected the absolute path of a program (exit status 0: the machine may restart now)",
                        ));
                    }
                };
            }
            ("Policy", "MaxPostponeHours") => {
                settings.policy.max_postpone_hours = a
                    .value
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|h| *h <= 24 * 365)
                    .ok_or_else(|| invalid("expected whole hours up to a year (0: never warn)"))?;
            }
            ("Policy", "CheckIntervalHours") => {
                settings.check_interval_hours = a
                    .value
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|h| (1..=24 * 30).contains(h))
                    .ok_or_else(|| invalid("expected whole hours from 1 to 720"))?;
            }
            ("Fleet", key) => settings
                .fleet
                .parse(key, &a.value)
                .map_err(|m| invalid(&m))?,
            _ => return Err(invalid("unknown setting")),
        }
    }
    Ok(settings)
}
