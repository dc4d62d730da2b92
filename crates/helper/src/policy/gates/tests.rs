//! The gates' decisions, fact by fact.

use super::*;
use crate::policy::gpu::Source;
use crate::policy::window::Window;

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("a time")
        .with_timezone(&Utc)
}

fn kinds(reasons: &[Reason]) -> Vec<&str> {
    reasons.iter().map(|r| r.kind.as_str()).collect()
}

fn server() -> Policy {
    Policy {
        restart: RestartWhen::Window,
        windows: Windows::new(vec![
            Window::parse("Sat,Sun 02:00 3h Europe/Berlin").expect("window"),
        ]),
        wait_for_sessions: false,
        ..Policy::default()
    }
}

#[test]
fn a_download_waits_for_a_metered_link_a_low_battery_and_a_captive_portal() {
    let policy = Policy::default();
    let home = Environment {
        metered: Metered::GuessNo,
        connectivity: Connectivity::Full,
        on_battery: true,
        battery_percent: Some(80.0),
    };
    assert!(download_reasons(&policy, &home, false).is_empty());
    let hotspot = Environment {
        metered: Metered::GuessYes,
        ..home.clone()
    };
    let reasons = download_reasons(&policy, &hotspot, false);
    assert_eq!(kinds(&reasons), ["metered"]);
    assert_eq!(reasons[0].fields["guess"], "yes");
    assert!(
        download_reasons(&policy, &hotspot, true).is_empty(),
        "overridden once"
    );
    let allowed = Policy {
        download_on_metered: true,
        ..Policy::default()
    };
    assert!(download_reasons(&allowed, &hotspot, false).is_empty());
    let low = Environment {
        battery_percent: Some(12.0),
        ..home.clone()
    };
    let reasons = download_reasons(&policy, &low, false);
    assert_eq!(kinds(&reasons), ["battery"]);
    assert_eq!(reasons[0].fields["percent"], "12");
    assert_eq!(reasons[0].fields["min"], "30");
    let plugged = Environment {
        on_battery: false,
        ..low.clone()
    };
    assert!(download_reasons(&policy, &plugged, false).is_empty());
    let portal = Environment {
        connectivity: Connectivity::Portal,
        metered: Metered::Yes,
        ..home
    };
    assert_eq!(
        kinds(&download_reasons(&policy, &portal, false)),
        ["captive-portal", "metered"]
    );
}

#[test]
fn a_restart_waits_for_the_window_and_says_when_it_opens() {
    let policy = server();
    // Friday noon in Berlin: the next window opens Saturday 02:00 CET (01:00 UTC).
    let facts = RestartFacts {
        now: at("2026-12-04T11:00:00Z"),
        ..RestartFacts::default()
    };
    let reasons = restart_reasons(&policy, &facts);
    assert_eq!(kinds(&reasons), ["outside-window"]);
    assert_eq!(reasons[0].fields["next"], "2026-12-05T01:00:00Z");
    let inside = RestartFacts {
        now: at("2026-12-05T02:30:00Z"),
        ..RestartFacts::default()
    };
    assert!(restart_reasons(&policy, &inside).is_empty());
    let never = Policy::default();
    assert_eq!(kinds(&restart_reasons(&never, &inside)), ["manual-restart"]);
    let no_windows = Policy {
        windows: Windows::never(),
        ..server()
    };
    let reasons = restart_reasons(&no_windows, &inside);
    assert_eq!(kinds(&reasons), ["outside-window"]);
    assert!(!reasons[0].fields.contains_key("next"));
}

#[test]
fn loginds_maintenance_time_is_a_window_unless_the_policy_ignores_it() {
    let policy = Policy {
        windows: Windows::never(),
        ..server()
    };
    let facts = RestartFacts {
        now: at("2026-12-02T04:30:00Z"),
        logind_windows: Windows::new(vec![
            Window::from_logind("04:00", chrono::TimeDelta::hours(1), chrono_tz::UTC)
                .expect("logind"),
        ]),
        ..RestartFacts::default()
    };
    assert!(restart_reasons(&policy, &facts).is_empty());
    let ignoring = Policy {
        logind_maintenance: false,
        ..policy
    };
    assert_eq!(
        kinds(&restart_reasons(&ignoring, &facts)),
        ["outside-window"]
    );
}

#[test]
fn inhibitors_sessions_gpu_jobs_and_the_busy_command_each_block_a_restart() {
    let policy = Policy {
        restart: RestartWhen::Immediate,
        busy_command: Some("/usr/local/bin/busy".into()),
        ..Policy::default()
    };
    let now = at("2026-12-02T10:00:00Z");
    let free = RestartFacts {
        now,
        inhibitors: vec![Inhibitor {
            what: "sleep:idle".into(),
            who: "PowerDevil".into(),
            why: "video".into(),
            mode: "block".into(),
            pid: 10,
        }],
        sessions: vec![Session {
            id: "c1".into(),
            user: "sddm".into(),
            class: "greeter".into(),
            remote: false,
        }],
        busy: Some(Busy::Free),
        ..RestartFacts::default()
    };
    assert!(
        restart_reasons(&policy, &free).is_empty(),
        "none of these blocks"
    );
    let busy = RestartFacts {
        inhibitors: vec![Inhibitor {
            what: "shutdown:sleep".into(),
            who: "backup".into(),
            why: "copying".into(),
            mode: "block".into(),
            pid: 42,
        }],
        sessions: vec![
            Session {
                id: "3".into(),
                user: "ana".into(),
                class: "user".into(),
                remote: true,
            },
            Session {
                id: "4".into(),
                user: "ana".into(),
                class: "user".into(),
                remote: true,
            },
        ],
        gpu: vec![
            GpuWork {
                pid: 5678,
                name: None,
                source: Source::NvidiaSmi,
                detail: String::new(),
            },
            GpuWork {
                pid: 1234,
                name: None,
                source: Source::AmdKfd,
                detail: String::new(),
            },
        ],
        busy: Some(Busy::Busy(1)),
        ..free.clone()
    };
    let reasons = restart_reasons(&policy, &busy);
    assert_eq!(
        kinds(&reasons),
        ["inhibitor", "sessions", "gpu-jobs", "busy-command"]
    );
    assert_eq!(reasons[0].fields["who"], "backup");
    assert_eq!(reasons[1].fields["count"], "2");
    assert_eq!(reasons[1].fields["users"], "ana (remote)");
    assert_eq!(reasons[2].fields["pids"], "1234, 5678");
    assert_eq!(reasons[3].fields["status"], "exit status 1");
    let relaxed = Policy {
        wait_for_sessions: false,
        wait_for_gpu_jobs: false,
        busy_command: None,
        ..policy
    };
    assert_eq!(kinds(&restart_reasons(&relaxed, &busy)), ["inhibitor"]);
}

#[test]
fn waiting_longer_than_allowed_is_said_loudly_but_restarts_nothing() {
    let policy = server();
    let facts = RestartFacts {
        now: at("2026-12-04T11:00:00Z"),
        staged_at: Some(at("2026-12-01T10:00:00Z")),
        ..RestartFacts::default()
    };
    let reasons = restart_reasons(&policy, &facts);
    assert_eq!(kinds(&reasons), ["outside-window", "overdue"]);
    assert_eq!(reasons[1].fields["hours"], "73");
    let recent = RestartFacts {
        staged_at: Some(at("2026-12-04T10:00:00Z")),
        ..facts
    };
    assert_eq!(
        kinds(&restart_reasons(&policy, &recent)),
        ["outside-window"]
    );
}

#[test]
fn every_reason_reads_as_a_line() {
    let reason = Reason::new(
        "gpu-jobs",
        &[("count", "2".into()), ("pids", "1, 2".into())],
    );
    assert_eq!(reason.describe(), "2 GPU jobs running (pids 1, 2)");
    assert_eq!(
        Reason::new("metered", &[]).describe(),
        "on a metered connection"
    );
}
