//! This machine's part in its fleet, around an automatic restart into a staged version:
//!
//! 1. [`before_restart`]: the rollout lets this machine start the version, a slot of its group
//!    is taken (bound to a lease in etcd, or granted by a FleetLock server), the slot is
//!    written down in the state directory *before* the restart, and the start is reported;
//!    otherwise the reasons it waits ([`KINDS`](update_center_client::waiting::KINDS)).
//! 2. [`booted`] (the boot record, without network) notes the version the machine came up in;
//!    [`health_checked`] notes whether its health checks passed.
//! 3. [`settle`] (the health-check unit, and every later run of the check timer until it
//!    succeeds) acts on what was noted: the new version is well → the slot is given back; it
//!    failed its checks or the machine fell back → the failure is reported to the rollout and
//!    the slot given back; nothing known yet → the lease is kept alive.
//!
//! Whatever happens, a slot in etcd never outlives its lease: a machine that dies holding one
//! frees it within `LeaseSec=`.

use super::etcd::{Etcd, EtcdError};
use super::fleetlock::{Answer, FleetLock};
use super::rollout::{Decision, Rollout, Rollouts};
use super::semaphore::Semaphore;
use crate::layout::Layout;
use crate::policy::gates::Reason;
use crate::settings::FleetSettings;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The slot this machine holds, in the state directory.
pub const FILE: &str = "fleet-slot.json";

/// How long one request to a FleetLock server may take.
const FLEETLOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// A slot this machine holds, and what it knows of the restart it was taken for. The servers
/// are kept with it, so that it is given back where it was taken even if the settings change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    /// The group.
    pub group: String,
    /// This machine's fleet id.
    pub id: String,
    /// The version the slot was taken for.
    pub version: String,
    /// The etcd members (rollout reports; the slot too when `fleetlock` is none).
    pub etcd: Vec<String>,
    /// The FleetLock server that granted the slot, if one did.
    pub fleetlock: Option<String>,
    /// The etcd lease the slot is bound to (0: none).
    pub lease: i64,
    /// The version the machine came up in after the restart (none: not restarted yet).
    pub booted_into: Option<String>,
    /// Whether that boot's health checks passed (none: not run yet).
    pub health_passed: Option<bool>,
    /// A failure was reported to the rollout already.
    pub failure_reported: bool,
}

fn path(layout: &Layout) -> PathBuf {
    layout.state_dir().join(FILE)
}

/// The slot this machine holds, if any (a file that cannot be read counts as none, and is
/// said in the journal by the caller's settle).
pub fn load(layout: &Layout) -> Option<Held> {
    let text = std::fs::read(path(layout)).ok()?;
    serde_json::from_slice(&text).ok()
}

fn save(layout: &Layout, held: &Held) -> std::io::Result<()> {
    let bytes = serde_json::to_vec_pretty(held).map_err(std::io::Error::other)?;
    crate::fsutil::write_atomically(&path(layout), &bytes)
}

fn forget(layout: &Layout) -> std::io::Result<()> {
    match std::fs::remove_file(path(layout)) {
        Ok(()) => crate::fsutil::sync_dir(&layout.state_dir()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// This machine's fleet id, from the root's `/etc/machine-id`.
pub fn own_id(root: &Path) -> Result<String, String> {
    let file = root.join("etc/machine-id");
    let text = std::fs::read_to_string(&file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    super::id::fleet_id(&text).map_err(|e| e.to_string())
}

/// What [`before_restart`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// Restart now: the slot is held and written down.
    Go(Held),
    /// Wait, for these reasons; the detail (in English) is for the journal.
    Wait(Vec<Reason>, String),
}

fn unreachable(fleet: &FleetSettings, detail: String) -> Gate {
    let servers = fleet
        .etcd
        .iter()
        .cloned()
        .chain(fleet.fleetlock.clone())
        .collect::<Vec<_>>()
        .join(", ");
    Gate::Wait(
        vec![Reason::new("fleet-unreachable", &[("servers", servers)])],
        detail,
    )
}

/// Whether this machine may restart into `version` now, taking a slot of its group if so. The
/// requests go through the download relay at `relay` when given.
pub fn before_restart(
    layout: &Layout,
    fleet: &FleetSettings,
    version: &str,
    relay: Option<PathBuf>,
) -> Gate {
    let id = match own_id(&layout.root) {
        Ok(id) => id,
        Err(e) => return Gate::Wait(vec![Reason::new("no-machine-id", &[])], e),
    };
    let etcd = Etcd::new(&fleet.etcd).with_relay(relay.clone());
    // A slot taken before (a restart that did not happen) is used again while its lease lives.
    if let Some(held) = load(layout)
        .filter(|h| h.version == version && h.booted_into.is_none() && h.group == fleet.group)
    {
        let alive = held.lease == 0 || etcd.keep_alive(held.lease).is_ok_and(|ttl| ttl > 0);
        if alive {
            return Gate::Go(held);
        }
        let _ = forget(layout);
    }
    if !fleet.etcd.is_empty() {
        let rollouts = Rollouts::new(&etcd, &fleet.group);
        match rollouts.decide(&id, version, &Rollout::default()) {
            Ok(Decision::Go) => {}
            Ok(decision) => {
                let reason = match &decision {
                    Decision::NotYet {
                        bucket,
                        share_percent,
                    } => Reason::new(
                        "rollout-wave",
                        &[
                            ("version", version.to_string()),
                            ("bucket", bucket.to_string()),
                            ("share", share_percent.to_string()),
                        ],
                    ),
                    Decision::Paused => {
                        Reason::new("rollout-paused", &[("version", version.to_string())])
                    }
                    Decision::Halted { failures, started } => Reason::new(
                        "rollout-halted",
                        &[
                            ("version", version.to_string()),
                            ("failures", failures.to_string()),
                            ("started", started.to_string()),
                        ],
                    ),
                    Decision::Go => unreachable!("handled above"),
                };
                return Gate::Wait(vec![reason], decision.to_string());
            }
            Err(e) => return unreachable(fleet, e.to_string()),
        }
    }
    let mut held = Held {
        group: fleet.group.clone(),
        id: id.clone(),
        version: version.to_string(),
        etcd: fleet.etcd.clone(),
        fleetlock: fleet.fleetlock.clone(),
        lease: 0,
        booted_into: None,
        health_passed: None,
        failure_reported: false,
    };
    let no_slot = |detail: String| {
        Gate::Wait(
            vec![Reason::new("no-slot", &[("group", fleet.group.clone())])],
            detail,
        )
    };
    if let Some(server) = &fleet.fleetlock {
        let client = FleetLock::new(server, FLEETLOCK_TIMEOUT).with_relay(relay.clone());
        match client.pre_reboot(&id, &fleet.group) {
            Ok(Answer::Granted) => {}
            Ok(Answer::Refused { kind, value }) => {
                return no_slot(format!(
                    "the FleetLock server {server} refused: {kind}: {value}"
                ));
            }
            Err(e) => return unreachable(fleet, e.to_string()),
        }
    } else {
        let take = || -> Result<Option<(i64, u32)>, EtcdError> {
            let lease = etcd.grant(fleet.lease.as_secs())?;
            match Semaphore::new(&etcd, &fleet.group).acquire(&id, lease) {
                Ok(Some(slot)) => Ok(Some((lease, slot))),
                Ok(None) => {
                    let _ = etcd.revoke(lease);
                    Ok(None)
                }
                Err(e) => {
                    let _ = etcd.revoke(lease);
                    Err(e)
                }
            }
        };
        match take() {
            Ok(Some((lease, _slot))) => held.lease = lease,
            Ok(None) => {
                return no_slot(format!(
                    "every restart slot of group {} is taken",
                    fleet.group
                ));
            }
            Err(e) => return unreachable(fleet, e.to_string()),
        }
    }
    // Written down before anything else, so that a machine that dies now still gives the
    // slot back after its next boot (and etcd frees it after the lease in any case).
    if let Err(e) = save(layout, &held) {
        let _ = give_back(&held, relay.as_deref());
        return unreachable(
            fleet,
            format!(
                "cannot write down the slot in {}: {e}",
                path(layout).display()
            ),
        );
    }
    if !held.etcd.is_empty()
        && let Err(e) = Rollouts::new(&etcd, &fleet.group).report_started(&id, version)
    {
        let _ = give_back(&held, relay.as_deref());
        let _ = forget(layout);
        return unreachable(fleet, e.to_string());
    }
    Gate::Go(held)
}

/// Notes the version this boot came up in (the boot record; no network needed).
pub fn booted(layout: &Layout, running: Option<&str>) -> std::io::Result<()> {
    let Some(mut held) = load(layout) else {
        return Ok(());
    };
    held.booted_into = Some(running.unwrap_or_default().to_string());
    held.health_passed = None;
    save(layout, &held)
}

/// Notes the outcome of this boot's health checks; `falls_back`: the machine restarts into the
/// previous version now (what it comes up in is noted by the next boot record).
pub fn health_checked(layout: &Layout, passed: bool, falls_back: bool) -> std::io::Result<()> {
    let Some(mut held) = load(layout) else {
        return Ok(());
    };
    if held.booted_into.as_deref() != Some(held.version.as_str()) {
        return Ok(());
    }
    held.health_passed = Some(passed);
    if falls_back {
        held.booted_into = None;
    }
    save(layout, &held)
}

/// What [`settle`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// No slot is held.
    Nothing,
    /// The restart is not over yet; the lease was kept alive.
    Waiting,
    /// The slot was given back; `failed` says why the version failed, when it did (reported
    /// to the rollout).
    Released {
        /// The version.
        version: String,
        /// The failure reported, if any.
        failed: Option<String>,
    },
}

/// Acts on what is known of the restart the held slot was taken for (see the module's
/// documentation). `Err`: the servers could not be reached; the slot stays written down for
/// the next try.
pub fn settle(layout: &Layout, relay: Option<PathBuf>) -> Result<Settled, String> {
    let Some(mut held) = load(layout) else {
        return Ok(Settled::Nothing);
    };
    let etcd = Etcd::new(&held.etcd).with_relay(relay.clone());
    let failure = match held.booted_into.as_deref() {
        None => None,
        Some(running) if running == held.version => match held.health_passed {
            None => None,
            Some(true) => Some(None),
            Some(false) => Some(Some(format!(
                "version {} failed its health checks",
                held.version
            ))),
        },
        Some(running) => Some(Some(format!(
            "version {} fell back to {}",
            held.version,
            if running.is_empty() {
                "another version"
            } else {
                running
            }
        ))),
    };
    let Some(failed) = failure else {
        if held.lease != 0 {
            etcd.keep_alive(held.lease).map_err(|e| e.to_string())?;
        }
        return Ok(Settled::Waiting);
    };
    if let Some(why) = &failed
        && !held.failure_reported
        && !held.etcd.is_empty()
    {
        Rollouts::new(&etcd, &held.group)
            .report_failed(&held.id, &held.version, why)
            .map_err(|e| e.to_string())?;
        held.failure_reported = true;
        save(layout, &held).map_err(|e| e.to_string())?;
    }
    give_back(&held, relay.as_deref())?;
    forget(layout).map_err(|e| e.to_string())?;
    Ok(Settled::Released {
        version: held.version,
        failed,
    })
}

/// Gives the slot back where it was taken: the FleetLock server's steady state, or the slot's
/// key in etcd and its lease.
fn give_back(held: &Held, relay: Option<&Path>) -> Result<(), String> {
    if let Some(server) = &held.fleetlock {
        let client =
            FleetLock::new(server, FLEETLOCK_TIMEOUT).with_relay(relay.map(Path::to_path_buf));
        return match client.steady_state(&held.id, &held.group) {
            Ok(Answer::Granted) => Ok(()),
            Ok(Answer::Refused { kind, value }) => Err(format!(
                "the FleetLock server {server} did not take the slot back: {kind}: {value}"
            )),
            Err(e) => Err(e.to_string()),
        };
    }
    let etcd = Etcd::new(&held.etcd).with_relay(relay.map(Path::to_path_buf));
    Semaphore::new(&etcd, &held.group)
        .release(&held.id)
        .map_err(|e| e.to_string())?;
    if held.lease != 0 {
        // A lease that ran out already is gone: nothing left to give back.
        match etcd.revoke(held.lease) {
            Ok(()) | Err(EtcdError::Refused { .. }) => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> (tempfile::TempDir, Layout) {
        let dir = tempfile::tempdir().expect("tempdir");
        let layout = Layout::detect(dir.path(), None, None, true);
        (dir, layout)
    }

    fn held(version: &str) -> Held {
        Held {
            group: "g".into(),
            id: "id".into(),
            version: version.into(),
            etcd: Vec::new(),
            fleetlock: None,
            lease: 0,
            booted_into: None,
            health_passed: None,
            failure_reported: false,
        }
    }

    #[test]
    fn boots_and_health_checks_are_noted_for_the_version_the_slot_was_taken_for() {
        let (_dir, layout) = layout();
        // Nothing held: nothing noted, nothing written.
        booted(&layout, Some("2")).expect("booted");
        assert!(load(&layout).is_none());
        save(&layout, &held("2")).expect("save");
        // The health checks of the old version (before the restart) do not count.
        health_checked(&layout, false, false).expect("checked");
        assert_eq!(load(&layout).expect("held").health_passed, None);
        booted(&layout, Some("2")).expect("booted");
        health_checked(&layout, false, true).expect("checked");
        let after = load(&layout).expect("held");
        assert_eq!(after.health_passed, Some(false));
        // It falls back now: what it comes up in is for the next boot record to say.
        assert_eq!(after.booted_into, None);
        booted(&layout, Some("1")).expect("booted");
        assert_eq!(
            load(&layout).expect("held").booted_into.as_deref(),
            Some("1")
        );
    }

    #[test]
    fn a_machine_without_a_machine_id_waits_and_says_so() {
        let (_dir, layout) = layout();
        let fleet = FleetSettings {
            etcd: vec!["http://127.0.0.1:9".into()],
            ..FleetSettings::default()
        };
        match before_restart(&layout, &fleet, "2", None) {
            Gate::Wait(reasons, detail) => {
                assert_eq!(reasons[0].kind, "no-machine-id");
                assert!(detail.contains("machine-id"), "{detail}");
            }
            Gate::Go(_) => panic!("no machine id, no slot"),
        }
    }
}
