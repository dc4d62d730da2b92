//! The installed versions: rollback, pins, removal, vacuum, the failed-boot notice.

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
            ops::rollback(&layout, &version, once)
                .map(|_| ())
                .map_err(op_error)
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
        blocking(move || ops::remove(&layout, &version).map_err(op_error)).await?;
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
        let removed = blocking(move || ops::vacuum(&layout).map_err(op_error)).await?;
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
            ops::acknowledge_fallback(&layout)
                .map(|_| ())
                .map_err(op_error)
        })
        .await?;
        self.refresh(&emitter).await;
        Ok(())
    }

    pub(super) async fn set_pinned(
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
            ops::pin(&layout, &version, pinned)
                .map(|_| ())
                .map_err(op_error)
        })
        .await?;
        self.refresh(emitter).await;
        Ok(())
    }
}
