//! Health checks that decide whether a boot is good. Executables in
//! `/usr/lib/update-center/health.d/` and `/etc/update-center/health.d/` (a file in `/etc`
//! replaces the one of the same name in `/usr`; a link to `/dev/null` or an empty file there
//! disables it). The kind comes from the name: `NAME.required` or `NAME.wanted`; other files
//! are ignored with a warning. Exit status 0 passes, 77 skips (the check does not apply here),
//! anything else fails; a check that runs longer than its timeout is killed and fails.
//!
//! A failed required check fails the `health-check` command, and with it the unit that
//! `boot-complete.target` requires: systemd-bless-boot then does not mark the boot good, and
//! systemd-boot falls back once the tries run out.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Where checks are shipped, inside the root.
pub const VENDOR_DIR: &str = "usr/lib/update-center/health.d";
/// Where administrators add or replace checks, inside the root.
pub const ADMIN_DIR: &str = "etc/update-center/health.d";
/// Output kept per check, in bytes (the rest is cut).
pub const OUTPUT_BYTES: usize = 16 * 1024;
/// The exit status by which a check says it does not apply.
pub const SKIP_STATUS: i32 = 77;

/// The results are the client crate's types: they travel in `health-checked` history records.
pub use update_center_client::health::{CheckResult, Kind, Outcome};

/// One check found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// Its file name.
    pub name: String,
    /// The executable, on disk.
    pub path: PathBuf,
    /// Its kind.
    pub kind: Kind,
}

/// The checks under `root`, by name; warnings for files that are not checks.
pub fn discover(root: &Path) -> (Vec<Check>, Vec<String>) {
    let mut found: std::collections::BTreeMap<String, PathBuf> = Default::default();
    for dir in [VENDOR_DIR, ADMIN_DIR] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.starts_with('.') {
                found.insert(name, entry.path());
            }
        }
    }
    let mut checks = Vec::new();
    let mut warnings = Vec::new();
    for (name, path) in found {
        let masked = std::fs::read_link(&path).is_ok_and(|t| t == Path::new("/dev/null"))
            || std::fs::metadata(&path).is_ok_and(|m| m.len() == 0);
        if masked {
            continue;
        }
        let kind = if name.ends_with(".required") {
            Kind::Required
        } else if name.ends_with(".wanted") {
            Kind::Wanted
        } else {
            warnings.push(format!(
                "{}: ignored: a health check's name ends in .required or .wanted",
                path.display()
            ));
            continue;
        };
        checks.push(Check { name, path, kind });
    }
    (checks, warnings)
}

/// Runs every check, one after the other, each with `timeout`. `root` is passed to each as
/// `UPDATE_CENTER_ROOT`.
pub fn run_all(checks: &[Check], root: &Path, timeout: Duration) -> Vec<CheckResult> {
    checks.iter().map(|c| run(c, root, timeout)).collect()
}

fn run(check: &Check, root: &Path, timeout: Duration) -> CheckResult {
    use std::io::Read;
    use std::os::unix::process::CommandExt;
    let started = Instant::now();
    let result = |outcome, output: String| CheckResult {
        name: check.name.clone(),
        kind: check.kind,
        outcome,
        output,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    };
    let (reader, writer) = match std::io::pipe() {
        Ok(pair) => pair,
        Err(e) => {
            return result(
                Outcome::NotRun {
                    reason: e.to_string(),
                },
                String::new(),
            );
        }
    };
    let spawned = writer.try_clone().and_then(|stderr| {
        std::process::Command::new(&check.path)
            .env("UPDATE_CENTER_ROOT", root)
            .stdin(std::process::Stdio::null())
            .stdout(writer)
            .stderr(stderr)
            // Its own process group, so that a hanging check is killed with its children.
            .process_group(0)
            .spawn()
    });
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => {
            return result(
                Outcome::NotRun {
                    reason: e.to_string(),
                },
                String::new(),
            );
        }
    };
    let pid = child.id();
    // The output is read on a thread; it ends when every writer (the check and its children)
    // is gone.
    let output = std::thread::spawn(move || {
        let mut reader = reader;
        let mut bytes = Vec::new();
        let _ = (&mut reader)
            .take(OUTPUT_BYTES as u64)
            .read_to_end(&mut bytes);
        // Drain the rest so that a chatty check does not block on a full pipe.
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
        bytes
    });
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let status = child.wait();
        let _ = done_tx.send(());
        status
    });
    let timed_out = done_rx.recv_timeout(timeout).is_err();
    if timed_out
        && let Some(group) = i32::try_from(pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
    {
        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
    }
    let status = waiter.join().ok().and_then(Result::ok);
    // Whatever is left in the group goes too: its output pipe must close.
    if let Some(group) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    {
        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
    }
    let bytes = output.join().unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let outcome = if timed_out {
        Outcome::TimedOut {
            after_secs: timeout.as_secs(),
        }
    } else {
        match status.and_then(|s| s.code()) {
            Some(0) => Outcome::Passed,
            Some(SKIP_STATUS) => Outcome::Skipped,
            code => Outcome::Failed { status: code },
        }
    };
    result(outcome, text)
}
