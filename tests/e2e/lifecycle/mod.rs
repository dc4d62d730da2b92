//! Getting back, on real roots with the offline helper: the boot-counting sequence of
//! systemd-boot and systemd-bless-boot done on the files exactly as they do it (stage `+2-0`,
//! failed tries `+1-1` and `+0-2`, the older version boots: the fallback is found, flagged and
//! recorded; a blessed boot is recorded as good), rollback to every retained version and
//! forward again through EFI variables or `loader.conf`, pins that vacuum honours, and the
//! health checks (pass, fail, hang, wanted-only failures, skips, `/etc` overrides and masks,
//! reboot into the previous version). The invariants of architecture.md are checked after
//! each step.

use std::path::Path;
use testbed::firmware::{self, bless, counter, read_var, running, try_boot};
use testbed::mirror::{self, HttpMirror, MirrorVersion};
use testbed::setup::{Built, Setup};
use testbed::system::{Images, KdeLinuxRoot, VersionSpec};
use testbed::{inspect, offline};

const A: &str = "202611010800";
const B: &str = "202611150800";
const C: &str = "202611200800";
const D: &str = "202611250800";

mod health;

fn assert_invariants(root: &Path, step: &str) {
    let broken = testbed::invariants::broken(root);
    assert!(broken.is_empty(), "after {step}: {broken:#?}");
}

/// The states of `version` in `inspect --json`, as their `state` names.
fn states(root: &Path, version: &str) -> Vec<String> {
    inspect(root)["states"][version]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| s["state"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn next_boot(root: &Path) -> String {
    inspect(root)["boot"]["next"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

struct Staged {
    _dir: tempfile::TempDir,
    system: KdeLinuxRoot,
    _server: HttpMirror,
}

/// A and B installed, B running (with EFI variables), and C staged from a mirror.
fn staged() -> Staged {
    let Built {
        dir,
        system,
        server,
        ..
    } = Setup::new()
        .installed([VersionSpec::complete(A), VersionSpec::complete(B)])
        .booted(Some(B))
        .prepare_system(|system| {
            firmware::enable_efivars(&system.root).expect("efivars");
            running(&system.root, B).expect("running");
        })
        .offering_versions([MirrorVersion::complete(C)], Images::Plain)
        .build();
    let (ok, _, err) = offline(&system.root, &["update"]);
    assert!(ok, "{err}");
    assert_eq!(counter(&system.root, C), Some((2, 0)), "staged on trial");
    Staged {
        _dir: dir,
        system,
        _server: server.expect("the mirror"),
    }
}

#[test]
fn a_version_that_fails_to_boot_twice_is_found_flagged_and_held_back() {
    let s = staged();
    let root = &s.system.root;
    let st = states(root, C);
    assert!(st.contains(&"on-trial".to_string()), "{st:?}");
    assert!(st.contains(&"default".to_string()), "{st:?}");
    assert_eq!(next_boot(root), format!("kde-linux_{C}.efi"));
    // Two failed tries: systemd-boot counts down before each, nothing blesses.
    try_boot(root, C).expect("try");
    assert_eq!(counter(root, C), Some((1, 1)));
    assert_eq!(
        next_boot(root),
        format!("kde-linux_{C}.efi"),
        "one try left"
    );
    try_boot(root, C).expect("try");
    assert_eq!(counter(root, C), Some((0, 2)));
    assert_eq!(
        next_boot(root),
        format!("kde-linux_{B}.efi"),
        "an entry without tries sorts last: the older version boots"
    );
    running(root, B).expect("B boots");
    assert_invariants(root, "the fallback");

    let (ok, out, err) = offline(root, &["boot-record", "--json"]);
    assert!(ok, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(report["version"], B);
    assert_eq!(report["good"], true);
    assert_eq!(report["fallback"]["failed"], C);
    assert_eq!(report["fallback"]["tries"], 2);
    assert_eq!(report["fallback"]["running"], B);
    let st = states(root, C);
    assert!(st.contains(&"failed".to_string()), "{st:?}");
    assert!(st.contains(&"held-back".to_string()), "{st:?}");
    let (_, text, _) = offline(root, &["inspect"]);
    assert!(
        text.contains(&format!(
            "Attention: version {C} failed to boot 2 times; running {B}"
        )),
        "{text}"
    );
    // Found once: the next boot does not report it again, the flag stays.
    let (_, out, _) = offline(root, &["boot-record", "--json"]);
    assert!(out.contains("\"fallback\":null"), "{out}");
    assert!(!inspect(root)["lifecycle"]["fallback"].is_null());
    let (ok, out, _) = offline(root, &["acknowledge-fallback"]);
    assert!(ok && out.contains("Acknowledged"), "{out}");
    assert!(inspect(root)["lifecycle"]["fallback"].is_null());
    let (_, history, _) = offline(root, &["history", "--json"]);
    for kind in [
        "fallback-detected",
        "fallback-acknowledged",
        "booted",
        "committed",
    ] {
        assert!(history.contains(kind), "{kind} in {history}");
    }
    assert_invariants(root, "acknowledging");

    // The failed version is held back: gone from the disk, it is not staged again by itself.
    for file in [
        "system/kde-linux_{}.erofs",
        "system/kde-linux_{}.erofs.caibx",
    ] {
        std::fs::remove_file(root.join(file.replace("{}", C))).expect("remove");
    }
    std::fs::remove_file(firmware::entry_file(root, C).expect("entry")).expect("remove");
    let (ok, _, err) = offline(root, &["update"]);
    assert!(!ok && err.contains("held back"), "{err}");
    let (ok, _, err) = offline(root, &["update", C]);
    assert!(ok, "by name it installs: {err}");
    assert!(
        !inspect(root)["lifecycle"]["held_back"]
            .as_array()
            .expect("held back")
            .iter()
            .any(|v| v == C)
    );
    assert_invariants(root, "installing it again");
}

#[test]
fn a_blessed_boot_is_recorded_as_good() {
    let s = staged();
    let root = &s.system.root;
    try_boot(root, C).expect("try");
    running(root, C).expect("C runs");
    let (_, out, _) = offline(root, &["boot-record", "--json"]);
    let report: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(report["good"], false, "still on trial before blessing");
    assert_eq!(report["tries_left"], 1);
    bless(root, C).expect("bless");
    let (ok, out, err) = offline(root, &["boot-record", "--json"]);
    assert!(ok, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(report["version"], C);
    assert_eq!(report["entry"], format!("kde-linux_{C}.efi"));
    assert_eq!(report["good"], true);
    assert!(report["fallback"].is_null());
    assert_eq!(states(root, C), vec!["running", "default"]);
    assert_invariants(root, "blessing");
}

/// A, B, C complete, D without its image, C running.
fn retained(efivars: bool) -> (tempfile::TempDir, KdeLinuxRoot) {
    let mut incomplete = VersionSpec::complete(D);
    incomplete.erofs = false;
    incomplete.uki = false;
    let built = Setup::new()
        .installed([
            VersionSpec::complete(A),
            VersionSpec::complete(B),
            VersionSpec::complete(C),
            incomplete,
        ])
        .booted(Some(C))
        .prepare_system(move |system| {
            if efivars {
                firmware::enable_efivars(&system.root).expect("efivars");
            }
            running(&system.root, C).expect("running");
        })
        .build();
    (built.dir, built.system)
}

#[test]
fn rollback_to_each_retained_version_once_and_forward_again() {
    let (_dir, system) = retained(true);
    let root = &system.root;
    assert_eq!(next_boot(root), format!("kde-linux_{C}.efi"));
    for (version, held) in [(B, vec![C, D]), (A, vec![B, C, D])] {
        let (ok, out, err) = offline(root, &["rollback", version]);
        assert!(ok, "{err}");
        assert!(out.contains("LoaderEntryDefault"), "{out}");
        assert_eq!(
            read_var(root, "LoaderEntryDefault"),
            Some(format!("kde-linux_{version}.efi"))
        );
        assert_eq!(next_boot(root), format!("kde-linux_{version}.efi"));
        assert!(states(root, version).contains(&"default".to_string()));
        let value = inspect(root);
        let held_back: Vec<&str> = value["lifecycle"]["held_back"]
            .as_array()
            .expect("held back")
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        assert_eq!(held_back, held, "after rolling back to {version}");
        assert_invariants(root, &format!("rolling back to {version}"));
    }
    // An incomplete or unknown version is refused, and nothing changes.
    let (ok, _, err) = offline(root, &["rollback", D]);
    assert!(!ok && err.contains("incomplete"), "{err}");
    let (ok, _, err) = offline(root, &["rollback", "209901010000"]);
    assert!(!ok && err.contains("not installed"), "{err}");
    assert_eq!(
        read_var(root, "LoaderEntryDefault"),
        Some(format!("kde-linux_{A}.efi"))
    );
    // Once: the next boot only; the default stays.
    let (ok, _, err) = offline(root, &["rollback", "--once", B]);
    assert!(ok, "{err}");
    assert_eq!(
        read_var(root, "LoaderEntryOneShot"),
        Some(format!("kde-linux_{B}.efi"))
    );
    assert_eq!(next_boot(root), format!("kde-linux_{B}.efi"));
    assert_eq!(
        inspect(root)["boot"]["default"],
        format!("kde-linux_{A}.efi")
    );
    assert!(states(root, B).contains(&"next-boot-once".to_string()));
    assert_invariants(root, "booting once");
    // Forward again: the same operation.
    std::fs::remove_file(
        root.join("sys/firmware/efi/efivars")
            .join(format!("LoaderEntryOneShot-{}", firmware::LOADER_VENDOR)),
    )
    .expect("the firmware consumes the one-shot entry");
    let (ok, _, err) = offline(root, &["rollback", C]);
    assert!(ok, "{err}");
    assert_eq!(next_boot(root), format!("kde-linux_{C}.efi"));
    let value = inspect(root);
    assert_eq!(
        value["lifecycle"]["held_back"],
        serde_json::json!([D]),
        "only what is newer than the choice stays held back"
    );
    assert_invariants(root, "rolling forward");
    let (_, history, _) = offline(root, &["history", "--kind", "rolled-back", "--json"]);
    let records: serde_json::Value = serde_json::from_str(&history).expect("JSON");
    let order: Vec<&str> = records
        .as_array()
        .expect("records")
        .iter()
        .filter_map(|r| r["version"].as_str())
        .collect();
    assert_eq!(order, vec![C, B, A, B], "newest first");
}

#[test]
fn pinned_and_default_versions_survive_vacuum() {
    let (_dir, system) = retained(true);
    let root = &system.root;
    system.set_instances_max(2).expect("InstancesMax");
    let (ok, out, err) = offline(root, &["pin", A]);
    assert!(ok && out.contains("pinned"), "{out}{err}");
    let (ok, _, err) = offline(root, &["pin", "209901010000"]);
    assert!(!ok && err.contains("not installed"), "{err}");
    let (ok, _, err) = offline(root, &["rollback", B]);
    assert!(ok, "{err}");
    let (ok, out, err) = offline(root, &["vacuum", "--json"]);
    assert!(ok, "{err}");
    let removed: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(
        removed["removed"],
        serde_json::json!([D]),
        "A is pinned, B the default, C running"
    );
    let left: Vec<String> = inspect(root)["inventory"]["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| v["version"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(left, vec![C, B, A]);
    assert_invariants(root, "vacuum");
    let (ok, _, _) = offline(root, &["unpin", A]);
    assert!(ok);
    let (_, out, _) = offline(root, &["vacuum", "--json"]);
    assert!(out.contains(A), "unpinned, it goes: {out}");
}

#[test]
fn without_efi_variables_rollback_writes_loader_conf_and_an_update_hands_the_choice_back() {
    let built = Setup::new()
        .installed([VersionSpec::complete(A), VersionSpec::complete(B)])
        .booted(Some(B))
        .build();
    let system = &built.system;
    let root = &system.root;
    let conf = root.join("efi/loader/loader.conf");
    std::fs::write(&conf, "timeout 3\n").expect("loader.conf");
    let (ok, out, err) = offline(root, &["rollback", A]);
    assert!(ok && out.contains("loader.conf"), "{out}{err}");
    let text = std::fs::read_to_string(&conf).expect("read");
    assert!(
        text.contains(&format!("default kde-linux_{A}.efi")) && text.contains("timeout 3"),
        "{text}"
    );
    assert_eq!(next_boot(root), format!("kde-linux_{A}.efi"));
    let (ok, _, err) = offline(root, &["rollback", "--once", B]);
    assert!(!ok && err.contains("needs EFI variables"), "{err}");
    assert_invariants(root, "rolling back through loader.conf");

    // The mirror comes only now: the rollbacks above ran with the unreachable default source.
    let mirror_dir = built.dir.path().join("mirror");
    mirror::create(
        &mirror_dir,
        &[MirrorVersion::complete(C)],
        Images::Plain,
        None,
    )
    .expect("mirror");
    let server = HttpMirror::serve(&mirror_dir).expect("serve");
    system.use_source(&server.url, false).expect("source");
    let (ok, _, err) = offline(root, &["update"]);
    assert!(ok, "{err}");
    let text = std::fs::read_to_string(&conf).expect("read");
    assert_eq!(
        text, "timeout 3\n",
        "the rollback's default is gone, the rest kept"
    );
    assert_eq!(
        next_boot(root),
        format!("kde-linux_{C}.efi"),
        "the new version boots on trial"
    );
    assert_invariants(root, "updating after a rollback");
}

#[test]
fn pins_made_at_the_same_time_are_all_kept() {
    // Several helpers (threads here, processes on a system: the boot record, the service)
    // change state.json at once; each change reads, changes and writes the file under its
    // lock, so none is lost to another's older copy.
    let (_dir, system) = retained(false);
    let layout = update_center_engine::installed::inventory::Layout::detect(
        &system.root,
        Some(Path::new("/efi")),
        None,
        true,
    );
    let state = update_center_engine::read_system(&layout).expect("state");
    std::thread::scope(|scope| {
        for version in [A, B, C] {
            let (layout, state) = (&layout, &state);
            scope.spawn(move || {
                for _ in 0..20 {
                    update_center_engine::lifecycle::set_pinned(layout, state, version, false)
                        .expect("unpin");
                    update_center_engine::lifecycle::set_pinned(layout, state, version, true)
                        .expect("pin");
                }
            });
        }
    });
    let pinned = update_center_engine::lifecycle::load(&layout)
        .expect("state")
        .pinned;
    assert_eq!(
        pinned.into_iter().collect::<Vec<_>>(),
        vec![A.to_string(), B.to_string(), C.to_string()]
    );
}
