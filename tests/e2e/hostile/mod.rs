//! Hostile media and hostile mirrors against the helper (its offline commands and its engine),
//! as docs/security.md describes them:
//! - a local folder (a USB stick) whose files are links to root-only files, FIFOs, device
//!   nodes, or are swapped for a link between two looks: nothing outside the folder is read,
//!   nothing is ever blocked on, and everything the helper wrote is private (0600 / 0700);
//! - a mirror that answers GET only, replays an older signed list, redirects elsewhere (the
//!   credentials never follow), trickles bytes, or claims sizes that would have a retained
//!   version removed first.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use testbed::gpg::{GpgKey, KeyKind};
use testbed::mirror::{Fault, HttpMirror, MirrorVersion};
use testbed::setup::{Built, Setup};
use testbed::system::{Images, KdeLinuxRoot, VersionSpec};

const OLD: &str = "202611010800";
const RUNNING: &str = "202611150800";
const NEW: &str = "202611250800";
/// The content of the root-only file a hostile stick points at.
const MARKER: &str = "ROOT-ONLY-SECRET-4f2a9c";
const PAYLOAD_BYTES: usize = 256 * 1024;

mod mirrors;
mod sticks;

use sticks::{readable_by_others, stick};

/// Runs the helper's offline command with a hard limit, so that a helper that blocks (on a
/// FIFO, say) fails the test instead of hanging it: (succeeded, exit code, all it printed).
fn helper(root: &Path, args: &[&str]) -> (bool, Option<i32>, String) {
    // SIGTERM after 120 s, SIGKILL 10 s later (a helper blocked in open(2) on a FIFO does not
    // end on SIGTERM).
    let output = Command::new("timeout")
        .args(["--kill-after=10", "120"])
        .arg(testbed::binary("update-center-helper").expect("helper"))
        .env("SYSTEMD_RELAX_ESP_CHECKS", "1")
        .args(args)
        .args(["--timeout", "5", "--esp", "/efi", "--root"])
        .arg(root)
        .output()
        .expect("run the helper");
    (
        output.status.success(),
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr),
    )
}

fn image() -> String {
    format!("kde-linux_{NEW}_root-x86-64.erofs")
}

/// A system running `RUNNING` whose update source is a folder on a "stick" inside the root,
/// offering `NEW`, and a root-only file outside the folder.
struct Stick {
    _dir: tempfile::TempDir,
    system: KdeLinuxRoot,
    folder: PathBuf,
    secret: PathBuf,
}

/// A root running `RUNNING`, with `OLD` installed too (to be built).
fn running_root() -> Setup {
    Setup::new()
        .installed([VersionSpec::complete(OLD), VersionSpec::complete(RUNNING)])
        .booted(Some(RUNNING))
}
