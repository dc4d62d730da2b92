//! `update-center-helper changelog` against a real HTTP mirror on 127.0.0.1: release notes of
//! only the versions in between from the `AppStream=` metainfo, `ChangeLog=` links, the package
//! diff from mkosi-style JSON manifests, all still there from the cache once the mirror is
//! gone; a metainfo that is too large is reported, not parsed.

use std::path::Path;
use testbed::mirror::{self, MirrorVersion};
use testbed::offline;
use testbed::setup::{Built, Setup};
use testbed::system::{Images, VersionSpec};

const A: &str = "202611010800";
const B: &str = "202611150800";
const BETWEEN: &str = "202611180800";
const C: &str = "202611200800";

fn metainfo() -> String {
    let release = |v: &str, text: &str| {
        format!(
            "<release version=\"{v}\" date=\"2026-11-{}\"><description><p>{text}</p></description></release>",
            &v[6..8]
        )
    };
    format!(
        "<?xml version=\"1.0\"?>\n<component type=\"operating-system\"><id>org.kde.linux</id><releases>{}{}{}{}</releases></component>",
        release(C, "Plasma 6.6"),
        release(BETWEEN, "A kernel fix"),
        release(B, "Older news"),
        release(A, "Oldest news"),
    )
}

fn manifest(packages: &[(&str, &str)]) -> String {
    let list: Vec<String> = packages
        .iter()
        .map(|(n, v)| {
            format!("{{\"type\":\"pacman\",\"name\":\"{n}\",\"version\":\"{v}\",\"architecture\":\"x86_64\"}}")
        })
        .collect();
    format!(
        "{{\"manifest_version\":1,\"packages\":[{}]}}",
        list.join(",")
    )
}

/// A and B installed, B running; the mirror offers C with the metainfo `metainfo_text`, the
/// manifests of B and C, and a `ChangeLog=` link in the image's transfer.
fn setup(metainfo_text: &str) -> Built {
    let metainfo_text = metainfo_text.to_string();
    let built = Setup::new()
        .installed([VersionSpec::complete(A), VersionSpec::complete(B)])
        .booted(Some(B))
        .offering_versions([MirrorVersion::complete(C)], Images::Plain)
        .prepare_mirror(move |mirror_dir| {
            std::fs::write(mirror_dir.join("org.kde.linux.metainfo.xml"), metainfo_text)
                .expect("write");
            std::fs::write(
                mirror_dir.join(format!("kde-linux_{B}.manifest")),
                manifest(&[
                    ("plasma-desktop", "6.5.3-1"),
                    ("linux", "6.17.1-1"),
                    ("gone", "1-1"),
                ]),
            )
            .expect("write");
            std::fs::write(
                mirror_dir.join(format!("kde-linux_{C}.manifest")),
                manifest(&[
                    ("plasma-desktop", "6.6.0-1"),
                    ("linux", "6.16.9-1"),
                    ("ollama", "0.12-1"),
                ]),
            )
            .expect("write");
            mirror::write_sums(mirror_dir).expect("sums");
        })
        .build();
    let transfer = built
        .system
        .root
        .join("usr/lib/sysupdate.d/50-root-x86-64-erofs.transfer");
    let text = std::fs::read_to_string(&transfer).expect("read");
    let text = text
        .replace("https://mirror.invalid/kde-linux/", &built.server().url)
        .replace(
            "[Source]",
            "ChangeLog=https://kde.org/linux/changes/@v\n\n[Source]",
        );
    std::fs::write(&transfer, text).expect("write");
    built
}

fn changelog(root: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["changelog", "--json"];
    all.extend_from_slice(args);
    let (ok, out, err) = offline(root, &all);
    assert!(ok, "{err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[test]
fn release_notes_links_and_packages_between_the_running_version_and_the_update() {
    let mut built = setup(&metainfo());
    let system = &built.system;
    let log = changelog(&system.root, &[]);
    assert_eq!(log["from"], B, "from the running version");
    assert_eq!(log["to"], C, "to the update on offer");
    let versions: Vec<&str> = log["releases"]
        .as_array()
        .expect("releases")
        .iter()
        .filter_map(|r| r["version"].as_str())
        .collect();
    assert_eq!(versions, vec![C, BETWEEN], "only the releases in between");
    assert_eq!(log["releases"][0]["description"][0], "Plasma 6.6");
    assert_eq!(
        log["links"],
        serde_json::json!([format!("https://kde.org/linux/changes/{C}")])
    );
    let packages = &log["packages"];
    assert_eq!(packages["upgraded"][0]["name"], "plasma-desktop");
    assert_eq!(packages["downgraded"][0]["name"], "linux");
    assert_eq!(packages["added"][0]["name"], "ollama");
    assert_eq!(packages["removed"][0]["name"], "gone");
    assert_eq!(log["notes"], serde_json::json!([]));
    let (_, text, _) = offline(&system.root, &["changelog"]);
    assert!(
        text.contains("↑ plasma-desktop 6.5.3-1 → 6.6.0-1"),
        "{text}"
    );

    // Staging C keeps its manifest; with the mirror gone, the cache answers.
    let (ok, _, err) = offline(&system.root, &["update"]);
    assert!(ok, "{err}");
    drop(built.server.take());
    let log = changelog(&system.root, &[C, B]);
    assert_eq!(log["from"], B, "either order");
    assert_eq!(log["releases"].as_array().map(Vec::len), Some(2), "{log}");
    assert_eq!(log["packages"]["added"][0]["name"], "ollama");
}

#[test]
fn a_metainfo_that_is_too_large_is_reported_and_the_packages_still_shown() {
    let huge = format!(
        "<component><releases>{}</releases></component>",
        "<release version=\"1\"/>".repeat(150_000)
    );
    let built = setup(&huge);
    let system = &built.system;
    let log = changelog(&system.root, &[B, C]);
    assert_eq!(log["releases"], serde_json::json!([]));
    let notes = log["notes"].to_string();
    assert!(notes.contains("larger than"), "{notes}");
    assert_eq!(log["packages"]["added"][0]["name"], "ollama");
}
