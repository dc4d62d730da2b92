//! The one tokio runtime and system-bus connection of a process that shows Update Center (the
//! GUI or System Settings), so that no D-Bus call ever runs on the GUI thread.

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

/// How long a call may take before the person is told the helper does not answer.
pub const CALL_TIMEOUT_SECS: u64 = 20;

/// The runtime every D-Bus call runs on.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("update-center-dbus")
            .enable_all()
            .build()
            // Without a runtime nothing can talk to the helper: failing loudly at start is right.
            .unwrap_or_else(|e| panic!("cannot start the D-Bus runtime: {e}"))
    })
}

/// Runs a future on the D-Bus runtime.
pub fn spawn(future: impl Future<Output = ()> + Send + 'static) {
    runtime().spawn(future);
}

/// A call to the helper that failed: a sentence in English (for the log, and for a kind this
/// client has no message for) and, where the error names one, its kind
/// (`update_center_client::ERROR_KINDS`: no system bus, no helper, no answer, not authorised,
/// busy, ...), which a window says in the person's language as `error-KIND`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Failure {
    /// The sentence (English).
    pub message: String,
    /// The kind, or "" when the error names none.
    pub kind: String,
    /// For a refused setting: its key (said by `error-setting-refused`).
    pub setting: Option<String>,
}

impl Failure {
    /// The failure for the person: in their language where this client knows its kind
    /// ("That did not work: " and the kind's sentence), else the English. Fluent's bundles
    /// live on the thread that asks: call it on the GUI thread.
    pub fn said(&self) -> String {
        self.said_in("request-failed")
    }

    /// The same for what a page could not read ("The updates of this system cannot be
    /// shown: " and the kind's sentence).
    pub fn said_reading(&self) -> String {
        self.said_in("connection-failed")
    }

    fn said_in(&self, frame: &str) -> String {
        use update_center_client::l10n::{FluentArgs, has_message, say_setting_refused, translate};
        let id = format!("error-{}", self.kind);
        let details = match &self.setting {
            Some(key) => say_setting_refused(key),
            None if self.kind.is_empty() || !has_message(&id) => return self.message.clone(),
            None => translate(&id, None),
        };
        let mut args = FluentArgs::new();
        args.set("details", details);
        translate(frame, Some(&args))
    }

    /// A call of `SetSetting(key, …)` that failed: a refused value (`InvalidArgument`) is said
    /// by what the setting takes, any other failure as [`describe`] says it.
    pub fn of_setting(key: &str, error: update_center_client::Error) -> Self {
        match error {
            update_center_client::Error::InvalidArgument(message) => Self {
                message,
                kind: "setting-refused".into(),
                setting: Some(key.to_string()),
            },
            other => other.into(),
        }
    }

    /// The helper did not answer within [`CALL_TIMEOUT_SECS`].
    pub fn no_answer() -> Self {
        Self {
            message: format!(
                "The Update Center service did not answer within {CALL_TIMEOUT_SECS} seconds. \
                 It may be busy or stuck; try again, or restart it with \
                 `systemctl restart update-center-helper`."
            ),
            kind: "no-answer".into(),
            setting: None,
        }
    }
}

impl From<update_center_client::Error> for Failure {
    fn from(error: update_center_client::Error) -> Self {
        Self {
            kind: update_center_client::ErrorDetails::of_call_error(&error).kind,
            message: update_center_client::describe_call_error(&error),
            setting: None,
        }
    }
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Self {
            message,
            kind: String::new(),
            setting: None,
        }
    }
}

impl From<Failure> for String {
    fn from(failure: Failure) -> Self {
        failure.message
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// A helper error as a failure to show.
pub fn describe(error: update_center_client::Error) -> Failure {
    error.into()
}

/// The system bus, connected once.
pub async fn connection() -> Result<zbus::Connection, Failure> {
    static CONNECTION: tokio::sync::OnceCell<zbus::Connection> = tokio::sync::OnceCell::const_new();
    CONNECTION
        .get_or_try_init(|| async { zbus::Connection::system().await })
        .await
        .cloned()
        .map_err(|e| {
            let error = update_center_client::Error::ZBus(e);
            Failure {
                message: update_center_client::describe_connect_error(&error),
                kind: "no-bus".into(),
                setting: None,
            }
        })
}

/// The helper's main object (properties always read fresh).
pub async fn center() -> Result<update_center_client::UpdateCenterProxy<'static>, Failure> {
    let connection = connection().await?;
    update_center_client::UpdateCenterProxy::builder(&connection)
        .cache_properties(zbus::proxy::CacheProperties::No)
        .build()
        .await
        .map_err(|e| describe(e.into()))
}

/// Runs `call`, giving up with [`Failure::no_answer`] after [`CALL_TIMEOUT_SECS`].
pub async fn with_timeout<T, E: From<Failure>>(
    call: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    match tokio::time::timeout(Duration::from_secs(CALL_TIMEOUT_SECS), call).await {
        Ok(result) => result,
        Err(_) => Err(Failure::no_answer().into()),
    }
}
