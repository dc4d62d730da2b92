//! The service's state: the one word the helper publishes in its `State` property, and the
//! transitions between states, written once here. The helper drives a [`Machine`] with
//! [`Event`]s; the CLI and the tray read the word back with [`ServiceState::parse`]; QML
//! compares the same words (see `docs/state.md` for the diagram).

/// What the service is doing, as its `State` property says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceState {
    /// Nothing runs; nothing waits for a restart.
    Idle,
    /// A check of the update sources runs.
    Checking,
    /// An install runs and decides what to download and remove.
    Planning,
    /// An install downloads and verifies.
    Downloading,
    /// An install puts verified files in place.
    Installing,
    /// Another version boots next than runs now (staged, or chosen by a rollback).
    ReadyToRestart,
    /// The last job failed (its message is in `LastError`).
    Error,
}

impl ServiceState {
    /// Every state, in the order of the diagram.
    pub const ALL: [Self; 7] = [
        Self::Idle,
        Self::Checking,
        Self::Planning,
        Self::Downloading,
        Self::Installing,
        Self::ReadyToRestart,
        Self::Error,
    ];

    /// The word on the bus.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Checking => "checking",
            Self::Planning => "planning",
            Self::Downloading => "downloading",
            Self::Installing => "installing",
            Self::ReadyToRestart => "ready-to-restart",
            Self::Error => "error",
        }
    }

    /// The state a word names (none for a word this client does not know).
    pub fn parse(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == word)
    }

    /// Whether a job runs in this state.
    pub fn is_busy(self) -> bool {
        matches!(
            self,
            Self::Checking | Self::Planning | Self::Downloading | Self::Installing
        )
    }

    /// Whether an install runs in this state.
    pub fn is_installing(self) -> bool {
        matches!(self, Self::Planning | Self::Downloading | Self::Installing)
    }
}

impl std::fmt::Display for ServiceState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happens to the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A check of the sources begins.
    CheckStarted,
    /// An install begins (with its plan).
    InstallStarted,
    /// The plan is made: the download begins.
    DownloadStarted,
    /// The download is verified: the files are put in place.
    InstallingStarted,
    /// The job ended well.
    JobSucceeded,
    /// The job failed or was cancelled.
    JobFailed,
    /// The system was read again: whether another version boots next than runs.
    SystemRead {
        /// A restart would bring another version.
        restart_pending: bool,
    },
}

/// The service's state and what it remembers between jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Machine {
    /// The job's phase, while one runs.
    job: Option<ServiceState>,
    /// The last job failed.
    failed: bool,
    /// Another version boots next than runs.
    restart_pending: bool,
}

impl Machine {
    /// A service that starts up: `failed` when its start-up found something to report (an
    /// interrupted update), `restart_pending` when another version boots next.
    pub fn new(failed: bool, restart_pending: bool) -> Self {
        Self {
            job: None,
            failed,
            restart_pending,
        }
    }

    /// The state now: a running job's phase, else a failure, else a pending restart, else idle.
    pub fn state(&self) -> ServiceState {
        match self.job {
            Some(phase) => phase,
            None if self.failed => ServiceState::Error,
            None if self.restart_pending => ServiceState::ReadyToRestart,
            None => ServiceState::Idle,
        }
    }

    /// Applies `event`; the state afterwards. An event that does not fit the state (a phase
    /// of an install while none runs) changes nothing.
    pub fn apply(&mut self, event: Event) -> ServiceState {
        match (self.job, event) {
            (None, Event::CheckStarted) => {
                self.job = Some(ServiceState::Checking);
                self.failed = false;
            }
            (None, Event::InstallStarted) => {
                self.job = Some(ServiceState::Planning);
                self.failed = false;
            }
            (Some(ServiceState::Planning), Event::DownloadStarted) => {
                self.job = Some(ServiceState::Downloading);
            }
            (
                Some(ServiceState::Planning | ServiceState::Downloading),
                Event::InstallingStarted,
            ) => {
                self.job = Some(ServiceState::Installing);
            }
            (Some(_), Event::JobSucceeded) => self.job = None,
            (Some(_), Event::JobFailed) => {
                self.job = None;
                self.failed = true;
            }
            (_, Event::SystemRead { restart_pending }) => self.restart_pending = restart_pending,
            _ => {}
        }
        self.state()
    }
}

#[cfg(test)]
mod tests {
    use super::{Event, Machine, ServiceState as S};

    fn machine_in(state: S) -> Machine {
        let mut m = Machine::new(state == S::Error, state == S::ReadyToRestart);
        match state {
            S::Checking => {
                m.apply(Event::CheckStarted);
            }
            S::Planning => {
                m.apply(Event::InstallStarted);
            }
            S::Downloading => {
                m.apply(Event::InstallStarted);
                m.apply(Event::DownloadStarted);
            }
            S::Installing => {
                m.apply(Event::InstallStarted);
                m.apply(Event::DownloadStarted);
                m.apply(Event::InstallingStarted);
            }
            _ => {}
        }
        assert_eq!(m.state(), state);
        m
    }

    #[test]
    fn every_word_parses_back() {
        for state in S::ALL {
            assert_eq!(S::parse(state.as_str()), Some(state));
        }
        assert_eq!(S::parse("finished"), None);
    }

    #[test]
    fn idle_starts_a_check_or_an_install() {
        assert_eq!(machine_in(S::Idle).apply(Event::CheckStarted), S::Checking);
        assert_eq!(
            machine_in(S::Idle).apply(Event::InstallStarted),
            S::Planning
        );
    }

    #[test]
    fn a_check_ends_idle_or_in_error() {
        assert_eq!(machine_in(S::Checking).apply(Event::JobSucceeded), S::Idle);
        assert_eq!(machine_in(S::Checking).apply(Event::JobFailed), S::Error);
    }

    #[test]
    fn an_install_goes_planning_downloading_installing() {
        assert_eq!(
            machine_in(S::Planning).apply(Event::DownloadStarted),
            S::Downloading
        );
        assert_eq!(
            machine_in(S::Downloading).apply(Event::InstallingStarted),
            S::Installing
        );
        // Nothing to download (resumed in full): straight to installing.
        assert_eq!(
            machine_in(S::Planning).apply(Event::InstallingStarted),
            S::Installing
        );
    }

    #[test]
    fn an_install_that_staged_a_version_waits_for_the_restart() {
        let mut m = machine_in(S::Installing);
        // The system is read again before the job's end is published.
        assert_eq!(
            m.apply(Event::SystemRead {
                restart_pending: true
            }),
            S::Installing
        );
        assert_eq!(m.apply(Event::JobSucceeded), S::ReadyToRestart);
    }

    #[test]
    fn a_failed_or_cancelled_install_is_an_error_until_the_next_job() {
        for from in [S::Planning, S::Downloading, S::Installing] {
            let mut m = machine_in(from);
            assert_eq!(m.apply(Event::JobFailed), S::Error, "from {from}");
            assert_eq!(m.apply(Event::CheckStarted), S::Checking);
            assert_eq!(m.apply(Event::JobSucceeded), S::Idle);
        }
    }

    #[test]
    fn an_error_outranks_a_pending_restart_and_a_new_job_clears_it() {
        let mut m = machine_in(S::ReadyToRestart);
        m.apply(Event::CheckStarted);
        assert_eq!(m.apply(Event::JobFailed), S::Error);
        m.apply(Event::InstallStarted);
        assert_eq!(m.apply(Event::JobSucceeded), S::ReadyToRestart);
    }

    #[test]
    fn a_rollback_or_a_boot_moves_between_idle_and_ready_to_restart() {
        assert_eq!(
            machine_in(S::Idle).apply(Event::SystemRead {
                restart_pending: true
            }),
            S::ReadyToRestart
        );
        assert_eq!(
            machine_in(S::ReadyToRestart).apply(Event::SystemRead {
                restart_pending: false
            }),
            S::Idle
        );
    }

    #[test]
    fn events_that_do_not_fit_change_nothing() {
        for state in S::ALL {
            for event in [Event::DownloadStarted, Event::InstallingStarted] {
                let mut m = machine_in(state);
                let after = m.apply(event);
                let fits = matches!(
                    (state, event),
                    (S::Planning, _) | (S::Downloading, Event::InstallingStarted)
                );
                if !fits {
                    assert_eq!(after, state, "{event:?} in {state}");
                }
            }
            if !state.is_busy() {
                let mut m = machine_in(state);
                assert_eq!(m.apply(Event::JobSucceeded), state);
                assert_eq!(m.apply(Event::JobFailed), state);
            } else {
                let mut m = machine_in(state);
                assert_eq!(m.apply(Event::CheckStarted), state, "no second job");
            }
        }
    }
}
