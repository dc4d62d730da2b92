//! A private system bus: a real `dbus-daemon` with a system-bus-like configuration and the
//! project's bus policy file, listening on a socket in a temporary directory.

use anyhow::{Context, Result, bail};
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The project's bus policy file.
pub fn policy_file() -> PathBuf {
    crate::checkout().join("data/dbus/org.kde.UpdateCenter1.conf")
}

/// A running private system bus. Stopped when dropped.
pub struct PrivateBus {
    /// The bus address, for `DBUS_SYSTEM_BUS_ADDRESS`.
    pub address: String,
    dir: tempfile::TempDir,
    daemon: Child,
}

impl PrivateBus {
    /// Starts `dbus-daemon` and returns once it accepts connections (it prints its address
    /// only then).
    pub fn start() -> Result<Self> {
        Self::start_with(|socket| config_text(socket, &policy_file()))
    }

    /// Starts a session bus (everyone may own names and call anyone, as on a desktop).
    pub fn start_session() -> Result<Self> {
        Self::start_with(|socket| {
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                socket.display()
            )
        })
    }

    fn start_with(config_text: impl Fn(&Path) -> String) -> Result<Self> {
        let dir = tempfile::Builder::new().prefix("uc-bus-").tempdir()?;
        // Other users (the unprivileged callers of the tests) must reach the socket.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))?;
        let socket = dir.path().join("bus_socket");
        let config = dir.path().join("bus.conf");
        std::fs::write(&config, config_text(&socket))?;
        let mut daemon = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .arg("--nofork")
            .arg("--nopidfile")
            .arg("--print-address=1")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("cannot start dbus-daemon (is dbus-daemon installed?)")?;
        let stdout = daemon.stdout.take().context("dbus-daemon has no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let address = line.trim().to_string();
        if address.is_empty() {
            let status = daemon.wait()?;
            bail!("dbus-daemon exited before listening ({status})");
        }
        Ok(Self {
            address,
            dir,
            daemon,
        })
    }

    /// The directory holding the socket and the configuration.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for PrivateBus {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

/// A configuration like Debian's `system.conf`: nobody owns names or calls methods unless a
/// policy file allows it; then the project's policy file.
fn config_text(socket: &Path, policy: &Path) -> String {
    format!(
        r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus" send_member="UpdateActivationEnvironment"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Debug.Stats"/>
  </policy>
  <include>{policy}</include>
  <include ignore_missing="yes">/usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf</include>
  <!-- The stand-ins for NetworkManager, UPower and logind (testbed::standins), as their own
       policy files allow on a real system: root owns the names, anyone may ask. -->
  <policy user="root">
    <allow own="org.freedesktop.NetworkManager"/>
    <allow own="org.freedesktop.UPower"/>
    <allow own="org.freedesktop.login1"/>
  </policy>
  <policy context="default">
    <allow send_destination="org.freedesktop.NetworkManager"/>
    <allow send_destination="org.freedesktop.UPower"/>
    <allow send_destination="org.freedesktop.login1"/>
  </policy>
</busconfig>
"#,
        socket = socket.display(),
        policy = policy.display()
    )
}
