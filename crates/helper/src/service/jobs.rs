//! Jobs: one at a time, each an object at `/org/kde/UpdateCenter1/job/N` with progress
//! properties and a `Finished` signal.

use super::*;

impl UpdateCenter {
    /// Starts a job unless one runs; returns its path and cancel flag.
    pub(super) async fn start_job(
        &self,
        connection: &zbus::Connection,
        header: &zbus::message::Header<'_>,
        kind: &'static str,
        version: &str,
    ) -> Result<(OwnedObjectPath, Arc<AtomicBool>), Error> {
        let owner = header.sender().map(|s| s.to_string()).unwrap_or_default();
        let owner_uid = caller_uid(connection, header).await;
        let n = self.shared.next_job.fetch_add(1, Ordering::SeqCst) + 1;
        let path = OwnedObjectPath::try_from(format!("{JOB_PATH_PREFIX}{n}"))
            .map_err(|e| Error::Failed(e.to_string()))?;
        let cancel = Arc::new(AtomicBool::new(false));
        {
            let mut job = lock(&self.shared.job);
            if let Some(running) = job.as_ref() {
                let what = if running.version.is_empty() {
                    running.kind.to_string()
                } else {
                    format!("{} {}", running.kind, running.version)
                };
                return Err(Error::Busy(format!(
                    "another job is running: {} ({what}, started by {}); wait for it to finish or cancel it",
                    running.path.as_str(),
                    running.owner
                )));
            }
            *job = Some(RunningJob {
                path: path.clone(),
                kind,
                version: version.to_string(),
                owner,
                owner_uid,
                cancel: cancel.clone(),
            });
        }
        let phase = lock(&self.shared.machine).apply(if kind == "check" {
            StateEvent::CheckStarted
        } else {
            StateEvent::InstallStarted
        });
        lock(&self.shared.last_error).clear();
        *lock(&self.shared.last_error_details) = update_center_client::ErrorDetails::default();
        let object = Job {
            kind: kind.to_string(),
            phase: phase.as_str().to_string(),
            version: version.to_string(),
            done_bytes: 0,
            total_bytes: 0,
            rate_bytes_per_sec: 0,
            eta_secs: -1,
            method: String::new(),
            fallback: String::new(),
            fallback_details: update_center_client::ErrorDetails::default(),
            result: (false, String::new(), String::new()),
            error_details: update_center_client::ErrorDetails::default(),
        };
        connection
            .object_server()
            .at(&path, object)
            .await
            .map_err(|e| Error::Failed(format!("cannot publish the job: {e}")))?;
        // The previous job objects go: their results are in the history and LastError.
        for old in 1..n {
            if let Ok(old) = ObjectPath::try_from(format!("{JOB_PATH_PREFIX}{old}")) {
                let _ = connection.object_server().remove::<Job, _>(old).await;
            }
        }
        let emitter = SignalEmitter::new(connection, OBJECT_PATH)
            .map_err(|e| Error::Failed(e.to_string()))?;
        let _ = self.current_job_changed(&emitter).await;
        let _ = self.state_changed(&emitter).await;
        let _ = self.last_error_changed(&emitter).await;
        let _ = self.last_error_details_changed(&emitter).await;
        Ok((path, cancel))
    }
}

/// Runs a job's blocking engine work off the bus thread; its failure keeps its fields.
pub(super) async fn job_work<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Failure> + Send + 'static,
) -> Result<T, Failure> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Failure::from(Error::Failed(format!("the helper's worker failed: {e}"))))?
}

/// Resolves once `flag` is set (a job's cancel flag, set by `Cancel`).
pub(super) async fn cancelled(flag: &AtomicBool) {
    while !flag.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Updates a job object's properties and emits their changes.
pub(super) async fn update_job(
    connection: &zbus::Connection,
    path: &OwnedObjectPath,
    change: impl FnOnce(&mut Job),
) {
    let Ok(iface) = connection
        .object_server()
        .interface::<_, Job>(path.as_ref())
        .await
    else {
        return;
    };
    let mut job = iface.get_mut().await;
    let before = (
        job.phase.clone(),
        job.version.clone(),
        job.done_bytes,
        job.total_bytes,
        job.rate_bytes_per_sec,
        job.eta_secs,
        job.result.clone(),
        job.method.clone(),
        job.fallback.clone(),
        job.error_details.clone(),
        job.fallback_details.clone(),
    );
    change(&mut job);
    let emitter = iface.signal_emitter();
    // The result before the phase: a client that sees "finished" finds the result in place.
    if before.9 != job.error_details {
        let _ = job.error_details_changed(emitter).await;
    }
    if before.6 != job.result {
        let _ = job.result_changed(emitter).await;
    }
    if before.0 != job.phase {
        let _ = job.phase_changed(emitter).await;
    }
    if before.1 != job.version {
        let _ = job.version_changed(emitter).await;
    }
    if before.2 != job.done_bytes {
        let _ = job.done_bytes_changed(emitter).await;
    }
    if before.3 != job.total_bytes {
        let _ = job.total_bytes_changed(emitter).await;
    }
    if before.4 != job.rate_bytes_per_sec {
        let _ = job.rate_bytes_per_sec_changed(emitter).await;
    }
    if before.5 != job.eta_secs {
        let _ = job.eta_secs_changed(emitter).await;
    }
    if before.10 != job.fallback_details {
        let _ = job.fallback_details_changed(emitter).await;
    }
    if before.8 != job.fallback {
        let _ = job.fallback_changed(emitter).await;
    }
    if before.7 != job.method {
        let _ = job.method_changed(emitter).await;
    }
}

/// Progress from the engine thread to the bus.
pub(super) enum JobEvent {
    Phase(StateEvent),
    Version(String),
    Download {
        done_bytes: u64,
        total_bytes: u64,
        rate_bytes_per_sec: u64,
        eta_secs: Option<u64>,
    },
    Method {
        delta: bool,
        fallback: update_center_engine::update::delta::Why,
    },
}

#[zbus::interface(name = "org.kde.UpdateCenter1.Job")]
impl Job {
    /// `check` or `install`.
    #[zbus(property)]
    fn kind(&self) -> String {
        self.kind.clone()
    }

    /// planning, checking, downloading, installing, finished.
    #[zbus(property)]
    fn phase(&self) -> String {
        self.phase.clone()
    }

    /// The version installed (empty for a check or before the plan).
    #[zbus(property)]
    fn version(&self) -> String {
        self.version.clone()
    }

    /// Bytes downloaded so far.
    #[zbus(property)]
    fn done_bytes(&self) -> u64 {
        self.done_bytes
    }

    /// Bytes to download in all.
    #[zbus(property)]
    fn total_bytes(&self) -> u64 {
        self.total_bytes
    }

    /// Bytes per second.
    #[zbus(property)]
    fn rate_bytes_per_sec(&self) -> u64 {
        self.rate_bytes_per_sec
    }

    /// Seconds left, -1 while unknown.
    #[zbus(property)]
    fn eta_secs(&self) -> i64 {
        self.eta_secs
    }

    /// How the image comes: `delta` (only what no installed version has), `full`, or empty
    /// until known (and for a version without a chunk index).
    #[zbus(property)]
    fn method(&self) -> String {
        self.method.clone()
    }

    /// Why the whole image is downloaded instead of a delta (empty otherwise).
    #[zbus(property)]
    fn fallback(&self) -> String {
        self.fallback.clone()
    }

    /// The same as a kind of `update_center_client::FALLBACK_KINDS` and its fields, for a
    /// sentence in the client's language (an empty kind while none).
    #[zbus(property)]
    fn fallback_details(&self) -> update_center_client::ErrorDetails {
        self.fallback_details.clone()
    }

    /// (success, error name, message) once finished.
    #[zbus(property)]
    fn result(&self) -> (bool, String, String) {
        self.result.clone()
    }

    /// Once finished with an error: the error as fields (kinds in
    /// `update_center_client::ERROR_KINDS`), for a sentence in the client's language; an empty
    /// kind otherwise, and for an error without fields (the `Result` message says it).
    #[zbus(property)]
    fn error_details(&self) -> update_center_client::ErrorDetails {
        self.error_details.clone()
    }

    /// Sent once when the job ends.
    #[zbus(signal)]
    async fn finished(
        emitter: &SignalEmitter<'_>,
        success: bool,
        error: &str,
        message: &str,
    ) -> zbus::Result<()>;
}

impl UpdateCenter {
    /// Ends the job at `path`: result, signal, status.
    pub(super) async fn finish_job(
        &self,
        connection: &zbus::Connection,
        path: &OwnedObjectPath,
        outcome: Result<String, Failure>,
    ) {
        let (version, job_kind) = lock(&self.shared.job)
            .as_ref()
            .map(|j| (j.version.clone(), j.kind))
            .unwrap_or_default();
        let (success, name, message, details) = match &outcome {
            Ok(message) => (
                true,
                String::new(),
                message.clone(),
                update_center_client::ErrorDetails::default(),
            ),
            Err(failure) => {
                // Which job failed (a check or an install), whatever the kind.
                let mut details = (*failure.details).clone();
                details.fields.insert("job".into(), job_kind.into());
                (
                    false,
                    error_name(&failure.error),
                    update_center_client::describe_call_error(&failure.error),
                    details,
                )
            }
        };
        crate::journal::log(
            if success {
                crate::journal::Priority::Info
            } else {
                crate::journal::Priority::Error
            },
            &format!(
                "job {} {}: {message}",
                path.as_str(),
                if success { "finished" } else { "failed" }
            ),
            &[
                ("UPDATE_CENTER_JOB", path.as_str()),
                ("UPDATE_CENTER_VERSION", &version),
                ("UPDATE_CENTER_ERROR", &name),
                ("UPDATE_CENTER_ERROR_KIND", &details.kind),
            ],
        );
        // The result first: a client that sees the job gone from `CurrentJob` reads it there.
        update_job(connection, path, |job| {
            job.error_details = details.clone();
            job.result = (success, name.clone(), message.clone());
        })
        .await;
        *lock(&self.shared.last_error) = if success {
            String::new()
        } else {
            message.clone()
        };
        *lock(&self.shared.last_error_details) = details;
        lock(&self.shared.machine).apply(if success {
            StateEvent::JobSucceeded
        } else {
            StateEvent::JobFailed
        });
        *lock(&self.shared.job) = None;
        self.shared.touch();
        // The status is brought up to date first, so that a client reacting to the job's
        // `finished` phase or its `Finished` signal reads the new state.
        if let Ok(emitter) = SignalEmitter::new(connection, OBJECT_PATH) {
            self.refresh(&emitter).await;
            let _ = self.current_job_changed(&emitter).await;
            let _ = self.last_error_changed(&emitter).await;
            let _ = self.last_error_details_changed(&emitter).await;
        }
        // The metrics too, so that whoever waited for the job reads them as they now are.
        self.write_metrics(connection).await;
        update_job(connection, path, |job| job.phase = "finished".into()).await;
        if let Ok(emitter) = SignalEmitter::new(connection, path.as_ref()) {
            let _ = Job::finished(&emitter, success, &name, &message).await;
        }
    }

    pub(super) fn clone_handle(&self) -> Self {
        Self {
            shared: self.shared.clone(),
        }
    }
}

/// Forwards job events to the job object, at most every [`PROGRESS_INTERVAL`] for downloads.
pub(super) async fn pump(
    connection: zbus::Connection,
    path: OwnedObjectPath,
    shared: Arc<Shared>,
    mut events: tokio::sync::mpsc::UnboundedReceiver<JobEvent>,
) {
    let mut last = Instant::now() - PROGRESS_INTERVAL;
    let mut pending: Option<JobEvent> = None;
    loop {
        let event = match pending.take() {
            Some(event) => Some(event),
            None => events.recv().await,
        };
        let Some(event) = event else { break };
        match event {
            JobEvent::Phase(event) => {
                let phase = lock(&shared.machine).apply(event).as_str();
                update_job(&connection, &path, |job| job.phase = phase.to_string()).await;
                if let Ok(emitter) = SignalEmitter::new(&connection, OBJECT_PATH) {
                    let main = UpdateCenter {
                        shared: shared.clone(),
                    };
                    let _ = main.state_changed(&emitter).await;
                }
            }
            JobEvent::Version(version) => {
                update_job(&connection, &path, |job| job.version = version).await;
            }
            JobEvent::Method { delta, fallback } => {
                update_job(&connection, &path, |job| {
                    job.method = if delta { "delta" } else { "full" }.to_string();
                    job.fallback = fallback.text;
                    job.fallback_details = fallback.details;
                })
                .await;
            }
            JobEvent::Download {
                done_bytes,
                total_bytes,
                rate_bytes_per_sec,
                eta_secs,
            } => {
                // Only the newest of a burst is published.
                while let Ok(next) = events.try_recv() {
                    if matches!(next, JobEvent::Download { .. }) {
                        continue;
                    }
                    pending = Some(next);
                    break;
                }
                if last.elapsed() < PROGRESS_INTERVAL
                    && done_bytes < total_bytes
                    && pending.is_none()
                {
                    continue;
                }
                last = Instant::now();
                update_job(&connection, &path, |job| {
                    job.done_bytes = done_bytes;
                    job.total_bytes = total_bytes;
                    job.rate_bytes_per_sec = rate_bytes_per_sec;
                    job.eta_secs = eta_secs.and_then(|e| i64::try_from(e).ok()).unwrap_or(-1);
                })
                .await;
            }
        }
    }
}
