//! What the sources offer: each source's `SHA256SUMS`, verified by signature unless every
//! transfer reading it says `Verify=no`, matched against the transfers' source patterns and
//! grouped into versions. A version counts as available only when every active transfer offers
//! it; the candidate is chosen exactly as systemd-sysupdate chooses it.

use crate::definitions::{Definitions, SourceType, Transfer};
use crate::format::sums::{self, SumsError};
use crate::format::version;
use crate::installed::inventory::Inventory;
use crate::source::fetch::{FetchError, Fetcher, Location};
use crate::source::signature::{self, GoodSignature, SignatureError};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Largest detached signature accepted, in bytes.
const MAX_SIGNATURE_BYTES: usize = 64 * 1024;

/// How a source's list was checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Verification {
    /// `SHA256SUMS.gpg` is a good signature by a key of the installed keyring.
    Verified(GoodSignature),
    /// Every transfer of this source says `Verify=no`: the list was not checked.
    Unverified,
}

/// One source and how its list was checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceReport {
    /// URL or local path of the source directory.
    pub location: String,
    /// Transfers that read it.
    pub transfers: Vec<String>,
    /// How its list was checked.
    pub verification: Verification,
    /// Days since its signed list was made, when more than
    /// [`crate::source::freshness::STALE_AFTER_DAYS`]: the source may have stopped publishing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stale_days: Option<i64>,
}

/// One file a source offers for a transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Offer {
    /// The transfer.
    pub transfer: String,
    /// The file name at the source.
    pub name: String,
    /// Where to get it (URL or path).
    pub location: String,
    /// Its SHA-256 from `SHA256SUMS`.
    pub sha256: String,
    /// The source directory it is read from.
    #[serde(skip)]
    pub from: Location,
}

/// Where an offered file is read from.
pub fn location_of(offer: &Offer) -> Location {
    offer.from.clone()
}

/// One version the sources offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AvailableVersion {
    /// The version.
    pub version: String,
    /// Every active transfer offers a file of it.
    pub complete: bool,
    /// Older than a transfer's `MinVersion=`.
    pub obsolete: bool,
    /// The files offered, in transfer order.
    pub files: Vec<Offer>,
    /// Active transfers that offer nothing for it.
    pub missing_transfers: Vec<String>,
}

/// Everything the sources offer, and what to install.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Catalog {
    /// The sources read.
    pub sources: Vec<SourceReport>,
    /// Versions offered, newest first (complete or not).
    pub versions: Vec<AvailableVersion>,
    /// The newest installed version (complete or not), as systemd-sysupdate counts it.
    pub newest_installed: Option<String>,
    /// The version an update would install, if any.
    pub candidate: Option<String>,
}

/// Why the catalog could not be built. Nothing on disk changes in any case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    /// A file could not be read from the source.
    #[error("{0}")]
    Fetch(#[from] FetchError),
    /// The signed list is older than one this machine has seen from the same source: the
    /// mirror (or someone on the way) replays an old list to keep the machine on old software.
    #[error(
        "{location} offers a signed SHA256SUMS made {offered}, older than the one seen on {seen}: refusing it (a stale mirror, or an attempt to hold this machine on old versions)"
    )]
    Replayed {
        /// The source.
        location: String,
        /// When the offered list was signed (RFC 3339).
        offered: String,
        /// When the newest list seen before was signed (RFC 3339).
        seen: String,
    },
    /// The source has no `SHA256SUMS`.
    #[error("{location} offers no SHA256SUMS; it is not an update source")]
    NoSums {
        /// The source.
        location: String,
    },
    /// The `SHA256SUMS` of a source is malformed or hostile.
    #[error("{location}SHA256SUMS {error}")]
    Sums {
        /// The source.
        location: String,
        /// What is wrong.
        error: SumsError,
    },
    /// The signature of a source's `SHA256SUMS` is not acceptable.
    #[error("{location}: {error}")]
    Signature {
        /// The source.
        location: String,
        /// What is wrong.
        error: SignatureError,
    },
    /// A source type this helper does not read.
    #[error("{file}: source Type={kind} is not supported by this helper")]
    UnsupportedSource {
        /// The definition file.
        file: String,
        /// The type.
        kind: String,
    },
}

/// Where a transfer's source lives.
pub fn location(transfer: &Transfer, root: &Path) -> Result<Location, CatalogError> {
    let path = &transfer.source.path;
    match transfer.source.kind {
        SourceType::UrlFile | SourceType::UrlTar => {
            let base = if path.ends_with('/') {
                path.clone()
            } else {
                format!("{path}/")
            };
            Ok(Location::Http(base))
        }
        SourceType::RegularFile | SourceType::Directory | SourceType::Tar => {
            // Like systemd-sysupdate --root, a local source path is inside the root.
            let relative = path.trim_start_matches('/');
            Ok(Location::Dir {
                root: root.to_path_buf(),
                folder: PathBuf::from(relative),
                shown: path.clone(),
            })
        }
        SourceType::Subvolume => Err(CatalogError::UnsupportedSource {
            file: transfer.file.display().to_string(),
            kind: "subvolume".into(),
        }),
    }
}

/// Reads every source of the active transfers and works out the candidate.
pub fn check(
    definitions: &Definitions,
    inventory: &Inventory,
    root: &Path,
    fetcher: &Fetcher,
) -> Result<Catalog, CatalogError> {
    let active: Vec<&Transfer> = definitions.active().collect();
    // One read per source directory, however many transfers share it.
    let mut groups: Vec<(Location, Vec<&Transfer>)> = Vec::new();
    for transfer in &active {
        let loc = location(transfer, root)?;
        match groups.iter_mut().find(|(l, _)| *l == loc) {
            Some((_, members)) => members.push(transfer),
            None => groups.push((loc, vec![transfer])),
        }
    }
    let mut keyring = None;
    let mut sources = Vec::new();
    let mut offers: BTreeMap<String, Vec<Offer>> = BTreeMap::new();
    for (loc, members) in &groups {
        let shown = loc.to_string();
        let sums_bytes = fetcher
            .get(loc, "SHA256SUMS", sums::MAX_BYTES)?
            .ok_or_else(|| CatalogError::NoSums {
                location: shown.clone(),
            })?;
        let verify = members.iter().any(|t| t.verify);
        let verification = if verify {
            let certs = match &keyring {
                Some(certs) => certs,
                None => {
                    let (_, certs) = signature::installed_keyring(root).map_err(|error| {
                        CatalogError::Signature {
                            location: shown.clone(),
                            error,
                        }
                    })?;
                    keyring.insert(certs)
                }
            };
            let signature_bytes = fetcher
                .get(loc, "SHA256SUMS.gpg", MAX_SIGNATURE_BYTES)?
                .ok_or_else(|| CatalogError::Signature {
                    location: shown.clone(),
                    error: SignatureError::Missing,
                })?;
            let good = signature::verify_detached(certs, &sums_bytes, &signature_bytes).map_err(
                |error| CatalogError::Signature {
                    location: shown.clone(),
                    error,
                },
            )?;
            if let Some(created) = good.created {
                crate::source::freshness::admit(root, &shown, created).map_err(
                    |(offered, seen)| CatalogError::Replayed {
                        location: shown.clone(),
                        offered,
                        seen,
                    },
                )?;
            }
            Verification::Verified(good)
        } else {
            Verification::Unverified
        };
        let entries = sums::parse(&sums_bytes).map_err(|error| CatalogError::Sums {
            location: shown.clone(),
            error,
        })?;
        for transfer in members {
            for entry in &entries {
                let Some(fields) =
                    crate::format::pattern::match_first(&transfer.source.patterns, &entry.name)
                else {
                    continue;
                };
                offers.entry(fields.version).or_default().push(Offer {
                    transfer: transfer.name.clone(),
                    name: entry.name.clone(),
                    location: loc.display(&entry.name),
                    sha256: entry.sha256.clone(),
                    from: loc.clone(),
                });
            }
        }
        let stale_days = match &verification {
            Verification::Verified(GoodSignature {
                created: Some(created),
                ..
            }) => crate::source::freshness::stale_days(*created, chrono::Utc::now().timestamp()),
            _ => None,
        };
        sources.push(SourceReport {
            location: shown,
            transfers: members.iter().map(|t| t.name.clone()).collect(),
            verification,
            stale_days,
        });
    }
    let mut versions: Vec<AvailableVersion> = offers
        .into_iter()
        .map(|(version, mut files)| {
            // Transfer order, and one file per transfer (the first name that matched).
            files.sort_by_key(|f| active.iter().position(|t| t.name == f.transfer));
            files.dedup_by(|a, b| a.transfer == b.transfer);
            let missing_transfers: Vec<String> = active
                .iter()
                .filter(|t| !files.iter().any(|f| f.transfer == t.name))
                .map(|t| t.name.clone())
                .collect();
            AvailableVersion {
                obsolete: crate::definitions::is_obsolete(&active, &version),
                complete: missing_transfers.is_empty(),
                version,
                files,
                missing_transfers,
            }
        })
        .collect();
    versions.sort_by(|a, b| version::compare(&b.version, &a.version));
    let newest_installed = inventory.versions.first().map(|v| v.version.clone());
    let candidate = candidate(&versions, inventory, newest_installed.as_deref());
    Ok(Catalog {
        sources,
        versions,
        newest_installed,
        candidate,
    })
}

/// systemd-sysupdate's rule: the newest version every transfer offers is the candidate when it
/// is not installed, not obsolete, and newer than the newest installed version.
fn candidate(
    versions: &[AvailableVersion],
    inventory: &Inventory,
    newest_installed: Option<&str>,
) -> Option<String> {
    let newest = versions.iter().find(|v| v.complete)?;
    if newest.obsolete
        || inventory
            .versions
            .iter()
            .any(|i| i.version == newest.version)
    {
        return None;
    }
    if let Some(installed) = newest_installed
        && version::compare(installed, &newest.version).is_ge()
    {
        return None;
    }
    Some(newest.version.clone())
}
