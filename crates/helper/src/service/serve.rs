//! Start-up: recovery of an interrupted update, the bus name, the idle exit.

use super::*;

/// Serves the API until SIGTERM or SIGINT, or until idle for `options.idle_exit`.
pub async fn serve(options: Options) -> Result<()> {
    let layout = options.layout.clone();
    let root = layout.root.display().to_string();
    // An update cut short by a crash or a power cut is finished or undone before anything else.
    let recovery = {
        let layout = layout.clone();
        tokio::task::spawn_blocking(move || ops::recover(&layout)).await?
    };
    let notice = match &recovery {
        Ok(update_center_engine::update::transaction::Recovery::Clean) => String::new(),
        Ok(update_center_engine::update::transaction::Recovery::Completed(version)) => format!(
            "The helper stopped while installing version {version}; it finished the installation on start-up."
        ),
        Ok(update_center_engine::update::transaction::Recovery::Discarded(files)) => format!(
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
    // The same as fields, for clients to say in the person's language.
    let notice_details = match &recovery {
        Ok(update_center_engine::update::transaction::Recovery::Completed(version)) => {
            update_center_client::ErrorDetails::new(
                "recovered-completed",
                &[("version", version.clone())],
            )
        }
        Ok(update_center_engine::update::transaction::Recovery::Discarded(files)) => {
            update_center_client::ErrorDetails::new(
                "recovered-discarded",
                &[("files", files.len().to_string())],
            )
        }
        _ => update_center_client::ErrorDetails::default(),
    };
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
        last_error_details: Mutex::new(notice_details),
        next_job: AtomicU64::new(0),
        activity: Mutex::new(Instant::now()),
        source_credentials: Mutex::new(None),
        source_warnings: Mutex::new(Vec::new()),
        metadata_slots: tokio::sync::Semaphore::new(METADATA_SLOTS),
        metadata_waiting: std::sync::atomic::AtomicUsize::new(0),
        fleet_waiting: Mutex::new(Default::default()),
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
    // A fleet's restart slot from the last restart is settled whenever the helper starts (it is
    // started by every client, also while automatic updates are paused or off).
    let starting = shared.clone();
    tokio::spawn(async move { super::policy::settle_fleet_slot(&starting).await });
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
