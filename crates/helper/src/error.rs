//! Errors of the engine. Each says what failed, on which file, and where it matters which line
//! and key; the helper turns them into named D-Bus errors.

use std::path::PathBuf;

/// A failure as the kind and fields a client says in the person's language.
pub use update_center_client::ErrorDetails;

/// Something the engine could not do.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// No transfer definitions exist under the root.
    #[error(
        "no update definitions found under {}: looked for *.transfer and *.conf files in {}",
        root.display(),
        searched
    )]
    NoDefinitions {
        /// The system root.
        root: PathBuf,
        /// The directories searched, as the message lists them.
        searched: String,
    },
    /// A definition file has a syntax error.
    #[error("{0}")]
    Syntax(#[from] crate::format::ini::SyntaxError),
    /// A key has a value that cannot be used.
    #[error("{}:{line}: {key}=: {message}", file.display())]
    InvalidValue {
        /// The file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// The key, e.g. `MatchPattern`.
        key: String,
        /// What is wrong and what to write instead.
        message: String,
    },
    /// A required key is missing.
    #[error("{}: [{section}] has no {key}= setting, which is required", file.display())]
    MissingKey {
        /// The file.
        file: PathBuf,
        /// The section, e.g. `Source`.
        section: String,
        /// The key.
        key: String,
    },
    /// A definition asks for something this helper does not do.
    #[error("{}:{line}: {what} is not supported by this helper (only regular-file and directory targets are)", file.display())]
    Unsupported {
        /// The file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is not supported.
        what: String,
    },
    /// A definition file could not be read.
    #[error("cannot read the update definition {}: {source}", path.display())]
    UnreadableDefinition {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A transfer writes to the ESP (or XBOOTLDR) and none was found.
    #[error(
        "{}: the target is on the EFI system partition, but none was found under {} (looked for a FAT file system at {}); mount it, or name it with --esp",
        file.display(),
        root.display(),
        looked
    )]
    NoBootPartition {
        /// The transfer that needs it.
        file: PathBuf,
        /// The system root.
        root: PathBuf,
        /// Where it was looked for, as the message lists them.
        looked: String,
    },
    /// Reading installed files or system state failed.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The helper's own state cannot be read.
    #[error("{0}")]
    State(#[from] crate::record::statefile::LifecycleError),
}

impl EngineError {
    /// Whether the error is about the update definitions (as opposed to the installed files).
    pub fn is_definition_error(&self) -> bool {
        !matches!(
            self,
            Self::Io { .. }
                | Self::NoDefinitions { .. }
                | Self::NoBootPartition { .. }
                | Self::State(_)
        )
    }
}
