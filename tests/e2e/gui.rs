//! The GUI's models end to end: the QtQuickTest suite in `qml/tests-e2e/` drives the real helper
//! on a private bus with a real polkitd and an HTTP mirror (the shared test world): check,
//! install with progress reaching 100 %, rollback, and the history showing all three; settings
//! applied and reloaded (the update policy too, and maintenance windows the helper refuses);
//! mirror credentials stored in a real Secret Service (gnome-keyring on a private session bus)
//! and read back, and found in no log and no file of ours.

/// The password the e2e suite stores; it must never show up anywhere but the keyring.
const MARKER: &str = "PASSWORD-MARKER-7d1f";

#[test]
fn the_gui_checks_installs_rolls_back_and_shows_the_history() {
    let w = testbed::world::world(Some(1_000_000));
    let session = testbed::bus::PrivateBus::start_session().expect("session bus");
    let secrets = testbed::keyring::SecretService::start(&session).expect("gnome-keyring");
    let home = tempfile::tempdir().expect("home");
    let home_path = home.path().display().to_string();
    let run = testbed::process::run_quick_tests_with(
        "tests-e2e",
        &w.bus.address,
        &[
            ("DBUS_SESSION_BUS_ADDRESS", session.address.as_str()),
            ("HOME", home_path.as_str()),
            ("XDG_CONFIG_HOME", home_path.as_str()),
        ],
    )
    .expect("run update-center-qmltest");
    assert!(run.success, "{}", run.text);
    assert!(
        run.text.contains("Totals: 6 passed, 0 failed"),
        "{}",
        run.text
    );
    assert!(
        run.problems.is_empty(),
        "QML warnings:\n{}",
        run.problems.join("\n")
    );
    // The password went to the keyring and nowhere else: not in the GUI's output, not in the
    // helper's log, not in the system's files, not in the person's home, and not even in
    // plain text in the keyring's own files (gnome-keyring encrypts them).
    assert!(!run.text.contains(MARKER), "the GUI printed the password");
    let helper_log = w.helper.as_ref().map(|h| h.log.text()).unwrap_or_default();
    assert!(
        !helper_log.contains(MARKER),
        "the helper logged the password"
    );
    for dir in [w.system.root.as_path(), home.path(), secrets.home()] {
        let found = testbed::files_containing(dir, MARKER);
        assert!(found.is_empty(), "the password is in {found:?}");
    }
    assert!(
        secrets.home().join("data/keyrings").is_dir(),
        "the keyring was used"
    );
}
