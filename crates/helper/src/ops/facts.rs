//! The facts a plan needs, read from the real system: sizes at the sources, free space and
//! identity of file systems (statvfs), sizes of installed files.

use crate::layout::Layout;
use crate::source::catalog::{Offer, location_of};
use crate::source::fetch::{FetchError, Fetcher, FileSizes};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Sizes of every offered file of a version (download, and unpacked for compressed ones),
/// asked once each.
pub fn sizes(fetcher: &Fetcher, offers: &[Offer]) -> Result<Vec<(String, FileSizes)>, FetchError> {
    offers
        .iter()
        .map(|o| Ok((o.location.clone(), fetcher.sizes(&location_of(o), &o.name)?)))
        .collect()
}

/// The nearest existing directory at or above `dir` (inside the root), on disk.
fn existing(layout: &Layout, dir: &Path) -> PathBuf {
    let mut path = layout.on_disk(dir);
    while !path.exists() {
        if !path.pop() {
            break;
        }
    }
    path
}

/// (device, bytes available to unprivileged writers... and root's reserve is not counted).
pub fn file_system_of(layout: &Layout, dir: &Path) -> Option<(u64, u64)> {
    let path = existing(layout, dir);
    let device = std::fs::metadata(&path).ok()?.dev();
    let stats = rustix::fs::statvfs(&path).ok()?;
    Some((device, stats.f_bavail.saturating_mul(stats.f_frsize)))
}

/// Size of an installed file (0 when it is gone).
pub fn installed_size(layout: &Layout, path: &Path) -> u64 {
    std::fs::metadata(layout.on_disk(path))
        .map(|m| m.len())
        .unwrap_or(0)
}

/// Runs `f` with the facts of the real system: sizes learned from the sources, statvfs, file
/// sizes on disk.
pub fn with_facts<R>(
    layout: &Layout,
    sizes: &[(String, FileSizes)],
    f: impl FnOnce(&crate::update::plan::Facts<'_>) -> R,
) -> R {
    let size_of = |offer: &Offer| {
        sizes
            .iter()
            .find(|(l, _)| *l == offer.location)
            .map(|(_, s)| *s)
    };
    let file_system = |dir: &PathBuf| file_system_of(layout, dir);
    let installed = |path: &PathBuf| installed_size(layout, path);
    f(&crate::update::plan::Facts {
        size_of: &size_of,
        file_system_of: &file_system,
        installed_size: &installed,
    })
}
