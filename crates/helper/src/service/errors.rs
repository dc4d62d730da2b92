//! Engine errors as the D-Bus errors clients see, and argument checks.

use super::*;

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
    use update_center_engine::source::fetch::FetchError;
    use update_center_engine::update::plan::PlanError;
    use update_center_engine::update::transaction::TransactionError;
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
