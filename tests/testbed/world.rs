//! A whole Update Center system for API and CLI tests: a KDE Linux-shaped root (versions A and
//! B installed, B running, EFI variables), an HTTP mirror on 127.0.0.1 offering NEW, a private
//! system bus, a real polkitd whose rules allow the user `daemon` (and root, as polkit always
//! does) and refuse everybody else, and the helper serving the root on that bus.

use crate::bus::PrivateBus;
use crate::mirror::HttpMirror;
use crate::polkit::{Polkit, rules_allowing};
use crate::process::Helper;
use crate::system::{KdeLinuxRoot, installed_files};
use std::path::Path;
use std::process::Command;
use update_center_client::UpdateCenterProxy;

/// The oldest installed version.
pub const A: &str = "202611010800";
/// The running version.
pub const B: &str = "202611150800";
/// The version the mirror offers.
pub const NEW: &str = "202611250800";
/// Size of NEW's image.
pub const PAYLOAD_BYTES: usize = 2 * 1024 * 1024;

/// Builds the world; downloads are limited to `max_rate` bytes per second when given.
pub fn world(max_rate: Option<u64>) -> World {
    world_with_rules(max_rate, &rules_allowing(&["daemon"]))
}

/// The world with other polkit rules (JavaScript).
pub fn world_with_rules(max_rate: Option<u64>, rules: &str) -> World {
    let image = format!("kde-linux_{NEW}_root-x86-64.erofs");
    let payload: Vec<u8> = (0..PAYLOAD_BYTES).map(|i| (i % 241) as u8).collect();
    let built = crate::setup::Setup::new()
        .offering(NEW, vec![(image, payload)])
        .build();
    crate::firmware::enable_efivars(&built.system.root).expect("efivars");
    crate::firmware::running(&built.system.root, B).expect("running");
    let (dir, system, server) = (built.dir, built.system, built.server.expect("the mirror"));
    let bus = PrivateBus::start().expect("bus");
    let polkit = Polkit::start(&bus, rules).expect("polkitd");
    let mut w = World {
        _dir: dir,
        system,
        bus,
        _polkit: polkit,
        server,
        helper: None,
    };
    w.start_helper(max_rate);
    w
}

/// The parts; each stops when dropped.
pub struct World {
    _dir: tempfile::TempDir,
    /// The system.
    pub system: KdeLinuxRoot,
    /// The bus.
    pub bus: PrivateBus,
    _polkit: Polkit,
    /// The mirror.
    pub server: HttpMirror,
    /// The helper, while it runs.
    pub helper: Option<Helper>,
}

impl World {
    /// (Re)starts the helper.
    pub fn start_helper(&mut self, max_rate: Option<u64>) {
        self.start_helper_with(max_rate, &[]);
    }

    /// (Re)starts the helper with extra environment variables.
    pub fn start_helper_with(&mut self, max_rate: Option<u64>, env: &[(&str, &Path)]) {
        self.helper = None;
        let mut command = Command::new(crate::binary("update-center-helper").expect("helper"));
        for (key, value) in env {
            command.env(key, value);
        }
        if let Some(rate) = max_rate {
            command.args(["--max-rate", &rate.to_string()]);
        }
        command.args(["--timeout", "5"]);
        self.helper = Some(
            Helper::start_with(
                command,
                &self.bus,
                &self.system.root,
                Some(Path::new("/efi")),
            )
            .expect("helper"),
        );
    }

    /// Runs `update-center-cli ARGS` against this world's helper: whether it succeeded, its
    /// standard output and its standard error.
    pub fn cli(&self, args: &[&str]) -> (bool, String, String) {
        match crate::binary("update-center-cli") {
            Ok(cli) => crate::run(
                Command::new(cli)
                    .args(args)
                    .env("DBUS_SYSTEM_BUS_ADDRESS", &self.bus.address),
            ),
            Err(e) => (false, String::new(), e.to_string()),
        }
    }

    /// Everything a refused call must leave alone: the installed files, the history, the
    /// helper's state, the EFI variables, the settings.
    pub fn fingerprint(&self) -> Vec<String> {
        let root = &self.system.root;
        let mut out: Vec<String> = installed_files(root)
            .into_iter()
            .map(|f| format!("{f:?}"))
            .collect();
        for file in [
            "var/lib/update-center/history.jsonl",
            "var/lib/update-center/state.json",
            "etc/update-center/update-center.conf",
        ] {
            out.push(std::fs::read_to_string(root.join(file)).unwrap_or_default());
        }
        if let Ok(entries) = std::fs::read_dir(root.join("sys/firmware/efi/efivars")) {
            let mut vars: Vec<String> = entries
                .flatten()
                .map(|e| format!("{:?} {:?}", e.file_name(), std::fs::read(e.path()).ok()))
                .collect();
            vars.sort();
            out.extend(vars);
        }
        out
    }

    /// Signs the mirror's list with `key`, dated `days` ago, and makes the system verify it
    /// (the keyring installed, `Verify=yes`).
    pub fn sign_mirror_days_ago(&self, key: &crate::gpg::GpgKey, days: i64) {
        key.install_keyring(&self.system.root).expect("keyring");
        for name in crate::system::TRANSFER_NAMES {
            let file = self
                .system
                .root
                .join(format!("usr/lib/sysupdate.d/{name}.transfer"));
            let text = std::fs::read_to_string(&file).expect("definition");
            std::fs::write(&file, text.replace("Verify=no", "Verify=yes")).expect("definition");
        }
        key.sign_detached_days_ago(
            &self.server.dir.join("SHA256SUMS"),
            &self.server.dir.join("SHA256SUMS.gpg"),
            days,
        )
        .expect("sign");
    }

    /// A client on a connection of its own.
    pub async fn proxy(&self) -> UpdateCenterProxy<'static> {
        let connection = zbus::connection::Builder::address(self.bus.address.as_str())
            .expect("address")
            .build()
            .await
            .expect("connect");
        UpdateCenterProxy::new(&connection).await.expect("proxy")
    }
}
