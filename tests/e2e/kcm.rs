//! The System Settings module as System Settings loads it: the real `kcmshell6` under Xvfb,
//! the plugin from this build, the real helper on a private system bus with real polkitd. A
//! person's keys (xdotool) change a setting and press Apply; the change reaches the helper and
//! is there when the module is opened again. The screenshot is kept for a person to look at.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use testbed::bus::PrivateBus;
use testbed::process::{Log, Xvfb, qml_problems};
use testbed::world::world;

const WAIT: Duration = Duration::from_secs(60);

/// `QT_PLUGIN_PATH` with the module where System Settings looks for it.
fn plugin_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let kcms = dir.path().join("plasma/kcms/systemsettings");
    std::fs::create_dir_all(&kcms).expect("mkdir");
    let built = testbed::binary("update-center")
        .expect("target dir")
        .with_file_name("libkcm_updatecenter.so");
    std::fs::copy(&built, kcms.join("kcm_updatecenter.so")).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (build it with `cargo build -p update-center-kcm`)",
            built.display()
        )
    });
    dir
}

fn kcmshell(
    x: &Xvfb,
    plugins: &std::path::Path,
    system: &PrivateBus,
    session: &PrivateBus,
) -> (Child, Log) {
    let mut child = Command::new("kcmshell6")
        .arg("kcm_updatecenter")
        .env("DISPLAY", &x.display)
        .env("QT_PLUGIN_PATH", plugins)
        .env("QT_QPA_PLATFORM", "xcb")
        .env("QT_QUICK_BACKEND", "software")
        .env("QT_QUICK_CONTROLS_STYLE", "org.kde.desktop")
        .env("DBUS_SYSTEM_BUS_ADDRESS", &system.address)
        .env("DBUS_SESSION_BUS_ADDRESS", &session.address)
        .env("LANG", "C.UTF-8")
        .env("LANGUAGE", "en_US")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kcmshell6 (kde-cli-tools)");
    let log = Log::default();
    let stderr = child.stderr.take().expect("stderr");
    let writer = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("kcm: {line}");
            writer.push(line);
        }
    });
    (child, log)
}

fn xdotool(x: &Xvfb, args: &[&str]) {
    let status = Command::new("xdotool")
        .args(args)
        .env("DISPLAY", &x.display)
        .status()
        .expect("xdotool");
    assert!(status.success(), "xdotool {args:?}");
}

/// Clicks the dialog's Apply button: the rightmost button of kcmshell6's button row, measured
/// from the window's bottom-right corner (Xvfb, no window manager, fixed fonts).
fn click_apply(x: &Xvfb) {
    let output = Command::new("xdotool")
        .args([
            "search",
            "--onlyvisible",
            "--name",
            "Update Center",
            "getwindowgeometry",
            "--shell",
        ])
        .env("DISPLAY", &x.display)
        .output()
        .expect("xdotool");
    let text = String::from_utf8_lossy(&output.stdout);
    let value = |key: &str| -> i32 {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {key} in {text}"))
    };
    let (left, top, width, height) = (value("X"), value("Y"), value("WIDTH"), value("HEIGHT"));
    let (px, py) = (left + width - 59, top + height - 31);
    xdotool(
        x,
        &["mousemove", &px.to_string(), &py.to_string(), "click", "1"],
    );
}

#[test]
fn a_setting_changed_in_system_settings_reaches_the_helper_and_survives_a_reload() {
    let w = world(None);
    let session = PrivateBus::start_session().expect("session bus");
    let x = Xvfb::start(1024, 768).expect("Xvfb");
    let plugins = plugin_dir();

    let (mut shell, log) = kcmshell(&x, plugins.path(), &w.bus, &session);
    assert!(
        log.wait_for("update-center-kcm: loaded", WAIT),
        "the module never loaded:\n{}",
        log.text()
    );
    assert!(
        log.text()
            .contains("update-center-kcm: loaded automaticCheck=true"),
        "{}",
        log.text()
    );
    let shots = std::env::temp_dir().join("update-center-screenshots");
    std::fs::create_dir_all(&shots).expect("mkdir");

    // The keyboard: focus the window, Tab to "Check for updates automatically", Space; then a click
    // on System Settings' Apply button.
    // Only once the page is drawn does it take the keyboard focus.
    assert!(
        log.wait_for("update-center-kcm: shown", WAIT),
        "{}",
        log.text()
    );
    xdotool(
        &x,
        &[
            "search",
            "--sync",
            "--onlyvisible",
            "--name",
            "Update Center",
            "windowfocus",
            "--sync",
        ],
    );
    xdotool(&x, &["key", "Tab", "space"]);
    // The edit is pending (System Settings enables Apply) before Apply is clicked.
    assert!(
        log.wait_for("update-center-kcm: needs save true", WAIT),
        "the keys changed nothing:\n{}",
        log.text()
    );
    x.screenshot(&shots.join("kcm-changed.png"))
        .expect("screenshot");
    click_apply(&x);
    assert!(
        log.wait_for("update-center-kcm: saved", WAIT),
        "Apply did nothing:\n{}",
        log.text()
    );
    assert!(
        log.text().contains("update-center-kcm: saved ok"),
        "{}",
        log.text()
    );
    assert!(
        qml_problems(&log.lines()).is_empty(),
        "{:?}",
        qml_problems(&log.lines())
    );
    let _ = shell.kill();
    let _ = shell.wait();

    let settings = tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(async { w.proxy().await.get_settings().await.expect("settings") });
    assert_eq!(
        settings["Updates.AutomaticCheck"], "no",
        "Apply saved it through the helper"
    );

    // Opened again, the module shows what the helper has.
    let (mut again, log) = kcmshell(&x, plugins.path(), &w.bus, &session);
    assert!(
        log.wait_for("update-center-kcm: loaded", WAIT),
        "{}",
        log.text()
    );
    assert!(
        log.text()
            .contains("update-center-kcm: loaded automaticCheck=false"),
        "{}",
        log.text()
    );
    assert!(
        log.wait_for("update-center-kcm: shown", WAIT),
        "{}",
        log.text()
    );
    xdotool(
        &x,
        &[
            "search",
            "--sync",
            "--onlyvisible",
            "--name",
            "Update Center",
        ],
    );
    // The scene is rendered; the widget window shows it a moment later (X has no "painted"
    // event to wait for): look again until the screen is no longer black, for at most 10 s.
    let shot = shots.join("kcm.png");
    let mut mean = 0.0;
    for _ in 0..100 {
        x.screenshot(&shot).expect("screenshot");
        let out = Command::new("convert")
            .arg(&shot)
            .args(["-colorspace", "gray", "-format", "%[fx:mean]", "info:"])
            .output()
            .expect("convert");
        mean = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("mean");
        if mean > 0.2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        mean > 0.2,
        "the screenshot stayed dark ({mean}): the module was not drawn"
    );
    eprintln!("screenshots: {}", shots.display());
    assert!(
        qml_problems(&log.lines()).is_empty(),
        "{:?}",
        qml_problems(&log.lines())
    );
    let _ = again.kill();
    let _ = again.wait();
}
