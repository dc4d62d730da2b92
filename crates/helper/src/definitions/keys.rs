//! The keys of `[Transfer]`, `[Source]` and `[Target]`: each value checked and parsed as
//! systemd-sysupdate reads it, with the file and line in every error.

use super::*;

pub(super) fn unknown(a: &Assignment) -> Warning {
    Warning {
        file: a.file.clone(),
        line: Some(a.line),
        message: format!("unknown setting {}= in [{}], ignored", a.key, a.section),
        kind: "unknown-key",
        fields: [("key", a.key.clone()), ("section", a.section.clone())].into(),
    }
}

pub(super) fn invalid(a: &Assignment, message: impl Into<String>) -> EngineError {
    EngineError::InvalidValue {
        file: a.file.clone(),
        line: a.line,
        key: a.key.clone(),
        message: message.into(),
    }
}

/// systemd's boolean words.
pub(super) fn boolean(a: &Assignment) -> Result<bool, EngineError> {
    match a.value.to_ascii_lowercase().as_str() {
        "1" | "yes" | "y" | "true" | "t" | "on" => Ok(true),
        "0" | "no" | "n" | "false" | "f" | "off" => Ok(false),
        _ => Err(invalid(
            a,
            format!("`{}` is not a boolean (use yes or no)", a.value),
        )),
    }
}

pub(super) fn number(a: &Assignment) -> Result<u64, EngineError> {
    a.value
        .parse::<u64>()
        .map_err(|_| invalid(a, format!("`{}` is not a non-negative number", a.value)))
}

/// Splits a list value into words; double and single quotes group words.
pub(super) fn words(a: &Assignment) -> Result<Vec<String>, EngineError> {
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
pub(super) fn accumulate(
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

pub(super) fn expand(a: &Assignment, specifiers: &Specifiers) -> Result<String, EngineError> {
    specifiers
        .expand(&a.value)
        .map_err(|e| invalid(a, e.to_string()))
}

pub(super) fn patterns(
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

pub(super) fn parse_transfer(
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
                        message: "TriesLeft=1 marks a new version bad after a single failed boot \
                                  (a power cut, a hung firmware); use 2 or more"
                            .to_string(),
                        kind: "tries-left-one",
                        fields: std::collections::BTreeMap::new(),
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
