//! sysupdate.d definitions as an image ships them, read from a scratch root: never panics; an
//! accepted transfer has source and target patterns that each name a version, a supported
//! target type, InstancesMax >= 2, a mode that fits 07777, no empty protected version, and is
//! enabled exactly as its features say. The input is up to four parts separated by NUL bytes:
//! `a.transfer`, its drop-in `a.transfer.d/b.conf`, `f.feature` and the os-release whose
//! fields the specifiers expand to.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use update_center_engine::definitions::{TargetType, load};
use update_center_engine::format::osrelease::{OsRelease, Specifiers};
use update_center_engine::format::pattern::Wildcard;

const DIR: &str = "etc/sysupdate.d";
const FILES: [&str; 3] = ["a.transfer", "a.transfer.d/b.conf", "f.feature"];

/// A root of this process's own, on tmpfs when there is one.
fn root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let base = Path::new("/dev/shm");
        let base = if base.is_dir() {
            base.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let root = base.join(format!("uc-fuzz-definitions-{}", std::process::id()));
        std::fs::create_dir_all(root.join(DIR).join("a.transfer.d")).expect("scratch root");
        root
    })
}

fuzz_target!(|data: &[u8]| {
    let root = root();
    let mut parts = data.splitn(4, |b| *b == 0);
    let mut present = [false; 3];
    for (i, file) in FILES.iter().enumerate() {
        let path = root.join(DIR).join(file);
        match parts.next() {
            Some(bytes) => {
                std::fs::write(&path, bytes).expect("write");
                present[i] = true;
            }
            None => {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    let os = OsRelease::from_text(&String::from_utf8_lossy(parts.next().unwrap_or(b"")));
    let Ok(definitions) = load(root, &Specifiers::for_root(root, os)) else {
        return;
    };

    assert!(present[0]);
    assert_eq!(definitions.transfers.len(), 1);
    assert_eq!(definitions.features.len(), usize::from(present[2]));
    let feature_on = definitions
        .features
        .iter()
        .any(|f| f.name == "f" && f.enabled);
    let t = &definitions.transfers[0];
    assert_eq!(t.name, "a");
    assert_eq!(t.file, Path::new("/").join(DIR).join(FILES[0]));
    assert_eq!(t.dropins.len(), usize::from(present[1]));
    assert!(!t.source.patterns.is_empty() && !t.target.patterns.is_empty());
    for p in t.source.patterns.iter().chain(&t.target.patterns) {
        assert!(p.has(Wildcard::Version), "{}", p.as_str());
    }
    assert!(matches!(
        t.target.kind,
        TargetType::RegularFile | TargetType::Directory
    ));
    assert!(t.target.instances_max >= 2);
    assert!(t.target.mode.is_none_or(|m| m <= 0o7777));
    assert!(t.protect_versions.iter().all(|v| !v.is_empty()));
    assert_ne!(t.min_version.as_deref(), Some(""));
    assert_ne!(t.target.current_symlink.as_deref(), Some(""));
    let on = |name: &String| name == "f" && feature_on;
    assert_eq!(
        t.enabled,
        (t.features.is_empty() || t.features.iter().any(on)) && t.requisite_features.iter().all(on)
    );
    for w in &definitions.warnings {
        assert!(w.file.starts_with(Path::new("/").join(DIR)), "{w:?}");
    }
});
