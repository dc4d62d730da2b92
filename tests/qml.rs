//! The QtQuickTest suites in `qml/tests/`, run by `update-center-qmltest` (the application's QML
//! module and bridge objects in one process) on Qt's offscreen platform.

use std::process::Command;

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
    let tests_dir = testbed::checkout().join("qml/tests");
    let output = Command::new(testbed::binary("update-center-qmltest").expect("qmltest binary"))
        .arg(&tests_dir)
        .env("QT_QPA_PLATFORM", "offscreen")
        .env("QT_QUICK_BACKEND", "software")
        .env("LANG", "C.UTF-8")
        // No helper and no bus: the model test checks what the person is told then.
        .env(
            "DBUS_SYSTEM_BUS_ADDRESS",
            "unix:path=/nonexistent/system_bus_socket",
        )
        .output()
        .expect("run update-center-qmltest");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let (passed, failed, skipped) =
        totals(&text).unwrap_or_else(|| panic!("no Totals line:\n{text}"));
    assert!(output.status.success(), "{text}");
    assert_eq!((failed, skipped), (0, 0), "{text}");
    // Three suites with six test functions, plus initTestCase/cleanupTestCase of each.
    assert!(passed >= 12, "only {passed} QML tests ran:\n{text}");
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

#[test]
fn the_totals_line_is_parsed() {
    assert_eq!(
        totals("x\nTotals: 12 passed, 1 failed, 2 skipped, 0 blacklisted, 40ms\n"),
        Some((12, 1, 2))
    );
    assert_eq!(totals("no totals"), None);
}
