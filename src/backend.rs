//! The GUI's side of the helper API: one tokio runtime for every D-Bus call, so that the GUI
//! thread never waits on the bus.

use update_center_client::VersionInfo;
pub use update_center_qml::bus::spawn;
use update_center_qml::bus::{center, connection, describe, with_timeout};

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
    with_timeout(call).await
}

/// Everything the overview shows, read from the helper's properties (and its job's).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Status {
    /// idle, checking, planning, downloading, installing, ready-to-restart, error.
    pub state: String,
    /// The version running.
    pub running: String,
    /// The version that boots by default.
    pub default: String,
    /// The update on offer.
    pub offer: update_center_client::UpdateOffer,
    /// Seconds since the epoch of the last check (0: never).
    pub last_check: i64,
    /// The last job's error.
    pub last_error: String,
    /// The automatic-fallback message.
    pub fallback: String,
    /// The running job's phase, version and progress.
    pub job_phase: String,
    /// The version the job installs.
    pub job_version: String,
    /// Bytes downloaded.
    pub done_bytes: u64,
    /// Bytes to download.
    pub total_bytes: u64,
    /// Bytes per second.
    pub rate: u64,
    /// Seconds left, -1 while unknown.
    pub eta: i64,
}

/// Reads the status (and the running job's progress).
pub async fn status() -> Result<Status, String> {
    let call = async {
        let p = center().await?;
        let zb = |e: zbus::Error| describe(e.into());
        let mut status = Status {
            state: p.state().await.map_err(zb)?,
            running: p.running_version().await.map_err(zb)?,
            default: p.default_version().await.map_err(zb)?,
            offer: p.available_update().await.map_err(zb)?,
            last_check: p.last_check_time().await.map_err(zb)?,
            last_error: p.last_error().await.map_err(zb)?,
            fallback: p.fallback().await.map_err(zb)?,
            eta: -1,
            ..Status::default()
        };
        // The job seen last: when it has ended, its final progress is read once more, so that
        // a person (and a test) sees it reach its end even when the last update came late.
        static LAST_JOB: std::sync::Mutex<Option<zbus::zvariant::OwnedObjectPath>> =
            std::sync::Mutex::new(None);
        let current = p.current_job().await.map_err(zb)?;
        let ended = {
            let mut last = LAST_JOB
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if current.as_str() == "/" {
                last.take()
            } else {
                *last = Some(current.clone());
                None
            }
        };
        if let Some(ended) = ended
            && let Ok(builder) =
                update_center_client::JobProxy::builder(p.inner().connection()).path(ended)
            && let Ok(j) = builder
                .cache_properties(zbus::proxy::CacheProperties::No)
                .build()
                .await
            && let Ok((true, _, _)) = j.result().await
        {
            status.done_bytes = j.done_bytes().await.unwrap_or(0);
            status.total_bytes = j.total_bytes().await.unwrap_or(0);
        }
        let job = current;
        if job.as_str() != "/" {
            let j = update_center_client::JobProxy::builder(p.inner().connection())
                .path(job)
                .map_err(zb)?
                .cache_properties(zbus::proxy::CacheProperties::No)
                .build()
                .await
                .map_err(zb)?;
            // The job may end between the two reads: then there is no progress to show.
            if let Ok(phase) = j.phase().await {
                status.job_phase = phase;
                status.job_version = j.version().await.unwrap_or_default();
                status.done_bytes = j.done_bytes().await.unwrap_or(0);
                status.total_bytes = j.total_bytes().await.unwrap_or(0);
                status.rate = j.rate_bytes_per_sec().await.unwrap_or(0);
                status.eta = j.eta_secs().await.unwrap_or(-1);
            }
        }
        Ok(status)
    };
    with_timeout(call).await
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

/// Asks Plasma's logout prompt to offer a restart (the person confirms there, and can save
/// their work first).
async fn restart_prompt() -> Result<(), String> {
    let unavailable = |e: zbus::Error| {
        format!(
            "Cannot open the restart prompt ({e}); restart the computer from the application launcher."
        )
    };
    let session = zbus::Connection::session().await.map_err(unavailable)?;
    session
        .call_method(
            Some("org.kde.LogoutPrompt"),
            "/LogoutPrompt",
            Some("org.kde.LogoutPrompt"),
            "promptReboot",
            &(),
        )
        .await
        .map(drop)
        .map_err(unavailable)
}

/// Sends a request; `Err` is a sentence for the person (not authorised, busy, refused, ...).
pub async fn request(request: Request) -> Result<(), String> {
    if matches!(request, Request::Restart) {
        return with_timeout(restart_prompt()).await;
    }
    let call = async {
        let p = center().await?;
        let result = match request {
            Request::Restart => return Ok(()),
            Request::Check => p.check().await.map(drop),
            Request::Install(version) => p.install(&version).await.map(drop),
            Request::Cancel => {
                let job = p.current_job().await.map_err(|e| describe(e.into()))?;
                if job.as_str() == "/" {
                    return Ok(());
                }
                p.cancel(&job.as_ref()).await
            }
            Request::Rollback(version, once) => p.rollback(&version, once).await,
            Request::Pin(version, true) => p.pin(&version).await,
            Request::Pin(version, false) => p.unpin(&version).await,
            Request::Remove(version) => p.remove_version(&version).await,
            Request::AcknowledgeFallback => p.acknowledge_fallback().await,
        };
        result.map_err(describe)
    };
    with_timeout(call).await
}

/// Calls `changed` whenever the helper signals anything (a property, a job's progress, the
/// versions) or comes and goes on the bus; never polls. Returns when the bus connection ends.
pub async fn watch(mut changed: impl FnMut() + Send + 'static) -> Result<(), String> {
    use futures_util::StreamExt;
    let connection = connection().await?;
    let rule = zbus::MatchRule::builder()
        .msg_type(zbus::message::Type::Signal)
        .sender(update_center_client::BUS_NAME)
        .map_err(|e| describe(e.into()))?
        .build();
    let mut signals = zbus::MessageStream::for_match_rule(rule, &connection, None)
        .await
        .map_err(|e| describe(e.into()))?;
    let owner_rule = zbus::MatchRule::builder()
        .msg_type(zbus::message::Type::Signal)
        .sender("org.freedesktop.DBus")
        .map_err(|e| describe(e.into()))?
        .member("NameOwnerChanged")
        .map_err(|e| describe(e.into()))?
        .arg(0, update_center_client::BUS_NAME)
        .map_err(|e| describe(e.into()))?
        .build();
    let mut owners = zbus::MessageStream::for_match_rule(owner_rule, &connection, None)
        .await
        .map_err(|e| describe(e.into()))?;
    loop {
        tokio::select! {
            message = signals.next() => if message.is_none() { return Ok(()) },
            message = owners.next() => if message.is_none() { return Ok(()) },
        }
        changed();
    }
}

/// The newest history records as the helper's JSON array (docs/json.md).
pub async fn history() -> Result<String, String> {
    with_timeout(async {
        let p = center().await?;
        p.history(0, 0, 200).await.map_err(describe)
    })
    .await
}

/// What changes from the running version to the update on offer, as the helper's JSON.
pub async fn changelog() -> Result<String, String> {
    with_timeout(async {
        let p = center().await?;
        p.changelog("", "").await.map_err(describe)
    })
    .await
}

