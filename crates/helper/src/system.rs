//! A snapshot of the system: the definitions, what is installed, the boot menu and the
//! lifecycle state, read together.

use crate::definitions;
use crate::error::EngineError;
use crate::format::osrelease;
use crate::installed::{boot, inventory};
use crate::record::statefile;
use std::path::Path;

/// A system as the engine sees it: its definitions and what is installed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SystemState {
    /// The definitions read from sysupdate.d.
    pub definitions: definitions::Definitions,
    /// What is installed.
    pub inventory: inventory::Inventory,
    /// The boot menu and the boot loader's settings.
    pub boot: boot::Boot,
    /// Pins, versions held back, the fallback flag.
    pub lifecycle: statefile::LifecycleState,
}

/// Reads the definitions and the inventory of the system under `layout.root`.
pub fn read_system(layout: &crate::layout::Layout) -> Result<SystemState, EngineError> {
    let root = layout.root.as_path();
    let os = osrelease::OsRelease::load(root).map_err(|source| EngineError::Io {
        path: Path::new("/etc/os-release").to_path_buf(),
        source,
    })?;
    let specifiers = osrelease::Specifiers::for_root(root, os.clone());
    let definitions = definitions::load(root, &specifiers)?;
    let mut inventory = inventory::read(&definitions, layout, &os)?;
    let boot = boot::read(layout, &inventory);
    let lifecycle = statefile::load(layout)?;
    for v in &mut inventory.versions {
        v.pinned = lifecycle.pinned.contains(&v.version);
        v.default = boot.default_version() == Some(v.version.as_str());
    }
    Ok(SystemState {
        definitions,
        inventory,
        boot,
        lifecycle,
    })
}
