//! What a person reads: the changelog between two versions, and the history.

use crate::layout::Layout;
use crate::ops::error::OpError;
use crate::read_system;
use crate::record::history::{self, Query, Record};
use crate::source::changelog::{self, Changelog};
use crate::source::fetch::Fetcher;

/// The changes from `from` (default: the running version) to `to` (default: the version on
/// offer, which `offered` finds when asked, else the newest installed one).
pub fn changelog(
    layout: &Layout,
    fetcher: &Fetcher,
    from: Option<&str>,
    to: Option<&str>,
    offered: impl FnOnce() -> Option<String>,
) -> Result<Changelog, OpError> {
    let state = read_system(layout)?;
    let from = match from {
        Some(from) => from.to_string(),
        None => state.inventory.booted.clone().ok_or_else(|| {
            OpError::InvalidArgument(
                "the running version is unknown (no IMAGE_VERSION): name FROM".into(),
            )
        })?,
    };
    let to = match to {
        Some(to) => to.to_string(),
        None => offered()
            .or_else(|| state.inventory.versions.first().map(|v| v.version.clone()))
            .ok_or_else(|| OpError::InvalidArgument("no newer version is known: name TO".into()))?,
    };
    Ok(changelog::between(
        &state.definitions,
        &layout.root,
        fetcher,
        &from,
        &to,
    ))
}

/// The history records that match, newest first.
pub fn history(layout: &Layout, query: &Query) -> Vec<Record> {
    history::query(&layout.state_dir(), query)
}

/// The metrics of the system as the history and the installed versions say them (what the
/// last check offered and what the machine waits for are known to the running service only).
pub fn metrics(layout: &Layout) -> Result<crate::record::metrics::Metrics, OpError> {
    let state = read_system(layout)?;
    let mut metrics =
        crate::record::metrics::Metrics::from_history(&history::read(&layout.state_dir()));
    metrics.running = state.inventory.booted.clone().unwrap_or_default();
    metrics.default = state.boot.default_version().unwrap_or_default().to_string();
    metrics.reboot_required = !metrics.default.is_empty() && metrics.default != metrics.running;
    Ok(metrics)
}
