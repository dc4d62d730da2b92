//! The Debian 13 dev root: built with mmdebstrap from `devroot/packages.txt`, cached outside the
//! checkout under a name keyed by a hash of that list, rebuilt only when the list changes.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Debian release the root is built from.
pub const SUITE: &str = "trixie";
/// The mirror when neither the environment nor the host's apt configuration names one.
const DEFAULT_MIRROR: &str = "http://deb.debian.org/debian";
/// Environment variable naming the Debian mirror (a site mirror or a caching proxy's URL).
pub const MIRROR_ENV: &str = "UPDATE_CENTER_DEBIAN_MIRROR";

/// The Debian mirror to build from: `$UPDATE_CENTER_DEBIAN_MIRROR`, else the first Debian
/// archive the host's apt sources use (a site mirror or proxy there works here too), else
/// deb.debian.org.
pub fn mirror() -> String {
    if let Ok(url) = std::env::var(MIRROR_ENV)
        && !url.trim().is_empty()
    {
        return url.trim().to_string();
    }
    let mut files = vec![PathBuf::from("/etc/apt/sources.list")];
    if let Ok(entries) = std::fs::read_dir("/etc/apt/sources.list.d") {
        let mut more: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        more.sort();
        files.extend(more);
    }
    files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "list" || e == "sources"))
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .find_map(|text| debian_archive_in(&text))
        .unwrap_or_else(|| DEFAULT_MIRROR.to_string())
}

/// The first Debian archive URL (not the security archive) of apt sources, in the one-line
/// (`deb [options] URL suite components`) or the deb822 (`URIs:`) format.
fn debian_archive_in(text: &str) -> Option<String> {
    let is_archive = |url: &str| {
        let url = url.trim_end_matches('/');
        (url.starts_with("http://") || url.starts_with("https://")) && url.ends_with("/debian")
    };
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = if let Some(rest) = line.strip_prefix("deb ") {
            // Skip `[options]` (which may hold spaces) to the URL.
            let rest = match rest.trim_start().strip_prefix('[') {
                Some(options) => options.split_once(']').map_or("", |(_, r)| r),
                None => rest,
            };
            rest.split_whitespace().take(1).collect()
        } else if let Some(uris) = line.strip_prefix("URIs:") {
            uris.split_whitespace().collect()
        } else {
            continue;
        };
        if let Some(url) = words.into_iter().find(|u| is_archive(u)) {
            return Some(url.trim_end_matches('/').to_string());
        }
    }
    None
}

/// The HTTP proxy the host's apt uses (`Acquire::http::Proxy`), for mmdebstrap's apt.
pub fn apt_proxy() -> Option<String> {
    let output = Command::new("apt-config")
        .args(["shell", "PROXY", "Acquire::http::Proxy"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let value = text.trim().strip_prefix("PROXY=")?.trim_matches('\'');
    (!value.is_empty()).then(|| value.to_string())
}
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
    package_list(checkout, "packages.txt")
}

/// Packages listed in `devroot/FILE` (one per line, `#` starts a comment), sorted and without
/// duplicates; an error when there are none.
pub fn package_list(checkout: &Path, file: &str) -> Result<Vec<String>> {
    let list = checkout.join("devroot").join(file);
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
    // The default mirror stays in the key (a root from another mirror has the same packages).
    let input = format!(
        "{RECIPE_VERSION}\n{SUITE}\n{DEFAULT_MIRROR}\n{}\n",
        packages.join("\n")
    );
    short_hash(&input)
}

/// The first 16 hex digits of the SHA-256 of `input` (sha256sum, which every host has).
pub fn short_hash(input: &str) -> Result<String> {
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
    let mirror = mirror();
    let mut command = Command::new("mmdebstrap");
    command
        .arg("--variant=apt")
        .arg("--mode=root")
        .arg(format!("--include={}", packages.join(",")))
        .arg(SUITE)
        .arg(&partial)
        .arg(&mirror);
    if let Some(proxy) = apt_proxy()
        && std::env::var_os("http_proxy").is_none()
    {
        command.env("http_proxy", proxy);
    }
    eprintln!("xtask: from {mirror} (set {MIRROR_ENV} to use another)");
    let status = command.status().context("cannot run mmdebstrap")?;
    if !status.success() {
        bail!(
            "mmdebstrap failed ({status}); the dev root needs root and access to the Debian mirror {mirror} (set {MIRROR_ENV} to use another)"
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

#[cfg(test)]
mod tests {
    use super::debian_archive_in;

    #[test]
    fn the_hosts_debian_archive_is_found_in_either_format() {
        let deb822 = "Types: deb\nURIs: http://mirror.site.example/debian/\nSuites: bookworm\n\n\
                      Types: deb\nURIs: http://deb.debian.org/debian-security\n";
        assert_eq!(
            debian_archive_in(deb822).as_deref(),
            Some("http://mirror.site.example/debian")
        );
        let one_line = "# comment\ndeb-src http://x/debian bookworm main\n\
                        deb [signed-by=/a b.gpg arch=amd64] https://proxy.example:3142/debian bookworm main\n";
        assert_eq!(
            debian_archive_in(one_line).as_deref(),
            Some("https://proxy.example:3142/debian")
        );
        assert_eq!(
            debian_archive_in("deb https://deb.nodesource.com/node_20.x nodistro main\n"),
            None
        );
    }
}
