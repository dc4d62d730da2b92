//! The keyboard alone: every page of the demo under Xvfb, driven with Tab, Backtab, Space and
//! Enter only (testbed::keyboard, through `update-center-demo --keys`). Every control the window
//! reports as reachable gets the focus on the way round, in both directions, and has a name a
//! screen reader says (no icon-only button without one); on each page a control is operated
//! with Space or Enter and does what it says.

use std::collections::BTreeSet;
use testbed::keyboard::{BACKCYCLE, CYCLE, cycles, tabbable};

/// Each page with the state of the demo that fills it.
const PAGES: [(&str, &str); 7] = [
    ("overview", "check"),
    // The notices at the top, with their actions.
    ("overview", "fallback"),
    ("overview", "failed-update"),
    ("whatsnew", "check"),
    ("versions", "install"),
    ("history", "install"),
    ("settings", "check"),
];

/// Runs the demo on `page`, prepared as `prepare`, with the keyboard `script`; what the GUI
/// printed, and the demo's own log when it failed.
fn drive(prepare: &str, page: &str, script: &str) -> Result<Vec<String>, String> {
    let file = std::env::temp_dir().join(format!("update-center-keyboard-{prepare}-{page}.png"));
    let output = std::process::Command::new(testbed::binary("update-center-demo").expect("demo"))
        .args([
            "--prepare",
            prepare,
            "--page",
            page,
            "--size",
            "1280x800",
            "--keys",
            script,
            "--screenshot",
        ])
        .arg(&file)
        .output()
        .expect("run the demo");
    let log = String::from_utf8_lossy(&output.stderr).into_owned();
    if !output.status.success() {
        return Err(log);
    }
    Ok(log.lines().map(str::to_string).collect())
}

#[test]
fn tab_and_backtab_reach_every_control_of_every_page_and_each_has_a_name() {
    for (page, prepare) in PAGES {
        let lines = drive(prepare, page, "cycle,backcycle").unwrap_or_else(|log| {
            panic!("{page} ({prepare}): the keyboard could not go round:\n{log}")
        });
        // Every control the window reported as reachable, at any time on the way.
        let reachable: BTreeSet<String> = lines
            .iter()
            .filter(|l| l.contains(testbed::keyboard::TABBABLE))
            .flat_map(|l| tabbable(std::slice::from_ref(l)))
            .map(|name| without_state(&name))
            .collect();
        assert!(
            reachable.len() >= 3,
            "{page} ({prepare}): too few controls: {reachable:?}"
        );
        let forth = cycles(&lines, CYCLE);
        let back = cycles(&lines, BACKCYCLE);
        assert!(
            forth.len() == 1 && back.len() == 1,
            "{page} ({prepare}): no cycle each way"
        );
        let focused: BTreeSet<String> = forth[0]
            .iter()
            .chain(&back[0])
            .map(|name| without_state(name))
            .collect();
        // Backtab goes the same way back.
        let mut backwards: Vec<&String> = back[0].iter().collect();
        backwards.reverse();
        assert_eq!(
            BTreeSet::from_iter(forth[0].iter()),
            BTreeSet::from_iter(backwards),
            "{page} ({prepare}): Backtab reaches other controls than Tab"
        );
        let missed: Vec<&String> = reachable.difference(&focused).collect();
        assert!(
            missed.is_empty(),
            "{page} ({prepare}): Tab and Backtab never reached {missed:?}; they went through {focused:?}"
        );
        let unnamed: Vec<&String> = reachable
            .iter()
            .chain(&focused)
            .filter(|n| n.starts_with("<unnamed"))
            .collect();
        assert!(
            unnamed.is_empty(),
            "{page} ({prepare}): controls a screen reader cannot name: {unnamed:?}"
        );
    }
}

/// A control as the GUI reports it (`NAME [checked] #ADDRESS`) without its checked state,
/// which Space changes on the way.
fn without_state(report: &str) -> String {
    let (label, address) = report.rsplit_once(" #").unwrap_or((report, ""));
    let label = label
        .trim_end_matches(" [checked]")
        .trim_end_matches(" [unchecked]");
    format!("{label} #{address}")
}

#[test]
fn space_and_enter_operate_the_controls_of_every_page() {
    for (page, prepare, script) in [
        // The overview's link to What's New, beside the install button.
        (
            "overview",
            "check",
            "tab-to=What's New…,space,expect=update-center: page whatsnew",
        ),
        // A group of package changes folds away, and opens again.
        (
            "whatsnew",
            "check",
            "tab-to=Upgraded (2),space,expect=Upgraded (2) [unchecked],space,expect=Upgraded (2) [checked]",
        ),
        // A filter of the history.
        (
            "history",
            "install",
            "tab-to=Updates,space,expect=Updates [checked]",
        ),
        // A setting is changed, and the change undone with Reset.
        (
            "settings",
            "check",
            "tab-to=Check for updates automatically,space,expect=Check for updates automatically [unchecked],tab-to=Reset,space,expect=Check for updates automatically [checked]",
        ),
        // A version's actions: the menu opens, and a choice asks for confirmation.
        (
            "versions",
            "install",
            "tab-to=Actions for version 202611251200,space,expect=focus Boot This Version,enter,expect=update-center: dialog boot,expect=focus Cancel,tab,expect=focus Boot This Version,space,expect=update-center: dialog closed",
        ),
        // The sidebar leads to another page.
        (
            "overview",
            "check",
            "tab-to=History #,enter,expect=update-center: page history",
        ),
    ] {
        if let Err(log) = drive(prepare, page, script) {
            panic!("{page}: {script}:\n{log}");
        }
    }
}
