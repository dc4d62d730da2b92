//! Recovery of an interrupted transaction on the next start: a commit whose files are all there
//! is finished (boot entry last); anything else of ours is removed.

use std::path::{Path, PathBuf};
use update_center_engine::fsutil::write_atomically;
use update_center_engine::installed::inventory::Layout;
use update_center_engine::update::transaction::{Intent, Recovery, STATE_DIR, recover};

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Writes the intent record of version 2 (an image, then its UKI) with these hashes of the
/// temporaries; returns its path.
fn write_intent(root: &Path, sha256: Vec<String>) -> PathBuf {
    let intent = Intent {
        version: "2".into(),
        renames: vec![
            (
                "/system/.#update-center.kde-linux_2.erofs".into(),
                "/system/kde-linux_2.erofs".into(),
            ),
            (
                "/efi/EFI/Linux/.#update-center.kde-linux_2+2-0.efi".into(),
                "/efi/EFI/Linux/kde-linux_2+2-0.efi".into(),
            ),
        ],
        sha256,
    };
    let path = root.join(STATE_DIR).join("transaction.json");
    write_atomically(&path, &serde_json::to_vec(&intent).expect("json")).expect("intent");
    path
}

fn layout(root: &Path) -> Layout {
    Layout::detect(root, Some(Path::new("/efi")), None, true)
}

fn dirs() -> Vec<PathBuf> {
    vec![PathBuf::from("/system"), PathBuf::from("/efi/EFI/Linux")]
}

fn setup(root: &Path) {
    std::fs::create_dir_all(root.join("system")).expect("mkdir");
    std::fs::create_dir_all(root.join("efi/EFI/Linux")).expect("mkdir");
}

#[test]
fn an_interrupted_commit_with_every_file_present_is_completed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    setup(root);
    // The image was renamed already; the UKI is still a temporary.
    std::fs::write(root.join("system/kde-linux_2.erofs"), b"image").expect("write");
    std::fs::write(
        root.join("efi/EFI/Linux/.#update-center.kde-linux_2+2-0.efi"),
        b"uki",
    )
    .expect("write");
    // The image's temporary is gone (renamed); the UKI's is checked against its hash.
    let intent_path = write_intent(root, vec![String::new(), sha256(b"uki")]);
    assert_eq!(
        recover(&layout(root), &dirs()).expect("recover"),
        Recovery::Completed("2".into())
    );
    assert!(root.join("efi/EFI/Linux/kde-linux_2+2-0.efi").exists());
    assert!(!intent_path.exists());
    assert_eq!(
        recover(&layout(root), &dirs()).expect("again"),
        Recovery::Clean
    );
}

#[test]
fn temporaries_without_a_complete_intent_are_removed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    setup(root);
    std::fs::write(
        root.join("system/.#update-center.kde-linux_3.erofs"),
        b"half",
    )
    .expect("write");
    std::fs::write(root.join("system/kde-linux_1.erofs"), b"installed").expect("write");
    let recovered = recover(&layout(root), &dirs()).expect("recover");
    assert_eq!(
        recovered,
        Recovery::Discarded(vec![PathBuf::from(
            "/system/.#update-center.kde-linux_3.erofs"
        )])
    );
    assert!(
        root.join("system/kde-linux_1.erofs").exists(),
        "installed files are never touched"
    );
    let history =
        std::fs::read_to_string(root.join(STATE_DIR).join("history.jsonl")).expect("history");
    assert!(history.contains("\"recovered\""), "{history}");
}

#[test]
fn a_temporary_that_no_longer_matches_the_intent_record_is_never_committed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    setup(root);
    std::fs::write(
        root.join("system/.#update-center.kde-linux_2.erofs"),
        b"image",
    )
    .expect("write");
    // The UKI's temporary was torn (or changed) after the intent was written.
    std::fs::write(
        root.join("efi/EFI/Linux/.#update-center.kde-linux_2+2-0.efi"),
        b"u",
    )
    .expect("write");
    let intent_path = write_intent(root, vec![sha256(b"image"), sha256(b"uki")]);
    let recovered = recover(&layout(root), &dirs()).expect("recover");
    assert!(matches!(recovered, Recovery::Discarded(_)), "{recovered:?}");
    assert!(!root.join("efi/EFI/Linux/kde-linux_2+2-0.efi").exists());
    assert!(!root.join("system/kde-linux_2.erofs").exists());
    assert!(!intent_path.exists());
}
