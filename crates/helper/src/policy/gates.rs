//! The gates of the automatic path: what an automatic download and an automatic restart wait
//! for, decided from a policy and the facts of the moment (network, power, inhibitors,
//! sessions, GPU work, a site's own command, the clock). Pure: the facts are gathered
//! elsewhere, so every rule is tested here with stand-in facts and an injected clock.
//!
//! Each reason is a kind and named fields, never a sentence: clients say it in their language.

use crate::policy::gpu::GpuWork;
use crate::policy::window::Windows;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

pub use update_center_client::settings::RestartWhen;

/// A machine's policy (`[Policy]` in the settings file).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Policy {
    /// `AutomaticInstall=`: an automatic download also stages the version (otherwise the
    /// files wait, verified, in the download cache until someone installs).
    pub automatic_install: bool,
    /// `Restart=`: never, window or immediate.
    pub restart: RestartWhen,
    /// `Windows=`: maintenance windows, `;`-separated (`Sat,Sun 02:00 3h Europe/Berlin`).
    #[serde(skip)]
    pub windows: Windows,
    /// The text of `Windows=`, as written.
    pub windows_text: String,
    /// `UseLogindMaintenanceTime=`: logind's `DesignatedMaintenanceTime=`, where set, is a
    /// window too.
    pub logind_maintenance: bool,
    /// `DownloadOnMetered=`: automatic downloads on a metered connection.
    pub download_on_metered: bool,
    /// `MinBatteryPercent=`: no automatic download on battery below this charge (0: any).
    pub min_battery_percent: u8,
    /// `WaitForSessions=`: people logged in (locally or remotely) hold an automatic restart.
    pub wait_for_sessions: bool,
    /// `WaitForGpuJobs=`: GPU compute work holds an automatic restart.
    pub wait_for_gpu_jobs: bool,
    /// `BusyCommand=`: a site's command; exit status 0 means the machine may restart now,
    /// anything else that it is busy.
    pub busy_command: Option<String>,
    /// `MaxPostponeHours=`: after this long waiting with a staged version, the administrator is
    /// told loudly (the journal, the status, the metrics); the machine is still not restarted
    /// unless the policy allows it.
    pub max_postpone_hours: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            automatic_install: true,
            restart: RestartWhen::Never,
            windows: Windows::never(),
            windows_text: String::new(),
            logind_maintenance: true,
            download_on_metered: false,
            min_battery_percent: 30,
            wait_for_sessions: true,
            wait_for_gpu_jobs: true,
            busy_command: None,
            max_postpone_hours: 72,
        }
    }
}

/// NetworkManager's `Metered` (NMMetered).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Metered {
    /// Not known (no NetworkManager).
    #[default]
    Unknown,
    /// Metered, as the user or the connection says.
    Yes,
    /// Not metered.
    No,
    /// Probably metered (a phone hotspot, a mobile connection).
    GuessYes,
    /// Probably not.
    GuessNo,
}

impl Metered {
    /// From NetworkManager's number.
    pub fn from_nm(value: u32) -> Self {
        match value {
            1 => Self::Yes,
            2 => Self::No,
            3 => Self::GuessYes,
            4 => Self::GuessNo,
            _ => Self::Unknown,
        }
    }
}

/// NetworkManager's `Connectivity` (NMConnectivityState).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Connectivity {
    /// Not known (no NetworkManager, or it does not check).
    #[default]
    Unknown,
    /// No network.
    None,
    /// Behind a captive portal: requests end at a login page.
    Portal,
    /// Some network, no internet.
    Limited,
    /// The internet.
    Full,
}

impl Connectivity {
    /// From NetworkManager's number.
    pub fn from_nm(value: u32) -> Self {
        match value {
            1 => Self::None,
            2 => Self::Portal,
            3 => Self::Limited,
            4 => Self::Full,
            _ => Self::Unknown,
        }
    }
}

/// Network and power, as NetworkManager and UPower see them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Environment {
    /// The primary connection's metering.
    pub metered: Metered,
    /// Connectivity.
    pub connectivity: Connectivity,
    /// Running on battery.
    pub on_battery: bool,
    /// The battery's charge, when known.
    pub battery_percent: Option<f64>,
}

/// A logind inhibitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inhibitor {
    /// What it inhibits (`shutdown:sleep`, ...).
    pub what: String,
    /// Who holds it.
    pub who: String,
    /// Why.
    pub why: String,
    /// `block` or `delay`.
    pub mode: String,
    /// The holder's process.
    pub pid: u32,
}

/// A logind session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Its id.
    pub id: String,
    /// Its user.
    pub user: String,
    /// `user`, `greeter`, `lock-screen`, `background`, ...
    pub class: String,
    /// Logged in over the network (ssh).
    pub remote: bool,
}

/// What a site's busy command said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Busy {
    /// Exit status 0: free.
    Free,
    /// Another status: busy.
    Busy(i32),
    /// It could not be run (a missing file, killed by a signal, too slow): counted as busy.
    Failed(String),
}

/// The facts an automatic restart is decided on.
#[derive(Debug, Clone, Default)]
pub struct RestartFacts {
    /// Now.
    pub now: DateTime<Utc>,
    /// Windows from logind's `DesignatedMaintenanceTime=`, when set.
    pub logind_windows: Windows,
    /// logind's inhibitors.
    pub inhibitors: Vec<Inhibitor>,
    /// logind's sessions.
    pub sessions: Vec<Session>,
    /// GPU compute work.
    pub gpu: Vec<GpuWork>,
    /// The site's busy command, when one is set and was run.
    pub busy: Option<Busy>,
    /// When the version waiting for a restart was staged.
    pub staged_at: Option<DateTime<Utc>>,
}

/// One thing an automatic step waits for: a kind and its fields (docs/policies.md lists them).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Reason {
    /// What it is (`metered`, `outside-window`, `gpu-jobs`, ...).
    pub kind: String,
    /// Its details, by name.
    pub fields: BTreeMap<String, String>,
}

impl Reason {
    /// A reason of `kind` with its `fields`.
    pub fn new(kind: &str, fields: &[(&str, String)]) -> Self {
        Self {
            kind: kind.to_string(),
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        }
    }

    /// One English line, for the journal and the command line.
    pub fn describe(&self) -> String {
        let fields = self
            .fields
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        update_center_client::waiting::describe(&self.kind, &fields)
    }
}

/// What an automatic download waits for (a check is never held: a few KB of signed metadata).
pub fn download_reasons(
    policy: &Policy,
    env: &Environment,
    allow_metered_once: bool,
) -> Vec<Reason> {
    let mut reasons = Vec::new();
    match env.connectivity {
        Connectivity::None => reasons.push(Reason::new("offline", &[])),
        Connectivity::Portal => reasons.push(Reason::new("captive-portal", &[])),
        _ => {}
    }
    let metered = matches!(env.metered, Metered::Yes | Metered::GuessYes);
    if metered && !policy.download_on_metered && !allow_metered_once {
        reasons.push(Reason::new(
            "metered",
            &[(
                "guess",
                if env.metered == Metered::GuessYes {
                    "yes"
                } else {
                    "no"
                }
                .into(),
            )],
        ));
    }
    if env.on_battery
        && policy.min_battery_percent > 0
        && let Some(percent) = env.battery_percent
        && percent < f64::from(policy.min_battery_percent)
    {
        reasons.push(Reason::new(
            "battery",
            &[
                ("percent", format!("{percent:.0}")),
                ("min", policy.min_battery_percent.to_string()),
            ],
        ));
    }
    reasons
}

/// Whether a session is a person's: a user session (not a greeter, a lock screen or a
/// background service's).
fn interactive(session: &Session) -> bool {
    session.class == "user"
}

/// What an automatic restart into a staged version waits for; empty: restart now.
pub fn restart_reasons(policy: &Policy, facts: &RestartFacts) -> Vec<Reason> {
    let mut reasons = Vec::new();
    match policy.restart {
        RestartWhen::Never => reasons.push(Reason::new("manual-restart", &[])),
        RestartWhen::Window => {
            let mut all: Vec<_> = policy.windows.as_slice().to_vec();
            if policy.logind_maintenance {
                all.extend_from_slice(facts.logind_windows.as_slice());
            }
            let windows = Windows::new(all);
            if !windows.contains(facts.now) {
                let next = windows.next_start(facts.now);
                reasons.push(Reason::new(
                    "outside-window",
                    &next
                        .map(|n| ("next", n.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))
                        .into_iter()
                        .collect::<Vec<_>>(),
                ));
            }
        }
        RestartWhen::Immediate => {}
    }
    reasons.extend(blockers(policy, facts));
    if let Some(staged) = facts.staged_at {
        let hours = (facts.now - staged).num_hours().max(0) as u64;
        if !reasons.is_empty()
            && policy.max_postpone_hours > 0
            && hours >= policy.max_postpone_hours
        {
            reasons.push(Reason::new(
                "overdue",
                &[
                    ("hours", hours.to_string()),
                    ("max", policy.max_postpone_hours.to_string()),
                    (
                        "since",
                        staged.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    ),
                ],
            ));
        }
    }
    reasons
}

/// What holds any restart, automatic or not: a person about to restart is warned of these.
pub fn blockers(policy: &Policy, facts: &RestartFacts) -> Vec<Reason> {
    let mut reasons = Vec::new();
    for inhibitor in &facts.inhibitors {
        if inhibitor.mode == "block" && inhibitor.what.split(':').any(|w| w == "shutdown") {
            reasons.push(Reason::new(
                "inhibitor",
                &[
                    ("who", inhibitor.who.clone()),
                    ("why", inhibitor.why.clone()),
                    ("pid", inhibitor.pid.to_string()),
                ],
            ));
        }
    }
    if policy.wait_for_sessions {
        let people: Vec<&Session> = facts.sessions.iter().filter(|s| interactive(s)).collect();
        if !people.is_empty() {
            let mut users: Vec<String> = people
                .iter()
                .map(|s| {
                    if s.remote {
                        format!("{} (remote)", s.user)
                    } else {
                        s.user.clone()
                    }
                })
                .collect();
            users.sort();
            users.dedup();
            reasons.push(Reason::new(
                "sessions",
                &[
                    ("count", people.len().to_string()),
                    ("users", users.join(", ")),
                ],
            ));
        }
    }
    if policy.wait_for_gpu_jobs && !facts.gpu.is_empty() {
        let mut pids: Vec<u32> = facts.gpu.iter().map(|w| w.pid).collect();
        pids.sort_unstable();
        pids.dedup();
        reasons.push(Reason::new(
            "gpu-jobs",
            &[
                ("count", pids.len().to_string()),
                (
                    "pids",
                    pids.iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
            ],
        ));
    }
    if let (Some(command), Some(busy)) = (&policy.busy_command, &facts.busy) {
        let status = match busy {
            Busy::Free => None,
            Busy::Busy(code) => Some(format!("exit status {code}")),
            Busy::Failed(why) => Some(why.clone()),
        };
        if let Some(status) = status {
            reasons.push(Reason::new(
                "busy-command",
                &[("command", command.clone()), ("status", status)],
            ));
        }
    }
    reasons
}

#[cfg(test)]
mod tests;
