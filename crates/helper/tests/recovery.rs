//! Recovery of an interrupted transaction on the next start: a commit whose files are all there
//! is finished (boot entry last); anything else of ours is removed.

use std::path::{Path, PathBuf};
use update_center_engine::inventory::Layout;
use update_center_engine::transaction::{Journal, Recovery, STATE_DIR, recover, write_atomically};

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
    let journal = Journal {
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
        sha256: vec![String::new(), String::new()],
    };
    let journal_path = root.join(STATE_DIR).join("transaction.json");
    write_atomically(&journal_path, &serde_json::to_vec(&journal).expect("json")).expect("journal");
    assert_eq!(
        recover(&layout(root), &dirs()).expect("recover"),
        Recovery::Completed("2".into())
    );
    assert!(root.join("efi/EFI/Linux/kde-linux_2+2-0.efi").exists());
    assert!(!journal_path.exists());
    assert_eq!(
        recover(&layout(root), &dirs()).expect("again"),
        Recovery::Clean
    );
}

#[test]
fn temporaries_without_a_complete_journal_are_removed() {
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
