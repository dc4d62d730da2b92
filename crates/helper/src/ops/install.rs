//! Staging a version: recover what an interrupted run left, read the sources, plan, run the
//! transaction, hand the boot choice back to systemd-boot, and keep the new version's package
//! manifest.

use crate::layout::Layout;
use crate::lifecycle;
use crate::ops::{error::OpError, facts};
use crate::settings;
use crate::source::catalog;
use crate::source::changelog;
use crate::source::fetch::Fetcher;
use crate::update::delta;
use crate::update::plan::{self, Plan};
use crate::update::transaction::{self, Progress, Recovery};
use crate::{SystemState, read_system};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

/// What staging reports as it goes.
pub enum Event<'a> {
    /// An interrupted run was finished or undone first.
    Recovered(&'a Recovery),
    /// The plan, before anything is written.
    Planned(&'a Plan),
    /// Transaction progress.
    Progress(Progress),
}

/// Every directory an update may write to, inside the root.
pub fn target_dirs(state: &SystemState, layout: &Layout) -> Vec<PathBuf> {
    state
        .definitions
        .active()
        .filter_map(|t| layout.target_dir(t))
        .collect()
}

/// Finishes or undoes an interrupted transaction.
pub fn recover(layout: &Layout) -> Result<Recovery, OpError> {
    let state = read_system(layout)?;
    Ok(transaction::recover(layout, &target_dirs(&state, layout))?)
}

/// Recovers, reads the sources and plans the candidate (or `version`), deltas estimated.
fn plan_for(
    layout: &Layout,
    fetcher: &Fetcher,
    version: Option<&str>,
    on: &mut dyn FnMut(Event<'_>),
) -> Result<(Plan, settings::DeltaStore, SystemState), OpError> {
    let recovery = recover(layout)?;
    if recovery != Recovery::Clean {
        on(Event::Recovered(&recovery));
    }
    let state = read_system(layout)?;
    let catalog = catalog::check(&state.definitions, &state.inventory, &layout.root, fetcher)?;
    let wanted = version
        .map(str::to_string)
        .or_else(|| catalog.candidate.clone());
    let offers: Vec<catalog::Offer> = catalog
        .versions
        .iter()
        .filter(|v| Some(&v.version) == wanted.as_ref())
        .flat_map(|v| v.files.clone())
        .collect();
    let sizes = facts::sizes(fetcher, &offers)?;
    let plan = facts::with_facts(layout, &sizes, |facts| {
        plan::make(&state, &catalog, layout, version, facts)
    })?;
    let store = settings::load(&layout.root)
        .map(|s| s.delta_store)
        .unwrap_or_default();
    let deltas = delta::estimate(&plan, layout, fetcher, &store);
    Ok((plan.with_deltas(deltas), store, state))
}

/// Stages the candidate (or `version`).
pub fn install(
    layout: &Layout,
    fetcher: &Fetcher,
    version: Option<&str>,
    cancel: &AtomicBool,
    on: &mut dyn FnMut(Event<'_>),
) -> Result<Plan, OpError> {
    let (plan, store, state) = plan_for(layout, fetcher, version, on)?;
    on(Event::Planned(&plan));
    transaction::execute(&plan, layout, fetcher, &store, cancel, &mut |p| {
        on(Event::Progress(p))
    })?;
    // The new version boots on trial next time: any default a rollback set is handed back to
    // systemd-boot, so that a failure falls back by itself.
    lifecycle::after_install(layout, &plan.version)?;
    changelog::prefetch_manifest(&state.definitions, &layout.root, fetcher, &plan.version);
    Ok(plan)
}

/// Downloads the candidate's files ahead into the download cache, verified, without staging
/// (`[Policy] AutomaticInstall=no`); the plan, and whether anything was downloaded (nothing
/// when the files fit only after old versions are removed).
pub fn download_ahead(
    layout: &Layout,
    fetcher: &Fetcher,
    cancel: &AtomicBool,
    on: &mut dyn FnMut(Event<'_>),
) -> Result<(Plan, bool), OpError> {
    let (plan, store, _) = plan_for(layout, fetcher, None, on)?;
    on(Event::Planned(&plan));
    let downloaded =
        transaction::download_ahead(&plan, layout, fetcher, &store, cancel, &mut |p| {
            on(Event::Progress(p))
        })?;
    Ok((plan, downloaded))
}
