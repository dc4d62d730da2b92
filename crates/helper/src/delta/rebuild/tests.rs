use super::*;
use crate::delta::chunker;
use crate::delta::index::ChunkSizes;
use crate::delta::store;
use std::collections::BTreeMap;

const SIZES: ChunkSizes = ChunkSizes {
    min: 2048,
    avg: 8192,
    max: 32768,
};

fn noise(len: usize, mut state: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// An old and a new version (a few edits apart), the new one's chunks in a store, and the old
/// one as a seed.
struct Case {
    dir: tempfile::TempDir,
    new: Vec<u8>,
    index: Index,
    seed: Seed,
}

fn case() -> Case {
    let dir = tempfile::tempdir().expect("tempdir");
    let old = noise(600_000, 9);
    let mut new = old.clone();
    new.splice(100_000..100_000, noise(3000, 1));
    new[400_000..440_000].copy_from_slice(&noise(40_000, 2));
    let store_dir = dir.path().join("store");
    let index = chunker::chunk(&new[..], SIZES, |chunk, bytes| {
        store::put(&store_dir, &chunk.id, bytes).map(|_| ())
    })
    .expect("chunked");
    let old_path = dir.path().join("old.img");
    std::fs::write(&old_path, &old).expect("old");
    let old_index = chunker::chunk(&old[..], SIZES, |_, _| Ok(())).expect("chunked");
    std::fs::write(dir.path().join("old.img.caibx"), old_index.to_bytes()).expect("index");
    let seed = Seed::beside(&old_path).expect("a seed");
    Case {
        dir,
        new,
        index,
        seed,
    }
}

/// A local store that counts what it serves.
fn store_of(case: &Case) -> (PathBuf, Mutex<BTreeMap<ChunkId, u32>>) {
    (case.dir.path().join("store"), Mutex::new(BTreeMap::new()))
}

fn fetch_from<'a>(
    dir: &'a Path,
    served: &'a Mutex<BTreeMap<ChunkId, u32>>,
) -> impl Fn(&ChunkId) -> Result<Vec<u8>, String> + Sync + 'a {
    move |id| {
        *served.lock().expect("lock").entry(*id).or_default() += 1;
        std::fs::read(store::chunk_path(dir, id)).map_err(|e| e.to_string())
    }
}

#[test]
fn a_new_version_is_rebuilt_from_the_old_one_and_few_fetched_chunks() {
    let case = case();
    let (dir, served) = store_of(&case);
    let out = case.dir.path().join("new.img");
    let prediction = predict(&case.index, std::slice::from_ref(&case.seed));
    let never = AtomicBool::new(false);
    let sources = rebuild(
        &case.index,
        std::slice::from_ref(&case.seed),
        &out,
        Remote::Store(&fetch_from(&dir, &served)),
        4,
        &never,
        &|_| {},
    )
    .expect("rebuilt");
    assert_eq!(std::fs::read(&out).expect("out"), case.new);
    assert_eq!(
        sources.fetched_bytes, prediction.to_fetch_bytes,
        "as predicted"
    );
    assert_eq!(sources.fetched_chunks, prediction.to_fetch_chunks);
    assert_eq!(sources.from_seeds_bytes, prediction.from_seeds_bytes);
    assert!(
        sources.fetched_bytes < case.new.len() as u64 / 4,
        "{sources:?}"
    );
    assert!(
        sources.from_seeds_bytes > case.new.len() as u64 / 2,
        "{sources:?}"
    );
    assert!(served.lock().expect("lock").values().all(|n| *n == 1));
}

#[test]
fn a_seed_chunk_that_does_not_match_is_fetched_instead() {
    let case = case();
    // Damage the old image where it still shares chunks with the new one.
    let mut old = std::fs::read(&case.seed.path).expect("old");
    old[300_000] ^= 0xff;
    std::fs::write(&case.seed.path, &old).expect("damaged");
    let (dir, served) = store_of(&case);
    let out = case.dir.path().join("new.img");
    let sources = rebuild(
        &case.index,
        std::slice::from_ref(&case.seed),
        &out,
        Remote::Store(&fetch_from(&dir, &served)),
        2,
        &AtomicBool::new(false),
        &|_| {},
    )
    .expect("rebuilt");
    assert_eq!(sources.bad_seed_chunks, 1);
    assert_eq!(std::fs::read(&out).expect("out"), case.new);
}

#[test]
fn an_interrupted_rebuild_resumes_and_fetches_no_chunk_twice() {
    let case = case();
    let (dir, served) = store_of(&case);
    let out = case.dir.path().join("new.img");
    let good = fetch_from(&dir, &served);
    // The store goes away after two chunks.
    let count = AtomicUsize::new(0);
    let flaky = |id: &ChunkId| {
        if count.fetch_add(1, Ordering::SeqCst) >= 2 {
            return Err("connection reset".to_string());
        }
        good(id)
    };
    let first = rebuild(
        &case.index,
        &[],
        &out,
        Remote::Store(&flaky),
        1,
        &AtomicBool::new(false),
        &|_| {},
    );
    assert!(
        matches!(first, Err(RebuildError::Fetch { .. })),
        "{first:?}"
    );
    let fetched_before: Vec<ChunkId> = served.lock().expect("lock").keys().copied().collect();
    assert_eq!(fetched_before.len(), 2);
    let second = rebuild(
        &case.index,
        &[],
        &out,
        Remote::Store(&good),
        3,
        &AtomicBool::new(false),
        &|_| {},
    )
    .expect("resumed");
    assert_eq!(std::fs::read(&out).expect("out"), case.new);
    assert!(second.from_target_bytes > 0);
    assert!(
        served.lock().expect("lock").values().all(|n| *n == 1),
        "a chunk was fetched twice"
    );
}

#[test]
fn a_damaged_or_missing_store_chunk_is_an_error_naming_it() {
    let case = case();
    let (dir, _) = store_of(&case);
    let victim = case
        .index
        .chunks
        .iter()
        .find(|c| !case.seed.index.chunks.iter().any(|s| s.id == c.id))
        .expect("a chunk the seed lacks");
    let path = store::chunk_path(&dir, &victim.id);
    let other = zstd::bulk::compress(&noise(victim.size as usize, 5), 3).expect("zstd");
    std::fs::write(&path, other).expect("swap");
    let out = case.dir.path().join("new.img");
    let fetch =
        |id: &ChunkId| std::fs::read(store::chunk_path(&dir, id)).map_err(|e| e.to_string());
    let seeds = std::slice::from_ref(&case.seed);
    let damaged = rebuild(
        &case.index,
        seeds,
        &out,
        Remote::Store(&fetch),
        2,
        &AtomicBool::new(false),
        &|_| {},
    );
    assert!(
        matches!(&damaged, Err(RebuildError::Damaged { id, .. }) if *id == victim.id.to_hex()),
        "{damaged:?}"
    );
    std::fs::remove_file(&path).expect("remove");
    let missing = rebuild(
        &case.index,
        seeds,
        &out,
        Remote::Store(&fetch),
        2,
        &AtomicBool::new(false),
        &|_| {},
    );
    assert!(
        matches!(missing, Err(RebuildError::Fetch { .. })),
        "{missing:?}"
    );
}

#[test]
fn an_image_without_an_index_beside_it_is_no_seed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let image = dir.path().join("a.img");
    std::fs::write(&image, b"abc").expect("image");
    assert!(Seed::beside(&image).is_none());
    std::fs::write(dir.path().join("a.img.caibx"), b"not an index").expect("index");
    assert!(Seed::beside(&image).is_none());
}

#[test]
fn ranges_of_the_image_fill_what_the_seed_lacks_in_few_requests() {
    let case = case();
    let requests = AtomicUsize::new(0);
    let ranges = |start: u64, len: u64| {
        requests.fetch_add(1, Ordering::SeqCst);
        Ok(Some(
            case.new[start as usize..(start + len) as usize].to_vec(),
        ))
    };
    let out = case.dir.path().join("new.img");
    let prediction = predict(&case.index, std::slice::from_ref(&case.seed));
    let sources = rebuild(
        &case.index,
        std::slice::from_ref(&case.seed),
        &out,
        Remote::Ranges(&ranges),
        2,
        &AtomicBool::new(false),
        &|_| {},
    )
    .expect("rebuilt");
    assert_eq!(std::fs::read(&out).expect("out"), case.new);
    assert_eq!(sources.fetched_bytes, prediction.to_fetch_bytes);
    assert_eq!(sources.fetched_wire_bytes, prediction.to_fetch_bytes);
    // Two edits: neighbouring missing chunks are asked for together.
    let asked = requests.load(Ordering::SeqCst) as u64;
    assert!(asked < prediction.to_fetch_chunks, "{asked} requests");
}

#[test]
fn a_server_that_ignores_ranges_is_said_so() {
    let case = case();
    let out = case.dir.path().join("new.img");
    let whole = |_: u64, _: u64| Ok(None);
    let outcome = rebuild(
        &case.index,
        std::slice::from_ref(&case.seed),
        &out,
        Remote::Ranges(&whole),
        2,
        &AtomicBool::new(false),
        &|_| {},
    );
    assert!(
        matches!(outcome, Err(RebuildError::NoRanges)),
        "{outcome:?}"
    );
}
