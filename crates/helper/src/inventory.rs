//! What is installed: each active transfer's instances found under its target, grouped into
//! versions that are complete (every transfer has its file) or incomplete, with the booted one
//! marked.

use crate::definitions::{Definitions, PathRelativeTo, TargetType, Transfer};
use crate::error::EngineError;
use crate::osrelease::OsRelease;
use crate::version;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where a root keeps its boot partitions. Paths are inside the root (`/efi`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    /// The system root.
    pub root: PathBuf,
    /// Mount point of the EFI system partition inside the root, if found.
    pub esp: Option<PathBuf>,
    /// Mount point of the XBOOTLDR partition inside the root, if any.
    pub xbootldr: Option<PathBuf>,
}

/// File system types an EFI system partition (or XBOOTLDR) may have: FAT, directly or through
/// FUSE (fusefat).
const BOOT_FS_TYPES: [&str; 3] = ["vfat", "msdos", "fuse.fusefat"];

/// Where systemd looks for the ESP, inside the root, in order.
pub const ESP_CANDIDATES: [&str; 3] = ["/efi", "/boot", "/boot/efi"];

impl Layout {
    /// Finds the ESP at `/efi`, `/boot` or `/boot/efi`: the first that is a FAT file system, as
    /// systemd checks it. `esp` names it instead (no check: the caller knows). With `relax`
    /// (`SYSTEMD_RELAX_ESP_CHECKS=1` in systemd), a plain directory that holds `EFI/` or
    /// `loader/` counts, for roots that are not real systems (tests, images being built).
    pub fn detect(root: &Path, esp: Option<&Path>, xbootldr: Option<&Path>, relax: bool) -> Self {
        let acceptable = |candidate: &str| {
            let dir = root.join(candidate.trim_start_matches('/'));
            if relax {
                dir.join("EFI").is_dir() || dir.join("loader").is_dir()
            } else {
                dir.is_dir() && fs_type(&dir).is_some_and(|t| BOOT_FS_TYPES.contains(&t.as_str()))
            }
        };
        let esp = esp.map(Path::to_path_buf).or_else(|| {
            ESP_CANDIDATES
                .into_iter()
                .find(|p| acceptable(p))
                .map(PathBuf::from)
        });
        // XBOOTLDR lives at /boot when the ESP is at /efi (the layout the Boot Loader
        // Specification recommends when both exist). systemd also reads the GPT partition type;
        // here a second boot file system at /boot beside an ESP at /efi is taken as XBOOTLDR.
        let xbootldr = xbootldr.map(Path::to_path_buf).or_else(|| {
            let esp_at_efi = esp.as_deref() == Some(Path::new("/efi"));
            (esp_at_efi && acceptable("/boot") && !same_file_system(root, "/efi", "/boot"))
                .then(|| PathBuf::from("/boot"))
        });
        Self {
            root: root.to_path_buf(),
            esp,
            xbootldr,
        }
    }

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

    /// A path inside the root as a path on disk.
    pub fn on_disk(&self, in_root: &Path) -> PathBuf {
        self.root.join(in_root.strip_prefix("/").unwrap_or(in_root))
    }

    /// The helper's state directory (history, journal, pins), on disk.
    pub fn state_dir(&self) -> PathBuf {
        self.root.join(crate::transaction::STATE_DIR)
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

/// Whether two directories of the root are on the same file system (device).
fn same_file_system(root: &Path, a: &str, b: &str) -> bool {
    use std::os::unix::fs::MetadataExt;
    let device = |p: &str| {
        std::fs::metadata(root.join(p.trim_start_matches('/')))
            .map(|m| m.dev())
            .ok()
    };
    device(a).is_some() && device(a) == device(b)
}

/// The file system type of the mount that holds `path`, from `/proc/self/mountinfo`
/// (`fuse.fusefat` for a FUSE mount, unlike statfs).
fn fs_type(path: &Path) -> Option<String> {
    let path = std::fs::canonicalize(path).ok()?;
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let mut best: Option<(usize, String)> = None;
    for line in mountinfo.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let Some(separator) = fields.iter().position(|f| *f == "-") else {
            continue;
        };
        let (Some(mount_point), Some(fs)) = (fields.get(4), fields.get(separator + 1)) else {
            continue;
        };
        let mount_point = mount_point
            .replace("\\040", " ")
            .replace("\\011", "\t")
            .replace("\\134", "\\");
        if path.starts_with(&mount_point) {
            let depth = mount_point.len();
            if best.as_ref().is_none_or(|(d, _)| depth >= *d) {
                best = Some((depth, (*fs).to_string()));
            }
        }
    }
    best.map(|(_, fs)| fs)
}

/// Instances of one transfer under its target directory. A missing directory has none.
pub fn instances(layout: &Layout, transfer: &Transfer) -> Result<Vec<Instance>, EngineError> {
    let Some(dir_in_root) = layout.target_dir(transfer) else {
        return Err(EngineError::NoBootPartition {
            file: transfer.file.clone(),
            root: layout.root.clone(),
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
        let Some(fields) = crate::pattern::match_first(&transfer.target.patterns, name) else {
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
pub fn inventory(
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
                obsolete: crate::catalog::is_obsolete(&active, &version),
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
