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

pub(super) fn stage_error(error: StageError) -> Error {
    use update_center_engine::fetch::FetchError;
    use update_center_engine::plan::PlanError;
    use update_center_engine::transaction::TransactionError;
    let message = error.to_string();
    match error {
        StageError::Engine(e) => engine_error(e),
        StageError::Plan(PlanError::NoRoom(_)) => Error::NoRoom(message),
        StageError::Plan(_) | StageError::Lifecycle(_) => Error::Refused(message),
        StageError::Transaction(TransactionError::Fetch(FetchError::Cancelled { .. })) => {
            Error::Cancelled(message)
        }
        StageError::Transaction(TransactionError::Fetch(FetchError::Write { .. }))
        | StageError::Transaction(TransactionError::Io { .. }) => Error::Io(message),
        StageError::Transaction(_) | StageError::Catalog(_) | StageError::Fetch(_) => {
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
    if version.len() > MAX_VERSION_LEN || !update_center_engine::pattern::is_valid_version(version)
    {
        let shown: String = version.chars().take(40).collect();
        return Err(Error::InvalidArgument(format!(
            "`{shown}` is not a version (at most {MAX_VERSION_LEN} characters of A-Z a-z 0-9 . , _ + -)"
        )));
    }
    Ok(())
}
