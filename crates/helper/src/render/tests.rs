//! The helper's terminal output, checked against the text a person reads.

use super::ops;
use update_center_engine::health::{CheckResult, Kind, Outcome};
use update_center_engine::lifecycle::{BootReport, Rollback};
use update_center_engine::ops::HealthReport;
use update_center_engine::record::history::{Event, Record};
use update_center_engine::record::statefile::Fallback;
use update_center_engine::source::changelog::{Change, Changelog, Package, PackageDiff, Release};
use update_center_engine::update::transaction::Progress;

/// What `write` printed.
fn text(write: impl FnOnce(&mut Vec<u8>) -> anyhow::Result<()>) -> String {
    let mut out = Vec::new();
    write(&mut out).expect("written");
    String::from_utf8(out).expect("UTF-8")
}

fn rolled_back(held_back: &[&str]) -> Rollback {
    Rollback {
        version: "20261101".into(),
        entry: "kde-linux_20261101.efi".into(),
        once: false,
        written_to: "LoaderEntryDefault".into(),
        held_back: held_back.iter().map(|v| v.to_string()).collect(),
    }
}

#[test]
fn a_rollback_says_what_boots_and_what_is_held_back() {
    assert_eq!(
        text(|o| ops::rollback(&rolled_back(&["20261110", "20261120"]), false, false, o)),
        "Version 20261101 is now the default boot entry (kde-linux_20261101.efi, written to LoaderEntryDefault).\n\
         Held back from automatic updates: 20261110, 20261120.\n"
    );
    assert_eq!(
        text(|o| ops::rollback(&rolled_back(&[]), true, false, o)),
        "Version 20261101 boots next time, once (entry kde-linux_20261101.efi).\n"
    );
    let json: serde_json::Value = serde_json::from_str(&text(|o| {
        ops::rollback(&rolled_back(&["20261110"]), false, true, o)
    }))
    .expect("JSON");
    assert_eq!(json["held_back"][0], "20261110");
}

#[test]
fn pins_vacuums_and_boots_read_as_sentences() {
    assert_eq!(
        text(|o| ops::pin("20261101", true, true, o)),
        "Version 20261101 is pinned.\n"
    );
    assert_eq!(
        text(|o| ops::pin("20261101", false, false, o)),
        "Version 20261101 was unpinned already.\n"
    );
    assert_eq!(text(|o| ops::vacuum(&[], false, o)), "Nothing to remove.\n");
    assert_eq!(
        text(|o| ops::vacuum(&["1".into(), "2".into()], false, o)),
        "Removed 1, 2.\n"
    );
    assert_eq!(
        text(|o| ops::vacuum(&["1".into()], true, o)),
        "{\"removed\":[\"1\"]}\n"
    );
    let on_trial = BootReport {
        version: Some("20261120".into()),
        entry: Some("kde-linux_20261120+2-1.efi".into()),
        tries_left: Some(2),
        tries_done: Some(1),
        good: false,
        fallback: None,
    };
    assert_eq!(
        text(|o| ops::boot_record(&on_trial, false, o)),
        "Booted 20261120 (on trial: 2 tries left, 1 done).\n"
    );
    let fell_back = BootReport {
        version: Some("20261110".into()),
        good: true,
        tries_left: None,
        tries_done: None,
        entry: None,
        fallback: Some(Fallback {
            failed: "20261120".into(),
            tries: 3,
            running: "20261110".into(),
            time: "2026-11-30T02:00:00Z".into(),
        }),
    };
    assert_eq!(
        text(|o| ops::boot_record(&fell_back, false, o)),
        "Booted 20261110 (blessed as good).\n\
         Attention: version 20261120 failed to boot 3 times; running 20261110.\n"
    );
}

#[test]
fn history_is_one_line_per_record() {
    let records = [
        Record {
            time: "2026-11-30T02:00:00Z".into(),
            event: Event::Pinned {
                version: "20261101".into(),
            },
        },
        Record {
            time: "2026-11-30T01:00:00Z".into(),
            event: Event::Checked {
                candidate: String::new(),
            },
        },
    ];
    assert_eq!(
        text(|o| ops::history(&records, false, o)),
        "2026-11-30T02:00:00Z  pinned                 {\"version\":\"20261101\"}\n\
         2026-11-30T01:00:00Z  checked                {\"candidate\":\"\"}\n"
    );
    assert_eq!(text(|o| ops::history(&[], false, o)), "No history.\n");
}

#[test]
fn health_checks_show_why_they_failed() {
    let check = |name: &str, kind, outcome, output: &str| CheckResult {
        name: name.into(),
        kind,
        outcome,
        output: output.into(),
        duration_ms: 3,
    };
    let report = HealthReport {
        passed: false,
        results: vec![
            check("10-network", Kind::Required, Outcome::Passed, "fine"),
            check(
                "20-gpu",
                Kind::Required,
                Outcome::Failed { status: Some(2) },
                "no device\nsecond line",
            ),
            check(
                "30-slow",
                Kind::Wanted,
                Outcome::TimedOut { after_secs: 30 },
                "",
            ),
        ],
        warnings: Vec::new(),
        fall_back_to: None,
    };
    assert_eq!(
        text(|o| ops::health(&report, false, o)),
        "10-network                               required  passed\n\
         20-gpu                                   required  FAILED (exit status 2)\n    \
         no device\n    \
         second line\n\
         30-slow                                  wanted    FAILED (no answer in 30 s)\n"
    );
    let none = HealthReport {
        passed: true,
        results: Vec::new(),
        warnings: Vec::new(),
        fall_back_to: None,
    };
    assert_eq!(
        text(|o| ops::health(&none, false, o)),
        "No health checks are installed.\n"
    );
}

#[test]
fn a_changelog_lists_releases_and_package_changes() {
    let log = Changelog {
        from: "1".into(),
        to: "2".into(),
        releases: vec![Release {
            version: "2".into(),
            date: Some("2026-11-30".into()),
            description: vec!["Plasma 6.6".into(), "• faster login".into()],
            urls: vec!["https://kde.org/announcements/".into()],
        }],
        links: vec!["https://example.org/changes/2".into()],
        packages: Some(PackageDiff {
            added: vec![Package {
                name: "hello".into(),
                version: "2.10".into(),
            }],
            removed: Vec::new(),
            upgraded: vec![Change {
                name: "plasma-desktop".into(),
                from: "6.5.0".into(),
                to: "6.6.0".into(),
            }],
            downgraded: Vec::new(),
        }),
        notes: vec!["the older manifest is missing".into()],
    };
    assert_eq!(
        text(|o| ops::changelog(&log, false, o)),
        "Changes from 1 to 2\n\
         \n\
         2 (2026-11-30)\n  \
         Plasma 6.6\n  \
         • faster login\n  \
         https://kde.org/announcements/\n\
         \n\
         Full changelog: https://example.org/changes/2\n\
         \n\
         Packages: 1 upgraded, 0 downgraded, 1 added, 0 removed\n  \
         ↑ plasma-desktop 6.5.0 → 6.6.0\n  \
         + hello 2.10\n\
         \n\
         Note: the older manifest is missing\n"
    );
}

#[test]
fn download_progress_rewrites_one_line_per_percent() {
    let mut report = ops::UpdateReport::new(false);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    for done_bytes in [0, 5, 10, 10, 100] {
        let event = update_center_engine::ops::Event::Progress(Progress::Downloading {
            done_bytes,
            total_bytes: 100,
            rate_bytes_per_sec: 2_000_000,
            eta_secs: Some(3),
        });
        report.event(&event, &mut out, &mut err).expect("written");
    }
    report
        .event(
            &update_center_engine::ops::Event::Progress(Progress::Committing),
            &mut out,
            &mut err,
        )
        .expect("written");
    report.installed("2", &mut out).expect("written");
    assert_eq!(
        String::from_utf8(err).expect("UTF-8"),
        "\r  downloading:   0% (0 of 100 bytes, 2.0 MB/s, 3 s left)\
         \r  downloading:   5% (5 of 100 bytes, 2.0 MB/s, 3 s left)\
         \r  downloading:  10% (10 of 100 bytes, 2.0 MB/s, 3 s left)\
         \r  downloading: 100% (100 of 100 bytes, 2.0 MB/s, 3 s left)\n  committing\n"
    );
    assert_eq!(
        String::from_utf8(out).expect("UTF-8"),
        "Installed 2. It boots next time (on trial until it is blessed).\n"
    );
    let mut json = ops::UpdateReport::new(true);
    let mut out = Vec::new();
    json.event(
        &update_center_engine::ops::Event::Progress(Progress::Downloading {
            done_bytes: 50,
            total_bytes: 100,
            rate_bytes_per_sec: 10,
            eta_secs: None,
        }),
        &mut out,
        &mut Vec::new(),
    )
    .expect("written");
    let line: serde_json::Value = serde_json::from_slice(&out).expect("one JSON line");
    assert_eq!(line["done_bytes"], 50);
    assert_eq!(line["eta_secs"], serde_json::Value::Null);
}
