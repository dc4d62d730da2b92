//! Rollout waves: which machines of a group may start a version yet. Each machine falls in a
//! stable bucket (0-99) from its fleet id and the group; a version's rollout record says what
//! share of buckets may start it so far, how many failures stop it, and whether an
//! administrator paused it. Machines report that they started a version and, when it fell back
//! or failed its health checks, that it failed; when failures reach the threshold no further
//! machine starts it, and every waiting machine can say why.
//!
//! Keys, under `/update-center/fleet/GROUP/`: `rollouts/VERSION` (the record, JSON) and
//! `machines/VERSION/started/ID`, `machines/VERSION/failed/ID` (one key per machine, so that a
//! report sent twice counts once).

use super::etcd::{Compare, Etcd, EtcdError, Op};
use super::semaphore::group_prefix;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A version's rollout in a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rollout {
    /// The share of buckets (percent) that may start the version.
    pub share_percent: u8,
    /// This many failures stop the rollout (0: no count limit).
    pub max_failures: u32,
    /// Failures of this share (percent) of the machines that started stop it (0: no limit).
    pub max_failure_percent: u8,
    /// An administrator paused it.
    pub paused: bool,
}

impl Default for Rollout {
    /// The first wave: 5 % of the machines; two failures, or a fifth of those that started,
    /// stop it.
    fn default() -> Self {
        Self {
            share_percent: 5,
            max_failures: 2,
            max_failure_percent: 20,
            paused: false,
        }
    }
}

/// A rollout with what the machines reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolloutState {
    /// The record.
    pub rollout: Rollout,
    /// Machines that started the version.
    pub started: u32,
    /// Machines where it failed, with what they said.
    pub failed: Vec<(String, String)>,
}

impl RolloutState {
    /// The failures reached the threshold.
    pub fn halted(&self) -> bool {
        let failures = u32::try_from(self.failed.len()).unwrap_or(u32::MAX);
        let by_count = self.rollout.max_failures > 0 && failures >= self.rollout.max_failures;
        let by_share = self.rollout.max_failure_percent > 0
            && self.started > 0
            && u64::from(failures) * 100
                >= u64::from(self.rollout.max_failure_percent) * u64::from(self.started);
        by_count || by_share
    }
}

/// Whether a machine may start a version now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// It may.
    Go,
    /// Its bucket is not in the waves allowed so far.
    NotYet {
        /// The machine's bucket.
        bucket: u8,
        /// The share allowed so far.
        share_percent: u8,
    },
    /// An administrator paused the rollout.
    Paused,
    /// Failures reached the threshold: nobody else starts it.
    Halted {
        /// Failures reported.
        failures: u32,
        /// Machines that started it.
        started: u32,
    },
}

impl std::fmt::Display for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Go => f.write_str("this machine may start it"),
            Self::NotYet {
                bucket,
                share_percent,
            } => write!(
                f,
                "its wave has not come: the rollout has reached {share_percent} % of the machines, this one is at {bucket} %"
            ),
            Self::Paused => f.write_str("an administrator paused the rollout"),
            Self::Halted { failures, started } => write!(
                f,
                "the rollout stopped: {failures} of the {started} machines that started it reported a failure"
            ),
        }
    }
}

/// The machine's bucket in `group`: 0-99, stable for the machine and the group.
pub fn bucket(id: &str, group: &str) -> u8 {
    let digest = Sha256::new()
        .chain_update(group.as_bytes())
        .chain_update([0])
        .chain_update(id.as_bytes())
        .finalize();
    (u16::from_be_bytes([digest[0], digest[1]]) % 100) as u8
}

/// The rollouts of one group.
#[derive(Debug, Clone)]
pub struct Rollouts<'a> {
    etcd: &'a Etcd,
    group: String,
}

/// A version as it may stand in a key.
fn valid_version(version: &str) -> bool {
    !version.is_empty()
        && version.len() <= 128
        && version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.+~^".contains(&b))
}

impl<'a> Rollouts<'a> {
    /// The rollouts of `group`.
    pub fn new(etcd: &'a Etcd, group: &str) -> Self {
        Self {
            etcd,
            group: group.to_string(),
        }
    }

    fn record_key(&self, version: &str) -> Result<String, EtcdError> {
        if !valid_version(version) {
            return Err(EtcdError::Refused {
                endpoint: String::new(),
                call: "rollout".into(),
                message: format!("{version:?} is not a version name"),
            });
        }
        Ok(format!("{}rollouts/{version}", group_prefix(&self.group)))
    }

    fn machines(&self, version: &str, what: &str) -> String {
        format!("{}machines/{version}/{what}/", group_prefix(&self.group))
    }

    /// The record of `version`, if one exists.
    pub fn record(&self, version: &str) -> Result<Option<(Rollout, i64)>, EtcdError> {
        let key = self.record_key(version)?;
        Ok(self.etcd.get(&key)?.and_then(|kv| {
            serde_json::from_str(&kv.value)
                .ok()
                .map(|r| (r, kv.mod_revision))
        }))
    }

    /// The record of `version` with what the machines reported; a version without a record
    /// starts with `first` (written, unless another machine wrote one first).
    pub fn state(&self, version: &str, first: &Rollout) -> Result<RolloutState, EtcdError> {
        let rollout = match self.record(version)? {
            Some((rollout, _)) => rollout,
            None => {
                let key = self.record_key(version)?;
                let text = serde_json::to_string(first).unwrap_or_default();
                let put = Op::Put {
                    key: key.clone(),
                    value: text,
                    lease: 0,
                };
                if !self.etcd.txn(&[Compare::Absent(key)], &[put])? {
                    // Another machine was first; its record counts.
                    return self.state(version, first);
                }
                first.clone()
            }
        };
        // Counted by etcd: a decision reads no key per machine, however large the fleet.
        let started = self.etcd.count_prefix(&self.machines(version, "started"))?;
        let (failed, _) = self
            .etcd
            .range_prefix(&self.machines(version, "failed"), 0)?;
        let prefix = self.machines(version, "failed");
        Ok(RolloutState {
            rollout,
            started: u32::try_from(started).unwrap_or(u32::MAX),
            failed: failed
                .into_iter()
                .map(|kv| {
                    (
                        kv.key.strip_prefix(&prefix).unwrap_or(&kv.key).to_string(),
                        kv.value,
                    )
                })
                .collect(),
        })
    }

    /// Whether machine `id` may start `version` now.
    pub fn decide(&self, id: &str, version: &str, first: &Rollout) -> Result<Decision, EtcdError> {
        let state = self.state(version, first)?;
        let failures = u32::try_from(state.failed.len()).unwrap_or(u32::MAX);
        if state.halted() {
            return Ok(Decision::Halted {
                failures,
                started: state.started,
            });
        }
        if state.rollout.paused {
            return Ok(Decision::Paused);
        }
        let bucket = bucket(id, &self.group);
        if bucket >= state.rollout.share_percent {
            return Ok(Decision::NotYet {
                bucket,
                share_percent: state.rollout.share_percent,
            });
        }
        Ok(Decision::Go)
    }

    /// Machine `id` started `version`.
    pub fn report_started(&self, id: &str, version: &str) -> Result<(), EtcdError> {
        self.record_key(version)?;
        self.etcd
            .put(&format!("{}{id}", self.machines(version, "started")), "", 0)
    }

    /// `version` failed on machine `id` (fell back, or failed its health checks), saying `why`.
    pub fn report_failed(&self, id: &str, version: &str, why: &str) -> Result<(), EtcdError> {
        self.record_key(version)?;
        self.etcd
            .put(&format!("{}{id}", self.machines(version, "failed")), why, 0)
    }

    /// Changes the record of `version` with `change` (starting from `first` when there is
    /// none), retrying when another writer changed it meanwhile.
    pub fn update(
        &self,
        version: &str,
        first: &Rollout,
        change: impl Fn(&mut Rollout),
    ) -> Result<Rollout, EtcdError> {
        let key = self.record_key(version)?;
        loop {
            let (mut rollout, revision) =
                self.record(version)?.unwrap_or_else(|| (first.clone(), 0));
            change(&mut rollout);
            let put = Op::Put {
                key: key.clone(),
                value: serde_json::to_string(&rollout).unwrap_or_default(),
                lease: 0,
            };
            let unchanged = Compare::ModRevisionIs(key.clone(), revision);
            if self.etcd.txn(&[unchanged], &[put])? {
                return Ok(rollout);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_stable_and_spread() {
        assert_eq!(bucket("a", "g"), bucket("a", "g"));
        let mut counts = [0u32; 10];
        for n in 0..2000 {
            counts[usize::from(bucket(&format!("{n:032x}"), "gpu")) / 10] += 1;
        }
        // Each tenth of the buckets holds roughly a tenth of 2000 machines.
        assert!(counts.iter().all(|c| (140..=260).contains(c)), "{counts:?}");
        // Another group orders the machines otherwise.
        let differ = (0..100)
            .filter(|n| bucket(&format!("{n}"), "a") != bucket(&format!("{n}"), "b"))
            .count();
        assert!(differ > 80, "{differ}");
    }

    #[test]
    fn failures_halt_by_count_or_by_share() {
        let state = |started, failed: usize, rollout: Rollout| RolloutState {
            rollout,
            started,
            failed: (0..failed)
                .map(|n| (n.to_string(), String::new()))
                .collect(),
        };
        let by_count = Rollout {
            max_failures: 2,
            max_failure_percent: 0,
            ..Rollout::default()
        };
        assert!(!state(50, 1, by_count.clone()).halted());
        assert!(state(50, 2, by_count).halted());
        let by_share = Rollout {
            max_failures: 0,
            max_failure_percent: 20,
            ..Rollout::default()
        };
        assert!(!state(10, 1, by_share.clone()).halted());
        assert!(state(10, 2, by_share.clone()).halted());
        assert!(!state(0, 0, by_share).halted());
        let none = Rollout {
            max_failures: 0,
            max_failure_percent: 0,
            ..Rollout::default()
        };
        assert!(!state(10, 10, none).halted());
    }

    #[test]
    fn versions_stay_inside_their_keys() {
        assert!(valid_version("202612010800"));
        assert!(valid_version("1.2~rc1+b"));
        for bad in ["", "a/b", "..x/", "a b"] {
            assert!(!valid_version(bad), "{bad:?}");
        }
    }
}
