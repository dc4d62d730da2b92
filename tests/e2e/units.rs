//! The systemd units and bus files in `data/`: each unit keeps its exposure score (as
//! `systemd-analyze security` rates it) within its budget, each names what it runs, and the
//! helper can do its work inside the file-system sandbox its unit sets up.

use std::process::Command;

fn data(path: &str) -> std::path::PathBuf {
    testbed::checkout().join("data").join(path)
}

#[test]
fn the_units_and_the_activation_file_agree() {
    let read = |p: &str| std::fs::read_to_string(data(p)).expect(p);
    let helper = read("systemd/update-center-helper.service");
    let activation = read("dbus/org.kde.UpdateCenter1.service");
    assert!(helper.contains("BusName=org.kde.UpdateCenter1"));
    assert!(activation.contains("SystemdService=update-center-helper.service"));
    assert!(activation.contains("Name=org.kde.UpdateCenter1"));
    let health = read("systemd/update-center-health-check.service");
    assert!(health.contains("Before=boot-complete.target"));
    assert!(health.contains("RequiredBy=boot-complete.target"));
    assert!(read("systemd/update-center-check.timer").contains("Persistent=yes"));
    // Every unit parses as systemd reads it.
    for unit in [
        "systemd/update-center-health-check.service",
        "systemd/update-center-boot-record.service",
        "systemd/update-center-check.service",
        "systemd/update-center-check.timer",
        "systemd/update-center-fetch.socket",
        "systemd/update-center-fetch@.service",
    ] {
        let output = Command::new("systemd-analyze")
            .args(["security", "--offline=yes", "--no-pager"])
            .arg(data(unit))
            .output()
            .expect("systemd-analyze");
        let text = String::from_utf8_lossy(&output.stderr);
        assert!(
            !text.contains("Unknown key") && !text.contains("Failed to parse"),
            "{unit}: {text}"
        );
    }
}

/// The values of `key=` lines in the unit's `[Service]` section, split on whitespace.
fn directive(unit: &str, key: &str) -> Vec<String> {
    unit.lines()
        .filter_map(|l| l.trim().strip_prefix(&format!("{key}=")))
        .flat_map(|v| v.split_whitespace().map(str::to_string))
        .collect()
}

/// The paths the unit lets the helper write (`ReadWritePaths=`, and the state and cache
/// directories systemd makes writable), as (path, optional: `-` prefix).
fn writable_paths(unit: &str) -> Vec<(String, bool)> {
    let mut paths: Vec<(String, bool)> = directive(unit, "ReadWritePaths")
        .into_iter()
        .map(|p| match p.strip_prefix('-') {
            Some(p) => (p.to_string(), true),
            None => (p, false),
        })
        .collect();
    for (key, base) in [
        ("StateDirectory", "/var/lib"),
        ("CacheDirectory", "/var/cache"),
    ] {
        paths.extend(
            directive(unit, key)
                .into_iter()
                .map(|d| (format!("{base}/{d}"), false)),
        );
    }
    paths
}

/// Runs `update-center-helper settings ARGS` as its unit would: a KDE Linux-shaped root is `/`,
/// read-only (ProtectSystem=strict) but for `writable`; the helper and the libraries it links
/// are copied into it. (bwrap stands in for systemd, which does not run here: the mounts are
/// the same kind.)
fn settings_in_sandbox(
    root: &std::path::Path,
    writable: &[String],
    args: &[&str],
) -> (bool, String) {
    let mut command = Command::new("bwrap");
    command
        .arg("--ro-bind")
        .arg(root)
        .arg("/")
        .args(["--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]);
    for path in writable {
        command
            .arg("--bind")
            .arg(root.join(path.trim_start_matches('/')))
            .arg(path);
    }
    let output = command
        .args(["/usr/libexec/update-center-helper", "settings"])
        .args(args)
        .args(["--root", "/"])
        .env("SYSTEMD_RELAX_ESP_CHECKS", "1")
        .output()
        .expect("bwrap");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr),
    )
}

#[test]
fn every_setting_can_be_written_under_the_units_sandbox() {
    let built = testbed::setup::Setup::new().only("202611150800").build();
    let root = &built.system.root;
    for mount_point in ["dev", "proc", "tmp"] {
        std::fs::create_dir_all(root.join(mount_point)).expect("mkdir");
    }
    // The helper where the unit runs it, and what it links.
    let helper = testbed::binary("update-center-helper").expect("helper");
    std::fs::create_dir_all(root.join("usr/libexec")).expect("mkdir");
    std::fs::copy(&helper, root.join("usr/libexec/update-center-helper")).expect("copy");
    let ldd = Command::new("ldd").arg(&helper).output().expect("ldd");
    for library in String::from_utf8_lossy(&ldd.stdout)
        .split_whitespace()
        .filter(|w| w.starts_with('/'))
    {
        let inside = root.join(library.trim_start_matches('/'));
        std::fs::create_dir_all(inside.parent().expect("parent")).expect("mkdir");
        std::fs::copy(library, &inside).expect("copy a library");
    }
    let unit = std::fs::read_to_string(data("systemd/update-center-helper.service")).expect("unit");
    let mut writable = Vec::new();
    for (path, optional) in writable_paths(&unit) {
        let inside = root.join(path.trim_start_matches('/'));
        // A required path exists on a real system (or systemd creates it: state, cache); an
        // optional one is used only when it exists.
        if optional && !inside.exists() {
            continue;
        }
        std::fs::create_dir_all(&inside).expect("mkdir");
        writable.push(path);
    }
    let paused = (chrono::Utc::now() + chrono::Duration::days(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let values: [(&str, &str); 28] = [
        ("Health.TimeoutSec", "5"),
        ("Health.OnFailure", "reboot-previous"),
        ("Updates.MaxRateBytesPerSec", "100000"),
        ("Updates.InstancesMax", "3"),
        ("Updates.Source", "https://mirror.example/kde-linux/"),
        ("Updates.AutomaticCheck", "no"),
        ("Updates.AutomaticDownload", "yes"),
        ("Updates.PausedUntil", &paused),
        ("Restart.Behaviour", "quiet"),
        ("Download.StallTimeoutSec", "20"),
        ("Download.MinRateBytesPerSec", "2048"),
        ("Download.DeadlineSec", "7200"),
        ("Delta.Store", "https://chunks.example/kde-linux/store/"),
        ("Policy.AutomaticInstall", "no"),
        ("Policy.Restart", "window"),
        (
            "Policy.Windows",
            "Sat,Sun 02:00 3h Europe/Berlin; Mon..Fri 23:30 90min UTC",
        ),
        ("Policy.UseLogindMaintenanceTime", "no"),
        ("Policy.DownloadOnMetered", "yes"),
        ("Policy.MinBatteryPercent", "50"),
        ("Policy.WaitForSessions", "no"),
        ("Policy.WaitForGpuJobs", "no"),
        ("Policy.BusyCommand", "/usr/local/bin/cluster-busy"),
        ("Policy.MaxPostponeHours", "168"),
        ("Policy.CheckIntervalHours", "6"),
        ("Fleet.Etcd", "http://10.0.0.1:2379,http://10.0.0.2:2379"),
        ("Fleet.FleetLock", "http://airlock.example:3333"),
        ("Fleet.Group", "gpu-rack-3"),
        ("Fleet.LeaseSec", "3600"),
    ];
    let mut keys: Vec<&str> = values.iter().map(|(k, _)| *k).collect();
    keys.sort_unstable();
    let mut known = update_center_engine::settings::KEYS.to_vec();
    known.sort_unstable();
    assert_eq!(keys, known, "every setting is tried here");
    for (key, value) in values {
        let (ok, text) = settings_in_sandbox(root, &writable, &[key, value]);
        assert!(ok, "{key}={value} under the unit's sandbox:\n{text}");
        assert!(text.contains(&format!("{key}={value}")), "{text}");
    }
    // The sandbox is real: without /etc/sysupdate.d writable (the unit before it named it),
    // the source cannot be set.
    let narrower: Vec<String> = writable
        .iter()
        .filter(|p| p.as_str() != "/etc/sysupdate.d")
        .cloned()
        .collect();
    let (ok, text) = settings_in_sandbox(root, &narrower, &["Updates.Source", ""]);
    assert!(!ok && text.contains("Read-only file system"), "{text}");
}

#[test]
fn every_unit_is_sandboxed_within_its_exposure_budget() {
    for (unit, budget) in testbed::EXPOSURE_BUDGETS {
        let output = Command::new("systemd-analyze")
            .args(["security", "--offline=yes", "--no-pager"])
            .arg(data(&format!("systemd/{unit}")))
            .output()
            .expect("systemd-analyze");
        let text = String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr);
        let score =
            testbed::exposure_score(&text, unit).unwrap_or_else(|| panic!("no score in:\n{text}"));
        assert!(score <= budget, "{unit}: {score} > {budget}\n{text}");
    }
}
