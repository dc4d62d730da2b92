//! The client side of the Update Center D-Bus API (`org.kde.UpdateCenter1`).
//!
//! Everything a person sees (GUI, tray notifier, settings module, CLI) talks to the privileged
//! helper only through this crate: the typed proxy, the data types that travel over the bus and
//! the named errors the helper answers with. Nothing here touches files on disk.
//!
//! Where the helper answers JSON (`History`, `Changelog`), the typed data and the one reader of
//! that JSON are here too ([`history`], [`changelog`]); the helper writes the same types.

pub mod changelog;
#[cfg(feature = "keyring")]
pub mod credentials;
mod error;
pub mod health;
pub mod history;
#[cfg(feature = "l10n")]
pub mod l10n;
pub mod launch;
pub mod settings;
pub mod state;
pub mod status;
mod types;
pub mod waiting;

pub use error::{Error, describe_call_error, describe_connect_error};
pub use types::{
    DefinitionWarning, ERROR_KINDS, ErrorDetails, FALLBACK_KINDS, FallbackDetails, InstalledFile,
    UpdateOffer, VersionInfo, WARNING_KINDS,
};
pub use waiting::WaitReason;

/// Object path prefix of jobs: `/org/kde/UpdateCenter1/job/N`.
pub const JOB_PATH_PREFIX: &str = "/org/kde/UpdateCenter1/job/";

/// Well-known bus name the helper owns on the system bus.
pub const BUS_NAME: &str = "org.kde.UpdateCenter1";
/// Object path of the helper's main object.
pub const OBJECT_PATH: &str = "/org/kde/UpdateCenter1";
/// Name of the main interface.
pub const INTERFACE: &str = "org.kde.UpdateCenter1";
/// Prefix of every named error the helper returns.
pub const ERROR_PREFIX: &str = "org.kde.UpdateCenter1.Error";

/// Typed proxy for `org.kde.UpdateCenter1`.
#[zbus::proxy(
    interface = "org.kde.UpdateCenter1",
    default_service = "org.kde.UpdateCenter1",
    default_path = "/org/kde/UpdateCenter1",
    gen_blocking = false
)]
pub trait UpdateCenter {
    /// Every OS version found on the system, newest first.
    fn list_versions(&self) -> Result<Vec<VersionInfo>, Error>;

    /// Warnings about the update definitions (unknown keys, ignored legacy files, ...).
    fn list_warnings(&self) -> Result<Vec<DefinitionWarning>, Error>;

    /// Reads what the update sources offer (a job); `AvailableUpdate` follows.
    #[zbus(allow_interactive_auth)]
    fn check(&self) -> Result<zbus::zvariant::OwnedObjectPath, Error>;

    /// Installs the newest version (`version` empty) or the named one, as a job.
    #[zbus(allow_interactive_auth)]
    fn install(&self, version: &str) -> Result<zbus::zvariant::OwnedObjectPath, Error>;

    /// The automatic download: an install job, or `/` and what it waits for (kind, fields).
    #[zbus(allow_interactive_auth)]
    fn download_automatically(
        &self,
    ) -> Result<(zbus::zvariant::OwnedObjectPath, Vec<WaitReason>), Error>;

    /// The automatic restart into a staged version: true when it was asked of logind, else
    /// what it waits for.
    #[zbus(allow_interactive_auth)]
    fn restart_automatically(&self) -> Result<(bool, Vec<WaitReason>), Error>;

    /// Cancels a job (the caller's own; another caller's needs an administrator).
    #[zbus(allow_interactive_auth)]
    fn cancel(&self, job: &zbus::zvariant::ObjectPath<'_>) -> Result<(), Error>;

    /// Makes a version the default boot entry, or the next boot's only (`once`).
    #[zbus(allow_interactive_auth)]
    fn rollback(&self, version: &str, once: bool) -> Result<(), Error>;

    /// Pins a version: never removed.
    #[zbus(allow_interactive_auth)]
    fn pin(&self, version: &str) -> Result<(), Error>;

    /// Unpins a version.
    #[zbus(allow_interactive_auth)]
    fn unpin(&self, version: &str) -> Result<(), Error>;

    /// Removes a whole installed version (never the running, default, pinned or protected one).
    #[zbus(allow_interactive_auth)]
    fn remove_version(&self, version: &str) -> Result<(), Error>;

    /// Removes the oldest versions beyond `InstancesMax=`; returns the versions removed.
    #[zbus(allow_interactive_auth)]
    fn vacuum(&self) -> Result<Vec<String>, Error>;

    /// What changes between two versions (empty: the running version / the update on offer),
    /// as the JSON of a [`changelog::Changelog`]; [`changelog::read`] gives it typed.
    #[zbus(allow_interactive_auth)]
    fn changelog(&self, from: &str, to: &str) -> Result<String, Error>;

    /// History records, newest first, as a JSON array of [`history::Record`]: `since` and
    /// `until` in seconds since the epoch (0: unbounded), at most `limit` (0: all);
    /// [`history::read`] gives them typed.
    #[zbus(allow_interactive_auth)]
    fn history(&self, since: i64, until: i64, limit: u32) -> Result<String, Error>;

    /// Every setting as key -> value; [`settings::read`] gives them typed.
    fn get_settings(&self) -> Result<std::collections::HashMap<String, String>, Error>;

    /// Sets one setting.
    #[zbus(allow_interactive_auth)]
    fn set_setting(&self, key: &str, value: &str) -> Result<(), Error>;

    /// Clears the automatic-fallback flag.
    #[zbus(allow_interactive_auth)]
    fn acknowledge_fallback(&self) -> Result<(), Error>;

    /// Hands over the credentials for the mirror at `url`, which must be the origin of
    /// `Updates.Source` (memory only; sent to that origin only).
    #[zbus(allow_interactive_auth)]
    fn use_source_credentials(&self, url: &str, user: &str, password: &str) -> Result<(), Error>;

    /// Sent whenever installed versions, boot choices or pins change.
    #[zbus(signal)]
    fn versions_changed(&self) -> zbus::Result<()>;

    /// Sent after any setting changed.
    #[zbus(signal)]
    fn settings_changed(&self) -> zbus::Result<()>;

    /// Version of this API; raised when methods are added.
    #[zbus(property)]
    fn api_version(&self) -> zbus::Result<u32>;

    /// idle, checking, downloading, installing, ready-to-restart or error.
    #[zbus(property)]
    fn state(&self) -> zbus::Result<String>;

    /// The version running (empty when unknown).
    #[zbus(property)]
    fn running_version(&self) -> zbus::Result<String>;

    /// The version booted by default.
    #[zbus(property)]
    fn default_version(&self) -> zbus::Result<String>;

    /// The update on offer, from the last check.
    #[zbus(property)]
    fn available_update(&self) -> zbus::Result<UpdateOffer>;

    /// When the sources were last checked, in seconds since the epoch (0: never).
    #[zbus(property)]
    fn last_check_time(&self) -> zbus::Result<i64>;

    /// What the machine waits for before it goes on by itself (kind, fields).
    #[zbus(property)]
    fn waiting(&self) -> zbus::Result<Vec<WaitReason>>;

    /// The last job's error, empty after a success (English, for logs and scripts).
    #[zbus(property)]
    fn last_error(&self) -> zbus::Result<String>;

    /// The last job's error as fields, for a sentence in the client's language (an empty kind:
    /// none, or one without fields: then `LastError` says it).
    #[zbus(property)]
    fn last_error_details(&self) -> zbus::Result<ErrorDetails>;

    /// "version X failed to boot N times; running Y" until acknowledged; empty otherwise.
    #[zbus(property)]
    fn fallback(&self) -> zbus::Result<String>;

    /// The automatic fallback as fields (empty `failed`: none), for a sentence in the
    /// client's language.
    #[zbus(property)]
    fn fallback_details(&self) -> zbus::Result<FallbackDetails>;

    /// Warnings about the definitions.
    #[zbus(property)]
    fn warnings(&self) -> zbus::Result<Vec<DefinitionWarning>>;

    /// The running job, or `/` when none runs.
    #[zbus(property)]
    fn current_job(&self) -> zbus::Result<zbus::zvariant::OwnedObjectPath>;
}

pub use job::{FinishedArgs, FinishedStream, JobProxy};

/// Connects to the system bus (`DBUS_SYSTEM_BUS_ADDRESS` when set) and returns the proxy.
pub async fn connect_system() -> Result<UpdateCenterProxy<'static>, Error> {
    let connection = zbus::Connection::system().await?;
    Ok(UpdateCenterProxy::new(&connection).await?)
}

/// The job interface (in a module of its own: the generated signal argument types carry no
/// documentation of their own).
#[allow(missing_docs)]
mod job {
    /// A long-running operation (`/org/kde/UpdateCenter1/job/N`).
    #[zbus::proxy(
        interface = "org.kde.UpdateCenter1.Job",
        default_service = "org.kde.UpdateCenter1",
        gen_blocking = false
    )]
    pub trait Job {
        /// `check` or `install`.
        #[zbus(property)]
        fn kind(&self) -> zbus::Result<String>;

        /// What it does now: planning, downloading, installing, finished.
        #[zbus(property)]
        fn phase(&self) -> zbus::Result<String>;

        /// The version it installs (empty for a check, or before it is known).
        #[zbus(property)]
        fn version(&self) -> zbus::Result<String>;

        /// Bytes downloaded so far.
        #[zbus(property)]
        fn done_bytes(&self) -> zbus::Result<u64>;

        /// Bytes to download in all.
        #[zbus(property)]
        fn total_bytes(&self) -> zbus::Result<u64>;

        /// Download rate, in bytes per second.
        #[zbus(property)]
        fn rate_bytes_per_sec(&self) -> zbus::Result<u64>;

        /// Seconds left, or -1 while unknown.
        #[zbus(property)]
        fn eta_secs(&self) -> zbus::Result<i64>;

        /// How the image comes: `delta` (only what no installed version has), `full`, or
        /// empty until known (and for a version without a chunk index).
        #[zbus(property)]
        fn method(&self) -> zbus::Result<String>;

        /// Why the whole image is downloaded instead of a delta (English; empty otherwise).
        #[zbus(property)]
        fn fallback(&self) -> zbus::Result<String>;

        /// The same as a kind of [`FALLBACK_KINDS`](crate::FALLBACK_KINDS) and its fields, for a
        /// sentence in the client's language (an empty kind while none).
        #[zbus(property)]
        fn fallback_details(&self) -> zbus::Result<crate::ErrorDetails>;

        /// Once finished: whether it succeeded and a message for a person (the error's name
        /// after `error:` on failure, e.g. `org.kde.UpdateCenter1.Error.NoRoom`).
        #[zbus(property)]
        fn result(&self) -> zbus::Result<(bool, String, String)>;

        /// Once finished with an error: the error as fields, for a sentence in the client's
        /// language (an empty kind: one without fields, which the `Result` message says).
        #[zbus(property)]
        fn error_details(&self) -> zbus::Result<crate::ErrorDetails>;

        /// Sent once when it ends: success, the error name (empty on success), a message.
        #[zbus(signal)]
        fn finished(&self, success: bool, error: String, message: String) -> zbus::Result<()>;
    }
}
