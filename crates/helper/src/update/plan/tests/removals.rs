//! Which installed versions the planner removes first, and what that does to the room: the
//! oldest beyond `InstancesMax=`, never one in use, and never for a size only the mirror claims.

use super::*;

fn versions(removals: &[Removal]) -> Vec<&str> {
    removals.iter().map(|r| r.version.as_str()).collect()
}

/// Six versions under `InstancesMax=2`: the second oldest pinned, the third protected by name,
/// the fourth booted, the newest the default entry.
fn crowded() -> Root {
    let root = Root::new(
        &[
            "202601010000",
            "202602010000",
            "202603010000",
            "202604010000",
            "202605010000",
            "202606010000",
        ],
        "202604010000",
    );
    root.system.set_instances_max(2).expect("InstancesMax");
    root.write(
        "var/lib/update-center/state.json",
        r#"{"pinned": ["202602010000"]}"#,
    );
    root.write(
        "etc/sysupdate.d/50-root-x86-64-erofs.transfer.d/protect.conf",
        "[Transfer]\nProtectVersion=202603010000\n",
    );
    root
}

#[test]
fn removals_go_oldest_first_and_spare_booted_protected_pinned_and_default() {
    let root = crowded();
    let state = root.state();
    let flags: Vec<(&str, bool, bool, bool, bool)> = state
        .inventory
        .versions
        .iter()
        .map(|v| {
            (
                v.version.as_str(),
                v.booted,
                v.protected,
                v.pinned,
                v.default,
            )
        })
        .collect();
    assert_eq!(
        flags,
        [
            ("202606010000", false, false, false, true),
            ("202605010000", false, false, false, false),
            ("202604010000", true, true, false, false),
            ("202603010000", false, true, false, false),
            ("202602010000", false, false, true, false),
            ("202601010000", false, false, false, false),
        ]
    );
    let plan = World::roomy()
        .plan(&root, &catalog(vec![offered(NEW)]), None)
        .expect("plan");
    assert_eq!(versions(&plan.removals), ["202601010000", "202605010000"]);
    assert_eq!(
        plan.removals[0].files,
        [
            PathBuf::from("/efi/EFI/Linux/kde-linux_202601010000.efi"),
            PathBuf::from("/system/kde-linux_202601010000.erofs"),
            PathBuf::from("/system/kde-linux_202601010000.erofs.caibx"),
        ],
        "the boot entry goes first"
    );
    assert_eq!(plan.removals[0].size_bytes, 3 * 7_000_000);
}

#[test]
fn room_short_without_removals_is_made_by_them_on_each_file_system() {
    let root = crowded();
    // One byte short of the files and the margin on both file systems.
    let world = World {
        root_free: Some(CAIBX_BYTES + EROFS_BYTES + MARGIN_BYTES - 1),
        esp_free: Some(UKI_BYTES + MARGIN_BYTES - 1),
        ..World::roomy()
    };
    let plan = world
        .plan(&root, &catalog(vec![offered(NEW)]), None)
        .expect("plan");
    assert!(plan.needs_room_first());
    let freed: Vec<(bool, u64)> = plan
        .room
        .iter()
        .map(|r| (r.boot_partition, r.freed_bytes))
        .collect();
    // Two versions go: two images each on the root, one UKI each on the ESP.
    assert_eq!(freed, [(false, 4 * 7_000_000), (true, 2 * 7_000_000)]);
}

#[test]
fn no_version_is_removed_for_a_size_only_the_mirror_vouches_for() {
    let root = crowded();
    let claimed = 100_000_000;
    let short = World {
        sizes: vec![
            (CAIBX, plain(CAIBX_BYTES)),
            (EROFS, plain(claimed)),
            (ESP, plain(UKI_BYTES)),
        ],
        root_free: Some(CAIBX_BYTES + claimed + UKI_BYTES + MARGIN_BYTES - 1),
        ..World::roomy()
    };
    let stand_in = format!("usr image stand-in for kde-linux {NEW}\n");
    assert_eq!(
        short.plan(&root, &catalog(vec![offered(NEW)]), None),
        Err(PlanError::ImplausibleSize {
            url: "https://mirror.invalid/kde-linux/sysupdate/v2/kde-linux_202612010000_root-x86-64.erofs".into(),
            claimed_bytes: claimed,
            installed_bytes: stand_in.len() as u64,
        })
    );
    let roomy = World {
        root_free: Some(PLENTY),
        ..short
    };
    let plan = roomy
        .plan(&root, &catalog(vec![offered(NEW)]), None)
        .expect("the removals are not needed for room");
    assert_eq!(versions(&plan.removals), ["202601010000", "202605010000"]);
}

#[test]
fn the_smallest_instances_max_of_the_active_transfers_rules() {
    let root = Root::new(
        &["202601010000", "202602010000", "202603010000", OLD, BOOTED],
        BOOTED,
    );
    let plan = |root: &Root| {
        World::roomy()
            .plan(root, &catalog(vec![offered(NEW)]), None)
            .expect("plan")
    };
    // InstancesMax=4: three may stay beside the new one.
    assert_eq!(
        versions(&plan(&root).removals),
        ["202601010000", "202602010000"]
    );
    root.write(
        "etc/sysupdate.d/60-esp.transfer.d/max.conf",
        "[Target]\nInstancesMax=3\n",
    );
    assert_eq!(
        versions(&plan(&root).removals),
        ["202601010000", "202602010000", "202603010000"]
    );
}

#[test]
fn vacuum_keeps_instances_max_versions_and_never_the_booted_one() {
    let root = Root::new(
        &["202601010000", "202602010000", OLD, BOOTED],
        "202601010000",
    );
    let vacuum_of = |root: &Root| {
        let state = root.state();
        World::roomy().with(|facts| vacuum(&state, facts))
    };
    assert!(vacuum_of(&root).is_empty(), "four of four");
    root.system.set_instances_max(3).expect("InstancesMax");
    assert_eq!(versions(&vacuum_of(&root)), ["202602010000"]);
    root.system.set_instances_max(2).expect("InstancesMax");
    assert_eq!(versions(&vacuum_of(&root)), ["202602010000", OLD]);
}

#[test]
fn a_removal_lists_the_boot_entry_first_and_adds_up_its_files() {
    let root = Root::demo();
    let state = root.state();
    let active: Vec<&Transfer> = state.definitions.active().collect();
    let old = state
        .inventory
        .versions
        .iter()
        .find(|v| v.version == OLD)
        .expect("installed");
    let size_of = |o: &Offer| Some(plain(o.name.len() as u64));
    let file_system_of = |_: &PathBuf| Some((1, PLENTY));
    let by_kind = |p: &PathBuf| match p.extension().and_then(|e| e.to_str()) {
        Some("efi") => 300,
        Some("erofs") => 4_000,
        _ => 5,
    };
    let facts = Facts {
        size_of: &size_of,
        file_system_of: &file_system_of,
        installed_size: &by_kind,
    };
    assert_eq!(
        removal_of(old, &active, &facts),
        Removal {
            version: OLD.into(),
            files: vec![
                PathBuf::from("/efi/EFI/Linux/kde-linux_202611200930.efi"),
                PathBuf::from("/system/kde-linux_202611200930.erofs"),
                PathBuf::from("/system/kde-linux_202611200930.erofs.caibx"),
            ],
            size_bytes: 4_305,
        }
    );
}
