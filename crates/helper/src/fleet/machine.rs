//! This machine's part in its fleet, around an automatic restart into a staged version:
//!
//! 1. [`before_restart`]: the rollout lets this machine start the version, a slot of its group
//!    is taken (bound to a lease in etcd, or granted by a FleetLock server), the slot is
//!    written down in the state directory *before* the restart, and the start is reported;
//!    otherwise the reasons it waits ([`KINDS`](update_center_client::waiting::KINDS)).
//! 2. After the restart, [`health_checked`] (the health-check unit, which on a trial boot runs
//!    before the boot record) notes the version the machine came up in and whether its checks
//!    passed; [`booted`] (the boot record, without network) notes the version too, for a boot
//!    whose checks never ran.
//! 3. [`settle`] (the health-check unit, the helper when it starts, and every run of the check
//!    timer until it succeeds) acts on what was noted: the new version is well → the slot is
//!    given back; it failed its checks or the machine came up in another version → the failure
//!    is reported to the rollout and the slot given back; up but not checked yet → the lease
//!    is kept alive. A slot whose restart did not come within `LeaseSec=` is given back.
//!
//! Whatever happens, a slot in etcd never outlives its lease: a machine that dies holding one
//! frees it within `LeaseSec=`. Calls are serialised within the process.

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
    /// When it was taken (Unix seconds).
    pub taken_at: i64,
    /// The lease's length: a restart that did not come within it gives the slot back.
    pub lease_secs: u64,
    /// The boot that took it.
    pub boot_id: Option<String>,
    /// When `booted_into` was noted (Unix seconds): checks that do not come within the lease
    /// after it give the slot back.
    #[serde(default)]
    pub noted_at: i64,
}

/// One change of the slot at a time in this process (the D-Bus service runs calls at once).
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A server's words, cut for the journal (a hostile one could say a lot).
pub fn short(text: &str) -> String {
    const MAX: usize = 300;
    match text.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

fn path(layout: &Layout) -> PathBuf {
    layout.state_dir().join(FILE)
}

/// The slot this machine holds, if any; a file that cannot be read counts as none (see
/// [`settle`], which says so and removes it).
pub fn load(layout: &Layout) -> Option<Held> {
    read(layout).ok().flatten()
}

fn read(layout: &Layout) -> Result<Option<Held>, String> {
    let file = path(layout);
    match std::fs::read(&file) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| format!("{} cannot be read ({e})", file.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{} cannot be read ({e})", file.display())),
    }
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

fn servers_unreachable(fleet: &FleetSettings, detail: String) -> Gate {
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
    let _serial = serial();
    let id = match own_id(&layout.root) {
        Ok(id) => id,
        Err(e) => return Gate::Wait(vec![Reason::new("no-machine-id", &[])], e),
    };
    let etcd = Etcd::new(&fleet.etcd).with_relay(relay.clone());
    // A slot taken before for this version (a restart that did not happen) is used again while
    // its lease lives; any other is given back first.
    if let Some(held) = load(layout) {
        let same = held.version == version
            && held.booted_into.is_none()
            && held.group == fleet.group
            && held.etcd == fleet.etcd
            && held.fleetlock == fleet.fleetlock;
        let alive = held.lease == 0 || etcd.keep_alive(held.lease).is_ok_and(|ttl| ttl > 0);
        if same && alive {
            return Gate::Go(held);
        }
        if let Err(e) = give_back(&held, relay.as_deref()) {
            return servers_unreachable(fleet, e);
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
            Err(e) => return servers_unreachable(fleet, short(&e.to_string())),
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
        taken_at: now(),
        lease_secs: fleet.lease.as_secs(),
        boot_id: boot_id(&layout.root),
        noted_at: 0,
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
            Err(e) => return servers_unreachable(fleet, short(&e.to_string())),
        }
    } else {
        let take = || -> Result<Option<(i64, u32)>, EtcdError> {
            let slots = Semaphore::new(&etcd, &fleet.group);
            // A slot this machine holds already (its file lost) is kept, with its own lease.
            if let Some(mine) = slots.holders()?.into_iter().find(|h| h.id == id) {
                if mine.lease != 0 {
                    etcd.keep_alive(mine.lease)?;
                }
                return Ok(Some((mine.lease, mine.slot)));
            }
            let lease = etcd.grant(fleet.lease.as_secs())?;
            match slots.acquire(&id, lease) {
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
            Err(e) => return servers_unreachable(fleet, short(&e.to_string())),
        }
    }
    // Written down before anything else, so that a machine that dies now still gives the
    // slot back after its next boot (and etcd frees it after the lease in any case).
    if let Err(e) = save(layout, &held) {
        let _ = give_back(&held, relay.as_deref());
        return servers_unreachable(
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
        return servers_unreachable(fleet, short(&e.to_string()));
    }
    Gate::Go(held)
}

/// Gives back the slot taken for a restart that is not going to happen (the restart was
/// refused), where it was taken.
pub fn give_up(layout: &Layout, relay: Option<PathBuf>) -> Result<(), String> {
    let _serial = serial();
    let Some(held) = load(layout).filter(|h| h.booted_into.is_none()) else {
        return Ok(());
    };
    give_back(&held, relay.as_deref())?;
    forget(layout).map_err(|e| e.to_string())
}

/// The boot id of another root (`proc/sys/kernel/random/boot_id` inside it), when it has one.
fn boot_id(root: &Path) -> Option<String> {
    std::fs::read_to_string(root.join("proc/sys/kernel/random/boot_id"))
        .ok()
        .map(|id| id.trim().to_string())
        .filter(|id| !id.is_empty())
}

/// When this boot began (Unix seconds): the clock now less the time since boot, which needs
/// no `/proc` (the units hide most of it).
fn boot_started() -> Option<i64> {
    let since = rustix::time::clock_gettime(rustix::time::ClockId::Boottime);
    now().checked_sub(since.tv_sec)
}

/// The slot, when one is held and this is a boot after the one that took it: the checks and
/// records of the boot that took it are of the version before the restart. On the running
/// system a slot taken after this boot began is this boot's; another root (an image being
/// checked, the tests' roots) says by its boot id, where it has one.
fn after_restart(layout: &Layout) -> Option<Held> {
    let held = load(layout)?;
    after_restart_of(layout, &held).map(|()| held)
}

/// `Some` when `held` was taken in an earlier boot than this one (see [`after_restart`]).
fn after_restart_of(layout: &Layout, held: &Held) -> Option<()> {
    let same_boot = if layout.root == Path::new("/") {
        // A clock stepped back a little must not make the boot that took it look later.
        boot_started().is_some_and(|start| held.taken_at + 5 >= start)
    } else {
        matches!((boot_id(&layout.root), &held.boot_id), (Some(now), Some(then)) if now == *then)
    };
    (!same_boot).then_some(())
}

/// Notes that this boot came up in `running` (a failed check of the new version stays noted:
/// it is the verdict whatever boots after it).
fn note_running(held: &mut Held, running: &str) {
    if held.booted_into.as_deref() != Some(running) {
        held.booted_into = Some(running.to_string());
        held.noted_at = now();
    }
}

/// Notes the version this boot came up in (the boot record; no network needed). A version that
/// cannot be told is not noted (the health checks note it, or the slot runs out).
pub fn booted(layout: &Layout, running: Option<&str>) -> std::io::Result<()> {
    let _serial = serial();
    let (Some(mut held), Some(running)) = (after_restart(layout), running) else {
        return Ok(());
    };
    if held.booted_into.as_deref() == Some(running) {
        // Noted already: the health checks ran first.
        return Ok(());
    }
    note_running(&mut held, running);
    save(layout, &held)
}

/// Notes the version this boot came up in and the outcome of its health checks (on a trial
/// boot they run before the boot record); `falls_back`: the machine restarts into the previous
/// version now (what it comes up in is noted then).
pub fn health_checked(
    layout: &Layout,
    running: Option<&str>,
    passed: bool,
    falls_back: bool,
) -> std::io::Result<()> {
    let _serial = serial();
    let (Some(mut held), Some(running)) = (after_restart(layout), running) else {
        return Ok(());
    };
    note_running(&mut held, running);
    if running == held.version {
        held.health_passed = Some(passed);
        if falls_back {
            // This boot is over; the next one notes what it comes up in.
            held.booted_into = None;
        }
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
    /// The slot was given back without a verdict: `why` (the restart did not come, or the new
    /// version's checks did not run, within `LeaseSec=`).
    Expired {
        /// The version.
        version: String,
        /// Why.
        why: String,
    },
    /// The slot was given back; `failed` says why the version failed, when it did (reported
    /// to the rollout).
    Released {
        /// The version.
        version: String,
        /// The failure reported, if any.
        failed: Option<String>,
    },
}

impl Settled {
    /// What was done, for the journal and the health-check unit's log (none when nothing
    /// changed), and whether it is worth a warning.
    pub fn said(&self) -> Option<(bool, String)> {
        match self {
            Self::Nothing | Self::Waiting => None,
            Self::Released {
                version,
                failed: None,
            } => Some((
                false,
                format!("version {version} is well: gave the restart slot back"),
            )),
            Self::Released {
                failed: Some(why), ..
            } => Some((
                true,
                format!("reported to the rollout: {why}; gave the restart slot back"),
            )),
            Self::Expired { version, why } => Some((
                true,
                format!("gave the restart slot for version {version} back: {why}"),
            )),
        }
    }
}

/// Acts on what is known of the restart the held slot was taken for (see the module's
/// documentation). `Err`: the servers could not be reached; the slot stays written down for
/// the next try.
pub fn settle(
    layout: &Layout,
    running: Option<&str>,
    relay: Option<PathBuf>,
) -> Result<Settled, String> {
    let _serial = serial();
    let mut held = match read(layout) {
        Ok(Some(held)) => held,
        Ok(None) => return Ok(Settled::Nothing),
        Err(e) => {
            // Nothing to give back by: etcd frees the slot when its lease runs out.
            let _ = forget(layout);
            return Err(format!(
                "{e}; it was removed, and the slot frees itself when its lease runs out"
            ));
        }
    };
    let etcd = Etcd::new(&held.etcd).with_relay(relay.clone());
    let lease = i64::try_from(held.lease_secs).unwrap_or(i64::MAX);
    let this_boot = after_restart_of(layout, &held).is_none();
    if held.booted_into.is_none()
        && !this_boot
        && held.health_passed != Some(false)
        && let Some(running) = running
    {
        // A boot after the restart that nothing noted yet (the helper may start before the
        // boot record and the checks): what it runs is known here too.
        note_running(&mut held, running);
        save(layout, &held).map_err(|e| e.to_string())?;
    }
    let expired = |why: &str| -> Result<Settled, String> {
        give_back(&held, relay.as_deref())?;
        forget(layout).map_err(|e| e.to_string())?;
        Ok(Settled::Expired {
            version: held.version.clone(),
            why: why.to_string(),
        })
    };
    let failure = if held.health_passed == Some(false) {
        // Its checks failed (also when the machine went back to the version before since).
        Some(Some(format!(
            "version {} failed its health checks",
            held.version
        )))
    } else {
        match held.booted_into.as_deref() {
            None if this_boot && now().saturating_sub(held.taken_at) >= lease => {
                return expired("the restart did not come within LeaseSec=");
            }
            // Before the restart, or a boot after it that says nothing yet.
            None => return Ok(Settled::Waiting),
            Some(running) if running == held.version => match held.health_passed {
                Some(_) => Some(None),
                None if now().saturating_sub(held.noted_at) >= lease => {
                    return expired("its health checks did not run within LeaseSec=");
                }
                None => None,
            },
            Some(running) => Some(Some(format!(
                "version {} fell back to {running}",
                held.version
            ))),
        }
    };
    let Some(failed) = failure else {
        // Up in the new version, its checks not run yet: the slot stays while they run.
        if held.lease != 0 {
            etcd.keep_alive(held.lease)
                .map_err(|e| short(&e.to_string()))?;
        }
        return Ok(Settled::Waiting);
    };
    if let Some(why) = &failed
        && !held.failure_reported
        && !held.etcd.is_empty()
    {
        Rollouts::new(&etcd, &held.group)
            .report_failed(&held.id, &held.version, why)
            .map_err(|e| short(&e.to_string()))?;
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
    if held.etcd.is_empty() && held.fleetlock.is_none() {
        return Ok(());
    }
    if let Some(server) = &held.fleetlock {
        let client =
            FleetLock::new(server, FLEETLOCK_TIMEOUT).with_relay(relay.map(Path::to_path_buf));
        return match client.steady_state(&held.id, &held.group) {
            Ok(Answer::Granted) => Ok(()),
            Ok(Answer::Refused { kind, value }) => Err(format!(
                "the FleetLock server {server} did not take the slot back: {}: {}",
                short(&kind),
                short(&value)
            )),
            Err(e) => Err(short(&e.to_string())),
        };
    }
    let etcd = Etcd::new(&held.etcd).with_relay(relay.map(Path::to_path_buf));
    Semaphore::new(&etcd, &held.group)
        .release(&held.id)
        .map_err(|e| short(&e.to_string()))?;
    if held.lease != 0 {
        // A lease that ran out already is gone: nothing left to give back.
        match etcd.revoke(held.lease) {
            Ok(()) => {}
            Err(EtcdError::Refused { message, .. }) if message.contains("not found") => {}
            Err(e) => return Err(short(&e.to_string())),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
