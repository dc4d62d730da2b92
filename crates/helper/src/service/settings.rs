//! The settings and the mirror credentials.

use super::*;

impl UpdateCenter {
    pub(super) async fn do_get_settings(
        &self,
    ) -> Result<std::collections::HashMap<String, String>, Error> {
        let layout = self.shared.options.layout.clone();
        blocking(move || {
            ops::settings::settings_view(&layout)
                .map(|view| view.into_iter().collect())
                .map_err(|e| Error::InvalidDefinition(e.to_string()))
        })
        .await
    }

    pub(super) async fn do_set_setting(
        &self,
        header: zbus::message::Header<'_>,
        connection: &zbus::Connection,
        emitter: SignalEmitter<'_>,
        key: &str,
        value: &str,
    ) -> Result<(), Error> {
        if !update_center_engine::settings::KEYS.contains(&key) {
            // Refused before polkit is asked.
            return ops::settings::set_setting(&self.shared.options.layout, key, value)
                .map_err(op_error);
        }
        let layout = self.shared.options.layout.clone();
        let now = chrono::Utc::now();
        let paused_now = blocking(move || Ok(ops::settings::paused(&layout, now))).await?;
        let needed = if ops::settings::session_may_set(key, value, paused_now, now) {
            action::CHECK
        } else {
            action::SETTINGS
        };
        self.authorize(connection, &header, needed).await?;
        let layout = self.shared.options.layout.clone();
        let (key, value) = (key.to_string(), value.to_string());
        blocking(move || {
            ops::settings::set_setting(&layout, &key, &value).map_err(|e| match e {
                OpError::Settings(update_center_engine::settings::SettingsError::Invalid {
                    ..
                }) => Error::InvalidArgument(e.to_string()),
                other => op_error(other),
            })
        })
        .await?;
        let _ = Self::settings_changed(&emitter).await;
        Ok(())
    }

    pub(super) async fn do_use_source_credentials(
        &self,
        header: zbus::message::Header<'_>,
        connection: &zbus::Connection,
        url: &str,
        user: &str,
        password: &str,
    ) -> Result<(), Error> {
        use update_center_engine::source::fetch::Origin;
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
}
