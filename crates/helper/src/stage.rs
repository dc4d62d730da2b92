//! Staging a version, shared by the offline `update` command and the D-Bus `Install` job:
//! recover what an interrupted run left, read the sources, plan, run the transaction, hand the
//! boot choice back to systemd-boot, and keep the new version's package manifest.

use crate::bin_facts;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use update_center_engine::inventory::Layout;
use update_center_engine::plan::Plan;
use update_center_engine::transaction::{self, Progress, Recovery};
use update_center_engine::{EngineError, SystemState, catalog, changelog, lifecycle, plan};

/// What staging reports as it goes.
pub enum Event<'a> {
    /// An interrupted run was finished or undone first.
    Recovered(&'a Recovery),
    /// The plan, before anything is written.
    Planned(&'a Plan),
    /// Transaction progress.
    Progress(Progress),
}

/// Why staging failed; the typed causes are kept for named bus errors.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    /// Reading the system.
    #[error("{0}")]
    Engine(#[from] EngineError),
    /// Reading the sources.
    #[error("{0}")]
    Catalog(#[from] catalog::CatalogError),
    /// Learning sizes.
    #[error("{0}")]
    Fetch(#[from] update_center_engine::fetch::FetchError),
    /// Planning.
    #[error("{0}")]
    Plan(#[from] plan::PlanError),
    /// The transaction.
    #[error("{0}")]
    Transaction(#[from] transaction::TransactionError),
    /// The state file.
    #[error("{0}")]
    Lifecycle(#[from] lifecycle::LifecycleError),
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
pub fn recover(layout: &Layout) -> Result<Recovery, StageError> {
    let state = update_center_engine::read_system(layout)?;
    Ok(transaction::recover(layout, &target_dirs(&state, layout))?)
}

/// Stages the candidate (or `version`).
pub fn run(
    layout: &Layout,
    fetcher: &update_center_engine::fetch::Fetcher,
    version: Option<&str>,
    cancel: &AtomicBool,
    on: &mut dyn FnMut(Event<'_>),
) -> Result<Plan, StageError> {
    let recovery = recover(layout)?;
    if recovery != Recovery::Clean {
        on(Event::Recovered(&recovery));
    }
    let state = update_center_engine::read_system(layout)?;
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
    let sizes = bin_facts::sizes(fetcher, &offers)?;
    let plan = bin_facts::with_facts(layout, &sizes, |facts| {
        plan::make(&state, &catalog, layout, version, facts)
    })?;
    on(Event::Planned(&plan));
    transaction::execute(&plan, layout, fetcher, cancel, &mut |p| {
        on(Event::Progress(p))
    })?;
    // The new version boots on trial next time: any default a rollback set is handed back to
    // systemd-boot, so that a failure falls back by itself.
    lifecycle::after_install(layout, &plan.version)?;
    changelog::prefetch_manifest(&state.definitions, &layout.root, fetcher, &plan.version);
    Ok(plan)
}
