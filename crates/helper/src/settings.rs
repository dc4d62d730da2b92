//! The administrator's settings: `/etc/update-center/update-center.conf`, an INI file like the
//! sysupdate.d definitions. Unknown keys and bad values are errors naming the file and line,
//! so that a typo never silently falls back to a default.

use crate::ini;
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
    pub max_rate: Option<u64>,
}

/// The settings keys, as `Section.Key`, for the API and the CLI.
pub const KEYS: [&str; 3] = [
    "Health.TimeoutSec",
    "Health.OnFailure",
    "Updates.MaxRateBytesPerSec",
];

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
                self.max_rate.map(|r| r.to_string()).unwrap_or_default(),
            ),
        ]
        .into_iter()
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
    if value.contains(['\n', '\r']) || value.len() > 64 {
        return Err(invalid("a value is one short line".into()));
    }
    let (section, name) = key.split_once('.').unwrap_or_default();
    let path = root.join(FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(SettingsError::Io {
                file: shown,
                source,
            });
        }
    };
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
    crate::transaction::write_atomically(&path, new_text.as_bytes()).map_err(|source| {
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
            max_rate: None,
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

/// Reads the settings of the system under `root` (defaults when there is no file).
pub fn load(root: &Path) -> Result<Settings, SettingsError> {
    let shown = Path::new("/").join(FILE);
    let text = match std::fs::read_to_string(root.join(FILE)) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Settings::default()),
        Err(source) => {
            return Err(SettingsError::Io {
                file: shown,
                source,
            });
        }
    };
    parse(&shown, &text)
}

fn parse(shown: &Path, text: &str) -> Result<Settings, SettingsError> {
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
            ("Health", "OnFailure") => {
                settings.on_failure = match a.value.trim() {
                    "wait" => OnFailure::Wait,
                    "reboot-previous" => OnFailure::RebootPrevious,
                    _ => return Err(invalid("expected wait or reboot-previous")),
                }
            }
            ("Updates", "MaxRateBytesPerSec") => {
                settings.max_rate = match a.value.trim() {
                    "" => None,
                    v => Some(
                        v.parse::<u64>()
                            .ok()
                            .filter(|r| *r >= 1024)
                            .ok_or_else(|| invalid("expected bytes per second, 1024 or more"))?,
                    ),
                }
            }
            _ => return Err(invalid("unknown setting")),
        }
    }
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(text: &str) -> Result<Settings, SettingsError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join(FILE);
        std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        std::fs::write(&file, text).expect("write");
        load(dir.path())
    }

    #[test]
    fn settings_are_read_and_typos_are_errors() {
        let s = with("[Health]\nTimeoutSec=5\nOnFailure=reboot-previous\n").expect("valid");
        assert_eq!(s.health_timeout, Duration::from_secs(5));
        assert_eq!(s.on_failure, OnFailure::RebootPrevious);
        let e = with("[Health]\nTimeoutSecs=5\n").expect_err("typo");
        assert!(
            e.to_string().contains(":2: [Health] TimeoutSecs=: unknown"),
            "{e}"
        );
        let e = with("[Health]\nOnFailure=panic\n").expect_err("value");
        assert!(
            e.to_string().contains("expected wait or reboot-previous"),
            "{e}"
        );
        assert_eq!(
            load(Path::new("/nonexistent")).expect("defaults"),
            Settings::default()
        );
    }

    #[test]
    fn set_keeps_other_lines_checks_values_and_resets() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join(FILE);
        std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        std::fs::write(&file, "# ours\n[Health]\nTimeoutSec=5\n").expect("write");
        let s = set(dir.path(), "Health.OnFailure", "reboot-previous").expect("set");
        assert_eq!(s.on_failure, OnFailure::RebootPrevious);
        assert_eq!(s.health_timeout, Duration::from_secs(5));
        set(dir.path(), "Updates.MaxRateBytesPerSec", "1000000").expect("set");
        let text = std::fs::read_to_string(&file).expect("read");
        assert!(text.starts_with("# ours\n[Health]\n"), "{text}");
        assert_eq!(load(dir.path()).expect("load").max_rate, Some(1_000_000));
        let e = set(dir.path(), "Health.TimeoutSec", "forever").expect_err("value");
        assert!(e.to_string().contains("whole seconds"), "{e}");
        let e = set(dir.path(), "Health.Colour", "red").expect_err("key");
        assert!(e.to_string().contains("unknown setting"), "{e}");
        assert_eq!(
            std::fs::read_to_string(&file).expect("read"),
            text,
            "refused: unchanged"
        );
        set(dir.path(), "Health.TimeoutSec", "").expect("reset");
        assert_eq!(
            load(dir.path()).expect("load").health_timeout,
            Duration::from_secs(60)
        );
    }
}
