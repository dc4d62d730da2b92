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

/// A helper error as a sentence for the person.
pub fn describe(error: update_center_client::Error) -> String {
    update_center_client::describe_call_error(&error)
}

/// The system bus, connected once.
pub async fn connection() -> Result<zbus::Connection, String> {
    static CONNECTION: tokio::sync::OnceCell<zbus::Connection> = tokio::sync::OnceCell::const_new();
    CONNECTION
        .get_or_try_init(|| async { zbus::Connection::system().await })
        .await
        .cloned()
        .map_err(|e| {
            update_center_client::describe_connect_error(&update_center_client::Error::ZBus(e))
        })
}

/// The helper's main object (properties always read fresh).
pub async fn center() -> Result<update_center_client::UpdateCenterProxy<'static>, String> {
    let connection = connection().await?;
    update_center_client::UpdateCenterProxy::builder(&connection)
        .cache_properties(zbus::proxy::CacheProperties::No)
        .build()
        .await
        .map_err(|e| describe(e.into()))
}

/// Runs `call`, giving up with a sentence after [`CALL_TIMEOUT_SECS`].
pub async fn with_timeout<T>(call: impl Future<Output = Result<T, String>>) -> Result<T, String> {
    match tokio::time::timeout(Duration::from_secs(CALL_TIMEOUT_SECS), call).await {
        Ok(result) => result,
        Err(_) => Err(format!(
            "The Update Center service did not answer within {CALL_TIMEOUT_SECS} seconds. \
             It may be busy or stuck; try again, or restart it with \
             `systemctl restart update-center-helper`."
        )),
    }
}
