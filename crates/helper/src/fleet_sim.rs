//! `update-center-helper fleet simulate`: many lightweight machines (threads, not helpers)
//! roll one version through a group against a real etcd, each doing what the helper does
//! before and after a restart: ask the rollout whether its wave has come, take a slot with a
//! lease, restart (a pause stands for it), give the slot back, report that it started. An
//! administrator's thread advances the rollout by one wave whenever the machines allowed so
//! far are through. Prints what `cargo xtask bench fleet` reports (JSON).

use anyhow::{Result, bail};
use serde_json::json;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use update_center_engine::fleet::etcd::Etcd;
use update_center_engine::fleet::rollout::{Decision, Rollout, Rollouts, bucket};
use update_center_engine::fleet::semaphore::{Semaphore, group_prefix};

/// How the simulation runs.
pub struct Options {
    /// Machines in the group.
    pub machines: usize,
    /// Restart slots.
    pub slots: u32,
    /// The share each wave adds, in percent.
    pub wave_percent: u8,
    /// How long a restart takes.
    pub restart: Duration,
    /// How often a waiting machine asks again.
    pub poll: Duration,
    /// Threads the machines are spread over.
    pub workers: usize,
}

enum State {
    Waiting,
    Restarting { until: Instant, lease: i64 },
    Done,
}

/// Runs the simulation on `group` of the etcd at `endpoints` and prints its report.
pub fn run(endpoints: &[String], group: &str, o: &Options, out: &mut impl Write) -> Result<()> {
    if o.machines == 0 || o.workers == 0 || o.wave_percent == 0 {
        bail!("machines, workers and the wave must be at least 1");
    }
    let etcd = Etcd::new(endpoints);
    let version = format!("sim-{}", std::process::id());
    Semaphore::new(&etcd, group).set_slots(o.slots)?;
    // Stopped by nothing: every machine of this simulation is well.
    let first = Rollout {
        share_percent: o.wave_percent,
        max_failures: 0,
        max_failure_percent: 0,
        paused: false,
    };
    let rollouts = Rollouts::new(&etcd, group);
    rollouts.update(&version, &first, |r| *r = first.clone())?;
    let ids: Vec<String> = (0..o.machines)
        .map(|n| format!("{:032x}", 0x5eed_0000_u128 + n as u128))
        .collect();
    let buckets: Vec<u8> = ids.iter().map(|id| bucket(id, group)).collect();
    let done: Vec<AtomicBool> = (0..o.machines).map(|_| AtomicBool::new(false)).collect();
    let decisions = AtomicU64::new(0);
    let decision_requests = AtomicU64::new(0);
    let latencies = std::sync::Mutex::new(Vec::<f64>::new());
    let errors = AtomicUsize::new(0);
    let worker_requests = AtomicU64::new(0);
    let share = Arc::new(std::sync::atomic::AtomicU8::new(o.wave_percent));
    let started = Instant::now();
    std::thread::scope(|scope| {
        for worker in 0..o.workers {
            // A client of its own, so that its request count is this worker's alone.
            let (etcd, ids, done, first) = (Etcd::new(endpoints), &ids, &done, &first);
            let worker_requests = &worker_requests;
            let (decisions, decision_requests, latencies, errors) =
                (&decisions, &decision_requests, &latencies, &errors);
            let version = &version;
            scope.spawn(move || {
                let rollouts = Rollouts::new(&etcd, group);
                let slots = Semaphore::new(&etcd, group);
                let mine: Vec<usize> = (worker..ids.len()).step_by(o.workers).collect();
                let mut states: Vec<State> = mine.iter().map(|_| State::Waiting).collect();
                while states.iter().any(|s| !matches!(s, State::Done)) {
                    let round = Instant::now();
                    for (k, &n) in mine.iter().enumerate() {
                        let id = &ids[n];
                        let step = || -> Result<Option<State>, anyhow::Error> {
                            match &states[k] {
                                State::Waiting => {
                                    let before = etcd.requests();
                                    let asked = Instant::now();
                                    let decision = rollouts.decide(id, version, first)?;
                                    decision_requests
                                        .fetch_add(etcd.requests() - before, Ordering::Relaxed);
                                    decisions.fetch_add(1, Ordering::Relaxed);
                                    if let Ok(mut l) = latencies.lock() {
                                        l.push(asked.elapsed().as_secs_f64() * 1000.0);
                                    }
                                    if decision != Decision::Go {
                                        return Ok(None);
                                    }
                                    let lease = etcd.grant(60)?;
                                    if slots.acquire(id, lease)?.is_some() {
                                        return Ok(Some(State::Restarting {
                                            until: Instant::now() + o.restart,
                                            lease,
                                        }));
                                    }
                                    etcd.revoke(lease)?;
                                    Ok(None)
                                }
                                State::Restarting { until, lease } => {
                                    if Instant::now() < *until {
                                        return Ok(None);
                                    }
                                    slots.release(id)?;
                                    etcd.revoke(*lease)?;
                                    rollouts.report_started(id, version)?;
                                    done[n].store(true, Ordering::SeqCst);
                                    Ok(Some(State::Done))
                                }
                                State::Done => Ok(None),
                            }
                        };
                        match step() {
                            Ok(Some(next)) => states[k] = next,
                            Ok(None) => {}
                            Err(_) => {
                                errors.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                    // Each machine asks again after the poll interval (the helper's timer).
                    if let Some(rest) = o.poll.checked_sub(round.elapsed()) {
                        std::thread::sleep(rest);
                    }
                }
                worker_requests.fetch_add(etcd.requests(), Ordering::Relaxed);
            });
        }
        // The administrator: one wave more whenever the machines allowed so far are through.
        let (etcd, share) = (etcd.clone(), share.clone());
        let (buckets, done, version, first) = (&buckets, &done, &version, &first);
        scope.spawn(move || {
            let rollouts = Rollouts::new(&etcd, group);
            loop {
                let now = share.load(Ordering::SeqCst);
                let through = buckets
                    .iter()
                    .zip(done)
                    .filter(|(b, _)| **b < now)
                    .all(|(_, d)| d.load(Ordering::SeqCst));
                if through {
                    if now >= 100 {
                        return;
                    }
                    let next = now.saturating_add(o.wave_percent).min(100);
                    if rollouts
                        .update(version, first, |r| r.share_percent = next)
                        .is_ok()
                    {
                        share.store(next, Ordering::SeqCst);
                    }
                }
                std::thread::sleep(o.poll / 4);
            }
        });
    });
    let roll_through = started.elapsed().as_secs_f64();
    // The ideal: every wave restarts its machines `slots` at a time, back to back.
    let mut ideal = 0.0;
    let mut low = 0u8;
    while low < 100 {
        let high = low.saturating_add(o.wave_percent).min(100);
        let in_wave = buckets.iter().filter(|b| **b >= low && **b < high).count();
        ideal += in_wave.div_ceil(o.slots.max(1) as usize) as f64 * o.restart.as_secs_f64();
        low = high;
    }
    // Safety at scale: the most slots held at any revision.
    let prefix = format!("{}slots/", group_prefix(group));
    let (_, newest) = etcd.range_prefix(&prefix, 0)?;
    let mut most = 0;
    let first_revision = newest.saturating_sub(200_000).max(1);
    for revision in first_revision..=newest {
        most = most.max(etcd.range_prefix(&prefix, revision)?.0.len());
    }
    let mut latencies = latencies.into_inner().unwrap_or_default();
    latencies.sort_by(f64::total_cmp);
    let percentile = |p: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    let decisions = decisions.into_inner();
    let per_decision = decision_requests.into_inner() as f64 / decisions.max(1) as f64;
    let report = json!({
        "machines": o.machines,
        "slots": o.slots,
        "wave_percent": o.wave_percent,
        "restart_secs": o.restart.as_secs_f64(),
        "poll_secs": o.poll.as_secs_f64(),
        "roll_through_secs": roll_through,
        "ideal_secs": ideal,
        "most_slots_held": most,
        "decisions": decisions,
        "requests_per_decision": per_decision,
        "decision_ms_p50": percentile(0.5),
        "decision_ms_p99": percentile(0.99),
        "requests_total": worker_requests.into_inner() + etcd.requests(),
        "errors": errors.into_inner(),
        "revisions": newest,
    });
    writeln!(out, "{report}")?;
    Ok(())
}
