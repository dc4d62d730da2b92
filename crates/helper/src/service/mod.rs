//! The D-Bus service: `org.kde.UpdateCenter1` at `/org/kde/UpdateCenter1` on the system bus.
//!
//! Every method that changes something asks polkit first (`CheckAuthorization` for the calling
//! bus name, with interaction allowed so that the desktop's agent can prompt); nothing caches a
//! decision across callers. Long work (checking the sources, installing) runs as a job object
//! at `/org/kde/UpdateCenter1/job/N` with progress properties and a `Finished` signal; one
//! job runs at a time, a second caller is told which one with a `Busy` error. Every change to
//! the installed versions emits `VersionsChanged`, and the status properties emit
//! `PropertiesChanged`, so that clients never poll.

use crate::stage::{self, StageError};
use anyhow::{Context, Result};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use update_center_client::state::{Event as StateEvent, Machine};
use update_center_client::{
    BUS_NAME, DefinitionWarning, Error, InstalledFile, JOB_PATH_PREFIX, OBJECT_PATH, UpdateOffer,
    VersionInfo,
};
use update_center_engine::inventory::Layout;
use update_center_engine::{EngineError, SystemState, lifecycle};
use zbus::object_server::SignalEmitter;
use zbus::zvariant::{ObjectPath, OwnedObjectPath};

mod errors;
mod jobs;
mod polkit;
mod state;

use errors::*;
use jobs::*;
use polkit::*;
use state::*;

/// Version of the API, raised when methods are added.
const API_VERSION: u32 = 3;
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
    pub max_rate: Option<u64>,
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
}

/// Credentials for one mirror origin, and who handed them over.
struct SourceCredentials {
    origin: update_center_engine::fetch::Origin,
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
    done: u64,
    total: u64,
    rate: u64,
    eta: i64,
    result: (bool, String, String),
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

async fn read_system(layout: &Layout) -> Result<SystemState, Error> {
    let layout = layout.clone();
    let state = tokio::task::spawn_blocking(move || update_center_engine::read_system(&layout))
        .await
        .map_err(|e| Error::Failed(format!("the inventory task failed: {e}")))?;
    let state = state.map_err(|error| {
        eprintln!("update-center-helper: {error}");
        engine_error(error)
    })?;
    for w in &state.definitions.warnings {
        let place = w
            .line
            .map(|l| format!("{}:{l}", w.file.display()))
            .unwrap_or_else(|| w.file.display().to_string());
        eprintln!("update-center-helper: warning: {place}: {}", w.message);
    }
    Ok(state)
}

/// Runs blocking engine work off the bus thread.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::Failed(format!("the helper's worker failed: {e}")))?
}

impl UpdateCenter {
    /// Recomputes the snapshot and emits what changed.
    async fn refresh(&self, emitter: &SignalEmitter<'_>) {
        let Ok(state) = read_system(&self.shared.options.layout).await else {
            return;
        };
        let new = snapshot_of(&state);
        let old = std::mem::replace(&mut *lock(&self.shared.snapshot), new.clone());
        lock(&self.shared.machine).apply(StateEvent::SystemRead {
            restart_pending: restart_pending(&new),
        });
        if old.versions != new.versions {
            let _ = Self::versions_changed(emitter).await;
        }
        if old.running != new.running {
            let _ = self.running_version_changed(emitter).await;
        }
        if old.default != new.default {
            let _ = self.default_version_changed(emitter).await;
        }
        if old.fallback != new.fallback {
            let _ = self.fallback_changed(emitter).await;
            let _ = self.fallback_details_changed(emitter).await;
        }
        if old.warnings != new.warnings {
            let _ = self.warnings_changed(emitter).await;
        }
        let _ = self.state_changed(emitter).await;
    }
}

#[zbus::interface(name = "org.kde.UpdateCenter1")]
impl UpdateCenter {
    /// Every OS version installed, newest first, with its files and states.
    async fn list_versions(&self) -> Result<Vec<VersionInfo>, Error> {
        read_system(&self.shared.options.layout)
            .await
            .map(|state| versions(&state))
    }

    /// Warnings about the update definitions, so that no client misses them.
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
        self.authorize(connection, &header, action::CHECK).await?;
        let (path, cancel) = self.start_job(connection, &header, "check", "").await?;
        let (me, conn, job_path) = (self.clone_handle(), connection.clone(), path.clone());
        tokio::spawn(async move {
            let shared = me.shared.clone();
            let flag = cancel.clone();
            let work = blocking(move || {
                let layout = &shared.options.layout;
                let fetcher = shared.fetcher();
                let state = update_center_engine::read_system(layout).map_err(engine_error)?;
                let catalog = update_center_engine::catalog::check(
                    &state.definitions,
                    &state.inventory,
                    &layout.root,
                    &fetcher,
                )
                .map_err(|e| Error::Network(e.to_string()))?;
                // A source that has not published for long is reported, never a reason to
                // refuse its (still signed, still newest) list.
                *lock(&shared.source_warnings) = catalog
                    .sources
                    .iter()
                    .filter_map(|source| {
                        source.stale_days.map(|days| DefinitionWarning {
                            file: source.location.clone(),
                            line: 0,
                            message: format!(
                                "its newest signed list is {days} days old; the source may have stopped publishing"
                            ),
                        })
                    })
                    .collect();
                let offer = match &catalog.candidate {
                    None => UpdateOffer::default(),
                    Some(version) => {
                        let offers: Vec<_> = catalog
                            .versions
                            .iter()
                            .filter(|v| &v.version == version)
                            .flat_map(|v| v.files.clone())
                            .collect();
                        let download_bytes = crate::bin_facts::sizes(&fetcher, &offers)
                            .map(|s| s.iter().map(|(_, s)| s.download).sum())
                            .unwrap_or(0);
                        let summary = state
                            .inventory
                            .booted
                            .as_deref()
                            .map(|running| {
                                update_center_engine::changelog::between(
                                    &state.definitions,
                                    &layout.root,
                                    &fetcher,
                                    running,
                                    version,
                                )
                            })
                            .and_then(|log| log.releases.first().cloned())
                            .and_then(|r| r.description.first().cloned())
                            .unwrap_or_default();
                        UpdateOffer {
                            version: version.clone(),
                            download_bytes,
                            summary,
                        }
                    }
                };
                // A cancelled check has been reported already: it changes nothing.
                if flag.load(Ordering::SeqCst) {
                    return Err(Error::Cancelled("the check was cancelled".into()));
                }
                *lock(&shared.available) = offer.clone();
                *lock(&shared.last_check) = chrono::Utc::now().timestamp();
                update_center_engine::history::append(
                    &layout.state_dir(),
                    &update_center_engine::history::Event::Checked {
                        candidate: offer.version.clone(),
                    },
                );
                Ok(if offer.version.is_empty() {
                    "The system is up to date.".to_string()
                } else {
                    format!("Version {} is available.", offer.version)
                })
            });
            // Cancel ends the job at once and frees the slot: a source that answers slowly (or
            // never) cannot hold it. The request still in flight ends by its own timeout and
            // its result is dropped.
            let outcome = tokio::select! {
                outcome = work => outcome,
                () = cancelled(&cancel) => Err(Error::Cancelled("the check was cancelled".into())),
            };
            if let Ok(emitter) = SignalEmitter::new(&conn, OBJECT_PATH) {
                let _ = me.available_update_changed(&emitter).await;
                let _ = me.last_check_time_changed(&emitter).await;
                let _ = me.warnings_changed(&emitter).await;
            }
            me.finish_job(&conn, &job_path, outcome).await;
        });
        Ok(path)
    }

    /// Installs the newest version (`version` empty) or the named one, as a job.
    async fn install(
        &self,
        #[zbus(header)] header: zbus::message::Header<'_>,
        #[zbus(connection)] connection: &zbus::Connection,
        version: &str,
    ) -> Result<OwnedObjectPath, Error> {
        if !version.is_empty() {
            valid_version(version)?;
        }
        let needed = if version.is_empty() {
            action::INSTALL
        } else {
            action::INSTALL_VERSION
        };
        self.authorize(connection, &header, needed).await?;
        let (path, cancel) = self
            .start_job(connection, &header, "install", version)
            .await?;
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let pump = tokio::spawn(pump(
            connection.clone(),
            path.clone(),
            self.shared.clone(),
            rx,
        ));
        let (me, conn, job_path) = (self.clone_handle(), connection.clone(), path.clone());
        let wanted = (!version.is_empty()).then(|| version.to_string());
        tokio::spawn(async move {
            let shared = me.shared.clone();
            let outcome = blocking(move || {
                let fetcher = shared.fetcher();
                let plan = stage::run(
                    &shared.options.layout,
                    &fetcher,
                    wanted.as_deref(),
                    &cancel,
                    &mut |event| {
                        let _ = match event {
                            stage::Event::Recovered(r) => {
                                eprintln!("update-center-helper: recovered: {r:?}");
                                Ok(())
                            }
                            stage::Event::Planned(plan) => tx
                                .send(JobEvent::Version(plan.version.clone()))
                                .and_then(|()| {
                                    tx.send(JobEvent::Phase(StateEvent::DownloadStarted))
                                }),
                            stage::Event::Progress(
                                update_center_engine::transaction::Progress::Downloading {
                                    done,
                                    total,
                                    rate_bytes_per_sec,
                                    eta_secs,
                                },
                            ) => tx.send(JobEvent::Download {
                                done,
                                total,
                                rate: rate_bytes_per_sec,
                                eta: eta_secs,
                            }),
                            stage::Event::Progress(
                                update_center_engine::transaction::Progress::Committing,
                            ) => tx.send(JobEvent::Phase(StateEvent::InstallingStarted)),
                        };
                    },
                )
                .map_err(stage_error)?;
                drop(tx);
                Ok(format!(
                    "Version {} is installed; it boots next time, on trial until the boot is good.",
                    plan.version
                ))
            })
            .await;
            let _ = pump.await;
            if outcome.is_ok() {
                *lock(&me.shared.available) = UpdateOffer::default();
                if let Ok(emitter) = SignalEmitter::new(&conn, OBJECT_PATH) {
                    let _ = me.available_update_changed(&emitter).await;
                }
            }
            me.finish_job(&conn, &job_path, outcome).await;
        });
        Ok(path)
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
        valid_version(version)?;
        self.authorize(connection, &header, action::ROLLBACK)
            .await?;
        self.refuse_while_busy()?;
        let layout = self.shared.options.layout.clone();
        let version = version.to_string();
        blocking(move || {
            let state = update_center_engine::read_system(&layout).map_err(engine_error)?;
            lifecycle::rollback(&layout, &state, &version, once).map_err(lifecycle_error)?;
            Ok(())
        })
        .await?;
        self.refresh(&emitter).await;
        Ok(())
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
        valid_version(version)?;
        self.authorize(connection, &header, action::REMOVE).await?;
        self.refuse_while_busy()?;
        let layout = self.shared.options.layout.clone();
        let version = version.to_string();
        blocking(move || {
            let state = update_center_engine::read_system(&layout).map_err(engine_error)?;
            let v = state
                .inventory
                .versions
                .iter()
                .find(|v| v.version == version)
                .ok_or_else(|| Error::Refused(format!("version {version} is not installed")))?;
            let states = lifecycle::states(&state, v);
            use lifecycle::VersionState as S;
            let keep: Vec<&S> = states
                .iter()
                .filter(|s| {
                    matches!(
                        s,
                        S::Running | S::Default | S::NextBootOnce | S::Pinned | S::Protected
                    )
                })
                .collect();
            if !keep.is_empty() {
                let why: Vec<String> = keep.iter().map(|s| s.describe()).collect();
                return Err(Error::Refused(format!(
                    "version {version} is {}: it cannot be removed{}",
                    why.join(" and "),
                    if keep.iter().any(|s| matches!(s, S::Pinned)) {
                        " (unpin it first)"
                    } else {
                        ""
                    }
                )));
            }
            let active: Vec<_> = state.definitions.active().collect();
            let removal = crate::bin_facts::with_facts(&layout, &[], |facts| {
                update_center_engine::plan::removal_of(v, &active, facts)
            });
            update_center_engine::transaction::remove_versions(&[removal], &layout)
                .map_err(|e| Error::Io(e.to_string()))
        })
        .await?;
        self.refresh(&emitter).await;
        Ok(())
    }

    /// Removes the oldest versions beyond `InstancesMax=`; returns them.
    async fn vacuum(
        &self,
        #[zbus(header)] header: zbus::message::Header<'_>,
        #[zbus(connection)] connection: &zbus::Connection,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> Result<Vec<String>, Error> {
        self.authorize(connection, &header, action::VACUUM).await?;
        self.refuse_while_busy()?;
        let layout = self.shared.options.layout.clone();
        let removed = blocking(move || {
            let state = update_center_engine::read_system(&layout).map_err(engine_error)?;
            let removals = crate::bin_facts::with_facts(&layout, &[], |facts| {
                update_center_engine::plan::vacuum(&state, facts)
            });
            update_center_engine::transaction::remove_versions(&removals, &layout)
                .map_err(|e| Error::Io(e.to_string()))?;
            Ok(removals.into_iter().map(|r| r.version).collect())
        })
        .await?;
        self.refresh(&emitter).await;
        Ok(removed)
    }

    /// What changes between two versions, as JSON (docs/json.md).
    async fn changelog(
        &self,
        #[zbus(header)] header: zbus::message::Header<'_>,
        #[zbus(connection)] connection: &zbus::Connection,
        from: &str,
        to: &str,
    ) -> Result<String, Error> {
        for v in [from, to].into_iter().filter(|v| !v.is_empty()) {
            valid_version(v)?;
        }
        self.authorize(connection, &header, action::READ).await?;
        // At most METADATA_SLOTS changelogs are gathered at once, and at most METADATA_QUEUE
        // callers wait: a flood of calls costs a bounded number of requests and threads.
        let waiting = self.shared.metadata_waiting.fetch_add(1, Ordering::SeqCst);
        let permit = if waiting < METADATA_QUEUE {
            self.shared.metadata_slots.acquire().await.ok()
        } else {
            None
        };
        self.shared.metadata_waiting.fetch_sub(1, Ordering::SeqCst);
        let Some(_permit) = permit else {
            return Err(Error::Busy(
                "too many changelog requests at once; try again in a moment".into(),
            ));
        };
        let shared = self.shared.clone();
        let (from, to) = (from.to_string(), to.to_string());
        blocking(move || {
            let layout = &shared.options.layout;
            let state = update_center_engine::read_system(layout).map_err(engine_error)?;
            let from = if from.is_empty() {
                state.inventory.booted.clone().ok_or_else(|| {
                    Error::InvalidArgument("the running version is unknown: name FROM".into())
                })?
            } else {
                from
            };
            let to = if to.is_empty() {
                let offered = lock(&shared.available).version.clone();
                if offered.is_empty() {
                    state
                        .inventory
                        .versions
                        .first()
                        .map(|v| v.version.clone())
                        .ok_or_else(|| Error::InvalidArgument("name TO".into()))?
                } else {
                    offered
                }
            } else {
                to
            };
            let log = update_center_engine::changelog::between(
                &state.definitions,
                &layout.root,
                &shared.fetcher(),
                &from,
                &to,
            );
            serde_json::to_string(&log).map_err(|e| Error::Failed(e.to_string()))
        })
        .await
    }

    /// History records, newest first, as a JSON array.
    async fn history(
        &self,
        #[zbus(header)] header: zbus::message::Header<'_>,
        #[zbus(connection)] connection: &zbus::Connection,
        since: i64,
        until: i64,
        limit: u32,
    ) -> Result<String, Error> {
        self.authorize(connection, &header, action::READ).await?;
        let time = |t: i64| -> Result<Option<chrono::DateTime<chrono::Utc>>, Error> {
            if t == 0 {
                return Ok(None);
            }
            chrono::DateTime::from_timestamp(t, 0)
                .map(Some)
                .ok_or_else(|| Error::InvalidArgument(format!("{t} is not a time")))
        };
        let query = update_center_engine::history::Query {
            since: time(since)?,
            until: time(until)?,
            kinds: Vec::new(),
            limit: (limit > 0).then_some(limit as usize),
        };
        let layout = self.shared.options.layout.clone();
        blocking(move || {
            serde_json::to_string(&update_center_engine::history::query(
                &layout.state_dir(),
                &query,
            ))
            .map_err(|e| Error::Failed(e.to_string()))
        })
        .await
    }

    /// Every setting as `Section.Key` -> value, and the read-only
    /// `Updates.InstancesMaxOverridden` (yes when the retention is this product's, no when it
    /// is the definitions' own).
    async fn get_settings(&self) -> Result<std::collections::HashMap<String, String>, Error> {
        let layout = self.shared.options.layout.clone();
        blocking(move || {
            let mut map: std::collections::HashMap<String, String> =
                update_center_engine::settings::load(&layout.root)
                    .map(|s| s.to_map().into_iter().collect())
                    .map_err(|e| Error::InvalidDefinition(e.to_string()))?;
            let overridden = map
                .get("Updates.InstancesMax")
                .is_some_and(|v| !v.is_empty());
            map.insert(
                "Updates.InstancesMaxOverridden".into(),
                if overridden { "yes" } else { "no" }.into(),
            );
            // Without an override, the retention the definitions set.
            if map
                .get("Updates.InstancesMax")
                .is_some_and(String::is_empty)
                && let Ok(state) = update_center_engine::read_system(&layout)
                && let Some(n) = state
                    .definitions
                    .active()
                    .map(|t| t.target.instances_max)
                    .min()
            {
                map.insert("Updates.InstancesMax".into(), n.to_string());
            }
            Ok(map)
        })
        .await
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
        if !update_center_engine::settings::KEYS.contains(&key) {
            let shown: String = key.chars().take(40).collect();
            return Err(Error::InvalidArgument(format!(
                "`{shown}` is not a setting; known: {}",
                update_center_engine::settings::KEYS.join(", ")
            )));
        }
        // Pausing automatic updates for up to a week (or ending a pause) is a session user's
        // choice, like checking; everything else needs an administrator. A pause that is
        // running is extended only by an administrator, so that no session user can renew it
        // week after week and keep the machine from updating forever.
        let session_key = update_center_engine::settings::SESSION_KEYS.contains(&key);
        let paused_now = session_key && {
            let root = self.shared.options.layout.root.clone();
            blocking(move || {
                Ok(update_center_engine::settings::load(&root)
                    .ok()
                    .and_then(|s| s.paused_until)
                    .is_some_and(|until| chrono::Utc::now() < until))
            })
            .await?
        };
        let session_choice = session_key
            && (value.is_empty()
                || (!paused_now
                    && chrono::DateTime::parse_from_rfc3339(value).is_ok_and(|until| {
                        until.with_timezone(&chrono::Utc)
                            <= chrono::Utc::now() + chrono::Duration::days(7)
                    })));
        let needed = if session_choice {
            action::CHECK
        } else {
            action::SETTINGS
        };
        self.authorize(connection, &header, needed).await?;
        let root = self.shared.options.layout.root.clone();
        let (key, value) = (key.to_string(), value.to_string());
        blocking(move || {
            update_center_engine::settings::set(&root, &key, &value)
                .map(|_| ())
                .map_err(|e| match e {
                    update_center_engine::settings::SettingsError::Invalid { .. } => {
                        Error::InvalidArgument(e.to_string())
                    }
                    other => Error::Io(other.to_string()),
                })
        })
        .await?;
        let _ = Self::settings_changed(&emitter).await;
        Ok(())
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
        use update_center_engine::fetch::Origin;
        if user.len() > 256 || password.len() > 1024 || user.contains([':', '\n', '\r']) {
            return Err(Error::InvalidArgument(
                "a user name has no colon or line break and at most 256 bytes; a password at most 1024 bytes"
                    .into(),
            ));
        }
        let origin = Origin::of(url).ok_or_else(|| {
            Error::InvalidArgument(
                "credentials are for an http:// or https:// mirror URL without user name or password in it"
                    .into(),
            )
        })?;
        let uid = caller_uid(connection, &header).await;
        let foreign = lock(&self.shared.source_credentials)
            .as_ref()
            .is_some_and(|c| c.owner_uid != uid || uid.is_none());
        // The same as checking: the credentials only open the mirror the administrator chose.
        // Replacing someone else's is an administrator's choice.
        let needed = if foreign {
            action::SETTINGS
        } else {
            action::CHECK
        };
        self.authorize(connection, &header, needed).await?;
        if !user.is_empty() {
            if !origin.may_carry_password() {
                return Err(Error::InvalidArgument(format!(
                    "{origin} is plain http: a password would cross the network unencrypted; use an https:// mirror"
                )));
            }
            let layout = self.shared.options.layout.clone();
            let source = blocking(move || {
                update_center_engine::settings::load(&layout.root)
                    .map(|s| s.source)
                    .map_err(|e| Error::InvalidDefinition(e.to_string()))
            })
            .await?;
            if source.as_deref().and_then(Origin::of).as_ref() != Some(&origin) {
                return Err(Error::InvalidArgument(format!(
                    "credentials for {origin} are not for the update source set now; set Updates.Source first"
                )));
            }
        }
        *lock(&self.shared.source_credentials) = (!user.is_empty()).then(|| SourceCredentials {
            origin,
            user: zeroize::Zeroizing::new(user.to_string()),
            password: zeroize::Zeroizing::new(password.to_string()),
            owner_uid: uid,
        });
        Ok(())
    }

    /// Clears the automatic-fallback flag.
    async fn acknowledge_fallback(
        &self,
        #[zbus(header)] header: zbus::message::Header<'_>,
        #[zbus(connection)] connection: &zbus::Connection,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> Result<(), Error> {
        self.authorize(connection, &header, action::ACKNOWLEDGE)
            .await?;
        let layout = self.shared.options.layout.clone();
        blocking(move || {
            lifecycle::acknowledge_fallback(&layout)
                .map(|_| ())
                .map_err(lifecycle_error)
        })
        .await?;
        self.refresh(&emitter).await;
        Ok(())
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

    /// The update on offer from the last check: (version, bytes to download, summary).
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

    async fn set_pinned(
        &self,
        header: &zbus::message::Header<'_>,
        connection: &zbus::Connection,
        emitter: &SignalEmitter<'_>,
        version: &str,
        pinned: bool,
    ) -> Result<(), Error> {
        valid_version(version)?;
        self.authorize(connection, header, action::PIN).await?;
        let layout = self.shared.options.layout.clone();
        let version = version.to_string();
        blocking(move || {
            let state = update_center_engine::read_system(&layout).map_err(engine_error)?;
            lifecycle::set_pinned(&layout, &state, &version, pinned)
                .map(|_| ())
                .map_err(lifecycle_error)
        })
        .await?;
        self.refresh(emitter).await;
        Ok(())
    }
}

/// Serves the API until SIGTERM or SIGINT, or until idle for `options.idle_exit`.
pub async fn serve(options: Options) -> Result<()> {
    let layout = options.layout.clone();
    let root = layout.root.display().to_string();
    // An update cut short by a crash or a power cut is finished or undone before anything else.
    let recovery = {
        let layout = layout.clone();
        tokio::task::spawn_blocking(move || stage::recover(&layout)).await?
    };
    let notice = match &recovery {
        Ok(update_center_engine::transaction::Recovery::Clean) => String::new(),
        Ok(update_center_engine::transaction::Recovery::Completed(version)) => format!(
            "The helper stopped while installing version {version}; it finished the installation on start-up."
        ),
        Ok(update_center_engine::transaction::Recovery::Discarded(files)) => format!(
            "The helper stopped during an update; on start-up it removed its {} unfinished file(s). Nothing installed changed.",
            files.len()
        ),
        Err(e) => {
            // Nothing to recover on a system that cannot be read; the calls say why.
            eprintln!("update-center-helper: cannot check for an interrupted update: {e}");
            String::new()
        }
    };
    if !notice.is_empty() {
        crate::journal::log(crate::journal::Priority::Warning, &notice, &[]);
    }
    let state = update_center_engine::read_system(&layout).ok();
    let shared = Arc::new(Shared {
        options: options.clone(),
        snapshot: Mutex::new(state.as_ref().map(snapshot_of).unwrap_or_default()),
        job: Mutex::new(None),
        machine: Mutex::new(Machine::new(
            !notice.is_empty(),
            state
                .as_ref()
                .is_some_and(|s| restart_pending(&snapshot_of(s))),
        )),
        available: Mutex::new(UpdateOffer::default()),
        last_check: Mutex::new(0),
        last_error: Mutex::new(notice),
        next_job: AtomicU64::new(0),
        activity: Mutex::new(Instant::now()),
        source_credentials: Mutex::new(None),
        source_warnings: Mutex::new(Vec::new()),
        metadata_slots: tokio::sync::Semaphore::new(METADATA_SLOTS),
        metadata_waiting: std::sync::atomic::AtomicUsize::new(0),
    });
    let _connection = zbus::connection::Builder::system()
        .context("cannot find the system bus")?
        .serve_at(
            OBJECT_PATH,
            UpdateCenter {
                shared: shared.clone(),
            },
        )?
        .name(BUS_NAME)?
        .build()
        .await
        .with_context(|| {
            format!(
                "cannot own {BUS_NAME} on the system bus (only root may own it, and only one helper may run)"
            )
        })?;
    eprintln!("update-center-helper: serving {BUS_NAME} for the system at {root}");
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let idle = async {
        let Some(limit) = options.idle_exit else {
            return std::future::pending::<()>().await;
        };
        loop {
            let since = lock(&shared.activity).elapsed();
            let busy = lock(&shared.job).is_some();
            if !busy && since >= limit {
                return;
            }
            tokio::time::sleep(limit.saturating_sub(since).max(Duration::from_millis(100))).await;
        }
    };
    tokio::select! {
        _ = terminate.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
        () = idle => eprintln!("update-center-helper: idle, exiting (the bus starts it again when needed)"),
    }
    if let Some(job) = lock(&shared.job).as_ref() {
        job.cancel.store(true, Ordering::SeqCst);
    }
    eprintln!("update-center-helper: stopping");
    Ok(())
}
