//! The plan of an update, worked out before anything is written: which version, which files go
//! where under which names, which whole old versions are removed first (never the booted or a
//! protected one), and whether every file system has the room. Pure: sizes and free space come
//! in as values, so that every decision can be printed and tested.

use crate::SystemState;
use crate::definitions::Transfer;
use crate::delta::rebuild::Prediction;
use crate::installed::inventory::{InstalledVersion, Layout};
use crate::source::catalog::{Catalog, Offer};
use crate::source::compression::Compression;
use crate::source::fetch::FileSizes;
use serde::Serialize;
use std::path::PathBuf;

/// Room kept free on every file system beyond what the files need, in bytes.
pub const MARGIN_BYTES: u64 = 1024 * 1024;

/// One file to install.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedFile {
    /// The transfer.
    pub transfer: String,
    /// Where it comes from.
    pub source: Offer,
    /// The target directory, inside the root.
    pub target_dir: PathBuf,
    /// The final name, from the first target pattern (with the boot counter for UKIs).
    pub final_name: String,
    /// The hidden name it is written under until the commit.
    pub temp_name: String,
    /// Its size in bytes once installed (unpacked).
    pub size_bytes: u64,
    /// Bytes to download (less than `size_bytes` for a compressed source).
    pub download_bytes: u64,
    /// How the source file is compressed (by its suffix), if it is.
    pub compression: Option<Compression>,
    /// Access mode of the installed file (`Mode=`, without write bits for `ReadOnly=yes`).
    pub mode: u32,
    /// What a delta would fetch, when an index of it comes first and installed images seed it
    /// (filled by `update::delta::estimate`; none: the whole file is downloaded).
    pub delta: Option<Prediction>,
}

/// A whole installed version removed before the new one is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Removal {
    /// The version.
    pub version: String,
    /// Its files, inside the root, in removal order: the boot entry (UKI) first.
    pub files: Vec<PathBuf>,
    /// Bytes it frees.
    pub size_bytes: u64,
}

/// The room on one file system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Room {
    /// A target directory on it, inside the root (e.g. `/efi/EFI/Linux`).
    pub target_dir: PathBuf,
    /// Whether it is the EFI system partition (or XBOOTLDR).
    pub boot_partition: bool,
    /// Bytes the new files need.
    pub needed_bytes: u64,
    /// Bytes the removals free on it.
    pub freed_bytes: u64,
    /// Bytes free now.
    pub available_bytes: u64,
}

/// Everything an update will do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// The version to install.
    pub version: String,
    /// Files in transfer order (the boot entry last).
    pub files: Vec<PlannedFile>,
    /// Versions removed first, oldest first.
    pub removals: Vec<Removal>,
    /// Bytes of the whole files at the sources.
    pub download_bytes: u64,
    /// Bytes expected on the wire: the whole files, less what deltas take from installed
    /// images (uncompressed chunk bytes, so at most this much).
    pub fetch_bytes: u64,
    /// Room per file system.
    pub room: Vec<Room>,
}

/// Why no plan could be made. Nothing has been written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// No version to install.
    #[error("the system is up to date: no newer version is offered")]
    UpToDate,
    /// The named version is not offered.
    #[error("version {0} is not offered by the update sources")]
    NotOffered(String),
    /// The named version is offered only in part.
    #[error("version {version} is offered without {}: it cannot be installed", missing.join(", "))]
    OfferedInPart {
        /// The version.
        version: String,
        /// Transfers with no file.
        missing: Vec<String>,
    },
    /// The named version is installed already.
    #[error("version {0} is installed already")]
    AlreadyInstalled(String),
    /// The candidate is held back (rolled back from, or failed to boot).
    #[error(
        "version {0} is held back because the system was rolled back from it or it failed to boot; install it by name to take it again"
    )]
    HeldBack(String),
    /// A target pattern cannot name a new file.
    #[error(
        "{file}: the first MatchPattern= of [Target] cannot name a new file (it needs wildcards other than @v, @l and @d)"
    )]
    Unnameable {
        /// The definition file.
        file: String,
    },
    /// The version is older than a transfer's `MinVersion=`.
    #[error(
        "version {0} is older than the MinVersion= of the update definitions: it is retired and is not installed"
    )]
    Obsolete(String),
    /// The size of a file could not be learned.
    #[error("the size of {0} is unknown; the mirror did not say")]
    UnknownSize(String),
    /// A file system lacks room even after the allowed removals (or its room is unknown).
    #[error("{0}")]
    NoRoom(NoRoom),
    /// Room would have to be made by removing an installed version, on the strength of a size
    /// only the mirror vouches for (sizes are not signed) that the installed files contradict.
    #[error(
        "{url} is said to be {claimed_bytes} bytes, more than twice the largest installed file of its kind ({installed_bytes} bytes); no installed version is removed to make room for a size only the mirror vouches for"
    )]
    ImplausibleSize {
        /// The file.
        url: String,
        /// The size the mirror claims, once installed.
        claimed_bytes: u64,
        /// The largest installed file of the same transfer.
        installed_bytes: u64,
    },
}

/// Why the new files do not fit, as values (the service hands them to clients as fields, for a
/// sentence in the person's language); shown in English as before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoRoom {
    /// A file system lacks room even after the allowed removals.
    Short {
        /// The directory the files go to, on that file system (inside the root).
        dir: PathBuf,
        /// The file system is the EFI system partition (or XBOOTLDR).
        boot_partition: bool,
        /// Bytes the new files need there, with the margin kept free.
        needed_bytes: u64,
        /// Bytes free there, with what the planned removals free.
        available_bytes: u64,
        /// The oldest version that may be removed to make room (none: every other version is
        /// in use or protected).
        remove: Option<String>,
    },
    /// How much room a file system has cannot be learned.
    Unknown {
        /// The directory.
        dir: PathBuf,
    },
    /// A transfer's target is on the EFI system partition, which is not mounted.
    NoBootPartition {
        /// The transfer's definition file.
        file: String,
    },
}

impl NoRoom {
    /// Bytes missing (0 unless [`NoRoom::Short`]).
    pub fn missing_bytes(&self) -> u64 {
        match self {
            Self::Short {
                needed_bytes,
                available_bytes,
                ..
            } => needed_bytes.saturating_sub(*available_bytes),
            _ => 0,
        }
    }
}

impl std::fmt::Display for NoRoom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Short {
                dir,
                boot_partition,
                remove,
                ..
            } => {
                let what = if *boot_partition {
                    format!("the EFI system partition ({})", dir.display())
                } else {
                    format!("the file system of {}", dir.display())
                };
                let advice = match remove {
                    Some(version) => format!("remove version {version} or enlarge the partition"),
                    None => "enlarge the partition (every other version is in use or protected)"
                        .to_string(),
                };
                write!(
                    f,
                    "{what} needs {} more: {advice}",
                    human(self.missing_bytes())
                )
            }
            Self::Unknown { dir } => write!(f, "cannot tell how much room {} has", dir.display()),
            Self::NoBootPartition { file } => {
                write!(f, "{file}: the EFI system partition is not mounted")
            }
        }
    }
}

/// A size the mirror claims may exceed the largest installed file of its transfer by this
/// factor (and [`IMPLAUSIBLE_SLACK_BYTES`]) before it is no reason to remove a version first.
pub const IMPLAUSIBLE_FACTOR: u64 = 2;
/// See [`IMPLAUSIBLE_FACTOR`].
pub const IMPLAUSIBLE_SLACK_BYTES: u64 = 64 * 1024 * 1024;

/// Removing versions before the new files are downloaded (when they would not fit beside
/// them) rests on sizes from the mirror, which no signature covers: refuse it when a claimed
/// size is far beyond any installed file of the same transfer (docs/lifecycle.md).
fn check_plausible(files: &[PlannedFile], state: &SystemState) -> Result<(), PlanError> {
    for file in files {
        let largest = state
            .inventory
            .versions
            .iter()
            .flat_map(|v| &v.instances)
            .filter(|i| i.transfer == file.transfer)
            .map(|i| i.size_bytes)
            .max();
        if let Some(installed) = largest
            && file.size_bytes
                > installed
                    .saturating_mul(IMPLAUSIBLE_FACTOR)
                    .saturating_add(IMPLAUSIBLE_SLACK_BYTES)
        {
            return Err(PlanError::ImplausibleSize {
                url: file.source.location.clone(),
                claimed_bytes: file.size_bytes,
                installed_bytes: installed,
            });
        }
    }
    Ok(())
}

/// What the planner needs to know about the outside world.
pub struct Facts<'a> {
    /// Sizes of an offered file (download, installed).
    pub size_of: &'a dyn Fn(&Offer) -> Option<FileSizes>,
    /// File system of a directory inside the root: an identity and the bytes available.
    pub file_system_of: &'a dyn Fn(&PathBuf) -> Option<(u64, u64)>,
    /// Size in bytes of an installed file.
    pub installed_size: &'a dyn Fn(&PathBuf) -> u64,
}

fn human(bytes: u64) -> String {
    let mb = bytes.div_ceil(1_000_000);
    format!("{mb} MB")
}

/// Plans the installation of `wanted` (or the candidate).
pub fn make(
    state: &SystemState,
    catalog: &Catalog,
    layout: &Layout,
    wanted: Option<&str>,
    facts: &Facts<'_>,
) -> Result<Plan, PlanError> {
    let version = match wanted {
        Some(v) => v.to_string(),
        None => catalog.candidate.clone().ok_or(PlanError::UpToDate)?,
    };
    if wanted.is_none() && state.lifecycle.held_back.contains(&version) {
        return Err(PlanError::HeldBack(version));
    }
    let offered = catalog
        .versions
        .iter()
        .find(|v| v.version == version)
        .ok_or_else(|| PlanError::NotOffered(version.clone()))?;
    // MinVersion= holds for a version named by hand too: it is how a vendor retires versions
    // with known holes, and an old signed version is exactly what a downgrade attack offers.
    if offered.obsolete {
        return Err(PlanError::Obsolete(version));
    }
    if !offered.complete {
        return Err(PlanError::OfferedInPart {
            version,
            missing: offered.missing_transfers.clone(),
        });
    }
    if state
        .inventory
        .versions
        .iter()
        .any(|v| v.version == version && v.complete)
    {
        return Err(PlanError::AlreadyInstalled(version));
    }
    let active: Vec<&Transfer> = state.definitions.active().collect();
    let mut files = Vec::new();
    for transfer in &active {
        let Some(offer) = offered.files.iter().find(|f| f.transfer == transfer.name) else {
            continue;
        };
        let target = &transfer.target;
        let pattern = target
            .patterns
            .first()
            .ok_or_else(|| PlanError::Unnameable {
                file: transfer.file.display().to_string(),
            })?;
        let final_name = pattern
            .format(&version, target.tries_left, target.tries_done)
            .or_else(|| pattern.format(&version, None, None))
            .ok_or_else(|| PlanError::Unnameable {
                file: transfer.file.display().to_string(),
            })?;
        let target_dir = layout.target_dir(transfer).ok_or_else(|| {
            PlanError::NoRoom(NoRoom::NoBootPartition {
                file: transfer.file.display().to_string(),
            })
        })?;
        let mut mode = target.mode.unwrap_or(0o644);
        if target.read_only == Some(true) {
            mode &= !0o222;
        }
        let sizes =
            (facts.size_of)(offer).ok_or_else(|| PlanError::UnknownSize(offer.location.clone()))?;
        files.push(PlannedFile {
            transfer: transfer.name.clone(),
            source: offer.clone(),
            target_dir,
            temp_name: format!(".#update-center.{final_name}"),
            final_name,
            size_bytes: sizes.installed,
            download_bytes: sizes.download,
            compression: Compression::of_name(&offer.name),
            mode,
            delta: None,
        });
    }
    let removals = removals(state, &active, &version, facts);
    let room = room(&files, &removals, layout, facts)?;
    check_room(&room, state, &removals)?;
    if !removals.is_empty() && needs_room_first(&room) {
        check_plausible(&files, state)?;
    }
    let download_bytes = files
        .iter()
        .fold(0u64, |sum, f| sum.saturating_add(f.download_bytes));
    Ok(Plan {
        download_bytes,
        fetch_bytes: download_bytes,
        version,
        files,
        removals,
        room,
    })
}

impl Plan {
    /// Sets each file's delta prediction (in file order) and the bytes expected on the wire.
    pub fn with_deltas(mut self, deltas: Vec<Option<Prediction>>) -> Self {
        for (file, delta) in self.files.iter_mut().zip(deltas) {
            file.delta = delta;
        }
        self.fetch_bytes = self.files.iter().fold(0u64, |sum, f| {
            sum.saturating_add(f.delta.map_or(f.download_bytes, |d| d.to_fetch_bytes))
        });
        self
    }

    /// Whether some file system can hold the new files only after the removals.
    pub fn needs_room_first(&self) -> bool {
        needs_room_first(&self.room)
    }
}

fn needs_room_first(rooms: &[Room]) -> bool {
    rooms
        .iter()
        .any(|r| r.needed_bytes.saturating_add(MARGIN_BYTES) > r.available_bytes)
}

/// Versions that may be removed: not booted, not protected, not pinned, not the default boot
/// entry, not the entry of the next boot.
fn removable(v: &InstalledVersion, state: &SystemState) -> bool {
    !v.booted
        && !v.protected
        && !v.pinned
        && !v.default
        && state.boot.next_version() != Some(v.version.as_str())
}

/// The smallest `InstancesMax=` of the active transfers: how many versions may be installed.
fn instances_max(active: &[&Transfer]) -> usize {
    let limit = active
        .iter()
        .map(|t| t.target.instances_max)
        .min()
        .unwrap_or(2);
    usize::try_from(limit).unwrap_or(usize::MAX)
}

/// Whole versions `vacuum` removes: the oldest, until at most `InstancesMax` remain.
pub fn vacuum(state: &SystemState, facts: &Facts<'_>) -> Vec<Removal> {
    let active: Vec<&Transfer> = state.definitions.active().collect();
    oldest_beyond(state, &active, "", instances_max(&active), facts)
}

/// Oldest whole versions to remove so that at most `InstancesMax - 1` remain before the new one
/// arrives.
fn removals(
    state: &SystemState,
    active: &[&Transfer],
    new_version: &str,
    facts: &Facts<'_>,
) -> Vec<Removal> {
    oldest_beyond(
        state,
        active,
        new_version,
        instances_max(active).saturating_sub(1),
        facts,
    )
}

/// The oldest removable versions beyond the newest `keep` (not counting `new_version`).
fn oldest_beyond(
    state: &SystemState,
    active: &[&Transfer],
    new_version: &str,
    keep: usize,
    facts: &Facts<'_>,
) -> Vec<Removal> {
    let installed: Vec<&InstalledVersion> = state
        .inventory
        .versions
        .iter()
        .filter(|v| v.version != new_version)
        .collect();
    let mut excess = installed.len().saturating_sub(keep);
    let mut out = Vec::new();
    // Oldest first: the inventory is newest first.
    for v in installed.iter().rev() {
        if excess == 0 {
            break;
        }
        if !removable(v, state) {
            continue;
        }
        out.push(removal_of(v, active, facts));
        excess -= 1;
    }
    out
}

/// A version's files in removal order: the last transfer (the boot entry) first.
pub fn removal_of(v: &InstalledVersion, active: &[&Transfer], facts: &Facts<'_>) -> Removal {
    let mut instances = v.instances.clone();
    instances.sort_by_key(|i| std::cmp::Reverse(active.iter().position(|t| t.name == i.transfer)));
    Removal {
        version: v.version.clone(),
        size_bytes: instances.iter().fold(0u64, |sum, i| {
            sum.saturating_add((facts.installed_size)(&i.path))
        }),
        files: instances.into_iter().map(|i| i.path).collect(),
    }
}

fn room(
    files: &[PlannedFile],
    removals: &[Removal],
    layout: &Layout,
    facts: &Facts<'_>,
) -> Result<Vec<Room>, PlanError> {
    let mut rooms: Vec<(u64, Room)> = Vec::new();
    // Each file on its target; a compressed one also in the download cache until unpacked.
    let cache = std::path::Path::new("/").join(crate::layout::PARTIAL_DIR);
    let needs = files.iter().flat_map(|file| {
        let download = file
            .compression
            .map(|_| (cache.clone(), file.download_bytes));
        std::iter::once((file.target_dir.clone(), file.size_bytes)).chain(download)
    });
    for (dir, bytes) in needs {
        let (id, available) = (facts.file_system_of)(&dir)
            .ok_or_else(|| PlanError::NoRoom(NoRoom::Unknown { dir: dir.clone() }))?;
        let boot_partition = [&layout.esp, &layout.xbootldr]
            .into_iter()
            .flatten()
            .any(|p| dir.starts_with(p));
        match rooms.iter_mut().find(|(i, _)| *i == id) {
            // Sizes come from the mirror: a sum that would wrap saturates, and then never fits.
            Some((_, room)) => room.needed_bytes = room.needed_bytes.saturating_add(bytes),
            None => rooms.push((
                id,
                Room {
                    target_dir: dir,
                    boot_partition,
                    needed_bytes: bytes,
                    freed_bytes: 0,
                    available_bytes: available,
                },
            )),
        }
    }
    for removal in removals {
        for path in &removal.files {
            let dir = path.parent().map(PathBuf::from).unwrap_or_default();
            if let Some((id, _)) = (facts.file_system_of)(&dir)
                && let Some((_, room)) = rooms.iter_mut().find(|(i, _)| *i == id)
            {
                room.freed_bytes = room
                    .freed_bytes
                    .saturating_add((facts.installed_size)(path));
            }
        }
    }
    Ok(rooms.into_iter().map(|(_, r)| r).collect())
}

/// Refuses, before any write, a plan a file system cannot hold, saying what would help.
fn check_room(rooms: &[Room], state: &SystemState, removals: &[Removal]) -> Result<(), PlanError> {
    for room in rooms {
        let have = room.available_bytes.saturating_add(room.freed_bytes);
        let need = room.needed_bytes.saturating_add(MARGIN_BYTES);
        if need <= have {
            continue;
        }
        let next = state
            .inventory
            .versions
            .iter()
            .rev()
            .find(|v| removable(v, state) && !removals.iter().any(|r| r.version == v.version));
        return Err(PlanError::NoRoom(NoRoom::Short {
            dir: room.target_dir.clone(),
            boot_partition: room.boot_partition,
            needed_bytes: need,
            available_bytes: have,
            remove: next.map(|v| v.version.clone()),
        }));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
