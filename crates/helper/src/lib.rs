//! The Update Center engine: reads a system's sysupdate.d definitions exactly as
//! systemd-sysupdate does and works out what is installed.
//!
//! It knows nothing about D-Bus or who calls it, and it works on any root directory: the running
//! system (`/`), a mounted system from a rescue shell, or a temporary directory in a test.
//!
//! Data flows one way: files under a root -> [`definitions::Definitions`] ->
//! [`inventory::Inventory`] -> [`catalog::Catalog`] (what the sources offer, verified by
//! signature). Every step is a value that can be printed and tested.

pub mod boot;
pub mod catalog;
pub mod changelog;
pub mod compression;
pub mod definitions;
pub mod error;
pub mod failpoint;
pub mod fetch;
pub mod freshness;
pub mod fsutil;
pub mod health;
pub mod history;
pub mod ini;
pub mod inventory;
pub mod lifecycle;
pub mod origin;
pub mod osrelease;
pub mod pattern;
pub mod plan;
pub mod relay;
pub mod settings;
pub mod signature;
pub mod sums;
pub mod transaction;
pub mod version;

use std::path::Path;

pub use error::EngineError;

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
    pub lifecycle: lifecycle::LifecycleState,
}

/// Reads the definitions and the inventory of the system under `layout.root`.
pub fn read_system(layout: &inventory::Layout) -> Result<SystemState, EngineError> {
    let root = layout.root.as_path();
    let os = osrelease::OsRelease::load(root).map_err(|source| EngineError::Io {
        path: Path::new("/etc/os-release").to_path_buf(),
        source,
    })?;
    let specifiers = osrelease::Specifiers::for_root(root, os.clone());
    let definitions = definitions::load(root, &specifiers)?;
    let mut inventory = inventory::inventory(&definitions, layout, &os)?;
    let boot = boot::read(layout, &inventory);
    let lifecycle = lifecycle::load(layout)?;
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
