//! Policies end to end: the check timer's command (`update-center-cli check --automatic`)
//! against the real helper, polkitd and dbus-daemon, with NetworkManager, UPower and logind as
//! stand-ins on the test bus (`testbed::standins`: the real ones cannot run here), an injected
//! clock (`UPDATE_CENTER_NOW`, honoured by development builds only), a fake `nvidia-smi` and
//! the kernel module's directory in the root. A staged update on a server policy restarts only
//! inside its window and only when nothing blocks; every wait says why; metered links and low
//! batteries hold automatic downloads, and a switch to a metered link pauses one, keeping its
//! bytes.

use std::path::{Path, PathBuf};
use std::process::Command;
use testbed::standins::StandIns;
use testbed::world::{B, NEW, World, world};

fn settings(w: &World, text: &str) {
    let conf = w.system.root.join("etc/update-center/update-center.conf");
    std::fs::create_dir_all(conf.parent().expect("parent")).expect("etc");
    std::fs::write(conf, text).expect("settings");
}

/// Restarts the helper standing at `now`, with `path` first on its PATH.
fn helper_at(w: &mut World, now: &str, path: Option<&Path>) {
    let mut search = std::ffi::OsString::new();
    if let Some(path) = path {
        search.push(path);
        search.push(":");
    }
    search.push(std::env::var_os("PATH").unwrap_or_default());
    let search = PathBuf::from(search);
    w.start_helper_with(
        None,
        &[("UPDATE_CENTER_NOW", Path::new(now)), ("PATH", &search)],
    );
}

/// The `Waiting` property's kinds.
fn waiting(w: &World) -> Vec<(String, std::collections::HashMap<String, String>)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async { w.proxy().await.waiting().await.expect("Waiting") })
}

fn kinds(reasons: &[(String, std::collections::HashMap<String, String>)]) -> Vec<&str> {
    reasons.iter().map(|(k, _)| k.as_str()).collect()
}

/// The injected clock stands days after the real one that dates the records, so the loud
/// warning about a long wait is off (0) except where a test turns it on.
const SERVER: &str = "[Updates]\nAutomaticDownload=yes\n[Policy]\nRestart=window\nWindows=Sat 02:00 3h UTC\nWaitForSessions=yes\nMaxPostponeHours=0\n";
/// The days the helper is made to stand at: a Friday at noon (outside the window) and the
/// Saturday after it at 02:30 (inside), the first such pair at least three days after the real
/// clock, which dates the records; and when the window opens (that Saturday, 02:00).
struct Days {
    friday: String,
    saturday: String,
    opens: String,
}

fn days() -> Days {
    use chrono::{Datelike, Duration, Utc, Weekday};
    let mut day = Utc::now().date_naive() + Duration::days(3);
    while day.weekday() != Weekday::Fri {
        day += Duration::days(1);
    }
    let saturday = day + Duration::days(1);
    Days {
        friday: format!("{day}T12:00:00Z"),
        saturday: format!("{saturday}T02:30:00Z"),
        opens: format!("{saturday}T02:00:00Z"),
    }
}

#[test]
fn a_server_restarts_inside_its_window_only_when_nothing_blocks_and_says_why_it_waits() {
    let Days {
        friday,
        saturday,
        opens,
    } = days();
    let mut w = world(None);
    let standins = StandIns::start(&w.bus.address).expect("stand-ins");
    settings(&w, SERVER);
    // node-exporter's textfile directory: the helper writes its metrics there after each job.
    let textfile = w.system.root.join("var/lib/prometheus/node-exporter");
    std::fs::create_dir_all(&textfile).expect("textfile dir");
    helper_at(&mut w, &friday, None);

    // Outside the window: the update is downloaded and staged, the restart waits.
    let (ok, out, err) = w.cli(&["check", "--automatic"]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains(&format!("Version {NEW} is available")),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "The automatic restart waits: outside the maintenance windows; the next opens {opens}."
        )),
        "{out}{err}"
    );
    assert_eq!(standins.reboots(), 0);
    let reasons = waiting(&w);
    assert_eq!(kinds(&reasons), ["outside-window"]);
    assert_eq!(reasons[0].1["next"], opens);
    let (_, status, _) = w.cli(&["status"]);
    assert!(
        status.contains("State:        ready-to-restart"),
        "{status}"
    );
    assert!(
        status.contains("Waiting:      outside the maintenance windows"),
        "{status}"
    );
    let metrics = std::fs::read_to_string(textfile.join("update_center.prom")).expect("metrics");
    assert!(
        metrics.contains("update_center_reboot_required 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("update_center_blocked{reason=\"outside-window\"} 1"),
        "{metrics}"
    );
    // Waiting longer than the policy allows is said loudly (the staged version is dated by
    // the real clock, days before the injected Friday).
    settings(
        &w,
        &SERVER.replace("MaxPostponeHours=0", "MaxPostponeHours=24"),
    );
    let reasons = waiting(&w);
    assert_eq!(kinds(&reasons), ["outside-window", "overdue"]);
    let (_, status, _) = w.cli(&["status"]);
    assert!(status.contains("a staged version has waited"), "{status}");
    settings(&w, SERVER);
    // The helper held a delay inhibitor while staging and a block inhibitor while writing the
    // boot entry, and let both go.
    let calls = standins.inhibit_calls();
    let modes: Vec<(&str, &str, bool)> = calls
        .iter()
        .map(|(what, mode, _, held)| (what.as_str(), mode.as_str(), *held))
        .collect();
    assert_eq!(
        modes,
        [("shutdown", "delay", false), ("shutdown", "block", false)],
        "{calls:?}"
    );

    // Inside the window, but people are logged in.
    standins
        .add_session("c2", "sddm", "greeter", false)
        .expect("greeter");
    standins
        .add_session("7", "ana", "user", true)
        .expect("session");
    helper_at(&mut w, &saturday, None);
    let (ok, out, err) = w.cli(&["check", "--automatic"]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("The automatic restart waits: 1 people logged in (ana (remote))."),
        "{out}"
    );
    assert_eq!(standins.reboots(), 0);

    // They left; a backup holds shutdown.
    standins.set(|s| {
        s.sessions.retain(|session| session.3 != "user");
        s.inhibitors.push((
            "shutdown:sleep".into(),
            "backup".into(),
            "copying /srv".into(),
            "block".into(),
            0,
            4321,
        ));
    });
    let (_, out, _) = w.cli(&["check", "--automatic"]);
    assert!(
        out.contains("backup blocks shutdown: copying /srv"),
        "{out}"
    );
    assert_eq!(standins.reboots(), 0);

    // The backup ended; a training job runs on the GPU (nvidia-smi reports it).
    standins.set(|s| s.inhibitors.clear());
    let fake = tempfile::tempdir().expect("bin");
    let smi = fake.path().join("nvidia-smi");
    std::fs::write(&smi, "#!/bin/sh\necho '4242, python3, 30000'\n").expect("script");
    std::fs::set_permissions(&smi, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("mode");
    std::fs::create_dir_all(w.system.root.join("sys/module/nvidia")).expect("module");
    helper_at(&mut w, &saturday, Some(fake.path()));
    let (_, out, _) = w.cli(&["check", "--automatic"]);
    assert!(out.contains("1 GPU jobs running (pids 4242)"), "{out}");
    assert_eq!(standins.reboots(), 0);

    // The job finished: nothing blocks inside the window, so it restarts.
    std::fs::write(&smi, "#!/bin/sh\nexit 0\n").expect("idle");
    let (ok, out, err) = w.cli(&["check", "--automatic"]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("Restarting into the staged version"), "{out}");
    assert_eq!(standins.reboots(), 1);
    assert!(waiting(&w).is_empty());

    // Outside the window again, nothing blocking: still no restart.
    helper_at(&mut w, &friday, None);
    let (_, out, _) = w.cli(&["check", "--automatic"]);
    assert!(out.contains("outside the maintenance windows"), "{out}");
    assert_eq!(standins.reboots(), 1);
    let _ = B;
}

#[test]
fn the_desktop_default_never_restarts_and_a_busy_command_holds_an_immediate_policy() {
    let mut w = world(None);
    let standins = StandIns::start(&w.bus.address).expect("stand-ins");
    settings(
        &w,
        "[Updates]\nAutomaticDownload=yes\n[Policy]\nMaxPostponeHours=0\n",
    );
    helper_at(&mut w, &days().saturday, None);
    let (ok, out, err) = w.cli(&["check", "--automatic"]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("The automatic restart waits: the policy leaves restarts to a person."),
        "{out}"
    );
    assert_eq!(kinds(&waiting(&w)), ["manual-restart"]);
    let dir = tempfile::tempdir().expect("dir");
    let busy = dir.path().join("busy");
    std::fs::write(&busy, "#!/bin/sh\nexit 3\n").expect("script");
    std::fs::set_permissions(&busy, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("mode");
    settings(
        &w,
        &format!(
            "[Updates]\nAutomaticDownload=yes\n[Policy]\nRestart=immediate\nMaxPostponeHours=0\nBusyCommand={}\n",
            busy.display()
        ),
    );
    let (_, out, _) = w.cli(&["check", "--automatic"]);
    assert!(
        out.contains("says the machine is busy (exit status 3)"),
        "{out}"
    );
    assert_eq!(standins.reboots(), 0);
    std::fs::write(&busy, "#!/bin/sh\nexit 0\n").expect("free");
    let (_, out, _) = w.cli(&["check", "--automatic"]);
    assert!(out.contains("Restarting"), "{out}");
    assert_eq!(standins.reboots(), 1);
}

/// Bytes of NEW's image kept in the download cache.
fn cached_bytes(root: &Path) -> u64 {
    std::fs::read_dir(root.join("var/lib/update-center/partial"))
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

#[test]
fn metered_links_and_low_batteries_hold_automatic_downloads_and_a_switch_pauses_one() {
    // Slow enough that the switch comes mid-download.
    let mut w = world(Some(256 * 1024));
    let standins = StandIns::start(&w.bus.address).expect("stand-ins");
    settings(&w, "[Updates]\nAutomaticDownload=yes\n");
    w.start_helper(Some(256 * 1024));

    standins.set(|s| s.metered = 3);
    let (ok, out, err) = w.cli(&["check", "--automatic"]);
    assert!(ok, "{out}{err}");
    // The check itself is always allowed: a few KB of signed metadata.
    assert!(
        out.contains(&format!("Version {NEW} is available")),
        "{out}"
    );
    assert!(
        out.contains("The automatic download waits: on a metered connection."),
        "{out}"
    );
    let reasons = waiting(&w);
    assert_eq!(kinds(&reasons), ["metered"]);
    assert_eq!(reasons[0].1["guess"], "yes");
    assert_eq!(cached_bytes(&w.system.root), 0, "nothing downloaded");

    standins.set(|s| {
        s.metered = 4;
        s.on_battery = true;
        s.percentage = 12.0;
    });
    let (_, out, _) = w.cli(&["check", "--automatic"]);
    assert!(
        out.contains("on battery at 12% (downloads wait below 30%)"),
        "{out}"
    );
    standins.set(|s| s.connectivity = 2);
    assert_eq!(kinds(&waiting(&w)), ["captive-portal", "battery"]);

    // Plugged in on a free link: the download starts; the link turns metered mid-way.
    standins.set(|s| {
        s.on_battery = false;
        s.connectivity = 4;
    });
    let mut child = Command::new(testbed::binary("update-center-cli").expect("cli"))
        .args(["check", "--automatic"])
        .env("DBUS_SYSTEM_BUS_ADDRESS", &w.bus.address)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("cli");
    let temp = w
        .system
        .root
        .join(format!("system/.#update-center.kde-linux_{NEW}.erofs"));
    while std::fs::metadata(&temp).map(|m| m.len()).unwrap_or(0) < 128 * 1024 {
        assert!(
            child.try_wait().expect("wait").is_none(),
            "it ended before the switch"
        );
        std::thread::yield_now();
    }
    standins.set(|s| s.metered = 1);
    let output = child.wait_with_output().expect("ended");
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "the download went on: {err}");
    assert!(err.contains("cancelled"), "{err}");
    let kept = cached_bytes(&w.system.root);
    assert!(kept >= 128 * 1024, "the bytes so far are kept: {kept}");
    assert_eq!(kinds(&waiting(&w)), ["metered"]);

    // Free again: the next run resumes and stages the version.
    standins.set(|s| s.metered = 4);
    let (ok, out, err) = w.cli(&["check", "--automatic"]);
    assert!(ok, "{out}{err}");
    let ranges = w.server.ranges.lock().expect("ranges").clone();
    assert!(
        ranges
            .iter()
            .any(|(name, start)| name.ends_with("root-x86-64.erofs") && *start >= 128 * 1024),
        "resumed with a range request: {ranges:?}"
    );
    let (_, status, _) = w.cli(&["status"]);
    assert!(
        status.contains("State:        ready-to-restart"),
        "{status}"
    );
}

#[test]
fn downloading_ahead_stages_nothing_and_the_install_then_fetches_nothing_again() {
    let mut w = world(None);
    let _standins = StandIns::start(&w.bus.address).expect("stand-ins");
    settings(
        &w,
        "[Updates]\nAutomaticDownload=yes\n[Policy]\nAutomaticInstall=no\nMaxPostponeHours=0\n",
    );
    w.start_helper(None);
    let (ok, out, err) = w.cli(&["check", "--automatic"]);
    assert!(ok, "{out}{err}");
    let (_, status, _) = w.cli(&["status"]);
    assert!(
        status.contains("State:        idle"),
        "nothing is staged: {status}"
    );
    assert!(status.contains(&format!("Update:       {NEW}")), "{status}");
    let image = format!("kde-linux_{NEW}_root-x86-64.erofs");
    let gets = |w: &World| {
        w.server
            .requests
            .lock()
            .expect("requests")
            .iter()
            .filter(|(method, name, _)| method == "GET" && *name == image)
            .count()
    };
    let before = gets(&w);
    assert!(before > 0, "the image was downloaded ahead");
    let history =
        std::fs::read_to_string(w.system.root.join("var/lib/update-center/history.jsonl"))
            .expect("history");
    assert!(history.contains("\"event\":\"downloaded\""), "{history}");
    assert!(!history.contains("\"event\":\"committed\""), "{history}");

    let (ok, out, err) = w.cli(&["update"]);
    assert!(ok, "{out}{err}");
    // The install asked only for what comes after the whole file it found in the cache.
    let ranges = w.server.ranges.lock().expect("ranges").clone();
    let resumed_at_end = ranges
        .iter()
        .filter(|(name, start)| *name == image && *start == testbed::world::PAYLOAD_BYTES as u64)
        .count();
    assert_eq!(
        gets(&w) - before,
        resumed_at_end,
        "every request for the image after the download was at its end: {ranges:?}"
    );
    let (_, status, _) = w.cli(&["status"]);
    assert!(
        status.contains("State:        ready-to-restart"),
        "{status}"
    );
}
