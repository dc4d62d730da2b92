//! sysupdate.d definitions as systemd-sysupdate reads them: the four directories with their
//! priority, drop-ins, `.feature` files, legacy `.conf` transfers, every key of `[Transfer]`,
//! `[Source]` and `[Target]`, and specifiers expanded from the root's os-release.

mod keys;

use keys::*;

use crate::error::EngineError;
use crate::format::ini::{self, Assignment};
use crate::format::osrelease::Specifiers;
use crate::format::pattern::Pattern;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Definition directories below the root, highest priority first.
pub const SEARCH_DIRS: [&str; 4] = [
    "etc/sysupdate.d",
    "run/sysupdate.d",
    "usr/local/lib/sysupdate.d",
    "usr/lib/sysupdate.d",
];

/// Where a transfer's source comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceType {
    /// A file downloaded over HTTP(S).
    UrlFile,
    /// A tarball downloaded over HTTP(S).
    UrlTar,
    /// A local tarball.
    Tar,
    /// A local file (a mirror folder, a USB stick).
    RegularFile,
    /// A local directory.
    Directory,
    /// A local btrfs subvolume.
    Subvolume,
}

/// What a transfer writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetType {
    /// A regular file (KDE Linux: the EROFS image, its index and the UKI).
    RegularFile,
    /// A directory tree.
    Directory,
    /// A GPT partition (not supported by this helper).
    Partition,
    /// A btrfs subvolume (not supported by this helper).
    Subvolume,
}

/// What a target `Path=` is relative to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PathRelativeTo {
    /// The root (default).
    Root,
    /// The EFI system partition.
    Esp,
    /// The XBOOTLDR partition.
    Xbootldr,
    /// XBOOTLDR if there is one, else the ESP.
    Boot,
    /// An absolute path on the running system.
    Explicit,
}

/// The `[Source]` section.
#[derive(Debug, Clone, Serialize)]
pub struct Source {
    /// `Type=`.
    pub kind: SourceType,
    /// `Path=` (a URL for url sources), specifiers expanded.
    pub path: String,
    /// `MatchPattern=`.
    #[serde(serialize_with = "patterns_as_text")]
    pub patterns: Vec<Pattern>,
}

/// The `[Target]` section.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    /// `Type=`.
    pub kind: TargetType,
    /// `Path=`, specifiers expanded.
    pub path: String,
    /// `PathRelativeTo=`.
    pub path_relative_to: PathRelativeTo,
    /// `MatchPattern=`: all find installed instances, the first names new ones.
    #[serde(serialize_with = "patterns_as_text")]
    pub patterns: Vec<Pattern>,
    /// `ReadOnly=`.
    pub read_only: Option<bool>,
    /// `Mode=`.
    pub mode: Option<u32>,
    /// `TriesLeft=`.
    pub tries_left: Option<u64>,
    /// `TriesDone=`.
    pub tries_done: Option<u64>,
    /// `InstancesMax=` (default 2).
    pub instances_max: u64,
    /// `RemoveTemporary=` (default yes).
    pub remove_temporary: bool,
    /// `CurrentSymlink=`.
    pub current_symlink: Option<String>,
}

/// One transfer definition (`*.transfer`, or a legacy `*.conf`).
#[derive(Debug, Clone, Serialize)]
pub struct Transfer {
    /// File name without its suffix, e.g. `50-root-x86-64-erofs`.
    pub name: String,
    /// The main file, as a path inside the root.
    pub file: PathBuf,
    /// Drop-ins applied, in order.
    pub dropins: Vec<PathBuf>,
    /// `MinVersion=`.
    pub min_version: Option<String>,
    /// `ProtectVersion=`.
    pub protect_versions: Vec<String>,
    /// `Verify=` (default yes).
    pub verify: bool,
    /// `ChangeLog=`.
    pub changelog: Vec<String>,
    /// `AppStream=`.
    pub appstream: Vec<String>,
    /// `Features=`: active when any is enabled.
    pub features: Vec<String>,
    /// `RequisiteFeatures=`: active only when all are enabled.
    pub requisite_features: Vec<String>,
    /// `[Source]`.
    pub source: Source,
    /// `[Target]`.
    pub target: Target,
    /// Whether the transfer is active with the enabled features.
    pub enabled: bool,
}

/// One optional feature (`*.feature`).
#[derive(Debug, Clone, Serialize)]
pub struct Feature {
    /// File name without `.feature`.
    pub name: String,
    /// `Description=`.
    pub description: Option<String>,
    /// `Documentation=`.
    pub documentation: Option<String>,
    /// `AppStream=`.
    pub appstream: Option<String>,
    /// `Enabled=` (default no).
    pub enabled: bool,
}

/// Something the definitions do that a person should know about, though it is not an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// The file concerned, inside the root.
    pub file: PathBuf,
    /// Line, when it is about one line.
    pub line: Option<usize>,
    /// The message.
    pub message: String,
    /// The same as a kind of `update_center_client::WARNING_KINDS`.
    pub kind: &'static str,
    /// Its fields.
    pub fields: std::collections::BTreeMap<&'static str, String>,
}

/// Everything read from sysupdate.d.
#[derive(Debug, Clone, Serialize)]
pub struct Definitions {
    /// Transfers in file-name order (the order systemd-sysupdate applies them).
    pub transfers: Vec<Transfer>,
    /// Features in file-name order.
    pub features: Vec<Feature>,
    /// Warnings (unknown keys, ignored legacy files, ...).
    pub warnings: Vec<Warning>,
}

impl Definitions {
    /// Transfers active with the enabled features.
    pub fn active(&self) -> impl Iterator<Item = &Transfer> {
        self.transfers.iter().filter(|t| t.enabled)
    }
}

fn patterns_as_text<S: serde::Serializer>(patterns: &[Pattern], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(patterns.iter().map(Pattern::as_str))
}

/// A file found in one of the directories: its path inside the root and on disk.
#[derive(Debug, Clone)]
struct Found {
    in_root: PathBuf,
    on_disk: PathBuf,
}

/// Files with `suffix` in the search directories: an earlier directory hides the same name in a
/// later one. Sorted by file name.
fn list(root: &Path, suffix: &str) -> Result<BTreeMap<String, Found>, EngineError> {
    let mut found: BTreeMap<String, Found> = BTreeMap::new();
    for dir in SEARCH_DIRS {
        collect_dir(root, Path::new(dir), suffix, &mut found)?;
    }
    Ok(found)
}

fn collect_dir(
    root: &Path,
    dir_in_root: &Path,
    suffix: &str,
    found: &mut BTreeMap<String, Found>,
) -> Result<(), EngineError> {
    let dir = root.join(dir_in_root);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(EngineError::UnreadableDefinition {
                path: Path::new("/").join(dir_in_root),
                source,
            });
        }
    };
    for entry in entries {
        let entry = entry.map_err(|source| EngineError::UnreadableDefinition {
            path: Path::new("/").join(dir_in_root),
            source,
        })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(suffix) || name.starts_with('.') || name.len() == suffix.len() {
            continue;
        }
        // Directories named like files (e.g. `x.transfer.d`) are not definitions.
        if entry.path().is_dir() {
            continue;
        }
        found.entry(name.clone()).or_insert_with(|| Found {
            in_root: Path::new("/").join(dir_in_root).join(&name),
            on_disk: entry.path(),
        });
    }
    Ok(())
}

/// Drop-ins `NAME.d/*.conf` of a file across all directories, in drop-in file-name order.
fn dropins(root: &Path, file_name: &str) -> Result<Vec<Found>, EngineError> {
    let mut found = BTreeMap::new();
    for dir in SEARCH_DIRS {
        collect_dir(
            root,
            &Path::new(dir).join(format!("{file_name}.d")),
            ".conf",
            &mut found,
        )?;
    }
    Ok(found.into_values().collect())
}

fn read(found: &Found) -> Result<Vec<Assignment>, EngineError> {
    let text =
        std::fs::read(&found.on_disk).map_err(|source| EngineError::UnreadableDefinition {
            path: found.in_root.clone(),
            source,
        })?;
    let text = String::from_utf8(text).map_err(|_| EngineError::UnreadableDefinition {
        path: found.in_root.clone(),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "the file is not valid UTF-8",
        ),
    })?;
    Ok(ini::parse(&found.in_root, &text)?)
}

/// Reads every definition under `root`.
pub fn load(root: &Path, specifiers: &Specifiers) -> Result<Definitions, EngineError> {
    let mut warnings = Vec::new();
    let features = load_features(root, &mut warnings)?;
    let transfer_files = list(root, ".transfer")?;
    let legacy_files = list(root, ".conf")?;
    let (files, suffix) = if transfer_files.is_empty() {
        (legacy_files, ".conf")
    } else {
        for found in legacy_files.values() {
            // KDE Linux once stopped updating silently because systemd ignores these: say so.
            warnings.push(Warning {
                file: found.in_root.clone(),
                line: None,
                message: "this legacy transfer file is ignored because *.transfer files exist \
                          (as systemd-sysupdate does); rename it to *.transfer or remove it"
                    .to_string(),
                kind: "legacy-ignored",
                fields: std::collections::BTreeMap::new(),
            });
        }
        (transfer_files, ".transfer")
    };
    if files.is_empty() {
        return Err(EngineError::NoDefinitions {
            root: root.to_path_buf(),
            searched: SEARCH_DIRS.map(|d| format!("/{d}")).join(", "),
        });
    }
    let mut transfers = Vec::new();
    for (file_name, found) in &files {
        let mut assignments = read(found)?;
        let dropins = dropins(root, file_name)?;
        for dropin in &dropins {
            assignments.extend(read(dropin)?);
        }
        let name = file_name.trim_end_matches(suffix).to_string();
        let mut transfer = parse_transfer(name, found, &assignments, specifiers, &mut warnings)?;
        transfer.dropins = dropins.into_iter().map(|d| d.in_root).collect();
        let enabled = |f: &String| features.iter().any(|x| &x.name == f && x.enabled);
        transfer.enabled = (transfer.features.is_empty() || transfer.features.iter().any(enabled))
            && transfer.requisite_features.iter().all(enabled);
        transfers.push(transfer);
    }
    Ok(Definitions {
        transfers,
        features,
        warnings,
    })
}

fn load_features(root: &Path, warnings: &mut Vec<Warning>) -> Result<Vec<Feature>, EngineError> {
    let mut features = Vec::new();
    for (file_name, found) in list(root, ".feature")? {
        let mut assignments = read(&found)?;
        for dropin in dropins(root, &file_name)? {
            assignments.extend(read(&dropin)?);
        }
        let mut feature = Feature {
            name: file_name.trim_end_matches(".feature").to_string(),
            description: None,
            documentation: None,
            appstream: None,
            enabled: false,
        };
        for a in &assignments {
            match (a.section.as_str(), a.key.as_str()) {
                ("Feature", "Description") => feature.description = Some(a.value.clone()),
                ("Feature", "Documentation") => feature.documentation = Some(a.value.clone()),
                ("Feature", "AppStream") => feature.appstream = Some(a.value.clone()),
                ("Feature", "Enabled") => feature.enabled = boolean(a)?,
                _ => warnings.push(unknown(a)),
            }
        }
        features.push(feature);
    }
    Ok(features)
}

/// Older than some active transfer's `MinVersion=`.
pub fn is_obsolete(active: &[&Transfer], version: &str) -> bool {
    active
        .iter()
        .filter_map(|t| t.min_version.as_deref())
        .any(|min| crate::format::version::compare(min, version).is_gt())
}
