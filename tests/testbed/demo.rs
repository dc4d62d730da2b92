//! `update-center-demo`: the demo behind `cargo xtask demo`. Builds a KDE Linux-shaped system in
//! a temporary directory, an HTTP mirror on 127.0.0.1 offering a newer version, a private system
//! bus with a real polkitd and the helper on it, and opens the GUI. With `--screenshot FILE` it
//! renders under Xvfb, writes a PNG and exits; it fails when the GUI printed any QML warning or
//! error. With `--transcript` it runs the command-line client through a check, an update and a
//! rollback on the demo system and prints what it printed.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use testbed::bus::PrivateBus;
use testbed::mirror::{self, HttpMirror, MirrorVersion};
use testbed::polkit::{Polkit, rules_allowing};
use testbed::process::{Gui, Helper, Xvfb, qml_problems};
use testbed::system::{Images, KdeLinuxRoot};

/// The version the demo mirror offers.
const DEMO_UPDATE: &str = "202611261200";

/// Size of the screenshot (and of the window in it).
const SCREENSHOT_WIDTH: u32 = 1024;
const SCREENSHOT_HEIGHT: u32 = 640;

struct Args {
    screenshot: Option<PathBuf>,
    no_helper: bool,
    legacy_conf: bool,
    transcript: bool,
    page: String,
    prepare: Option<String>,
    lang: Option<String>,
    size: (u32, u32),
    keys: Option<String>,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        screenshot: None,
        no_helper: false,
        legacy_conf: false,
        transcript: false,
        page: "overview".into(),
        prepare: None,
        lang: None,
        size: (SCREENSHOT_WIDTH, SCREENSHOT_HEIGHT),
        keys: None,
    };
    let mut iter = std::env::args().skip(1);
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--screenshot" => {
                args.screenshot = Some(
                    iter.next()
                        .context("--screenshot needs a file name")?
                        .into(),
                )
            }
            "--no-helper" => args.no_helper = true,
            "--transcript" => args.transcript = true,
            // The GUI's language (LANGUAGE), e.g. `de`.
            "--lang" => args.lang = Some(iter.next().context("--lang needs a locale")?),
            "--size" => {
                let text = iter.next().context("--size needs WIDTHxHEIGHT")?;
                let (w, h) = text.split_once('x').context("--size needs WIDTHxHEIGHT")?;
                args.size = (w.parse()?, h.parse()?);
            }
            // Brings the demo into a state before the GUI opens: `check` (an update waits),
            // `install` (installed, a restart is due), `fallback` (it failed to boot), `error`
            // (the check failed: the mirror is down) or `failed-update` (the update failed: the
            // mirror served wrong bytes), `waiting` (automatic downloads on, an update on offer,
            // the connection metered: the automatic download waits) or `waiting-restart`
            // (installed; restarts wait for a maintenance window, and a person is logged in).
            "--prepare" => {
                args.prepare = Some(iter.next().context("--prepare needs check or install")?)
            }
            "--page" => {
                args.page = iter
                    .next()
                    .context("--page needs overview, versions or history")?
            }
            // Before the screenshot, the keyboard alone drives the window (testbed::keyboard:
            // Tab, Backtab, Space, Enter, steps separated by commas); the GUI reports its focus.
            "--keys" => args.keys = Some(iter.next().context("--keys needs a script")?),
            // A legacy *.conf beside the *.transfer files: what once stopped KDE Linux updates.
            "--legacy-conf" => args.legacy_conf = true,
            "--help" | "-h" => {
                println!(
                    "usage: update-center-demo [--screenshot FILE | --transcript] [--page overview|versions|history] [--prepare check|downloading|install|fallback|error|failed-update|warnings|waiting|waiting-restart] [--lang LOCALE] [--size WxH] [--keys SCRIPT] [--no-helper] [--legacy-conf]"
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument `{other}` (see --help)"),
        }
    }
    Ok(args)
}

fn main() {
    if let Err(error) = run() {
        eprintln!("update-center-demo: error: {error:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let args = parse_args()?;
    let dir = tempfile::Builder::new()
        .prefix("update-center-demo-")
        .tempdir()?;
    let root = dir.path().join("root");
    let system = KdeLinuxRoot::demo(&root, Images::Erofs)?;
    // Images as KDE Linux builds them, each with its chunk index beside it: the seeds of a
    // delta update.
    for v in &system.versions {
        let image = root.join(format!("system/kde-linux_{}.erofs", v.version));
        testbed::system::demo_usr_image(&image, &v.version)?;
        testbed::system::publish_index(
            &image,
            &root.join(format!("system/kde-linux_{}.erofs.caibx", v.version)),
            None,
        )?;
    }
    if args.legacy_conf {
        std::fs::write(
            root.join("usr/lib/sysupdate.d/40-legacy.conf"),
            "[Source]\nType=url-file\nPath=https://mirror.invalid/\nMatchPattern=old_@v.raw\n\n[Target]\nType=regular-file\nPath=/old\nMatchPattern=old_@v.raw\n",
        )?;
    }
    eprintln!(
        "demo: a KDE Linux system with versions {} (running {}) in {}",
        system
            .versions
            .iter()
            .map(|v| v.version.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        system.booted.as_deref().unwrap_or("none"),
        root.display()
    );
    // A mirror with the next version, so that there is an update to install.
    let mirror_dir = dir.path().join("mirror");
    mirror::create(
        &mirror_dir,
        &[MirrorVersion::complete(DEMO_UPDATE)],
        Images::Erofs,
        None,
    )?;
    // Published as KDE Linux publishes: the image, its index, and the chunk store beside them,
    // so that the demo's update is a delta.
    let image = mirror_dir.join(format!("kde-linux_{DEMO_UPDATE}_root-x86-64.erofs"));
    testbed::system::demo_usr_image(&image, DEMO_UPDATE)?;
    testbed::system::publish_index(
        &image,
        &mirror_dir.join(format!("kde-linux_{DEMO_UPDATE}_root-x86-64.caibx")),
        Some(&mirror_dir.join("store")),
    )?;
    mirror::write_sums(&mirror_dir)?;
    write_release_notes(&mirror_dir, system.booted.as_deref().unwrap_or_default())?;
    let server = HttpMirror::serve(&mirror_dir)?;
    if args.prepare.as_deref() == Some("error") {
        // Nothing listens on the discard port: the check fails as with a mirror that is down.
        system.use_source("http://127.0.0.1:9/kde-linux/", false)?;
    } else {
        system.use_source(&server.url, false)?;
    }
    // The release notes come from the same mirror.
    let transfer = root.join("usr/lib/sysupdate.d/50-root-x86-64-erofs.transfer");
    let mut text = std::fs::read_to_string(&transfer)?
        .replace("https://mirror.invalid/kde-linux/", &server.url);
    if args.prepare.as_deref() == Some("warnings") {
        // A key systemd-sysupdate does not know: ignored, with a warning on the versions page.
        text = text.replacen("[Transfer]\n", "[Transfer]\nFrobnicate=yes\n", 1);
    }
    std::fs::write(&transfer, text)?;
    eprintln!("demo: a mirror offering {DEMO_UPDATE} at {}", server.url);
    let bus = PrivateBus::start()?;
    eprintln!("demo: private system bus at {}", bus.address);
    // What a policy waits for: NetworkManager, UPower and logind as stand-ins on the demo bus.
    let _standins = match args.prepare.as_deref() {
        Some(mode @ ("waiting" | "waiting-restart")) => Some(prepare_waiting(&bus, &root, mode)?),
        _ => None,
    };
    // polkit decides, as on a real system; root (the demo's user) is always allowed.
    let _polkit = Polkit::start(&bus, &rules_allowing(&[]))?;
    let mut helper = if args.no_helper {
        None
    } else if args.prepare.as_deref() == Some("downloading") {
        // Slow enough (the demo update is a few kB) that the download is still running when
        // the window shows it.
        let mut command = std::process::Command::new(testbed::binary("update-center-helper")?);
        command.args(["--max-rate", "1024"]);
        Some(Helper::start_with(
            command,
            &bus,
            &root,
            Some(Path::new("/efi")),
        )?)
    } else {
        Some(Helper::start(&bus, &root, Some(Path::new("/efi")))?)
    };
    let cli_steps: &[&[&str]] = match args.prepare.as_deref() {
        None => &[],
        Some("check" | "downloading" | "error" | "warnings") => &[&["check"]],
        Some("install" | "fallback" | "waiting-restart") => &[&["check"], &["update"]],
        Some("waiting") => &[&["check"]],
        Some("failed-update") => &[&["check"]],
        Some(other) => {
            bail!(
                "--prepare {other}: expected check, downloading, install, fallback, error, failed-update, warnings, waiting or waiting-restart"
            )
        }
    };
    for step in cli_steps {
        let output = std::process::Command::new(testbed::binary("update-center-cli")?)
            .args(*step)
            .env("DBUS_SYSTEM_BUS_ADDRESS", &bus.address)
            .output()?;
        if !output.status.success() && args.prepare.as_deref() != Some("error") {
            bail!(
                "preparing with `update-center-cli {}` failed: {}",
                step.join(" "),
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
    if args.prepare.as_deref() == Some("failed-update") {
        // The mirror now serves other bytes of the same length for the UKI (no delta for it):
        // only its SHA-256 tells, and the update fails with the mirror's URL in its error.
        let uki = std::fs::read_dir(&mirror_dir)?
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                p.extension().is_some_and(|x| x == "efi")
                    && p.to_string_lossy().contains(DEMO_UPDATE)
            })
            .context("the demo mirror has no UKI")?;
        let mut bytes = std::fs::read(&uki)?;
        bytes[0] ^= 0xff;
        std::fs::write(&uki, &bytes)?;
        let output = std::process::Command::new(testbed::binary("update-center-cli")?)
            .arg("update")
            .env("DBUS_SYSTEM_BUS_ADDRESS", &bus.address)
            .output()?;
        if output.status.success() {
            bail!("the update from a mirror with wrong bytes succeeded");
        }
    }
    if args.prepare.as_deref() == Some("fallback") {
        // The new version fails to boot twice (systemd-boot counts its tries down on the
        // entry's name), the running one boots again and records it, as at a real boot.
        let version = DEMO_UPDATE;
        testbed::firmware::enable_efivars(&root)?;
        testbed::firmware::try_boot(&root, version)?;
        testbed::firmware::try_boot(&root, version)?;
        let running = system.booted.clone().context("the demo runs a version")?;
        testbed::firmware::running(&root, &running)?;
        let output = std::process::Command::new(testbed::binary("update-center-helper")?)
            .args([
                "boot-record",
                "--esp",
                "/efi",
                "--relax-esp-checks",
                "--root",
            ])
            .arg(&root)
            .output()?;
        if !output.status.success() {
            bail!(
                "boot-record failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        // A new boot: a new helper.
        drop(helper.take());
        helper = Some(Helper::start(&bus, &root, Some(Path::new("/efi")))?);
    }
    // A download in progress: started by the CLI, followed through its JSON events until bytes
    // arrive; it goes on while the window shows it.
    let download = if args.prepare.as_deref() == Some("downloading") {
        Some(start_download(&bus)?)
    } else {
        None
    };
    match (&args.screenshot, args.transcript) {
        (Some(file), _) => screenshot(&bus, file, &args),
        (None, true) => transcript(&bus, &system),
        (None, false) => interactive(&bus),
    }?;
    if let Some(mut download) = download {
        let _ = download.kill();
        let _ = download.wait();
    }
    drop(helper);
    Ok(())
}

/// A policy that makes the demo wait (docs/policies.md): automatic downloads on, a metered
/// connection (NetworkManager guesses so), restarts only in a window that opens tomorrow, and
/// (`waiting-restart`) a person logged in. Written before the helper starts; the stand-ins
/// answer for NetworkManager, UPower and logind until they are dropped.
fn prepare_waiting(
    bus: &PrivateBus,
    root: &Path,
    mode: &str,
) -> Result<testbed::standins::StandIns> {
    use chrono::Datelike;
    let standins = testbed::standins::StandIns::start(&bus.address)?;
    // NM_METERED_GUESS_YES: a phone's hotspot, say.
    standins.set(|s| s.metered = 3);
    if mode == "waiting-restart" {
        standins.add_session("2", "ana", "user", false)?;
    }
    // Tomorrow's weekday: the window is closed now and its start is said as "tomorrow".
    let tomorrow = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][(chrono::Utc::now()
        + chrono::Duration::days(1))
    .weekday()
    .num_days_from_monday()
        as usize];
    let conf = root.join("etc/update-center/update-center.conf");
    std::fs::create_dir_all(conf.parent().context("a parent")?)?;
    std::fs::write(
        &conf,
        format!(
            "[Updates]\nAutomaticDownload=yes\n[Policy]\nRestart=window\nWindows={tomorrow} 02:00 3h UTC\n"
        ),
    )?;
    eprintln!("demo: a metered connection; restarts wait for {tomorrow} 02:00 UTC");
    Ok(standins)
}

/// Starts `update-center-cli update --json` and returns once it reported downloaded bytes.
fn start_download(bus: &PrivateBus) -> Result<std::process::Child> {
    use std::io::BufRead;
    let mut child = std::process::Command::new(testbed::binary("update-center-cli")?)
        .args(["update", "--json"])
        .env("DBUS_SYSTEM_BUS_ADDRESS", &bus.address)
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut lines = std::io::BufReader::new(stdout).lines();
    loop {
        let Some(line) = lines.next() else {
            bail!("the update ended before it downloaded anything");
        };
        let event: serde_json::Value = serde_json::from_str(&line?)?;
        if event["event"] == "progress" && event["done_bytes"].as_u64().unwrap_or(0) > 0 {
            break;
        }
    }
    // Keep reading, so that the CLI never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Ok(child)
}

/// Renders under Xvfb and writes a PNG; fails on any QML warning or error.
fn screenshot(bus: &PrivateBus, file: &Path, args: &Args) -> Result<()> {
    let (width, height) = args.size;
    let xvfb = Xvfb::start(width, height)?;
    // The pointer starts in the middle of the screen, where it would hover a control and show
    // its tooltip in the picture: it goes to the bottom-right corner (empty on every page).
    let _ = std::process::Command::new("xdotool")
        .args([
            "mousemove",
            &width.saturating_sub(1).to_string(),
            &height.saturating_sub(1).to_string(),
        ])
        .env("DISPLAY", &xvfb.display)
        .status();
    let mut gui_args = vec!["--page", &args.page];
    if args.keys.is_some() {
        gui_args.push("--report-focus");
    }
    let gui = Gui::start_for_screenshot(
        &xvfb.display,
        &bus.address,
        width,
        height,
        &gui_args,
        &args
            .lang
            .as_deref()
            .map(|l| vec![("LANGUAGE", l)])
            .unwrap_or_default(),
    )?;
    if let Some(script) = &args.keys {
        testbed::keyboard::run(&xvfb.display, gui.pid(), &gui.stderr, script)?;
    }
    xvfb.screenshot(file)?;
    let log = gui.stop();
    let problems = qml_problems(&log);
    if !problems.is_empty() {
        bail!(
            "the GUI printed QML warnings or errors:\n{}",
            problems.join("\n")
        );
    }
    eprintln!("demo: wrote {}", file.display());
    Ok(())
}

/// Opens the GUI on the user's display and waits until it is closed.
fn interactive(bus: &PrivateBus) -> Result<()> {
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        bail!(
            "no display (neither DISPLAY nor WAYLAND_DISPLAY is set); use `cargo xtask demo --screenshot FILE` to render without one"
        );
    }
    let status = std::process::Command::new(testbed::binary("update-center")?)
        .env("DBUS_SYSTEM_BUS_ADDRESS", &bus.address)
        .status()
        .context("cannot start update-center")?;
    if !status.success() {
        bail!("update-center exited with {status}");
    }
    Ok(())
}

/// Runs the command-line client through a check, an update and a rollback, printing each
/// command and what it printed; fails at the first command that fails.
fn transcript(bus: &PrivateBus, system: &KdeLinuxRoot) -> Result<()> {
    let previous = system
        .versions
        .first()
        .map(|v| v.version.clone())
        .context("the demo has versions")?;
    let steps: Vec<Vec<String>> = vec![
        vec!["status".into()],
        vec!["check".into()],
        vec!["update".into()],
        vec!["status".into()],
        vec!["rollback".into(), previous],
        vec!["status".into()],
        vec!["history".into(), "--limit".into(), "5".into()],
    ];
    let cli = testbed::binary("update-center-cli")?;
    for step in steps {
        println!("$ update-center-cli {}", step.join(" "));
        let output = std::process::Command::new(&cli)
            .args(&step)
            .env("DBUS_SYSTEM_BUS_ADDRESS", &bus.address)
            .output()
            .context("cannot run update-center-cli")?;
        print!("{}", String::from_utf8_lossy(&output.stderr));
        print!("{}", String::from_utf8_lossy(&output.stdout));
        println!();
        if !output.status.success() {
            bail!(
                "`update-center-cli {}` failed ({})",
                step.join(" "),
                output.status
            );
        }
    }
    Ok(())
}

/// Release notes (AppStream metainfo) and package manifests (mkosi's JSON) for the demo mirror.
fn write_release_notes(dir: &Path, running: &str) -> Result<()> {
    std::fs::write(
        dir.join("org.kde.linux.metainfo.xml"),
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<component type="operating-system">
  <id>org.kde.linux</id>
  <releases>
    <release version="{DEMO_UPDATE}" date="2026-11-26">
      <description>
        <p>Plasma 6.6 with a faster login and a new wallpaper.</p>
        <ul><li>Wi-Fi reconnects after resume</li><li>Kernel 6.17.9</li></ul>
      </description>
      <url type="details">https://kde.org/linux/releases/{DEMO_UPDATE}</url>
    </release>
    <release version="{running}" date="2026-11-25"><description><p>Earlier news.</p></description></release>
  </releases>
</component>"#
        ),
    )?;
    let manifest = |packages: &[(&str, &str)]| {
        let list: Vec<String> = packages
            .iter()
            .map(|(n, v)| format!(r#"{{"type":"pacman","name":"{n}","version":"{v}"}}"#))
            .collect();
        format!(
            r#"{{"manifest_version":1,"packages":[{}]}}"#,
            list.join(",")
        )
    };
    std::fs::write(
        dir.join(format!("kde-linux_{running}.manifest")),
        manifest(&[
            ("plasma-desktop", "6.5.3-1"),
            ("linux", "6.17.8-1"),
            ("kate", "25.08.3-1"),
            ("gone-tool", "1.0-1"),
        ]),
    )?;
    std::fs::write(
        dir.join(format!("kde-linux_{DEMO_UPDATE}.manifest")),
        manifest(&[
            ("plasma-desktop", "6.6.0-1"),
            ("linux", "6.17.9-1"),
            ("kate", "25.08.3-1"),
            ("ollama", "0.12.0-1"),
        ]),
    )?;
    Ok(())
}
