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
            let work = job_work(move || {
                let check = ops::check(&shared.options.layout, &shared.fetcher(), &flag)
                    .map_err(op_failure)?;
                // A source that has not published for long is reported, never a reason to
                // refuse its (still signed, still newest) list.
                *lock(&shared.source_warnings) = check
                    .catalog
                    .sources
                    .iter()
                    .filter_map(|source| {
                        source.stale_days.map(|days| DefinitionWarning {
                            file: source.location.clone(),
                            line: 0,
                            message: format!(
                                "its newest signed list is {days} days old; the source may have stopped publishing"
                            ),
                            kind: "stale-source".into(),
                            fields: [("days".to_string(), days.to_string())].into(),
                        })
                    })
                    .collect();
                let offer = check
                    .offer
                    .map(|o| UpdateOffer {
                        version: o.version,
                        download_bytes: o.download_bytes,
                        image_bytes: o.image_bytes,
                        summary: o.summary,
                    })
                    .unwrap_or_default();
                *lock(&shared.available) = offer.clone();
                *lock(&shared.last_check) = chrono::Utc::now().timestamp();
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
                () = cancelled(&cancel) => Err(Error::Cancelled("the check was cancelled".into()).into()),
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
        self.do_install_or_download(header, connection, version, true)
            .await
    }

    /// An install job; with `stage` false, the files are only downloaded ahead into the cache
    /// (the automatic download when `[Policy] AutomaticInstall=no`).
    pub(super) async fn do_install_or_download(
        &self,
        header: zbus::message::Header<'_>,
        connection: &zbus::Connection,
        version: &str,
        stage: bool,
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
            // A shutdown waits while a version is staged (delay), and cannot happen while the
            // new files are renamed into place, the boot entry last (block).
            let _staging =
                policy::inhibit(&conn, "shutdown", "Staging a new system version", "delay").await;
            let (handle, inhibit_conn) = (tokio::runtime::Handle::current(), conn.clone());
            let outcome = job_work(move || {
                let mut committing = None;
                let fetcher = shared.fetcher();
                let layout = &shared.options.layout;
                let mut on = |event: ops::Event<'_>| {
                        let _ = match event {
                            ops::Event::Recovered(r) => {
                                eprintln!("update-center-helper: recovered: {r:?}");
                                Ok(())
                            }
                            ops::Event::Planned(plan) => tx
                                .send(JobEvent::Version(plan.version.clone()))
                                .and_then(|()| {
                                    tx.send(JobEvent::Phase(StateEvent::DownloadStarted))
                                }),
                            ops::Event::Progress(
                                update_center_engine::update::transaction::Progress::Downloading {
                                    done_bytes,
                                    total_bytes,
                                    rate_bytes_per_sec,
                                    eta_secs,
                                },
                            ) => tx.send(JobEvent::Download {
                                done_bytes,
                                total_bytes,
                                rate_bytes_per_sec,
                                eta_secs,
                            }),
                            ops::Event::Progress(
                                update_center_engine::update::transaction::Progress::Method {
                                    delta,
                                    fallback,
                                    ..
                                },
                            ) => tx.send(JobEvent::Method { delta, fallback }),
                            ops::Event::Progress(
                                update_center_engine::update::transaction::Progress::Committing,
                            ) => {
                                committing = handle.block_on(policy::inhibit(
                                    &inhibit_conn,
                                    "shutdown",
                                    "Writing the new system version and its boot entry",
                                    "block",
                                ));
                                tx.send(JobEvent::Phase(StateEvent::InstallingStarted))
                            }
                        };
                };
                let message = if stage {
                    let plan = ops::install(layout, &fetcher, wanted.as_deref(), &cancel, &mut on)
                        .map_err(op_failure)?;
                    format!(
                        "Version {} is installed; it boots next time, on trial until the boot is good.",
                        plan.version
                    )
                } else {
                    let (plan, downloaded) = ops::download_ahead(layout, &fetcher, &cancel, &mut on)
                        .map_err(op_failure)?;
                    if downloaded {
                        format!(
                            "Version {} is downloaded and verified; installing it fetches nothing again.",
                            plan.version
                        )
                    } else {
                        format!(
                            "Version {} is not downloaded ahead: its files fit only after old versions are removed, when it is installed.",
                            plan.version
                        )
                    }
                };
                // The version is whole: the block inhibitor goes.
                drop(committing);
                drop(tx);
                Ok(message)
            })
            .await;
            let _ = pump.await;
            if outcome.is_ok() && stage {
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
