//! Where tasks run: natively on a host with Qt >= 6.5 and Kirigami, otherwise inside the dev
//! root through bwrap with the checkout, the host's Rust toolchain and a persistent target
//! directory bound in.

use crate::devroot;
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Set inside the build environment, so that xtask runs the task instead of entering it again.
const INSIDE_ENV: &str = "UPDATE_CENTER_ENV";
/// Overrides the target directory shared between checkouts.
const TARGET_ENV: &str = "UPDATE_CENTER_TARGET_DIR";

/// The cargo target directory used inside the environment: shared between checkouts (CI builds
/// a fresh clone in another folder and must not start from a cold build).
pub fn target_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os(TARGET_ENV) {
        return Ok(PathBuf::from(dir));
    }
    Ok(devroot::cache_dir().join("target"))
}

/// Whether this runs inside the build environment already.
pub fn inside() -> bool {
    std::env::var_os(INSIDE_ENV).is_some()
}

/// Runs `task` here when this is already the right environment, otherwise re-runs
/// `cargo xtask ARGS` inside it. `binds` are extra host directories the task needs (e.g. where a
/// screenshot goes).
pub fn run_inside(
    args: &[String],
    binds: &[PathBuf],
    task: impl FnOnce() -> Result<()>,
) -> Result<()> {
    if std::env::var_os(INSIDE_ENV).is_some() {
        return task();
    }
    if host_has_kf6() {
        set_env(INSIDE_ENV, "native");
        set_env("CARGO_TARGET_DIR", &target_dir()?.display().to_string());
        return task();
    }
    let checkout = crate::workspace_root()?;
    let root = devroot::ensure(&checkout)?;
    devroot::install_host_tools()?;
    enter(&root, &checkout, binds, args)
}

fn set_env(key: &str, value: &str) {
    // Edition 2024 makes this unsafe because other threads may read the environment; xtask has
    // no other threads.
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var(key, value)
    };
}

/// Qt >= 6.5 with Kirigami's QML module: the host can build and run the GUI itself.
fn host_has_kf6() -> bool {
    let Ok(output) = Command::new("qmake6")
        .args(["-query", "QT_VERSION"])
        .output()
    else {
        return false;
    };
    let version = String::from_utf8_lossy(&output.stdout);
    let mut parts = version
        .trim()
        .split('.')
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    if (major, minor) < (6, 5) {
        return false;
    }
    let Ok(qml) = Command::new("qmake6")
        .args(["-query", "QT_INSTALL_QML"])
        .output()
    else {
        return false;
    };
    Path::new(String::from_utf8_lossy(&qml.stdout).trim())
        .join("org/kde/kirigami")
        .is_dir()
}

/// Re-runs `cargo xtask ARGS` inside the dev root.
fn enter(root: &Path, checkout: &Path, binds: &[PathBuf], args: &[String]) -> Result<()> {
    let home = PathBuf::from(std::env::var_os("HOME").context("HOME is not set")?);
    let target = target_dir()?;
    std::fs::create_dir_all(&target)
        .with_context(|| format!("cannot create the target directory {}", target.display()))?;
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".cargo"));
    let rustup_home = std::env::var_os("RUSTUP_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".rustup"));

    // Crates are fetched here, with the host's network and certificate setup; inside the dev
    // root cargo then works offline.
    let fetch = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["fetch", "--quiet"])
        .current_dir(checkout)
        .status();
    if !matches!(fetch, Ok(s) if s.success()) {
        eprintln!(
            "xtask: warning: `cargo fetch` failed; building with the crates already downloaded"
        );
    }

    let mut command = Command::new("bwrap");
    command
        .arg("--bind")
        .arg(root)
        .arg("/")
        // The real /dev: loop devices and /dev/fuse (bwrap's own --dev has neither).
        .args(["--dev-bind", "/dev", "/dev"])
        .args(["--proc", "/proc"])
        .args(["--ro-bind", "/sys", "/sys"])
        .args(["--bind", "/tmp", "/tmp"])
        .args(["--tmpfs", "/run"])
        .args(["--ro-bind", "/etc/resolv.conf", "/etc/resolv.conf"])
        .arg("--die-with-parent");
    // The user's display session, for `cargo xtask demo` on a desktop.
    let session: Vec<PathBuf> = ["XDG_RUNTIME_DIR", "XAUTHORITY"]
        .into_iter()
        .filter_map(std::env::var_os)
        .map(PathBuf::from)
        .filter(|p| p.exists())
        .collect();
    let mut bound: Vec<PathBuf> = Vec::new();
    for dir in [&cargo_home, &rustup_home, &target, &checkout.to_path_buf()]
        .into_iter()
        .cloned()
        .chain(binds.iter().cloned())
        .chain(session)
    {
        if bound.iter().any(|b| dir.starts_with(b)) || dir.starts_with("/tmp") {
            continue;
        }
        if !dir.exists() {
            bail!("{} does not exist", dir.display());
        }
        command.arg("--bind").arg(&dir).arg(&dir);
        bound.push(dir);
    }
    let path = format!(
        "{}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        cargo_home.join("bin").display()
    );
    command
        .arg("--chdir")
        .arg(checkout)
        .arg("--clearenv")
        .args(["--setenv", "PATH", &path])
        .arg("--setenv")
        .arg("HOME")
        .arg(&home)
        .arg("--setenv")
        .arg("CARGO_HOME")
        .arg(&cargo_home)
        .arg("--setenv")
        .arg("RUSTUP_HOME")
        .arg(&rustup_home)
        .arg("--setenv")
        .arg("CARGO_TARGET_DIR")
        .arg(&target)
        .args(["--setenv", INSIDE_ENV, "devroot"])
        .args(["--setenv", "CARGO_NET_OFFLINE", "true"])
        .args(["--setenv", "LANG", "C.UTF-8"]);
    for key in [
        "TERM",
        "CI",
        "RUST_BACKTRACE",
        "RUST_LOG",
        "CARGO_TERM_COLOR",
        "DISPLAY",
        "XAUTHORITY",
        "WAYLAND_DISPLAY",
        "XDG_RUNTIME_DIR",
    ] {
        if let Some(value) = std::env::var_os(key) {
            command.arg("--setenv").arg(key).arg(value);
        }
    }
    command.args(["cargo", "xtask"]).args(args);
    let status = command.status().context("cannot run bwrap")?;
    if !status.success() {
        bail!(
            "`cargo xtask {}` failed in the dev root ({status})",
            args.join(" ")
        );
    }
    Ok(())
}
