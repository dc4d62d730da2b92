//! The installed versions: rollback, pins, removal, vacuum, the failed-boot notice.

use crate::installed::inventory::InstalledVersion;
use crate::layout::Layout;
use crate::lifecycle::{self, Rollback, VersionState};
use crate::ops::{error::OpError, facts};
use crate::update::{plan, transaction};
use crate::{SystemState, read_system};

/// Makes `version` the default boot entry (or the next boot's only, with `once`).
pub fn rollback(layout: &Layout, version: &str, once: bool) -> Result<Rollback, OpError> {
    let state = read_system(layout)?;
    Ok(lifecycle::rollback(layout, &state, version, once)?)
}

/// Pins (`pinned`) or unpins a version; false when it was so already.
pub fn pin(layout: &Layout, version: &str, pinned: bool) -> Result<bool, OpError> {
    let state = read_system(layout)?;
    Ok(lifecycle::set_pinned(layout, &state, version, pinned)?)
}

/// Why a version may not be removed, as a sentence; None when it may.
pub fn removal_refusal(state: &SystemState, version: &InstalledVersion) -> Option<String> {
    use VersionState as S;
    let keep: Vec<S> = lifecycle::states(state, version)
        .into_iter()
        .filter(|s| {
            matches!(
                s,
                S::Running | S::Default | S::NextBootOnce | S::Pinned | S::Protected
            )
        })
        .collect();
    if keep.is_empty() {
        return None;
    }
    let why: Vec<String> = keep.iter().map(|s| s.describe()).collect();
    let hint = if keep.contains(&S::Pinned) {
        " (unpin it first)"
    } else {
        ""
    };
    Some(format!(
        "version {} is {}: it cannot be removed{hint}",
        version.version,
        why.join(" and ")
    ))
}

/// Removes one installed version, unless it runs, boots next, is pinned or protected.
pub fn remove(layout: &Layout, version: &str) -> Result<(), OpError> {
    let state = read_system(layout)?;
    let installed = state
        .inventory
        .versions
        .iter()
        .find(|v| v.version == version)
        .ok_or_else(|| OpError::Refused(format!("version {version} is not installed")))?;
    if let Some(why) = removal_refusal(&state, installed) {
        return Err(OpError::Refused(why));
    }
    let active: Vec<_> = state.definitions.active().collect();
    let removal = facts::with_facts(layout, &[], |facts| {
        plan::removal_of(installed, &active, facts)
    });
    transaction::remove_versions(&[removal], layout).map_err(OpError::Removal)
}

/// Removes the oldest versions beyond InstancesMax; returns the versions removed.
pub fn vacuum(layout: &Layout) -> Result<Vec<String>, OpError> {
    let state = read_system(layout)?;
    let removals = facts::with_facts(layout, &[], |facts| plan::vacuum(&state, facts));
    transaction::remove_versions(&removals, layout).map_err(OpError::Removal)?;
    Ok(removals.into_iter().map(|r| r.version).collect())
}

/// Acknowledges a failed boot; false when there was none.
pub fn acknowledge_fallback(layout: &Layout) -> Result<bool, OpError> {
    Ok(lifecycle::acknowledge_fallback(layout)?)
}
