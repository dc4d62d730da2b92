//! Delta updates against the reference: images made as KDE Linux makes them (EROFS, zstd,
//! 64 KiB clusters, reproducible), cut by our chunker and by `casync make` at casync's default
//! sizes and at KDE's proportions; the indexes must be byte for byte equal, and casync must
//! rebuild a new image from our store with the old one as its seed.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Bytes that look random but are the same on every run.
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

/// An EROFS image of `tree`, made as KDE Linux makes its images.
fn erofs(tree: &Path, image: &Path) {
    let status = Command::new("mkfs.erofs")
        .args([
            "-zzstd",
            "-C",
            "65536",
            "--chunksize",
            "65536",
            "-T0",
            "--ignore-mtime",
        ])
        .arg(image)
        .arg(tree)
        .output()
        .expect("mkfs.erofs");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
}

fn run(command: &mut Command) -> String {
    let output = command.output().expect("runs");
    assert!(
        output.status.success(),
        "{command:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

struct Pair {
    _dir: tempfile::TempDir,
    old: PathBuf,
    new: PathBuf,
    work: PathBuf,
}

/// Two versions of an image: 5 % of the files changed between them.
fn pair(files: usize) -> Pair {
    let dir = tempfile::tempdir().expect("tempdir");
    let work = dir.path().to_path_buf();
    let (old_tree, new_tree) = (work.join("old-tree"), work.join("new-tree"));
    tree(&old_tree, files, &[]);
    let changed: Vec<usize> = (0..files).filter(|i| i % 20 == 3).collect();
    tree(&new_tree, files, &changed);
    let (old, new) = (work.join("old.erofs"), work.join("new.erofs"));
    erofs(&old_tree, &old);
    erofs(&new_tree, &new);
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
