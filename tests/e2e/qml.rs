//! The QtQuickTest suites in `qml/tests/`, run by `update-center-qmltest` (the application's QML
//! module and bridge objects in one process) on Qt's offscreen platform.

/// Numbers from QtTest's `Totals:` line.
fn totals(output: &str) -> Option<(u64, u64, u64)> {
    let line = output.lines().find(|l| l.starts_with("Totals:"))?;
    let mut numbers = line.trim_start_matches("Totals:").split(',').map(|part| {
        part.split_whitespace()
            .next()
            .and_then(|n| n.parse::<u64>().ok())
    });
    Some((numbers.next()??, numbers.next()??, numbers.next()??))
}

#[test]
fn qml_component_tests_pass() {
    // No helper and no bus: the model test checks what the person is told then.
    let run =
        testbed::process::run_quick_tests("tests", "unix:path=/nonexistent/system_bus_socket")
            .expect("run update-center-qmltest");
    let text = run.text;
    let (passed, failed, skipped) =
        totals(&text).unwrap_or_else(|| panic!("no Totals line:\n{text}"));
    assert!(run.success, "{text}");
    assert_eq!((failed, skipped), (0, 0), "{text}");
    // Ten suites with twenty-six test functions, plus initTestCase/cleanupTestCase of each.
    assert!(passed >= 46, "only {passed} QML tests ran:\n{text}");
    assert!(
        run.problems.is_empty(),
        "QML warnings:\n{}",
        run.problems.join("\n")
    );
}

#[test]
fn the_totals_line_is_parsed() {
    assert_eq!(
        totals("x\nTotals: 12 passed, 1 failed, 2 skipped, 0 blacklisted, 40ms\n"),
        Some((12, 1, 2))
    );
    assert_eq!(totals("no totals"), None);
}
