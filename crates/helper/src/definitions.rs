//! sysupdate.d definitions as systemd-sysupdate reads them: the four directories with their
//! priority, drop-ins, `.feature` files, legacy `.conf` transfers, every key of `[Transfer]`,
//! `[Source]` and `[Target]`, and specifiers expanded from the root's os-release.

use crate::error::EngineError;
use crate::ini::{self, Assignment};
use crate::osrelease::Specifiers;
use crate::pattern::Pattern;
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

fn unknown(a: &Assignment) -> Warning {
    Warning {
        file: a.file.clone(),
        line: Some(a.line),
        message: format!("unknown setting {}= in [{}], ignored", a.key, a.section),
    }
}

fn invalid(a: &Assignment, message: impl Into<String>) -> EngineError {
    EngineError::InvalidValue {
        file: a.file.clone(),
        line: a.line,
        key: a.key.clone(),
        message: message.into(),
    }
}

/// systemd's boolean words.
fn boolean(a: &Assignment) -> Result<bool, EngineError> {
    match a.value.to_ascii_lowercase().as_str() {
        "1" | "yes" | "y" | "true" | "t" | "on" => Ok(true),
        "0" | "no" | "n" | "false" | "f" | "off" => Ok(false),
        _ => Err(invalid(
            a,
            format!("`{}` is not a boolean (use yes or no)", a.value),
        )),
    }
}

fn number(a: &Assignment) -> Result<u64, EngineError> {
    a.value
        .parse::<u64>()
        .map_err(|_| invalid(a, format!("`{}` is not a non-negative number", a.value)))
}

/// Splits a list value into words; double and single quotes group words.
fn words(a: &Assignment) -> Result<Vec<String>, EngineError> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    for c in a.value.chars() {
        match (quote, c) {
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            (_, c) => {
                current.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err(invalid(a, "unbalanced quotes"));
    }
    if in_word {
        out.push(current);
    }
    Ok(out)
}

/// Appends the words of a list key; an empty assignment resets the list.
fn accumulate(
    list: &mut Vec<(String, usize)>,
    a: &Assignment,
    specifiers: Option<&Specifiers>,
) -> Result<(), EngineError> {
    if a.value.is_empty() {
        list.clear();
        return Ok(());
    }
    for word in words(a)? {
        let word = match specifiers {
            Some(s) => s.expand(&word).map_err(|e| invalid(a, e.to_string()))?,
            None => word,
        };
        list.push((word, a.line));
    }
    Ok(())
}

fn expand(a: &Assignment, specifiers: &Specifiers) -> Result<String, EngineError> {
    specifiers
        .expand(&a.value)
        .map_err(|e| invalid(a, e.to_string()))
}

fn patterns(
    file: &Path,
    key_line: &[(String, usize)],
    key: &str,
) -> Result<Vec<Pattern>, EngineError> {
    key_line
        .iter()
        .map(|(text, line)| {
            Pattern::parse(text).map_err(|e| EngineError::InvalidValue {
                file: file.to_path_buf(),
                line: *line,
                key: key.to_string(),
                message: format!("invalid pattern `{text}`: {e}"),
            })
        })
        .collect()
}

#[derive(Default)]
struct Raw {
    source_type: Option<(SourceType, usize)>,
    source_path: Option<String>,
    source_patterns: Vec<(String, usize)>,
    target_type: Option<(TargetType, usize)>,
    target_path: Option<String>,
    relative_to: Option<PathRelativeTo>,
    target_patterns: Vec<(String, usize)>,
}

fn parse_transfer(
    name: String,
    found: &Found,
    assignments: &[Assignment],
    specifiers: &Specifiers,
    warnings: &mut Vec<Warning>,
) -> Result<Transfer, EngineError> {
    let file = &found.in_root;
    let mut raw = Raw::default();
    let mut min_version = None;
    let mut protect = Vec::new();
    let mut verify = true;
    let mut changelog = Vec::new();
    let mut appstream = Vec::new();
    let mut features = Vec::new();
    let mut requisite = Vec::new();
    let (mut read_only, mut mode, mut tries_left, mut tries_done) = (None, None, None, None);
    let mut instances_max = 2;
    let mut remove_temporary = true;
    let mut current_symlink = None;
    for a in assignments {
        match (a.section.as_str(), a.key.as_str()) {
            ("Transfer", "MinVersion") => {
                min_version = Some(expand(a, specifiers)?).filter(|v| !v.is_empty())
            }
            ("Transfer", "ProtectVersion") => accumulate(&mut protect, a, Some(specifiers))?,
            ("Transfer", "Verify") => verify = boolean(a)?,
            ("Transfer", "ChangeLog") => accumulate(&mut changelog, a, Some(specifiers))?,
            ("Transfer", "AppStream") => accumulate(&mut appstream, a, Some(specifiers))?,
            ("Transfer", "Features") => accumulate(&mut features, a, None)?,
            ("Transfer", "RequisiteFeatures") => accumulate(&mut requisite, a, None)?,
            ("Source", "Type") => {
                let kind = match a.value.as_str() {
                    "url-file" => SourceType::UrlFile,
                    "url-tar" => SourceType::UrlTar,
                    "tar" => SourceType::Tar,
                    "regular-file" => SourceType::RegularFile,
                    "directory" => SourceType::Directory,
                    "subvolume" => SourceType::Subvolume,
                    other => {
                        return Err(invalid(
                            a,
                            format!(
                                "unknown source type `{other}` (url-file, url-tar, tar, regular-file, directory or subvolume)"
                            ),
                        ));
                    }
                };
                raw.source_type = Some((kind, a.line));
            }
            ("Source", "Path") => raw.source_path = Some(expand(a, specifiers)?),
            ("Source", "MatchPattern") => {
                accumulate(&mut raw.source_patterns, a, Some(specifiers))?
            }
            ("Target", "Type") => {
                let kind = match a.value.as_str() {
                    "regular-file" => TargetType::RegularFile,
                    "directory" => TargetType::Directory,
                    "partition" => TargetType::Partition,
                    "subvolume" => TargetType::Subvolume,
                    other => {
                        return Err(invalid(
                            a,
                            format!(
                                "unknown target type `{other}` (partition, regular-file, directory or subvolume)"
                            ),
                        ));
                    }
                };
                raw.target_type = Some((kind, a.line));
            }
            ("Target", "Path") => raw.target_path = Some(expand(a, specifiers)?),
            ("Target", "PathRelativeTo") => {
                raw.relative_to = Some(match a.value.as_str() {
                    "root" => PathRelativeTo::Root,
                    "esp" => PathRelativeTo::Esp,
                    "xbootldr" => PathRelativeTo::Xbootldr,
                    "boot" => PathRelativeTo::Boot,
                    "explicit" => PathRelativeTo::Explicit,
                    other => {
                        return Err(invalid(
                            a,
                            format!(
                                "unknown value `{other}` (root, esp, xbootldr, boot or explicit)"
                            ),
                        ));
                    }
                });
            }
            ("Target", "MatchPattern") => {
                accumulate(&mut raw.target_patterns, a, Some(specifiers))?
            }
            ("Target", "ReadOnly") => read_only = Some(boolean(a)?),
            ("Target", "Mode") => {
                mode = Some(
                    u32::from_str_radix(&a.value, 8)
                        .ok()
                        .filter(|m| *m <= 0o7777)
                        .ok_or_else(|| {
                            invalid(
                                a,
                                format!("`{}` is not an octal access mode such as 0644", a.value),
                            )
                        })?,
                );
            }
            ("Target", "TriesLeft") => {
                tries_left = Some(number(a)?);
                // KDE Linux once marked good images bad after one unlucky boot this way.
                if tries_left == Some(1) {
                    warnings.push(Warning {
                        file: a.file.clone(),
                        line: Some(a.line),
                        message: "TriesLeft=1 marks a new version bad after a single failed                                   boot (a power cut, a hung firmware); use 2 or more"
                            .to_string(),
                    });
                }
            }
            ("Target", "TriesDone") => tries_done = Some(number(a)?),
            ("Target", "InstancesMax") => {
                instances_max = number(a)?;
                if instances_max < 2 {
                    return Err(invalid(
                        a,
                        "must be at least 2 (the running version and the new one)",
                    ));
                }
            }
            ("Target", "RemoveTemporary") => remove_temporary = boolean(a)?,
            ("Target", "CurrentSymlink") => {
                current_symlink = Some(expand(a, specifiers)?).filter(|v| !v.is_empty())
            }
            (
                "Target",
                "MatchPartitionType"
                | "PartitionUUID"
                | "PartitionFlags"
                | "PartitionNoAuto"
                | "PartitionGrowFileSystem",
            ) => {}
            _ => warnings.push(unknown(a)),
        }
    }
    let missing = |section: &str, key: &str| EngineError::MissingKey {
        file: file.clone(),
        section: section.into(),
        key: key.into(),
    };
    let (source_kind, _) = raw.source_type.ok_or_else(|| missing("Source", "Type"))?;
    let (target_kind, target_line) = raw.target_type.ok_or_else(|| missing("Target", "Type"))?;
    if matches!(target_kind, TargetType::Partition | TargetType::Subvolume) {
        let what = match target_kind {
            TargetType::Partition => "Type=partition in [Target]",
            _ => "Type=subvolume in [Target]",
        };
        return Err(EngineError::Unsupported {
            file: file.clone(),
            line: target_line,
            what: what.into(),
        });
    }
    if raw.source_patterns.is_empty() {
        return Err(missing("Source", "MatchPattern"));
    }
    if raw.target_patterns.is_empty() {
        return Err(missing("Target", "MatchPattern"));
    }
    let source_path = raw.source_path.ok_or_else(|| missing("Source", "Path"))?;
    let target_path = raw.target_path.ok_or_else(|| missing("Target", "Path"))?;
    Ok(Transfer {
        name,
        file: file.clone(),
        dropins: Vec::new(),
        min_version,
        protect_versions: protect
            .into_iter()
            .map(|(v, _)| v)
            .filter(|v| !v.is_empty())
            .collect(),
        verify,
        changelog: changelog.into_iter().map(|(v, _)| v).collect(),
        appstream: appstream.into_iter().map(|(v, _)| v).collect(),
        features: features.into_iter().map(|(v, _)| v).collect(),
        requisite_features: requisite.into_iter().map(|(v, _)| v).collect(),
        source: Source {
            kind: source_kind,
            path: source_path,
            patterns: patterns(file, &raw.source_patterns, "MatchPattern")?,
        },
        target: Target {
            kind: target_kind,
            path: target_path,
            path_relative_to: raw.relative_to.unwrap_or(PathRelativeTo::Root),
            patterns: patterns(file, &raw.target_patterns, "MatchPattern")?,
            read_only,
            mode,
            tries_left,
            tries_done,
            instances_max,
            remove_temporary,
            current_symlink,
        },
        enabled: true,
    })
}

/// Older than some active transfer's `MinVersion=`.
pub fn is_obsolete(active: &[&Transfer], version: &str) -> bool {
    active
        .iter()
        .filter_map(|t| t.min_version.as_deref())
        .any(|min| crate::version::compare(min, version).is_gt())
}
