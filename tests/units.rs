//! The systemd units and bus files in `data/`: the helper's sandboxing keeps its exposure score
//! (as `systemd-analyze security` rates it) at or under 3.0, and each unit names what it runs.

use std::process::Command;

fn data(path: &str) -> std::path::PathBuf {
    testbed::checkout().join("data").join(path)
}

#[test]
fn the_helper_unit_is_sandboxed() {
    let unit = data("systemd/update-center-helper.service");
    let output = Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "--threshold=30", "--no-pager"])
        .arg(&unit)
        .output()
        .expect("systemd-analyze");
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "exposure above 3.0 or an invalid unit:\n{text}"
    );
    let score: f64 = text
        .lines()
        .find_map(|l| {
            l.split("Overall exposure level for update-center-helper.service: ")
                .nth(1)
        })
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no score in:\n{text}"));
    assert!(score <= 3.0, "{score}");
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
