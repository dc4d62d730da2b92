//! Getting back: rollback (or boot once) to any complete installed version, pins, the record of
//! each boot and the detection of an automatic fallback. The state that outlives a boot (pins,
//! versions held back, the fallback flag) is one JSON file written atomically.
//!
//! What a rollback does, decided here and documented in `docs/lifecycle.md`:
//! - the chosen version's boot entry becomes the default, through `LoaderEntryDefault` when
//!   efivarfs is there (as `bootctl set-default`), otherwise through `loader.conf`;
//! - newer versions stay installed, but are *held back*: an automatic update does not stage
//!   them again (even after they are removed); naming one installs it again, and a version
//!   newer than all of them is staged as usual;
//! - rolling forward is the same operation on a newer version; the next update that installs
//!   a version hands the choice back to systemd-boot (the explicit default is removed), so that
//!   the new version boots on trial and falls back by itself if it fails.

use crate::SystemState;
use crate::installed::boot::{self, Boot, Var};
use crate::installed::inventory::Layout;
use crate::record::history::{self, Event};
use serde::Serialize;
use std::path::PathBuf;

pub use crate::record::statefile::{
    Fallback, LifecycleError, LifecycleState, STATE_FILE, StateLock, load, lock_state, save,
};

fn installed<'a>(
    system: &'a SystemState,
    version: &str,
) -> Result<&'a crate::installed::inventory::InstalledVersion, LifecycleError> {
    system
        .inventory
        .versions
        .iter()
        .find(|v| v.version == version)
        .ok_or_else(|| LifecycleError::NotInstalled(version.to_string()))
}

/// Pins (or unpins) an installed version.
pub fn set_pinned(
    layout: &Layout,
    system: &SystemState,
    version: &str,
    pinned: bool,
) -> Result<bool, LifecycleError> {
    let _lock = lock_state(layout)?;
    let mut state = load(layout)?;
    if pinned {
        installed(system, version)?;
    }
    let changed = if pinned {
        state.pinned.insert(version.to_string())
    } else {
        state.pinned.remove(version)
    };
    if changed {
        save(layout, &state)?;
        let version = version.to_string();
        history::append(
            &layout.state_dir(),
            &if pinned {
                Event::Pinned { version }
            } else {
                Event::Unpinned { version }
            },
        );
    }
    Ok(changed)
}

/// What a rollback did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rollback {
    /// The version chosen.
    pub version: String,
    /// The entry made the default (or booted once).
    pub entry: String,
    /// Once only (`LoaderEntryOneShot`).
    pub once: bool,
    /// Where the choice was written: `LoaderEntryDefault`, `LoaderEntryOneShot` or
    /// `loader.conf`.
    pub written_to: String,
    /// Newer versions now held back.
    pub held_back: Vec<String>,
}

/// Makes `version` the default boot entry (or the entry of the next boot only, with `once`).
pub fn rollback(
    layout: &Layout,
    system: &SystemState,
    version: &str,
    once: bool,
) -> Result<Rollback, LifecycleError> {
    let target = installed(system, version)?;
    if !target.complete {
        return Err(LifecycleError::Incomplete {
            version: version.to_string(),
            missing: target.missing_transfers.clone(),
        });
    }
    let entry = system
        .boot
        .entry_of(version)
        .ok_or_else(|| LifecycleError::NoBootEntry(version.to_string()))?;
    if entry.bad() {
        return Err(LifecycleError::FailedToBoot {
            version: version.to_string(),
            tries: entry.tries_done.unwrap_or(0),
        });
    }
    let _lock = lock_state(layout)?;
    let mut state = load(layout)?;
    let io = |path: PathBuf| move |source| LifecycleError::Io { path, source };
    let efivar = |var: Var| PathBuf::from(format!("/{}/{var:?}", boot::EFIVARS_DIR));
    let written_to = if once {
        if !system.boot.efivars {
            return Err(LifecycleError::OneShotNeedsEfi);
        }
        boot::write_var(layout, Var::OneShot, Some(&entry.id)).map_err(io(efivar(Var::OneShot)))?;
        "LoaderEntryOneShot"
    } else if system.boot.efivars {
        boot::write_var(layout, Var::Default, Some(&entry.id)).map_err(io(efivar(Var::Default)))?;
        "LoaderEntryDefault"
    } else {
        boot::write_loader_conf_default(layout, Some(&entry.id))
            .map_err(io(PathBuf::from("loader/loader.conf")))?;
        "loader.conf"
    };
    let newer: Vec<String> = system
        .inventory
        .versions
        .iter()
        .filter(|v| crate::format::version::compare(&v.version, version).is_gt())
        .map(|v| v.version.clone())
        .collect();
    if !once {
        state.rollback_default = Some(version.to_string());
        // Rolling forward releases what is no longer newer than the choice.
        state
            .held_back
            .retain(|v| crate::format::version::compare(v, version).is_gt());
        state.held_back.extend(newer.iter().cloned());
    }
    save(layout, &state)?;
    history::append(
        &layout.state_dir(),
        &Event::RolledBack {
            version: version.to_string(),
            once,
        },
    );
    Ok(Rollback {
        version: version.to_string(),
        entry: entry.id.clone(),
        once,
        written_to: written_to.to_string(),
        held_back: if once { Vec::new() } else { newer },
    })
}

/// After an update installed `version`: hand the choice of entry back to systemd-boot (so that
/// the new version boots on trial and can fall back), and stop holding `version` back.
pub fn after_install(layout: &Layout, version: &str) -> Result<(), LifecycleError> {
    let _lock = lock_state(layout)?;
    let mut state = load(layout)?;
    if state.rollback_default.is_none() && !state.held_back.contains(version) {
        return Ok(());
    }
    if state.rollback_default.take().is_some() {
        let io = |path: &str| {
            let path = PathBuf::from(path);
            move |source| LifecycleError::Io { path, source }
        };
        if boot::efivars_present(layout) {
            boot::write_var(layout, Var::Default, None).map_err(io("LoaderEntryDefault"))?;
        }
        if boot::read_loader_conf_default(layout).is_some() {
            boot::write_loader_conf_default(layout, None).map_err(io("loader/loader.conf"))?;
        }
    }
    state.held_back.remove(version);
    save(layout, &state)
}

/// Clears the fallback flag; returns whether there was one.
pub fn acknowledge_fallback(layout: &Layout) -> Result<bool, LifecycleError> {
    let _lock = lock_state(layout)?;
    let mut state = load(layout)?;
    let Some(fallback) = state.fallback.take() else {
        return Ok(false);
    };
    save(layout, &state)?;
    history::append(
        &layout.state_dir(),
        &Event::FallbackAcknowledged {
            failed: fallback.failed,
        },
    );
    Ok(true)
}

/// What [`record_boot`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BootReport {
    /// The version running.
    pub version: Option<String>,
    /// The entry it was booted from (`LoaderEntrySelected`).
    pub entry: Option<String>,
    /// Its tries left, while on trial.
    pub tries_left: Option<u64>,
    /// Its tries done, while on trial.
    pub tries_done: Option<u64>,
    /// Its entry carries no boot counter: blessed as good (or never on trial).
    pub good: bool,
    /// A fallback found by this boot.
    pub fallback: Option<Fallback>,
}

/// Records this boot in the history and finds an automatic fallback: a newer installed version
/// whose boot entry ran out of tries while an older one runs. The fallback is flagged until
/// acknowledged, and the failed version is held back.
pub fn record_boot(layout: &Layout, system: &SystemState) -> Result<BootReport, LifecycleError> {
    let running = system.inventory.booted.clone();
    let boot: &Boot = &system.boot;
    let entry = boot
        .selected
        .as_deref()
        .and_then(|id| boot.entry(id))
        .or_else(|| running.as_deref().and_then(|v| boot.entry_of(v)));
    let _lock = lock_state(layout)?;
    let mut state = load(layout)?;
    let mut found = None;
    if let Some(running) = &running
        && state.rollback_default.as_deref() != Some(running.as_str())
    {
        // The newest failed version newer than the running one.
        let failed = boot
            .entries
            .iter()
            .filter(|e| e.bad())
            .filter_map(|e| Some((e.version.clone()?, e.tries_done.unwrap_or(0))))
            .filter(|(v, _)| crate::format::version::compare(v, running).is_gt())
            .max_by(|a, b| crate::format::version::compare(&a.0, &b.0));
        if let Some((failed, tries)) = failed
            && state.fallback.as_ref().map(|f| &f.failed) != Some(&failed)
        {
            let fallback = Fallback {
                failed: failed.clone(),
                tries,
                running: running.clone(),
                time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            };
            state.held_back.insert(failed);
            state.fallback = Some(fallback.clone());
            found = Some(fallback);
        }
    }
    if found.is_some() {
        save(layout, &state)?;
    }
    let report = BootReport {
        version: running,
        entry: entry.map(|e| e.id.clone()),
        tries_left: entry.and_then(|e| e.tries_left),
        tries_done: entry.and_then(|e| e.tries_done),
        good: entry.is_some_and(|e| e.tries_left.is_none()),
        fallback: found.clone(),
    };
    let dir = layout.state_dir();
    history::append(
        &dir,
        &Event::Booted {
            version: report.version.clone().unwrap_or_default(),
            entry: report.entry.clone().unwrap_or_default(),
            tries_left: report.tries_left,
            tries_done: report.tries_done,
            good: report.good,
        },
    );
    if let Some(f) = found {
        history::append(
            &dir,
            &Event::FallbackDetected {
                failed: f.failed,
                tries: f.tries,
                running: f.running,
            },
        );
    }
    Ok(report)
}

/// For a failed required health check with `OnFailure=reboot-previous`: marks the running
/// version's boot entry bad (as `systemd-bless-boot bad` does, when it is on trial) and makes
/// the newest older complete version with a good entry the entry of the next boot. Returns
/// that version; the caller reboots.
pub fn fall_back_now(layout: &Layout, system: &SystemState) -> Result<String, LifecycleError> {
    let running = system
        .inventory
        .booted
        .clone()
        .ok_or_else(|| LifecycleError::NotInstalled("(the running version)".into()))?;
    let previous = system
        .inventory
        .versions
        .iter()
        .filter(|v| v.complete && crate::format::version::compare(&v.version, &running).is_lt())
        .find(|v| system.boot.entry_of(&v.version).is_some_and(|e| !e.bad()))
        .ok_or_else(|| LifecycleError::NotInstalled("an older complete version".into()))?
        .version
        .clone();
    if let Some(entry) = system.boot.entry_of(&running)
        && entry.tries_left.is_some()
    {
        let bad = entry.path.with_file_name(boot::with_counter(
            &entry.id,
            0,
            entry.tries_done.unwrap_or(0),
        ));
        crate::fsutil::rename_durably(&layout.on_disk(&entry.path), &layout.on_disk(&bad))
            .map_err(|source| LifecycleError::Io {
                path: entry.path.clone(),
                source,
            })?;
    }
    if system.boot.efivars {
        let once = rollback(layout, system, &previous, true)?;
        return Ok(once.version);
    }
    Ok(previous)
}

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
pub fn states(
    system: &SystemState,
    v: &crate::installed::inventory::InstalledVersion,
) -> Vec<VersionState> {
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

#[cfg(test)]
mod tests {
    use super::VersionState;

    #[test]
    fn state_names_are_those_of_the_json() {
        for state in [
            VersionState::Running,
            VersionState::Default,
            VersionState::NextBootOnce,
            VersionState::OnTrial {
                tries_left: 1,
                tries_done: 1,
            },
            VersionState::Failed { tries: 2 },
            VersionState::Pinned,
            VersionState::Protected,
            VersionState::HeldBack,
            VersionState::Incomplete {
                missing: vec!["60-esp".into()],
            },
            VersionState::Obsolete,
        ] {
            let json = serde_json::to_value(&state).expect("JSON");
            assert_eq!(json["state"], state.name());
        }
    }
}
