//! The decisions about boots, as values: what a boot records and whether it reveals a fallback,
//! where going back at once leads, and the badges of each version.

use super::*;
use crate::lifecycle::decide::{BootRecord, FallBackDecision};
use crate::lifecycle::{BootReport, states};
use std::path::PathBuf;

const TIME: &str = "2026-12-02T08:00:00Z";

#[test]
fn a_newer_version_out_of_tries_is_a_fallback_flagged_and_held_back() {
    let root = Root::new(
        &[
            VersionSpec::complete(A),
            VersionSpec::complete(B),
            counted(C, 0, 2),
        ],
        Some(B),
        false,
    );
    let system = root.state();
    let fallback = Fallback {
        failed: C.into(),
        tries: 2,
        running: B.into(),
        time: TIME.into(),
    };
    assert_eq!(
        decide::record_boot(&system, &LifecycleState::default(), TIME),
        BootRecord {
            report: BootReport {
                version: Some(B.into()),
                entry: Some("kde-linux_202611150000.efi".into()),
                tries_left: None,
                tries_done: None,
                good: true,
                fallback: Some(fallback.clone()),
            },
            state: Some(LifecycleState {
                held_back: set(&[C]),
                fallback: Some(fallback.clone()),
                ..LifecycleState::default()
            }),
        }
    );
    let flagged = LifecycleState {
        fallback: Some(fallback),
        ..LifecycleState::default()
    };
    let again = decide::record_boot(&system, &flagged, "2026-12-03T08:00:00Z");
    assert_eq!(again.report.fallback, None, "found once");
    assert_eq!(again.state, None);
    let chosen = LifecycleState {
        rollback_default: Some(B.into()),
        ..LifecycleState::default()
    };
    assert_eq!(
        decide::fallback(&system, &chosen, TIME),
        None,
        "a version rolled back to runs by choice, not by fallback"
    );
}

#[test]
fn the_newest_failed_version_is_the_fallback_and_an_older_one_is_none() {
    let root = Root::new(
        &[
            counted(A, 0, 3),
            VersionSpec::complete(B),
            counted(C, 0, 2),
            counted(D, 0, 1),
        ],
        Some(B),
        false,
    );
    let found =
        decide::fallback(&root.state(), &LifecycleState::default(), TIME).expect("a fallback");
    assert_eq!((found.failed.as_str(), found.tries), (D, 1));

    let root = Root::new(
        &[counted(A, 0, 3), VersionSpec::complete(B)],
        Some(B),
        false,
    );
    let record = decide::record_boot(&root.state(), &LifecycleState::default(), TIME);
    assert_eq!(
        record.report.fallback, None,
        "A is older than the running B"
    );
    assert_eq!(record.state, None);
}

#[test]
fn a_boot_on_trial_reports_its_counter_and_the_selected_entry_wins() {
    let root = Root::new(&[VersionSpec::complete(B), counted(C, 1, 1)], Some(C), true);
    let record = decide::record_boot(&root.state(), &LifecycleState::default(), TIME);
    assert_eq!(
        record.report,
        BootReport {
            version: Some(C.into()),
            entry: Some("kde-linux_202612010000.efi".into()),
            tries_left: Some(1),
            tries_done: Some(1),
            good: false,
            fallback: None,
        }
    );
    root.write("efi/EFI/Linux/memtest.efi", "MZ");
    root.set(Var::Selected, "memtest.efi");
    let report = decide::record_boot(&root.state(), &LifecycleState::default(), TIME).report;
    assert_eq!(
        (
            report.version.as_deref(),
            report.entry.as_deref(),
            report.good
        ),
        (Some(C), Some("memtest.efi"), true)
    );
}

#[test]
fn a_boot_without_a_version_records_nothing_but_itself() {
    let root = Root::new(&[VersionSpec::complete(A)], None, false);
    assert_eq!(
        decide::record_boot(&root.state(), &LifecycleState::default(), TIME),
        BootRecord {
            report: BootReport {
                version: None,
                entry: None,
                tries_left: None,
                tries_done: None,
                good: false,
                fallback: None,
            },
            state: None,
        }
    );
}

#[test]
fn falling_back_marks_a_running_trial_bad_and_boots_the_newest_older_good_version_once() {
    let root = Root::new(
        &[VersionSpec::complete(A), counted(B, 0, 3), counted(C, 1, 1)],
        Some(C),
        true,
    );
    assert_eq!(
        decide::fall_back(&root.state()).expect("a version to go back to"),
        FallBackDecision {
            previous: A.into(),
            mark_bad: Some((
                PathBuf::from("/efi/EFI/Linux/kde-linux_202612010000+1-1.efi"),
                PathBuf::from("/efi/EFI/Linux/kde-linux_202612010000+0-1.efi"),
            )),
            boot_once: true,
        },
        "B failed to boot: it is passed over"
    );
}

#[test]
fn falling_back_from_a_blessed_version_renames_nothing_and_skips_incomplete_ones() {
    let mut partial = VersionSpec::complete(B);
    partial.caibx = false;
    let root = Root::new(
        &[VersionSpec::complete(A), partial, VersionSpec::complete(C)],
        Some(C),
        false,
    );
    assert_eq!(
        decide::fall_back(&root.state()).expect("a version to go back to"),
        FallBackDecision {
            previous: A.into(),
            mark_bad: None,
            boot_once: false,
        }
    );
}

#[test]
fn falling_back_needs_a_running_version_and_an_older_one() {
    let root = Root::of(&[C], C, true);
    assert!(matches!(
        decide::fall_back(&root.state()),
        Err(LifecycleError::NotInstalled(what)) if what == "an older complete version"
    ));
    let root = Root::new(&[VersionSpec::complete(A)], None, true);
    assert!(matches!(
        decide::fall_back(&root.state()),
        Err(LifecycleError::NotInstalled(what)) if what == "(the running version)"
    ));
}

#[test]
fn badges_come_from_the_files_the_boot_loader_and_the_state_file() {
    const E: &str = "202612200000";
    let mut no_uki = VersionSpec::complete(E);
    no_uki.uki = false;
    let root = Root::new(
        &[
            VersionSpec::complete(OLDER),
            VersionSpec::complete(A),
            VersionSpec::complete(B),
            counted(C, 2, 0),
            counted(D, 0, 3),
            no_uki,
        ],
        Some(B),
        true,
    );
    root.write(
        "var/lib/update-center/state.json",
        r#"{"pinned": ["202501010000"], "held_back": ["202611010000"]}"#,
    );
    root.write(
        "etc/sysupdate.d/60-esp.transfer.d/retire.conf",
        "[Transfer]\nMinVersion=202601010000\nProtectVersion=202611010000\n",
    );
    root.set(Var::OneShot, "kde-linux_202611010000.efi");
    let system = root.state();
    let badges: Vec<(&str, Vec<VersionState>)> = system
        .inventory
        .versions
        .iter()
        .map(|v| (v.version.as_str(), states(&system, v)))
        .collect();
    assert_eq!(
        badges,
        [
            (
                E,
                vec![VersionState::Incomplete {
                    missing: vec!["60-esp".into()]
                }]
            ),
            (D, vec![VersionState::Failed { tries: 3 }]),
            (
                C,
                vec![
                    VersionState::Default,
                    VersionState::OnTrial {
                        tries_left: 2,
                        tries_done: 0
                    }
                ]
            ),
            (B, vec![VersionState::Running]),
            (
                A,
                vec![
                    VersionState::NextBootOnce,
                    VersionState::Protected,
                    VersionState::HeldBack
                ]
            ),
            (OLDER, vec![VersionState::Pinned, VersionState::Obsolete]),
        ],
        "B is protected as the running version, and shown as running only"
    );
    assert_eq!(
        VersionState::OnTrial {
            tries_left: 2,
            tries_done: 0
        }
        .describe(),
        "on trial: 2 tries left, 0 done"
    );
}
