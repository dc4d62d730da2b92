//! Why an operation failed.

use crate::EngineError;
use crate::lifecycle::LifecycleError;
use crate::source::catalog::CatalogError;
use crate::source::fetch::FetchError;
use crate::update::plan::PlanError;
use crate::update::transaction::TransactionError;

/// Why an operation failed. The typed causes are kept, so that each front end can name them
/// (the service maps them to D-Bus errors, the CLI prints them).
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    /// Reading the system.
    #[error("{0}")]
    Engine(#[from] EngineError),
    /// Reading the sources.
    #[error("{0}")]
    Catalog(#[from] CatalogError),
    /// Learning sizes.
    #[error("{0}")]
    Fetch(#[from] FetchError),
    /// Planning.
    #[error("{0}")]
    Plan(#[from] PlanError),
    /// Staging a version.
    #[error("{0}")]
    Transaction(#[from] TransactionError),
    /// Removing versions (a local file-system failure).
    #[error("{0}")]
    Removal(TransactionError),
    /// The settings file.
    #[error("{0}")]
    Settings(#[from] crate::settings::SettingsError),
    /// Boot entries and the state file.
    #[error("{0}")]
    Lifecycle(#[from] LifecycleError),
    /// The operation is not allowed in this state (the message says why and what to do).
    #[error("{0}")]
    Refused(String),
    /// An argument does not name anything that could be used.
    #[error("{0}")]
    InvalidArgument(String),
    /// The caller cancelled.
    #[error("{0}")]
    Cancelled(String),
}
