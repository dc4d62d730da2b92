//! A real Secret Service (gnome-keyring-daemon) on a private session bus, with its own home and
//! an unlocked login keyring, for the mirror-credential tests.

use crate::bus::PrivateBus;
use anyhow::{Context, Result, bail};
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The daemon; stops when dropped.
pub struct SecretService {
    child: Child,
    home: tempfile::TempDir,
}

impl SecretService {
    /// Starts gnome-keyring-daemon on `session` and returns once it owns
    /// `org.freedesktop.secrets` (woken by the bus's NameOwnerChanged, no polling).
    pub fn start(session: &PrivateBus) -> Result<Self> {
        let home = tempfile::Builder::new().prefix("uc-keyring-").tempdir()?;
        let runtime = home.path().join("run");
        std::fs::create_dir_all(&runtime)?;
        std::fs::create_dir_all(home.path().join("data"))?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700))?;
        let runtime_handle = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime_handle.block_on(async {
            use futures_util::StreamExt;
            let connection = zbus::connection::Builder::address(session.address.as_str())?
                .build()
                .await?;
            let dbus = zbus::fdo::DBusProxy::new(&connection).await?;
            let mut owners = dbus
                .receive_name_owner_changed_with_args(&[(0, "org.freedesktop.secrets")])
                .await?;
            let mut child = Command::new("gnome-keyring-daemon")
                .args(["--foreground", "--components=secrets", "--unlock"])
                .env("DBUS_SESSION_BUS_ADDRESS", &session.address)
                .env("HOME", home.path())
                .env("XDG_DATA_HOME", home.path().join("data"))
                .env("XDG_RUNTIME_DIR", &runtime)
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .context("cannot start gnome-keyring-daemon")?;
            // The login keyring's password, on stdin as `--unlock` expects.
            child
                .stdin
                .take()
                .context("no stdin")?
                .write_all(b"test-login-password")?;
            let name = zbus::names::BusName::try_from("org.freedesktop.secrets")?;
            if !dbus.name_has_owner(name).await? {
                let owned = tokio::time::timeout(std::time::Duration::from_secs(30), owners.next());
                if owned.await.ok().flatten().is_none() {
                    let _ = child.kill();
                    bail!("gnome-keyring-daemon never offered the Secret Service");
                }
            }
            Ok(Self { child, home })
        })
    }

    /// The daemon's home (its keyring files live under `data/keyrings`).
    pub fn home(&self) -> &Path {
        self.home.path()
    }
}

impl Drop for SecretService {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
