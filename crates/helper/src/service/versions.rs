//! The installed versions: rollback, removal, vacuum, the failed-boot notice.

use super::*;

impl UpdateCenter {
    pub(super) async fn do_rollback(
        &self,
        header: zbus::message::Header<'_>,
        connection: &zbus::Connection,
        emitter: SignalEmitter<'_>,
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

    pub(super) async fn do_remove_version(
        &self,
        header: zbus::message::Header<'_>,
        connection: &zbus::Connection,
        emitter: SignalEmitter<'_>,
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

    pub(super) async fn do_vacuum(
        &self,
        header: zbus::message::Header<'_>,
        connection: &zbus::Connection,
        emitter: SignalEmitter<'_>,
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

    pub(super) async fn do_acknowledge_fallback(
        &self,
        header: zbus::message::Header<'_>,
        connection: &zbus::Connection,
        emitter: SignalEmitter<'_>,
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
}
