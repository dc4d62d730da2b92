//! The Debian 13 dev root: built with mmdebstrap from `devroot/packages.txt`, cached outside the
//! checkout under a name keyed by a hash of that list, rebuilt only when the list changes.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Debian release and mirror the root is built from.
const SUITE: &str = "trixie";
const MIRROR: &str = "http://deb.debian.org/debian";
/// Bumped when the way the root is built changes (not its package list).
const RECIPE_VERSION: &str = "1";
/// Environment variable that moves the cache (dev root and shared target directory).
pub const CACHE_ENV: &str = "UPDATE_CENTER_CACHE";
const DEFAULT_CACHE: &str = "/var/cache/update-center";

/// The cache directory for dev roots and the shared target directory.
pub fn cache_dir() -> PathBuf {
    std::env::var_os(CACHE_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CACHE))
}

/// Packages listed in `devroot/packages.txt` (comments and blank lines dropped), sorted.
fn packages(checkout: &Path) -> Result<Vec<String>> {
    let list = checkout.join("devroot").join("packages.txt");
    let text = std::fs::read_to_string(&list)
        .with_context(|| format!("cannot read the package list {}", list.display()))?;
    let mut packages: Vec<String> = text
        .lines()
        .map(|line| line.split('#').next().unwrap_or("").trim().to_string())
        .filter(|line| !line.is_empty())
        .collect();
    packages.sort();
    packages.dedup();
    if packages.is_empty() {
        bail!("{} lists no packages", list.display());
    }
    Ok(packages)
}

/// A short content hash of everything that decides what the root contains.
fn key(packages: &[String]) -> Result<String> {
    let input = format!(
        "{RECIPE_VERSION}\n{SUITE}\n{MIRROR}\n{}\n",
        packages.join("\n")
    );
    let output = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            if let Some(mut stdin) = child.stdin.take() {
                stdin.write_all(input.as_bytes())?;
            }
            child.wait_with_output()
        })
        .context("cannot run sha256sum")?;
    let text = String::from_utf8_lossy(&output.stdout);
    let hash = text.split_whitespace().next().unwrap_or("");
    if hash.len() < 16 {
        bail!("sha256sum printed no hash");
    }
    Ok(hash[..16].to_string())
}

/// Returns the path of an up-to-date dev root, building it first when needed.
pub fn ensure(checkout: &Path) -> Result<PathBuf> {
    let packages = packages(checkout)?;
    let cache = cache_dir();
    let root = cache.join(format!("devroot-{}", key(&packages)?));
    if root.join("usr/bin/qmake6").exists() {
        return Ok(root);
    }
    std::fs::create_dir_all(&cache)
        .with_context(|| format!("cannot create the cache directory {}", cache.display()))?;
    // One build at a time: two commands (or two checkouts) must not both write the same root.
    let lock_path = cache.join("devroot.lock");
    let lock = std::fs::File::create(&lock_path)
        .with_context(|| format!("cannot create {}", lock_path.display()))?;
    if lock.try_lock().is_err() {
        eprintln!("xtask: waiting for another command that is building the dev root");
        lock.lock()
            .with_context(|| format!("cannot lock {}", lock_path.display()))?;
    }
    if root.join("usr/bin/qmake6").exists() {
        return Ok(root);
    }
    install_host_tools()?;
    let partial = root.with_extension("partial");
    if partial.exists() {
        std::fs::remove_dir_all(&partial)
            .with_context(|| format!("cannot remove the stale {}", partial.display()))?;
    }
    eprintln!(
        "xtask: building the Debian 13 dev root in {} (1-2 minutes, ~1.5 GB)",
        root.display()
    );
    let status = Command::new("mmdebstrap")
        .arg("--variant=apt")
        .arg("--mode=root")
        .arg(format!("--include={}", packages.join(",")))
        .arg(SUITE)
        .arg(&partial)
        .arg(MIRROR)
        .status()
        .context("cannot run mmdebstrap")?;
    if !status.success() {
        bail!(
            "mmdebstrap failed ({status}); the dev root needs root and access to Debian's mirror"
        );
    }
    std::fs::rename(&partial, &root)
        .with_context(|| format!("cannot move the new dev root to {}", root.display()))?;
    remove_stale_roots(&cache, &root);
    Ok(root)
}

/// Old roots (other package lists) take 1.5 GB each: remove them once a new one is complete.
fn remove_stale_roots(cache: &Path, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(cache) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with("devroot-") && path != keep {
            eprintln!("xtask: removing the outdated dev root {}", path.display());
            if let Err(error) = std::fs::remove_dir_all(&path) {
                eprintln!("xtask: warning: cannot remove {}: {error}", path.display());
            }
        }
    }
}

/// mmdebstrap and bwrap come from the host's packages.
pub fn install_host_tools() -> Result<()> {
    let missing: Vec<&str> = [("mmdebstrap", "mmdebstrap"), ("bwrap", "bubblewrap")]
        .into_iter()
        .filter(|(program, _)| !on_path(program))
        .map(|(_, package)| package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("xtask: installing {} with apt-get", missing.join(" "));
    let update = Command::new("apt-get").args(["update", "-qq"]).status();
    if !matches!(update, Ok(s) if s.success()) {
        bail!(
            "apt-get update failed; install {} by hand",
            missing.join(" ")
        );
    }
    let status = Command::new("apt-get")
        .args(["install", "-y", "-qq"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .context("cannot run apt-get")?;
    if !status.success() {
        bail!("apt-get install {} failed", missing.join(" "));
    }
    Ok(())
}

/// Whether a program is on PATH.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}
