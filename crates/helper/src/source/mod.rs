//! What the sources offer: HTTP and local fetching (and the relay that does the helper's
//! networking), signatures, decompression, the verified catalog, and changelogs.

pub mod catalog;
pub mod changelog;
pub mod compression;
pub mod fetch;
pub mod freshness;
pub mod origin;
pub mod relay;
pub mod signature;
