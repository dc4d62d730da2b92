//! Updates onto a real FAT ESP (mkfs.vfat + fusefat): FAT has no access modes (fusefat answers
//! chmod with ENOSYS) and that must not fail a transfer; a UKI that does not fit is refused
//! before any write; when InstancesMax lets an old version go, it goes first and makes room.

use std::path::Path;
use std::process::Command;
use testbed::mirror::HttpMirror;
use testbed::mounts::Mounted;
use testbed::setup::Built;
use testbed::system::{KdeLinuxRoot, VersionSpec};

const NEW: &str = "202611250800";
const OLD: &str = "202611010800";
const BOOTED: &str = "202611150800";
const MB: usize = 1024 * 1024;

struct Setup {
    _dir: tempfile::TempDir,
    system: KdeLinuxRoot,
    _esp: Mounted,
    _server: HttpMirror,
}

/// A system whose /efi is a 16 MB FAT file system holding two UKIs of `installed_uki_mb`, and a
/// mirror offering a UKI of `new_uki_mb`.
fn setup(installed_uki_mb: usize, new_uki_mb: usize, instances_max: Option<u64>) -> Setup {
    let uki = (format!("kde-linux_{NEW}.efi"), vec![b'N'; new_uki_mb * MB]);
    let built = testbed::setup::Setup::new()
        .installed([VersionSpec::complete(OLD), VersionSpec::complete(BOOTED)])
        .booted(Some(BOOTED))
        .offering(NEW, vec![uki])
        .build();
    let Built {
        dir,
        system,
        server,
        ..
    } = built;
    let root = &system.root;
    // The UKIs, at the asked size, on a FAT file system mounted over /efi.
    for entry in std::fs::read_dir(root.join("efi/EFI/Linux"))
        .expect("list")
        .flatten()
    {
        std::fs::write(entry.path(), vec![b'U'; installed_uki_mb * MB]).expect("uki");
    }
    let esp = Mounted::keeping_contents(&root.join("efi"), |at| Mounted::fat(at, 16))
        .expect("FAT ESP (mkfs.vfat, fusefat)");
    std::fs::create_dir_all(root.join("efi/loader")).expect("mkdir");
    if let Some(max) = instances_max {
        system.set_instances_max(max).expect("drop-ins");
    }
    Setup {
        _dir: dir,
        system,
        _esp: esp,
        _server: server.expect("the mirror"),
    }
}

/// No --esp and no relaxed checks: the FAT mount is found as a real ESP.
fn update(root: &Path) -> (bool, String) {
    let output = Command::new(testbed::binary("update-center-helper").expect("helper"))
        .args(["update", "--root"])
        .arg(root)
        .env_remove("SYSTEMD_RELAX_ESP_CHECKS")
        .output()
        .expect("run");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr),
    )
}

fn ukis(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root.join("efi/EFI/Linux"))
        .expect("list")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn an_update_onto_fat_succeeds_although_fat_has_no_modes() {
    let s = setup(2, 2, None);
    let (ok, text) = update(&s.system.root);
    assert!(ok, "{text}");
    assert!(
        ukis(&s.system.root).contains(&format!("kde-linux_{NEW}+2-0.efi")),
        "{:?}",
        ukis(&s.system.root)
    );
}

#[test]
fn a_uki_that_does_not_fit_is_refused_before_any_write() {
    let s = setup(6, 6, None);
    let before = ukis(&s.system.root);
    let (ok, text) = update(&s.system.root);
    assert!(!ok, "{text}");
    assert!(
        text.contains("the EFI system partition (/efi/EFI/Linux) needs")
            && text.contains(&format!("remove version {OLD} or enlarge the partition")),
        "{text}"
    );
    assert_eq!(ukis(&s.system.root), before);
    assert!(
        std::fs::read_dir(s.system.root.join("system"))
            .expect("list")
            .flatten()
            .all(|e| !e.file_name().to_string_lossy().contains(NEW)),
        "no image written either"
    );
}

#[test]
fn removing_an_old_version_first_makes_room() {
    // InstancesMax=2: the old version must go, and only that makes room for the new UKI.
    let s = setup(6, 6, Some(2));
    let (ok, text) = update(&s.system.root);
    assert!(ok, "{text}");
    assert_eq!(
        ukis(&s.system.root),
        vec![
            format!("kde-linux_{BOOTED}.efi"),
            format!("kde-linux_{NEW}+2-0.efi")
        ]
    );
    assert!(
        !s.system
            .root
            .join(format!("system/kde-linux_{OLD}.erofs"))
            .exists(),
        "the old version went as a whole"
    );
}
