//! `/system` on a real btrfs file system (a loop file, as on KDE Linux): the update writes its
//! temporaries there, renames them into place and the room check reads btrfs's free space.

use std::process::Command;
use testbed::mirror::MirrorVersion;
use testbed::mounts::Mounted;
use testbed::setup::Setup;
use testbed::system::Images;

#[test]
fn an_update_onto_system_on_btrfs() {
    let built = Setup::new()
        .only("202611150800")
        .offering_versions([MirrorVersion::complete("202611250800")], Images::Erofs)
        .build();
    let root = &built.system.root;
    let _fs = Mounted::keeping_contents(&root.join("system"), |at| Mounted::btrfs(at, 256))
        .expect("btrfs in a loop file");
    let output = Command::new(testbed::binary("update-center-helper").expect("helper"))
        .args(["update", "--esp", "/efi", "--root"])
        .arg(root)
        .output()
        .expect("run");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let image = root.join("system/kde-linux_202611250800.erofs");
    assert_eq!(
        std::fs::read(&image).expect("installed image"),
        std::fs::read(
            built
                .mirror_dir
                .join("kde-linux_202611250800_root-x86-64.erofs")
        )
        .expect("mirror image")
    );
    let fs_type = Command::new("stat")
        .args(["-f", "-c", "%T"])
        .arg(&image)
        .output()
        .expect("stat");
    assert_eq!(String::from_utf8_lossy(&fs_type.stdout).trim(), "btrfs");
}
