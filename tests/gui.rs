//! The GUI's models end to end: the QtQuickTest suite in `qml/tests-e2e/` drives the real helper
//! on a private bus with a real polkitd and an HTTP mirror (the shared test world): check,
//! install with progress reaching 100 %, rollback, and the history showing all three.

#[test]
fn the_gui_checks_installs_rolls_back_and_shows_the_history() {
    let w = testbed::world::world(Some(1_000_000));
    let run = testbed::process::run_quick_tests("tests-e2e", &w.bus.address)
        .expect("run update-center-qmltest");
    assert!(run.success, "{}", run.text);
    assert!(
        run.text.contains("Totals: 4 passed, 0 failed"),
        "{}",
        run.text
    );
    assert!(
        run.problems.is_empty(),
        "QML warnings:\n{}",
        run.problems.join("\n")
    );
}
