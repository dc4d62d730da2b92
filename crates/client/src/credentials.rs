//! Credentials for a private mirror, kept in the person's keyring (the Secret Service on a
//! Plasma desktop, through keyring-core) and nowhere else: never in a file, never in a log.
//!
//! One entry per mirror: service [`SERVICE`], user the mirror's URL, secret `user:password`
//! (the user name cannot contain a colon, as in HTTP Basic authentication).

use std::sync::Arc;

/// The keyring service name of every entry this product stores.
pub const SERVICE: &str = "org.kde.updatecenter.mirror";

/// A user name and password for one mirror. `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name.
    pub user: String,
    /// The password.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"(hidden)")
            .finish()
    }
}

/// Why credentials cannot be stored or read; the message never contains the secret.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// The user name is empty or contains a colon or a line break.
    #[error("a user name must not be empty or contain a colon or a line break")]
    BadUser,
    /// The mirror is not an http(s) URL.
    #[error("credentials are only for an http:// or https:// mirror")]
    NotAMirror,
    /// No keyring answers (no Secret Service on the session bus, or it is locked).
    #[error("the keyring is not available: {0}")]
    Unavailable(String),
}

fn keyring_error(e: keyring_core::Error) -> CredentialsError {
    // keyring-core's errors describe the store, never the secret.
    CredentialsError::Unavailable(e.to_string())
}

/// The keyring to use: the Secret Service on the session bus unless a default store was set
/// (tests set keyring-core's mock store).
fn store() -> Result<Arc<keyring_core::CredentialStore>, CredentialsError> {
    if let Some(store) = keyring_core::get_default_store() {
        return Ok(store);
    }
    let store = zbus_secret_service_keyring_store::Store::new().map_err(keyring_error)?;
    keyring_core::set_default_store(store.clone());
    Ok(store)
}

fn entry(mirror: &str) -> Result<keyring_core::Entry, CredentialsError> {
    if !(mirror.starts_with("https://") || mirror.starts_with("http://")) {
        return Err(CredentialsError::NotAMirror);
    }
    keyring_core::Entry::new_in_store(&store()?, SERVICE, mirror).map_err(keyring_error)
}

/// Stores (or replaces) the credentials for `mirror`. Blocks on the bus: call it off the GUI
/// thread (`tokio::task::spawn_blocking`).
pub fn store_for(mirror: &str, credentials: &Credentials) -> Result<(), CredentialsError> {
    if credentials.user.is_empty() || credentials.user.contains([':', '\n', '\r']) {
        return Err(CredentialsError::BadUser);
    }
    let secret = format!("{}:{}", credentials.user, credentials.password);
    entry(mirror)?.set_password(&secret).map_err(keyring_error)
}

/// The credentials stored for `mirror`, if any.
pub fn load_for(mirror: &str) -> Result<Option<Credentials>, CredentialsError> {
    match entry(mirror)?.get_password() {
        Ok(secret) => Ok(secret.split_once(':').map(|(user, password)| Credentials {
            user: user.to_string(),
            password: password.to_string(),
        })),
        Err(keyring_core::Error::NoEntry) => Ok(None),
        Err(e) => Err(keyring_error(e)),
    }
}

/// Forgets the credentials for `mirror` (nothing stored is fine).
pub fn forget_for(mirror: &str) -> Result<(), CredentialsError> {
    match entry(mirror)?.delete_credential() {
        Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
        Err(e) => Err(keyring_error(e)),
    }
}

/// The credentials stored for the mirror in `Updates.Source` of `settings` (the helper's
/// `GetSettings`), when it is a mirror and some are stored. Blocks on the bus.
pub fn for_settings(settings: &std::collections::HashMap<String, String>) -> Option<Credentials> {
    let source = settings.get("Updates.Source")?;
    if !source.starts_with("http") {
        return None;
    }
    load_for(source).ok().flatten()
}

/// Hands the credentials for the mirror in `Updates.Source` from the person's keyring to the
/// helper (which keeps them in memory only), before a check or an install. Nothing stored, or
/// no keyring: nothing to do; a mirror that wants them then answers 401 and the helper says so.
pub async fn hand_over(center: &crate::UpdateCenterProxy<'_>) {
    let Ok(settings) = center.get_settings().await else {
        return;
    };
    let source = settings.get("Updates.Source").cloned().unwrap_or_default();
    // The keyring store blocks on the bus: off the runtime's threads.
    let found = tokio::task::spawn_blocking(move || for_settings(&settings))
        .await
        .ok()
        .flatten();
    if let Some(c) = found {
        let _ = center
            .use_source_credentials(&source, &c.user, &c.password)
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_round_trip_through_the_keyring_and_never_show_the_password() {
        keyring_core::set_default_store(keyring_core::mock::Store::new().expect("mock store"));
        let mirror = "https://mirror.example/kde-linux/";
        assert_eq!(load_for(mirror).expect("load"), None);
        let c = Credentials {
            user: "ops".into(),
            password: "s3cret:with:colons".into(),
        };
        store_for(mirror, &c).expect("store");
        assert_eq!(load_for(mirror).expect("load"), Some(c.clone()));
        assert!(!format!("{c:?}").contains("s3cret"), "{c:?}");
        assert_eq!(
            load_for("https://other.example/").expect("load"),
            None,
            "per mirror"
        );
        let bad = Credentials {
            user: "a:b".into(),
            password: "x".into(),
        };
        assert!(matches!(
            store_for(mirror, &bad),
            Err(CredentialsError::BadUser)
        ));
        assert!(matches!(
            store_for("/media/usb", &c),
            Err(CredentialsError::NotAMirror)
        ));
        forget_for(mirror).expect("forget");
        assert_eq!(load_for(mirror).expect("load"), None);
        forget_for(mirror).expect("forgetting twice is fine");
    }
}
