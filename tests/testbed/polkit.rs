//! A real polkitd on a private system bus, with the project's actions and rules of the test's
//! choosing. It runs in a mount namespace of its own (`unshare -m`) where its actions and rules
//! directories are bind mounts of temporary ones, so nothing of the machine changes. There is no
//! logind here: decisions come from the rules, by user name.

use crate::bus::PrivateBus;
use anyhow::{Context, Result, bail};
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Command, Stdio};

/// The project's polkit actions.
pub fn policy_file() -> std::path::PathBuf {
    crate::checkout().join("data/polkit/org.kde.updatecenter.policy")
}

/// A rule that allows every Update Center action to `allowed` users and refuses it to
/// everybody else (root is always allowed by polkit itself).
pub fn rules_allowing(allowed: &[&str]) -> String {
    let users: Vec<String> = allowed.iter().map(|u| format!("\"{u}\"")).collect();
    format!(
        "polkit.addRule(function(action, subject) {{\n  if (action.id.indexOf(\"org.kde.updatecenter.\") == 0) {{\n    if ([{}].indexOf(subject.user) >= 0) return polkit.Result.YES;\n    return polkit.Result.NO;\n  }}\n}});\n",
        users.join(", ")
    )
}

/// polkitd serving `org.freedesktop.PolicyKit1`. Stopped when dropped.
pub struct Polkit {
    child: Child,
    _dir: tempfile::TempDir,
}

impl Polkit {
    /// Starts polkitd on `bus` with the project's actions and `rules` (JavaScript), and
    /// returns once it owns its name.
    pub fn start(bus: &PrivateBus, rules: &str) -> Result<Self> {
        let dir = tempfile::Builder::new().prefix("uc-polkit-").tempdir()?;
        let (actions, rules_dir) = (dir.path().join("actions"), dir.path().join("rules"));
        std::fs::create_dir_all(&actions)?;
        std::fs::create_dir_all(&rules_dir)?;
        std::fs::copy(policy_file(), actions.join("org.kde.updatecenter.policy"))?;
        std::fs::write(rules_dir.join("50-update-center-test.rules"), rules)?;
        // polkitd drops to its own user: it must read these.
        for path in [dir.path(), &actions, &rules_dir] {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))?;
        }
        let script = format!(
            "mount --bind '{}' /usr/share/polkit-1/actions && mount --bind '{}' /etc/polkit-1/rules.d && exec /usr/lib/polkit-1/polkitd 2>&1",
            actions.display(),
            rules_dir.display()
        );
        let mut child = Command::new("unshare")
            .args(["--mount", "sh", "-c", &script])
            .env("DBUS_SYSTEM_BUS_ADDRESS", &bus.address)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start polkitd (is polkitd installed?)")?;
        let stdout = child.stdout.take().context("polkitd has no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let ready = lines
            .by_ref()
            .map_while(Result::ok)
            .any(|l| l.contains("Acquired the name org.freedesktop.PolicyKit1"));
        if !ready {
            let status = child.wait()?;
            bail!("polkitd exited before owning its name ({status})");
        }
        // Keep the pipe drained.
        std::thread::spawn(move || for _ in lines {});
        Ok(Self { child, _dir: dir })
    }
}

impl Drop for Polkit {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
