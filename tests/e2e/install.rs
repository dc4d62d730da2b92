//! `cargo xtask install --destdir`: every file lands where a distribution puts it, with the
//! right mode, and the desktop entry and AppStream metainfo pass their validators
//! (`desktop-file-validate`, `appstreamcli validate`).

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

/// `cargo xtask install` of the debug build into a new temporary directory.
fn installed() -> tempfile::TempDir {
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
    dir
}

#[test]
fn install_lays_out_a_valid_tree() {
    let dir = installed();
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

#[test]
fn manual_pages_render_and_bash_completes_subcommands() {
    let dir = installed();
    let root = dir.path();
    for (page, words) in [
        (
            "usr/share/man/man1/update-center-cli.1",
            ["update-center-cli", "rollback", "completions"],
        ),
        (
            "usr/share/man/man8/update-center-helper.8",
            ["update-center-helper", "recover", "settings"],
        ),
    ] {
        let man = Command::new("man")
            .arg("-l")
            .arg(root.join(page))
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "100")
            .output()
            .expect("man");
        let text = String::from_utf8_lossy(&man.stdout);
        assert!(
            man.status.success(),
            "{page}: {}",
            String::from_utf8_lossy(&man.stderr)
        );
        for word in words {
            assert!(text.contains(word), "{page} lacks {word}:\n{text}");
        }
    }
    for file in [
        "usr/share/zsh/site-functions/_update-center-cli",
        "usr/share/fish/vendor_completions.d/update-center-cli.fish",
    ] {
        let text = std::fs::read_to_string(root.join(file)).expect(file);
        assert!(text.contains("rollback"), "{file}");
    }
    // bash, as its completion would: the function the script registers for the command,
    // called for the word "ro" after it, completes it to rollback.
    let script = root.join("usr/share/bash-completion/completions/update-center-cli");
    let bash = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source '{}'; f=$(complete -p update-center-cli | sed 's/.*-F \\([^ ]*\\).*/\\1/'); \
             COMP_WORDS=(update-center-cli ro); COMP_CWORD=1; \
             COMP_LINE='update-center-cli ro'; COMP_POINT=${{#COMP_LINE}}; \
             $f update-center-cli ro update-center-cli; echo \"${{COMPREPLY[@]}}\"",
            script.display()
        ))
        .output()
        .expect("bash");
    let completed = String::from_utf8_lossy(&bash.stdout);
    assert_eq!(
        completed.trim(),
        "rollback",
        "{}",
        String::from_utf8_lossy(&bash.stderr)
    );
}
