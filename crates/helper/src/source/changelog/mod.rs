//! What changes between two versions: release notes from the `AppStream=` metainfo (only the
//! releases after the older and up to the newer version), the `ChangeLog=` links with `@v`
//! expanded, and a package-level diff when the mirror publishes a manifest per version.
//!
//! The manifest is the JSON manifest mkosi writes beside an image (`ManifestFormat=json`): an
//! object with a `packages` array of objects that have at least `name` and `version`. Its name
//! on the mirror is the first source pattern of the definitions cut at `@v`, then the version
//! and `.manifest`: `kde-linux_@v.efi` -> `kde-linux_202611260800.manifest`.
//!
//! Everything fetched is size-limited and cached under `/var/cache/update-center/metadata`:
//! manifests never change, so a cached one is used as is; the metainfo is fetched again and
//! the cache used only when the mirror cannot be reached.

use crate::definitions::Definitions;
use crate::format::version::compare;
use crate::source::catalog;
use crate::source::fetch::{FetchError, Fetcher, Location};
use serde::Deserialize;
use std::path::Path;

/// The metainfo may be this large.
pub const METAINFO_MAX_BYTES: usize = 2 * 1024 * 1024;
/// A manifest may be this large.
pub const MANIFEST_MAX_BYTES: usize = 8 * 1024 * 1024;
/// XML nodes parsed at most (a metainfo file has a few thousand).
pub const XML_NODES_LIMIT: u32 = 200_000;
/// The metadata cache, inside the root.
pub const CACHE_DIR: &str = "var/cache/update-center/metadata";

/// The changelog's types are the client crate's: what `Changelog` sends is what clients read.
pub use update_center_client::changelog::{Change, Changelog, Package, PackageDiff, Release};

/// Why metadata cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangelogError {
    /// The metainfo is not XML this reader accepts.
    #[error("the release notes at {url} are not valid AppStream metainfo: {reason}")]
    BadMetainfo {
        /// Where it came from.
        url: String,
        /// Why.
        reason: String,
    },
    /// The manifest is not the JSON this reader accepts.
    #[error("the package manifest {url} is not a JSON manifest with a packages list: {reason}")]
    BadManifest {
        /// Where it came from.
        url: String,
        /// Why.
        reason: String,
    },
}

fn text_of(node: roxmltree::Node<'_, '_>) -> String {
    let text: String = node
        .descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The releases of `xml` newer than `from` and up to `to`, newest first.
pub fn releases_between(
    xml: &str,
    url: &str,
    from: &str,
    to: &str,
) -> Result<Vec<Release>, ChangelogError> {
    let bad = |reason: String| ChangelogError::BadMetainfo {
        url: url.to_string(),
        reason,
    };
    if xml.len() > METAINFO_MAX_BYTES {
        return Err(bad(format!("larger than {METAINFO_MAX_BYTES} bytes")));
    }
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: XML_NODES_LIMIT,
        ..roxmltree::ParsingOptions::default()
    };
    let document =
        roxmltree::Document::parse_with_options(xml, options).map_err(|e| bad(e.to_string()))?;
    let mut releases = Vec::new();
    for release in document
        .descendants()
        .filter(|n| n.has_tag_name("release"))
        .filter(|n| n.parent().is_some_and(|p| p.has_tag_name("releases")))
    {
        let Some(version) = release.attribute("version") else {
            continue;
        };
        if compare(version, from).is_le() || compare(version, to).is_gt() {
            continue;
        }
        let date = release.attribute("date").map(str::to_string).or_else(|| {
            release
                .attribute("timestamp")
                .and_then(|t| t.parse::<i64>().ok())
                .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
                .map(|t| t.format("%Y-%m-%d").to_string())
        });
        let mut description = Vec::new();
        if let Some(d) = release.children().find(|n| n.has_tag_name("description")) {
            for node in d.descendants().filter(|n| n.is_element()) {
                match node.tag_name().name() {
                    "p" => description.push(text_of(node)),
                    "li" => description.push(format!("• {}", text_of(node))),
                    _ => {}
                }
            }
        }
        let urls = release
            .children()
            .filter(|n| n.has_tag_name("url"))
            .map(text_of)
            .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
            .collect();
        releases.push(Release {
            version: version.to_string(),
            date,
            description,
            urls,
        });
    }
    releases.sort_by(|a, b| compare(&b.version, &a.version));
    // One entry per version, also when the metainfo spells it twice ("1" and "01").
    releases.dedup_by(|a, b| compare(&a.version, &b.version).is_eq());
    Ok(releases)
}

#[derive(Deserialize)]
struct Manifest {
    packages: Vec<Package>,
}

/// The packages of a manifest.
pub fn parse_manifest(bytes: &[u8], url: &str) -> Result<Vec<Package>, ChangelogError> {
    serde_json::from_slice::<Manifest>(bytes)
        .map(|m| m.packages)
        .map_err(|e| ChangelogError::BadManifest {
            url: url.to_string(),
            reason: e.to_string(),
        })
}

/// Compares two package lists (versions by the UAPI version order, which sorts Debian's,
/// Arch's and RPM's versions the way their tools do for the usual cases).
pub fn diff(old: &[Package], new: &[Package]) -> PackageDiff {
    use std::collections::BTreeMap;
    let index = |list: &[Package]| -> BTreeMap<String, String> {
        list.iter()
            .map(|p| (p.name.clone(), p.version.clone()))
            .collect()
    };
    let (before, after) = (index(old), index(new));
    let mut out = PackageDiff::default();
    for (name, version) in &after {
        match before.get(name) {
            None => out.added.push(Package {
                name: name.clone(),
                version: version.clone(),
            }),
            Some(was) if was != version => {
                let change = Change {
                    name: name.clone(),
                    from: was.clone(),
                    to: version.clone(),
                };
                if compare(version, was).is_lt() {
                    out.downgraded.push(change);
                } else {
                    out.upgraded.push(change);
                }
            }
            Some(_) => {}
        }
    }
    for (name, version) in &before {
        if !after.contains_key(name) {
            out.removed.push(Package {
                name: name.clone(),
                version: version.clone(),
            });
        }
    }
    out
}

/// The manifest's name for `version` (see the module documentation), with where it is.
pub fn manifest_of(
    definitions: &Definitions,
    root: &Path,
    version: &str,
) -> Option<(Location, String)> {
    let transfer = definitions.active().next()?;
    let pattern = transfer.source.patterns.first()?.as_str();
    let prefix = &pattern[..pattern.find("@v")?];
    let location = catalog::location(transfer, root).ok()?;
    Some((location, format!("{prefix}{version}.manifest")))
}

fn cache_name(url: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(url.as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// Most bytes the metadata cache keeps; the least recently written files go first beyond it.
pub const CACHE_MAX_BYTES: u64 = 32 * 1024 * 1024;
/// Most files the metadata cache keeps.
pub const CACHE_MAX_FILES: usize = 64;

/// Reads `name` at `location` through the cache: `immutable` files are taken from the cache
/// when there; others are fetched and the cache used only when the fetch fails. Only bytes
/// that `valid` accepts (they parse) are cached, privately (0600 in a 0700 folder), and the
/// cache is trimmed to [`CACHE_MAX_BYTES`] and [`CACHE_MAX_FILES`].
fn cached_get(
    fetcher: &Fetcher,
    cache: &Path,
    location: &Location,
    name: &str,
    max_bytes: usize,
    immutable: bool,
    valid: &dyn Fn(&[u8]) -> bool,
) -> Result<Option<Vec<u8>>, FetchError> {
    let file = cache.join(cache_name(&location.display(name)));
    let cached = || std::fs::read(&file).ok().filter(|bytes| valid(bytes));
    if immutable && let Some(bytes) = cached() {
        return Ok(Some(bytes));
    }
    match fetcher.get(location, name, max_bytes) {
        Ok(Some(bytes)) => {
            if valid(&bytes) && crate::fsutil::write_atomically(&file, &bytes).is_ok() {
                trim_cache(cache, &file);
            }
            Ok(Some(bytes))
        }
        Ok(None) => Ok(None),
        Err(error) => cached().map(Some).ok_or(error),
    }
}

/// Removes the oldest cached files beyond the caps, never `keep` (just written).
fn trim_cache(cache: &Path, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(cache) else {
        return;
    };
    let mut files: Vec<(std::time::SystemTime, u64, std::path::PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let meta = e.metadata().ok()?;
            let modified = meta.modified().ok()?;
            meta.is_file().then(|| (modified, meta.len(), e.path()))
        })
        .collect();
    files.sort();
    let mut bytes: u64 = files.iter().map(|(_, len, _)| len).sum();
    let mut count = files.len();
    for (_, len, path) in files {
        if bytes <= CACHE_MAX_BYTES && count <= CACHE_MAX_FILES {
            break;
        }
        if path != keep && std::fs::remove_file(&path).is_ok() {
            bytes -= len;
            count -= 1;
        }
    }
}

/// Fetches the manifest of `version` into the cache (done when the version is staged, so that
/// its package list is at hand after the mirror dropped it). Best effort: `false` when there
/// is none.
pub fn prefetch_manifest(
    definitions: &Definitions,
    root: &Path,
    fetcher: &Fetcher,
    version: &str,
) -> bool {
    let Some((location, name)) = manifest_of(definitions, root, version) else {
        return false;
    };
    let cache = root.join(CACHE_DIR);
    matches!(
        cached_get(
            fetcher,
            &cache,
            &location,
            &name,
            MANIFEST_MAX_BYTES,
            true,
            &|bytes| parse_manifest(bytes, "").is_ok()
        ),
        Ok(Some(_))
    )
}

/// Splits a URL into its directory (a location) and file name.
fn split_url(url: &str) -> Option<(Location, String)> {
    let (dir, name) = url.rsplit_once('/')?;
    Some((Location::Http(format!("{dir}/")), name.to_string()))
}

/// Gathers the changelog between `from` and `to` (either order).
pub fn between(
    definitions: &Definitions,
    root: &Path,
    fetcher: &Fetcher,
    from: &str,
    to: &str,
) -> Changelog {
    let (from, to) = if compare(from, to).is_gt() {
        (to, from)
    } else {
        (from, to)
    };
    let cache = root.join(CACHE_DIR);
    let mut notes = Vec::new();
    let mut releases = Vec::new();
    let metainfo: Vec<&String> = definitions
        .active()
        .flat_map(|t| t.appstream.iter())
        .collect();
    match metainfo.first() {
        None => notes.push("the definitions name no AppStream= metainfo".to_string()),
        Some(url) => match split_url(url) {
            None => notes.push(format!("AppStream={url} is not a URL")),
            Some((location, name)) => {
                let valid = |bytes: &[u8]| {
                    std::str::from_utf8(bytes)
                        .is_ok_and(|text| releases_between(text, url, from, to).is_ok())
                };
                match cached_get(
                    fetcher,
                    &cache,
                    &location,
                    &name,
                    METAINFO_MAX_BYTES,
                    false,
                    &valid,
                ) {
                    Ok(Some(bytes)) => {
                        let text = String::from_utf8_lossy(&bytes);
                        match releases_between(&text, url, from, to) {
                            Ok(found) => releases = found,
                            Err(e) => notes.push(e.to_string()),
                        }
                    }
                    Ok(None) => notes.push(format!("{url} does not exist")),
                    Err(e) => notes.push(e.to_string()),
                }
            }
        },
    }
    let mut links: Vec<String> = definitions
        .active()
        .flat_map(|t| t.changelog.iter())
        .map(|l| l.replace("@v", to))
        .collect();
    links.dedup();
    let mut manifests = Vec::new();
    for version in [from, to] {
        let Some((location, name)) = manifest_of(definitions, root, version) else {
            notes.push("the definitions name no source to find package manifests at".into());
            break;
        };
        let url = location.display(&name);
        let valid = |bytes: &[u8]| parse_manifest(bytes, &url).is_ok();
        match cached_get(
            fetcher,
            &cache,
            &location,
            &name,
            MANIFEST_MAX_BYTES,
            true,
            &valid,
        ) {
            Ok(Some(bytes)) => match parse_manifest(&bytes, &url) {
                Ok(packages) => manifests.push(packages),
                Err(e) => notes.push(e.to_string()),
            },
            Ok(None) => notes.push(format!(
                "{url} does not exist: no package list for {version}"
            )),
            Err(e) => notes.push(e.to_string()),
        }
    }
    let packages = match manifests.as_slice() {
        [old, new] => Some(diff(old, new)),
        _ => None,
    };
    Changelog {
        from: from.to_string(),
        to: to.to_string(),
        releases,
        links,
        packages,
        notes,
    }
}

#[cfg(test)]
mod tests;
