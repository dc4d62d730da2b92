//! Deltas in an update. When a planned image has its casync index planned before it (KDE
//! Linux's `50-root-x86-64-caibx` before `50-root-x86-64-erofs`), the image is rebuilt from the
//! chunks of the installed images (each with its index beside it) and only the rest is
//! fetched: from a chunk store, or as range requests of the image on the mirror. Whatever goes
//! wrong (no index, an index that does not read or does not fit, a store that fails, a server
//! without ranges, a result that does not match the signed `SHA256SUMS`) ends in a full
//! download with the reason said, never in a failed update.
//!
//! The rebuild is written in the partial-download cache as `<sha256>.delta`, so that a run
//! that is killed, cut off or cancelled keeps every chunk it verified for the next one.

use crate::delta::index::{ChunkId, Index};
use crate::delta::rebuild::{self, Prediction, RebuildError, Remote, Seed};
use crate::layout::Layout;
use crate::settings::DeltaStore;
use crate::source::catalog::location_of;
use crate::source::fetch::{Fetcher, Location, throttle_delay};
use crate::update::plan::{Plan, PlannedFile};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

/// The largest index read: 40 bytes a chunk, so a 100 GB image at 64 KiB chunks.
pub const MAX_INDEX_BYTES: usize = 64 * 1024 * 1024;

/// Requests in flight at once (fewer when large chunks would hold too much memory).
pub const WORKERS: usize = 8;

/// The folder of the chunk store beside the images, KDE Linux's layout.
pub const STORE_BESIDE: &str = "store";

/// Which earlier planned file is the index of the image planned as file `n`: one in the same
/// target directory named like it with `.caibx` added, as KDE Linux installs them.
pub fn index_for(files: &[PlannedFile], n: usize) -> Option<usize> {
    let image = files.get(n)?;
    if image.compression.is_some() {
        return None;
    }
    let name = format!("{}.caibx", image.final_name);
    files[..n]
        .iter()
        .position(|f| f.target_dir == image.target_dir && f.final_name == name)
}

/// Every installed image in `dir` (inside the root) with a readable index beside it that
/// describes it: the seeds of a rebuild. Hidden files and links are never seeds.
pub fn seeds(layout: &Layout, dir: &Path) -> Vec<Seed> {
    let Ok(entries) = std::fs::read_dir(layout.on_disk(dir)) else {
        return Vec::new();
    };
    let mut seeds: Vec<Seed> = entries
        .flatten()
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            !name.starts_with('.')
                && !name.ends_with(".caibx")
                && e.file_type().is_ok_and(|t| t.is_file())
        })
        .filter_map(|e| Seed::beside(&e.path()))
        .collect();
    // Newest names first: a newer image shares more with the next one.
    seeds.sort_by(|a, b| b.path.cmp(&a.path));
    seeds
}

/// Reads and checks an index for an image of `image_bytes` bytes.
fn read_index(bytes: &[u8], image_bytes: u64) -> Result<Index, String> {
    let index = Index::parse(bytes).map_err(|e| format!("its chunk index cannot be read: {e}"))?;
    if index.blob_size() != image_bytes {
        return Err(format!(
            "its chunk index describes {} bytes, but the image has {image_bytes}",
            index.blob_size()
        ));
    }
    Ok(index)
}

/// What a delta of every planned file would fetch: the index of each image is fetched (and
/// checked against the signed `SHA256SUMS`) and compared with the installed images. None for
/// a file without an index, when deltas are off, or when anything fails (the download is then
/// whole, and the estimate says so).
pub fn estimate(
    plan: &Plan,
    layout: &Layout,
    fetcher: &Fetcher,
    store: &DeltaStore,
) -> Vec<Option<Prediction>> {
    (0..plan.files.len())
        .map(|n| {
            if *store == DeltaStore::Off {
                return None;
            }
            let image = &plan.files[n];
            let index_file = &plan.files[index_for(&plan.files, n)?];
            let source = &index_file.source;
            let bytes = fetcher
                .get(&location_of(source), &source.name, MAX_INDEX_BYTES)
                .ok()??;
            if crate::fsutil::sha256_hex(&bytes) != source.sha256 {
                return None;
            }
            let index = read_index(&bytes, image.download_bytes).ok()?;
            let seeds = seeds(layout, &image.target_dir);
            Some(rebuild::predict(&index, &seeds))
        })
        .collect()
}

/// Why a delta gave way to the whole file: a kind of
/// [`FALLBACK_KINDS`](update_center_client::FALLBACK_KINDS) with its fields, which a client says
/// in the person's language, and the English, with the causes, for logs and scripts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Why {
    /// The kind and its fields.
    pub details: crate::error::ErrorDetails,
    /// The same in English, with the underlying error.
    pub text: String,
}

impl Why {
    /// A reason of `kind` with `fields`, in English `text`.
    pub fn new(kind: &str, fields: &[(&str, String)], text: impl Into<String>) -> Self {
        Self {
            details: crate::error::ErrorDetails::new(kind, fields),
            text: text.into(),
        }
    }

    /// Deltas are switched off.
    pub fn off() -> Self {
        Self::new("off", &[], "deltas are off ([Delta] Store=off)")
    }

    /// Several places failed one after the other: the last one's kind (the one that decided),
    /// the English of all.
    fn all(reasons: Vec<Why>) -> Self {
        let text = reasons
            .iter()
            .map(|r| r.text.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        let details = reasons
            .into_iter()
            .last()
            .map(|r| r.details)
            .unwrap_or_default();
        Self { details, text }
    }
}

/// How a delta ended that did not rebuild the image.
#[derive(Debug)]
pub enum Failure {
    /// The whole file is downloaded instead, for this reason.
    Fallback(Why),
    /// Cancelled: the verified chunks stay in the cache for the next run.
    Cancelled,
}

/// A rebuilt image: where its bytes came from.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Rebuilt {
    /// Bytes copied from installed images (or kept from an interrupted run).
    pub seed_bytes: u64,
    /// Bytes fetched from a chunk store (on the wire: compressed).
    pub store_bytes: u64,
    /// Bytes fetched by range requests of the image.
    pub range_bytes: u64,
    /// Places that failed before another one served the rest (empty when the first did).
    pub notes: String,
}

/// Where the partial rebuild of the file with `sha256` is kept between runs.
pub fn partial_path(partial_dir: &Path, sha256: &str) -> PathBuf {
    partial_dir.join(format!("{sha256}.delta"))
}

/// The places chunks come from, in the order tried.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Place {
    Store(Location),
    Ranges,
}

/// The places to try for an image at `image`, on the system under `root`.
fn places(store: &DeltaStore, image: &Location, root: &Path) -> Vec<Place> {
    let beside = || image.folder(STORE_BESIDE);
    match store {
        DeltaStore::Off => Vec::new(),
        DeltaStore::Ranges => vec![Place::Ranges],
        DeltaStore::Beside => vec![Place::Store(beside()), Place::Ranges],
        DeltaStore::Url(url) => vec![Place::Store(Location::Http(url.clone())), Place::Ranges],
        DeltaStore::Folder(folder) => {
            vec![
                Place::Store(Location::Dir {
                    root: root.to_path_buf(),
                    folder: folder.clone(),
                    shown: folder.display().to_string(),
                }),
                Place::Ranges,
            ]
        }
    }
}

/// Holds fetches to the bandwidth limit, over all workers together.
struct Limiter {
    rate: Option<u64>,
    started: Instant,
    bytes: AtomicU64,
}

impl Limiter {
    fn account(&self, bytes: u64) {
        let total = self.bytes.fetch_add(bytes, Ordering::SeqCst) + bytes;
        if let Some(rate) = self.rate {
            std::thread::sleep(throttle_delay(total, rate, self.started.elapsed()));
        }
    }
}

/// Reads `len` bytes from `start` of a local file, beneath its folder.
fn read_local(location: &Location, name: &str, start: u64, len: u64) -> Result<Vec<u8>, String> {
    let Location::Dir { root, folder, .. } = location else {
        return Err("not a local folder".into());
    };
    let (folder, name) = match name.rsplit_once('/') {
        Some((sub, name)) => (folder.join(sub), name),
        None => (folder.clone(), name),
    };
    let file = crate::fsutil::open_beneath(root, &folder, name).map_err(|e| e.to_string())?;
    let mut bytes = vec![0; usize::try_from(len).map_err(|e| e.to_string())?];
    file.read_exact_at(&mut bytes, start)
        .map_err(|e| e.to_string())?;
    Ok(bytes)
}

/// One attempt at an image: what it needs.
pub struct Attempt<'a> {
    /// The system.
    pub layout: &'a Layout,
    /// Fetches chunks and ranges.
    pub fetcher: &'a Fetcher,
    /// The image.
    pub file: &'a PlannedFile,
    /// Its index, downloaded and verified, on disk.
    pub index_path: &'a Path,
    /// Where chunks come from.
    pub store: &'a DeltaStore,
    /// Where the rebuild is written (kept between runs).
    pub out: &'a Path,
    /// Stops the rebuild.
    pub cancel: &'a AtomicBool,
}

/// Rebuilds the image of `attempt` into its `out`, trying each place in turn; the result
/// matches the signed SHA-256 of the image. `fetched` hears the bytes fetched so far.
pub fn rebuild_image(
    attempt: &Attempt<'_>,
    fetched: &(dyn Fn(u64) + Sync),
) -> Result<Rebuilt, Failure> {
    let file = attempt.file;
    let bytes = read_bounded(attempt.index_path).map_err(|e| index_unreadable(e.to_string()))?;
    let index = read_index(&bytes, file.download_bytes).map_err(index_unreadable)?;
    let seeds = seeds(attempt.layout, &file.target_dir);
    let image = location_of(&file.source);
    let mut reasons: Vec<Why> = Vec::new();
    let mut rebuilt = Rebuilt::default();
    let limiter = Limiter {
        rate: attempt.fetcher.max_rate(),
        started: Instant::now(),
        bytes: AtomicU64::new(0),
    };
    // Bytes (unpacked) fetched by earlier places, so that progress never runs backwards and
    // what they fetched is not counted as the installed versions' own.
    let mut earlier = 0u64;
    for place in places(attempt.store, &image, &attempt.layout.root) {
        let wire = AtomicU64::new(0);
        let this_place = AtomicU64::new(0);
        let from_store = |id: &ChunkId| -> Result<Vec<u8>, String> {
            let Place::Store(store) = &place else {
                return Err("no store".into());
            };
            let name = id.store_path();
            let max = usize::try_from(2 * index.sizes.max + 65536).unwrap_or(usize::MAX);
            let bytes = match store {
                Location::Http(_) => {
                    let bytes = attempt
                        .fetcher
                        .get(store, &name, max)
                        .map_err(|e| e.to_string())?
                        .ok_or_else(|| format!("{} is not in the store", store.display(&name)))?;
                    limiter.account(bytes.len() as u64);
                    bytes
                }
                Location::Dir { .. } => read_whole_local(store, &name, max as u64)
                    .map_err(|e| format!("{}: {e}", store.display(&name)))?,
            };
            wire.fetch_add(bytes.len() as u64, Ordering::SeqCst);
            Ok(bytes)
        };
        let from_ranges = |start: u64, len: u64| -> Result<Option<Vec<u8>>, String> {
            let bytes = match &image {
                Location::Http(_) => {
                    let bytes = attempt
                        .fetcher
                        .get_range(&image.display(&file.source.name), start, len)
                        .map_err(|e| e.to_string())?;
                    if let Some(bytes) = &bytes {
                        limiter.account(bytes.len() as u64);
                    }
                    bytes
                }
                Location::Dir { .. } => Some(
                    read_local(&image, &file.source.name, start, len)
                        .map_err(|e| format!("{}: {e}", image.display(&file.source.name)))?,
                ),
            };
            if let Some(bytes) = &bytes {
                wire.fetch_add(bytes.len() as u64, Ordering::SeqCst);
            }
            Ok(bytes)
        };
        let remote = match &place {
            Place::Store(_) => Remote::Store(&from_store),
            Place::Ranges => Remote::Ranges(&from_ranges),
        };
        let progress = |n: u64| {
            this_place.store(n, Ordering::SeqCst);
            fetched(earlier + n);
        };
        let result = rebuild::rebuild(
            &index,
            &seeds,
            attempt.out,
            remote,
            WORKERS,
            attempt.cancel,
            &progress,
        );
        let wire = wire.load(Ordering::SeqCst);
        match &place {
            Place::Store(_) => rebuilt.store_bytes += wire,
            Place::Ranges => rebuilt.range_bytes += wire,
        }
        match result {
            Ok(sources) => {
                rebuilt.seed_bytes =
                    (sources.from_seeds_bytes + sources.from_target_bytes).saturating_sub(earlier);
                return verify(attempt, rebuilt, &reasons);
            }
            Err(RebuildError::Cancelled) => return Err(Failure::Cancelled),
            Err(RebuildError::Target { path, source }) => {
                reasons.push(Why::new(
                    "write",
                    &[("path", path.display().to_string())],
                    format!("cannot write {}: {source}", path.display()),
                ));
                return Err(Failure::Fallback(Why::all(reasons)));
            }
            Err(e) => {
                let why = match &place {
                    Place::Store(store) => Why::new(
                        "store",
                        &[("store", store.to_string())],
                        format!("the chunk store {store} failed: {e}"),
                    ),
                    Place::Ranges => Why::new(
                        "ranges",
                        &[("url", image.display(&file.source.name))],
                        format!("range requests of the image failed: {e}"),
                    ),
                };
                reasons.push(why);
                // What the failed place fetched is in the file, verified; the next place
                // finds it there.
                earlier += this_place.load(Ordering::SeqCst);
            }
        }
    }
    if reasons.is_empty() {
        reasons.push(Why::off());
    }
    Err(Failure::Fallback(Why::all(reasons)))
}

/// The index that came with the image cannot be read.
fn index_unreadable(error: String) -> Failure {
    Failure::Fallback(Why::new(
        "index",
        &[],
        format!("its chunk index cannot be read: {error}"),
    ))
}

/// Checks the rebuilt file against the signed SHA-256 of the image.
fn verify(
    attempt: &Attempt<'_>,
    mut rebuilt: Rebuilt,
    reasons: &[Why],
) -> Result<Rebuilt, Failure> {
    let sha256 = crate::fsutil::sha256_of(attempt.out).map_err(|e| {
        Failure::Fallback(Why::new(
            "mismatch",
            &[],
            format!("cannot read the rebuilt image back: {e}"),
        ))
    })?;
    if sha256 != attempt.file.source.sha256 {
        let _ = std::fs::remove_file(attempt.out);
        let mut all = reasons.to_vec();
        all.push(Why::new(
            "mismatch",
            &[],
            format!(
                "the rebuilt image does not match its SHA-256 in SHA256SUMS (expected {}, got {sha256})",
                attempt.file.source.sha256
            ),
        ));
        return Err(Failure::Fallback(Why::all(all)));
    }
    rebuilt.notes = Why::all(reasons.to_vec()).text;
    Ok(rebuilt)
}

/// Reads a downloaded index, at most [`MAX_INDEX_BYTES`].
fn read_bounded(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_INDEX_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() > MAX_INDEX_BYTES {
        return Err(std::io::Error::other("it is larger than any index can be"));
    }
    Ok(bytes)
}

/// Reads a whole stored chunk from a local store, at most `max` bytes.
fn read_whole_local(store: &Location, name: &str, max: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let Location::Dir { root, folder, .. } = store else {
        return Err("not a local folder".into());
    };
    let (folder, name) = match name.rsplit_once('/') {
        Some((sub, name)) => (folder.join(sub), name),
        None => (folder.clone(), name),
    };
    let file = crate::fsutil::open_beneath(root, &folder, name).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > max {
        return Err("larger than any chunk can be".into());
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_beside_a_mirror_or_a_folder_comes_first_then_ranges() {
        let http = Location::Http("https://mirror.example/kde-linux/".into());
        assert_eq!(
            places(&DeltaStore::Beside, &http, Path::new("/")),
            vec![
                Place::Store(Location::Http(
                    "https://mirror.example/kde-linux/store/".into()
                )),
                Place::Ranges
            ]
        );
        assert_eq!(
            places(&DeltaStore::Ranges, &http, Path::new("/")),
            vec![Place::Ranges]
        );
        assert!(places(&DeltaStore::Off, &http, Path::new("/")).is_empty());
        let stick = Location::Dir {
            root: PathBuf::from("/"),
            folder: PathBuf::from("media/stick/kde-linux"),
            shown: "/media/stick/kde-linux/".into(),
        };
        assert_eq!(
            places(&DeltaStore::Beside, &stick, Path::new("/"))[0],
            Place::Store(Location::Dir {
                root: PathBuf::from("/"),
                folder: PathBuf::from("media/stick/kde-linux/store"),
                shown: "/media/stick/kde-linux/store".into(),
            })
        );
    }

    #[test]
    fn an_index_that_does_not_fit_the_image_is_refused_with_both_sizes() {
        let bytes: Vec<u8> = (0..200_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let index = crate::delta::chunker::chunk(
            bytes.as_slice(),
            crate::delta::chunker::CASYNC_DEFAULT,
            |_, _| Ok(()),
        )
        .expect("chunking memory works");
        let size = index.blob_size();
        let bytes = index.to_bytes();
        assert!(read_index(&bytes, size).is_ok());
        let error = read_index(&bytes, size + 1).expect_err("a size mismatch is refused");
        assert!(
            error.contains(&size.to_string()) && error.contains(&(size + 1).to_string()),
            "{error}"
        );
        let error = read_index(b"not an index", 10).expect_err("garbage is refused");
        assert!(error.contains("cannot be read"), "{error}");
    }
}
