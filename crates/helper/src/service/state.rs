//! What the service shows of the system: the versions, the warnings, the state word, and the
//! snapshot the properties are read from.

use super::*;

pub(super) fn versions(state: &SystemState) -> Vec<VersionInfo> {
    state
        .inventory
        .versions
        .iter()
        .map(|v| VersionInfo {
            version: v.version.clone(),
            complete: v.complete,
            booted: v.booted,
            files: v
                .instances
                .iter()
                .map(|i| InstalledFile {
                    transfer: i.transfer.clone(),
                    path: i.path.display().to_string(),
                    size_bytes: i.size_bytes,
                })
                .collect(),
            missing_transfers: v.missing_transfers.clone(),
            states: lifecycle::states(state, v)
                .iter()
                .map(|s| (s.name().to_string(), s.describe()))
                .collect(),
        })
        .collect()
}

pub(super) fn warnings(state: &SystemState) -> Vec<DefinitionWarning> {
    state
        .definitions
        .warnings
        .iter()
        .map(|w| DefinitionWarning {
            file: w.file.display().to_string(),
            line: w.line.and_then(|l| u32::try_from(l).ok()).unwrap_or(0),
            message: w.message.clone(),
            kind: w.kind.to_string(),
            fields: w
                .fields
                .iter()
                .map(|(k, v)| ((*k).to_string(), v.clone()))
                .collect(),
        })
        .collect()
}

pub(super) fn snapshot_of(state: &SystemState) -> Snapshot {
    Snapshot {
        running: state.inventory.booted.clone().unwrap_or_default(),
        default: state.boot.default_version().unwrap_or_default().to_string(),
        next: state.boot.next_version().unwrap_or_default().to_string(),
        fallback: state
            .lifecycle
            .fallback
            .as_ref()
            .map(|f| f.message())
            .unwrap_or_default(),
        fallback_details: state
            .lifecycle
            .fallback
            .as_ref()
            .map(|f| update_center_client::FallbackDetails {
                failed: f.failed.clone(),
                tries: u32::try_from(f.tries).unwrap_or(u32::MAX),
                running: f.running.clone(),
            })
            .unwrap_or_default(),
        warnings: warnings(state),
        versions: versions(state),
    }
}

impl Shared {
    pub(super) fn touch(&self) {
        *lock(&self.activity) = Instant::now();
    }

    pub(super) fn fetcher(&self) -> update_center_engine::source::fetch::Fetcher {
        let settings = update_center_engine::settings::load(&self.options.layout.root).ok();
        let mut fetcher = settings
            .clone()
            .unwrap_or_default()
            .fetcher(self.options.timeout, self.options.max_rate_bytes_per_sec);
        if let Some(source) = settings.and_then(|s| s.source)
            && let Some(c) = lock(&self.source_credentials).as_ref()
            && update_center_engine::source::fetch::Origin::of(&source).as_ref() == Some(&c.origin)
        {
            fetcher = fetcher.with_credentials(&source, &c.user, &c.password);
        }
        fetcher
    }

    /// The state property, from the job, the last error and the boot choice.
    pub(super) fn state(&self) -> String {
        lock(&self.machine).state().as_str().to_string()
    }
}

/// Whether another version boots next than runs (staged, or chosen by a rollback): a restart
/// brings it.
pub(super) fn restart_pending(snapshot: &Snapshot) -> bool {
    !snapshot.next.is_empty() && !snapshot.running.is_empty() && snapshot.next != snapshot.running
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub(super) async fn read_system(layout: &Layout) -> Result<SystemState, Error> {
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
pub(super) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::Failed(format!("the helper's worker failed: {e}")))?
}

impl UpdateCenter {
    /// Recomputes the snapshot and emits what changed.
    pub(super) async fn refresh(&self, emitter: &SignalEmitter<'_>) {
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
