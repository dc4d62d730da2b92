//! The helper's state file (`state.json` in the state directory): pins, versions held back,
//! the default a rollback chose, an unacknowledged fallback; read with every system snapshot,
//! changed under a lock by the lifecycle operations.

use crate::fsutil::write_atomically;
use crate::layout::{Layout, STATE_DIR};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The state file's name in the state directory.
pub const STATE_FILE: &str = "state.json";

/// An automatic fallback: a version failed to boot and an older one runs instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fallback {
    /// The version that failed to boot.
    pub failed: String,
    /// How many times it was tried.
    pub tries: u64,
    /// The version running instead.
    pub running: String,
    /// When it was found (RFC 3339, UTC).
    pub time: String,
}

impl Fallback {
    /// The sentence the GUI and the CLI show.
    pub fn message(&self) -> String {
        format!(
            "version {} failed to boot {} time{}; running {}",
            self.failed,
            self.tries,
            if self.tries == 1 { "" } else { "s" },
            self.running
        )
    }
}

/// What outlives a boot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LifecycleState {
    /// Versions never removed.
    #[serde(default)]
    pub pinned: BTreeSet<String>,
    /// Versions an automatic update does not stage again (rolled back from, or failed to boot).
    #[serde(default)]
    pub held_back: BTreeSet<String>,
    /// The version a rollback made the default, while that default is in place.
    #[serde(default)]
    pub rollback_default: Option<String>,
    /// An automatic fallback not yet acknowledged.
    #[serde(default)]
    pub fallback: Option<Fallback>,
}

/// Why a lifecycle operation was refused. Nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    /// The version is not installed.
    #[error("version {0} is not installed")]
    NotInstalled(String),
    /// The version lacks files.
    #[error(
        "version {version} is incomplete (it lacks {}): it cannot boot, so it cannot be chosen",
        missing.join(", ")
    )]
    Incomplete {
        /// The version.
        version: String,
        /// Transfers without a file.
        missing: Vec<String>,
    },
    /// The version has no boot entry in the boot menu.
    #[error("version {0} has no boot entry in $BOOT/EFI/Linux")]
    NoBootEntry(String),
    /// The version's boot entry has no tries left.
    #[error(
        "version {version} failed to boot {tries} times; choose another version, or install it again by name"
    )]
    FailedToBoot {
        /// The version.
        version: String,
        /// Tries done.
        tries: u64,
    },
    /// Booting once needs EFI variables.
    #[error(
        "booting a version once needs EFI variables, and efivarfs is not mounted; make it the default instead"
    )]
    OneShotNeedsEfi,
    /// The state file cannot be read.
    #[error("{}: {reason}; move it away to start over (pins and held-back versions are lost)", path.display())]
    BadState {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Writing failed.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

fn state_dir(layout: &Layout) -> PathBuf {
    layout.state_dir()
}

/// Reads the state (empty when there is none yet).
pub fn load(layout: &Layout) -> Result<LifecycleState, LifecycleError> {
    let path = state_dir(layout).join(STATE_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| LifecycleError::BadState {
            path: Path::new("/").join(STATE_DIR).join(STATE_FILE),
            reason: e.to_string(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(LifecycleState::default()),
        Err(e) => Err(LifecycleError::BadState {
            path: Path::new("/").join(STATE_DIR).join(STATE_FILE),
            reason: e.to_string(),
        }),
    }
}

/// Holds the lock of `state.json` while alive.
pub struct StateLock(#[allow(dead_code)] std::fs::File);

/// Takes the lock every change of `state.json` holds from its read to its write (an advisory
/// `flock` on `state.lock`), so that a pin made while an update finishes, or a boot record
/// written while the helper runs, is never lost to the other's older copy.
pub fn lock_state(layout: &Layout) -> Result<StateLock, LifecycleError> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = state_dir(layout);
    let path = dir.join("state.lock");
    let io = |source| LifecycleError::Io {
        path: Path::new("/").join(STATE_DIR).join("state.lock"),
        source,
    };
    crate::fsutil::create_private_dir_all(&dir).map_err(io)?;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(crate::fsutil::PRIVATE_FILE_MODE)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(&path)
        .map_err(io)?;
    rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)
        .map_err(|e| io(e.into()))?;
    Ok(StateLock(file))
}

/// Writes the state atomically.
pub fn save(layout: &Layout, state: &LifecycleState) -> Result<(), LifecycleError> {
    let path = state_dir(layout).join(STATE_FILE);
    let bytes = serde_json::to_vec_pretty(state).unwrap_or_default();
    write_atomically(&path, &bytes).map_err(|source| LifecycleError::Io {
        path: Path::new("/").join(STATE_DIR).join(STATE_FILE),
        source,
    })
}
