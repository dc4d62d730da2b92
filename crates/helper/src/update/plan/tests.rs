//! The planner on KDE Linux-shaped roots with stand-in facts: every refusal, the names and sizes
//! of a plan, which versions go first, and the room on each file system.

use super::*;
use crate::source::catalog::AvailableVersion;
use crate::source::fetch::Location;
use testbed::system::{Images, KdeLinuxRoot, VersionSpec};

mod removals;

const OLD: &str = "202611200930";
const BOOTED: &str = "202611251200";
const NEW: &str = "202612010000";
const MIRROR: &str = "https://mirror.invalid/kde-linux/sysupdate/v2/";
const CAIBX: &str = "50-root-x86-64-caibx";
const EROFS: &str = "50-root-x86-64-erofs";
const ESP: &str = "60-esp";

/// Sizes the mirror claims (each below the plausibility limit of the stand-in files).
const CAIBX_BYTES: u64 = 2_000_000;
const EROFS_BYTES: u64 = 60_000_000;
const UKI_BYTES: u64 = 30_000_000;
const PLENTY: u64 = 1 << 40;

/// A KDE Linux-shaped root in a temporary directory.
struct Root {
    _dir: tempfile::TempDir,
    system: KdeLinuxRoot,
    layout: Layout,
}

impl Root {
    fn with(specs: &[VersionSpec], booted: Option<&str>) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let system = KdeLinuxRoot::create(dir.path(), specs, booted, Images::Plain).expect("root");
        let layout = Layout::detect(&system.root, None, None, true);
        Self {
            _dir: dir,
            system,
            layout,
        }
    }

    fn new(versions: &[&str], booted: &str) -> Self {
        let specs: Vec<VersionSpec> = versions.iter().map(|v| VersionSpec::complete(v)).collect();
        Self::with(&specs, Some(booted))
    }

    /// Two complete versions, the newer one booted.
    fn demo() -> Self {
        Self::new(&[OLD, BOOTED], BOOTED)
    }

    fn write(&self, path: &str, text: &str) {
        let full = self.system.root.join(path);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        std::fs::write(full, text).expect("write");
    }

    fn state(&self) -> SystemState {
        crate::read_system(&self.layout).expect("readable system")
    }
}

fn offer(transfer: &str, name: String) -> Offer {
    Offer {
        transfer: transfer.to_string(),
        location: format!("{MIRROR}{name}"),
        name,
        sha256: "0".repeat(64),
        from: Location::Http(MIRROR.to_string()),
    }
}

/// A version every transfer offers, named as the KDE Linux source patterns name it.
fn offered(version: &str) -> AvailableVersion {
    AvailableVersion {
        version: version.to_string(),
        complete: true,
        obsolete: false,
        files: vec![
            offer(CAIBX, format!("kde-linux_{version}_root-x86-64.caibx")),
            offer(EROFS, format!("kde-linux_{version}_root-x86-64.erofs")),
            offer(ESP, format!("kde-linux_{version}.efi")),
        ],
        missing_transfers: Vec::new(),
    }
}

/// The catalog of these versions, the first one the candidate.
fn catalog(versions: Vec<AvailableVersion>) -> Catalog {
    Catalog {
        sources: Vec::new(),
        candidate: versions.first().map(|v| v.version.clone()),
        newest_installed: None,
        versions,
    }
}

/// Stand-in facts.
struct World {
    /// Sizes by transfer; a transfer missing here has no known size.
    sizes: Vec<(&'static str, FileSizes)>,
    /// Bytes free on the root file system (`None`: cannot tell).
    root_free: Option<u64>,
    /// Bytes free on an ESP of its own at `/efi` (`None`: `/efi` is on the root file system).
    esp_free: Option<u64>,
    /// Size of every installed file.
    installed_bytes: u64,
}

fn plain(bytes: u64) -> FileSizes {
    FileSizes {
        download: bytes,
        installed: bytes,
    }
}

impl World {
    /// Plain files, room to spare on one file system.
    fn roomy() -> Self {
        Self {
            sizes: vec![
                (CAIBX, plain(CAIBX_BYTES)),
                (EROFS, plain(EROFS_BYTES)),
                (ESP, plain(UKI_BYTES)),
            ],
            root_free: Some(PLENTY),
            esp_free: None,
            installed_bytes: 7_000_000,
        }
    }

    fn with<R>(&self, f: impl FnOnce(&Facts<'_>) -> R) -> R {
        let size_of = |o: &Offer| {
            self.sizes
                .iter()
                .find(|(t, _)| *t == o.transfer)
                .map(|(_, s)| *s)
        };
        let file_system_of = |dir: &PathBuf| match self.esp_free {
            Some(free) if dir.starts_with("/efi") => Some((1, free)),
            _ => self.root_free.map(|free| (2, free)),
        };
        let installed_size = |_: &PathBuf| self.installed_bytes;
        f(&Facts {
            size_of: &size_of,
            file_system_of: &file_system_of,
            installed_size: &installed_size,
        })
    }

    fn plan(
        &self,
        root: &Root,
        catalog: &Catalog,
        wanted: Option<&str>,
    ) -> Result<Plan, PlanError> {
        let state = root.state();
        self.with(|facts| make(&state, catalog, &root.layout, wanted, facts))
    }
}

#[test]
fn a_plan_names_every_file_in_transfer_order() {
    let root = Root::demo();
    let plan = World::roomy()
        .plan(&root, &catalog(vec![offered(NEW)]), None)
        .expect("plan");
    assert_eq!(plan.version, NEW);
    let files: Vec<(&str, &str, &str, &str, u32)> = plan
        .files
        .iter()
        .map(|f| {
            (
                f.transfer.as_str(),
                f.target_dir.to_str().expect("utf-8"),
                f.final_name.as_str(),
                f.temp_name.as_str(),
                f.mode,
            )
        })
        .collect();
    assert_eq!(
        files,
        [
            (
                CAIBX,
                "/system",
                "kde-linux_202612010000.erofs.caibx",
                ".#update-center.kde-linux_202612010000.erofs.caibx",
                0o444,
            ),
            (
                EROFS,
                "/system",
                "kde-linux_202612010000.erofs",
                ".#update-center.kde-linux_202612010000.erofs",
                0o444,
            ),
            (
                ESP,
                "/efi/EFI/Linux",
                "kde-linux_202612010000+2-0.efi",
                ".#update-center.kde-linux_202612010000+2-0.efi",
                0o644,
            ),
        ]
    );
    assert_eq!(
        plan.files[2].source.location,
        "https://mirror.invalid/kde-linux/sysupdate/v2/kde-linux_202612010000.efi"
    );
    assert!(plan.files.iter().all(|f| f.compression.is_none()));
    assert_eq!(plan.download_bytes, CAIBX_BYTES + EROFS_BYTES + UKI_BYTES);
    assert!(plan.removals.is_empty(), "two of four versions installed");
    assert!(!plan.needs_room_first());
}

#[test]
fn a_compressed_source_is_downloaded_small_unpacked_large_and_cached_in_between() {
    let root = Root::demo();
    let mut version = offered(NEW);
    version.files[1] = offer(EROFS, format!("kde-linux_{NEW}_root-x86-64.erofs.zst"));
    let mut world = World::roomy();
    world.sizes[1].1 = FileSizes {
        download: 20_000_000,
        installed: EROFS_BYTES,
    };
    let plan = world
        .plan(&root, &catalog(vec![version]), None)
        .expect("plan");
    let erofs = &plan.files[1];
    assert_eq!(erofs.final_name, "kde-linux_202612010000.erofs");
    assert_eq!(erofs.compression, Some(Compression::Zstd));
    assert_eq!(
        (erofs.download_bytes, erofs.size_bytes),
        (20_000_000, EROFS_BYTES)
    );
    assert_eq!(plan.download_bytes, CAIBX_BYTES + 20_000_000 + UKI_BYTES);
    assert_eq!(
        plan.room,
        [Room {
            target_dir: PathBuf::from("/system"),
            boot_partition: false,
            needed_bytes: CAIBX_BYTES + EROFS_BYTES + 20_000_000 + UKI_BYTES,
            freed_bytes: 0,
            available_bytes: PLENTY,
        }],
        "the unpacked image, its download in the cache and the UKI share one file system"
    );
}

#[test]
fn a_boot_partition_of_its_own_is_counted_apart() {
    let root = Root::demo();
    let world = World {
        esp_free: Some(500_000_000),
        ..World::roomy()
    };
    let plan = world
        .plan(&root, &catalog(vec![offered(NEW)]), None)
        .expect("plan");
    assert_eq!(
        plan.room,
        [
            Room {
                target_dir: PathBuf::from("/system"),
                boot_partition: false,
                needed_bytes: CAIBX_BYTES + EROFS_BYTES,
                freed_bytes: 0,
                available_bytes: PLENTY,
            },
            Room {
                target_dir: PathBuf::from("/efi/EFI/Linux"),
                boot_partition: true,
                needed_bytes: UKI_BYTES,
                freed_bytes: 0,
                available_bytes: 500_000_000,
            },
        ]
    );
}

#[test]
fn without_a_candidate_the_system_is_up_to_date() {
    let root = Root::demo();
    let mut nothing = catalog(vec![offered(BOOTED)]);
    nothing.candidate = None;
    assert_eq!(
        World::roomy().plan(&root, &nothing, None),
        Err(PlanError::UpToDate)
    );
}

#[test]
fn a_held_back_candidate_is_refused_unless_named() {
    let root = Root::demo();
    root.write(
        "var/lib/update-center/state.json",
        r#"{"held_back": ["202612010000"]}"#,
    );
    let offers = catalog(vec![offered(NEW)]);
    assert_eq!(
        World::roomy().plan(&root, &offers, None),
        Err(PlanError::HeldBack(NEW.into()))
    );
    let named = World::roomy()
        .plan(&root, &offers, Some(NEW))
        .expect("plan");
    assert_eq!(named.version, NEW);
}

#[test]
fn a_version_not_offered_is_refused() {
    let root = Root::demo();
    assert_eq!(
        World::roomy().plan(&root, &catalog(vec![offered(NEW)]), Some("202612020000")),
        Err(PlanError::NotOffered("202612020000".into()))
    );
}

#[test]
fn an_obsolete_version_is_refused_even_by_name() {
    let root = Root::demo();
    let mut retired = offered(NEW);
    retired.obsolete = true;
    let offers = catalog(vec![retired]);
    for wanted in [None, Some(NEW)] {
        assert_eq!(
            World::roomy().plan(&root, &offers, wanted),
            Err(PlanError::Obsolete(NEW.into()))
        );
    }
}

#[test]
fn a_version_offered_in_part_names_what_is_missing() {
    let root = Root::demo();
    let mut part = offered(NEW);
    part.complete = false;
    part.files.pop();
    part.missing_transfers = vec![ESP.into()];
    assert_eq!(
        World::roomy().plan(&root, &catalog(vec![part]), Some(NEW)),
        Err(PlanError::OfferedInPart {
            version: NEW.into(),
            missing: vec![ESP.into()],
        })
    );
}

#[test]
fn a_complete_installed_version_is_not_installed_again_an_incomplete_one_is() {
    let root = Root::demo();
    assert_eq!(
        World::roomy().plan(&root, &catalog(vec![offered(BOOTED)]), Some(BOOTED)),
        Err(PlanError::AlreadyInstalled(BOOTED.into()))
    );
    let mut partial = VersionSpec::complete(NEW);
    partial.erofs = false;
    let root = Root::with(&[VersionSpec::complete(BOOTED), partial], Some(BOOTED));
    let plan = World::roomy()
        .plan(&root, &catalog(vec![offered(NEW)]), None)
        .expect("plan");
    assert_eq!(plan.files.len(), 3);
}

#[test]
fn a_target_pattern_that_cannot_name_a_file_is_refused() {
    let root = Root::demo();
    let usr = std::fs::read_to_string(root.system.root.join("usr/lib/sysupdate.d/60-esp.transfer"))
        .expect("read");
    root.write(
        "etc/sysupdate.d/60-esp.transfer",
        &usr.replace(
            "MatchPattern=kde-linux_@v+@l-@d.efi",
            "MatchPattern=kde-linux_@v_@t.efi",
        ),
    );
    assert_eq!(
        World::roomy().plan(&root, &catalog(vec![offered(NEW)]), None),
        Err(PlanError::Unnameable {
            file: "/etc/sysupdate.d/60-esp.transfer".into()
        })
    );
}

#[test]
fn a_size_the_mirror_does_not_tell_is_refused() {
    let root = Root::demo();
    let mut world = World::roomy();
    world.sizes.retain(|(t, _)| *t != ESP);
    assert_eq!(
        world.plan(&root, &catalog(vec![offered(NEW)]), None),
        Err(PlanError::UnknownSize(
            "https://mirror.invalid/kde-linux/sysupdate/v2/kde-linux_202612010000.efi".into()
        ))
    );
}

#[test]
fn a_file_system_short_of_room_names_the_version_to_remove() {
    let root = Root::demo();
    // Exactly the bytes of the files: the margin of 1 MiB is missing, 2 MB rounded up.
    let world = World {
        root_free: Some(CAIBX_BYTES + EROFS_BYTES + UKI_BYTES),
        ..World::roomy()
    };
    let refused = world
        .plan(&root, &catalog(vec![offered(NEW)]), None)
        .expect_err("no room");
    // The values a client says it with: where, how much is missing, what to remove.
    let PlanError::NoRoom(room) = &refused else {
        panic!("not short of room: {refused:?}");
    };
    let NoRoom::Short {
        dir,
        boot_partition,
        needed_bytes,
        available_bytes,
        remove,
    } = room
    else {
        panic!("not short of room: {room:?}");
    };
    assert_eq!(dir, &PathBuf::from("/system"));
    assert!(!boot_partition);
    assert_eq!(needed_bytes - available_bytes, MARGIN_BYTES);
    assert_eq!(room.missing_bytes(), MARGIN_BYTES);
    assert_eq!(remove.as_deref(), Some("202611200930"));
    assert_eq!(
        refused.to_string(),
        "the file system of /system needs 2 MB more: remove version 202611200930 or enlarge the partition"
    );
    let fits = World {
        root_free: Some(CAIBX_BYTES + EROFS_BYTES + UKI_BYTES + MARGIN_BYTES),
        ..World::roomy()
    };
    assert!(fits.plan(&root, &catalog(vec![offered(NEW)]), None).is_ok());
}

#[test]
fn a_boot_partition_short_of_room_says_so_and_spares_versions_in_use() {
    let root = Root::new(&[BOOTED], BOOTED);
    let world = World {
        esp_free: Some(UKI_BYTES - 5_000_000),
        ..World::roomy()
    };
    let refused = world
        .plan(&root, &catalog(vec![offered(NEW)]), None)
        .expect_err("no room");
    let PlanError::NoRoom(NoRoom::Short {
        boot_partition,
        remove,
        ..
    }) = &refused
    else {
        panic!("not short of room: {refused:?}");
    };
    assert!(boot_partition);
    assert_eq!(remove, &None);
    assert_eq!(
        refused.to_string(),
        "the EFI system partition (/efi/EFI/Linux) needs 7 MB more: enlarge the partition (every other version is in use or protected)"
    );
}

#[test]
fn room_that_cannot_be_measured_is_no_room() {
    let root = Root::demo();
    let world = World {
        root_free: None,
        ..World::roomy()
    };
    assert_eq!(
        world.plan(&root, &catalog(vec![offered(NEW)]), None),
        Err(PlanError::NoRoom(NoRoom::Unknown {
            dir: PathBuf::from("/system")
        }))
    );
}

#[test]
fn an_unmounted_boot_partition_is_no_room() {
    let root = Root::demo();
    let state = root.state();
    let no_esp = Layout {
        root: root.system.root.clone(),
        esp: None,
        xbootldr: None,
    };
    let result = World::roomy()
        .with(|facts| make(&state, &catalog(vec![offered(NEW)]), &no_esp, None, facts));
    assert_eq!(
        result,
        Err(PlanError::NoRoom(NoRoom::NoBootPartition {
            file: "/usr/lib/sysupdate.d/60-esp.transfer".into()
        }))
    );
    assert_eq!(
        result.expect_err("no room").to_string(),
        "/usr/lib/sysupdate.d/60-esp.transfer: the EFI system partition is not mounted"
    );
}
