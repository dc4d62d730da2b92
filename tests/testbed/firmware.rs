//! What systemd-boot and systemd-bless-boot do to a root, done on its files exactly as they do
//! it: the loader's EFI variables in efivarfs (4 bytes of attributes, then UTF-16LE with a
//! NUL), the renames of boot counting (`+2-0` -> `+1-1` at each try) and of blessing (the
//! counter dropped), and the root's `IMAGE_VERSION` once a version runs. The firmware itself
//! cannot run here; the VM tests run the real one.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// The loader interface's vendor GUID.
pub const LOADER_VENDOR: &str = "4a67b082-0a4c-41cf-b6c7-440b29bb8c4f";

fn var_path(root: &Path, name: &str) -> PathBuf {
    root.join("sys/firmware/efi/efivars")
        .join(format!("{name}-{LOADER_VENDOR}"))
}

/// Mounts an (empty) efivarfs stand-in under the root: a directory.
pub fn enable_efivars(root: &Path) -> Result<()> {
    std::fs::create_dir_all(root.join("sys/firmware/efi/efivars"))?;
    Ok(())
}

/// Writes a loader variable as the firmware stores it.
pub fn write_var(root: &Path, name: &str, value: &str) -> Result<()> {
    let mut bytes = 7u32.to_le_bytes().to_vec();
    for unit in value.encode_utf16().chain([0]) {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    std::fs::write(var_path(root, name), bytes).context("write an EFI variable")
}

/// Reads a loader variable (None when unset).
pub fn read_var(root: &Path, name: &str) -> Option<String> {
    let bytes = std::fs::read(var_path(root, name)).ok()?;
    let units: Vec<u16> = bytes[4..]
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .take_while(|u| *u != 0)
        .collect();
    String::from_utf16(&units).ok()
}

/// The boot entry file of `version` on the ESP (with whatever counter it has).
pub fn entry_file(root: &Path, version: &str) -> Option<PathBuf> {
    std::fs::read_dir(root.join("efi/EFI/Linux"))
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.starts_with(&format!("kde-linux_{version}")) && n.ends_with(".efi")
            })
        })
}

/// The counter of `version`'s entry: (left, done), None when blessed.
pub fn counter(root: &Path, version: &str) -> Option<(u64, u64)> {
    let name = entry_file(root, version)?
        .file_name()?
        .to_str()?
        .to_string();
    let stem = name.strip_suffix(".efi")?;
    let (_, counter) = stem.rsplit_once('+')?;
    let (left, done) = counter.split_once('-')?;
    Some((left.parse().ok()?, done.parse().ok()?))
}

fn rename_entry(root: &Path, version: &str, counter: Option<(u64, u64)>) -> Result<()> {
    let from = entry_file(root, version).context("no boot entry")?;
    let name = match counter {
        Some((l, d)) => format!("kde-linux_{version}+{l}-{d}.efi"),
        None => format!("kde-linux_{version}.efi"),
    };
    std::fs::rename(&from, from.with_file_name(name))?;
    Ok(())
}

/// systemd-boot tries `version`: one try less, one more done (before the kernel starts).
pub fn try_boot(root: &Path, version: &str) -> Result<()> {
    let (left, done) = counter(root, version).context("the entry is not on trial")?;
    anyhow::ensure!(left > 0, "no tries left");
    rename_entry(root, version, Some((left - 1, done + 1)))
}

/// systemd-bless-boot marks `version`'s boot good: the counter goes.
pub fn bless(root: &Path, version: &str) -> Result<()> {
    rename_entry(root, version, None)
}

/// `version` runs: its root says so, and the loader says which entry it came from.
pub fn running(root: &Path, version: &str) -> Result<()> {
    let path = root.join("etc/os-release");
    let text = std::fs::read_to_string(&path)?;
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| !l.starts_with("IMAGE_VERSION="))
        .map(str::to_string)
        .collect();
    lines.push(format!("IMAGE_VERSION={version}"));
    std::fs::write(&path, lines.join("\n") + "\n")?;
    if root.join("sys/firmware/efi/efivars").is_dir() {
        let file = entry_file(root, version).context("no boot entry")?;
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        // The entry ID has no counter.
        let id = match name.strip_suffix(".efi").and_then(|s| s.rsplit_once('+')) {
            Some((stem, _)) => format!("{stem}.efi"),
            None => name.to_string(),
        };
        write_var(root, "LoaderEntrySelected", &id)?;
    }
    Ok(())
}
