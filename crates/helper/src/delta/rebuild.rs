//! Rebuilding a file from its chunk index: every chunk found locally (already in the target
//! from an interrupted run, or in a seed: an installed image with its index) is copied and
//! verified by its id; the rest is fetched, several requests at once, from a chunk store or as
//! merged range requests of the image itself, verified and written at its offset. A seed chunk that does not match its id is skipped, never fatal.
//! The caller verifies the whole file (against the signed `SHA256SUMS`) before using it.

use crate::delta::index::{Chunk, ChunkId, Index};
use std::collections::HashMap;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// An installed image and its index, whose chunks a rebuild may copy.
#[derive(Debug, Clone)]
pub struct Seed {
    /// The image.
    pub path: PathBuf,
    /// Its index.
    pub index: Index,
}

impl Seed {
    /// The seed of `image` when its index (`IMAGE.caibx`) lies beside it and reads; None
    /// otherwise (an image without an index is no seed, and no error).
    pub fn beside(image: &Path) -> Option<Self> {
        let mut index_path = image.as_os_str().to_owned();
        index_path.push(".caibx");
        let bytes = std::fs::read(PathBuf::from(index_path)).ok()?;
        let index = Index::parse(&bytes).ok()?;
        let size = std::fs::metadata(image).ok()?.len();
        (size == index.blob_size()).then(|| Self {
            path: image.to_path_buf(),
            index,
        })
    }
}

/// Where missing chunks come from.
#[derive(Clone, Copy)]
pub enum Remote<'a> {
    /// A chunk store: a chunk's stored (zstd-compressed) bytes by its id.
    Store(&'a (dyn Fn(&ChunkId) -> Result<Vec<u8>, String> + Sync)),
    /// The image on the mirror: `len` bytes from `start`, by a range request (None when the
    /// server ignores ranges). Neighbouring chunks are asked for together.
    Ranges(&'a (dyn Fn(u64, u64) -> Result<Option<Vec<u8>>, String> + Sync)),
}

/// The most bytes one range request asks for.
pub const RANGE_BYTES: u64 = 8 * 1024 * 1024;

/// Where the bytes of a rebuild came from.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sources {
    /// Already in the target (an interrupted run's work), verified.
    pub from_target_bytes: u64,
    /// Copied from seeds, verified.
    pub from_seeds_bytes: u64,
    /// Fetched (uncompressed size).
    pub fetched_bytes: u64,
    /// Chunks fetched (each distinct id once).
    pub fetched_chunks: u64,
    /// Bytes on the wire (compressed chunks from a store, raw bytes of ranges).
    pub fetched_wire_bytes: u64,
    /// Seed chunks that did not match their id, and were fetched instead.
    pub bad_seed_chunks: u64,
}

/// What a rebuild will fetch, known before fetching: the chunks that are in no seed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Prediction {
    /// Bytes of the file.
    pub total_bytes: u64,
    /// Bytes found in seeds.
    pub from_seeds_bytes: u64,
    /// Bytes to fetch (uncompressed), each distinct chunk once.
    pub to_fetch_bytes: u64,
    /// Distinct chunks to fetch.
    pub to_fetch_chunks: u64,
}

/// Why a rebuild failed.
#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    /// The target cannot be written (or read back).
    #[error("cannot write {path}: {source}")]
    Target {
        /// The target.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A chunk could not be had.
    #[error("chunk {id} cannot be fetched: {reason}")]
    Fetch {
        /// Its id.
        id: String,
        /// Why.
        reason: String,
    },
    /// A fetched chunk is not what the index says.
    #[error("chunk {id} from the store is damaged: {reason}")]
    Damaged {
        /// Its id.
        id: String,
        /// What is wrong.
        reason: String,
    },
    /// The server answers range requests with the whole file: only a full download works.
    #[error("the server does not answer range requests")]
    NoRanges,
    /// Cancelled; the chunks written so far are kept for the next run.
    #[error("the download was cancelled")]
    Cancelled,
}

/// Where in the seeds each id is, the first place found.
fn seed_map(seeds: &[Seed]) -> HashMap<ChunkId, (usize, Chunk)> {
    let mut map = HashMap::new();
    for (n, seed) in seeds.iter().enumerate() {
        for chunk in &seed.index.chunks {
            map.entry(chunk.id).or_insert((n, *chunk));
        }
    }
    map
}

/// What rebuilding `target` from `seeds` would fetch.
pub fn predict(target: &Index, seeds: &[Seed]) -> Prediction {
    let map = seed_map(seeds);
    let mut prediction = Prediction {
        total_bytes: target.blob_size(),
        ..Prediction::default()
    };
    let mut counted = std::collections::HashSet::new();
    for chunk in &target.chunks {
        if map.contains_key(&chunk.id) {
            prediction.from_seeds_bytes += chunk.size;
        } else if counted.insert(chunk.id) {
            prediction.to_fetch_bytes += chunk.size;
            prediction.to_fetch_chunks += 1;
        }
    }
    prediction
}

/// Reads `chunk`'s bytes at `offset` of `file` when they are there and match its id.
fn verified_at(file: &std::fs::File, offset: u64, chunk: &Chunk) -> Option<Vec<u8>> {
    let mut bytes = vec![0; usize::try_from(chunk.size).ok()?];
    file.read_exact_at(&mut bytes, offset).ok()?;
    (ChunkId::of(&bytes) == chunk.id).then_some(bytes)
}

/// Copies `len` bytes of `from` at `from_offset` into `to` at `to_offset` inside the kernel
/// (`copy_file_range`: a reflink where the file system can); false when it could not.
fn copy_range(
    from: &std::fs::File,
    from_offset: u64,
    to: &std::fs::File,
    to_offset: u64,
    len: u64,
) -> bool {
    let (mut off_in, mut off_out, mut left) = (from_offset, to_offset, len);
    while left > 0 {
        let Ok(step) = usize::try_from(left) else {
            return false;
        };
        match rustix::fs::copy_file_range(from, Some(&mut off_in), to, Some(&mut off_out), step) {
            Ok(0) | Err(_) => return false,
            Ok(n) => left -= n as u64,
        }
    }
    true
}

/// Checks fetched bytes against a chunk: its size and its id.
fn check(chunk: &Chunk, bytes: &[u8], from: &str) -> Result<(), RebuildError> {
    if bytes.len() as u64 != chunk.size || ChunkId::of(bytes) != chunk.id {
        return Err(RebuildError::Damaged {
            id: chunk.id.to_hex(),
            reason: format!("its bytes {from} do not match its id"),
        });
    }
    Ok(())
}

/// Groups of missing chunks fetched together: one chunk each from a store; neighbours (by
/// offset, up to [`RANGE_BYTES`]) in one range request.
fn batches(missing: &[(Chunk, Vec<u64>)], ranges: bool) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..missing.len()).collect();
    if !ranges {
        return order.into_iter().map(|i| vec![i]).collect();
    }
    order.sort_by_key(|&i| missing[i].0.offset);
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut end = u64::MAX;
    let mut bytes = 0;
    for i in order {
        let chunk = &missing[i].0;
        match out.last_mut() {
            Some(batch) if chunk.offset == end && bytes + chunk.size <= RANGE_BYTES => {
                batch.push(i);
                bytes += chunk.size;
            }
            _ => {
                out.push(vec![i]);
                bytes = chunk.size;
            }
        }
        end = chunk.offset + chunk.size;
    }
    out
}

/// A fetched batch: its bytes, where each chunk starts in them (with its index in the missing
/// list), and the bytes it took on the wire.
type Fetched = (Vec<u8>, Vec<(usize, usize)>, u64);

/// Memory the fetches in flight may hold together; workers beyond it wait their turn.
pub const IN_FLIGHT_BYTES: u64 = 32 * 1024 * 1024;

/// Fetches one batch.
fn fetch_batch(
    remote: Remote<'_>,
    missing: &[(Chunk, Vec<u64>)],
    batch: &[usize],
) -> Result<Fetched, RebuildError> {
    match remote {
        Remote::Store(fetch) => {
            let i = batch[0];
            let chunk = &missing[i].0;
            let stored = fetch(&chunk.id).map_err(|reason| RebuildError::Fetch {
                id: chunk.id.to_hex(),
                reason,
            })?;
            let bytes = zstd::bulk::decompress(&stored, chunk.size as usize).map_err(|e| {
                RebuildError::Damaged {
                    id: chunk.id.to_hex(),
                    reason: format!("it does not unpack to {} bytes: {e}", chunk.size),
                }
            })?;
            check(chunk, &bytes, "from the store")?;
            Ok((bytes, vec![(i, 0)], stored.len() as u64))
        }
        Remote::Ranges(fetch) => {
            let first = &missing[batch[0]].0;
            let len: u64 = batch.iter().map(|&i| missing[i].0.size).sum();
            let bytes = fetch(first.offset, len)
                .map_err(|reason| RebuildError::Fetch {
                    id: first.id.to_hex(),
                    reason,
                })?
                .ok_or(RebuildError::NoRanges)?;
            let mut starts = Vec::with_capacity(batch.len());
            let mut at = 0usize;
            for &i in batch {
                let chunk = &missing[i].0;
                check(
                    chunk,
                    &bytes[at..at + chunk.size as usize],
                    "in the image's range",
                )?;
                starts.push((i, at));
                at += chunk.size as usize;
            }
            Ok((bytes, starts, len))
        }
    }
}

/// Rebuilds `target` into the file at `out` (created if missing, kept if partly written),
/// fetching what no seed has from `remote`, `workers` requests at once; `progress` hears the
/// bytes fetched so far.
pub fn rebuild(
    target: &Index,
    seeds: &[Seed],
    out: &Path,
    remote: Remote<'_>,
    workers: usize,
    cancel: &AtomicBool,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Sources, RebuildError> {
    let failed = |source| RebuildError::Target {
        path: out.to_path_buf(),
        source,
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(out)
        .map_err(failed)?;
    // Only a file left by an interrupted run can hold chunks already.
    let resumed = file.metadata().map_err(failed)?.len() > 0;
    file.set_len(target.blob_size()).map_err(failed)?;
    let seed_files: Vec<Option<std::fs::File>> = seeds
        .iter()
        .map(|s| std::fs::File::open(&s.path).ok())
        .collect();
    let map = seed_map(seeds);
    let mut sources = Sources::default();
    // Distinct ids still missing, with every offset they go to.
    let mut missing: Vec<(Chunk, Vec<u64>)> = Vec::new();
    let mut missing_at: HashMap<ChunkId, usize> = HashMap::new();
    for chunk in &target.chunks {
        if cancel.load(Ordering::SeqCst) {
            return Err(RebuildError::Cancelled);
        }
        if resumed && verified_at(&file, chunk.offset, chunk).is_some() {
            sources.from_target_bytes += chunk.size;
            continue;
        }
        if let Some((n, at)) = map.get(&chunk.id) {
            let seed = seed_files[*n].as_ref();
            match seed.and_then(|f| verified_at(f, at.offset, chunk)) {
                Some(bytes) => {
                    // The kernel copies (and btrfs or XFS share the blocks where both offsets
                    // fall on block boundaries); a copy that does not go through is written.
                    let copied = seed
                        .is_some_and(|f| copy_range(f, at.offset, &file, chunk.offset, chunk.size));
                    if !copied {
                        file.write_all_at(&bytes, chunk.offset).map_err(failed)?;
                    }
                    sources.from_seeds_bytes += chunk.size;
                    continue;
                }
                None => sources.bad_seed_chunks += 1,
            }
        }
        match missing_at.get(&chunk.id) {
            Some(&i) => missing[i].1.push(chunk.offset),
            None => {
                missing_at.insert(chunk.id, missing.len());
                missing.push((*chunk, vec![chunk.offset]));
            }
        }
    }
    let ranges = matches!(remote, Remote::Ranges(_));
    let batches = batches(&missing, ranges);
    // A worker holds a range, or a stored chunk and its unpacked bytes.
    let per_worker = if ranges {
        RANGE_BYTES
    } else {
        2 * target.sizes.max
    };
    let workers = workers.min(usize::try_from(IN_FLIGHT_BYTES / per_worker.max(1)).unwrap_or(1));
    let next = AtomicUsize::new(0);
    let error: Mutex<Option<RebuildError>> = Mutex::new(None);
    let totals = Mutex::new((0u64, 0u64, 0u64));
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        for _ in 0..workers.max(1) {
            scope.spawn(|| {
                loop {
                    if stop.load(Ordering::SeqCst) || cancel.load(Ordering::SeqCst) {
                        return;
                    }
                    let Some(batch) = batches.get(next.fetch_add(1, Ordering::SeqCst)) else {
                        return;
                    };
                    let outcome =
                        fetch_batch(remote, &missing, batch).and_then(|(bytes, starts, wire)| {
                            let mut written = 0;
                            for (i, start) in &starts {
                                let (chunk, offsets) = &missing[*i];
                                let part = &bytes[*start..*start + chunk.size as usize];
                                for offset in offsets {
                                    file.write_all_at(part, *offset).map_err(failed)?;
                                }
                                written += chunk.size;
                            }
                            Ok((written, starts.len(), wire))
                        });
                    match outcome {
                        Ok((bytes, chunks, wire)) => {
                            let mut t = totals.lock().unwrap_or_else(|e| e.into_inner());
                            t.0 += bytes;
                            t.1 += chunks as u64;
                            t.2 += wire;
                            progress(t.0);
                        }
                        Err(e) => {
                            stop.store(true, Ordering::SeqCst);
                            error
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .get_or_insert(e);
                            return;
                        }
                    }
                }
            });
        }
    });
    let (fetched_bytes, fetched_chunks, compressed) =
        *totals.lock().unwrap_or_else(|e| e.into_inner());
    sources.fetched_bytes = fetched_bytes;
    sources.fetched_chunks = fetched_chunks;
    sources.fetched_wire_bytes = compressed;
    if let Some(e) = error.into_inner().unwrap_or_else(|e| e.into_inner()) {
        let _ = file.sync_data();
        return Err(e);
    }
    if cancel.load(Ordering::SeqCst) {
        let _ = file.sync_data();
        return Err(RebuildError::Cancelled);
    }
    file.sync_all().map_err(failed)?;
    Ok(sources)
}

#[cfg(test)]
mod tests;
