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
    /// Bytes to download: less than `image_bytes` when a delta takes the rest from the
    /// installed versions.
    pub download_bytes: u64,
    /// Bytes of the new version's files (the whole image).
    pub image_bytes: u64,
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

/// A failure as fields (`LastErrorDetails`, a job's `ErrorDetails`): its kind and the values a
/// sentence about it needs, for a client to say it in the person's language. The English
/// message (`LastError`, a job's `Result`) stays beside it for logs, scripts and the kinds a
/// client does not know; an empty kind means none, or a failure the helper has no fields for.
/// The kinds and their fields are [`ERROR_KINDS`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type, Default, Value, OwnedValue)]
pub struct ErrorDetails {
    /// What went wrong, one of [`ERROR_KINDS`].
    pub kind: String,
    /// Its values by name: sizes in bytes end in `_bytes`, yes/no fields are `yes` or `no`.
    pub fields: std::collections::HashMap<String, String>,
}

impl ErrorDetails {
    /// A failure of `kind` with `fields`.
    pub fn new(kind: &str, fields: &[(&str, String)]) -> Self {
        Self {
            kind: kind.to_string(),
            fields: fields
                .iter()
                .map(|(k, v)| ((*k).to_string(), v.clone()))
                .collect(),
        }
    }

    /// No kind and no fields: nothing said.
    pub fn is_empty(&self) -> bool {
        self.kind.is_empty() && self.fields.is_empty()
    }

    /// The field `name`, or "" when it is not there.
    pub fn field(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }

    /// What a call that failed with `error` says as fields: the kinds a D-Bus error names by
    /// itself (not authorised, busy, cancelled, no helper, no bus, access denied by the bus),
    /// else an empty kind.
    pub fn of_call_error(error: &crate::Error) -> Self {
        use crate::Error;
        match error {
            Error::NotAuthorized(_) => Self::new("not-authorized", &[]),
            Error::Busy(_) => Self::new("busy", &[]),
            Error::Cancelled(_) => Self::new("cancelled", &[]),
            Error::ZBus(zbus::Error::MethodError(name, _, _))
                if matches!(
                    name.as_str(),
                    "org.freedesktop.DBus.Error.ServiceUnknown"
                        | "org.freedesktop.DBus.Error.NameHasNoOwner"
                ) =>
            {
                Self::new("no-service", &[])
            }
            Error::ZBus(zbus::Error::MethodError(name, _, _))
                if name.as_str() == "org.freedesktop.DBus.Error.AccessDenied" =>
            {
                Self::new("bus-denied", &[])
            }
            Error::ZBus(zbus::Error::FDO(e)) => match **e {
                zbus::fdo::Error::ServiceUnknown(_) | zbus::fdo::Error::NameHasNoOwner(_) => {
                    Self::new("no-service", &[])
                }
                zbus::fdo::Error::AccessDenied(_) => Self::new("bus-denied", &[]),
                _ => Self::default(),
            },
            Error::ZBus(zbus::Error::InputOutput(_)) => Self::new("no-bus", &[]),
            _ => Self::default(),
        }
    }
}

/// Every kind of [`ErrorDetails`] with its fields (`name_bytes`: a size in bytes; yes/no
/// fields hold `yes` or `no`). Clients have a message `error-KIND` for each. A job's failure
/// also carries `job`: `check` or `install`, the job that failed (with any kind, also an empty
/// one).
pub const ERROR_KINDS: [(&str, &[&str]); 29] = [
    // A file system lacks room: the directory the files go to, whether it is the EFI system
    // partition, what is needed and free there, and whether a version may be removed to make
    // room (`can_remove`) and which (`remove`, empty when none may).
    (
        "no-room",
        &[
            "dir",
            "boot",
            "missing_bytes",
            "needed_bytes",
            "available_bytes",
            "can_remove",
            "remove",
        ],
    ),
    // How much room a file system has cannot be learned.
    ("room-unknown", &["dir"]),
    // A transfer writes to the EFI system partition, and none is mounted.
    ("no-boot-partition", &["file"]),
    // A mirror did not answer (DNS, connection, TLS, timeout).
    ("unreachable", &["url"]),
    // A mirror answered with an HTTP error (401 and 403: it wants credentials).
    ("http-status", &["url", "status"]),
    // A file is larger than allowed.
    ("too-large", &["url", "max_bytes"]),
    // A mirror does not say how large a file is (its size is needed to check the room).
    ("unknown-size", &["url"]),
    // A file ended early.
    ("truncated", &["url", "got_bytes", "expected_bytes"]),
    // A file's bytes do not match its SHA-256 in the signed list.
    ("hash-mismatch", &["url"]),
    // The signature of a source's list: `problem` is no-keyring, bad-keyring, missing,
    // corrupt, unknown-key, expired-key, bad-key or mismatch; `key` the signing key's
    // fingerprint where one is known.
    ("signature", &["source", "problem", "key"]),
    // A source offers a signed list older than one seen before (times in RFC 3339).
    ("replayed", &["source", "offered", "seen"]),
    // A source has no SHA256SUMS.
    ("no-sums", &["source"]),
    // Writing a download to disk failed.
    ("write-failed", &["url"]),
    // A file-system operation of the update failed.
    ("file-system", &["path"]),
    // Nothing newer is offered.
    ("up-to-date", &[]),
    // The version asked for is not offered.
    ("not-offered", &["version"]),
    // The version is offered without some of its files.
    ("offered-in-part", &["version", "missing"]),
    // The version is installed already.
    ("already-installed", &["version"]),
    // The version is held back (rolled back from, or failed to boot).
    ("held-back", &["version"]),
    // The version is older than the definitions' MinVersion=.
    ("obsolete", &["version"]),
    // The helper stopped during an update and finished it (`version`) or removed its
    // unfinished files (`files`) on start-up.
    ("recovered-completed", &["version"]),
    ("recovered-discarded", &["files"]),
    // The job was cancelled.
    ("cancelled", &[]),
    // Another job runs.
    ("busy", &[]),
    // polkit did not authorise the caller.
    ("not-authorized", &[]),
    // The helper is not running on the system bus.
    ("no-service", &[]),
    // The system bus cannot be reached (clients only: the helper never sends it).
    ("no-bus", &[]),
    // The system bus refused access to the helper (clients only).
    ("bus-denied", &[]),
    // The helper did not answer in time (clients only).
    ("no-answer", &[]),
];

/// Why a delta gave way to the whole image: every kind of the `fallback_details` of a `fetched`
/// history record and of a job's `FallbackDetails`, with its fields. Clients have a message
/// `fallback-KIND` for each.
pub const FALLBACK_KINDS: [(&str, &[&str]); 8] = [
    // `[Delta] Store=off`.
    ("off", &[]),
    // The image's chunk index cannot be read.
    ("index", &[]),
    // The chunk store at `store` failed (and no other place served the rest).
    ("store", &["store"]),
    // Range requests of the image at `url` failed.
    ("ranges", &["url"]),
    // The rebuilt image cannot be written at `path`.
    ("write", &["path"]),
    // The rebuilt image does not match its checksum.
    ("mismatch", &[]),
    // The cache for rebuilds at `path` cannot be used.
    ("cache", &["path"]),
    // The rebuild stopped unexpectedly.
    ("stopped", &[]),
];

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
    /// The file, inside the system root (or a source's location).
    pub file: String,
    /// 1-based line, or 0 when the warning is about the whole file.
    pub line: u32,
    /// What is wrong and what to do, in English (logs, and kinds a client does not know).
    pub message: String,
    /// The same as a kind of [`WARNING_KINDS`], for a sentence in the person's language.
    pub kind: String,
    /// Its fields.
    pub fields: std::collections::HashMap<String, String>,
}

/// Every kind of [`DefinitionWarning`] with its fields. Clients have a message
/// `definition-warning-KIND` for each.
pub const WARNING_KINDS: [(&str, &[&str]); 4] = [
    // A key systemd-sysupdate does not know, in `section`: ignored.
    ("unknown-key", &["key", "section"]),
    // `TriesLeft=1`: one unlucky boot marks a good version bad.
    ("tries-left-one", &[]),
    // A legacy `*.conf` transfer file beside `*.transfer` files: ignored.
    ("legacy-ignored", &[]),
    // A source's newest signed list is `days` old.
    ("stale-source", &["days"]),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    #[test]
    fn bus_errors_name_their_kind_however_the_bus_says_them() {
        let kind = |e: Error| ErrorDetails::of_call_error(&e).kind;
        let unknown = zbus::fdo::Error::ServiceUnknown("no such name".into());
        // Reading a property: the bus's error comes as FDO.
        assert_eq!(
            kind(Error::ZBus(zbus::Error::FDO(Box::new(unknown)))),
            "no-service"
        );
        let denied = zbus::fdo::Error::AccessDenied("policy".into());
        assert_eq!(
            kind(Error::ZBus(zbus::Error::FDO(Box::new(denied)))),
            "bus-denied"
        );
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no socket");
        assert_eq!(
            kind(Error::ZBus(zbus::Error::InputOutput(std::sync::Arc::new(
                io
            )))),
            "no-bus"
        );
        assert_eq!(kind(Error::Busy("x".into())), "busy");
        assert_eq!(kind(Error::Failed("x".into())), "");
        let unknown = zbus::fdo::Error::ServiceUnknown("no such name".into());
        assert!(
            crate::describe_call_error(&Error::ZBus(zbus::Error::FDO(Box::new(unknown))))
                .contains("is not running on the system bus")
        );
    }

    #[test]
    fn every_kind_is_listed_once() {
        let mut kinds: Vec<&str> = ERROR_KINDS.iter().map(|(k, _)| *k).collect();
        kinds.sort_unstable();
        kinds.dedup();
        assert_eq!(kinds.len(), ERROR_KINDS.len());
    }
}
