//! The GUI's models end to end: the QtQuickTest suite in `qml/tests-e2e/` drives the real helper
//! on a private bus with a real polkitd and an HTTP mirror (the shared test world): check,
//! install with progress reaching 100 %, rollback, and the history showing all three.

use std::process::Command;

#[test]
fn the_gui_checks_installs_rolls_back_and_shows_the_history() {
    let w = testbed::world::world(Some(1_000_000));
    let output = Command::new(testbed::binary("update-center-qmltest").expect("qmltest binary"))
        .arg(testbed::checkout().join("qml/tests-e2e"))
        .env("QT_QPA_PLATFORM", "offscreen")
        .env("QT_QUICK_BACKEND", "software")
        .env("LANG", "C.UTF-8")
        .env("DBUS_SYSTEM_BUS_ADDRESS", &w.bus.address)
        .output()
        .expect("run update-center-qmltest");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{text}");
    assert!(text.contains("Totals: 4 passed, 0 failed"), "{text}");
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    let problems: Vec<String> = testbed::process::qml_problems(&lines)
        .into_iter()
        .filter(|l| !l.starts_with("PASS") && !l.starts_with("Config:"))
        .collect();
    assert!(
        problems.is_empty(),
        "QML warnings:\n{}",
        problems.join("\n")
    );
}
