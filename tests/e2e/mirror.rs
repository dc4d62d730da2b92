//! A verified mirror for air-gapped sites (`update-center-helper mirror FROM TO`): from a
//! signed HTTP source (three versions of EROFS images made as KDE Linux makes them, their
//! indexes and a chunk store) into a folder, which nginx then serves and a stick carries; a
//! system updates from either. A corrupt file, a bad signature or a damaged chunk on the way in
//! publishes nothing; an interrupted run resumes.

use super::delta_update::chunk_sizes;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use testbed::gpg::{GpgKey, KeyKind};
use testbed::setup::{Built, Setup};

const OLD: &str = "202611100800";
const VERSIONS: [&str; 3] = ["202611200800", "202611250800", "202611300800"];

fn helper() -> Command {
    let mut command = Command::new(testbed::binary("update-center-helper").expect("helper"));
    command.env("SYSTEMD_RELAX_ESP_CHECKS", "1");
    command
}

/// A signed source offering VERSIONS: images, indexes, a store, UKIs.
fn source(dir: &Path, key: &GpgKey) -> PathBuf {
    let src = dir.join("source");
    std::fs::create_dir_all(&src).expect("source");
    for v in VERSIONS {
        let image = src.join(format!("kde-linux_{v}_root-x86-64.erofs"));
        testbed::system::demo_usr_image(&image, v).expect("image");
        testbed::system::publish_index(
            &image,
            &src.join(format!("kde-linux_{v}_root-x86-64.caibx")),
            Some(&src.join("store")),
        )
        .expect("index");
        std::fs::write(
            src.join(format!("kde-linux_{v}.efi")),
            format!("MZ UKI {v}\n"),
        )
        .expect("uki");
    }
    testbed::mirror::write_sums(&src).expect("sums");
    key.sign_detached(&src.join("SHA256SUMS"), &src.join("SHA256SUMS.gpg"))
        .expect("sign");
    src
}

/// A system running OLD that trusts `key`.
fn system(key: &GpgKey) -> Built {
    let built = Setup::new().only(OLD).build();
    key.install_keyring(&built.system.root).expect("keyring");
    built
}

fn mirror(root: &Path, from: &str, to: &Path) -> (bool, String, String) {
    testbed::run(
        helper()
            .args(["mirror", "--keep", "2", "--json", "--root"])
            .arg(root)
            .arg(from)
            .arg(to),
    )
}

fn ids(index: &Path) -> BTreeSet<String> {
    chunk_sizes(&std::fs::read(index).expect("index"))
        .into_keys()
        .collect()
}

fn stored(store: &Path) -> BTreeSet<String> {
    std::fs::read_dir(store)
        .into_iter()
        .flatten()
        .flatten()
        .flat_map(|d| std::fs::read_dir(d.path()).into_iter().flatten().flatten())
        .filter_map(|c| {
            c.file_name()
                .to_string_lossy()
                .strip_suffix(".cacnk")
                .map(str::to_string)
        })
        .collect()
}

/// Installs the newest version on `built` from `url` (a URL or a folder in its root) and
/// says whether the image is the source's.
fn updates_from(built: &Built, url: &str, src: &Path) {
    built.system.use_source(url, true).expect("source");
    let output = helper()
        .args(["update", "--root"])
        .arg(&built.system.root)
        .output()
        .expect("update");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let newest = VERSIONS[2];
    assert_eq!(
        std::fs::read(
            built
                .system
                .root
                .join(format!("system/kde-linux_{newest}.erofs"))
        )
        .expect("installed"),
        std::fs::read(src.join(format!("kde-linux_{newest}_root-x86-64.erofs"))).expect("source")
    );
}

#[test]
fn a_mirror_keeps_the_newest_versions_verified_and_updates_come_from_nginx_and_a_stick() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = GpgKey::generate(KeyKind::Ed25519, "KDE Linux <sign@example.org>").expect("key");
    let src = source(dir.path(), &key);
    let server = testbed::mirror::HttpMirror::serve(&src).expect("serve");
    let admin = system(&key);
    let to = dir.path().join("mirror");
    let (ok, out, err) = mirror(&admin.system.root, &server.url, &to);
    assert!(ok, "{err}");
    let report: serde_json::Value = serde_json::from_str(out.trim()).expect("JSON");
    assert_eq!(
        report["versions"],
        serde_json::json!([VERSIONS[2], VERSIONS[1]])
    );
    assert_eq!(
        std::fs::read(to.join("SHA256SUMS")).expect("list"),
        std::fs::read(src.join("SHA256SUMS")).expect("list"),
        "the signed list is published unchanged"
    );
    assert!(to.join("SHA256SUMS.gpg").exists());
    for v in &VERSIONS[1..] {
        assert!(to.join(format!("kde-linux_{v}_root-x86-64.erofs")).exists());
    }
    assert!(
        !to.join(format!("kde-linux_{}_root-x86-64.erofs", VERSIONS[0]))
            .exists(),
        "only the newest two"
    );
    let needed: BTreeSet<String> = VERSIONS[1..]
        .iter()
        .flat_map(|v| ids(&src.join(format!("kde-linux_{v}_root-x86-64.caibx"))))
        .collect();
    assert_eq!(
        stored(&to.join("store")),
        needed,
        "exactly the chunks the kept versions need"
    );
    assert!(!to.join(".incoming").exists());

    // Served by nginx: a system updates from it.
    let nginx = testbed::nginx::Nginx::serve(&to).expect("nginx");
    updates_from(&system(&key), &nginx.url, &src);
    // On a stick: a system uses the folder as its source.
    let stick_system = system(&key);
    let stick = stick_system.system.root.join("media/stick");
    std::fs::create_dir_all(stick.parent().expect("media")).expect("media");
    let status = Command::new("cp")
        .arg("-a")
        .arg(&to)
        .arg(&stick)
        .status()
        .expect("cp");
    assert!(status.success());
    updates_from(&stick_system, "/media/stick", &src);

    // A folder that holds other things is never taken for a mirror.
    let other = dir.path().join("other");
    std::fs::create_dir_all(&other).expect("other");
    std::fs::write(other.join("notes.txt"), "keep me").expect("file");
    let (ok, _, err) = mirror(&admin.system.root, &server.url, &other);
    assert!(!ok && err.contains("not empty"), "{err}");
    assert!(other.join("notes.txt").exists());

    // The next run, after a new version: the oldest kept one and its chunks go, and what is
    // there already is not fetched again.
    let newer = "202612010800";
    let image = src.join(format!("kde-linux_{newer}_root-x86-64.erofs"));
    testbed::system::demo_usr_image(&image, newer).expect("image");
    testbed::system::publish_index(
        &image,
        &src.join(format!("kde-linux_{newer}_root-x86-64.caibx")),
        Some(&src.join("store")),
    )
    .expect("index");
    std::fs::write(src.join(format!("kde-linux_{newer}.efi")), "MZ UKI newer\n").expect("uki");
    testbed::mirror::write_sums(&src).expect("sums");
    key.sign_detached(&src.join("SHA256SUMS"), &src.join("SHA256SUMS.gpg"))
        .expect("sign");
    let (ok, out, err) = mirror(&admin.system.root, &server.url, &to);
    assert!(ok, "{err}");
    let report: serde_json::Value = serde_json::from_str(out.trim()).expect("JSON");
    assert_eq!(report["versions"], serde_json::json!([newer, VERSIONS[2]]));
    let image_bytes = std::fs::metadata(&image).expect("image").len();
    let downloaded = report["downloaded_bytes"].as_u64().expect("bytes");
    assert!(
        downloaded < image_bytes + 2 * 1024 * 1024,
        "only the new version's files and new chunks: {report}"
    );
    assert!(
        !to.join(format!("kde-linux_{}_root-x86-64.erofs", VERSIONS[1]))
            .exists(),
        "the oldest kept version went"
    );
    let needed: BTreeSet<String> = [newer, VERSIONS[2]]
        .iter()
        .flat_map(|v| ids(&src.join(format!("kde-linux_{v}_root-x86-64.caibx"))))
        .collect();
    assert_eq!(
        stored(&to.join("store")),
        needed,
        "chunks no kept version needs went"
    );
}

#[test]
fn a_corrupt_file_a_bad_signature_or_a_damaged_chunk_publishes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = GpgKey::generate(KeyKind::Ed25519, "KDE Linux <sign@example.org>").expect("key");
    let admin = system(&key);
    type Damage = Box<dyn Fn(&Path)>;
    let cases: [(&str, Damage, &str); 3] = [
        (
            "a corrupt image",
            Box::new(|src: &Path| {
                let image = src.join(format!("kde-linux_{}_root-x86-64.erofs", VERSIONS[2]));
                let mut bytes = std::fs::read(&image).expect("image");
                bytes[100] ^= 1;
                std::fs::write(image, bytes).expect("corrupt");
            }),
            "does not match its SHA-256",
        ),
        (
            "a list signed by another key",
            Box::new(|src: &Path| {
                let other =
                    GpgKey::generate(KeyKind::Ed25519, "Mallory <m@example.org>").expect("key");
                other
                    .sign_detached(&src.join("SHA256SUMS"), &src.join("SHA256SUMS.gpg"))
                    .expect("sign");
            }),
            "signature",
        ),
        (
            "a damaged chunk",
            Box::new(|src: &Path| {
                let index = src.join(format!("kde-linux_{}_root-x86-64.caibx", VERSIONS[2]));
                let id = ids(&index).into_iter().next().expect("a chunk");
                let chunk = src.join("store").join(&id[..4]).join(format!("{id}.cacnk"));
                std::fs::write(chunk, zstd_bytes(b"not the chunk")).expect("damage");
            }),
            "does not match its id",
        ),
    ];
    for (name, damage, says) in cases {
        let src = source(&dir.path().join(name.replace(' ', "-")), &key);
        damage(&src);
        let server = testbed::mirror::HttpMirror::serve(&src).expect("serve");
        let to = dir.path().join(format!("{}-out", name.replace(' ', "-")));
        let (ok, _, err) = mirror(&admin.system.root, &server.url, &to);
        assert!(!ok, "{name}: mirrored");
        assert!(err.contains(says), "{name}: {err}");
        let published: Vec<_> = std::fs::read_dir(&to)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| !n.starts_with('.'))
                    .collect()
            })
            .unwrap_or_default();
        assert!(published.is_empty(), "{name}: published {published:?}");
    }
}

fn zstd_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut child = Command::new("zstd")
        .args(["-q", "-c"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("zstd");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(bytes)
        .expect("write");
    child.wait_with_output().expect("zstd").stdout
}

#[test]
fn an_interrupted_mirror_resumes_without_fetching_again_what_it_verified() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = GpgKey::generate(KeyKind::Ed25519, "KDE Linux <sign@example.org>").expect("key");
    let src = source(dir.path(), &key);
    let nginx = testbed::nginx::Nginx::serve_limited(&src, Some("1m")).expect("nginx");
    let admin = system(&key);
    let to = dir.path().join("mirror");
    let mut child = helper()
        .args(["mirror", "--keep", "2", "--root"])
        .arg(&admin.system.root)
        .arg(&nginx.url)
        .arg(&to)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("mirror");
    // Killed once a file has arrived whole in the incoming folder.
    let incoming = to.join(".incoming");
    loop {
        assert!(child.try_wait().expect("wait").is_none(), "it ended first");
        let whole = std::fs::read_dir(&incoming)
            .map(|d| {
                d.flatten()
                    .filter_map(|e| e.metadata().ok())
                    .any(|m| m.is_file() && m.len() > 1024 * 1024)
            })
            .unwrap_or(false);
        if whole {
            break;
        }
        std::thread::yield_now();
    }
    child.kill().expect("kill");
    child.wait().expect("reaped");
    assert!(!to.join("SHA256SUMS").exists(), "nothing published yet");
    // nginx logs a request once it notices the client gone, which may be a moment after the
    // kill: what it sent to the killed run is read until the whole file is in it.
    let mut first: u64 = 0;
    let logged = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while first <= 1024 * 1024 && std::time::Instant::now() < logged {
        first += nginx.take_sent().expect("log").0;
        std::thread::yield_now();
    }
    let (ok, out, err) = mirror(&admin.system.root, &nginx.url, &to);
    assert!(ok, "{err}");
    let report: serde_json::Value = serde_json::from_str(out.trim()).expect("JSON");
    let (second, _) = nginx.take_sent().expect("log");
    // What a run from nothing fetches, for comparison.
    let fresh_to = dir.path().join("fresh");
    let (ok, _, err) = mirror(&admin.system.root, &nginx.url, &fresh_to);
    assert!(ok, "{err}");
    let (fresh, _) = nginx.take_sent().expect("log");
    assert!(first > 1024 * 1024);
    // The file that had arrived whole (over 1 MB) is not fetched again.
    assert!(
        second + 1024 * 1024 <= fresh,
        "the second run fetched {second} bytes, a run from nothing {fresh}: {report}"
    );
    assert!(to.join("SHA256SUMS").exists());
}
