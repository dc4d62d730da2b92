//! Boot entries as systemd-boot sees them: the unified kernel images in `$BOOT/EFI/Linux/` with
//! their boot counters, `loader.conf`'s `default`, and the boot loader's EFI variables
//! (`LoaderEntryDefault`, `LoaderEntryOneShot`, `LoaderEntrySelected`) read and written through
//! efivarfs under the root, so that tests use plain files.
//!
//! Which entry boots next follows systemd-boot: the one-shot entry, else the default from the
//! EFI variable, else `default` in `loader.conf` (each a glob matched against the entry IDs in
//! menu order), else the first entry of the menu. The menu lists entries newest first by ID,
//! with entries that have no tries left at the end.

use crate::format::version::compare;
use crate::installed::inventory::{Inventory, Layout};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The vendor GUID of the boot loader interface's EFI variables.
pub const LOADER_VENDOR: &str = "4a67b082-0a4c-41cf-b6c7-440b29bb8c4f";
/// Where efivarfs is mounted, inside the root.
pub const EFIVARS_DIR: &str = "sys/firmware/efi/efivars";
/// Attributes written with each variable: non-volatile, boot service and runtime access.
const ATTRIBUTES: u32 = 0x7;

/// The boot loader's variables this product reads or writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Var {
    /// The persistent default entry (`bootctl set-default`).
    Default,
    /// The entry to boot once, next time (`bootctl set-oneshot`).
    OneShot,
    /// The entry that was booted (set by systemd-boot).
    Selected,
}

impl Var {
    fn name(self) -> &'static str {
        match self {
            Self::Default => "LoaderEntryDefault",
            Self::OneShot => "LoaderEntryOneShot",
            Self::Selected => "LoaderEntrySelected",
        }
    }
}

/// One boot menu entry (a unified kernel image).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Its ID: the file name without the boot counter (`kde-linux_202611260800.efi`).
    pub id: String,
    /// The file, inside the root.
    pub path: PathBuf,
    /// The version whose boot entry it is, when the definitions know it.
    pub version: Option<String>,
    /// Tries left while on trial (`+LEFT` in the name).
    pub tries_left: Option<u64>,
    /// Tries done while on trial (`-DONE` in the name).
    pub tries_done: Option<u64>,
}

impl Entry {
    /// No tries left: systemd-boot will not choose it by itself.
    pub fn bad(&self) -> bool {
        self.tries_left == Some(0)
    }
}

/// The boot loader's view of the system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Boot {
    /// Entries in menu order.
    pub entries: Vec<Entry>,
    /// Whether EFI variables can be read and written (efivarfs is mounted).
    pub efivars: bool,
    /// `LoaderEntryOneShot`.
    pub oneshot: Option<String>,
    /// `LoaderEntryDefault`.
    pub default_var: Option<String>,
    /// `default` in `loader.conf`.
    pub loader_conf_default: Option<String>,
    /// `LoaderEntrySelected`: the entry this boot came from.
    pub selected: Option<String>,
    /// The ID of the entry booted next time.
    pub next: Option<String>,
    /// The ID of the entry booted by default (next time, leaving the one-shot entry aside).
    pub default: Option<String>,
}

impl Boot {
    /// The entry with this ID.
    pub fn entry(&self, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.id.eq_ignore_ascii_case(id))
    }

    /// The boot entry of a version.
    pub fn entry_of(&self, version: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.version.as_deref() == Some(version))
    }

    /// The version booted by default.
    pub fn default_version(&self) -> Option<&str> {
        self.default
            .as_deref()
            .and_then(|id| self.entry(id))
            .and_then(|e| e.version.as_deref())
    }

    /// The version booted next time.
    pub fn next_version(&self) -> Option<&str> {
        self.next
            .as_deref()
            .and_then(|id| self.entry(id))
            .and_then(|e| e.version.as_deref())
    }
}

/// Splits a boot counter off a file name: `a+2-1.efi` -> (`a.efi`, 2, 1).
pub fn parse_counter(name: &str) -> (String, Option<u64>, Option<u64>) {
    let (stem, ext) = match name.rfind('.') {
        Some(dot) => (&name[..dot], &name[dot..]),
        None => (name, ""),
    };
    let Some(plus) = stem.rfind('+') else {
        return (name.to_string(), None, None);
    };
    let counter = &stem[plus + 1..];
    let (left, done) = match counter.split_once('-') {
        Some((l, d)) => (l, Some(d)),
        None => (counter, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(left) || done.is_some_and(|d| !digits(d)) {
        return (name.to_string(), None, None);
    }
    (
        format!("{}{ext}", &stem[..plus]),
        left.parse().ok(),
        done.and_then(|d| d.parse().ok()).or(Some(0)),
    )
}

/// A file name with a boot counter: `a.efi` + (2, 0) -> `a+2-0.efi`.
pub fn with_counter(id: &str, left: u64, done: u64) -> String {
    match id.rfind('.') {
        Some(dot) => format!("{}+{left}-{done}{}", &id[..dot], &id[dot..]),
        None => format!("{id}+{left}-{done}"),
    }
}

/// Glob matching as systemd-boot does it for entry patterns (`*`, `?`, `[...]`), ignoring
/// ASCII case. Iterative, backtracking only to the last `*`: linear in practice, whatever the
/// pattern.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let (p, n) = (pattern.as_bytes(), name.as_bytes());
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if p.get(pi) == Some(&b'*') {
            star = Some((pi + 1, ni));
            pi += 1;
            continue;
        }
        if let Some((matched, next)) = match_one(p, pi, n[ni])
            && matched
        {
            pi = next;
            ni += 1;
            continue;
        }
        match star {
            Some((after, from)) => {
                pi = after;
                ni = from + 1;
                star = Some((after, from + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|b| *b == b'*')
}

/// Whether the pattern element at `p[i]` matches `c`, and where the next element starts.
fn match_one(p: &[u8], i: usize, c: u8) -> Option<(bool, usize)> {
    let c = c.to_ascii_lowercase();
    match *p.get(i)? {
        b'?' => Some((true, i + 1)),
        b'[' => {
            let end = p
                .iter()
                .skip(i + 2)
                .position(|b| *b == b']')
                .map(|k| k + i + 2);
            let Some(end) = end else {
                return Some((c == b'[', i + 1));
            };
            let set = &p[i + 1..end];
            let (negate, set) = match set.first() {
                Some(b'!' | b'^') => (true, &set[1..]),
                _ => (false, set),
            };
            let mut hit = false;
            let mut k = 0;
            while k < set.len() {
                if k + 2 < set.len() && set[k + 1] == b'-' {
                    let (lo, hi) = (set[k].to_ascii_lowercase(), set[k + 2].to_ascii_lowercase());
                    hit |= lo <= c && c <= hi;
                    k += 3;
                } else {
                    hit |= set[k].to_ascii_lowercase() == c;
                    k += 1;
                }
            }
            Some((hit != negate, end + 1))
        }
        literal => Some((literal.to_ascii_lowercase() == c, i + 1)),
    }
}

/// Menu order: entries with tries left (or no counter) first, then newest ID first, then more
/// tries left first.
fn menu_order(a: &Entry, b: &Entry) -> std::cmp::Ordering {
    a.bad()
        .cmp(&b.bad())
        .then_with(|| compare(&b.id, &a.id))
        .then_with(|| b.tries_left.cmp(&a.tries_left))
}

fn efivar_path(layout: &Layout, var: Var) -> PathBuf {
    layout
        .root
        .join(EFIVARS_DIR)
        .join(format!("{}-{LOADER_VENDOR}", var.name()))
}

/// Whether efivarfs is there to read and write.
pub fn efivars_present(layout: &Layout) -> bool {
    layout.root.join(EFIVARS_DIR).is_dir()
}

/// Reads a loader variable: 4 bytes of attributes, then UTF-16LE up to a NUL.
pub fn read_var(layout: &Layout, var: Var) -> Option<String> {
    let bytes = std::fs::read(efivar_path(layout, var)).ok()?;
    let units: Vec<u16> = bytes
        .get(4..)?
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .take_while(|u| *u != 0)
        .collect();
    let value = String::from_utf16(&units).ok()?;
    (!value.is_empty()).then_some(value)
}

/// Clears the immutable flag efivarfs sets on variables (as bootctl does); plain files in a
/// test root have none.
fn make_mutable(path: &Path) {
    if let Ok(file) = std::fs::File::open(path)
        && let Ok(flags) = rustix::fs::ioctl_getflags(&file)
        && flags.contains(rustix::fs::IFlags::IMMUTABLE)
    {
        let _ = rustix::fs::ioctl_setflags(&file, flags - rustix::fs::IFlags::IMMUTABLE);
    }
}

/// Writes (or with `None` removes) a loader variable. efivarfs wants the whole value in one
/// write.
pub fn write_var(layout: &Layout, var: Var, value: Option<&str>) -> std::io::Result<()> {
    use std::io::Write;
    let path = efivar_path(layout, var);
    make_mutable(&path);
    let Some(value) = value else {
        return match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
    };
    let mut bytes = ATTRIBUTES.to_le_bytes().to_vec();
    for unit in value.encode_utf16().chain([0]) {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)?;
    file.write_all(&bytes)
}

/// `loader.conf` on the ESP, inside the root.
fn loader_conf(layout: &Layout) -> Option<PathBuf> {
    layout
        .esp
        .as_ref()
        .map(|esp| esp.join("loader/loader.conf"))
}

/// `default` in `loader.conf`.
pub fn read_loader_conf_default(layout: &Layout) -> Option<String> {
    let text = std::fs::read_to_string(layout.on_disk(&loader_conf(layout)?)).ok()?;
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("default"))
        .filter(|rest| rest.starts_with([' ', '\t']))
        .map(|rest| rest.trim().to_string())
        .next_back()
        .filter(|v| !v.is_empty())
}

/// Sets (or with `None` removes) `default` in `loader.conf`, keeping every other line; written
/// atomically.
pub fn write_loader_conf_default(layout: &Layout, value: Option<&str>) -> std::io::Result<()> {
    let path = loader_conf(layout)
        .ok_or_else(|| std::io::Error::other("the EFI system partition is not mounted"))?;
    let on_disk = layout.on_disk(&path);
    let text = std::fs::read_to_string(&on_disk).unwrap_or_default();
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| {
            let t = l.trim();
            !(t.starts_with("default ") || t.starts_with("default\t") || t == "default")
        })
        .map(str::to_string)
        .collect();
    if let Some(value) = value {
        lines.insert(0, format!("default {value}"));
    }
    let mut out = lines.join("\n");
    out.push('\n');
    crate::fsutil::write_atomically(&on_disk, out.as_bytes())
}

/// Reads the boot entries and the loader's settings, and works out which entry boots next.
pub fn read(layout: &Layout, inventory: &Inventory) -> Boot {
    let mut entries = Vec::new();
    for base in [&layout.esp, &layout.xbootldr].into_iter().flatten() {
        let dir = base.join("EFI/Linux");
        let Ok(list) = std::fs::read_dir(layout.on_disk(&dir)) else {
            continue;
        };
        for item in list.flatten() {
            let name = item.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !name.to_ascii_lowercase().ends_with(".efi") {
                continue;
            }
            let path = dir.join(&name);
            if entries.iter().any(|e: &Entry| e.path == path) {
                continue;
            }
            let (id, tries_left, tries_done) = parse_counter(&name);
            let version = inventory
                .versions
                .iter()
                .find(|v| v.instances.iter().any(|i| i.path == path))
                .map(|v| v.version.clone());
            entries.push(Entry {
                id,
                path,
                version,
                tries_left,
                tries_done,
            });
        }
    }
    entries.sort_by(menu_order);
    let efivars = efivars_present(layout);
    let mut boot = Boot {
        entries,
        efivars,
        oneshot: read_var(layout, Var::OneShot),
        default_var: read_var(layout, Var::Default),
        loader_conf_default: read_loader_conf_default(layout),
        selected: read_var(layout, Var::Selected),
        next: None,
        default: None,
    };
    let first_match = |pattern: &Option<String>| {
        pattern.as_deref().and_then(|p| {
            boot.entries
                .iter()
                .find(|e| glob_match(p, &e.id))
                .map(|e| e.id.clone())
        })
    };
    let default = first_match(&boot.default_var)
        .or_else(|| first_match(&boot.loader_conf_default))
        .or_else(|| boot.entries.first().map(|e| e.id.clone()));
    boot.next = first_match(&boot.oneshot).or_else(|| default.clone());
    boot.default = default;
    boot
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boot_counters_are_split_off_as_systemd_boot_does() {
        assert_eq!(
            parse_counter("kde-linux_1+2-0.efi"),
            ("kde-linux_1.efi".into(), Some(2), Some(0))
        );
        assert_eq!(
            parse_counter("kde-linux_1+3.efi"),
            ("kde-linux_1.efi".into(), Some(3), Some(0))
        );
        assert_eq!(
            parse_counter("kde-linux_1.efi"),
            ("kde-linux_1.efi".into(), None, None)
        );
        assert_eq!(
            parse_counter("a+b.efi"),
            ("a+b.efi".into(), None, None),
            "not a counter"
        );
        assert_eq!(with_counter("kde-linux_1.efi", 0, 2), "kde-linux_1+0-2.efi");
    }

    #[test]
    fn globs_match_like_fnmatch_ignoring_case() {
        assert!(glob_match("kde-linux_*", "kde-linux_2.efi"));
        assert!(glob_match("KDE-linux_?.efi", "kde-linux_2.efi"));
        assert!(glob_match("kde-linux_[0-9].efi", "kde-linux_2.efi"));
        assert!(!glob_match("kde-linux_[!0-9].efi", "kde-linux_2.efi"));
        assert!(!glob_match("kde-linux_1.efi", "kde-linux_11.efi"));
        assert!(glob_match("*", ""));
        assert!(glob_match("*2.efi", "kde-linux_202.efi"));
        assert!(!glob_match("*3.efi", "kde-linux_202.efi"));
        assert!(!glob_match(&"*a".repeat(30), &"a".repeat(29)));
    }

    proptest::proptest! {
        #[test]
        fn hostile_names_and_patterns_never_panic(name in ".{0,40}", pattern in ".{0,20}") {
            let _ = parse_counter(&name);
            let _ = glob_match(&pattern, &name);
        }
    }
}
