//! The GUI's side of the helper API: one tokio runtime for every D-Bus call, so that the GUI
//! thread never waits on the bus.

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;
use update_center_client::VersionInfo;

/// How long a call may take before the GUI says the helper does not answer.
const CALL_TIMEOUT_SECS: u64 = 20;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("update-center-dbus")
            .enable_all()
            .build()
            // Without a runtime the GUI cannot talk to anything: failing loudly at start is right.
            .unwrap_or_else(|e| panic!("cannot start the D-Bus runtime: {e}"))
    })
}

/// Runs a future on the D-Bus runtime.
pub fn spawn(future: impl Future<Output = ()> + Send + 'static) {
    runtime().spawn(future);
}

/// What the versions page shows: the installed versions and the definition warnings.
#[derive(Debug, Default)]
pub struct Overview {
    /// Installed versions, newest first.
    pub versions: Vec<VersionInfo>,
    /// Warnings about the update definitions, one sentence each.
    pub warnings: Vec<String>,
}

/// The installed versions and warnings, or a sentence for the person saying what went wrong.
pub async fn overview() -> Result<Overview, String> {
    let call = async {
        let proxy = update_center_client::connect_system()
            .await
            .map_err(|e| update_center_client::describe_connect_error(&e))?;
        let versions = proxy
            .list_versions()
            .await
            .map_err(|e| update_center_client::describe_call_error(&e))?;
        let warnings = proxy
            .list_warnings()
            .await
            .map_err(|e| update_center_client::describe_call_error(&e))?
            .into_iter()
            .map(|w| match w.line {
                0 => format!("{}: {}", w.file, w.message),
                line => format!("{}:{line}: {}", w.file, w.message),
            })
            .collect();
        Ok(Overview { versions, warnings })
    };
    match tokio::time::timeout(Duration::from_secs(CALL_TIMEOUT_SECS), call).await {
        Ok(result) => result,
        Err(_) => Err(format!(
            "The Update Center service did not answer within {CALL_TIMEOUT_SECS} seconds. \
             It may be busy or stuck; try again, or restart it with \
             `systemctl restart update-center-helper`."
        )),
    }
}
