//! systemd-sysupdate 257, the reference every comparison runs against, on a root of the
//! testbed (its ESP at `/efi`, a plain directory).

use std::path::Path;
use std::process::{Command, Output};

/// The command, set up for `root`: run it with `args` appended.
pub fn command(root: &Path) -> Command {
    let mut command = Command::new("/usr/lib/systemd/systemd-sysupdate");
    command
        .arg(format!("--root={}", root.display()))
        .env("SYSTEMD_ESP_PATH", "/efi")
        .env("SYSTEMD_RELAX_ESP_CHECKS", "1");
    command
}

/// Runs `systemd-sysupdate ARGS --no-pager` on `root`; panics with its error output when it
/// fails (a test's set-up or comparison cannot go on without it).
pub fn run(root: &Path, args: &[&str]) -> Output {
    let output = command(root)
        .args(args)
        .arg("--no-pager")
        .output()
        .expect("run systemd-sysupdate");
    assert!(
        output.status.success(),
        "systemd-sysupdate {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}
