//! The processes a test or the demo runs: the helper on a private bus, Xvfb, the GUI. Each is
//! waited for through a line it prints when ready, and stopped when dropped.

use crate::bus::PrivateBus;
use anyhow::{Context, Result, bail};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

/// Lines a process printed, collected by a thread that keeps its pipe drained.
#[derive(Clone, Default)]
pub struct Log(Arc<(Mutex<Vec<String>>, Condvar)>);

impl Log {
    /// Every line so far.
    pub fn lines(&self) -> Vec<String> {
        self.0.0.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// All lines joined.
    pub fn text(&self) -> String {
        self.lines().join("\n")
    }

    /// Adds a line and wakes the waiters.
    pub fn push(&self, line: String) {
        if let Ok(mut lines) = self.0.0.lock() {
            lines.push(line);
        }
        self.0.1.notify_all();
    }

    /// Waits until a line containing `marker` has arrived (woken by each new line), at most
    /// `limit`. A process writes its log before it answers, but the reading thread may not have
    /// caught up yet when the answer arrives.
    pub fn wait_for(&self, marker: &str, limit: std::time::Duration) -> bool {
        let deadline = std::time::Instant::now() + limit;
        let Ok(mut lines) = self.0.0.lock() else {
            return false;
        };
        loop {
            if lines.iter().any(|l| l.contains(marker)) {
                return true;
            }
            let now = std::time::Instant::now();
            if now >= deadline {
                return false;
            }
            match self.0.1.wait_timeout(lines, deadline - now) {
                Ok((guard, _)) => lines = guard,
                Err(_) => return false,
            }
        }
    }
}

/// Reads `pipe` line by line until a line containing `marker` (returned), storing every line in
/// `log` and echoing it with `prefix`; keeps draining in the background afterwards.
fn wait_for_line(
    pipe: impl Read + Send + 'static,
    marker: &'static str,
    log: Log,
    prefix: &'static str,
) -> (Option<String>, JoinHandle<()>) {
    let (sender, receiver) = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        let mut sender = Some(sender);
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if !prefix.is_empty() {
                eprintln!("{prefix}{line}");
            }
            log.push(line.clone());
            if line.contains(marker)
                && let Some(s) = sender.take()
            {
                let _ = s.send(line);
            }
        }
    });
    // The sender is dropped when the pipe closes without the marker: recv then fails.
    (receiver.recv().ok(), handle)
}

/// The helper serving a root on a private bus.
pub struct Helper {
    child: Child,
    /// What the helper printed on stderr.
    pub log: Log,
}

impl Helper {
    /// Starts `update-center-helper --root ROOT [--esp ESP]` on `bus` and returns once it owns
    /// its bus name.
    pub fn start(bus: &PrivateBus, root: &Path, esp: Option<&Path>) -> Result<Self> {
        Self::start_with(
            Command::new(crate::binary("update-center-helper")?),
            bus,
            root,
            esp,
        )
    }

    /// Same as [`Helper::start`] with a prepared command (e.g. wrapped in `setpriv`).
    pub fn start_with(
        mut command: Command,
        bus: &PrivateBus,
        root: &Path,
        esp: Option<&Path>,
    ) -> Result<Self> {
        command.arg("--root").arg(root);
        if let Some(esp) = esp {
            command.arg("--esp").arg(esp);
        }
        let mut child = command
            .env("DBUS_SYSTEM_BUS_ADDRESS", &bus.address)
            // Fixture roots are plain directories: their /efi is no FAT file system.
            .env("SYSTEMD_RELAX_ESP_CHECKS", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("cannot start update-center-helper")?;
        let stderr = child.stderr.take().context("no stderr")?;
        let log = Log::default();
        let (ready, reader) = wait_for_line(
            stderr,
            "serving org.kde.UpdateCenter1",
            log.clone(),
            "helper: ",
        );
        if ready.is_none() {
            let status = child.wait()?;
            let _ = reader.join();
            bail!(
                "the helper exited before serving ({status}):\n{}",
                log.text()
            );
        }
        Ok(Self { child, log })
    }
}

impl Helper {
    /// Its process ID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for it to exit (call once it said it is leaving).
    pub fn wait(&mut self) -> std::io::Result<std::process::ExitStatus> {
        self.child.wait()
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A virtual X server.
pub struct Xvfb {
    /// The display, e.g. `:5`.
    pub display: String,
    child: Child,
}

impl Xvfb {
    /// Starts Xvfb with one screen of the given size; returns once it accepts clients (it
    /// writes the display number to `-displayfd` only then).
    pub fn start(width: u32, height: u32) -> Result<Self> {
        let mut child = Command::new("Xvfb")
            .args(["-displayfd", "1", "-screen", "0"])
            .arg(format!("{width}x{height}x24"))
            .args(["-nolisten", "tcp", "-noreset"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start Xvfb (install xvfb, or run through `cargo xtask`)")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let number = line.trim();
        if number.is_empty() {
            let status = child.wait()?;
            bail!("Xvfb exited before accepting clients ({status})");
        }
        Ok(Self {
            display: format!(":{number}"),
            child,
        })
    }

    /// Writes a PNG of the whole screen with ImageMagick's `import`.
    pub fn screenshot(&self, file: &Path) -> Result<()> {
        let output = Command::new("import")
            .args(["-display", &self.display, "-window", "root"])
            .arg(file)
            .output()
            .context("cannot run import (install imagemagick)")?;
        if !output.status.success() {
            bail!(
                "import failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(())
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The GUI, started for a screenshot.
pub struct Gui {
    child: Child,
    /// What the GUI printed on stderr (Qt and QML messages).
    pub stderr: Log,
    /// What it printed on stdout.
    pub stdout: Log,
    readers: Vec<JoinHandle<()>>,
}

impl Gui {
    /// Starts the GUI on `display`, talking to the bus at `bus_address`, with a window of
    /// `width`x`height` at the top left; returns once it printed that its first frame with
    /// loaded data is on screen.
    pub fn start_for_screenshot(
        display: &str,
        bus_address: &str,
        width: u32,
        height: u32,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Result<Self> {
        let mut child = Command::new(crate::binary("update-center")?)
            .args(args)
            .envs(env.iter().copied())
            .arg("-geometry")
            .arg(format!("{width}x{height}+0+0"))
            .env("DISPLAY", display)
            .env("DBUS_SYSTEM_BUS_ADDRESS", bus_address)
            .env("QT_QPA_PLATFORM", "xcb")
            // The software scene graph renders the same everywhere; the basic render loop emits
            // frameSwapped on the GUI thread right after the frame is on screen.
            .env("QT_QUICK_BACKEND", "software")
            .env("QSG_RENDER_LOOP", "basic")
            .env("LANG", "C.UTF-8")
            .env("UPDATE_CENTER_REPORT_READY", "1")
            .env_remove("QT_QUICK_CONTROLS_STYLE")
            .env_remove("WAYLAND_DISPLAY")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("cannot start update-center")?;
        let stderr_log = Log::default();
        let stdout_log = Log::default();
        let stderr = child.stderr.take().context("no stderr")?;
        let err_reader = {
            let log = stderr_log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    eprintln!("gui: {line}");
                    log.push(line);
                }
            })
        };
        let stdout = child.stdout.take().context("no stdout")?;
        let (ready, out_reader) =
            wait_for_line(stdout, "update-center: ready", stdout_log.clone(), "gui: ");
        let mut gui = Self {
            child,
            stderr: stderr_log,
            stdout: stdout_log,
            readers: vec![err_reader, out_reader],
        };
        if ready.is_none() {
            let status = gui.child.wait()?;
            for r in gui.readers.drain(..) {
                let _ = r.join();
            }
            bail!(
                "the GUI exited before showing anything ({status}):\n{}",
                gui.stderr.text()
            );
        }
        Ok(gui)
    }

    /// The GUI's process id (its window carries it, for xdotool).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the GUI and returns everything it printed on stderr.
    pub fn stop(mut self) -> Vec<String> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        self.stderr.lines()
    }
}

impl Drop for Gui {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Lines of a GUI log that are QML warnings or errors (anything naming a QML file or a QML
/// engine failure).
pub fn qml_problems(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter(|l| {
            l.contains(".qml:")
                || l.contains("qrc:/")
                || l.contains("QQmlApplicationEngine")
                || l.contains("ReferenceError")
                || l.contains("TypeError")
                || l.contains("Binding loop")
        })
        .cloned()
        .collect()
}

/// What a run of `update-center-qmltest` printed.
pub struct QuickTestRun {
    /// Whether it exited successfully.
    pub success: bool,
    /// Standard output and error.
    pub text: String,
    /// QML warnings and errors among them (QtTest's own PASS and Config lines left out).
    pub problems: Vec<String>,
}

/// Runs the QtQuickTest suites in `qml/DIR` offscreen, with `bus_address` as the system bus.
pub fn run_quick_tests(dir: &str, bus_address: &str) -> Result<QuickTestRun> {
    run_quick_tests_with(dir, bus_address, &[])
}

/// [`run_quick_tests`] with extra environment variables (a session bus, for example).
pub fn run_quick_tests_with(
    dir: &str,
    bus_address: &str,
    env: &[(&str, &str)],
) -> Result<QuickTestRun> {
    let output = Command::new(crate::binary("update-center-qmltest")?)
        .arg(crate::checkout().join("qml").join(dir))
        .envs(env.iter().copied())
        .env("QT_QPA_PLATFORM", "offscreen")
        .env("QT_QUICK_BACKEND", "software")
        .env("LANG", "C.UTF-8")
        .env("DBUS_SYSTEM_BUS_ADDRESS", bus_address)
        .output()
        .context("cannot run update-center-qmltest")?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    let problems = qml_problems(&lines)
        .into_iter()
        .filter(|l| !l.starts_with("PASS") && !l.starts_with("Config:"))
        .collect();
    Ok(QuickTestRun {
        success: output.status.success(),
        text,
        problems,
    })
}
