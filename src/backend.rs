//! The GUI's side of the helper API: one tokio runtime for every D-Bus call, so that the GUI
//! thread never waits on the bus.

use update_center_client::VersionInfo;
pub use update_center_qml::bus::Failure;
pub use update_center_qml::bus::spawn;
use update_center_qml::bus::{center, connection, describe, with_timeout};

/// What the versions page shows: the installed versions and the definition warnings.
#[derive(Debug, Default)]
pub struct Overview {
    /// Installed versions, newest first.
    pub versions: Vec<VersionInfo>,
    /// Warnings about the update definitions (said in the person's language on the GUI
    /// thread, where the translations live).
    pub warnings: Vec<update_center_client::DefinitionWarning>,
}

/// The installed versions and warnings, or what went wrong.
pub async fn overview() -> Result<Overview, Failure> {
    let call = async {
        let proxy = center().await?;
        let versions = proxy.list_versions().await.map_err(describe)?;
        let warnings = proxy.list_warnings().await.map_err(describe)?;
        Ok::<_, Failure>(Overview { versions, warnings })
    };
    with_timeout(call).await
}

pub use update_center_client::status::Status;

/// Reads the status (and the running job's progress).
pub async fn status() -> Result<Status, Failure> {
    with_timeout(async {
        let p = center().await?;
        update_center_client::status::read(&p)
            .await
            .map_err(|e| describe(e.into()))
    })
    .await
}

/// What a person asked for.
#[derive(Debug, Clone)]
pub enum Request {
    /// Ask the sources.
    Check,
    /// Install the newest (empty) or a named version.
    Install(String),
    /// Cancel the running job.
    Cancel,
    /// Make a version boot by default, or once.
    Rollback(String, bool),
    /// Pin (true) or unpin a version.
    Pin(String, bool),
    /// Remove a version.
    Remove(String),
    /// Dismiss the failed-boot notice.
    AcknowledgeFallback,
    /// Open the session's restart prompt.
    Restart,
}

/// Sends a request; `Err` says why it failed (not authorised, busy, refused, ...).
pub async fn request(request: Request) -> Result<(), Failure> {
    if matches!(request, Request::Restart) {
        return with_timeout(async {
            update_center_client::launch::restart_prompt()
                .await
                .map_err(Failure::from)
        })
        .await;
    }
    let call = async {
        let p = center().await?;
        if matches!(request, Request::Check | Request::Install(_)) {
            update_center_client::credentials::hand_over(&p).await;
        }
        Ok::<_, Failure>(match request {
            Request::Restart => Ok(()),
            Request::Check => p.check().await.map(drop),
            Request::Install(version) => p.install(&version).await.map(drop),
            Request::Cancel => {
                let job = p.current_job().await.map_err(|e| describe(e.into()))?;
                if job.as_str() == "/" {
                    return Ok(Ok(()));
                }
                p.cancel(&job.as_ref()).await
            }
            Request::Rollback(version, once) => p.rollback(&version, once).await,
            Request::Pin(version, true) => p.pin(&version).await,
            Request::Pin(version, false) => p.unpin(&version).await,
            Request::Remove(version) => p.remove_version(&version).await,
            Request::AcknowledgeFallback => p.acknowledge_fallback().await,
        })
    };
    match with_timeout(call).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(describe(error)),
        Err(failure) => Err(failure),
    }
}

/// Calls `changed` whenever the helper signals anything (a property, a job's progress, the
/// versions) or comes and goes on the bus; never polls. Returns when the bus connection ends.
pub async fn watch(mut changed: impl FnMut() + Send + 'static) -> Result<(), Failure> {
    use futures_util::StreamExt;
    let connection = connection().await?;
    let mut signals = update_center_client::status::signals(&connection)
        .await
        .map_err(|e| describe(e.into()))?;
    while signals.next().await.is_some() {
        changed();
    }
    Ok(())
}

/// How many history records the window shows at most.
const HISTORY_RECORDS: u32 = 200;

/// The newest history records, newest first.
pub async fn history() -> Result<Vec<update_center_client::history::Record>, Failure> {
    with_timeout(async {
        let p = center().await?;
        update_center_client::history::read(&p, 0, 0, HISTORY_RECORDS)
            .await
            .map_err(describe)
    })
    .await
}

/// What changes from the running version to the update on offer.
pub async fn changelog() -> Result<update_center_client::changelog::Changelog, Failure> {
    with_timeout(async {
        let p = center().await?;
        update_center_client::changelog::read(&p, "", "")
            .await
            .map_err(describe)
    })
    .await
}
