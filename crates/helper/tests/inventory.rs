//! The engine on fixture roots shaped like KDE Linux: definitions and inventory.

use std::path::Path;
use testbed::system::{Images, KdeLinuxRoot, VersionSpec};
use update_center_engine::installed::inventory::Layout;
use update_center_engine::{EngineError, SystemState, read_system};

fn read(root: &Path) -> SystemState {
    read_system(&Layout::detect(root, None, None, true)).expect("readable system")
}

fn summary(state: &SystemState) -> Vec<(String, bool, bool)> {
    state
        .inventory
        .versions
        .iter()
        .map(|v| (v.version.clone(), v.complete, v.booted))
        .collect()
}

#[test]
fn complete_versions_newest_first_with_the_booted_one_marked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let system = KdeLinuxRoot::demo(dir.path(), Images::Plain).expect("fixture");
    let state = read(&system.root);
    assert_eq!(
        summary(&state),
        vec![
            ("202611251200".into(), true, true),
            ("202611200930".into(), true, false),
        ]
    );
    assert_eq!(state.inventory.booted.as_deref(), Some("202611251200"));
    let files: Vec<String> = state.inventory.versions[0]
        .instances
        .iter()
        .map(|i| i.path.display().to_string())
        .collect();
    assert_eq!(
        files,
        vec![
            "/system/kde-linux_202611251200.erofs.caibx",
            "/system/kde-linux_202611251200.erofs",
            "/efi/EFI/Linux/kde-linux_202611251200.efi",
        ]
    );
}

#[test]
fn a_version_missing_a_file_is_incomplete_and_names_the_transfer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut partial = VersionSpec::complete("202611261000");
    partial.erofs = false;
    let system = KdeLinuxRoot::create(
        dir.path(),
        &[VersionSpec::complete("202611251200"), partial],
        Some("202611251200"),
        Images::Plain,
    )
    .expect("fixture");
    let state = read(&system.root);
    let newest = &state.inventory.versions[0];
    assert_eq!(newest.version, "202611261000");
    assert!(!newest.complete);
    assert_eq!(
        newest.missing_transfers,
        vec!["50-root-x86-64-erofs".to_string()]
    );
}

#[test]
fn nothing_installed_gives_an_empty_inventory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let system = KdeLinuxRoot::create(dir.path(), &[], None, Images::Plain).expect("fixture");
    let state = read(&system.root);
    assert!(state.inventory.versions.is_empty());
    assert_eq!(state.definitions.transfers.len(), 3);
    assert_eq!(state.inventory.booted, None);
}

#[test]
fn boot_counters_and_legacy_names_are_recognised() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut trial = VersionSpec::complete("202611251200");
    trial.counter = Some((2, 0));
    let mut legacy = VersionSpec::complete("202501010000");
    legacy.legacy_name = true;
    legacy.counter = Some((0, 3));
    let system = KdeLinuxRoot::create(
        dir.path(),
        &[trial, legacy],
        Some("202611251200"),
        Images::Plain,
    )
    .expect("fixture");
    let state = read(&system.root);
    let uki = |v: usize| {
        state.inventory.versions[v]
            .instances
            .iter()
            .find(|i| i.transfer == "60-esp")
            .cloned()
            .expect("uki")
    };
    assert_eq!((uki(0).tries_left, uki(0).tries_done), (Some(2), Some(0)));
    assert_eq!(
        uki(1).path.display().to_string(),
        "/efi/EFI/Linux/kdeos_202501010000+0-3.efi"
    );
    assert_eq!((uki(1).tries_left, uki(1).tries_done), (Some(0), Some(3)));
    assert!(state.inventory.versions.iter().all(|v| v.complete));
}

#[test]
fn hidden_temporaries_are_never_instances() {
    let dir = tempfile::tempdir().expect("tempdir");
    let system = KdeLinuxRoot::demo(dir.path(), Images::Plain).expect("fixture");
    std::fs::write(
        system
            .root
            .join("system/.#sysupdatekde-linux_202612010000.erofs1234"),
        b"half",
    )
    .expect("write");
    std::fs::write(
        system
            .root
            .join("efi/EFI/Linux/.kde-linux_202612010000.efi"),
        b"half",
    )
    .expect("write");
    let versions: Vec<String> = read(&system.root)
        .inventory
        .versions
        .into_iter()
        .map(|v| v.version)
        .collect();
    assert_eq!(versions, vec!["202611251200", "202611200930"]);
}

#[test]
fn a_drop_in_in_etc_overrides_usr_lib() {
    let dir = tempfile::tempdir().expect("tempdir");
    let system = KdeLinuxRoot::demo(dir.path(), Images::Plain).expect("fixture");
    let dropins = system.root.join("etc/sysupdate.d/60-esp.transfer.d");
    std::fs::create_dir_all(&dropins).expect("mkdir");
    std::fs::write(dropins.join("tries.conf"), "[Target]\nTriesLeft=5\n").expect("write");
    let state = read(&system.root);
    let esp = state
        .definitions
        .transfers
        .iter()
        .find(|t| t.name == "60-esp")
        .expect("esp transfer");
    assert_eq!(esp.target.tries_left, Some(5));
    assert_eq!(
        esp.dropins,
        vec![Path::new("/etc/sysupdate.d/60-esp.transfer.d/tries.conf").to_path_buf()]
    );
}

#[test]
fn a_transfer_in_etc_hides_the_one_of_the_same_name_in_usr_lib() {
    let dir = tempfile::tempdir().expect("tempdir");
    let system = KdeLinuxRoot::demo(dir.path(), Images::Plain).expect("fixture");
    let usr = std::fs::read_to_string(system.root.join("usr/lib/sysupdate.d/60-esp.transfer"))
        .expect("read");
    std::fs::create_dir_all(system.root.join("etc/sysupdate.d")).expect("mkdir");
    std::fs::write(
        system.root.join("etc/sysupdate.d/60-esp.transfer"),
        usr.replace("InstancesMax=4", "InstancesMax=3"),
    )
    .expect("write");
    let state = read(&system.root);
    let esp = state
        .definitions
        .transfers
        .iter()
        .find(|t| t.name == "60-esp")
        .expect("esp transfer");
    assert_eq!(esp.file, Path::new("/etc/sysupdate.d/60-esp.transfer"));
    assert_eq!(esp.target.instances_max, 3);
    assert_eq!(state.definitions.transfers.len(), 3);
}

#[test]
fn legacy_conf_files_beside_transfer_files_are_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let system = KdeLinuxRoot::demo(dir.path(), Images::Plain).expect("fixture");
    std::fs::write(
        system.root.join("usr/lib/sysupdate.d/70-extra.conf"),
        "[Source]\n",
    )
    .expect("write");
    let state = read(&system.root);
    assert_eq!(
        state.definitions.transfers.len(),
        3,
        "the .conf file is not used"
    );
    let warning = state
        .definitions
        .warnings
        .iter()
        .find(|w| w.file.ends_with("70-extra.conf"))
        .expect("a warning");
    assert!(
        warning
            .message
            .contains("is ignored because *.transfer files exist"),
        "{}",
        warning.message
    );
}

#[test]
fn legacy_conf_files_alone_are_used() {
    let dir = tempfile::tempdir().expect("tempdir");
    let system = KdeLinuxRoot::demo(dir.path(), Images::Plain).expect("fixture");
    let lib = system.root.join("usr/lib/sysupdate.d");
    for entry in std::fs::read_dir(&lib).expect("list") {
        let path = entry.expect("entry").path();
        std::fs::rename(&path, path.with_extension("conf")).expect("rename");
    }
    let state = read(&system.root);
    assert_eq!(state.definitions.transfers.len(), 3);
    assert!(
        state.definitions.warnings.is_empty(),
        "{:?}",
        state.definitions.warnings
    );
    assert_eq!(summary(&state).len(), 2);
}

#[test]
fn a_transfer_behind_a_disabled_feature_does_not_count() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut no_caibx = VersionSpec::complete("202611251200");
    no_caibx.caibx = false;
    let system = KdeLinuxRoot::create(dir.path(), &[no_caibx], Some("202611251200"), Images::Plain)
        .expect("fixture");
    let lib = system.root.join("usr/lib/sysupdate.d");
    let caibx = lib.join("50-root-x86-64-caibx.transfer");
    let text = std::fs::read_to_string(&caibx)
        .expect("read")
        .replace("[Transfer]\n", "[Transfer]\nFeatures=delta\n");
    std::fs::write(&caibx, text).expect("write");
    std::fs::write(
        lib.join("delta.feature"),
        "[Feature]\nDescription=Delta updates\nEnabled=no\n",
    )
    .expect("write");
    let state = read(&system.root);
    assert_eq!(
        summary(&state),
        vec![("202611251200".into(), true, true)],
        "complete without the disabled transfer"
    );
    std::fs::create_dir_all(system.root.join("etc/sysupdate.d")).expect("mkdir");
    std::fs::write(
        system.root.join("etc/sysupdate.d/delta.feature"),
        "[Feature]\nEnabled=yes\n",
    )
    .expect("write");
    let state = read(&system.root);
    assert_eq!(
        summary(&state),
        vec![("202611251200".into(), false, true)],
        "incomplete once the feature is on"
    );
}

#[test]
fn partition_targets_are_refused_with_the_file_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let system = KdeLinuxRoot::demo(dir.path(), Images::Plain).expect("fixture");
    std::fs::write(
        system.root.join("usr/lib/sysupdate.d/40-usr.transfer"),
        "[Source]\nType=url-file\nPath=https://mirror.invalid/\nMatchPattern=usr_@v.raw\n[Target]\nType=partition\nPath=auto\nMatchPattern=usr_@v\n",
    )
    .expect("write");
    let error = read_system(&Layout::detect(&system.root, None, None, true)).expect_err("refused");
    assert!(
        matches!(error, EngineError::Unsupported { line: 6, .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("/usr/lib/sysupdate.d/40-usr.transfer:6: Type=partition"),
        "{error}"
    );
}

#[test]
fn unknown_keys_are_warnings_with_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let system = KdeLinuxRoot::demo(dir.path(), Images::Plain).expect("fixture");
    let file = system.root.join("usr/lib/sysupdate.d/60-esp.transfer");
    let text = std::fs::read_to_string(&file)
        .expect("read")
        .replace("[Target]\n", "[Target]\nFrobnicate=yes\n");
    std::fs::write(&file, text).expect("write");
    let state = read(&system.root);
    let w = &state.definitions.warnings[0];
    assert_eq!(
        (w.file.display().to_string(), w.line),
        ("/usr/lib/sysupdate.d/60-esp.transfer".to_string(), Some(10))
    );
    assert!(
        w.message.contains("unknown setting Frobnicate="),
        "{}",
        w.message
    );
}

#[test]
fn a_single_boot_try_is_warned_about() {
    let dir = tempfile::tempdir().expect("tempdir");
    let system = KdeLinuxRoot::demo(dir.path(), Images::Plain).expect("fixture");
    let file = system.root.join("usr/lib/sysupdate.d/60-esp.transfer");
    let text = std::fs::read_to_string(&file)
        .expect("read")
        .replace("TriesLeft=2", "TriesLeft=1");
    std::fs::write(&file, text).expect("write");
    let state = read(&system.root);
    let w = &state.definitions.warnings[0];
    assert_eq!(
        w.file.display().to_string(),
        "/usr/lib/sysupdate.d/60-esp.transfer"
    );
    assert!(w.message.contains("TriesLeft=1 marks"), "{}", w.message);
    assert!(
        read(
            &KdeLinuxRoot::demo(&dir.path().join("2"), Images::Plain)
                .expect("fixture")
                .root
        )
        .definitions
        .warnings
        .is_empty(),
        "TriesLeft=2 is fine"
    );
}

#[test]
fn a_plain_directory_is_no_esp_unless_checks_are_relaxed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let system = KdeLinuxRoot::demo(dir.path(), Images::Plain).expect("fixture");
    let strict = Layout::detect(&system.root, None, None, false);
    assert_eq!(
        strict.esp, None,
        "a directory on the test file system is not FAT"
    );
    let error = read_system(&strict).expect_err("the UKI transfer needs the ESP");
    assert!(error.to_string().contains("/usr/lib/sysupdate.d/60-esp.transfer: the target is on the EFI system partition, but none was found"), "{error}");
    let named = Layout::detect(&system.root, Some(Path::new("/efi")), None, false);
    assert_eq!(
        read_system(&named)
            .expect("explicit ESP")
            .inventory
            .versions
            .len(),
        2
    );
    let relaxed = Layout::detect(&system.root, None, None, true);
    assert_eq!(relaxed.esp.as_deref(), Some(Path::new("/efi")));
}

#[test]
fn an_empty_assignment_resets_a_list_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut trial = VersionSpec::complete("202611251200");
    trial.counter = Some((2, 0));
    let system = KdeLinuxRoot::create(dir.path(), &[trial], Some("202611251200"), Images::Plain)
        .expect("fixture");
    let dropins = system.root.join("etc/sysupdate.d/60-esp.transfer.d");
    std::fs::create_dir_all(&dropins).expect("mkdir");
    // Forget the six patterns of the main file; keep only the plain name.
    std::fs::write(
        dropins.join("patterns.conf"),
        "[Target]\nMatchPattern=\nMatchPattern=kde-linux_@v.efi\n",
    )
    .expect("write");
    let state = read(&system.root);
    let esp = state
        .definitions
        .transfers
        .iter()
        .find(|t| t.name == "60-esp")
        .expect("esp transfer");
    let patterns: Vec<&str> = esp.target.patterns.iter().map(|p| p.as_str()).collect();
    assert_eq!(patterns, vec!["kde-linux_@v.efi"]);
    // Without the boot-counter patterns the UKI on trial reads as a version of its own,
    // `202611251200+2-0` (`+` and `-` are version characters), as systemd reads it: the image
    // of 202611251200 is left without its UKI.
    assert_eq!(
        summary(&state),
        vec![
            ("202611251200+2-0".into(), false, false),
            ("202611251200".into(), false, true)
        ]
    );
}

#[test]
fn requisite_features_must_all_be_enabled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let system = KdeLinuxRoot::demo(dir.path(), Images::Plain).expect("fixture");
    let lib = system.root.join("usr/lib/sysupdate.d");
    let caibx = lib.join("50-root-x86-64-caibx.transfer");
    let text = std::fs::read_to_string(&caibx).expect("read").replace(
        "[Transfer]\n",
        "[Transfer]\nRequisiteFeatures=delta network\n",
    );
    std::fs::write(&caibx, text).expect("write");
    std::fs::write(lib.join("delta.feature"), "[Feature]\nEnabled=yes\n").expect("write");
    std::fs::write(lib.join("network.feature"), "[Feature]\nEnabled=no\n").expect("write");
    let enabled = |state: &SystemState| {
        state
            .definitions
            .transfers
            .iter()
            .find(|t| t.name == "50-root-x86-64-caibx")
            .map(|t| t.enabled)
    };
    assert_eq!(
        enabled(&read(&system.root)),
        Some(false),
        "one of two is off"
    );
    std::fs::write(lib.join("network.feature"), "[Feature]\nEnabled=yes\n").expect("write");
    assert_eq!(enabled(&read(&system.root)), Some(true), "both on");
}

#[test]
fn boot_means_xbootldr_when_there_is_one_and_the_esp_otherwise() {
    let dir = tempfile::tempdir().expect("tempdir");
    let system = KdeLinuxRoot::demo(dir.path(), Images::Plain).expect("fixture");
    // A root on one file system: /boot beside /efi is not a partition of its own.
    std::fs::create_dir_all(system.root.join("boot/loader")).expect("mkdir");
    let layout = Layout::detect(&system.root, None, None, true);
    assert_eq!(layout.xbootldr, None);
    let esp_transfer = read(&system.root)
        .definitions
        .transfers
        .into_iter()
        .find(|t| t.name == "60-esp")
        .expect("esp transfer");
    assert_eq!(
        layout.target_dir(&esp_transfer),
        Some(Path::new("/efi/EFI/Linux").to_path_buf())
    );
    // Named explicitly, XBOOTLDR takes the boot entries (PathRelativeTo=boot).
    let layout = Layout::detect(&system.root, None, Some(Path::new("/boot")), true);
    assert_eq!(
        layout.target_dir(&esp_transfer),
        Some(Path::new("/boot/EFI/Linux").to_path_buf())
    );
}
