//! The deployment history: what the helper did and saw (updates, rollbacks, pins, boots, health
//! checks), one [`Record`] per event.
//!
//! The helper keeps the records as JSON lines and answers `History` with a JSON array of them,
//! newest first (docs/json.md): the event kinds are a tagged union that grows without changing
//! the D-Bus signature. [`read`] and [`parse`] are the one place where a client reads that JSON.

use serde::{Deserialize, Serialize};

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// An update started.
    Started {
        /// The version.
        version: String,
        /// Bytes to download.
        download_bytes: u64,
    },
    /// A version's files were downloaded ahead and verified; it is not staged yet.
    Downloaded {
        /// The version.
        version: String,
    },
    /// A whole version was removed to make room.
    Removed {
        /// The version.
        version: String,
    },
    /// An update was committed: the version is installed.
    Committed {
        /// The version.
        version: String,
    },
    /// An update failed; nothing of it is left.
    Failed {
        /// The version.
        version: String,
        /// Why, in English (with the underlying error).
        reason: String,
        /// Why, as the kind and fields of [`ERROR_KINDS`](crate::ERROR_KINDS) for a sentence in
        /// the person's language (empty in records older than it, and for failures without
        /// fields: the `reason` says those).
        #[serde(default, skip_serializing_if = "crate::ErrorDetails::is_empty")]
        details: crate::ErrorDetails,
    },
    /// An interrupted update was completed (`completed`) or discarded on start-up.
    Recovered {
        /// The version, when known.
        version: String,
        /// Whether it was completed.
        completed: bool,
    },
    /// A version was pinned.
    Pinned {
        /// The version.
        version: String,
    },
    /// A version was unpinned.
    Unpinned {
        /// The version.
        version: String,
    },
    /// A version was made the default boot entry (or the entry of the next boot, `once`).
    RolledBack {
        /// The version.
        version: String,
        /// For the next boot only.
        once: bool,
    },
    /// The system booted.
    Booted {
        /// The version running.
        version: String,
        /// The boot entry it came from.
        entry: String,
        /// Tries left of that entry, while on trial.
        tries_left: Option<u64>,
        /// Tries done of that entry, while on trial.
        tries_done: Option<u64>,
        /// The entry is blessed (no boot counter).
        good: bool,
    },
    /// A newer version failed to boot and systemd-boot fell back to an older one.
    FallbackDetected {
        /// The version that failed.
        failed: String,
        /// How often it was tried.
        tries: u64,
        /// The version running.
        running: String,
    },
    /// Somebody acknowledged the fallback.
    FallbackAcknowledged {
        /// The version that had failed.
        failed: String,
    },
    /// How an image with a chunk index came: rebuilt as a delta (bytes from the installed
    /// images, a chunk store, range requests of the image), or downloaded whole, and why.
    Fetched {
        /// The version.
        version: String,
        /// The file, by its installed name.
        file: String,
        /// Bytes copied from installed images (or kept from an interrupted run).
        seed_bytes: u64,
        /// Bytes from a chunk store (compressed, as they came over the wire).
        store_bytes: u64,
        /// Bytes from range requests of the image.
        range_bytes: u64,
        /// Bytes of the whole file, when it was downloaded whole (0 for a delta).
        full_bytes: u64,
        /// Why the whole file came instead of a delta, in English (empty for a delta; for a
        /// delta, places that failed before another served the rest).
        fallback: String,
        /// Why the whole file came, as a kind of [`FALLBACK_KINDS`](crate::FALLBACK_KINDS) and
        /// its fields (empty for a delta, and in records older than it).
        #[serde(default, skip_serializing_if = "crate::ErrorDetails::is_empty")]
        fallback_details: crate::ErrorDetails,
    },
    /// The update sources were checked.
    Checked {
        /// The version on offer (empty when up to date).
        candidate: String,
    },
    /// The health checks of this boot ran.
    HealthChecked {
        /// Every required check passed.
        passed: bool,
        /// Each check.
        checks: Vec<crate::health::CheckResult>,
    },
}

impl Event {
    /// The kind, as written in the `event` field.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Started { .. } => "started",
            Self::Removed { .. } => "removed",
            Self::Downloaded { .. } => "downloaded",
            Self::Committed { .. } => "committed",
            Self::Failed { .. } => "failed",
            Self::Recovered { .. } => "recovered",
            Self::Pinned { .. } => "pinned",
            Self::Unpinned { .. } => "unpinned",
            Self::RolledBack { .. } => "rolled-back",
            Self::Booted { .. } => "booted",
            Self::FallbackDetected { .. } => "fallback-detected",
            Self::FallbackAcknowledged { .. } => "fallback-acknowledged",
            Self::HealthChecked { .. } => "health-checked",
            Self::Checked { .. } => "checked",
            Self::Fetched { .. } => "fetched",
        }
    }
}

/// One record: when, and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// RFC 3339 time in UTC.
    pub time: String,
    /// What happened.
    #[serde(flatten)]
    pub event: Event,
}

/// The records of a `History` answer (a JSON array), in its order. A record this client does
/// not know (an event kind of a newer helper) is left out; anything but an array is an error.
pub fn parse(json: &str) -> Result<Vec<Record>, serde_json::Error> {
    let values: Vec<serde_json::Value> = serde_json::from_str(json)?;
    Ok(values
        .into_iter()
        .filter_map(|value| serde_json::from_value(value).ok())
        .collect())
}

/// Asks the helper for the records from `since_secs` up to `until_secs` (seconds since the
/// epoch, 0: unbounded), at most `limit` of them (0: all), newest first.
pub async fn read(
    proxy: &crate::UpdateCenterProxy<'_>,
    since_secs: i64,
    until_secs: i64,
    limit: u32,
) -> Result<Vec<Record>, crate::Error> {
    let json = proxy.history(since_secs, until_secs, limit).await?;
    parse(&json).map_err(|e| {
        crate::Error::Failed(format!(
            "The Update Center service sent a history this client cannot read: {e}"
        ))
    })
}

#[cfg(test)]
mod tests;
