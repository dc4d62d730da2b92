//! A machine made of the OS versions: its disks, its firmware's variables and its mirror;
//! booting it, cutting its power, and reading its disks afterwards.

use super::{GuestOs, quote, sh};
use crate::mirror::HttpMirror;
use crate::vm::{Esp, StateDisk};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

impl GuestOs {
    /// A machine in `work`: `installed` (blessed; the newest runs, as systemd-boot picks it),
    /// a signed mirror on the host offering `offered`, the harness with no actions yet.
    pub fn machine(&self, work: &Path, installed: &[&str], offered: &[&str]) -> Result<Machine> {
        let root = work.join("state-root");
        sh(&format!(
            "cp -a {} {}",
            quote(&self.dir.join("state")),
            quote(&root)
        ))?;
        // What is installed, on the disks and (for the judge) in a root of its own.
        let before = work.join("installed");
        let entries = work.join("entries");
        for dir in [
            before.join("system"),
            before.join("efi/EFI/Linux"),
            entries.clone(),
        ] {
            std::fs::create_dir_all(dir)?;
        }
        for version in installed {
            let image = self.dir.join(format!("kde-linux_{version}.erofs"));
            let uki = self.dir.join(format!("kde-linux_{version}.efi"));
            for system in [root.join("system"), before.join("system")] {
                std::fs::copy(&image, system.join(format!("kde-linux_{version}.erofs")))?;
                std::fs::write(
                    system.join(format!("kde-linux_{version}.erofs.caibx")),
                    chunk_index(version),
                )?;
            }
            for dir in [entries.clone(), before.join("efi/EFI/Linux")] {
                std::fs::copy(&uki, dir.join(format!("kde-linux_{version}.efi")))?;
            }
        }
        let running = installed.iter().max().context("nothing installed")?;
        std::fs::create_dir_all(before.join("etc"))?;
        std::fs::write(
            before.join("etc/os-release"),
            format!("ID=kde-linux\nIMAGE_ID=kde-linux\nIMAGE_VERSION={running}\n"),
        )?;
        let esp = Esp::create_partitioned(&work.join("esp.img"), &entries)?;
        let state = StateDisk::create_sized(&work.join("state.img"), &root, "1536M")?;
        std::fs::remove_dir_all(&root)?;
        let mirror_dir = work.join("mirror");
        std::fs::create_dir_all(&mirror_dir)?;
        for version in offered {
            std::fs::copy(
                self.dir.join(format!("kde-linux_{version}.erofs")),
                mirror_dir.join(format!("kde-linux_{version}_root-x86-64.erofs")),
            )?;
            std::fs::copy(
                self.dir.join(format!("kde-linux_{version}.efi")),
                mirror_dir.join(format!("kde-linux_{version}.efi")),
            )?;
            std::fs::write(
                mirror_dir.join(format!("kde-linux_{version}_root-x86-64.caibx")),
                chunk_index(version),
            )?;
        }
        crate::mirror::write_sums(&mirror_dir)?;
        self.key.sign_detached(
            &mirror_dir.join("SHA256SUMS"),
            &mirror_dir.join("SHA256SUMS.gpg"),
        )?;
        let mirror = HttpMirror::serve(&mirror_dir)?;
        Ok(Machine {
            work: work.to_path_buf(),
            esp,
            state,
            mirror,
        })
    }
}

/// One guest machine: its ESP, its state disk, its firmware's variables and its mirror.
pub struct Machine {
    /// Where its disks are.
    pub work: PathBuf,
    /// The GPT disk with the ESP.
    pub esp: Esp,
    /// The state disk (`/`, without `/usr`).
    pub state: StateDisk,
    /// The mirror on the host.
    pub mirror: HttpMirror,
}

impl Machine {
    /// The mirror's URL as the guest reaches it (qemu's user network: the host is 10.0.2.2).
    pub fn source(&self) -> String {
        self.mirror.url.replace("127.0.0.1", "10.0.2.2")
    }

    /// A root holding what the machine had before the test (the installed versions' files),
    /// to teach the judge their bytes.
    pub fn installed_before(&self) -> PathBuf {
        self.work.join("installed")
    }

    fn qemu_args(&self, serial: &str) -> Result<Vec<String>> {
        let vars = crate::vm::fresh_vars(&self.work)?;
        let mut args: Vec<String> = [
            "-machine",
            "q35",
            "-accel",
            "tcg",
            "-cpu",
            "max",
            "-smp",
            "2",
            "-m",
            "2048",
            "-display",
            "none",
            "-monitor",
            "none",
            "-serial",
            serial,
            "-nic",
            "user,model=virtio-net-pci",
            "-device",
            "virtio-rng-pci",
        ]
        .map(String::from)
        .to_vec();
        for drive in [
            format!(
                "if=pflash,format=raw,readonly=on,file={}",
                crate::vm::OVMF_CODE
            ),
            format!("if=pflash,format=raw,file={}", vars.display()),
            format!("if=virtio,format=raw,file={}", self.esp.image.display()),
            format!("if=virtio,format=raw,file={}", self.state.image.display()),
        ] {
            args.push("-drive".into());
            args.push(drive);
        }
        Ok(args)
    }

    /// Writes the actions (one line per boot that runs one) and boots until the guest powers
    /// off; the serial log. An error when it does not power off within `timeout_secs`.
    pub fn boot(&self, actions: &[String], timeout_secs: u64) -> Result<String> {
        self.state.set_actions(&actions_text(actions))?;
        let _alone = one_at_a_time();
        let (log, cut) = crate::vm::run_and_cut(
            self.qemu_args("stdio")?,
            "\u{0}never printed\u{0}",
            std::time::Duration::ZERO,
            timeout_secs,
        )?;
        if cut || !log.lines().any(|l| l == "uc: poweroff") {
            bail!("the guest did not power off within {timeout_secs} s:\n{log}");
        }
        Ok(log)
    }

    /// Writes the actions and boots; cuts the power `after` the console printed `marker`.
    /// The serial log, and whether the power was cut.
    pub fn boot_and_cut(
        &self,
        actions: &[String],
        marker: &str,
        after: std::time::Duration,
        timeout_secs: u64,
    ) -> Result<(String, bool)> {
        self.state.set_actions(&actions_text(actions))?;
        let _alone = one_at_a_time();
        crate::vm::run_and_cut(self.qemu_args("stdio")?, marker, after, timeout_secs)
    }

    /// What the machine's disks hold now, as a root the judge reads: the state disk (its
    /// journal replayed, as the next mount would) and the ESP's boot entries at `efi/`, with
    /// `/etc/os-release` of `booted` (the harness saw it run; `/usr` is not on the state
    /// disk).
    pub fn extract(&self, dir: &Path, booted: &str) -> Result<()> {
        self.state.extract(dir)?;
        let entries = dir.join("efi/EFI/Linux");
        std::fs::create_dir_all(&entries)?;
        self.esp.copy_entries_to(&entries)?;
        // The boot loader's variables as the harness saw them at the end of the last boot.
        let efivars = dir.join("sys/firmware/efi/efivars");
        std::fs::create_dir_all(&efivars)?;
        if let Ok(saved) = std::fs::read_dir(dir.join("uc-efivars")) {
            for var in saved.flatten() {
                std::fs::copy(var.path(), efivars.join(var.file_name()))?;
            }
        }
        let os_release = dir.join("etc/os-release");
        let _ = std::fs::remove_file(&os_release);
        std::fs::write(
            os_release,
            format!("ID=kde-linux\nIMAGE_ID=kde-linux\nIMAGE_VERSION={booted}\n"),
        )?;
        Ok(())
    }
}

/// The chunk index of a version: a stand-in (the helper does not read it yet), the same bytes
/// on the mirror and on the machine.
fn chunk_index(version: &str) -> String {
    format!("chunk index stand-in {version}\n")
}

/// One guest runs at a time: two TCG guests with two vCPUs each on a two-core machine starve a
/// vCPU's timer (the kernel reported RCU stalls and the boot hung in a CI run).
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn actions_text(actions: &[String]) -> String {
    actions.iter().map(|a| format!("{a}\n")).collect()
}

/// The harness's lines (`uc: ...`) of a serial log.
pub fn said(log: &str) -> Vec<&str> {
    log.lines().filter(|l| l.starts_with("uc: ")).collect()
}

/// The versions that booted, in order.
pub fn booted(log: &str) -> Vec<&str> {
    log.lines()
        .filter_map(|l| l.strip_prefix("uc: booted version "))
        .collect()
}
