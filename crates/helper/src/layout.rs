//! Where a system keeps what the helper reads and writes: the root, the boot partitions (ESP,
//! XBOOTLDR) found as systemd finds them, and the helper's state directories inside the root.
//! The lowest layer of the engine: it knows file systems, not definitions.

use std::path::{Path, PathBuf};

/// The helper's state directory inside the root.
pub const STATE_DIR: &str = "var/lib/update-center";
/// Where partial downloads (and compressed downloads until they are unpacked) are kept,
/// inside the root.
pub const PARTIAL_DIR: &str = "var/lib/update-center/partial";

/// Where a root keeps its boot partitions. Paths are inside the root (`/efi`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    /// The system root.
    pub root: PathBuf,
    /// Mount point of the EFI system partition inside the root, if found.
    pub esp: Option<PathBuf>,
    /// Mount point of the XBOOTLDR partition inside the root, if any.
    pub xbootldr: Option<PathBuf>,
}

/// File system types an EFI system partition (or XBOOTLDR) may have: FAT, directly or through
/// FUSE (fusefat).
const BOOT_FS_TYPES: [&str; 3] = ["vfat", "msdos", "fuse.fusefat"];

/// Where systemd looks for the ESP, inside the root, in order.
pub const ESP_CANDIDATES: [&str; 3] = ["/efi", "/boot", "/boot/efi"];

impl Layout {
    /// Finds the ESP at `/efi`, `/boot` or `/boot/efi`: the first that is a FAT file system, as
    /// systemd checks it. `esp` names it instead (no check: the caller knows). With `relax`
    /// (`SYSTEMD_RELAX_ESP_CHECKS=1` in systemd), a plain directory that holds `EFI/` or
    /// `loader/` counts, for roots that are not real systems (tests, images being built).
    pub fn detect(root: &Path, esp: Option<&Path>, xbootldr: Option<&Path>, relax: bool) -> Self {
        let acceptable = |candidate: &str| {
            let dir = root.join(candidate.trim_start_matches('/'));
            if relax {
                dir.join("EFI").is_dir() || dir.join("loader").is_dir()
            } else {
                dir.is_dir() && fs_type(&dir).is_some_and(|t| BOOT_FS_TYPES.contains(&t.as_str()))
            }
        };
        let esp = esp.map(Path::to_path_buf).or_else(|| {
            ESP_CANDIDATES
                .into_iter()
                .find(|p| acceptable(p))
                .map(PathBuf::from)
        });
        // XBOOTLDR lives at /boot when the ESP is at /efi (the layout the Boot Loader
        // Specification recommends when both exist). systemd also reads the GPT partition type;
        // here a second boot file system at /boot beside an ESP at /efi is taken as XBOOTLDR.
        let xbootldr = xbootldr.map(Path::to_path_buf).or_else(|| {
            let esp_at_efi = esp.as_deref() == Some(Path::new("/efi"));
            (esp_at_efi && acceptable("/boot") && !same_file_system(root, "/efi", "/boot"))
                .then(|| PathBuf::from("/boot"))
        });
        Self {
            root: root.to_path_buf(),
            esp,
            xbootldr,
        }
    }

    /// A path inside the root as a path on disk.
    pub fn on_disk(&self, in_root: &Path) -> PathBuf {
        self.root.join(in_root.strip_prefix("/").unwrap_or(in_root))
    }

    /// The helper's state directory (history, journal, pins), on disk.
    pub fn state_dir(&self) -> PathBuf {
        self.root.join(STATE_DIR)
    }
}

/// Whether two directories of the root are on the same file system (device).
fn same_file_system(root: &Path, a: &str, b: &str) -> bool {
    use std::os::unix::fs::MetadataExt;
    let device = |p: &str| {
        std::fs::metadata(root.join(p.trim_start_matches('/')))
            .map(|m| m.dev())
            .ok()
    };
    device(a).is_some() && device(a) == device(b)
}

/// The file system type of the mount that holds `path`, from `/proc/self/mountinfo`
/// (`fuse.fusefat` for a FUSE mount, unlike statfs).
fn fs_type(path: &Path) -> Option<String> {
    let path = std::fs::canonicalize(path).ok()?;
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let mut best: Option<(usize, String)> = None;
    for line in mountinfo.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let Some(separator) = fields.iter().position(|f| *f == "-") else {
            continue;
        };
        let (Some(mount_point), Some(fs)) = (fields.get(4), fields.get(separator + 1)) else {
            continue;
        };
        let mount_point = mount_point
            .replace("\\040", " ")
            .replace("\\011", "\t")
            .replace("\\134", "\\");
        if path.starts_with(&mount_point) {
            let depth = mount_point.len();
            if best.as_ref().is_none_or(|(d, _)| depth >= *d) {
                best = Some((depth, (*fs).to_string()));
            }
        }
    }
    best.map(|(_, fs)| fs)
}
