//! `cargo xtask vm-image`: the Debian 13 OS the systemd guests boot, built with mmdebstrap from
//! `devroot/vm-packages.txt` (systemd as PID 1, dbus, polkitd, udev, the kernel,
//! systemd-bless-boot) and cached as a tarball in the target directory, keyed by a hash of the
//! package list and this recipe: a second run builds nothing.
//!
//! The testbed (`tests/testbed/guest.rs`) makes each OS version from it: our binaries, units and
//! health checks installed with `cargo xtask install`, `/usr` as an EROFS image per version,
//! a unified kernel image per version, `/etc` and `/var` on a state disk.
//!
//! mmdebstrap rather than mkosi: the dev root is built the same way (one tool, one mirror
//! setting, one proxy setting), and the image layout KDE Linux uses (an EROFS `/usr` per
//! version selected by the kernel command line, a persistent root beside it) is made by the
//! testbed in a few lines, where mkosi 25 would need its own configuration tree and a
//! nested build sandbox.

use crate::devroot;
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Bumped when the way the image is built changes (not its package list).
const RECIPE_VERSION: &str = "1";
/// Packages downloaded (not installed) into `/var/cache/uc-debs`: the testbed unpacks them into
/// later versions, so that versions differ by a few packages.
const EXTRA_DEBS: [&str; 2] = ["hello", "tree"];

fn key(packages: &[String]) -> Result<String> {
    let input = format!(
        "{RECIPE_VERSION}\n{}\n{}\n{}\n",
        devroot::SUITE,
        packages.join("\n"),
        EXTRA_DEBS.join(",")
    );
    devroot::short_hash(&input)
}

/// The directory holding the image: `<target>/vm-image`, where the tests find `base.tar` and
/// its key in `base.key`.
fn image_dir() -> Result<PathBuf> {
    Ok(crate::env::target_dir()?.join("vm-image"))
}

/// Builds the base image unless the cached one has the current key. Runs on the host (mmdebstrap
/// needs root and the network), before the dev root is entered.
pub fn ensure(checkout: &Path) -> Result<PathBuf> {
    let packages = devroot::package_list(checkout, "vm-packages.txt")?;
    let key = key(&packages)?;
    let dir = image_dir()?;
    let tar = dir.join("base.tar");
    let key_file = dir.join("base.key");
    if tar.exists() && std::fs::read_to_string(&key_file).is_ok_and(|k| k.trim() == key) {
        return Ok(tar);
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    devroot::install_host_tools()?;
    eprintln!(
        "xtask: building the systemd guest's OS image in {} (about a minute, ~300 MB)",
        dir.display()
    );
    let partial = dir.join("base.tar.partial");
    let mirror = devroot::mirror();
    let mut command = Command::new("mmdebstrap");
    command
        .arg("--variant=minbase")
        .arg("--mode=root")
        .arg(format!("--include={}", packages.join(",")))
        // Documentation, manual pages and translations are not what the guests test.
        .arg("--dpkgopt=path-exclude=/usr/share/doc/*")
        .arg("--dpkgopt=path-exclude=/usr/share/man/*")
        .arg("--dpkgopt=path-exclude=/usr/share/locale/*")
        .arg(format!(
            "--customize-hook=mkdir -p \"$1/var/cache/uc-debs\" && chroot \"$1\" sh -c 'cd /var/cache/uc-debs && apt-get download -q {}'",
            EXTRA_DEBS.join(" ")
        ))
        .arg("--format=tar")
        .arg(devroot::SUITE)
        .arg(&partial)
        .arg(&mirror);
    if let Some(proxy) = devroot::apt_proxy()
        && std::env::var_os("http_proxy").is_none()
    {
        command.env("http_proxy", proxy);
    }
    let status = command.status().context("cannot run mmdebstrap")?;
    if !status.success() {
        bail!(
            "mmdebstrap failed ({status}); the guest image needs root and the Debian mirror {mirror} (set {} to use another)",
            devroot::MIRROR_ENV
        );
    }
    std::fs::rename(&partial, &tar)?;
    std::fs::write(&key_file, format!("{key}\n"))?;
    Ok(tar)
}
