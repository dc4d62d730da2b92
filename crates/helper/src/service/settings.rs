//! The settings and the mirror credentials.

use super::*;

impl UpdateCenter {
    pub(super) async fn do_get_settings(
        &self,
    ) -> Result<std::collections::HashMap<String, String>, Error> {
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

    pub(super) async fn do_set_setting(
        &self,
        header: zbus::message::Header<'_>,
        connection: &zbus::Connection,
        emitter: SignalEmitter<'_>,
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
