//! The lifecycle's decisions, apart from their writing: each takes the system snapshot (and the
//! state file as read under its lock) and says what to write, as a value.

use super::BootReport;
use crate::SystemState;
use crate::format::version::compare;
use crate::installed::boot::{self, Entry};
use crate::installed::inventory::InstalledVersion;
use crate::record::statefile::{Fallback, LifecycleError, LifecycleState};
use std::path::PathBuf;

/// The installed version `version`.
pub fn installed<'a>(
    system: &'a SystemState,
    version: &str,
) -> Result<&'a InstalledVersion, LifecycleError> {
    system
        .inventory
        .versions
        .iter()
        .find(|v| v.version == version)
        .ok_or_else(|| LifecycleError::NotInstalled(version.to_string()))
}

/// The state after pinning (or unpinning) `version`; `None` when it is so already. Only an
/// installed version can be pinned; any can be unpinned.
pub fn pin(
    system: &SystemState,
    state: &LifecycleState,
    version: &str,
    pinned: bool,
) -> Result<Option<LifecycleState>, LifecycleError> {
    let mut next = state.clone();
    let changed = if pinned {
        installed(system, version)?;
        next.pinned.insert(version.to_string())
    } else {
        next.pinned.remove(version)
    };
    Ok(changed.then_some(next))
}

/// Where a rollback writes its choice of entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootChoice {
    /// `LoaderEntryOneShot`: the next boot only.
    OneShot,
    /// `LoaderEntryDefault`, as `bootctl set-default`.
    DefaultVar,
    /// `default` in `loader.conf`, without EFI variables.
    LoaderConf,
}

impl BootChoice {
    /// The name a [`super::Rollback`] reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::OneShot => "LoaderEntryOneShot",
            Self::DefaultVar => "LoaderEntryDefault",
            Self::LoaderConf => "loader.conf",
        }
    }
}

/// What a rollback writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollbackDecision {
    /// The version chosen.
    pub version: String,
    /// The ID of its boot entry.
    pub entry: String,
    /// Once only.
    pub once: bool,
    /// Where the choice is written.
    pub write_to: BootChoice,
    /// Newer installed versions held back from now on (none when once), newest first.
    pub held_back: Vec<String>,
    /// The state to save.
    pub state: LifecycleState,
}

/// The boot entry of `version`, when a rollback may choose it: installed complete, with an
/// entry that has tries left.
pub fn choosable<'a>(system: &'a SystemState, version: &str) -> Result<&'a Entry, LifecycleError> {
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
    Ok(entry)
}

/// A rollback (or roll forward) to `version`: its entry becomes the default, or with `once` the
/// entry of the next boot; a default also holds the newer versions back and releases those no
/// longer newer than the choice.
pub fn rollback(
    system: &SystemState,
    state: &LifecycleState,
    version: &str,
    once: bool,
) -> Result<RollbackDecision, LifecycleError> {
    let entry = choosable(system, version)?;
    let write_to = match (once, system.boot.efivars) {
        (true, false) => return Err(LifecycleError::OneShotNeedsEfi),
        (true, true) => BootChoice::OneShot,
        (false, true) => BootChoice::DefaultVar,
        (false, false) => BootChoice::LoaderConf,
    };
    let mut next = state.clone();
    let mut held_back = Vec::new();
    if !once {
        held_back = system
            .inventory
            .versions
            .iter()
            .filter(|v| compare(&v.version, version).is_gt())
            .map(|v| v.version.clone())
            .collect();
        next.rollback_default = Some(version.to_string());
        next.held_back.retain(|v| compare(v, version).is_gt());
        next.held_back.extend(held_back.iter().cloned());
    }
    Ok(RollbackDecision {
        version: version.to_string(),
        entry: entry.id.clone(),
        once,
        write_to,
        held_back,
        state: next,
    })
}

/// What finishing the installation of a version changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AfterInstall {
    /// A rollback's default is in place: remove it, so that systemd-boot chooses again.
    pub hand_back_default: bool,
    /// The state to save.
    pub state: LifecycleState,
}

/// After `version` is installed: the rollback's default is dropped and `version` is no longer
/// held back; `None` when neither applies.
pub fn after_install(state: &LifecycleState, version: &str) -> Option<AfterInstall> {
    if state.rollback_default.is_none() && !state.held_back.contains(version) {
        return None;
    }
    let mut next = state.clone();
    let hand_back_default = next.rollback_default.take().is_some();
    next.held_back.remove(version);
    Some(AfterInstall {
        hand_back_default,
        state: next,
    })
}

/// The fallback acknowledged and the state without it; `None` when none is flagged.
pub fn acknowledge(state: &LifecycleState) -> Option<(Fallback, LifecycleState)> {
    let mut next = state.clone();
    let fallback = next.fallback.take()?;
    Some((fallback, next))
}

/// What this boot records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootRecord {
    /// The report, with the fallback this boot found.
    pub report: BootReport,
    /// The state to save (the fallback flagged, the failed version held back); `None` when
    /// nothing changes.
    pub state: Option<LifecycleState>,
}

/// The entry this boot came from: `LoaderEntrySelected`, else the running version's.
fn booted_entry(system: &SystemState) -> Option<&Entry> {
    let boot = &system.boot;
    boot.selected
        .as_deref()
        .and_then(|id| boot.entry(id))
        .or_else(|| {
            system
                .inventory
                .booted
                .as_deref()
                .and_then(|v| boot.entry_of(v))
        })
}

/// The fallback this boot reveals: the newest version newer than the running one whose entry
/// has no tries left, unless the running version is a rollback's choice or that fallback is
/// flagged already.
pub fn fallback(system: &SystemState, state: &LifecycleState, time: &str) -> Option<Fallback> {
    let running = system.inventory.booted.as_deref()?;
    if state.rollback_default.as_deref() == Some(running) {
        return None;
    }
    let (failed, tries) = system
        .boot
        .entries
        .iter()
        .filter(|e| e.bad())
        .filter_map(|e| Some((e.version.clone()?, e.tries_done.unwrap_or(0))))
        .filter(|(v, _)| compare(v, running).is_gt())
        .max_by(|a, b| compare(&a.0, &b.0))?;
    if state.fallback.as_ref().map(|f| &f.failed) == Some(&failed) {
        return None;
    }
    Some(Fallback {
        failed,
        tries,
        running: running.to_string(),
        time: time.to_string(),
    })
}

/// This boot: the running version, its entry and boot counter, and a fallback it reveals
/// (found at `time`).
pub fn record_boot(system: &SystemState, state: &LifecycleState, time: &str) -> BootRecord {
    let entry = booted_entry(system);
    let found = fallback(system, state, time);
    let next = found.as_ref().map(|f| {
        let mut next = state.clone();
        next.held_back.insert(f.failed.clone());
        next.fallback = Some(f.clone());
        next
    });
    BootRecord {
        report: BootReport {
            version: system.inventory.booted.clone(),
            entry: entry.map(|e| e.id.clone()),
            tries_left: entry.and_then(|e| e.tries_left),
            tries_done: entry.and_then(|e| e.tries_done),
            good: entry.is_some_and(|e| e.tries_left.is_none()),
            fallback: found,
        },
        state: next,
    }
}

/// What going back at once does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FallBackDecision {
    /// The version booted next.
    pub previous: String,
    /// The running version's entry while on trial, renamed (from, to, inside the root) to have
    /// no tries left.
    pub mark_bad: Option<(PathBuf, PathBuf)>,
    /// `previous` is made the entry of the next boot (with EFI variables); otherwise the boot
    /// loader finds it by itself once the running entry is bad.
    pub boot_once: bool,
}

/// Going back at once from the running version: to the newest older complete version with a
/// good entry.
pub fn fall_back(system: &SystemState) -> Result<FallBackDecision, LifecycleError> {
    let running = system
        .inventory
        .booted
        .as_deref()
        .ok_or_else(|| LifecycleError::NotInstalled("(the running version)".into()))?;
    let previous = system
        .inventory
        .versions
        .iter()
        .filter(|v| v.complete && compare(&v.version, running).is_lt())
        .find(|v| system.boot.entry_of(&v.version).is_some_and(|e| !e.bad()))
        .ok_or_else(|| LifecycleError::NotInstalled("an older complete version".into()))?
        .version
        .clone();
    let mark_bad = system
        .boot
        .entry_of(running)
        .filter(|e| e.tries_left.is_some())
        .map(|e| {
            let bad = boot::with_counter(&e.id, 0, e.tries_done.unwrap_or(0));
            (e.path.clone(), e.path.with_file_name(bad))
        });
    Ok(FallBackDecision {
        previous,
        mark_bad,
        boot_once: system.boot.efivars,
    })
}
