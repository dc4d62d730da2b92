//! The helper's status as one value, read after each of its signals: what the window, the tray
//! and the CLI show. Nothing here polls; [`signals`] says when to read again.

use futures_util::Stream;

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
    pub offer: crate::UpdateOffer,
    /// Seconds since the epoch of the last check (0: never).
    pub last_check: i64,
    /// The last job's error (English).
    pub last_error: String,
    /// The last job's error as fields, for a sentence in the person's language.
    pub last_error_details: crate::ErrorDetails,
    /// The automatic-fallback message (English).
    pub fallback: String,
    /// The automatic fallback as fields, for a sentence in the person's language.
    pub fallback_details: crate::FallbackDetails,
    /// The running job's phase, version and progress.
    pub job_phase: String,
    /// The version the job installs.
    pub job_version: String,
    /// Bytes downloaded.
    pub done_bytes: u64,
    /// Bytes to download.
    pub total_bytes: u64,
    /// Bytes per second.
    pub rate_bytes_per_sec: u64,
    /// Seconds left, -1 while unknown.
    pub eta_secs: i64,
    /// How the running job's image comes: `delta`, `full`, or empty while unknown (and for a
    /// version without a chunk index).
    pub method: String,
    /// Why the running job downloads the whole image instead of a delta (English; empty
    /// otherwise).
    pub method_fallback: String,
    /// The same as a kind of [`crate::FALLBACK_KINDS`] and its fields (an empty kind while
    /// none, and from an older helper).
    pub method_fallback_details: crate::ErrorDetails,
    /// What the machine waits for before it goes on by itself (`Waiting`: kind, fields; see
    /// [`crate::waiting`]). The helper computes it when read and sends no signal for it: it is
    /// read with everything else.
    pub waiting: Vec<crate::WaitReason>,
}

/// Reads the status (and the running job's progress) from the helper.
pub async fn read(p: &crate::UpdateCenterProxy<'_>) -> zbus::Result<Status> {
    let mut status = Status {
        state: p.state().await?,
        running: p.running_version().await?,
        default: p.default_version().await?,
        offer: p.available_update().await?,
        last_check: p.last_check_time().await?,
        last_error: p.last_error().await?,
        // An older helper has no details: then its English message is all there is.
        last_error_details: p.last_error_details().await.unwrap_or_default(),
        fallback: p.fallback().await?,
        fallback_details: p.fallback_details().await?,
        // An older helper has no `Waiting`: then nothing is said to wait.
        waiting: p.waiting().await.unwrap_or_default(),
        eta_secs: -1,
        ..Status::default()
    };
    // The job seen last: when it has ended, its final progress is read once more, so that
    // a person (and a test) sees it reach its end even when the last update came late.
    static LAST_JOB: std::sync::Mutex<Option<zbus::zvariant::OwnedObjectPath>> =
        std::sync::Mutex::new(None);
    let current = p.current_job().await?;
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
        && let Ok(builder) = crate::JobProxy::builder(p.inner().connection()).path(ended)
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
        let j = crate::JobProxy::builder(p.inner().connection())
            .path(job)?
            .cache_properties(zbus::proxy::CacheProperties::No)
            .build()
            .await?;
        // The job may end between the two reads: then there is no progress to show.
        if let Ok(phase) = j.phase().await {
            status.job_phase = phase;
            status.job_version = j.version().await.unwrap_or_default();
            status.done_bytes = j.done_bytes().await.unwrap_or(0);
            status.total_bytes = j.total_bytes().await.unwrap_or(0);
            status.rate_bytes_per_sec = j.rate_bytes_per_sec().await.unwrap_or(0);
            status.eta_secs = j.eta_secs().await.unwrap_or(-1);
            // An older helper has neither property: then nothing is said about the method.
            status.method = j.method().await.unwrap_or_default();
            status.method_fallback = j.fallback().await.unwrap_or_default();
            status.method_fallback_details = j.fallback_details().await.unwrap_or_default();
        }
    }
    Ok(status)
}

/// Every signal the helper sends (property changes, `VersionsChanged`, `SettingsChanged`, job
/// signals) and its name changing owner: each means "read the status again". Each item says
/// whether the helper is running now (false when it just exited: reading then would start it
/// again). Subscribing does not start the helper, so a watcher never keeps it running.
pub async fn signals(
    connection: &zbus::Connection,
) -> zbus::Result<impl Stream<Item = bool> + use<>> {
    use futures_util::StreamExt;
    let rule = zbus::MatchRule::builder()
        .msg_type(zbus::message::Type::Signal)
        .sender(crate::BUS_NAME)?
        .build();
    let signals = zbus::MessageStream::for_match_rule(rule, connection, None).await?;
    let owner_rule = zbus::MatchRule::builder()
        .msg_type(zbus::message::Type::Signal)
        .sender("org.freedesktop.DBus")?
        .member("NameOwnerChanged")?
        .arg(0, crate::BUS_NAME)?
        .build();
    let owners = zbus::MessageStream::for_match_rule(owner_rule, connection, None).await?;
    let owners = owners.map(|message| {
        message
            .ok()
            .and_then(|m| m.body().deserialize::<(String, String, String)>().ok())
            .is_some_and(|(_, _, new_owner)| !new_owner.is_empty())
    });
    Ok(futures_util::stream::select(signals.map(|_| true), owners))
}
