//! Results of the health checks that decide whether a boot is good, as the helper keeps them in
//! the history (`health-checked` records). The checks themselves run in the helper.

use serde::{Deserialize, Serialize};

/// Whether a failure of a check fails the boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Its failure keeps the boot from being marked good.
    Required,
    /// Its failure is recorded and shown, nothing more.
    Wanted,
}

/// How a check ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    /// Exit status 0.
    Passed,
    /// Exit status 77: it does not apply here.
    Skipped,
    /// Another exit status, or killed by a signal (`status` absent).
    Failed {
        /// The exit status.
        status: Option<i32>,
    },
    /// Ran past its timeout and was killed.
    TimedOut {
        /// The timeout, in seconds.
        after_secs: u64,
    },
    /// Could not be started.
    NotRun {
        /// Why.
        reason: String,
    },
}

/// The result of one check, as kept in the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    /// Its file name.
    pub name: String,
    /// Its kind.
    pub kind: Kind,
    /// How it ended.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Standard output and error, interleaved, cut by the helper at 16 KiB.
    pub output: String,
    /// How long it ran, in milliseconds.
    pub duration_ms: u64,
}

impl CheckResult {
    /// Whether it counts against the boot.
    pub fn failed(&self) -> bool {
        !matches!(self.outcome, Outcome::Passed | Outcome::Skipped)
    }
}
