//! Real parts for the end-to-end tests and the demo: KDE Linux-shaped systems, a private system
//! bus with the project's policy, the helper on it, Xvfb and the GUI.
//!
//! Nothing here imitates a part that runs on this machine: the bus is `dbus-daemon`, the images
//! are made by `mkfs.erofs`, the screen is Xvfb. Processes report readiness themselves (an
//! address or a line on a pipe), so nothing waits by sleeping.

pub mod bus;
pub mod etcd;
pub mod firmware;
pub mod gpg;
pub mod guest;
pub mod invariants;
pub mod judge;
pub mod keyboard;
pub mod keyring;
pub mod mirror;
pub mod mounts;
pub mod nginx;
pub mod oracle;
pub mod polkit;
pub mod process;
pub mod scenarios;
pub mod setup;
pub mod standins;
pub mod system;
pub mod vm;
pub mod world;

use std::path::PathBuf;

/// The checkout (workspace root).
pub fn checkout() -> PathBuf {
    // Cargo sets CARGO_MANIFEST_DIR when it runs tests and binaries; the compile-time value is a
    // fallback for binaries started by hand.
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    let manifest = if manifest.join("testbed").is_dir() {
        manifest
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    };
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// A binary of the workspace, next to the running executable in the target directory.
///
/// `cargo xtask test` builds every binary before it runs the tests.
pub fn binary(name: &str) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let mut dir = exe.parent().map(PathBuf::from).unwrap_or_default();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let path = dir.join(name);
    if !path.is_file() {
        anyhow::bail!(
            "{} is not built; run the tests with `cargo xtask test`, which builds every binary first",
            path.display()
        );
    }
    Ok(path)
}

/// Runs `command` to its end: whether it succeeded, its standard output and its standard error
/// (a program that cannot be started: not succeeded, and why on standard error).
pub fn run(command: &mut std::process::Command) -> (bool, String, String) {
    match command.output() {
        Ok(output) => (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        ),
        Err(e) => (false, String::new(), format!("cannot run {command:?}: {e}")),
    }
}

/// Runs `update-center-helper ARGS --esp /efi --root ROOT` (offline, no bus): whether it
/// succeeded, its standard output and its standard error.
pub fn offline(root: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    match binary("update-center-helper") {
        Ok(helper) => run(std::process::Command::new(helper)
            .args(args)
            .args(["--esp", "/efi", "--root"])
            .arg(root)),
        Err(e) => (false, String::new(), e.to_string()),
    }
}

/// `update-center-helper inspect --json` of a root.
pub fn inspect(root: &std::path::Path) -> serde_json::Value {
    let (ok, out, err) = offline(root, &["inspect", "--json"]);
    assert!(ok, "inspect failed: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("inspect printed no JSON ({e}): {out}"))
}

/// Every file under `dir` whose bytes contain `needle`.
pub fn files_containing(dir: &std::path::Path, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            found.extend(files_containing(&path, needle));
        } else if kind.is_file()
            && let Ok(bytes) = std::fs::read(&path)
            && bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
        {
            found.push(path.display().to_string());
        }
    }
    found
}

/// Each unit's exposure budget as `systemd-analyze security` rates it: the helper is root but
/// without a network (its requests go through the relay, which has the network but is nobody
/// without capabilities); the units that only read, record or ask the helper are far below;
/// the health checks must see the system as it is. Checked offline (`tests/units.rs`) and
/// inside the systemd guest (`tests/guest.rs`).
pub const EXPOSURE_BUDGETS: [(&str, f64); 5] = [
    ("update-center-helper.service", 1.0),
    ("update-center-fetch@.service", 1.2),
    ("update-center-check.service", 1.0),
    ("update-center-boot-record.service", 1.0),
    ("update-center-health-check.service", 3.0),
];

/// The overall exposure `systemd-analyze security` printed for `unit` in `text` (a template
/// is rated as one of its instances).
pub fn exposure_score(text: &str, unit: &str) -> Option<f64> {
    let name = unit
        .trim_end_matches("@.service")
        .trim_end_matches(".service");
    text.lines()
        .find_map(|l| {
            l.split(&format!("Overall exposure level for {name}"))
                .nth(1)
                .and_then(|rest| rest.split_once(": ").map(|(_, score)| score))
        })
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}
