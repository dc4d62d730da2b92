//! The freshness floor: for every source, the creation time of the newest signed `SHA256SUMS`
//! this machine has accepted. A list signed earlier than that is refused, so a mirror (or anyone
//! in the path of an `http://` source) cannot serve last month's signed list forever to keep
//! the machine on old software. Kept in `/var/lib/update-center/freshness.json` (0600).
//!
//! A source whose newest list is older than [`STALE_AFTER_DAYS`] is reported (not refused):
//! it may simply have stopped publishing, which an administrator wants to know.

use std::collections::BTreeMap;
use std::path::Path;

/// The record inside the root.
pub const FILE: &str = "var/lib/update-center/freshness.json";
/// A source whose newest signed list is older than this many days is reported as stale.
pub const STALE_AFTER_DAYS: i64 = 30;

fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| t.to_string())
}

/// Every source's floor (seconds since the epoch). A missing or unreadable record is empty:
/// the floor only ever rises from what was accepted.
pub fn load(root: &Path) -> BTreeMap<String, i64> {
    std::fs::read(root.join(FILE))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// Admits a list of `source` signed at `created`: `Err((offered, seen))` when it is older than
/// the floor; otherwise the floor rises to it (when the record can be written).
pub fn admit(root: &Path, source: &str, created: i64) -> Result<(), (String, String)> {
    let mut floors = load(root);
    match floors.get(source) {
        Some(&seen) if created < seen => Err((rfc3339(created), rfc3339(seen))),
        Some(&seen) if created == seen => Ok(()),
        _ => {
            floors.insert(source.to_string(), created);
            if let Ok(bytes) = serde_json::to_vec_pretty(&floors) {
                let _ = crate::fsutil::write_atomically(&root.join(FILE), &bytes);
            }
            Ok(())
        }
    }
}

/// How many whole days old a list signed at `created` is at `now`, when that is more than
/// [`STALE_AFTER_DAYS`].
pub fn stale_days(created: i64, now: i64) -> Option<i64> {
    let days = (now - created) / 86_400;
    (days > STALE_AFTER_DAYS).then_some(days)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_only_rises_and_an_older_list_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        assert_eq!(admit(root, "https://m/", 1_000), Ok(()));
        assert_eq!(
            admit(root, "https://m/", 1_000),
            Ok(()),
            "the same list again"
        );
        assert_eq!(admit(root, "https://m/", 2_000), Ok(()));
        let (offered, seen) = admit(root, "https://m/", 1_500).expect_err("replay");
        assert_eq!(offered, "1970-01-01T00:25:00Z");
        assert_eq!(seen, "1970-01-01T00:33:20Z");
        assert_eq!(admit(root, "https://other/", 1_500), Ok(()), "per source");
        assert_eq!(load(root).get("https://m/"), Some(&2_000));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(root.join(FILE))
            .expect("record")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_source_is_stale_after_thirty_days() {
        let day = 86_400;
        assert_eq!(stale_days(0, 30 * day), None);
        assert_eq!(stale_days(0, 31 * day), Some(31));
    }
}
