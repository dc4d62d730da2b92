//! Checking the sources and installing: the two methods that start jobs.

use super::*;

impl UpdateCenter {
    pub(super) async fn do_check(
        &self,
        header: zbus::message::Header<'_>,
        connection: &zbus::Connection,
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

    pub(super) async fn do_install(
        &self,
        header: zbus::message::Header<'_>,
        connection: &zbus::Connection,
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
}
