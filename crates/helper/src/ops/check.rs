//! Checking the sources: what they offer, the candidate's download size and a one-line summary,
//! recorded in the history.

use crate::layout::Layout;
use crate::ops::{error::OpError, facts};
use crate::record::history;
use crate::source::catalog::{self, Catalog};
use crate::source::changelog;
use crate::source::fetch::Fetcher;
use crate::{SystemState, read_system};
use std::sync::atomic::{AtomicBool, Ordering};

/// The update on offer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Offer {
    /// Its version.
    pub version: String,
    /// Bytes to download (0 when the sources did not say).
    pub download_bytes: u64,
    /// The first line of its release notes (empty when there are none).
    pub summary: String,
}

/// The outcome of a check.
#[derive(Debug)]
pub struct Check {
    /// The system as it was read.
    pub state: SystemState,
    /// What the sources offer, verified.
    pub catalog: Catalog,
    /// The candidate, if a newer version is offered.
    pub offer: Option<Offer>,
}

/// Reads the sources and works out the offer. A cancelled check changes nothing: it is not
/// recorded.
pub fn check(layout: &Layout, fetcher: &Fetcher, cancel: &AtomicBool) -> Result<Check, OpError> {
    let state = read_system(layout)?;
    let catalog = catalog::check(&state.definitions, &state.inventory, &layout.root, fetcher)?;
    let offer = catalog.candidate.as_ref().map(|version| {
        let offers: Vec<_> = catalog
            .versions
            .iter()
            .filter(|v| &v.version == version)
            .flat_map(|v| v.files.clone())
            .collect();
        let download_bytes = facts::sizes(fetcher, &offers)
            .map(|s| s.iter().map(|(_, s)| s.download).sum())
            .unwrap_or(0);
        let summary = state
            .inventory
            .booted
            .as_deref()
            .map(|running| {
                changelog::between(&state.definitions, &layout.root, fetcher, running, version)
            })
            .and_then(|log| log.releases.first().cloned())
            .and_then(|r| r.description.first().cloned())
            .unwrap_or_default();
        Offer {
            version: version.clone(),
            download_bytes,
            summary,
        }
    });
    if cancel.load(Ordering::SeqCst) {
        return Err(OpError::Cancelled("the check was cancelled".into()));
    }
    history::append(
        &layout.state_dir(),
        &history::Event::Checked {
            candidate: offer
                .as_ref()
                .map(|o| o.version.clone())
                .unwrap_or_default(),
        },
    );
    Ok(Check {
        state,
        catalog,
        offer,
    })
}
