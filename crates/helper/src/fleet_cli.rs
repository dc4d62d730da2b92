//! `update-center-helper fleet ...`: restart slots and rollouts of a group, read and changed in
//! the site's etcd.

use crate::cli::FleetAction;
use anyhow::{Result, bail};
use serde_json::json;
use std::io::Write;
use std::path::Path;
use update_center_engine::fleet::etcd::Etcd;
use update_center_engine::fleet::rollout::{Rollout, Rollouts};
use update_center_engine::fleet::semaphore::{Semaphore, valid_group};

/// This machine's fleet id, from the root's `/etc/machine-id`.
fn own_id(root: &Path) -> Result<String> {
    update_center_engine::fleet::machine::own_id(root).map_err(anyhow::Error::msg)
}

/// Runs `action` on `group` of the etcd cluster at `endpoints`.
pub fn run(
    root: &Path,
    endpoints: &[String],
    group: &str,
    json: bool,
    action: FleetAction,
    out: &mut impl Write,
) -> Result<()> {
    if !valid_group(group) {
        bail!("{group:?} is not a group name: use 1 to 64 letters, digits, '-', '_' or '.'");
    }
    let etcd = Etcd::new(endpoints);
    let slots = Semaphore::new(&etcd, group);
    let rollouts = Rollouts::new(&etcd, group);
    let id = |given: Option<String>| given.map_or_else(|| own_id(root), Ok);
    match action {
        FleetAction::Simulate {
            machines,
            slots,
            wave,
            restart_ms,
            poll_ms,
            workers,
        } => {
            let options = crate::fleet_sim::Options {
                machines,
                slots,
                wave_percent: wave,
                restart: std::time::Duration::from_millis(restart_ms),
                poll: std::time::Duration::from_millis(poll_ms),
                workers,
            };
            crate::fleet_sim::run(endpoints, group, &options, out)?;
        }
        FleetAction::Id => {
            writeln!(out, "{}", own_id(root)?)?;
        }
        FleetAction::Status { version } => {
            let count = slots.slots()?;
            let holders = slots.holders()?;
            let state = match &version {
                Some(v) => rollouts
                    .record(v)?
                    .map(|_| rollouts.state(v, &Rollout::default()))
                    .transpose()?,
                None => None,
            };
            if json {
                let rollout = state.as_ref().map(|s| {
                    json!({
                        "version": version,
                        "share_percent": s.rollout.share_percent,
                        "max_failures": s.rollout.max_failures,
                        "max_failure_percent": s.rollout.max_failure_percent,
                        "paused": s.rollout.paused,
                        "halted": s.halted(),
                        "started": s.started,
                        "failed": s.failed.iter().map(|(id, why)| json!({"id": id, "why": why})).collect::<Vec<_>>(),
                    })
                });
                let value = json!({
                    "group": group,
                    "slots": count,
                    "holders": holders.iter().map(|h| json!({"slot": h.slot, "id": h.id, "lease": h.lease.to_string()})).collect::<Vec<_>>(),
                    "rollout": rollout,
                });
                writeln!(out, "{value:#}")?;
                return Ok(());
            }
            writeln!(
                out,
                "Group {group}: {count} restart slot{}, {} taken",
                if count == 1 { "" } else { "s" },
                holders.len()
            )?;
            for holder in &holders {
                writeln!(
                    out,
                    "  slot {}: {} (lease {})",
                    holder.slot, holder.id, holder.lease
                )?;
            }
            match (&version, &state) {
                (Some(v), None) => writeln!(out, "No rollout of {v} yet.")?,
                (Some(v), Some(s)) => {
                    writeln!(
                        out,
                        "Rollout of {v}: {} % of the machines{}; {} started, {} failed (stops at {} failures or {} %){}",
                        s.rollout.share_percent,
                        if s.rollout.paused { ", paused" } else { "" },
                        s.started,
                        s.failed.len(),
                        s.rollout.max_failures,
                        s.rollout.max_failure_percent,
                        if s.halted() {
                            "; stopped by its failures"
                        } else {
                            ""
                        }
                    )?;
                    for (id, why) in &s.failed {
                        writeln!(out, "  failed on {id}: {why}")?;
                    }
                }
                _ => {}
            }
        }
        FleetAction::Slots { count } => {
            slots.set_slots(count)?;
            writeln!(out, "Group {group}: {} restart slots.", count.max(1))?;
        }
        FleetAction::Advance { version, share } => {
            let r = rollouts.update(&version, &Rollout::default(), |r| {
                r.share_percent = r.share_percent.max(share);
            })?;
            writeln!(
                out,
                "Rollout of {version}: {} % of the machines may start it.",
                r.share_percent
            )?;
        }
        FleetAction::Pause { version } => {
            rollouts.update(&version, &Rollout::default(), |r| r.paused = true)?;
            writeln!(out, "Rollout of {version}: paused.")?;
        }
        FleetAction::Resume { version } => {
            rollouts.update(&version, &Rollout::default(), |r| r.paused = false)?;
            writeln!(out, "Rollout of {version}: resumed.")?;
        }
        FleetAction::Acquire { ttl, id: given } => {
            let id = id(given)?;
            let lease = etcd.grant(ttl.max(5))?;
            match slots.acquire(&id, lease)? {
                Some(slot) => {
                    if json {
                        writeln!(
                            out,
                            "{}",
                            json!({"slot": slot, "lease": lease.to_string(), "id": id})
                        )?;
                    } else {
                        writeln!(out, "Slot {slot} taken by {id} with lease {lease}.")?;
                    }
                }
                None => {
                    let _ = etcd.revoke(lease);
                    bail!(
                        "every restart slot of group {group} is taken ({} of {}); try again when one is given back",
                        slots.holders()?.len(),
                        slots.slots()?
                    );
                }
            }
        }
        FleetAction::KeepAlive { lease } => {
            let ttl = etcd.keep_alive(lease)?;
            if ttl <= 0 {
                bail!("lease {lease} has expired: its slot is free again");
            }
            writeln!(out, "Lease {lease}: {ttl} s left.")?;
        }
        FleetAction::Release { lease, id: given } => {
            let id = id(given)?;
            let released = slots.release(&id)?;
            if let Some(lease) = lease {
                etcd.revoke(lease)?;
            }
            writeln!(
                out,
                "{}",
                if released {
                    format!("The slot of {id} is free again.")
                } else {
                    format!("{id} held no slot.")
                }
            )?;
        }
    }
    Ok(())
}
