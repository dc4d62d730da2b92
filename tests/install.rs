//! `cargo xtask install --destdir`: every file lands where a distribution puts it, with the
//! right mode, and the desktop entry and AppStream metainfo pass their validators
//! (`desktop-file-validate`, `appstreamcli validate`).

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

#[test]
fn install_lays_out_a_valid_tree() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = Command::new(testbed::binary("xtask").expect("xtask"))
        .args(["install", "--profile", "debug", "--no-build", "--destdir"])
        .arg(dir.path())
        .output()
        .expect("xtask install");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let root = dir.path();
    for (path, mode) in [
        ("usr/bin/update-center", 0o755),
        ("usr/bin/update-center-cli", 0o755),
        ("usr/libexec/update-center-helper", 0o755),
        ("usr/bin/update-center-notifier", 0o755),
        (
            "usr/lib/x86_64-linux-gnu/qt6/plugins/plasma/kcms/systemsettings/kcm_updatecenter.so",
            0o755,
        ),
        ("usr/lib/systemd/user/update-center-notifier.service", 0o644),
        (
            "etc/xdg/autostart/org.kde.updatecenter.notifier.desktop",
            0o644,
        ),
        ("usr/share/applications/org.kde.updatecenter.desktop", 0o644),
        (
            "usr/share/metainfo/org.kde.updatecenter.metainfo.xml",
            0o644,
        ),
        (
            "usr/share/icons/hicolor/scalable/apps/org.kde.updatecenter.svg",
            0o644,
        ),
        (
            "usr/share/dbus-1/system.d/org.kde.UpdateCenter1.conf",
            0o644,
        ),
        (
            "usr/share/dbus-1/system-services/org.kde.UpdateCenter1.service",
            0o644,
        ),
        (
            "usr/share/polkit-1/actions/org.kde.updatecenter.policy",
            0o644,
        ),
        ("usr/lib/systemd/system/update-center-helper.service", 0o644),
        (
            "usr/lib/update-center/health.d/50-nvidia-gpus.wanted",
            0o755,
        ),
    ] {
        let meta = std::fs::metadata(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(meta.permissions().mode() & 0o777, mode, "{path}");
    }
    for entry in [
        "usr/share/applications/org.kde.updatecenter.desktop",
        "etc/xdg/autostart/org.kde.updatecenter.notifier.desktop",
    ] {
        let desktop = Command::new("desktop-file-validate")
            .arg(root.join(entry))
            .output()
            .expect("desktop-file-validate");
        let said = String::from_utf8_lossy(&desktop.stdout);
        assert!(
            desktop.status.success() && !said.contains("error:") && !said.contains("warning:"),
            "{entry}: {said}"
        );
    }
    // Qt's plugin loader finds the System Settings module only through these two symbols.
    let symbols = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(root.join(
            "usr/lib/x86_64-linux-gnu/qt6/plugins/plasma/kcms/systemsettings/kcm_updatecenter.so",
        ))
        .output()
        .expect("nm");
    let symbols = String::from_utf8_lossy(&symbols.stdout);
    for symbol in ["qt_plugin_instance", "qt_plugin_query_metadata_v2"] {
        assert!(symbols.contains(symbol), "the KCM does not export {symbol}");
    }
    let text =
        std::fs::read_to_string(root.join("usr/share/applications/org.kde.updatecenter.desktop"))
            .expect("desktop file");
    for keyword in ["update", "upgrade", "rollback"] {
        assert!(text.contains(&format!("{keyword};")), "keyword {keyword}");
    }
    let metainfo = Command::new("appstreamcli")
        .args(["validate", "--no-net", "--explain"])
        .arg(root.join("usr/share/metainfo/org.kde.updatecenter.metainfo.xml"))
        .output()
        .expect("appstreamcli");
    assert!(
        metainfo.status.success(),
        "{}{}",
        String::from_utf8_lossy(&metainfo.stdout),
        String::from_utf8_lossy(&metainfo.stderr)
    );
}
