//! Tests of `settings`.

use super::*;

fn with(text: &str) -> Result<Settings, SettingsError> {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join(FILE);
    std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
    std::fs::write(&file, text).expect("write");
    load(dir.path())
}

#[test]
fn settings_are_read_and_typos_are_errors() {
    let s = with("[Health]\nTimeoutSec=5\nOnFailure=reboot-previous\n").expect("valid");
    assert_eq!(s.health_timeout, Duration::from_secs(5));
    assert_eq!(s.on_failure, OnFailure::RebootPrevious);
    let e = with("[Health]\nTimeoutSecs=5\n").expect_err("typo");
    assert!(
        e.to_string().contains(":2: [Health] TimeoutSecs=: unknown"),
        "{e}"
    );
    let e = with("[Health]\nOnFailure=panic\n").expect_err("value");
    assert!(
        e.to_string().contains("expected wait or reboot-previous"),
        "{e}"
    );
    assert_eq!(
        load(Path::new("/nonexistent")).expect("defaults"),
        Settings::default()
    );
}

#[test]
fn automatic_updates_pause_and_restart_behaviour() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = load(dir.path()).expect("defaults");
    assert!(s.automatic_check && !s.automatic_download);
    assert_eq!(s.restart, RestartBehaviour::Notify);
    let s = set(dir.path(), "Updates.AutomaticDownload", "yes").expect("set");
    assert!(s.automatic_download);
    let s = set(dir.path(), "Updates.PausedUntil", "2026-11-27T09:00:00Z").expect("set");
    let until = chrono::DateTime::parse_from_rfc3339("2026-11-27T09:00:00Z")
        .expect("time")
        .with_timezone(&chrono::Utc);
    assert!(s.paused_at(until - chrono::Duration::seconds(1)));
    assert!(!s.paused_at(until));
    assert_eq!(s.to_map()["Updates.PausedUntil"], "2026-11-27T09:00:00Z");
    let e = set(dir.path(), "Updates.PausedUntil", "tomorrow").expect_err("time");
    assert!(e.to_string().contains("2026-11-27T09:00:00Z"), "{e}");
    let e = set(dir.path(), "Updates.AutomaticCheck", "maybe").expect_err("bool");
    assert!(e.to_string().contains("yes or no"), "{e}");
    let s = set(dir.path(), "Restart.Behaviour", "quiet").expect("set");
    assert_eq!(s.restart, RestartBehaviour::Quiet);
    assert_eq!(s.to_map()["Restart.Behaviour"], "quiet");
    let s = set(dir.path(), "Updates.PausedUntil", "").expect("reset");
    assert_eq!(s.paused_until, None);
    assert!(s.automatic_download, "other keys kept");
}

#[test]
fn set_keeps_other_lines_checks_values_and_resets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join(FILE);
    std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
    std::fs::write(&file, "# ours\n[Health]\nTimeoutSec=5\n").expect("write");
    let s = set(dir.path(), "Health.OnFailure", "reboot-previous").expect("set");
    assert_eq!(s.on_failure, OnFailure::RebootPrevious);
    assert_eq!(s.health_timeout, Duration::from_secs(5));
    set(dir.path(), "Updates.MaxRateBytesPerSec", "1000000").expect("set");
    let text = std::fs::read_to_string(&file).expect("read");
    assert!(text.starts_with("# ours\n[Health]\n"), "{text}");
    assert_eq!(
        load(dir.path()).expect("load").max_rate_bytes_per_sec,
        Some(1_000_000)
    );
    let e = set(dir.path(), "Health.TimeoutSec", "forever").expect_err("value");
    assert!(e.to_string().contains("whole seconds"), "{e}");
    let e = set(dir.path(), "Health.Colour", "red").expect_err("key");
    assert!(e.to_string().contains("unknown setting"), "{e}");
    assert_eq!(
        std::fs::read_to_string(&file).expect("read"),
        text,
        "refused: unchanged"
    );
    set(dir.path(), "Health.TimeoutSec", "").expect("reset");
    assert_eq!(
        load(dir.path()).expect("load").health_timeout,
        Duration::from_secs(60)
    );
}

#[test]
fn retention_and_source_become_drop_ins_the_definitions_read() {
    use testbed::system::{Images, KdeLinuxRoot};
    let dir = tempfile::tempdir().expect("tempdir");
    let system = KdeLinuxRoot::demo(dir.path(), Images::Plain).expect("root");
    let root = &system.root;
    let definitions = || {
        let os = crate::format::osrelease::OsRelease::load(root).expect("os-release");
        let specifiers = crate::format::osrelease::Specifiers::for_root(root, os);
        crate::definitions::load(root, &specifiers).expect("definitions")
    };
    let s = set(root, "Updates.InstancesMax", "3").expect("set");
    assert_eq!(s.instances_max, Some(3));
    assert!(
        definitions()
            .transfers
            .iter()
            .all(|t| t.target.instances_max == 3)
    );
    let s = set(root, "Updates.Source", "/media/usb/kde-linux").expect("set");
    assert_eq!(s.source.as_deref(), Some("/media/usb/kde-linux"));
    assert_eq!(s.instances_max, Some(3), "the other setting is kept");
    for t in definitions().transfers {
        assert_eq!(t.source.path, "/media/usb/kde-linux");
    }
    let s = set(root, "Updates.Source", "https://mirror.example/kde-linux").expect("set");
    assert_eq!(
        s.source.as_deref(),
        Some("https://mirror.example/kde-linux/")
    );
    let e = set(root, "Updates.InstancesMax", "1").expect_err("too few");
    assert!(e.to_string().contains("2 to 16"), "{e}");
    let e = set(root, "Updates.Source", "ftp://x").expect_err("scheme");
    let userinfo = set(root, "Updates.Source", "https://ops:secret@mirror.example/")
        .expect_err("userinfo")
        .to_string();
    assert!(!userinfo.contains("secret"), "{userinfo}");
    assert!(userinfo.contains("keyring"), "{userinfo}");
    assert!(e.to_string().contains("mirror URL"), "{e}");
    set(root, "Updates.Source", "").expect("reset");
    set(root, "Updates.InstancesMax", "").expect("reset");
    assert!(
        definitions()
            .transfers
            .iter()
            .all(|t| t.target.instances_max == 4)
    );
    assert!(
        !root
            .join("etc/sysupdate.d/60-esp.transfer.d")
            .join(DROPIN)
            .exists()
    );
}
