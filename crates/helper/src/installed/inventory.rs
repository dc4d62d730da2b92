//! What is installed: each active transfer's instances found under its target, grouped into
//! versions that are complete (every transfer has its file) or incomplete, with the booted one
//! marked.

use crate::definitions::{Definitions, PathRelativeTo, TargetType, Transfer};
use crate::error::EngineError;
use crate::format::osrelease::OsRelease;
use crate::format::version;
pub use crate::layout::{ESP_CANDIDATES, Layout};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

impl Layout {
    /// The directory a target's `Path=` names, inside the root (`None` when the partition it is
    /// relative to was not found).
    pub fn target_dir(&self, transfer: &Transfer) -> Option<PathBuf> {
        let path = Path::new(&transfer.target.path);
        let relative = path.strip_prefix("/").unwrap_or(path);
        let base = match transfer.target.path_relative_to {
            PathRelativeTo::Root | PathRelativeTo::Explicit => PathBuf::from("/"),
            PathRelativeTo::Esp => self.esp.clone()?,
            PathRelativeTo::Xbootldr => self.xbootldr.clone()?,
            PathRelativeTo::Boot => self.xbootldr.clone().or_else(|| self.esp.clone())?,
        };
        Some(base.join(relative))
    }
}

/// One installed file of a transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Instance {
    /// The transfer it belongs to.
    pub transfer: String,
    /// Path inside the root.
    pub path: PathBuf,
    /// The version its name carries.
    pub version: String,
    /// Boot tries left (`@l`), for boot entries on trial.
    pub tries_left: Option<u64>,
    /// Boot tries done (`@d`).
    pub tries_done: Option<u64>,
    /// Size in bytes (for a directory: 0).
    pub size_bytes: u64,
}

/// One version with its instances.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstalledVersion {
    /// The version.
    pub version: String,
    /// Every active transfer has an instance of it.
    pub complete: bool,
    /// It is the version the root runs (`IMAGE_VERSION`).
    pub booted: bool,
    /// A transfer's `ProtectVersion=` names it (typically `%A`, the running version).
    pub protected: bool,
    /// Older than a transfer's `MinVersion=`.
    pub obsolete: bool,
    /// Pinned by an administrator: never removed (set by [`crate::read_system`]).
    pub pinned: bool,
    /// Its boot entry is the one booted by default (set by [`crate::read_system`]).
    pub default: bool,
    /// Boot tries left of its boot entry, while it is on trial (`+left-done` in the name).
    pub tries_left: Option<u64>,
    /// Boot tries done of its boot entry, while it is on trial.
    pub tries_done: Option<u64>,
    /// Instances, in transfer order.
    pub instances: Vec<Instance>,
    /// Active transfers without an instance of this version.
    pub missing_transfers: Vec<String>,
}

/// Everything installed, newest version first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inventory {
    /// Versions, newest first.
    pub versions: Vec<InstalledVersion>,
    /// The booted version (`IMAGE_VERSION`), whether or not its files were found.
    pub booted: Option<String>,
}

/// Instances of one transfer under its target directory. A missing directory has none.
pub fn instances(layout: &Layout, transfer: &Transfer) -> Result<Vec<Instance>, EngineError> {
    let Some(dir_in_root) = layout.target_dir(transfer) else {
        return Err(EngineError::NoBootPartition {
            file: transfer.file.clone(),
            root: layout.root.clone(),
            looked: ESP_CANDIDATES.join(", "),
        });
    };
    let dir = layout.on_disk(&dir_in_root);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(EngineError::Io {
                path: dir_in_root,
                source,
            });
        }
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| EngineError::Io {
            path: dir_in_root.clone(),
            source,
        })?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        // Hidden names are temporaries of an unfinished write, never instances.
        if name.starts_with('.') {
            continue;
        }
        let Some(fields) = crate::format::pattern::match_first(&transfer.target.patterns, name)
        else {
            continue;
        };
        let path = dir_in_root.join(name);
        let metadata = entry.metadata().map_err(|source| EngineError::Io {
            path: path.clone(),
            source,
        })?;
        let wanted_dir = transfer.target.kind == TargetType::Directory;
        if metadata.is_dir() != wanted_dir {
            continue;
        }
        found.push(Instance {
            transfer: transfer.name.clone(),
            path,
            version: fields.version,
            tries_left: fields.tries_left,
            tries_done: fields.tries_done,
            size_bytes: if wanted_dir { 0 } else { metadata.len() },
        });
    }
    found.sort_by(|a, b| version::compare(&b.version, &a.version).then(a.path.cmp(&b.path)));
    Ok(found)
}

/// Groups the instances of every active transfer into versions.
pub fn read(
    definitions: &Definitions,
    layout: &Layout,
    os: &OsRelease,
) -> Result<Inventory, EngineError> {
    let active: Vec<&Transfer> = definitions.active().collect();
    let mut by_version: BTreeMap<String, Vec<Instance>> = BTreeMap::new();
    for transfer in &active {
        for instance in instances(layout, transfer)? {
            by_version
                .entry(instance.version.clone())
                .or_default()
                .push(instance);
        }
    }
    let booted = os.image_version().map(str::to_string);
    let mut versions: Vec<InstalledVersion> = by_version
        .into_iter()
        .map(|(version, instances)| {
            let missing_transfers: Vec<String> = active
                .iter()
                .filter(|t| !instances.iter().any(|i| i.transfer == t.name))
                .map(|t| t.name.clone())
                .collect();
            let counted = instances
                .iter()
                .find(|i| i.tries_left.is_some() || i.tries_done.is_some());
            InstalledVersion {
                complete: missing_transfers.is_empty(),
                booted: booted.as_deref() == Some(version.as_str()),
                protected: active.iter().any(|t| t.protect_versions.contains(&version)),
                obsolete: crate::definitions::is_obsolete(&active, &version),
                pinned: false,
                default: false,
                tries_left: counted.and_then(|i| i.tries_left),
                tries_done: counted.and_then(|i| i.tries_done),
                version,
                instances,
                missing_transfers,
            }
        })
        .collect();
    versions.sort_by(|a, b| version::compare(&b.version, &a.version));
    Ok(Inventory { versions, booted })
}
