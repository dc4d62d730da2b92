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
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            health_timeout: Duration::from_secs(60),
            on_failure: OnFailure::Wait,
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
    let mut settings = Settings::default();
    for a in ini::parse(&shown, &text)? {
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
}
