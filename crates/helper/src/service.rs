//! The D-Bus service: `org.kde.UpdateCenter1` at `/org/kde/UpdateCenter1` on the system bus.
//! Thin: every method runs the engine off the bus thread and maps its errors to named ones.

use anyhow::{Context, Result};
use update_center_client::{
    BUS_NAME, DefinitionWarning, Error, InstalledFile, OBJECT_PATH, VersionInfo,
};
use update_center_engine::{EngineError, SystemState, inventory::Layout};

/// Version of the API, raised when methods are added.
const API_VERSION: u32 = 1;

/// The object served on the bus.
struct UpdateCenter {
    layout: Layout,
}

fn to_bus_error(error: EngineError) -> Error {
    let message = error.to_string();
    match error {
        EngineError::NoDefinitions { .. } => Error::NoDefinitions(message),
        EngineError::Io { .. } | EngineError::State(_) => Error::Io(message),
        _ => Error::InvalidDefinition(message),
    }
}

fn versions(state: &SystemState) -> Vec<VersionInfo> {
    state
        .inventory
        .versions
        .iter()
        .map(|v| VersionInfo {
            version: v.version.clone(),
            complete: v.complete,
            booted: v.booted,
            files: v
                .instances
                .iter()
                .map(|i| InstalledFile {
                    transfer: i.transfer.clone(),
                    path: i.path.display().to_string(),
                    size_bytes: i.size_bytes,
                })
                .collect(),
            missing_transfers: v.missing_transfers.clone(),
        })
        .collect()
}

impl UpdateCenter {
    /// Reads the system off the bus thread; logs definition warnings and failures.
    async fn read(&self, method: &str) -> Result<SystemState, Error> {
        let layout = self.layout.clone();
        let state = tokio::task::spawn_blocking(move || update_center_engine::read_system(&layout))
            .await
            .map_err(|e| Error::Io(format!("the inventory task failed: {e}")))?;
        match state {
            Ok(state) => {
                for w in &state.definitions.warnings {
                    let place = w
                        .line
                        .map(|l| format!("{}:{l}", w.file.display()))
                        .unwrap_or_else(|| w.file.display().to_string());
                    eprintln!("update-center-helper: warning: {place}: {}", w.message);
                }
                Ok(state)
            }
            Err(error) => {
                eprintln!("update-center-helper: {method}: {error}");
                Err(to_bus_error(error))
            }
        }
    }
}

#[zbus::interface(name = "org.kde.UpdateCenter1")]
impl UpdateCenter {
    /// Every OS version installed, newest first, with the files of each.
    async fn list_versions(&self) -> Result<Vec<VersionInfo>, Error> {
        self.read("ListVersions")
            .await
            .map(|state| versions(&state))
    }

    /// Warnings about the update definitions, so that no client misses them.
    async fn list_warnings(&self) -> Result<Vec<DefinitionWarning>, Error> {
        let state = self.read("ListWarnings").await?;
        Ok(state
            .definitions
            .warnings
            .iter()
            .map(|w| DefinitionWarning {
                file: w.file.display().to_string(),
                line: w.line.and_then(|l| u32::try_from(l).ok()).unwrap_or(0),
                message: w.message.clone(),
            })
            .collect())
    }

    /// Version of this API.
    #[zbus(property)]
    fn api_version(&self) -> u32 {
        API_VERSION
    }
}

/// Serves the API until SIGTERM or SIGINT.
pub async fn serve(layout: Layout) -> Result<()> {
    let root = layout.root.display().to_string();
    let _connection = zbus::connection::Builder::system()
        .context("cannot find the system bus")?
        .serve_at(OBJECT_PATH, UpdateCenter { layout })?
        .name(BUS_NAME)?
        .build()
        .await
        .with_context(|| {
            format!(
                "cannot own {BUS_NAME} on the system bus (only root may own it, and only one helper may run)"
            )
        })?;
    eprintln!("update-center-helper: serving {BUS_NAME} for the system at {root}");
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = terminate.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    eprintln!("update-center-helper: stopping");
    Ok(())
}
