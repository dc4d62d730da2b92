//! What a client reads with the `read` action: changelogs and the history.

use super::*;

impl UpdateCenter {
    pub(super) async fn do_changelog(
        &self,
        header: zbus::message::Header<'_>,
        connection: &zbus::Connection,
        from: &str,
        to: &str,
    ) -> Result<String, Error> {
        for v in [from, to].into_iter().filter(|v| !v.is_empty()) {
            valid_version(v)?;
        }
        self.authorize(connection, &header, action::READ).await?;
        // At most METADATA_SLOTS changelogs are gathered at once, and at most METADATA_QUEUE
        // callers wait: a flood of calls costs a bounded number of requests and threads.
        let waiting = self.shared.metadata_waiting.fetch_add(1, Ordering::SeqCst);
        let permit = if waiting < METADATA_QUEUE {
            self.shared.metadata_slots.acquire().await.ok()
        } else {
            None
        };
        self.shared.metadata_waiting.fetch_sub(1, Ordering::SeqCst);
        let Some(_permit) = permit else {
            return Err(Error::Busy(
                "too many changelog requests at once; try again in a moment".into(),
            ));
        };
        let shared = self.shared.clone();
        let (from, to) = (from.to_string(), to.to_string());
        blocking(move || {
            let offered = || {
                let offered = lock(&shared.available).version.clone();
                (!offered.is_empty()).then_some(offered)
            };
            let known = |v: &str| (!v.is_empty()).then(|| v.to_string());
            let log = ops::changelog(
                &shared.options.layout,
                &shared.fetcher(),
                known(&from).as_deref(),
                known(&to).as_deref(),
                offered,
            )
            .map_err(op_error)?;
            serde_json::to_string(&log).map_err(|e| Error::Failed(e.to_string()))
        })
        .await
    }

    pub(super) async fn do_history(
        &self,
        header: zbus::message::Header<'_>,
        connection: &zbus::Connection,
        since: i64,
        until: i64,
        limit: u32,
    ) -> Result<String, Error> {
        self.authorize(connection, &header, action::READ).await?;
        let time = |t: i64| -> Result<Option<chrono::DateTime<chrono::Utc>>, Error> {
            if t == 0 {
                return Ok(None);
            }
            chrono::DateTime::from_timestamp(t, 0)
                .map(Some)
                .ok_or_else(|| Error::InvalidArgument(format!("{t} is not a time")))
        };
        let query = update_center_engine::record::history::Query {
            since: time(since)?,
            until: time(until)?,
            kinds: Vec::new(),
            limit: (limit > 0).then_some(limit as usize),
        };
        let layout = self.shared.options.layout.clone();
        blocking(move || {
            serde_json::to_string(&ops::history(&layout, &query))
                .map_err(|e| Error::Failed(e.to_string()))
        })
        .await
    }
}
