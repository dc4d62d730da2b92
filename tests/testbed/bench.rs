//! `update-center-bench [stage|api|all]` (default: all), run through `cargo xtask bench`, which
//! builds it in release mode. `stage` stages one version (a large EROFS image and a UKI) from
//! a local HTTP server with the helper, with systemd-sysupdate 257, and with the raw limit
//! (`curl | tee | sha256sum`, then `sync`), several times on the same fixture, and prints a
//! table with ratios.
//! `delta` compares delta downloads with casync (see `bench_delta.rs`); `fleet` rolls a version
//! through 1000 simulated machines on a real etcd cluster (see `bench_fleet.rs`).
//! `api` times 1000 round trips of the status properties and of the version list against the
//! bus daemon's own round trip, and reads the idle helper's resident memory.

use anyhow::{Context, Result, bail};
use std::path::Path;
use std::process::Command;
use testbed::mirror::{self, HttpMirror, MirrorVersion};
use testbed::system::{Images, KdeLinuxRoot, VersionSpec};

const NEW: &str = "202611250800";

struct Options {
    runs: usize,
    image_mb: usize,
    uki_mb: usize,
}

fn options() -> Result<Options> {
    let mut o = Options {
        runs: 3,
        image_mb: 1024,
        uki_mb: 200,
    };
    let mut args = std::env::args().skip(1);
    let task = args.next().unwrap_or_else(|| "stage".into());
    if task != "stage" && task != "all" {
        bail!("unknown benchmark `{task}` (known: stage, api, gui, delta, fleet, all)");
    }
    while let Some(arg) = args.next() {
        let mut number =
            || -> Result<usize> { Ok(args.next().context("a number must follow")?.parse()?) };
        match arg.as_str() {
            "--runs" => o.runs = number()?,
            "--image-mb" => o.image_mb = number()?,
            "--uki-mb" => o.uki_mb = number()?,
            other => bail!("unknown option `{other}`"),
        }
    }
    Ok(o)
}

/// Writes `mb` MiB of incompressible bytes.
fn payload(path: &Path, mb: usize, seed: u64) -> Result<()> {
    use std::io::Write;
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut state = seed | 1;
    let mut chunk = vec![0u8; 1024 * 1024];
    for _ in 0..mb {
        for word in chunk.chunks_exact_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            word.copy_from_slice(&state.to_le_bytes());
        }
        file.write_all(&chunk)?;
    }
    file.flush()?;
    Ok(())
}

/// Wall seconds, CPU seconds, peak RSS in MB, from GNU time's `%e %U %S %M`.
#[derive(Debug, Clone, Copy)]
struct Sample {
    wall: f64,
    cpu: f64,
    rss_mb: f64,
}

fn measure(command: &mut Command) -> Result<Sample> {
    let mut timed = Command::new("/usr/bin/time");
    timed
        .args(["-f", "BENCH %e %U %S %M"])
        .arg(command.get_program())
        .args(command.get_args());
    for (key, value) in command.get_envs() {
        if let Some(value) = value {
            timed.env(key, value);
        }
    }
    let output = timed
        .output()
        .context("cannot run /usr/bin/time (install `time`)")?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        bail!("{:?} failed: {stderr}", command.get_program());
    }
    let line = stderr
        .lines()
        .rev()
        .find(|l| l.starts_with("BENCH "))
        .context("no timing")?;
    let v: Vec<f64> = line[6..]
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    if v.len() != 4 {
        bail!("cannot read the timing `{line}`");
    }
    Ok(Sample {
        wall: v[0],
        cpu: v[1] + v[2],
        rss_mb: v[3] / 1024.0,
    })
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

mod bench_delta;
mod bench_fleet;

fn main() -> Result<()> {
    match std::env::args().nth(1).as_deref() {
        Some("api") => return api(),
        Some("delta") => return bench_delta::delta(),
        Some("fleet") => return bench_fleet::fleet(),
        Some("gui") => return gui(),
        Some("all") | None => {
            api()?;
            gui()?;
        }
        _ => {}
    }
    stage()
}

/// Milliseconds of `calls` round trips of `call`, sorted.
async fn timings<F, Fut>(calls: usize, mut call: F) -> Result<Vec<f64>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let mut out = Vec::with_capacity(calls);
    for _ in 0..calls {
        let start = std::time::Instant::now();
        call().await?;
        out.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    out.sort_by(f64::total_cmp);
    Ok(out)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// `update-center-bench api`: round trips of the status properties and the version list
/// against the bus daemon's own round trip, and the helper's idle memory.
fn api() -> Result<()> {
    const CALLS: usize = 1000;
    let work = tempfile::Builder::new().prefix("uc-bench-api-").tempdir()?;
    let root = work.path().join("root");
    let versions = [
        VersionSpec::complete("202610010800"),
        VersionSpec::complete("202611010800"),
        VersionSpec::complete("202611150800"),
        VersionSpec::complete("202611200930"),
    ];
    KdeLinuxRoot::create(&root, &versions, Some("202611200930"), Images::Plain)?;
    let bus = testbed::bus::PrivateBus::start()?;
    let helper = testbed::process::Helper::start(&bus, &root, Some(Path::new("/efi")))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (bus_rt, status, list) = runtime.block_on(async {
        let connection = zbus::connection::Builder::address(bus.address.as_str())?
            .build()
            .await?;
        let daemon = zbus::fdo::DBusProxy::new(&connection).await?;
        let properties = zbus::fdo::PropertiesProxy::builder(&connection)
            .destination(update_center_client::BUS_NAME)?
            .path(update_center_client::OBJECT_PATH)?
            .build()
            .await?;
        let center = update_center_client::UpdateCenterProxy::new(&connection).await?;
        let interface =
            zbus::names::InterfaceName::from_static_str(update_center_client::INTERFACE)?;
        // Warm up: connections, caches, the helper's first inventory.
        for _ in 0..50 {
            center.list_versions().await?;
            properties.get_all(interface.clone()).await?;
        }
        let bus_rt = timings(CALLS, || async {
            daemon.get_id().await?;
            Ok(())
        })
        .await?;
        let status = timings(CALLS, || async {
            properties.get_all(interface.clone()).await?;
            Ok(())
        })
        .await?;
        let list = timings(CALLS, || async {
            anyhow::ensure!(center.list_versions().await?.len() == 4);
            Ok(())
        })
        .await?;
        anyhow::Ok((bus_rt, status, list))
    })?;
    let status_file = std::fs::read_to_string(format!("/proc/{}/status", helper.pid()))?;
    let rss_kb: u64 = status_file
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("no VmRSS")?;
    let base = percentile(&bus_rt, 0.99);
    println!();
    println!("api: {CALLS} calls each over a private dbus-daemon, one client, helper idle between");
    println!("| call | p50 ms | p99 ms | p99 vs bus round trip | target |");
    println!("|---|---|---|---|---|");
    for (name, t, target) in [
        ("bus round trip (GetId, baseline)", &bus_rt, "-"),
        ("status (GetAll properties)", &status, "p99 < 5 ms"),
        ("ListVersions (4 versions)", &list, "p99 < 5 ms"),
    ] {
        println!(
            "| {name} | {:.3} | {:.3} | {:.2}x | {target} |",
            percentile(t, 0.5),
            percentile(t, 0.99),
            percentile(t, 0.99) / base
        );
    }
    println!(
        "| helper idle RSS | {:.1} MB | | | < 20 MB |",
        rss_kb as f64 / 1024.0
    );
    drop(helper);
    Ok(())
}

fn stage() -> Result<()> {
    let o = options()?;
    let work = tempfile::Builder::new()
        .prefix("uc-bench-")
        .tempdir_in("/var/tmp")?;
    let mirror_dir = work.path().join("mirror");
    mirror::create(
        &mirror_dir,
        &[MirrorVersion::complete(NEW)],
        Images::Plain,
        None,
    )?;
    let image = format!("kde-linux_{NEW}_root-x86-64.erofs");
    let uki = format!("kde-linux_{NEW}.efi");
    eprintln!(
        "bench: writing a {} MB image and a {} MB UKI",
        o.image_mb, o.uki_mb
    );
    payload(&mirror_dir.join(&image), o.image_mb, 7)?;
    payload(&mirror_dir.join(&uki), o.uki_mb, 11)?;
    mirror::write_sums(&mirror_dir)?;
    let server = HttpMirror::serve(&mirror_dir)?;
    let helper = testbed::binary("update-center-helper")?;

    let fresh_root = |name: &str| -> Result<KdeLinuxRoot> {
        let root = work.path().join(name);
        let _ = std::fs::remove_dir_all(&root);
        let system = KdeLinuxRoot::create(
            &root,
            &[VersionSpec::complete("202611010800")],
            Some("202611010800"),
            Images::Plain,
        )?;
        system.use_source(&server.url, false)?;
        Ok(system)
    };
    let tools = ["update-center", "systemd-sysupdate", "raw limit"];
    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); tools.len()];
    for run in 0..o.runs {
        for (index, tool) in tools.iter().enumerate() {
            let system = fresh_root(&format!("root-{index}"))?;
            let root = &system.root;
            let sample = match index {
                0 => measure(
                    Command::new(&helper)
                        .args(["update", "--esp", "/efi", "--root"])
                        .arg(root),
                )?,
                1 => measure(
                    testbed::oracle::command(root)
                        .args(["update", "--no-pager"])
                        .env("SYSTEMD_LOG_LEVEL", "warning"),
                )?,
                _ => {
                    let script = format!(
                        "set -e; curl -sf {u}{image} | tee {r}/system/kde-linux_{NEW}.erofs | sha256sum >/dev/null; \
                         curl -sf {u}{uki} | tee {r}/efi/EFI/Linux/kde-linux_{NEW}+2-0.efi | sha256sum >/dev/null; sync",
                        u = server.url,
                        r = root.display()
                    );
                    measure(Command::new("sh").args(["-c", &script]))?
                }
            };
            eprintln!(
                "bench: run {} {tool}: {:.2} s wall, {:.2} s CPU, {:.0} MB",
                run + 1,
                sample.wall,
                sample.cpu,
                sample.rss_mb
            );
            samples[index].push(sample);
            std::fs::remove_dir_all(root)?;
        }
    }
    let wall: Vec<f64> = samples
        .iter()
        .map(|s| median(s.iter().map(|x| x.wall).collect()))
        .collect();
    println!();
    println!(
        "stage: {} MB image + {} MB UKI over HTTP on 127.0.0.1, median of {} runs",
        o.image_mb, o.uki_mb, o.runs
    );
    println!(
        "| tool | wall s | CPU s | peak RSS MB | wall vs systemd-sysupdate | wall vs raw limit |"
    );
    println!("|---|---|---|---|---|---|");
    for (index, tool) in tools.iter().enumerate() {
        let cpu = median(samples[index].iter().map(|x| x.cpu).collect());
        let rss = samples[index].iter().map(|x| x.rss_mb).fold(0.0, f64::max);
        println!(
            "| {tool} | {:.2} | {:.2} | {:.0} | {:.2}x | {:.2}x |",
            wall[index],
            cpu,
            rss,
            wall[index] / wall[1],
            wall[index] / wall[2]
        );
    }
    Ok(())
}

/// The floor of the GUI benchmark: a bare Kirigami window with one page, which reports itself
/// ready the same way the application does (a quarter of Kirigami's "human moment" after its
/// last frame).
const FLOOR_QML: &str = r#"import QtQuick
import org.kde.kirigami as Kirigami
Kirigami.ApplicationWindow {
    width: 1280
    height: 800
    pageStack.initialPage: Kirigami.Page { title: "Floor" }
    property bool announced: false
    onFrameSwapped: settle.restart()
    Timer {
        id: settle
        interval: Kirigami.Units.humanMoment / 4
        onTriggered: if (!announced) { announced = true; console.info("floor: ready") }
    }
}
"#;

/// Starts `command` with Qt's per-frame log on, and returns the seconds from start to its last
/// frame before it went quiet, and the peak RSS (VmHWM) in MB then; the process is then stopped.
/// "Quiet" is the same for every window: no frame for 250 ms (Discover keeps animating at
/// 2 frames per second once loaded, so a longer pause never comes). With `marker`, the window
/// must also have said it shows its data (our application) before it counts as settled.
fn until_settled(mut command: std::process::Command, marker: Option<&str>) -> Result<(f64, f64)> {
    use std::io::BufRead;
    use std::time::{Duration, Instant};
    enum Seen {
        Frame(Instant),
        Marker,
    }
    command
        .env("QSG_RENDER_LOOP", "basic")
        .env("QT_LOGGING_RULES", "qt.scenegraph.time.renderloop=true");
    let started = Instant::now();
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let (tx, rx) = std::sync::mpsc::channel();
    for pipe in [
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
    ]
    .into_iter()
    .flatten()
    {
        let tx = tx.clone();
        let marker = marker.map(str::to_string);
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
                if line.contains("Frame rendered") {
                    let _ = tx.send(Seen::Frame(Instant::now()));
                } else if marker.as_deref().is_some_and(|m| line.contains(m)) {
                    let _ = tx.send(Seen::Marker);
                }
            }
        });
    }
    let deadline = started + Duration::from_secs(60);
    let mut last_frame: Option<Instant> = None;
    let mut marked = marker.is_none();
    let settled = loop {
        if Instant::now() > deadline {
            break None;
        }
        match rx.recv_timeout(Duration::from_millis(250)) {
            Ok(Seen::Frame(at)) => last_frame = Some(at),
            Ok(Seen::Marker) => marked = true,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if marked && let Some(at) = last_frame {
                    break Some(at);
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break None,
        }
    };
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
    let _ = child.kill();
    let _ = child.wait();
    let Some(at) = settled else {
        bail!("the window did not settle within a minute");
    };
    let hwm_kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("no VmHWM")?;
    Ok(((at - started).as_secs_f64(), hwm_kb / 1024.0))
}

/// `update-center-bench gui`: time from start to the first window showing data, and peak RSS,
/// for the application on the demo system, a bare Kirigami window and KDE Discover, under Xvfb.
fn gui() -> Result<()> {
    const RUNS: usize = 5;
    let work = tempfile::Builder::new().prefix("uc-bench-gui-").tempdir()?;
    let root = work.path().join("root");
    KdeLinuxRoot::demo(&root, Images::Plain)?;
    let bus = testbed::bus::PrivateBus::start()?;
    let _helper = testbed::process::Helper::start(&bus, &root, Some(Path::new("/efi")))?;
    let xvfb = testbed::process::Xvfb::start(1280, 800)?;
    let floor_file = work.path().join("floor.qml");
    std::fs::write(&floor_file, FLOOR_QML)?;
    // Discover (and KDE frameworks) want a session bus; each run gets the same one.
    let session = testbed::bus::PrivateBus::start_session()?;
    let home = work.path().join("home");
    std::fs::create_dir_all(&home)?;
    let env = |command: &mut std::process::Command| {
        command
            .env("DISPLAY", &xvfb.display)
            .env("DBUS_SYSTEM_BUS_ADDRESS", &bus.address)
            .env("DBUS_SESSION_BUS_ADDRESS", &session.address)
            .env("HOME", &home)
            .env("QT_QPA_PLATFORM", "xcb")
            .env("QT_QUICK_BACKEND", "software")
            .env("QT_QUICK_CONTROLS_STYLE", "org.kde.desktop")
            .env("LANG", "C.UTF-8")
            .env("UPDATE_CENTER_REPORT_READY", "1");
    };
    let discover_found = std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| dir.join("plasma-discover").is_file())
    });
    let mut ours = Vec::new();
    let mut floor = Vec::new();
    let mut discover = Vec::new();
    for _ in 0..RUNS {
        let mut app = std::process::Command::new(testbed::binary("update-center")?);
        env(&mut app);
        ours.push(until_settled(app, Some("update-center: ready"))?);
        let mut bare = std::process::Command::new("qml6");
        bare.arg(&floor_file);
        env(&mut bare);
        floor.push(until_settled(bare, None)?);
        if discover_found {
            let mut d = std::process::Command::new("plasma-discover");
            env(&mut d);
            discover.push(until_settled(d, None)?);
        }
    }
    let med = |v: &[(f64, f64)], f: fn(&(f64, f64)) -> f64| median(v.iter().map(f).collect());
    let (floor_s, floor_mb) = (med(&floor, |x| x.0), med(&floor, |x| x.1));
    let (ours_s, ours_mb) = (med(&ours, |x| x.0), med(&ours, |x| x.1));
    println!();
    println!(
        "gui: start to the last frame before the window went quiet (no frame for 250 ms; ours also showing its data), under Xvfb with software rendering, median of {RUNS}"
    );
    println!("| window | seconds | peak RSS MB | time vs floor | RSS vs floor |");
    println!("|---|---|---|---|---|");
    println!("| bare Kirigami window (floor) | {floor_s:.3} | {floor_mb:.0} | 1.00x | +0 MB |");
    println!(
        "| update-center (demo system) | {ours_s:.3} | {ours_mb:.0} | {:.2}x | {:+.0} MB |",
        ours_s / floor_s,
        ours_mb - floor_mb
    );
    if discover_found {
        let (d_s, d_mb) = (med(&discover, |x| x.0), med(&discover, |x| x.1));
        println!(
            "| KDE Discover (plasma-discover, no backends reachable) | {d_s:.3} | {d_mb:.0} | {:.2}x | {:+.0} MB |",
            d_s / floor_s,
            d_mb - floor_mb
        );
        println!(
            "update-center vs Discover: {:.2}x the time, {:+.0} MB",
            ours_s / d_s,
            ours_mb - d_mb
        );
    } else {
        println!("| KDE Discover | not installed | | | |");
    }
    println!("targets: at most 1.5x the floor's time; at most the floor + 40 MB");
    Ok(())
}
