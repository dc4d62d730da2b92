//! A verified mirror for air-gapped sites: the newest versions of a source, copied into a
//! folder (a stick, a directory any static web server publishes), verified on the way in.
//!
//! The source's `SHA256SUMS` must carry a good signature by a key of the system's keyring,
//! whatever `Verify=` says; every file must match its line in that list, and every chunk of a
//! chunk store its id. Files arrive in `TO/.incoming/` (kept there when a run is interrupted,
//! so that the next one resumes), and are published only when all of them are verified: the
//! files first, the signed list and its signature last, so that a client never sees a list
//! naming files that are not there yet. The list and its signature are the source's own,
//! unchanged (they stay verifiable); it may name older versions than the ones kept, which a
//! client never picks while a newer complete one is offered.

use crate::SystemState;
use crate::delta::index::{ChunkId, Index};
use crate::layout::Layout;
use crate::ops::error::OpError;
use crate::source::catalog::{self, CatalogError};
use crate::source::fetch::{Fetcher, Location};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

/// What a mirror run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Mirrored {
    /// The versions kept, newest first.
    pub versions: Vec<String>,
    /// Files published.
    pub files: usize,
    /// Bytes downloaded this run (files and chunks; resumed bytes not counted again).
    pub downloaded_bytes: u64,
    /// Chunks in the store (those the kept indexes need).
    pub chunks: usize,
    /// Files and chunks removed: older versions, chunks no kept index needs.
    pub removed: usize,
}

const INCOMING: &str = ".incoming";
const STORE: &str = "store";

/// Where `from` is: an http(s) URL, or a folder inside the root.
fn source_location(from: &str, root: &Path) -> Result<Location, OpError> {
    if from.starts_with("https://") || from.starts_with("http://") {
        let base = if from.ends_with('/') {
            from.to_string()
        } else {
            format!("{from}/")
        };
        return Ok(Location::Http(base));
    }
    if from.starts_with('/') && !from.split('/').any(|p| p == "..") {
        return Ok(Location::Dir {
            root: root.to_path_buf(),
            folder: PathBuf::from(from.trim_start_matches('/')),
            shown: from.to_string(),
        });
    }
    Err(OpError::InvalidArgument(format!(
        "{from}: expected an http(s) URL or an absolute folder"
    )))
}

fn io(what: &str, path: &Path) -> impl FnOnce(std::io::Error) -> OpError {
    let text = format!("cannot {what} {}", path.display());
    move |e| OpError::Refused(format!("{text}: {e}"))
}

/// Copies the newest `keep` complete versions offered at `from` into the folder `to`.
pub fn mirror(
    layout: &Layout,
    fetcher: &Fetcher,
    from: &str,
    to: &Path,
    keep: usize,
    cancel: &AtomicBool,
) -> Result<Mirrored, OpError> {
    if keep == 0 {
        return Err(OpError::InvalidArgument("keep at least one version".into()));
    }
    let location = source_location(from, &layout.root)?;
    // Files beside the list are removed when no kept version needs them: a folder that holds
    // other things is never taken for a mirror.
    let is_mirror = to.join("SHA256SUMS").exists() || to.join(INCOMING).exists();
    let has_entries = std::fs::read_dir(to).is_ok_and(|mut d| d.next().is_some());
    if has_entries && !is_mirror {
        return Err(OpError::Refused(format!(
            "{} is not empty and holds no mirror (no SHA256SUMS): choose an empty folder or an earlier mirror",
            to.display()
        )));
    }
    let state: SystemState = crate::read_system(layout)?;
    // The system's transfers, reading `from`, and always verified.
    let mut definitions = state.definitions.clone();
    for transfer in &mut definitions.transfers {
        transfer.verify = true;
        transfer.source.path = from.to_string();
        transfer.source.kind = match location {
            Location::Http(_) => crate::definitions::SourceType::UrlFile,
            Location::Dir { .. } => crate::definitions::SourceType::RegularFile,
        };
    }
    let catalog = catalog::check(&definitions, &state.inventory, &layout.root, fetcher)?;
    let kept: Vec<&catalog::AvailableVersion> = catalog
        .versions
        .iter()
        .filter(|v| v.complete && !v.obsolete)
        .take(keep)
        .collect();
    if kept.is_empty() {
        return Err(OpError::Refused(format!(
            "{from} offers no complete version to mirror"
        )));
    }
    // The list and its signature exactly as verified by the catalog.
    let sums = fetcher
        .get(&location, "SHA256SUMS", crate::format::sums::MAX_BYTES)?
        .ok_or_else(|| CatalogError::NoSums {
            location: from.to_string(),
        })?;
    let signature = fetcher
        .get(&location, "SHA256SUMS.gpg", 64 * 1024)?
        .ok_or_else(|| OpError::Refused(format!("{from} has no SHA256SUMS.gpg")))?;
    // The catalog read the list a moment ago; the one published must be that one.
    let (_, certs) = crate::source::signature::installed_keyring(&layout.root)
        .map_err(|e| OpError::Refused(format!("cannot read the system's keyring: {e}")))?;
    crate::source::signature::verify_detached(&certs, &sums, &signature).map_err(|e| {
        OpError::Refused(format!(
            "{from}SHA256SUMS is not signed by a trusted key: {e}"
        ))
    })?;

    let incoming = to.join(INCOMING);
    crate::fsutil::create_private_dir_all(&incoming).map_err(io("create", &incoming))?;
    let mut report = Mirrored {
        versions: kept.iter().map(|v| v.version.clone()).collect(),
        ..Mirrored::default()
    };
    let mut names: Vec<String> = Vec::new();
    let mut indexes: Vec<Index> = Vec::new();
    for version in &kept {
        for offer in &version.files {
            names.push(offer.name.clone());
            let published = to.join(&offer.name);
            let verified_there =
                crate::fsutil::sha256_of(&published).is_ok_and(|sha256| sha256 == offer.sha256);
            let path = if verified_there {
                published
            } else {
                report.downloaded_bytes +=
                    fetch_file(fetcher, &location, offer, &incoming, cancel)?;
                incoming.join(&offer.name)
            };
            if offer.name.ends_with(".caibx") {
                let bytes = std::fs::read(&path).map_err(io("read", &path))?;
                match Index::parse(&bytes) {
                    Ok(index) => indexes.push(index),
                    Err(e) => {
                        return Err(OpError::Refused(format!(
                            "{}: a signed index that does not read ({e}); not mirrored",
                            offer.location
                        )));
                    }
                }
            }
        }
    }
    // The chunks the kept indexes need, from the store beside the images (when there is one).
    let needed: BTreeSet<ChunkId> = indexes
        .iter()
        .flat_map(|i| i.chunks.iter().map(|c| c.id))
        .collect();
    let store_location = location.folder(STORE);
    let sizes: std::collections::HashMap<ChunkId, u64> = indexes
        .iter()
        .flat_map(|i| i.chunks.iter().map(|c| (c.id, c.size)))
        .collect();
    // A source without a store answers 404 for the first chunk; one with a store must have
    // every chunk.
    let mut store_missing = false;
    let mut store_seen = needed
        .iter()
        .any(|id| to.join(STORE).join(id.store_path()).exists());
    for id in &needed {
        if cancel.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(OpError::Cancelled("the mirror was cancelled".into()));
        }
        let name = id.store_path();
        if to.join(STORE).join(&name).exists() || incoming.join(STORE).join(&name).exists() {
            continue;
        }
        let Some(stored) = fetcher.get(&store_location, &name, 16 * 1024 * 1024)? else {
            if !store_seen {
                // No store at the source: clients use range requests of the images.
                store_missing = true;
                break;
            }
            return Err(OpError::Refused(format!(
                "{} is missing from the source's chunk store; not mirrored",
                store_location.display(&name)
            )));
        };
        let size = sizes.get(id).copied().unwrap_or(0);
        let unpacked = zstd::bulk::decompress(&stored, size as usize).ok();
        if unpacked.as_deref().map(ChunkId::of) != Some(*id) {
            return Err(OpError::Refused(format!(
                "{} does not match its id; not mirrored",
                store_location.display(&name)
            )));
        }
        let path = incoming.join(STORE).join(&name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io("create", dir))?;
        }
        crate::fsutil::write_atomically(&path, &stored).map_err(io("write", &path))?;
        report.downloaded_bytes += stored.len() as u64;
        store_seen = true;
    }
    if !store_missing {
        report.chunks = needed.len();
    }

    // Everything is verified: publish the files, then the chunks, then the list.
    for name in &names {
        let from = incoming.join(name);
        if from.exists() {
            publish(&from, &to.join(name))?;
        }
        report.files += 1;
    }
    for id in &needed {
        let name = id.store_path();
        let from = incoming.join(STORE).join(&name);
        if from.exists() {
            let target = to.join(STORE).join(&name);
            if let Some(dir) = target.parent() {
                std::fs::create_dir_all(dir).map_err(io("create", dir))?;
                public(dir, 0o755)?;
            }
            public(&to.join(STORE), 0o755)?;
            publish(&from, &target)?;
        }
    }
    write_public(&to.join("SHA256SUMS.gpg"), &signature)?;
    write_public(&to.join("SHA256SUMS"), &sums)?;
    report.removed = prune(to, &names, &needed)?;
    let _ = std::fs::remove_dir_all(&incoming);
    Ok(report)
}

/// Downloads one offered file into `incoming` (resuming what an earlier run left), verified
/// against its SHA-256; the bytes downloaded now.
fn fetch_file(
    fetcher: &Fetcher,
    location: &Location,
    offer: &catalog::Offer,
    incoming: &Path,
    cancel: &AtomicBool,
) -> Result<u64, OpError> {
    let path = incoming.join(&offer.name);
    let size = fetcher.size(location, &offer.name)?;
    let kept = std::fs::metadata(&path)
        .map(|m| m.len())
        .unwrap_or(0)
        .min(size);
    let mut out = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io("create", &path))?;
    out.set_len(kept).map_err(io("write", &path))?;
    let (sha256, total) = fetcher.download(
        location,
        &offer.name,
        &mut out,
        kept,
        size,
        cancel,
        &mut |_| {},
    )?;
    if sha256 != offer.sha256 || total != size {
        let _ = std::fs::remove_file(&path);
        return Err(OpError::Refused(format!(
            "{} does not match its SHA-256 in the signed SHA256SUMS (expected {}, got {sha256}); nothing was published",
            offer.location, offer.sha256
        )));
    }
    out.sync_all().map_err(io("sync", &path))?;
    Ok(total - kept)
}

fn public(path: &Path, mode: u32) -> Result<(), OpError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(io("set the mode of", path))
}

/// Moves a verified file into place, readable by a web server.
fn publish(from: &Path, to: &Path) -> Result<(), OpError> {
    public(from, 0o644)?;
    crate::fsutil::rename_durably(from, to).map_err(io("publish", to))
}

fn write_public(path: &Path, bytes: &[u8]) -> Result<(), OpError> {
    crate::fsutil::write_atomically(path, bytes).map_err(io("write", path))?;
    public(path, 0o644)
}

/// Removes what no kept version needs: other files beside the list (older versions) and
/// chunks no kept index names. Hidden files and folders are left alone.
fn prune(to: &Path, names: &[String], needed: &BTreeSet<ChunkId>) -> Result<usize, OpError> {
    let mut removed = 0;
    let keep: BTreeSet<&str> = names
        .iter()
        .map(String::as_str)
        .chain(["SHA256SUMS", "SHA256SUMS.gpg"])
        .collect();
    for entry in std::fs::read_dir(to).map_err(io("read", to))?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !entry.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        if !keep.contains(name.as_str()) && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    let wanted: BTreeSet<String> = needed.iter().map(ChunkId::store_path).collect();
    let store = to.join(STORE);
    for dir in std::fs::read_dir(&store).into_iter().flatten().flatten() {
        for chunk in std::fs::read_dir(dir.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = format!(
                "{}/{}",
                dir.file_name().to_string_lossy(),
                chunk.file_name().to_string_lossy()
            );
            if !wanted.contains(&name) && std::fs::remove_file(chunk.path()).is_ok() {
                removed += 1;
            }
        }
    }
    Ok(removed)
}
