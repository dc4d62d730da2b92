//! Engine errors as the D-Bus errors clients see (and as fields, for clients to say them in the
//! person's language), and argument checks.

use super::*;
use update_center_client::ErrorDetails;
use update_center_engine::source::catalog::CatalogError;
use update_center_engine::source::fetch::FetchError;
use update_center_engine::source::signature::SignatureError;
use update_center_engine::update::plan::{NoRoom, PlanError};
use update_center_engine::update::transaction::TransactionError;

/// A job's failure: the named error (its name and English message go to the job's `Result` and
/// to `LastError`) and the same as fields (`ErrorDetails`, `LastErrorDetails`; boxed, so that a
/// job's result stays small).
#[derive(Debug)]
pub(super) struct Failure {
    pub(super) error: Error,
    pub(super) details: Box<ErrorDetails>,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        let details = Box::new(ErrorDetails::of_call_error(&error));
        Self { error, details }
    }
}

/// An operation's failure as the D-Bus error and as fields.
pub(super) fn op_failure(error: OpError) -> Failure {
    let details = Box::new(op_details(&error));
    Failure {
        error: op_error(error),
        details,
    }
}

/// The fields of an operation's failure, from its typed cause; an empty kind where there are
/// none (the English message then says it).
pub(super) fn op_details(error: &OpError) -> ErrorDetails {
    match error {
        OpError::Engine(e) => engine_details(e),
        OpError::Catalog(e) => catalog_details(e),
        OpError::Fetch(e) => fetch_details(e),
        OpError::Plan(e) => plan_details(e),
        OpError::Transaction(e) | OpError::Removal(e) => transaction_details(e),
        OpError::Cancelled(_) => ErrorDetails::new("cancelled", &[]),
        OpError::Settings(_)
        | OpError::Lifecycle(_)
        | OpError::Refused(_)
        | OpError::InvalidArgument(_) => ErrorDetails::default(),
    }
}

fn engine_details(error: &EngineError) -> ErrorDetails {
    match error {
        EngineError::NoBootPartition { file, .. } => {
            ErrorDetails::new("no-boot-partition", &[("file", file.display().to_string())])
        }
        _ => ErrorDetails::default(),
    }
}

fn fetch_details(error: &FetchError) -> ErrorDetails {
    error.details()
}

fn catalog_details(error: &CatalogError) -> ErrorDetails {
    match error {
        CatalogError::Fetch(e) => fetch_details(e),
        CatalogError::Replayed {
            location,
            offered,
            seen,
        } => ErrorDetails::new(
            "replayed",
            &[
                ("source", location.clone()),
                ("offered", offered.clone()),
                ("seen", seen.clone()),
            ],
        ),
        CatalogError::NoSums { location } => {
            ErrorDetails::new("no-sums", &[("source", location.clone())])
        }
        CatalogError::Signature { location, error } => {
            let (problem, key) = match error {
                SignatureError::NoKeyring => ("no-keyring", ""),
                SignatureError::BadKeyring { .. } => ("bad-keyring", ""),
                SignatureError::Missing => ("missing", ""),
                SignatureError::Corrupt(_) => ("corrupt", ""),
                SignatureError::UnknownKey(key) => ("unknown-key", key.as_str()),
                SignatureError::ExpiredKey { fingerprint, .. } => {
                    ("expired-key", fingerprint.as_str())
                }
                SignatureError::BadKey { fingerprint, .. } => ("bad-key", fingerprint.as_str()),
                SignatureError::Mismatch => ("mismatch", ""),
            };
            ErrorDetails::new(
                "signature",
                &[
                    ("source", location.clone()),
                    ("problem", problem.to_string()),
                    ("key", key.to_string()),
                ],
            )
        }
        CatalogError::Sums { .. } | CatalogError::UnsupportedSource { .. } => {
            ErrorDetails::default()
        }
    }
}

fn plan_details(error: &PlanError) -> ErrorDetails {
    let version = |kind: &str, v: &String| ErrorDetails::new(kind, &[("version", v.clone())]);
    match error {
        PlanError::UpToDate => ErrorDetails::new("up-to-date", &[]),
        PlanError::NotOffered(v) => version("not-offered", v),
        PlanError::OfferedInPart { version, missing } => ErrorDetails::new(
            "offered-in-part",
            &[
                ("version", version.clone()),
                ("missing", missing.join(", ")),
            ],
        ),
        PlanError::AlreadyInstalled(v) => version("already-installed", v),
        PlanError::HeldBack(v) => version("held-back", v),
        PlanError::Obsolete(v) => version("obsolete", v),
        PlanError::UnknownSize(url) => ErrorDetails::new("unknown-size", &[("url", url.clone())]),
        PlanError::NoRoom(room) => match room {
            NoRoom::Short {
                dir,
                boot_partition,
                needed_bytes,
                available_bytes,
                remove,
            } => ErrorDetails::new(
                "no-room",
                &[
                    ("dir", dir.display().to_string()),
                    ("boot", if *boot_partition { "yes" } else { "no" }.into()),
                    ("missing_bytes", room.missing_bytes().to_string()),
                    ("needed_bytes", needed_bytes.to_string()),
                    ("available_bytes", available_bytes.to_string()),
                    (
                        "can_remove",
                        if remove.is_some() { "yes" } else { "no" }.into(),
                    ),
                    ("remove", remove.clone().unwrap_or_default()),
                ],
            ),
            NoRoom::Unknown { dir } => {
                ErrorDetails::new("room-unknown", &[("dir", dir.display().to_string())])
            }
            NoRoom::NoBootPartition { file } => {
                ErrorDetails::new("no-boot-partition", &[("file", file.clone())])
            }
        },
        PlanError::Unnameable { .. } | PlanError::ImplausibleSize { .. } => ErrorDetails::default(),
    }
}

fn transaction_details(error: &TransactionError) -> ErrorDetails {
    error.details()
}

pub(super) fn engine_error(error: EngineError) -> Error {
    let message = error.to_string();
    match error {
        EngineError::NoDefinitions { .. } => Error::NoDefinitions(message),
        EngineError::Io { .. } | EngineError::State(_) => Error::Io(message),
        _ => Error::InvalidDefinition(message),
    }
}

/// An operation's failure as the D-Bus error a client sees.
pub(super) fn op_error(error: OpError) -> Error {
    let message = error.to_string();
    match error {
        OpError::Engine(e) => engine_error(e),
        OpError::Lifecycle(e) => lifecycle_error(e),
        OpError::Plan(PlanError::NoRoom(_)) => Error::NoRoom(message),
        OpError::Plan(_) | OpError::Refused(_) => Error::Refused(message),
        OpError::InvalidArgument(_) => Error::InvalidArgument(message),
        OpError::Cancelled(_)
        | OpError::Transaction(TransactionError::Fetch(FetchError::Cancelled { .. })) => {
            Error::Cancelled(message)
        }
        OpError::Transaction(TransactionError::Fetch(FetchError::Write { .. }))
        | OpError::Transaction(TransactionError::Io { .. })
        | OpError::Removal(_)
        | OpError::Settings(_) => Error::Io(message),
        OpError::Transaction(_) | OpError::Catalog(_) | OpError::Fetch(_) => {
            Error::Network(message)
        }
    }
}

pub(super) fn lifecycle_error(error: lifecycle::LifecycleError) -> Error {
    let message = error.to_string();
    match error {
        lifecycle::LifecycleError::Io { .. } | lifecycle::LifecycleError::BadState { .. } => {
            Error::Io(message)
        }
        _ => Error::Refused(message),
    }
}

/// The D-Bus name of an error, for a job's result.
pub(super) fn error_name(error: &Error) -> String {
    use zbus::DBusError;
    error.name().to_string()
}

pub(super) fn valid_version(version: &str) -> Result<(), Error> {
    if version.len() > MAX_VERSION_LEN
        || !update_center_engine::format::pattern::is_valid_version(version)
    {
        let shown: String = version.chars().take(40).collect();
        return Err(Error::InvalidArgument(format!(
            "`{shown}` is not a version (at most {MAX_VERSION_LEN} characters of A-Z a-z 0-9 . , _ + -)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// Every kind sent is one of `ERROR_KINDS`, with exactly its fields.
    fn listed(details: &ErrorDetails) {
        let (_, fields) = update_center_client::ERROR_KINDS
            .iter()
            .find(|(kind, _)| *kind == details.kind)
            .unwrap_or_else(|| panic!("{} is not in ERROR_KINDS", details.kind));
        let mut sent: Vec<&str> = details.fields.keys().map(String::as_str).collect();
        sent.sort_unstable();
        let mut expected = fields.to_vec();
        expected.sort_unstable();
        assert_eq!(sent, expected, "{}", details.kind);
    }

    #[test]
    fn typed_failures_become_the_fields_clients_say() {
        let room = op_details(&OpError::Plan(PlanError::NoRoom(NoRoom::Short {
            dir: PathBuf::from("/efi/EFI/Linux"),
            boot_partition: true,
            needed_bytes: 5_000_000,
            available_bytes: 2_000_000,
            remove: None,
        })));
        assert_eq!(room.kind, "no-room");
        assert_eq!(room.field("dir"), "/efi/EFI/Linux");
        assert_eq!(room.field("boot"), "yes");
        assert_eq!(room.field("missing_bytes"), "3000000");
        assert_eq!(room.field("can_remove"), "no");
        listed(&room);
        let room = op_details(&OpError::Plan(PlanError::NoRoom(NoRoom::Short {
            dir: PathBuf::from("/system"),
            boot_partition: false,
            needed_bytes: 5,
            available_bytes: 2,
            remove: Some("202611200930".into()),
        })));
        assert_eq!(
            (room.field("can_remove"), room.field("remove")),
            ("yes", "202611200930")
        );

        let unreachable = op_details(&OpError::Catalog(CatalogError::Fetch(
            FetchError::Unreachable {
                url: "http://mirror/SHA256SUMS".into(),
                reason: "Connection refused".into(),
            },
        )));
        assert_eq!(
            unreachable,
            ErrorDetails::new("unreachable", &[("url", "http://mirror/SHA256SUMS".into())]),
            "the English reason stays out of the fields"
        );
        let expired = op_details(&OpError::Catalog(CatalogError::Signature {
            location: "http://mirror/".into(),
            error: SignatureError::ExpiredKey {
                fingerprint: "A1B2".into(),
                reason: "expired".into(),
            },
        }));
        assert_eq!(
            (expired.field("problem"), expired.field("key")),
            ("expired-key", "A1B2")
        );
        let hash = op_details(&OpError::Transaction(TransactionError::HashMismatch {
            url: "http://mirror/kde-linux_2.efi".into(),
            expected: "aa".into(),
            actual: "bb".into(),
        }));
        assert_eq!(hash.kind, "hash-mismatch");
        assert_eq!(hash.field("url"), "http://mirror/kde-linux_2.efi");
        let cancelled = op_failure(OpError::Transaction(TransactionError::Fetch(
            FetchError::Cancelled {
                url: "http://mirror/x".into(),
            },
        )));
        assert!(matches!(cancelled.error, Error::Cancelled(_)));
        assert_eq!(cancelled.details.kind, "cancelled");
        let held = op_details(&OpError::Plan(PlanError::HeldBack("7".into())));
        assert_eq!(held.field("version"), "7");
        for details in [room, unreachable, expired, hash, *cancelled.details, held] {
            listed(&details);
        }
        // No fields for a failure without a typed cause: the English message says it.
        assert_eq!(
            op_details(&OpError::Refused("no".into())),
            ErrorDetails::default()
        );
    }

    #[test]
    fn errors_of_a_call_name_their_kind() {
        assert_eq!(
            Failure::from(Error::Busy("another job".into()))
                .details
                .kind,
            "busy"
        );
        assert_eq!(
            Failure::from(Error::NotAuthorized("no".into()))
                .details
                .kind,
            "not-authorized"
        );
        assert_eq!(
            Failure::from(Error::Cancelled("the check was cancelled".into()))
                .details
                .kind,
            "cancelled"
        );
        assert_eq!(Failure::from(Error::Failed("x".into())).details.kind, "");
    }
}
