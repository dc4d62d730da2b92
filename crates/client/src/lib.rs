//! The client side of the Update Center D-Bus API (`org.kde.UpdateCenter1`).
//!
//! Everything a person sees (GUI, tray notifier, settings module, CLI) talks to the privileged
//! helper only through this crate: the typed proxy, the data types that travel over the bus and
//! the named errors the helper answers with. Nothing here touches files on disk.

mod error;
mod types;

pub use error::{Error, describe_call_error, describe_connect_error};
pub use types::{DefinitionWarning, InstalledFile, VersionInfo};

/// Well-known bus name the helper owns on the system bus.
pub const BUS_NAME: &str = "org.kde.UpdateCenter1";
/// Object path of the helper's main object.
pub const OBJECT_PATH: &str = "/org/kde/UpdateCenter1";
/// Name of the main interface.
pub const INTERFACE: &str = "org.kde.UpdateCenter1";
/// Prefix of every named error the helper returns.
pub const ERROR_PREFIX: &str = "org.kde.UpdateCenter1.Error";

/// Typed proxy for `org.kde.UpdateCenter1`.
#[zbus::proxy(
    interface = "org.kde.UpdateCenter1",
    default_service = "org.kde.UpdateCenter1",
    default_path = "/org/kde/UpdateCenter1",
    gen_blocking = false
)]
pub trait UpdateCenter {
    /// Every OS version found on the system, newest first.
    fn list_versions(&self) -> Result<Vec<VersionInfo>, Error>;

    /// Warnings about the update definitions (unknown keys, ignored legacy files, ...).
    fn list_warnings(&self) -> Result<Vec<DefinitionWarning>, Error>;

    /// Version of this API; raised when methods are added.
    #[zbus(property)]
    fn api_version(&self) -> zbus::Result<u32>;
}

/// Connects to the system bus (`DBUS_SYSTEM_BUS_ADDRESS` when set) and returns the proxy.
pub async fn connect_system() -> Result<UpdateCenterProxy<'static>, Error> {
    let connection = zbus::Connection::system().await?;
    Ok(UpdateCenterProxy::new(&connection).await?)
}
