//! Data types that travel over the bus. Their D-Bus signatures are part of the API: change them
//! only together with the interface version.

use serde::{Deserialize, Serialize};
use zbus::zvariant::{OwnedValue, Type, Value};

/// One OS version found on the system: the files every transfer installed for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct VersionInfo {
    /// The version string, e.g. `202603211640`.
    pub version: String,
    /// Every transfer has a file for this version.
    pub complete: bool,
    /// This is the version the system is running (`IMAGE_VERSION` of os-release).
    pub booted: bool,
    /// Files installed for this version, one per transfer that has it.
    pub files: Vec<InstalledFile>,
    /// Names of the transfers that have no file for this version.
    pub missing_transfers: Vec<String>,
    /// Its states as (name, words for a person): `running`, `default`, `next-boot-once`,
    /// `on-trial`, `failed`, `pinned`, `protected`, `held-back`, `incomplete`, `obsolete`
    /// (see docs/lifecycle.md).
    pub states: Vec<(String, String)>,
}

impl VersionInfo {
    /// Whether it is in the state `name`.
    pub fn is(&self, name: &str) -> bool {
        self.states.iter().any(|(n, _)| n == name)
    }
}

/// The update on offer (`AvailableUpdate`); an empty version when there is none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type, Default, Value, OwnedValue)]
pub struct UpdateOffer {
    /// The version.
    pub version: String,
    /// Bytes to download.
    pub download_bytes: u64,
    /// One line for a person (from the release notes, when there are any).
    pub summary: String,
}

/// The automatic fallback the helper found (`FallbackDetails`), as fields for a client to put
/// into a sentence of its language; an empty `failed` when there is none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type, Default, Value, OwnedValue)]
pub struct FallbackDetails {
    /// The version that failed to boot.
    pub failed: String,
    /// How many times it was tried.
    pub tries: u32,
    /// The version running instead.
    pub running: String,
}

/// One installed file (an instance of a transfer's target).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct InstalledFile {
    /// Name of the transfer definition, e.g. `50-root-x86-64-erofs`.
    pub transfer: String,
    /// Path of the file inside the system root, e.g. `/system/kde-linux_1.erofs`.
    pub path: String,
    /// Size of the file in bytes.
    pub size_bytes: u64,
}

/// Something in the update definitions a person should know about (an unknown key, legacy
/// files that are ignored, ...), though it does not stop updates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type, Value, OwnedValue)]
pub struct DefinitionWarning {
    /// The file, inside the system root.
    pub file: String,
    /// 1-based line, or 0 when the warning is about the whole file.
    pub line: u32,
    /// What is wrong and what to do.
    pub message: String,
}
