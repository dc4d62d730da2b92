//! Staging a version with `update-center-helper update` against a real HTTP mirror on
//! 127.0.0.1: the files on disk afterwards equal those systemd-sysupdate 257 leaves on the same
//! fixture; a mirror serving wrong bytes changes nothing installed; a partition without room is
//! refused before any write.

use std::path::Path;
use std::process::Command;
use testbed::mirror::{self, HttpMirror, MirrorVersion};
use testbed::mounts::Mounted;
use testbed::scenarios;
use testbed::setup::Setup;
use testbed::system::{Images, VersionSpec, installed_files as files};

fn systemd_update(root: &Path) {
    testbed::oracle::run(root, &["update"]);
}

#[test]
fn update_leaves_the_same_files_as_systemd_sysupdate() {
    // Four installed, InstancesMax=4: the oldest goes, the candidate arrives with `+2-0`.
    let scenario = scenarios::all()
        .into_iter()
        .find(|s| s.name == "kde-linux-four-installed")
        .expect("scenario");
    let ours = tempfile::tempdir().expect("tempdir");
    let theirs = tempfile::tempdir().expect("tempdir");
    let mut servers = Vec::new();
    let mut build = |dir: &Path| {
        scenario
            .build(dir, |mirror_dir| {
                let server = HttpMirror::serve(mirror_dir)?;
                let url = server.url.clone();
                servers.push(server);
                Ok(url)
            })
            .expect("scenario")
    };
    let a = build(ours.path());
    let b = build(theirs.path());
    let (ok, out, err) = testbed::offline(&a.root, &["update"]);
    assert!(ok, "{err}");
    assert!(out.contains("Installed 202611260800"), "{out}");
    systemd_update(&b.root);
    let (mine, reference) = (files(&a.root), files(&b.root));
    // The new version: the same names (boot counter included), sizes, hashes and modes.
    let new = |all: &[(String, u64, String, u32)]| -> Vec<(String, u64, String, u32)> {
        all.iter()
            .filter(|f| f.0.contains("202611260800"))
            .cloned()
            .collect()
    };
    assert_eq!(
        new(&mine),
        new(&reference),
        "the new version's files differ from systemd-sysupdate's"
    );
    assert_eq!(new(&mine).len(), 3);
    assert!(
        mine.iter()
            .any(|(p, ..)| p == "efi/EFI/Linux/kde-linux_202611260800+2-0.efi"),
        "{mine:?}"
    );
    // Deliberately safer than systemd-sysupdate: it vacuums each transfer on its own and here
    // removes the images of 202610150800 but keeps its UKI — a boot entry without its image,
    // KDE Linux's failure 3. The helper removes whole versions only: every version left has all
    // its files, and every version systemd-sysupdate removed completely is gone here too.
    let versions_of =
        |all: &[(String, u64, String, u32)]| -> std::collections::BTreeMap<String, usize> {
            let mut count = std::collections::BTreeMap::new();
            for (path, ..) in all {
                let name = path.rsplit('/').next().unwrap_or("");
                let version: String = name
                    .trim_start_matches("kde-linux_")
                    .chars()
                    .take(12)
                    .collect();
                *count.entry(version).or_insert(0) += 1;
            }
            count
        };
    let (ours_left, theirs_left) = (versions_of(&mine), versions_of(&reference));
    assert!(
        ours_left.values().all(|n| *n == 3),
        "a version was split: {ours_left:?}"
    );
    for version in ours_left.keys() {
        assert!(
            theirs_left.contains_key(version),
            "{version} is kept although systemd-sysupdate removed it wholly"
        );
    }
    assert!(
        !ours_left.contains_key("202610010800"),
        "the oldest version is removed"
    );
    let history = std::fs::read_to_string(a.root.join("var/lib/update-center/history.jsonl"))
        .expect("history");
    for event in ["\"started\"", "\"removed\"", "\"committed\""] {
        assert!(history.contains(event), "{history}");
    }
}

/// Two versions installed, the newer one running; a mirror offering `mirror_versions` (to be
/// built).
fn small_system(mirror_versions: impl Into<Vec<MirrorVersion>>) -> Setup {
    Setup::new()
        .installed([
            VersionSpec::complete("202611010800"),
            VersionSpec::complete("202611150800"),
        ])
        .booted(Some("202611150800"))
        .offering_versions(mirror_versions, Images::Plain)
}

#[test]
fn wrong_bytes_from_the_mirror_change_nothing_and_a_healthy_mirror_then_works() {
    let built = small_system([MirrorVersion::complete("202611250800")]).build();
    let (system, mirror_dir, server) = (&built.system, &built.mirror_dir, built.server());
    // Same length, other bytes: only the hash can tell.
    let uki = mirror_dir.join("kde-linux_202611250800.efi");
    let original = std::fs::read(&uki).expect("read");
    let mut evil = original.clone();
    evil[0] ^= 0xff;
    std::fs::write(&uki, &evil).expect("write");
    let before = files(&system.root);
    let (ok, _, err) = testbed::offline(&system.root, &["update"]);
    assert!(!ok);
    assert!(
        err.contains(&format!(
            "{}kde-linux_202611250800.efi does not match its SHA-256",
            server.url
        )),
        "{err}"
    );
    assert_eq!(files(&system.root), before, "nothing installed may change");
    std::fs::write(&uki, &original).expect("repair the mirror");
    let (ok, out, err) = testbed::offline(&system.root, &["update"]);
    assert!(ok, "{err}");
    assert!(out.contains("Installed 202611250800"), "{out}");
}

#[test]
fn a_version_offered_in_part_is_refused_by_name() {
    let partial = MirrorVersion {
        erofs: false,
        ..MirrorVersion::complete("202611250800")
    };
    let built = small_system([partial]).build();
    let system = &built.system;
    let (ok, _, err) = testbed::offline(&system.root, &["update", "202611250800"]);
    assert!(!ok);
    assert!(
        err.contains("version 202611250800 is offered without 50-root-x86-64-erofs"),
        "{err}"
    );
    let (ok, _, err) = testbed::offline(&system.root, &["update"]);
    assert!(!ok);
    assert!(err.contains("the system is up to date"), "{err}");
}

#[test]
fn a_full_esp_is_refused_before_any_write_with_what_to_do() {
    // A 3 MB UKI for an ESP of 2 MB that holds the two installed ones.
    let built = small_system([MirrorVersion::complete("202611250800")])
        .prepare_mirror(|mirror_dir| {
            std::fs::write(
                mirror_dir.join("kde-linux_202611250800.efi"),
                vec![b'U'; 3_000_000],
            )
            .expect("write");
            mirror::write_sums(mirror_dir).expect("sums");
        })
        .build();
    let system = &built.system;
    let _fs = Mounted::keeping_contents(&system.root.join("efi"), |at| {
        Mounted::tmpfs(at, Some("2m"))
    })
    .expect("a 2 MB tmpfs ESP");
    let before = files(&system.root);
    let (ok, _, err) = testbed::offline(&system.root, &["update"]);
    assert!(!ok);
    assert!(
        err.contains("the EFI system partition (/efi/EFI/Linux) needs")
            && err.contains("enlarge the partition"),
        "{err}"
    );
    assert_eq!(files(&system.root), before, "refused before any write");
}

#[test]
fn vacuum_removes_whole_old_versions_but_never_the_running_one() {
    let built = Setup::new()
        .installed([
            VersionSpec::complete("202610010800"),
            VersionSpec::complete("202610150800"),
            VersionSpec::complete("202611010800"),
            VersionSpec::complete("202611150800"),
        ])
        .booted(Some("202610150800"))
        .build();
    let system = &built.system;
    system.set_instances_max(2).expect("drop-ins");
    let (ok, out, err) = testbed::offline(&system.root, &["vacuum"]);
    assert!(ok, "{err}");
    assert!(out.contains("Removed 202610010800, 202611010800."), "{out}");
    let left: std::collections::BTreeSet<String> = files(&system.root)
        .into_iter()
        .map(|(p, ..)| {
            p.rsplit('/')
                .next()
                .unwrap_or("")
                .trim_start_matches("kde-linux_")
                .chars()
                .take(12)
                .collect()
        })
        .collect();
    let expected: std::collections::BTreeSet<String> =
        ["202610150800", "202611150800"].map(String::from).into();
    assert_eq!(left, expected, "whole versions, the running one kept");
    assert_eq!(files(&system.root).len(), 6);
    let (ok, out, _) = testbed::offline(&system.root, &["vacuum"]);
    assert!(ok && out.contains("Nothing to remove."), "{out}");
}

#[test]
fn json_progress_has_rate_and_eta_and_the_rate_limit_holds() {
    let built = small_system([MirrorVersion::complete("202611250800")])
        .prepare_mirror(|mirror_dir| {
            std::fs::write(
                mirror_dir.join("kde-linux_202611250800_root-x86-64.erofs"),
                vec![3u8; 4 * 1024 * 1024],
            )
            .expect("payload");
            mirror::write_sums(mirror_dir).expect("sums");
        })
        .build();
    let system = &built.system;
    let limit: u64 = 8_000_000;
    let (ok, out, err) = testbed::offline(
        &system.root,
        &["update", "--json", "--max-rate", &limit.to_string()],
    );
    assert!(ok, "{err}");
    let events: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(
        events.first().map(|e| e["event"].clone()),
        Some("plan".into())
    );
    assert_eq!(
        events.last().map(|e| e["event"].clone()),
        Some("installed".into())
    );
    let downloads: Vec<&serde_json::Value> =
        events.iter().filter(|e| e["event"] == "download").collect();
    assert!(
        downloads.len() > 10,
        "progress comes in steps: {}",
        downloads.len()
    );
    let last = downloads.last().expect("a download event");
    assert_eq!(last["done_bytes"], last["total_bytes"]);
    assert!(
        downloads.iter().any(|e| e["eta_secs"].is_u64()),
        "an ETA is given"
    );
    let fastest = downloads
        .iter()
        .filter_map(|e| e["rate_bytes_per_sec"].as_u64())
        .max()
        .unwrap_or(0);
    assert!(
        fastest > 0 && fastest <= limit + limit / 10,
        "average rate {fastest} B/s over a limit of {limit} B/s"
    );
}

/// A download relay as systemd runs it for `update-center-fetch.socket` (`Accept=yes`): a
/// listening socket, and for each connection a fresh `update-center-helper fetch-server` with
/// the connection as its standard input and output. Returns how many connections it served.
pub(crate) fn relay(socket: &Path) -> std::sync::Arc<std::sync::atomic::AtomicUsize> {
    let listener = std::os::unix::net::UnixListener::bind(socket).expect("bind");
    let served = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = served.clone();
    let helper = testbed::binary("update-center-helper").expect("helper");
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let input = stream.try_clone().expect("clone");
            let mut child = Command::new(&helper)
                .arg("fetch-server")
                .stdin(std::process::Stdio::from(std::os::fd::OwnedFd::from(input)))
                .stdout(std::process::Stdio::from(std::os::fd::OwnedFd::from(
                    stream,
                )))
                .spawn()
                .expect("fetch-server");
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            std::thread::spawn(move || child.wait());
        }
    });
    served
}

#[test]
fn an_update_through_the_download_relay_is_the_same_update() {
    let built = small_system([MirrorVersion::complete("202611250800")]).build();
    let (system, server) = (&built.system, built.server());
    let socket = built.dir.path().join("fetch.socket");
    let update = |socket: &Path| {
        Command::new(testbed::binary("update-center-helper").expect("helper"))
            .args(["update", "--esp", "/efi", "--root"])
            .arg(&system.root)
            .env(update_center_engine::source::relay::SOCKET_ENV, socket)
            .output()
            .expect("update")
    };
    // No relay listening: the error names it, and nothing changes.
    let before = files(&system.root);
    let output = update(&socket);
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(err.contains("cannot reach the download relay"), "{err}");
    assert_eq!(files(&system.root), before);
    assert!(server.requests.lock().expect("lock").is_empty());
    // With the relay every request goes through it, and the update is done.
    let served = relay(&socket);
    let output = update(&socket);
    let (out, err) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(output.status.success(), "{err}");
    assert!(out.contains("Installed 202611250800"), "{out}");
    let requests = server.requests.lock().expect("lock").len();
    assert!(requests >= 3, "{requests} requests");
    assert_eq!(
        served.load(std::sync::atomic::Ordering::SeqCst),
        requests,
        "one relay process per request, and no request around it"
    );
}
