//! The D-Bus service: `org.kde.UpdateCenter1` at `/org/kde/UpdateCenter1` on the system bus.
//!
//! Every method that changes something asks polkit first (`CheckAuthorization` for the calling
//! bus name, with interaction allowed so that the desktop's agent can prompt); nothing caches a
//! decision across callers. Long work (checking the sources, installing) runs as a job object
//! at `/org/kde/UpdateCenter1/job/N` with progress properties and a `Finished` signal; one
//! job runs at a time, a second caller is told which one with a `Busy` error. Every change to
//! the installed versions emits `VersionsChanged`, and the status properties emit
//! `PropertiesChanged`, so that clients never poll.

use anyhow::{Context, Result};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use update_center_client::state::{Event as StateEvent, Machine};
use update_center_client::{
    BUS_NAME, DefinitionWarning, Error, InstalledFile, JOB_PATH_PREFIX, OBJECT_PATH, UpdateOffer,
    VersionInfo,
};
use update_center_engine::installed::inventory::Layout;
use update_center_engine::ops::{self, OpError};
use update_center_engine::{EngineError, SystemState, lifecycle};
use zbus::object_server::SignalEmitter;
use zbus::zvariant::{ObjectPath, OwnedObjectPath};

mod errors;
mod jobs;
mod metrics;
mod policy;
mod polkit;
mod reads;
mod serve;
mod settings;
mod state;
mod updates;
mod versions;

use errors::*;
use jobs::*;
use polkit::*;
pub use serve::serve;
use state::*;

/// Version of the API, raised when methods are added.
const API_VERSION: u32 = 5;
/// The longest version string accepted.
const MAX_VERSION_LEN: usize = 128;
/// Job progress is published at most this often.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(250);

/// polkit actions, one per kind of operation (data/polkit/org.kde.updatecenter.policy).
pub mod action {
    /// Reading what the sources offer.
    pub const CHECK: &str = "org.kde.updatecenter.check";
    /// Installing the newest signed version.
    pub const INSTALL: &str = "org.kde.updatecenter.install";
    /// Installing a named version (maybe older, maybe held back).
    pub const INSTALL_VERSION: &str = "org.kde.updatecenter.install-version";
    /// Changing which version boots.
    pub const ROLLBACK: &str = "org.kde.updatecenter.rollback";
    /// Pinning and unpinning.
    pub const PIN: &str = "org.kde.updatecenter.pin";
    /// Removing a version.
    pub const REMOVE: &str = "org.kde.updatecenter.remove";
    /// Removing old versions beyond InstancesMax.
    pub const VACUUM: &str = "org.kde.updatecenter.vacuum";
    /// Changing settings.
    pub const SETTINGS: &str = "org.kde.updatecenter.settings";
    /// Acknowledging a failed boot.
    pub const ACKNOWLEDGE: &str = "org.kde.updatecenter.acknowledge";
    /// Cancelling another caller's job.
    pub const CANCEL_ANY: &str = "org.kde.updatecenter.cancel-any";
    /// Reading the history and changelogs (the active session; not every uid: a changelog
    /// costs network requests with the administrator's mirror credentials).
    pub const READ: &str = "org.kde.updatecenter.read";
}

/// Changelogs gathered at once; further callers wait for a slot.
const METADATA_SLOTS: usize = 2;
/// Changelog calls waiting for a slot beyond which a caller is told to come back later.
const METADATA_QUEUE: usize = 8;

/// How the helper was started.
#[derive(Clone)]
pub struct Options {
    /// The system.
    pub layout: Layout,
    /// Network timeout.
    pub timeout: Duration,
    /// Bandwidth limit from the command line (the settings file's wins when set).
    pub max_rate_bytes_per_sec: Option<u64>,
    /// Exit after this long without a call or a job (None: never).
    pub idle_exit: Option<Duration>,
}

/// What the status properties show; recomputed after every change.
#[derive(Clone, Default, PartialEq)]
struct Snapshot {
    running: String,
    default: String,
    next: String,
    fallback: String,
    fallback_details: update_center_client::FallbackDetails,
    warnings: Vec<DefinitionWarning>,
    versions: Vec<VersionInfo>,
}

/// The running job.
struct RunningJob {
    path: OwnedObjectPath,
    kind: &'static str,
    version: String,
    owner: String,
    owner_uid: Option<u32>,
    cancel: Arc<AtomicBool>,
}

struct Shared {
    options: Options,
    snapshot: Mutex<Snapshot>,
    job: Mutex<Option<RunningJob>>,
    /// The service state (`State`), driven by the jobs and by each read of the system.
    machine: Mutex<Machine>,
    available: Mutex<UpdateOffer>,
    last_check: Mutex<i64>,
    last_error: Mutex<String>,
    /// The last job's error as fields (`LastErrorDetails`).
    last_error_details: Mutex<update_center_client::ErrorDetails>,
    next_job: AtomicU64,
    activity: Mutex<Instant>,
    /// HTTP Basic credentials for the mirror in `Updates.Source`, handed over by a client from
    /// the person's keyring: in memory only (wiped when replaced), gone when the helper exits,
    /// never logged, and used only while the source is still their origin.
    source_credentials: Mutex<Option<SourceCredentials>>,
    /// Warnings about the sources from the last check (a source that stopped publishing).
    source_warnings: Mutex<Vec<DefinitionWarning>>,
    /// Slots for gathering changelogs (network requests), and how many callers wait for one.
    metadata_slots: tokio::sync::Semaphore,
    metadata_waiting: std::sync::atomic::AtomicUsize,
    /// What the fleet said at the last automatic restart that it waited for (a slot, a wave),
    /// and for which staged version.
    fleet_waiting: Mutex<(String, Vec<update_center_engine::policy::gates::Reason>)>,
}

/// Credentials for one mirror origin, and who handed them over.
struct SourceCredentials {
    origin: update_center_engine::source::fetch::Origin,
    user: zeroize::Zeroizing<String>,
    password: zeroize::Zeroizing<String>,
    owner_uid: Option<u32>,
}

/// The main object.
struct UpdateCenter {
    shared: Arc<Shared>,
}

/// A job object.
struct Job {
    kind: String,
    phase: String,
    version: String,
    done_bytes: u64,
    total_bytes: u64,
    rate_bytes_per_sec: u64,
    eta_secs: i64,
    method: String,
    fallback: String,
    fallback_details: update_center_client::ErrorDetails,
    result: (bool, String, String),
    error_details: update_center_client::ErrorDetails,
}

#[zbus::interface(name = "org.kde.UpdateCenter1")]
impl UpdateCenter {
    /// Every OS version installed, newest first, with its files and states.
    async fn list_versions(&self) -> Result<Vec<VersionInfo>, Error> {
        read_system(&self.shared.options.layout)
            .await
            .map(|state| versions(&state))
    }

    /// Warnings about the update definitions, so that no client misses them: file, line (0:
    /// the whole file), an English message, and the same as a kind and fields (kinds in
    /// update_center_client::WARNING_KINDS), which clients say in the person's language.
    async fn list_warnings(&self) -> Result<Vec<DefinitionWarning>, Error> {
        let mut found = read_system(&self.shared.options.layout)
            .await
            .map(|state| warnings(&state))?;
        found.extend(lock(&self.shared.source_warnings).iter().cloned());
        Ok(found)
    }

    /// Reads what the sources offer, as a job.
    async fn check(
        &self,
        #[zbus(header)] header: zbus::message::Header<'_>,
        #[zbus(connection)] connection: &zbus::Connection,
    ) -> Result<OwnedObjectPath, Error> {
        self.do_check(header, connection).await
    }

    /// Installs the newest version (`version` empty) or the named one, as a job.
    async fn install(
        &self,
        #[zbus(header)] header: zbus::message::Header<'_>,
        #[zbus(connection)] connection: &zbus::Connection,
        version: &str,
    ) -> Result<OwnedObjectPath, Error> {
        self.do_install(header, connection, version).await
    }

    /// The automatic download (the check timer's, when `Updates.AutomaticDownload=yes`): the
    /// newest version as an install job, or `/` and what it waits for (a metered connection, a
    /// low battery, a captive portal). A person's `Install` is never held back by these.
    async fn download_automatically(
        &self,
        #[zbus(header)] header: zbus::message::Header<'_>,
        #[zbus(connection)] connection: &zbus::Connection,
    ) -> Result<
        (
            OwnedObjectPath,
            Vec<(String, std::collections::HashMap<String, String>)>,
        ),
        Error,
    > {
        self.do_download_automatically(header, connection).await
    }

    /// The automatic restart into a staged version, as the policy allows: true when logind
    /// was asked to restart, else what it waits for (outside the maintenance windows,
    /// inhibitors, people logged in, GPU jobs, the site's busy command).
    async fn restart_automatically(
        &self,
        #[zbus(header)] header: zbus::message::Header<'_>,
        #[zbus(connection)] connection: &zbus::Connection,
    ) -> Result<
        (
            bool,
            Vec<(String, std::collections::HashMap<String, String>)>,
        ),
        Error,
    > {
        self.do_restart_automatically(header, connection).await
    }

    /// Cancels a job: the caller's own, or (as an administrator) anyone's.
    async fn cancel(
        &self,
        #[zbus(header)] header: zbus::message::Header<'_>,
        #[zbus(connection)] connection: &zbus::Connection,
        job: ObjectPath<'_>,
    ) -> Result<(), Error> {
        self.shared.touch();
        let (owner, owner_uid, flag) = {
            let running = lock(&self.shared.job);
            match running.as_ref() {
                Some(r) if r.path.as_str() == job.as_str() => {
                    (r.owner.clone(), r.owner_uid, r.cancel.clone())
                }
                _ => {
                    return Err(Error::InvalidArgument(format!(
                        "{} is not a running job",
                        job.as_str()
                    )));
                }
            }
        };
        let sender = header.sender().map(|s| s.to_string()).unwrap_or_default();
        let caller_uid = caller_uid(connection, &header).await;
        let own = sender == owner || (caller_uid.is_some() && caller_uid == owner_uid);
        if !own {
            self.authorize(connection, &header, action::CANCEL_ANY)
                .await?;
        }
        flag.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// Makes a version the default boot entry, or the next boot's only (`once`).
    async fn rollback(
        &self,
        #[zbus(header)] header: zbus::message::Header<'_>,
        #[zbus(connection)] connection: &zbus::Connection,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
        version: &str,
        once: bool,
    ) -> Result<(), Error> {
        self.do_rollback(header, connection, emitter, version, once)
            .await
    }

    /// Pins a version: never removed.
    async fn pin(
        &self,
        #[zbus(header)] header: zbus::message::Header<'_>,
        #[zbus(connection)] connection: &zbus::Connection,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
        version: &str,
    ) -> Result<(), Error> {
        self.set_pinned(&header, connection, &emitter, version, true)
            .await
    }

    /// Unpins a version.
    async fn unpin(
        &self,
        #[zbus(header)] header: zbus::message::Header<'_>,
        #[zbus(connection)] connection: &zbus::Connection,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
        version: &str,
    ) -> Result<(), Error> {
        self.set_pinned(&header, connection, &emitter, version, false)
            .await
    }

    /// Removes a whole installed version, boot entry first.
    async fn remove_version(
        &self,
        #[zbus(header)] header: zbus::message::Header<'_>,
        #[zbus(connection)] connection: &zbus::Connection,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
        version: &str,
    ) -> Result<(), Error> {
        self.do_remove_version(header, connection, emitter, version)
            .await
    }

    /// Removes the oldest versions beyond `InstancesMax=`; returns them.
    async fn vacuum(
        &self,
        #[zbus(header)] header: zbus::message::Header<'_>,
        #[zbus(connection)] connection: &zbus::Connection,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> Result<Vec<String>, Error> {
        self.do_vacuum(header, connection, emitter).await
    }

    /// What changes between two versions: JSON of `update_center_client::changelog::Changelog`
    /// (docs/json.md), which clients read with `update_center_client::changelog::read`.
    async fn changelog(
        &self,
        #[zbus(header)] header: zbus::message::Header<'_>,
        #[zbus(connection)] connection: &zbus::Connection,
        from: &str,
        to: &str,
    ) -> Result<String, Error> {
        self.do_changelog(header, connection, from, to).await
    }

    /// History records, newest first: a JSON array of `update_center_client::history::Record`,
    /// which clients read with `update_center_client::history::read`.
    async fn history(
        &self,
        #[zbus(header)] header: zbus::message::Header<'_>,
        #[zbus(connection)] connection: &zbus::Connection,
        since: i64,
        until: i64,
        limit: u32,
    ) -> Result<String, Error> {
        self.do_history(header, connection, since, until, limit)
            .await
    }

    /// Every setting as `Section.Key` -> value, and the read-only
    /// `Updates.InstancesMaxOverridden` (yes when the retention is this product's, no when it
    /// is the definitions' own).
    async fn get_settings(&self) -> Result<std::collections::HashMap<String, String>, Error> {
        self.do_get_settings().await
    }

    /// Sets one setting (an empty value restores the default).
    async fn set_setting(
        &self,
        #[zbus(header)] header: zbus::message::Header<'_>,
        #[zbus(connection)] connection: &zbus::Connection,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
        key: &str,
        value: &str,
    ) -> Result<(), Error> {
        self.do_set_setting(header, connection, emitter, key, value)
            .await
    }

    /// Sent after any setting changed, so that every window, the tray and System Settings show
    /// the new values.
    #[zbus(signal)]
    async fn settings_changed(emitter: &SignalEmitter<'_>) -> zbus::Result<()>;

    /// Hands over the user name and password for the mirror at `url` (from the person's
    /// keyring). They are bound to the origin of `url` (scheme, host, port), which must be the
    /// origin of `Updates.Source` now; they are sent only to that origin, never over plain
    /// http to another machine, and forgotten when the helper exits. An empty user forgets
    /// them. Replacing credentials another user handed over needs an administrator.
    async fn use_source_credentials(
        &self,
        #[zbus(header)] header: zbus::message::Header<'_>,
        #[zbus(connection)] connection: &zbus::Connection,
        url: &str,
        user: &str,
        password: &str,
    ) -> Result<(), Error> {
        self.do_use_source_credentials(header, connection, url, user, password)
            .await
    }

    /// Clears the automatic-fallback flag.
    async fn acknowledge_fallback(
        &self,
        #[zbus(header)] header: zbus::message::Header<'_>,
        #[zbus(connection)] connection: &zbus::Connection,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> Result<(), Error> {
        self.do_acknowledge_fallback(header, connection, emitter)
            .await
    }

    /// Sent whenever installed versions, boot choices or pins change.
    #[zbus(signal)]
    async fn versions_changed(emitter: &SignalEmitter<'_>) -> zbus::Result<()>;

    /// Version of this API.
    #[zbus(property)]
    fn api_version(&self) -> u32 {
        API_VERSION
    }

    /// idle, checking, planning, downloading, installing, ready-to-restart or error.
    #[zbus(property)]
    fn state(&self) -> String {
        self.shared.state()
    }

    /// What the machine waits for before it goes on by itself, each as (kind, fields): with a
    /// staged version, its automatic restart; with an update on offer and automatic downloads
    /// on, the download. Kinds and fields are listed in docs/policies.md; clients say them in
    /// their language. Read when asked (it asks NetworkManager, UPower and logind).
    #[zbus(property)]
    async fn waiting(
        &self,
        #[zbus(connection)] connection: &zbus::Connection,
    ) -> Vec<(String, std::collections::HashMap<String, String>)> {
        policy::to_wire(&self.waiting_reasons(connection).await)
    }

    /// The version running.
    #[zbus(property)]
    fn running_version(&self) -> String {
        lock(&self.shared.snapshot).running.clone()
    }

    /// The version booted by default.
    #[zbus(property)]
    fn default_version(&self) -> String {
        lock(&self.shared.snapshot).default.clone()
    }

    /// The update on offer from the last check: (version, bytes to download (less than the
    /// image when a delta reuses the installed versions), bytes of the whole image, summary).
    #[zbus(property)]
    fn available_update(&self) -> UpdateOffer {
        lock(&self.shared.available).clone()
    }

    /// Seconds since the epoch of the last check (0: never).
    #[zbus(property)]
    fn last_check_time(&self) -> i64 {
        *lock(&self.shared.last_check)
    }

    /// The last job's error, empty after a success.
    #[zbus(property)]
    fn last_error(&self) -> String {
        lock(&self.shared.last_error).clone()
    }

    /// The last job's error as fields (its kind and values, listed in
    /// `update_center_client::ERROR_KINDS`), for clients to say in the person's language; an
    /// empty kind after a success, and for an error without fields (`LastError` says it).
    #[zbus(property)]
    fn last_error_details(&self) -> update_center_client::ErrorDetails {
        lock(&self.shared.last_error_details).clone()
    }

    /// The automatic-fallback message until acknowledged (English, for logs and scripts);
    /// empty otherwise. Clients show `FallbackDetails` in the person's language.
    #[zbus(property)]
    fn fallback(&self) -> String {
        lock(&self.shared.snapshot).fallback.clone()
    }

    /// The automatic fallback as fields (the failed version, its tries, the version running
    /// instead) until acknowledged; an empty `failed` otherwise.
    #[zbus(property)]
    fn fallback_details(&self) -> update_center_client::FallbackDetails {
        lock(&self.shared.snapshot).fallback_details.clone()
    }

    /// Warnings about the definitions.
    #[zbus(property)]
    fn warnings(&self) -> Vec<DefinitionWarning> {
        let mut found = lock(&self.shared.snapshot).warnings.clone();
        found.extend(lock(&self.shared.source_warnings).iter().cloned());
        found
    }

    /// The running job, or `/`.
    #[zbus(property)]
    fn current_job(&self) -> OwnedObjectPath {
        lock(&self.shared.job)
            .as_ref()
            .map(|j| j.path.clone())
            .unwrap_or_else(|| OwnedObjectPath::from(ObjectPath::from_static_str_unchecked("/")))
    }
}

impl UpdateCenter {
    fn refuse_while_busy(&self) -> Result<(), Error> {
        match lock(&self.shared.job).as_ref() {
            Some(job) => Err(Error::Busy(format!(
                "another job is running: {} ({}); wait for it to finish",
                job.path.as_str(),
                job.kind
            ))),
            None => Ok(()),
        }
    }
}
