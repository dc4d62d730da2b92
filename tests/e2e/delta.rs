//! Delta updates against the reference: images made as KDE Linux makes them (EROFS, zstd,
//! 64 KiB clusters, reproducible), cut by our chunker and by `casync make` at casync's default
//! sizes and at KDE's proportions; the indexes must be byte for byte equal, and casync must
//! rebuild a new image from our store with the old one as its seed.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Bytes that look random but are the same on every run.
pub(crate) fn noise(len: usize, mut state: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// A `/usr`-like tree: `files` files of 4 to 60 KiB, half of them text-like (compressible);
/// files whose number is in `changed` get other content.
fn tree(dir: &Path, files: usize, changed: &[usize]) {
    for i in 0..files {
        let path = dir.join(format!("lib/part{}/file{i}", i % 16));
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
        let len = 4096 + (i * 7919) % (56 * 1024);
        let seed = if changed.contains(&i) {
            1_000_000 + i
        } else {
            i
        } as u64
            + 1;
        let mut bytes = noise(len, seed);
        if i % 2 == 0 {
            for b in &mut bytes {
                *b = b"abcdefghij klmnop\n"[(*b % 18) as usize];
            }
        }
        std::fs::write(path, bytes).expect("file");
    }
}

pub(crate) fn run(command: &mut Command) -> String {
    let output = command.output().expect("runs");
    assert!(
        output.status.success(),
        "{command:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) struct Pair {
    _dir: tempfile::TempDir,
    pub(crate) old: PathBuf,
    pub(crate) new: PathBuf,
    pub(crate) work: PathBuf,
}

/// Two versions of an image: 5 % of the files changed between them.
pub(crate) fn pair(files: usize) -> Pair {
    let dir = tempfile::tempdir().expect("tempdir");
    let work = dir.path().to_path_buf();
    let (old_tree, new_tree) = (work.join("old-tree"), work.join("new-tree"));
    tree(&old_tree, files, &[]);
    let changed: Vec<usize> = (0..files).filter(|i| i % 20 == 3).collect();
    tree(&new_tree, files, &changed);
    let (old, new) = (work.join("old.erofs"), work.join("new.erofs"));
    testbed::system::kde_linux_erofs(&old_tree, &old).expect("old image");
    testbed::system::kde_linux_erofs(&new_tree, &new).expect("new image");
    Pair {
        _dir: dir,
        old,
        new,
        work,
    }
}

/// Our index and store, and casync's, of `image` at `sizes` (MIN:AVG:MAX).
fn both_indexes(pair: &Pair, image: &Path, sizes: &str, name: &str) -> (Vec<u8>, Vec<u8>) {
    let ours = pair.work.join(format!("{name}.ours.caibx"));
    let theirs = pair.work.join(format!("{name}.casync.caibx"));
    run(
        Command::new(testbed::binary("update-center-helper").expect("helper"))
            .args(["chunk", "--chunk-size", sizes, "--index"])
            .arg(&ours)
            .arg("--store")
            .arg(pair.work.join("our-store"))
            .arg(image),
    );
    run(Command::new("casync")
        .arg("make")
        .arg(format!("--chunk-size={sizes}"))
        .arg(format!(
            "--store={}",
            pair.work.join("casync-store").display()
        ))
        .arg(&theirs)
        .arg(image));
    (
        std::fs::read(ours).expect("our index"),
        std::fs::read(theirs).expect("casync's index"),
    )
}

fn indexes_equal_casyncs_and_casync_rebuilds_from_our_store(files: usize, sizes: &str) {
    let pair = pair(files);
    for (image, name) in [(&pair.old, "old"), (&pair.new, "new")] {
        let (ours, theirs) = both_indexes(&pair, image, sizes, name);
        assert!(ours.len() > 48 + 16 + 40 + 40, "more than one chunk");
        assert_eq!(
            ours, theirs,
            "{name} at {sizes}: our index differs from casync's"
        );
    }
    // casync rebuilds the new image from our store, with the old one as its seed.
    let rebuilt = pair.work.join("rebuilt.erofs");
    run(Command::new("casync")
        .arg("extract")
        .arg(format!("--store={}", pair.work.join("our-store").display()))
        .arg(format!("--seed={}", pair.old.display()))
        .arg(pair.work.join("new.ours.caibx"))
        .arg(&rebuilt));
    assert_eq!(
        std::fs::read(&rebuilt).expect("rebuilt"),
        std::fs::read(&pair.new).expect("new"),
    );
}

#[test]
fn at_casyncs_default_sizes_our_index_is_casyncs() {
    indexes_equal_casyncs_and_casync_rebuilds_from_our_store(600, "16384:65536:262144");
}

#[test]
fn at_kde_linux_proportions_our_index_is_casyncs() {
    // KDE's 1/2/4 MiB, scaled down 8 times, so that a test image holds dozens of chunks.
    indexes_equal_casyncs_and_casync_rebuilds_from_our_store(900, "131072:262144:524288");
}

#[test]
fn at_kde_linux_sizes_our_index_is_casyncs() {
    let pair = pair(900);
    let (ours, theirs) = both_indexes(&pair, &pair.new, "1048576:2097152:4194304", "new");
    assert_eq!(ours, theirs);
}

/// `update-center-helper extract` of the new image, seeded with the old one.
fn extract(pair: &Pair, store: &str, out: &Path) -> String {
    run(
        Command::new(testbed::binary("update-center-helper").expect("helper"))
            .arg("extract")
            .arg(pair.work.join("new.ours.caibx"))
            .arg(out)
            .args(["--store", store, "--seed"])
            .arg(&pair.old),
    )
}

/// Publishes both images of `pair` into our store, each with its index beside it.
fn published(files: usize, sizes: &str) -> Pair {
    let pair = pair(files);
    both_indexes(&pair, &pair.old, sizes, "old");
    both_indexes(&pair, &pair.new, sizes, "new");
    std::fs::copy(
        pair.work.join("old.ours.caibx"),
        pair.work.join("old.erofs.caibx"),
    )
    .expect("the old image's index beside it");
    pair
}

#[test]
fn our_rebuild_from_a_local_store_and_from_nginx_equals_the_new_image() {
    let pair = published(600, "16384:65536:262144");
    let new = std::fs::read(&pair.new).expect("new");
    let local = pair.work.join("from-folder.erofs");
    let said = extract(
        &pair,
        &pair.work.join("our-store").display().to_string(),
        &local,
    );
    assert_eq!(std::fs::read(&local).expect("rebuilt"), new, "{said}");
    let fetched: u64 = said
        .split(" fetched")
        .next()
        .and_then(|s| s.rsplit(", ").next())
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no byte count in {said:?}"));
    assert!(
        fetched < new.len() as u64 / 5,
        "5 % of the files changed, {fetched} of {} bytes fetched: {said}",
        new.len()
    );
    let nginx = testbed::nginx::Nginx::serve(&pair.work).expect("nginx");
    let served = pair.work.join("from-nginx.erofs");
    extract(&pair, &format!("{}our-store", nginx.url), &served);
    assert_eq!(std::fs::read(&served).expect("rebuilt"), new);
}

#[test]
fn a_missing_chunk_is_an_error_and_the_next_run_finishes_the_file() {
    let pair = published(400, "16384:65536:262144");
    let out = pair.work.join("partial.erofs");
    // Hide the store's chunks the old image lacks: the first run fails, naming one.
    let index = std::fs::read(pair.work.join("new.ours.caibx")).expect("index");
    let old_index = std::fs::read(pair.work.join("old.ours.caibx")).expect("index");
    let ids = |bytes: &[u8]| -> Vec<String> {
        bytes[64..bytes.len() - 40]
            .chunks(40)
            .map(|item| item[8..].iter().map(|b| format!("{b:02x}")).collect())
            .collect()
    };
    let old_ids = ids(&old_index);
    let hidden = pair.work.join("hidden");
    std::fs::create_dir_all(&hidden).expect("dir");
    let store = pair.work.join("our-store");
    let mut moved = 0;
    for id in ids(&index).into_iter().filter(|id| !old_ids.contains(id)) {
        let from = store.join(&id[..4]).join(format!("{id}.cacnk"));
        if std::fs::rename(&from, hidden.join(&id)).is_ok() {
            moved += 1;
        }
    }
    assert!(moved > 0);
    let output = Command::new(testbed::binary("update-center-helper").expect("helper"))
        .arg("extract")
        .arg(pair.work.join("new.ours.caibx"))
        .arg(&out)
        .args(["--store", &store.display().to_string(), "--seed"])
        .arg(&pair.old)
        .output()
        .expect("runs");
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("cannot be fetched"), "{err}");
    for entry in std::fs::read_dir(&hidden).expect("hidden").flatten() {
        let id = entry.file_name().to_string_lossy().into_owned();
        std::fs::rename(
            entry.path(),
            store.join(&id[..4]).join(format!("{id}.cacnk")),
        )
        .expect("back");
    }
    let said = extract(&pair, &store.display().to_string(), &out);
    assert_eq!(
        std::fs::read(&out).expect("rebuilt"),
        std::fs::read(&pair.new).expect("new"),
        "{said}"
    );
}

#[test]
fn without_a_store_ranges_of_the_image_are_fetched_from_nginx() {
    let pair = published(600, "16384:65536:262144");
    let nginx = testbed::nginx::Nginx::serve(&pair.work).expect("nginx");
    let out = pair.work.join("from-ranges.erofs");
    let new = std::fs::read(&pair.new).expect("new");
    nginx.take_sent().expect("log");
    let said = run(
        Command::new(testbed::binary("update-center-helper").expect("helper"))
            .arg("extract")
            .arg(pair.work.join("new.ours.caibx"))
            .arg(&out)
            .arg("--image-url")
            .arg(format!("{}new.erofs", nginx.url))
            .arg("--seed")
            .arg(&pair.old),
    );
    assert_eq!(std::fs::read(&out).expect("rebuilt"), new, "{said}");
    let (sent, requests) = nginx.take_sent().expect("log");
    assert!(
        sent < new.len() as u64 / 5,
        "nginx sent {sent} of {} bytes",
        new.len()
    );
    assert!(requests > 0);
}

#[test]
fn a_server_that_ignores_ranges_is_a_clear_error() {
    let pair = published(300, "16384:65536:262144");
    let server = testbed::mirror::HttpMirror::serve(&pair.work).expect("serve");
    server.set_fault("new.erofs", testbed::mirror::Fault::NoRanges);
    let output = Command::new(testbed::binary("update-center-helper").expect("helper"))
        .arg("extract")
        .arg(pair.work.join("new.ours.caibx"))
        .arg(pair.work.join("never.erofs"))
        .arg("--image-url")
        .arg(format!("{}new.erofs", server.url))
        .arg("--seed")
        .arg(&pair.old)
        .output()
        .expect("runs");
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("does not answer range requests"), "{err}");
}

/// Chunks fetched more than once (complete answers only) in one rebuild's requests.
fn fetched_again(requests: &[(u64, u16, String)]) -> usize {
    let mut seen = std::collections::BTreeMap::new();
    for (bytes, status, path) in requests {
        if *status == 200 && *bytes > 0 {
            *seen.entry(path.as_str()).or_insert(0usize) += 1;
        }
    }
    seen.values().map(|n| n - 1).sum()
}

#[test]
fn fifty_kills_during_a_delta_lose_at_most_the_chunks_in_flight() {
    const KILLS: usize = 50;
    const JOBS: usize = 2;
    let pair = published(400, "16384:65536:262144");
    let new = std::fs::read(&pair.new).expect("new");
    // A slow store: each chunk takes a while, so that kills land mid-run.
    let nginx = testbed::nginx::Nginx::serve_limited(&pair.work, Some("1m")).expect("nginx");
    let out = pair.work.join("killed.erofs");
    let extract = || {
        let mut command = Command::new(testbed::binary("update-center-helper").expect("helper"));
        command
            .arg("extract")
            .arg(pair.work.join("new.ours.caibx"))
            .arg(&out)
            .args(["--jobs", &JOBS.to_string()])
            .args(["--store", &format!("{}our-store", nginx.url), "--seed"])
            .arg(&pair.old)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        command
    };
    // Kill the rebuild at random moments. When one gets to the end between kills, the file
    // must be whole; it is removed and the next round starts from nothing.
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let (mut kills, mut kills_this_round, mut whole_rounds) = (0, 0, 0);
    let check_round = |kills_this_round: usize| {
        let again = fetched_again(&nginx.take_requests().expect("log"));
        assert!(
            again <= kills_this_round * JOBS,
            "{again} chunks fetched again after {kills_this_round} kills"
        );
        assert_eq!(std::fs::read(&out).expect("rebuilt"), new);
        std::fs::remove_file(&out).expect("start over");
    };
    while kills < KILLS {
        let mut child = extract().spawn().expect("extract");
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let after = std::time::Duration::from_millis(20 + state % 300);
        let started = std::time::Instant::now();
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                assert!(status.success(), "a run between kills failed");
                check_round(kills_this_round);
                kills_this_round = 0;
                whole_rounds += 1;
                break;
            }
            if started.elapsed() >= after {
                child.kill().expect("kill -9");
                child.wait().expect("reaped");
                kills += 1;
                kills_this_round += 1;
                break;
            }
            std::thread::yield_now();
        }
    }
    let status = extract().status().expect("the last run");
    assert!(status.success());
    check_round(kills_this_round);
    assert!(
        whole_rounds < KILLS / 2,
        "{whole_rounds} rounds ended between kills"
    );
}
