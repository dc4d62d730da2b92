//! The badges of an installed version (running, default, on trial, failed, pinned, held back,
//! ...), derived from the snapshot alone: what the GUI and the CLI show.

use crate::SystemState;
use crate::installed::boot;
use crate::installed::inventory::InstalledVersion;
use serde::Serialize;

/// A state a version can be in; a version can be in several at once. The GUI and the CLI show
/// exactly these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum VersionState {
    /// It is the version running now (`IMAGE_VERSION` of the booted root).
    Running,
    /// Its boot entry is the one systemd-boot boots by default.
    Default,
    /// Its boot entry is `LoaderEntryOneShot`: it boots next time, once.
    NextBootOnce,
    /// Its boot entry carries a boot counter with tries left: it is on trial until blessed.
    OnTrial {
        /// Tries left.
        tries_left: u64,
        /// Tries done.
        tries_done: u64,
    },
    /// Its boot entry has no tries left: it failed to boot, and sorts last.
    Failed {
        /// Tries done.
        tries: u64,
    },
    /// Pinned: never removed.
    Pinned,
    /// Named by `ProtectVersion=` (and not running): never removed.
    Protected,
    /// Not staged again automatically (rolled back from, or failed).
    HeldBack,
    /// Some transfer has no file of it: it cannot boot and is not offered as a choice.
    Incomplete {
        /// The transfers without a file.
        missing: Vec<String>,
    },
    /// Older than `MinVersion=`.
    Obsolete,
}

impl VersionState {
    /// Its name, as in the `state` field of its JSON.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Default => "default",
            Self::NextBootOnce => "next-boot-once",
            Self::OnTrial { .. } => "on-trial",
            Self::Failed { .. } => "failed",
            Self::Pinned => "pinned",
            Self::Protected => "protected",
            Self::HeldBack => "held-back",
            Self::Incomplete { .. } => "incomplete",
            Self::Obsolete => "obsolete",
        }
    }

    /// Words for a person.
    pub fn describe(&self) -> String {
        match self {
            Self::Running => "running".into(),
            Self::Default => "default".into(),
            Self::NextBootOnce => "boots next, once".into(),
            Self::OnTrial {
                tries_left,
                tries_done,
            } => format!("on trial: {tries_left} tries left, {tries_done} done"),
            Self::Failed { tries } => format!("failed to boot ({tries} tries)"),
            Self::Pinned => "pinned".into(),
            Self::Protected => "protected".into(),
            Self::HeldBack => "held back".into(),
            Self::Incomplete { missing } => format!("incomplete: missing {}", missing.join(", ")),
            Self::Obsolete => "obsolete".into(),
        }
    }
}

/// The states of an installed version, derived from the inventory (files and names), the boot
/// loader's settings and the helper's state file.
pub fn states(system: &SystemState, v: &InstalledVersion) -> Vec<VersionState> {
    let mut out = Vec::new();
    if v.booted {
        out.push(VersionState::Running);
    }
    if v.default {
        out.push(VersionState::Default);
    }
    let entry = system.boot.entry_of(&v.version);
    if let Some(entry) = entry
        && system
            .boot
            .oneshot
            .as_deref()
            .is_some_and(|p| boot::glob_match(p, &entry.id))
        && system.boot.next_version() == Some(v.version.as_str())
    {
        out.push(VersionState::NextBootOnce);
    }
    match entry.map(|e| (e.tries_left, e.tries_done)) {
        Some((Some(0), done)) => out.push(VersionState::Failed {
            tries: done.unwrap_or(0),
        }),
        Some((Some(left), done)) => out.push(VersionState::OnTrial {
            tries_left: left,
            tries_done: done.unwrap_or(0),
        }),
        _ => {}
    }
    if v.pinned {
        out.push(VersionState::Pinned);
    }
    if v.protected && !v.booted {
        out.push(VersionState::Protected);
    }
    if system.lifecycle.held_back.contains(&v.version) {
        out.push(VersionState::HeldBack);
    }
    if !v.complete {
        out.push(VersionState::Incomplete {
            missing: v.missing_transfers.clone(),
        });
    }
    if v.obsolete {
        out.push(VersionState::Obsolete);
    }
    out
}
