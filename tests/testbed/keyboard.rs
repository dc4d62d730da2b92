//! The keyboard alone: drives the GUI under Xvfb with Tab, Backtab, Space and Enter (xdotool),
//! as a person without a mouse does, and follows what the GUI reports when started with
//! `--report-focus`: `update-center: focus NAME` whenever another item takes the keyboard focus,
//! and `update-center: tabbable [NAMES]` (JSON) whenever the set of controls the Tab key should
//! reach changes. NAME is what a screen reader says (the accessible name, else the text), with
//! ` [checked]` or ` [unchecked]` for a control that can be checked.
//!
//! A script is a comma-separated list of steps:
//!
//! | step | does |
//! |---|---|
//! | `tab`, `backtab`, `space`, `enter` | presses the key |
//! | `cycle`, `backcycle` | presses Tab (Backtab) until the focus comes back to where the cycle began |
//! | `tab-to=NAME` | presses Tab until the focused item's name starts with NAME |
//! | `expect=TEXT` | waits until the GUI printed a line containing TEXT after the previous step |

use crate::process::Log;
use anyhow::{Context, Result, bail};
use std::process::Command;
use std::time::{Duration, Instant};

/// The most key presses a cycle or a `tab-to` takes before it is a failure.
const MAX_PRESSES: usize = 120;
/// How long a key press may take to move the focus, and an `expect` to be met.
const WAIT: Duration = Duration::from_secs(10);

/// The prefix of the GUI's focus reports.
pub const FOCUS: &str = "update-center: focus ";
/// The prefix of the GUI's reports of the controls Tab should reach.
pub const TABBABLE: &str = "update-center: tabbable ";
/// What a `cycle` step prints: the names Tab went through, as JSON.
pub const CYCLE: &str = "keyboard: Tab went through ";
/// What a `backcycle` step prints.
pub const BACKCYCLE: &str = "keyboard: Backtab went through ";

/// The names each cycle of `prefix` ([`CYCLE`], [`BACKCYCLE`]) in `lines` went through.
pub fn cycles(lines: &[String], prefix: &str) -> Vec<Vec<String>> {
    lines
        .iter()
        .filter_map(|l| l.split_once(prefix))
        .filter_map(|(_, json)| serde_json::from_str(json).ok())
        .collect()
}

/// Gives the keyboard focus to the window of process `pid` on `display`.
pub fn focus_window(display: &str, pid: u32) -> Result<()> {
    // A pattern (any name) after --pid, or xdotool takes the next word for one.
    let output = Command::new("xdotool")
        .args(["search", "--sync", "--onlyvisible", "--pid"])
        .arg(pid.to_string())
        .args(["--name", ".", "windowfocus", "--sync"])
        .env("DISPLAY", display)
        .output()
        .context("cannot run xdotool")?;
    if !output.status.success() {
        bail!(
            "xdotool cannot focus the window: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

fn press(display: &str, key: &str) -> Result<()> {
    let status = Command::new("xdotool")
        .args(["key", "--clearmodifiers", key])
        .env("DISPLAY", display)
        .status()
        .context("cannot run xdotool")?;
    if !status.success() {
        bail!("xdotool key {key} failed");
    }
    Ok(())
}

/// The focus reports in `lines`, in order.
pub fn focus_reports(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|l| l.split_once(FOCUS).map(|(_, name)| name.to_string()))
        .collect()
}

/// The last report of the controls Tab should reach in `lines`.
pub fn tabbable(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .rev()
        .find_map(|l| l.split_once(TABBABLE))
        .and_then(|(_, json)| serde_json::from_str(json).ok())
        .unwrap_or_default()
}

/// Presses `key` and waits until the focus moved (a new report), at most [`WAIT`]; returns the
/// newly focused name, or None when the focus stayed.
fn press_and_follow(display: &str, log: &Log, key: &str) -> Result<Option<String>> {
    let before = focus_reports(&log.lines()).len();
    press(display, key)?;
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        let reports = focus_reports(&log.lines());
        if reports.len() > before {
            // Focus may pass through several items at once (a scope, then its child): the last.
            std::thread::sleep(Duration::from_millis(150));
            return Ok(focus_reports(&log.lines()).last().cloned());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(None)
}

/// Presses `key` until the focus returns to the item it started at; the names on the way.
fn cycle(display: &str, log: &Log, key: &str) -> Result<Vec<String>> {
    let mut seen = Vec::new();
    let start = focus_reports(&log.lines()).last().cloned();
    for _ in 0..MAX_PRESSES {
        let Some(name) = press_and_follow(display, log, key)? else {
            bail!("{key} moved the focus nowhere after {seen:?}");
        };
        let again = Some(&name) == start.as_ref() || seen.first() == Some(&name);
        seen.push(name);
        if again && seen.len() > 1 {
            return Ok(seen);
        }
    }
    bail!("{key} never came back to where it began: {seen:?}");
}

/// Runs `script` (see the module's documentation) on the GUI of process `pid`, whose stderr is
/// `log`.
pub fn run(display: &str, pid: u32, log: &Log, script: &str) -> Result<()> {
    focus_window(display, pid)?;
    // Where the lines after the last key step begin (taken before the keys, so that nothing
    // the GUI printed in answer is missed).
    let mut mark = log.lines().len();
    for step in script.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        eprintln!("keyboard: {step}");
        if !step.starts_with("expect=") {
            mark = log.lines().len();
        }
        match step.split_once('=') {
            None => match step {
                "tab" => press(display, "Tab")?,
                "backtab" => press(display, "shift+Tab")?,
                "space" => press(display, "space")?,
                "enter" => press(display, "Return")?,
                "cycle" => {
                    let names = cycle(display, log, "Tab")?;
                    eprintln!("{CYCLE}{}", serde_json::to_string(&names)?);
                }
                "backcycle" => {
                    let names = cycle(display, log, "shift+Tab")?;
                    eprintln!("{BACKCYCLE}{}", serde_json::to_string(&names)?);
                }
                other => bail!("unknown step `{other}`"),
            },
            Some(("tab-to", name)) => {
                let current = focus_reports(&log.lines()).last().cloned();
                if !current.is_some_and(|c| c.starts_with(name)) {
                    let mut found = false;
                    let mut seen = Vec::new();
                    for _ in 0..MAX_PRESSES {
                        match press_and_follow(display, log, "Tab")? {
                            Some(focused) if focused.starts_with(name) => {
                                found = true;
                                break;
                            }
                            Some(focused) => seen.push(focused),
                            None => bail!("Tab moved the focus nowhere after {seen:?}"),
                        }
                    }
                    if !found {
                        bail!("Tab never reached `{name}`: {seen:?}");
                    }
                }
            }
            Some(("expect", text)) => {
                let deadline = Instant::now() + WAIT;
                loop {
                    if log.lines().iter().skip(mark).any(|l| l.contains(text)) {
                        break;
                    }
                    if Instant::now() >= deadline {
                        bail!(
                            "after `{step}`: the GUI never printed `{text}`:\n{}",
                            log.lines()[mark..].join("\n")
                        );
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
            Some((other, _)) => bail!("unknown step `{other}=`"),
        }
    }
    // Let the last key's effect reach the screen.
    std::thread::sleep(Duration::from_millis(500));
    Ok(())
}
