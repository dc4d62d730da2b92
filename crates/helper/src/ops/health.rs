//! The health checks of this boot: run, recorded, and what follows from them.

use crate::health::{self, CheckResult, Kind};
use crate::layout::Layout;
use crate::lifecycle;
use crate::ops::error::OpError;
use crate::record::history;
use crate::settings::{self, OnFailure};

/// What the health checks found, and what was done about it.
#[derive(Debug)]
pub struct HealthReport {
    /// Every required check passed.
    pub passed: bool,
    /// Each check.
    pub results: Vec<CheckResult>,
    /// Checks that could not be read (a bad file name, a file that is not executable).
    pub warnings: Vec<String>,
    /// The version this boot's entry was marked bad for, so that the next boot starts it
    /// (only when a required check failed and the policy says to reboot into it).
    pub fall_back_to: Option<String>,
}

/// Whether a set of results lets this boot be marked good.
pub fn passed(results: &[CheckResult]) -> bool {
    !results
        .iter()
        .any(|r| r.kind == Kind::Required && r.failed())
}

/// Whether the machine should go back to the previous version now.
pub fn falls_back(passed: bool, on_failure: OnFailure) -> bool {
    !passed && on_failure == OnFailure::RebootPrevious
}

/// Runs every installed health check, records the outcome in the history, and, when a required
/// one failed and the settings say so, marks this boot bad so that the previous version boots
/// next (the caller restarts the machine).
pub fn run_health_checks(layout: &Layout) -> Result<HealthReport, OpError> {
    let settings = settings::load(&layout.root)?;
    let (checks, warnings) = health::discover(&layout.root);
    let results = health::run_all(&checks, &layout.root, settings.health_timeout);
    let passed = passed(&results);
    history::append(
        &layout.state_dir(),
        &history::Event::HealthChecked {
            passed,
            checks: results.clone(),
        },
    );
    let fall_back_to = if falls_back(passed, settings.on_failure) {
        let state = crate::read_system(layout)?;
        Some(lifecycle::fall_back_now(layout, &state)?)
    } else {
        None
    };
    Ok(HealthReport {
        passed,
        results,
        warnings,
        fall_back_to,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::Outcome;

    fn result(kind: Kind, outcome: Outcome) -> CheckResult {
        CheckResult {
            name: "c".into(),
            kind,
            outcome,
            output: String::new(),
            duration_ms: 0,
        }
    }

    #[test]
    fn only_a_failed_required_check_fails_the_boot() {
        assert!(passed(&[]));
        assert!(passed(&[result(
            Kind::Wanted,
            Outcome::Failed { status: Some(1) }
        )]));
        assert!(passed(&[result(Kind::Required, Outcome::Skipped)]));
        assert!(!passed(&[result(
            Kind::Required,
            Outcome::TimedOut { after_secs: 5 }
        )]));
        assert!(!passed(&[
            result(Kind::Required, Outcome::Passed),
            result(Kind::Required, Outcome::NotRun { reason: "x".into() }),
        ]));
    }

    #[test]
    fn only_the_reboot_policy_falls_back() {
        assert!(falls_back(false, OnFailure::RebootPrevious));
        assert!(!falls_back(false, OnFailure::Wait));
        assert!(!falls_back(true, OnFailure::RebootPrevious));
    }
}
