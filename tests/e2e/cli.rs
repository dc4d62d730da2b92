//! `update-center-cli` end to end, on the private bus with the helper and a real polkitd:
//! status, check, update (text and JSON progress), rollback, pin, remove, history --json,
//! settings; its exit statuses (not authorised, busy, refused, no service) as documented in
//! `--help`.

use std::process::Command;
use testbed::bus::PrivateBus;
use testbed::world::{A, B, NEW, world};

/// Runs the CLI as `uid` against `bus`: (exit status, stdout, stderr).
fn cli_as(bus: &PrivateBus, uid: u32, args: &[&str]) -> (i32, String, String) {
    let binary = testbed::binary("update-center-cli").expect("cli");
    let mut command = if uid == 0 {
        Command::new(binary)
    } else {
        let mut c = Command::new("setpriv");
        c.args([
            &format!("--reuid={uid}"),
            &format!("--regid={uid}"),
            "--clear-groups",
        ])
        .arg(binary);
        c
    };
    let output = command
        .args(args)
        .env("DBUS_SYSTEM_BUS_ADDRESS", &bus.address)
        .output()
        .expect("run the CLI");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn cli(bus: &PrivateBus, args: &[&str]) -> (i32, String, String) {
    cli_as(bus, 0, args)
}

#[test]
fn the_cli_checks_installs_rolls_back_and_reports() {
    let w = world(None);
    let (code, out, err) = cli(&w.bus, &["status"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("Running:      {B}")), "{out}");
    assert!(out.contains("not checked yet"), "{out}");

    let (code, out, err) = cli(&w.bus, &["check"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!("Version {NEW} is available")),
        "{out}"
    );

    let (code, out, err) = cli(&w.bus, &["update"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("Version {NEW} is installed")),
        "{out}"
    );
    assert!(err.contains(&format!("Downloading {NEW}")), "{err}");

    let (code, out, _) = cli(&w.bus, &["status", "--json"]);
    assert_eq!(code, 0);
    let status: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(status["state"], "ready-to-restart");
    assert_eq!(status["default"], NEW);
    let new = status["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .find(|v| v["version"] == NEW)
        .expect("NEW is listed");
    assert!(new["states"].to_string().contains("on-trial"), "{new}");

    let (code, out, err) = cli(&w.bus, &["rollback", A]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("now the version that boots"), "{out}");
    let (_, out, _) = cli(&w.bus, &["status"]);
    assert!(out.contains(&format!("Boots next:   {A}")), "{out}");

    let (code, _, err) = cli(&w.bus, &["pin", A]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = cli(&w.bus, &["remove", A]);
    assert_eq!(code, 6, "a pinned version is kept: {err}");
    assert!(err.contains("pinned"), "{err}");

    let (code, out, _) = cli(&w.bus, &["history", "--json"]);
    assert_eq!(code, 0);
    let records: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let kinds: Vec<&str> = records
        .as_array()
        .expect("records")
        .iter()
        .filter_map(|r| r["event"].as_str())
        .collect();
    assert_eq!(
        &kinds[..3],
        ["pinned", "rolled-back", "committed"],
        "{kinds:?}"
    );

    let (code, out, err) = cli(&w.bus, &["settings", "Health.TimeoutSec", "5"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Health.TimeoutSec=5"), "{out}");
    assert!(testbed::invariants::broken(&w.system.root).is_empty());
}

#[test]
fn the_timer_check_follows_the_automatic_settings() {
    let w = world(None);
    let set = |key: &str, value: &str| {
        let (code, _, err) = cli(&w.bus, &["settings", key, value]);
        assert_eq!(code, 0, "{key}={value}: {err}");
    };
    set("Updates.AutomaticCheck", "no");
    let (code, out, err) = cli(&w.bus, &["check", "--automatic"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Automatic checks are off"), "{out}");
    let (_, out, _) = cli(&w.bus, &["status"]);
    assert!(out.contains("not checked yet"), "no check ran: {out}");

    set("Updates.AutomaticCheck", "yes");
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    set("Updates.PausedUntil", &tomorrow);
    let (_, out, _) = cli(&w.bus, &["check", "--automatic"]);
    assert!(out.contains(&format!("paused until {tomorrow}")), "{out}");
    let (_, out, _) = cli(&w.bus, &["status"]);
    assert!(out.contains("not checked yet"), "paused: {out}");

    set("Updates.PausedUntil", "");
    let (code, out, err) = cli(&w.bus, &["check", "--automatic"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("Version {NEW} is available")),
        "{out}"
    );
    assert!(!out.contains("is installed"), "only checked: {out}");

    set("Updates.AutomaticDownload", "yes");
    let (code, out, err) = cli(&w.bus, &["check", "--automatic"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("Version {NEW} is installed")),
        "{out}"
    );
    let (_, out, _) = cli(&w.bus, &["status"]);
    assert!(out.contains(&format!("Boots next:   {NEW}")), "{out}");
    assert!(testbed::invariants::broken(&w.system.root).is_empty());
}

#[test]
fn update_json_prints_progress_and_the_result() {
    let w = world(Some(2_000_000));
    let (code, out, err) = cli(&w.bus, &["update", "--json"]);
    assert_eq!(code, 0, "{err}");
    let events: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert!(events.iter().any(|e| e["event"] == "progress"), "{out}");
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "phase" && e["phase"] == "installing"),
        "{out}"
    );
    let last = events.last().expect("events");
    assert_eq!(last["event"], "finished");
    assert_eq!(last["success"], true);
}

#[test]
fn exit_statuses_say_what_went_wrong() {
    let w = world(None);
    // nobody is refused by the rules.
    let (code, _, err) = cli_as(&w.bus, 65534, &["pin", A]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("not authorised"), "{err}");
    // Reading needs no authorisation.
    let (code, _, err) = cli_as(&w.bus, 65534, &["status"]);
    assert_eq!(code, 0, "{err}");
    // Not offered by the mirror: refused.
    let (code, _, err) = cli(&w.bus, &["update", "209901010000"]);
    assert_eq!(code, 6, "{err}");
    assert!(err.contains("not offered"), "{err}");
    let (code, _, err) = cli(&w.bus, &["rollback", "not a version"]);
    assert_eq!(code, 6, "{err}");
    let (code, out, _) = cli(&w.bus, &["--help"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("Exit status:") && out.contains("not authorised"),
        "{out}"
    );
    // No helper on the bus.
    let empty = PrivateBus::start().expect("bus");
    let (code, _, err) = cli(&empty, &["status"]);
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("not running"), "{err}");
}

#[test]
fn the_demo_transcript_checks_installs_and_rolls_back() {
    let output = Command::new(testbed::binary("update-center-demo").expect("demo"))
        .arg("--transcript")
        .output()
        .expect("run the demo");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for line in [
        "$ update-center-cli update",
        "Version 202611261200 is installed",
        "State:        ready-to-restart",
        "Boots next:   202611200930",
        "rolled-back",
    ] {
        assert!(text.contains(line), "`{line}` in:\n{text}");
    }
}

#[test]
fn a_server_hands_its_mirror_credentials_over_from_systemd() {
    const PASSWORD: &str = "PASSWORD-MARKER-systemd-creds";
    let w = world(None);
    w.server.require_basic_auth("ops", PASSWORD);
    let (code, _, err) = cli(&w.bus, &["settings", "Updates.Source", &w.server.url]);
    assert_eq!(code, 0, "{err}");
    // What systemd's ImportCredential= lays out for the check service.
    let credentials = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        credentials.path().join("update-center-mirror"),
        format!("ops:{PASSWORD}\n"),
    )
    .expect("credential");
    let run = |with_credentials: bool| {
        let mut command = Command::new(testbed::binary("update-center-cli").expect("cli"));
        command
            .arg("check")
            .env("DBUS_SYSTEM_BUS_ADDRESS", &w.bus.address);
        if with_credentials {
            command.env("CREDENTIALS_DIRECTORY", credentials.path());
        }
        let output = command.output().expect("run the CLI");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned()
                + &String::from_utf8_lossy(&output.stderr),
        )
    };
    let (ok, text) = run(false);
    assert!(
        !ok && text.contains("401"),
        "without them the mirror refuses:\n{text}"
    );
    let (ok, text) = run(true);
    assert!(ok, "{text}");
    assert!(
        text.contains(&format!("Version {NEW} is available")),
        "{text}"
    );
    assert!(!text.contains(PASSWORD));
    let log = w.helper.as_ref().map(|h| h.log.text()).unwrap_or_default();
    assert!(!log.contains(PASSWORD), "the helper logged the password");
    let found = testbed::files_containing(&w.system.root, PASSWORD);
    assert!(found.is_empty(), "the password is in {found:?}");
}
