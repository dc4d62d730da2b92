//! The facts of the machine itself that the policy gates need: logind's
//! `DesignatedMaintenanceTime=`, GPU compute work, a site's busy command, and when the waiting
//! version was staged. The facts that live in other services (NetworkManager, UPower, logind's
//! inhibitors and sessions) are asked over D-Bus by the service.

use crate::layout::Layout;
use crate::policy::gates::Busy;
use crate::policy::gpu::{self, GpuWork};
use crate::policy::window::{Window, Windows};
use crate::record::history::{self, Event};
use std::path::Path;
use std::time::Duration;

/// How long a window from logind's `DesignatedMaintenanceTime=` stays open (logind names
/// only its start).
pub const LOGIND_WINDOW: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// How long a site's busy command may take; slower counts as busy.
pub const BUSY_COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// The machine's time zone (the `/etc/localtime` link), UTC when it names none.
pub fn local_zone(root: &Path) -> chrono_tz::Tz {
    std::fs::read_link(root.join("etc/localtime"))
        .ok()
        .and_then(|target| {
            let text = target.to_string_lossy().into_owned();
            let (_, name) = text.split_once("zoneinfo/")?;
            name.parse().ok()
        })
        .unwrap_or(chrono_tz::UTC)
}

/// logind's `DesignatedMaintenanceTime=` (from `logind.conf` and its drop-ins, the last one
/// wins, as logind reads them) as a window of [`LOGIND_WINDOW`] in the machine's zone; none
/// when it is unset, or in a form not understood (with why, for the journal).
pub fn logind_windows(root: &Path) -> (Windows, Option<String>) {
    let mut files = vec![root.join("etc/systemd/logind.conf")];
    for dir in ["usr/lib/systemd/logind.conf.d", "etc/systemd/logind.conf.d"] {
        if let Ok(entries) = std::fs::read_dir(root.join(dir)) {
            let mut more: Vec<_> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "conf"))
                .collect();
            more.sort();
            files.extend(more);
        }
    }
    let mut value = None;
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let mut section = "";
        for line in text.lines().map(str::trim) {
            if line.starts_with('[') {
                section = line;
            } else if section == "[Login]"
                && let Some(v) = line.strip_prefix("DesignatedMaintenanceTime=")
            {
                value = Some(v.trim().to_string()).filter(|v| !v.is_empty());
            }
        }
    }
    let Some(value) = value else {
        return (Windows::never(), None);
    };
    match Window::from_logind(&value, LOGIND_WINDOW, local_zone(root)) {
        Ok(window) => (Windows::new(vec![window]), None),
        Err(e) => (
            Windows::never(),
            Some(format!(
                "logind's DesignatedMaintenanceTime={value} is not used: {e}"
            )),
        ),
    }
}

/// GPU compute work on the machine: AMD's kfd processes and NVIDIA's compute apps (NVML, or
/// `nvidia-smi`). Processes merely holding a render node are not counted: on a desktop the
/// compositor and every browser do. Also where it could not look (for the journal).
pub fn gpu_work(root: &Path) -> (Vec<GpuWork>, Vec<String>) {
    let probe = gpu::Probe {
        root: root.to_path_buf(),
        device_prefixes: Vec::new(),
        ..gpu::Probe::system()
    };
    let report = gpu::detect(&probe);
    let errors = report
        .errors
        .iter()
        .map(|e| format!("cannot tell whether the GPUs are busy: {e}"))
        .collect();
    (report.work, errors)
}

/// Runs a site's busy command: exit status 0 means the machine may restart now.
pub fn busy(command: &str) -> Busy {
    use std::process::{Command, Stdio};
    let child = Command::new(command)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => return Busy::Failed(format!("cannot run it: {e}")),
    };
    let started = std::time::Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                return match status.code() {
                    Some(0) => Busy::Free,
                    Some(code) => Busy::Busy(code),
                    None => Busy::Failed("killed by a signal".into()),
                };
            }
            Ok(None) if started.elapsed() > BUSY_COMMAND_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Busy::Failed(format!(
                    "no answer within {} s",
                    BUSY_COMMAND_TIMEOUT.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Busy::Failed(e.to_string()),
        }
    }
}

/// When `version` was staged: the time of its last `committed` record.
pub fn staged_at(layout: &Layout, version: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    history::read(&layout.state_dir())
        .iter()
        .rev()
        .find(|r| matches!(&r.event, Event::Committed { version: v } if v == version))
        .and_then(|r| chrono::DateTime::parse_from_rfc3339(&r.time).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loginds_maintenance_time_is_read_from_the_last_file_in_the_machines_zone() {
        let root = tempfile::tempdir().expect("tempdir");
        assert!(logind_windows(root.path()).0.is_empty(), "unset: none");
        let etc = root.path().join("etc/systemd");
        std::fs::create_dir_all(etc.join("logind.conf.d")).expect("dirs");
        std::fs::write(
            etc.join("logind.conf"),
            "[Login]\nDesignatedMaintenanceTime=Mon 01:00\n",
        )
        .expect("conf");
        std::fs::write(
            etc.join("logind.conf.d/50-site.conf"),
            "[Login]\nDesignatedMaintenanceTime=Sat 02:00\n",
        )
        .expect("drop-in");
        std::os::unix::fs::symlink(
            "/usr/share/zoneinfo/Europe/Berlin",
            root.path().join("etc/localtime"),
        )
        .expect("localtime");
        let (windows, warning) = logind_windows(root.path());
        assert_eq!(warning, None);
        let at = |t: &str| {
            chrono::DateTime::parse_from_rfc3339(t)
                .expect("time")
                .with_timezone(&chrono::Utc)
        };
        // Saturday 02:30 in Berlin is 01:30 UTC in December.
        assert!(windows.contains(at("2026-12-05T01:30:00Z")));
        assert!(
            !windows.contains(at("2026-12-05T02:30:00Z")),
            "one hour long"
        );
        assert!(
            !windows.contains(at("2026-12-07T00:30:00Z")),
            "the drop-in wins"
        );
        std::fs::write(
            etc.join("logind.conf.d/60-odd.conf"),
            "[Login]\nDesignatedMaintenanceTime=*-*-1/2 04:00\n",
        )
        .expect("odd");
        let (windows, warning) = logind_windows(root.path());
        assert!(windows.is_empty(), "not understood: none");
        assert!(warning.is_some_and(|w| w.contains("*-*-1/2 04:00")));
    }

    #[test]
    fn a_busy_command_answers_with_its_exit_status() {
        assert_eq!(busy("/bin/true"), Busy::Free);
        assert_eq!(busy("/bin/false"), Busy::Busy(1));
        assert!(matches!(busy("/nonexistent/busy"), Busy::Failed(_)));
    }
}
