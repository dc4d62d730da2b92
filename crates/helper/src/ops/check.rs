//! Checking the sources: what they offer, the candidate's download size and a one-line summary,
//! recorded in the history.

use crate::layout::Layout;
use crate::ops::{error::OpError, facts};
use crate::record::history;
use crate::settings;
use crate::source::catalog::{self, Catalog};
use crate::source::changelog;
use crate::source::fetch::Fetcher;
use crate::update::{delta, plan};
use crate::{SystemState, read_system};
use std::sync::atomic::{AtomicBool, Ordering};

/// The update on offer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Offer {
    /// Its version.
    pub version: String,
    /// Bytes to download: less than the files' size when deltas take the rest from the
    /// installed images (0 when the sources did not say).
    pub download_bytes: u64,
    /// Bytes of the new version's files at the sources.
    pub image_bytes: u64,
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
        let sizes = facts::sizes(fetcher, &offers).unwrap_or_default();
        let image_bytes: u64 = sizes.iter().map(|(_, s)| s.download).sum();
        // What a delta would fetch needs the plan (names and places of the new files); a plan
        // that cannot be made here (no room yet) leaves the whole size.
        let store = settings::load(&layout.root)
            .map(|s| s.delta_store)
            .unwrap_or_default();
        let download_bytes = facts::with_facts(layout, &sizes, |facts| {
            plan::make(&state, &catalog, layout, Some(version), facts)
        })
        .map(|plan| {
            let deltas = delta::estimate(&plan, layout, fetcher, &store);
            plan.with_deltas(deltas).fetch_bytes
        })
        .unwrap_or(image_bytes);
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
            image_bytes,
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
