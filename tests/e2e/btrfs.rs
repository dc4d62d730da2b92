//! `/system` on a real btrfs file system (a loop file, as on KDE Linux): the update writes its
//! temporaries there, renames them into place and the room check reads btrfs's free space.

use std::process::Command;
use testbed::mirror::{self, HttpMirror, MirrorVersion};
use testbed::mounts::Mounted;
use testbed::system::{Images, KdeLinuxRoot, VersionSpec};

#[test]
fn an_update_onto_system_on_btrfs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    let system = KdeLinuxRoot::create(
        &root,
        &[VersionSpec::complete("202611150800")],
        Some("202611150800"),
        Images::Plain,
    )
    .expect("root");
    let _fs = Mounted::keeping_contents(&root.join("system"), |at| Mounted::btrfs(at, 256))
        .expect("btrfs in a loop file");
    let mirror_dir = dir.path().join("mirror");
    mirror::create(
        &mirror_dir,
        &[MirrorVersion::complete("202611250800")],
        Images::Erofs,
        None,
    )
    .expect("mirror");
    let server = HttpMirror::serve(&mirror_dir).expect("serve");
    system.use_source(&server.url, false).expect("source");
    let output = Command::new(testbed::binary("update-center-helper").expect("helper"))
        .args(["update", "--esp", "/efi", "--root"])
        .arg(&root)
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
        std::fs::read(mirror_dir.join("kde-linux_202611250800_root-x86-64.erofs"))
            .expect("mirror image")
    );
    let fs_type = Command::new("stat")
        .args(["-f", "-c", "%T"])
        .arg(&image)
        .output()
        .expect("stat");
    assert_eq!(String::from_utf8_lossy(&fs_type.stdout).trim(), "btrfs");
}
