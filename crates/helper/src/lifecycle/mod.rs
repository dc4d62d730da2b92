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
//!
//! Each operation takes its decision from `decide` (pure: the snapshot and the state file in,
//! what to write out), then writes it; the badges of a version are derived in `badges`.

use crate::SystemState;
use crate::installed::boot::{self, Var};
use crate::installed::inventory::Layout;
use crate::record::history::{self, Event};
use serde::Serialize;
use std::path::PathBuf;

mod badges;
mod decide;

pub use crate::record::statefile::{
    Fallback, LifecycleError, LifecycleState, STATE_FILE, StateLock, load, lock_state, save,
};
pub use badges::{VersionState, states};

/// Pins (or unpins) an installed version.
pub fn set_pinned(
    layout: &Layout,
    system: &SystemState,
    version: &str,
    pinned: bool,
) -> Result<bool, LifecycleError> {
    let _lock = lock_state(layout)?;
    let state = load(layout)?;
    let Some(state) = decide::pin(system, &state, version, pinned)? else {
        return Ok(false);
    };
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
    Ok(true)
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
    decide::choosable(system, version)?;
    let _lock = lock_state(layout)?;
    let decision = decide::rollback(system, &load(layout)?, version, once)?;
    let io = |var: Var| {
        let path = PathBuf::from(format!("/{}/{var:?}", boot::EFIVARS_DIR));
        move |source| LifecycleError::Io { path, source }
    };
    let entry = Some(decision.entry.as_str());
    match decision.write_to {
        decide::BootChoice::OneShot => {
            boot::write_var(layout, Var::OneShot, entry).map_err(io(Var::OneShot))?;
        }
        decide::BootChoice::DefaultVar => {
            boot::write_var(layout, Var::Default, entry).map_err(io(Var::Default))?;
        }
        decide::BootChoice::LoaderConf => {
            boot::write_loader_conf_default(layout, entry).map_err(|source| {
                LifecycleError::Io {
                    path: PathBuf::from("loader/loader.conf"),
                    source,
                }
            })?;
        }
    }
    save(layout, &decision.state)?;
    history::append(
        &layout.state_dir(),
        &Event::RolledBack {
            version: decision.version.clone(),
            once,
        },
    );
    Ok(Rollback {
        written_to: decision.write_to.name().to_string(),
        version: decision.version,
        entry: decision.entry,
        once,
        held_back: decision.held_back,
    })
}

/// After an update installed `version`: hand the choice of entry back to systemd-boot (so that
/// the new version boots on trial and can fall back), and stop holding `version` back.
pub fn after_install(layout: &Layout, version: &str) -> Result<(), LifecycleError> {
    let _lock = lock_state(layout)?;
    let Some(decision) = decide::after_install(&load(layout)?, version) else {
        return Ok(());
    };
    if decision.hand_back_default {
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
    save(layout, &decision.state)
}

/// Clears the fallback flag; returns whether there was one.
pub fn acknowledge_fallback(layout: &Layout) -> Result<bool, LifecycleError> {
    let _lock = lock_state(layout)?;
    let Some((fallback, state)) = decide::acknowledge(&load(layout)?) else {
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
    let _lock = lock_state(layout)?;
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let record = decide::record_boot(system, &load(layout)?, &now);
    if let Some(state) = &record.state {
        save(layout, state)?;
    }
    let report = record.report;
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
    if let Some(f) = report.fallback.clone() {
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
    let decision = decide::fall_back(system)?;
    if let Some((from, to)) = &decision.mark_bad {
        crate::fsutil::rename_durably(&layout.on_disk(from), &layout.on_disk(to)).map_err(
            |source| LifecycleError::Io {
                path: from.clone(),
                source,
            },
        )?;
    }
    if decision.boot_once {
        let once = rollback(layout, system, &decision.previous, true)?;
        return Ok(once.version);
    }
    Ok(decision.previous)
}

#[cfg(test)]
mod tests;
