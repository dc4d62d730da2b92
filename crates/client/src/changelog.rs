//! What changes between two versions: release notes, links to the full changelog and the
//! package diff, as the helper gathers them from the mirror.
//!
//! The helper answers `Changelog` with a [`Changelog`] as JSON (docs/json.md), so that fields
//! can be added without changing the D-Bus signature. [`read`] and [`parse`] are the one place
//! where a client reads that JSON.

use serde::{Deserialize, Serialize};

/// One release from the metainfo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    /// Its version.
    pub version: String,
    /// Its date (`date`, or `timestamp` as a date), when given.
    pub date: Option<String>,
    /// Its description: paragraphs, and list items starting with "• ".
    pub description: Vec<String>,
    /// Its links (http and https only).
    pub urls: Vec<String>,
}

/// One package of a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// A package whose version changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// Its name.
    pub name: String,
    /// The version in the older manifest.
    pub from: String,
    /// The version in the newer manifest.
    pub to: String,
}

/// How the packages of two versions differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PackageDiff {
    /// In the newer version only.
    pub added: Vec<Package>,
    /// In the older version only.
    pub removed: Vec<Package>,
    /// Newer in the newer version.
    pub upgraded: Vec<Change>,
    /// Older in the newer version.
    pub downgraded: Vec<Change>,
}

/// The changelog between two versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Changelog {
    /// The older version.
    pub from: String,
    /// The newer version.
    pub to: String,
    /// Release notes, newest first.
    pub releases: Vec<Release>,
    /// `ChangeLog=` links for the newer version.
    pub links: Vec<String>,
    /// The package diff, when both manifests were found.
    pub packages: Option<PackageDiff>,
    /// What could not be had, for a person to read.
    pub notes: Vec<String>,
}

/// The changelog of a `Changelog` answer.
pub fn parse(json: &str) -> Result<Changelog, serde_json::Error> {
    serde_json::from_str(json)
}

/// Asks the helper what changes from `from` to `to` (empty: the running version and the update
/// on offer).
pub async fn read(
    proxy: &crate::UpdateCenterProxy<'_>,
    from: &str,
    to: &str,
) -> Result<Changelog, crate::Error> {
    let json = proxy.changelog(from, to).await?;
    parse(&json).map_err(|e| {
        crate::Error::Failed(format!(
            "The Update Center service sent a changelog this client cannot read: {e}"
        ))
    })
}

#[cfg(test)]
mod tests;
