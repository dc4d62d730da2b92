//! Chunk stores: one file per chunk, `<store>/<first 4 hex digits>/<id>.cacnk`, its bytes
//! compressed with zstd, as casync and desync write them and KDE Linux publishes them.

use crate::delta::chunker;
use crate::delta::index::{ChunkId, ChunkSizes};
use crate::fsutil::write_atomically;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Writes a file a web server may publish (readable by all), atomically.
fn write_public(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    // A bare file name is in the working directory (which is synced after the rename).
    let path = &Path::new(".").join(path);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))?;
    }
    write_atomically(path, bytes)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))
}

/// What publishing an image made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    /// Chunks in the index.
    pub chunks: usize,
    /// Chunks added to the store (the others were there already).
    pub stored: usize,
}

/// The zstd level chunks are stored at (casync's default).
const LEVEL: i32 = 3;

/// Where `id` lives in a store.
pub fn chunk_path(store: &Path, id: &ChunkId) -> std::path::PathBuf {
    store.join(id.store_path())
}

/// Adds a chunk to a local store unless it is there; true when it was added. Written under a
/// hidden name and renamed, so that a reader never sees half a chunk, and readable by all, so
/// that any static web server publishes the store.
pub fn put(store: &Path, id: &ChunkId, bytes: &[u8]) -> std::io::Result<bool> {
    let path = chunk_path(store, id);
    if path.exists() {
        return Ok(false);
    }
    let compressed = zstd::bulk::compress(bytes, LEVEL)?;
    write_public(&path, &compressed)?;
    Ok(true)
}

/// Cuts `image`, writes its index to `index` and, given a store, every chunk into it.
pub fn publish(
    image: &Path,
    index: &Path,
    store: Option<&Path>,
    sizes: ChunkSizes,
) -> std::io::Result<Published> {
    let file = std::fs::File::open(image)?;
    let mut stored = 0;
    let made = chunker::chunk(std::io::BufReader::new(file), sizes, |chunk, bytes| {
        if let Some(store) = store
            && put(store, &chunk.id, bytes)?
        {
            stored += 1;
        }
        Ok(())
    })?;
    write_public(index, &made.to_bytes())?;
    Ok(Published {
        chunks: made.chunks.len(),
        stored,
    })
}
