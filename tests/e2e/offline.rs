//! The helper's offline entry point on a mounted root, without D-Bus: `update-center-helper
//! inspect --root DIR [--json]` prints the versions the GUI shows.

use std::path::Path;
use std::process::Command;
use testbed::mounts::Mounted;
use testbed::setup::Setup;
use testbed::system::{Images, KdeLinuxRoot, VersionSpec};

fn inspect(root: &Path, json: bool) -> (bool, String, String) {
    let mut command = Command::new(testbed::binary("update-center-helper").expect("helper binary"));
    command.env("SYSTEMD_RELAX_ESP_CHECKS", "1");
    command.arg("inspect").arg("--root").arg(root);
    if json {
        command.arg("--json");
    }
    testbed::run(&mut command)
}

#[test]
fn inspect_prints_the_demo_versions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let system = KdeLinuxRoot::demo(dir.path(), Images::Erofs).expect("demo system");
    let (ok, text, stderr) = inspect(&system.root, false);
    assert!(ok, "{stderr}");
    for spec in &system.versions {
        assert!(text.contains(&format!("  {}", spec.version)), "{text}");
    }
    let booted = system.booted.as_deref().expect("booted");
    assert!(
        text.contains(&format!("{booted}  [running; default]")),
        "{text}"
    );
}

#[test]
fn inspect_json_is_stable_and_complete() {
    let mut incomplete = VersionSpec::complete("202611261000");
    incomplete.erofs = false;
    let built = Setup::new()
        .installed([VersionSpec::complete("202611251200"), incomplete])
        .booted(Some("202611251200"))
        .build();
    let system = &built.system;
    let (ok, text, stderr) = inspect(&system.root, true);
    assert!(ok, "{stderr}");
    let value: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(value["format"], 1);
    let listed: Vec<(String, bool, bool)> = value["inventory"]["versions"]
        .as_array()
        .expect("versions array")
        .iter()
        .map(|v| {
            (
                v["version"].as_str().expect("version").to_string(),
                v["complete"].as_bool().expect("complete"),
                v["booted"].as_bool().expect("booted"),
            )
        })
        .collect();
    assert_eq!(
        listed,
        vec![
            ("202611261000".to_string(), false, false),
            ("202611251200".to_string(), true, true),
        ]
    );
    assert_eq!(
        value["inventory"]["versions"][0]["missing_transfers"][0],
        "50-root-x86-64-erofs"
    );
    let transfers = value["definitions"]["transfers"]
        .as_array()
        .expect("transfers");
    assert_eq!(transfers.len(), 3);
    assert_eq!(
        transfers[2]["target"]["patterns"].as_array().map(Vec::len),
        Some(6)
    );
}

#[test]
fn inspect_reports_a_malformed_definition_and_fails() {
    let built = Setup::new().empty().build();
    let system = &built.system;
    let file = system
        .root
        .join("usr/lib/sysupdate.d/50-root-x86-64-erofs.transfer");
    let text = std::fs::read_to_string(&file).expect("read").replace(
        "MatchPattern=kde-linux_@v.erofs",
        "MatchPattern=kde-linux_@v@l.erofs",
    );
    std::fs::write(&file, text).expect("write");
    let (ok, _, stderr) = inspect(&system.root, false);
    assert!(!ok);
    assert!(
        stderr.contains("/usr/lib/sysupdate.d/50-root-x86-64-erofs.transfer:13: MatchPattern=: invalid pattern `kde-linux_@v@l.erofs`"),
        "{stderr}"
    );
}

#[test]
fn a_separate_boot_file_system_beside_the_esp_is_xbootldr() {
    let mut without_uki = VersionSpec::complete("202611251200");
    without_uki.uki = false;
    let built = Setup::new()
        .installed([without_uki])
        .booted(Some("202611251200"))
        .build();
    let system = &built.system;
    let boot = system.root.join("boot");
    let _mount = Mounted::tmpfs(&boot, None).expect("tmpfs");
    std::fs::create_dir_all(boot.join("loader")).expect("mkdir");
    std::fs::create_dir_all(boot.join("EFI/Linux")).expect("mkdir");
    std::fs::write(boot.join("EFI/Linux/kde-linux_202611251200.efi"), b"MZ").expect("write");
    let (ok, text, stderr) = inspect(&system.root, true);
    assert!(ok, "{stderr}");
    let value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let version = &value["inventory"]["versions"][0];
    assert_eq!(
        version["complete"], true,
        "the UKI on XBOOTLDR counts: {version}"
    );
    assert_eq!(
        version["instances"][2]["path"],
        "/boot/EFI/Linux/kde-linux_202611251200.efi"
    );
}
