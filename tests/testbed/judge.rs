//! An independent judge of a KDE Linux-shaped root: it never asks the helper what is installed.
//! It reads `/system` and the ESP itself, names files by KDE Linux's patterns with a parser of
//! its own, hashes every file against what was published (the mirror's `SHA256SUMS`) or was
//! installed before the test began, and checks every invariant of architecture.md:
//! 1. every boot entry's version has all its files, each with the published bytes;
//! 2. the default boot entry and the booted version are complete;
//! 3. the helper reports a version installed only when it is complete (its report is judged,
//!    never believed);
//! 4. pinned, protected (booted) and default versions are still there, whole;
//! 5. the history is readable: a torn record is accepted only as the last one before
//!    recovery, or right before the record of what ran next after the crash.
//!
//! A key or file the judge needs and does not find is a failure, never an empty value.

use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The kinds of file a KDE Linux version has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// The `/usr` image.
    Image,
    /// Its chunk index.
    Index,
    /// `/efi/EFI/Linux/kde-linux_V[+L[-D]].efi`: the boot entry.
    Uki,
}

const KINDS: [Kind; 3] = [Kind::Image, Kind::Index, Kind::Uki];

/// When the judge looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moment {
    /// Right after a crash, before anything recovered: the last history record may be torn.
    AfterCrash,
    /// After recovery (or a run that was not interrupted).
    Settled,
}

/// The version and kind a file name stands for, by KDE Linux's names on the mirror
/// (`kde-linux_V_root-x86-64.erofs`, `..._root-x86-64.caibx`, `kde-linux_V.efi`) and on the
/// system (`/system/kde-linux_V.erofs`, `/system/kde-linux_V.erofs.caibx`,
/// `/EFI/Linux/kde-linux_V+L-D.efi`); hidden temporaries and anything else: none.
pub fn parse_name(name: &str) -> Option<(String, Kind)> {
    let suffixes = [
        ("_root-x86-64.caibx", Kind::Index),
        (".erofs.caibx", Kind::Index),
        ("_root-x86-64.erofs", Kind::Image),
        (".erofs", Kind::Image),
    ];
    let (stem, kind) = match suffixes
        .iter()
        .find_map(|(suffix, kind)| name.strip_suffix(suffix).map(|s| (s, *kind)))
    {
        Some(found) => found,
        // The boot counter (`+LEFT` or `+LEFT-DONE`) is not part of the version.
        None => {
            let s = name.strip_suffix(".efi")?;
            (s.split('+').next().unwrap_or(s), Kind::Uki)
        }
    };
    let version = stem
        .strip_prefix("kde-linux_")
        .or_else(|| stem.strip_prefix("kdeos_"))?;
    let valid = !version.is_empty()
        && version
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-' | b','));
    valid.then(|| (version.to_string(), kind))
}

fn sha256_of(path: &Path) -> Result<String, String> {
    let mut hasher = Sha256::new();
    let mut file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    std::io::copy(&mut file, &mut hasher).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// (version, kind) -> (path, bytes' SHA-256).
type Files = BTreeMap<(String, Kind), (std::path::PathBuf, String)>;

/// Every file of KDE Linux's names on the root.
fn files_on(root: &Path) -> Result<Files, String> {
    let mut found = BTreeMap::new();
    for dir in ["system", "efi/EFI/Linux"] {
        let dir = root.join(dir);
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(key) = parse_name(&name) else {
                continue;
            };
            let path = entry.path();
            let sha256 = sha256_of(&path)?;
            if let Some((other, _)) = found.insert(key.clone(), (path.clone(), sha256)) {
                return Err(format!(
                    "two files for {} {:?}: {} and {}",
                    key.0,
                    key.1,
                    other.display(),
                    path.display()
                ));
            }
        }
    }
    Ok(found)
}

/// What the judge knows to be right: the bytes of every version's files.
pub struct Judge {
    expected: BTreeMap<(String, Kind), String>,
}

impl Judge {
    /// Learns the bytes of what `root` has installed now (before the test does anything) and
    /// of every file the `SHA256SUMS` lists name.
    pub fn new(root: &Path, sums: &[&Path]) -> Result<Self, String> {
        let mut expected: BTreeMap<(String, Kind), String> = files_on(root)?
            .into_iter()
            .map(|(key, (_, sha256))| (key, sha256))
            .collect();
        for list in sums {
            let text =
                std::fs::read_to_string(list).map_err(|e| format!("{}: {e}", list.display()))?;
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let (sha256, name) = line
                    .split_once(char::is_whitespace)
                    .ok_or_else(|| format!("{}: not a SHA256SUMS line: {line}", list.display()))?;
                let name = name.trim_start().trim_start_matches('*');
                if let Some(key) = parse_name(name) {
                    expected.insert(key, sha256.to_string());
                }
            }
        }
        Ok(Self { expected })
    }

    /// The versions that are complete on `root`: every kind present, each with the bytes
    /// that were published for it.
    pub fn complete(&self, root: &Path) -> Result<BTreeSet<String>, String> {
        Ok(self.complete_of(&files_on(root)?))
    }

    /// [`Judge::complete`] of files already found (and hashed).
    fn complete_of(&self, found: &Files) -> BTreeSet<String> {
        let versions: BTreeSet<&String> = found.keys().map(|(v, _)| v).collect();
        versions
            .into_iter()
            .filter(|v| {
                KINDS.iter().all(|kind| {
                    let key = ((*v).clone(), *kind);
                    matches!((found.get(&key), self.expected.get(&key)),
                        (Some((_, actual)), Some(expected)) if actual == expected)
                })
            })
            .cloned()
            .collect()
    }

    /// Every broken invariant of `root` at `moment`; empty when all hold.
    pub fn verdict(&self, root: &Path, moment: Moment) -> Vec<String> {
        let mut problems = Vec::new();
        let found = match files_on(root) {
            Ok(found) => found,
            Err(e) => return vec![e],
        };
        let complete = self.complete_of(&found);
        // Every file has bytes someone published.
        for ((version, kind), (path, sha256)) in &found {
            match self.expected.get(&(version.clone(), *kind)) {
                None => problems.push(format!("{} was never published", path.display())),
                Some(expected) if expected != sha256 => problems.push(format!(
                    "{} has other bytes than published ({sha256}, not {expected})",
                    path.display()
                )),
                Some(_) => {}
            }
        }
        // 1. A boot entry only for a complete version.
        for (version, kind) in found.keys() {
            if *kind == Kind::Uki && !complete.contains(version) {
                problems.push(format!(
                    "the boot entry of {version} has no complete version"
                ));
            }
        }
        // 2. and 4. The booted (protected), default and pinned versions are whole.
        match booted(root) {
            Ok(version) if complete.contains(&version) => {}
            Ok(version) => problems.push(format!("the booted version {version} is not whole")),
            Err(e) => problems.push(e),
        }
        match default_version(root) {
            Ok(Some(version)) if complete.contains(&version) => {}
            Ok(Some(version)) => {
                problems.push(format!(
                    "the default boot entry's version {version} is not whole"
                ));
            }
            Ok(None) => {}
            Err(e) => problems.push(e),
        }
        match pinned(root) {
            Ok(pins) => {
                for version in pins.difference(&complete) {
                    problems.push(format!("the pinned version {version} is not whole"));
                }
            }
            Err(e) => problems.push(e),
        }
        // 5. The history.
        problems.extend(history_problems(root, moment));
        problems
    }

    /// Judges the helper's own report (`inspect --json`): a version it calls complete must be
    /// complete.
    pub fn judge_report(&self, root: &Path, report: &serde_json::Value) -> Vec<String> {
        let complete = match self.complete(root) {
            Ok(complete) => complete,
            Err(e) => return vec![e],
        };
        let Some(versions) = report["inventory"]["versions"].as_array() else {
            return vec!["the report has no inventory.versions array".into()];
        };
        let mut problems = Vec::new();
        for v in versions {
            let (Some(version), Some(said)) = (v["version"].as_str(), v["complete"].as_bool())
            else {
                problems.push(format!("a version without version or complete: {v}"));
                continue;
            };
            if said && !complete.contains(version) {
                problems.push(format!("the helper reports {version} complete; it is not"));
            }
        }
        problems
    }
}

/// `IMAGE_VERSION` of the root's os-release: what runs (and is protected by `%A`).
fn booted(root: &Path) -> Result<String, String> {
    let path = root.join("etc/os-release");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.lines()
        .find_map(|l| l.strip_prefix("IMAGE_VERSION="))
        .map(|v| v.trim_matches('"').to_string())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| "os-release has no IMAGE_VERSION".to_string())
}

/// The version of the default boot entry: the `LoaderEntryDefault` EFI variable when the root
/// has efivars, else `default` of loader.conf; none when neither names one.
fn default_version(root: &Path) -> Result<Option<String>, String> {
    let efivars = root.join("sys/firmware/efi/efivars");
    let id = if efivars.is_dir() {
        crate::firmware::read_var(root, "LoaderEntryDefault")
    } else {
        None
    };
    let id = match id {
        Some(id) => Some(id),
        None => std::fs::read_to_string(root.join("efi/loader/loader.conf"))
            .ok()
            .and_then(|text| {
                text.lines().find_map(|l| {
                    l.trim()
                        .strip_prefix("default")
                        .map(|v| v.trim().to_string())
                })
            }),
    };
    match id {
        None => Ok(None),
        // A glob (systemd-boot's default pattern) names no single entry.
        Some(id) if id.contains('*') => Ok(None),
        Some(id) => parse_name(&id)
            .map(|(version, _)| Some(version))
            .ok_or_else(|| format!("the default boot entry {id} is no KDE Linux entry")),
    }
}

/// The pinned versions, from the helper's state file (none when there is no file yet).
fn pinned(root: &Path) -> Result<BTreeSet<String>, String> {
    let path = root.join("var/lib/update-center/state.json");
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeSet::new()),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("state.json is torn: {e}"))?;
    let pins = value["pinned"]
        .as_array()
        .ok_or_else(|| "state.json has no pinned array".to_string())?;
    pins.iter()
        .map(|p| {
            p.as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("a pin that is no string: {p}"))
        })
        .collect()
}

/// Records after a crash that show the next run began: a torn record may stand right before
/// one of these.
const AFTER_A_CRASH: [&str; 2] = ["recovered", "started"];

fn history_problems(root: &Path, moment: Moment) -> Vec<String> {
    let path = root.join("var/lib/update-center/history.jsonl");
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => return vec![format!("{}: {e}", path.display())],
    };
    let lines: Vec<&[u8]> = bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let records: Vec<Option<serde_json::Value>> = lines
        .iter()
        .map(|l| {
            serde_json::from_slice::<serde_json::Value>(l)
                .ok()
                .filter(|v| v["time"].is_string() && v["event"].is_string())
        })
        .collect();
    let mut problems = Vec::new();
    for (n, record) in records.iter().enumerate() {
        if record.is_some() {
            continue;
        }
        let last = n + 1 == records.len();
        let next_began = records
            .get(n + 1)
            .and_then(|r| r.as_ref())
            .and_then(|r| r["event"].as_str())
            .is_some_and(|e| AFTER_A_CRASH.contains(&e));
        let accepted = (last && moment == Moment::AfterCrash) || next_began;
        if !accepted {
            problems.push(format!(
                "history record {n} is torn or lacks time and event: {}",
                String::from_utf8_lossy(lines[n])
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system::{Images, KdeLinuxRoot, VersionSpec};

    #[test]
    fn the_judge_finds_what_is_broken() {
        let dir = tempfile::tempdir().expect("tempdir");
        let system = KdeLinuxRoot::create(
            dir.path(),
            &[
                VersionSpec::complete("202611010800"),
                VersionSpec::complete("202611150800"),
            ],
            Some("202611150800"),
            Images::Plain,
        )
        .expect("root");
        let root = &system.root;
        let judge = Judge::new(root, &[]).expect("judge");
        assert_eq!(judge.verdict(root, Moment::Settled), Vec::<String>::new());
        // Changed bytes of an image: that version is no longer whole, and its entry says so.
        let image = root.join("system/kde-linux_202611010800.erofs");
        std::fs::write(&image, b"other bytes").expect("write");
        let problems = judge.verdict(root, Moment::Settled).join("\n");
        assert!(
            problems.contains("other bytes than published"),
            "{problems}"
        );
        assert!(
            problems.contains("boot entry of 202611010800"),
            "{problems}"
        );
        // A pinned version that is gone.
        std::fs::remove_file(&image).expect("remove");
        std::fs::create_dir_all(root.join("var/lib/update-center")).expect("mkdir");
        std::fs::write(
            root.join("var/lib/update-center/state.json"),
            r#"{"pinned":["202611010800"]}"#,
        )
        .expect("state");
        let problems = judge.verdict(root, Moment::Settled).join("\n");
        assert!(
            problems.contains("pinned version 202611010800"),
            "{problems}"
        );
        // A torn history record: accepted last right after a crash, never in the middle.
        std::fs::write(
            root.join("var/lib/update-center/state.json"),
            r#"{"pinned":[]}"#,
        )
        .expect("state");
        std::fs::remove_file(root.join("efi/EFI/Linux/kde-linux_202611010800.efi")).ok();
        let history = root.join("var/lib/update-center/history.jsonl");
        std::fs::write(
            &history,
            "{\"time\":\"t\",\"event\":\"started\"}\n{\"time\":",
        )
        .expect("write");
        assert_eq!(
            judge.verdict(root, Moment::AfterCrash),
            Vec::<String>::new()
        );
        assert!(!judge.verdict(root, Moment::Settled).is_empty());
        std::fs::write(
            &history,
            "{\"time\":\"t\"\n{\"time\":\"t\",\"event\":\"committed\"}\n",
        )
        .expect("write");
        assert!(!judge.verdict(root, Moment::AfterCrash).is_empty());
        // A record without its event is no record.
        std::fs::write(&history, "{\"time\":\"t\"}\n").expect("write");
        assert!(!judge.verdict(root, Moment::Settled).is_empty());
    }

    #[test]
    fn names_follow_kde_linux_patterns() {
        assert_eq!(
            parse_name("kde-linux_202611250800_root-x86-64.erofs"),
            Some(("202611250800".into(), Kind::Image))
        );
        assert_eq!(
            parse_name("kde-linux_202611250800+2-1.efi"),
            Some(("202611250800".into(), Kind::Uki))
        );
        assert_eq!(
            parse_name("kde-linux_202611250800.erofs.caibx"),
            Some(("202611250800".into(), Kind::Index))
        );
        assert_eq!(
            parse_name("kde-linux_202611250800.erofs"),
            Some(("202611250800".into(), Kind::Image))
        );
        assert_eq!(parse_name("kde-linux_1.caibx"), None);
        assert_eq!(parse_name(".#update-center.kde-linux_2.efi"), None);
        assert_eq!(parse_name("kde-linux_.efi"), None);
    }
}
