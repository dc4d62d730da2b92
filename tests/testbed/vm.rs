//! A virtual machine with the real boot chain: OVMF firmware, systemd-boot from Debian's
//! systemd-boot-efi, and unified kernel images made by `ukify` from Debian's kernel and a small
//! busybox initramfs. Each image's `/init` plays one OS version: it says which version booted,
//! and either passes its health check (powers off, as after a good boot) or fails it (reboots
//! without blessing, so systemd-boot counts the try). qemu runs without KVM (TCG), its serial
//! console goes to a log, and everything is bounded by a timeout. The ESP is a real FAT image,
//! written and read with mtools.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// systemd-boot, as Debian ships it.
const SYSTEMD_BOOT: &str = "/usr/lib/systemd/boot/efi/systemd-bootx64.efi";
const OVMF_CODE: &str = "/usr/share/OVMF/OVMF_CODE_4M.fd";
const OVMF_VARS: &str = "/usr/share/OVMF/OVMF_VARS_4M.fd";

fn run(command: &mut Command) -> Result<()> {
    let output = command
        .output()
        .with_context(|| format!("cannot run {command:?}"))?;
    if !output.status.success() {
        bail!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// Builds guests in a working directory.
pub struct Guests {
    dir: PathBuf,
    kernel: PathBuf,
    initrd: PathBuf,
}

impl Guests {
    /// Finds the kernel and builds the initramfs in `dir`.
    pub fn new(dir: &Path) -> Result<Self> {
        let kernel = std::fs::read_dir("/boot")?
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("vmlinuz-"))
            })
            .context("no kernel in /boot (linux-image-amd64)")?;
        let root = dir.join("initrd");
        for sub in ["bin", "proc", "sys", "dev"] {
            std::fs::create_dir_all(root.join(sub))?;
        }
        std::fs::copy("/bin/busybox", root.join("bin/busybox"))
            .context("no /bin/busybox (busybox-static)")?;
        for applet in ["sh", "mount", "sed", "echo", "poweroff", "reboot"] {
            std::os::unix::fs::symlink("busybox", root.join("bin").join(applet))?;
        }
        let init = root.join("init");
        std::fs::write(
            &init,
            "#!/bin/sh\n\
             mount -t proc proc /proc\n\
             v=$(sed 's/.*uc.version=\\([^ ]*\\).*/\\1/' /proc/cmdline)\n\
             h=$(sed 's/.*uc.health=\\([^ ]*\\).*/\\1/' /proc/cmdline)\n\
             echo \"uc: booted version $v, health $h\"\n\
             if [ \"$h\" = bad ]; then echo \"uc: a required health check failed; rebooting unblessed\"; reboot -f; fi\n\
             echo \"uc: healthy; powering off\"\n\
             poweroff -f\n",
        )?;
        std::fs::set_permissions(&init, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
        let initrd = dir.join("initrd.img");
        run(Command::new("sh").arg("-c").arg(format!(
            "cd '{}' && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1 > '{}'",
            root.display(),
            initrd.display()
        )))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            kernel,
            initrd,
        })
    }

    /// A unified kernel image of `version` whose health check passes (`good`) or fails.
    pub fn uki(&self, version: &str, good: bool) -> Result<PathBuf> {
        let os_release = self.dir.join(format!("os-release-{version}"));
        std::fs::write(
            &os_release,
            format!(
                "ID=kde-linux\nIMAGE_ID=kde-linux\nIMAGE_VERSION={version}\nPRETTY_NAME=\"KDE Linux {version}\"\n"
            ),
        )?;
        let out = self.dir.join(format!("uki-{version}.efi"));
        let health = if good { "good" } else { "bad" };
        run(Command::new("ukify")
            .arg("build")
            .arg("--linux")
            .arg(&self.kernel)
            .arg("--initrd")
            .arg(&self.initrd)
            .arg("--cmdline")
            .arg(format!(
                "console=ttyS0 quiet uc.version={version} uc.health={health}"
            ))
            .arg(format!("--os-release=@{}", os_release.display()))
            .arg("--output")
            .arg(&out))?;
        Ok(out)
    }
}

/// A FAT32 ESP image with systemd-boot and the given boot entries.
pub struct Esp {
    /// The image.
    pub image: PathBuf,
}

fn mtools(command: &str) -> Command {
    let mut c = Command::new(command);
    c.env("MTOOLS_SKIP_CHECK", "1");
    c
}

impl Esp {
    /// Makes the image with every file of `entries_dir` in `EFI/Linux`.
    pub fn create(image: &Path, entries_dir: &Path) -> Result<Self> {
        Self::create_with(image, entries_dir, "")
    }

    /// The same, with more lines for `loader/loader.conf` (e.g. a `default` a rollback wrote).
    pub fn create_with(image: &Path, entries_dir: &Path, loader_conf: &str) -> Result<Self> {
        run(Command::new("truncate").args(["-s", "200M"]).arg(image))?;
        run(Command::new("mkfs.vfat").args(["-F", "32"]).arg(image))?;
        let i = image.display().to_string();
        run(mtools("mmd").args([
            "-i",
            &i,
            "::/EFI",
            "::/EFI/BOOT",
            "::/EFI/Linux",
            "::/loader",
        ]))?;
        run(mtools("mcopy").args(["-i", &i, SYSTEMD_BOOT, "::/EFI/BOOT/BOOTX64.EFI"]))?;
        let conf = image.with_extension("loader.conf");
        std::fs::write(&conf, format!("timeout 0\n{loader_conf}"))?;
        run(mtools("mcopy")
            .args(["-i", &i])
            .arg(&conf)
            .arg("::/loader/loader.conf"))?;
        for entry in std::fs::read_dir(entries_dir)?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            run(mtools("mcopy")
                .args(["-i", &i])
                .arg(entry.path())
                .arg(format!("::/EFI/Linux/{name}")))?;
        }
        Ok(Self {
            image: image.to_path_buf(),
        })
    }

    /// The file names in `EFI/Linux`, as the boot loader left them.
    pub fn entries(&self) -> Result<Vec<String>> {
        let output = mtools("mdir")
            .args(["-b", "-i"])
            .arg(&self.image)
            .arg("::/EFI/Linux")
            .output()?;
        let mut names: Vec<String> = String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|l| l.rsplit('/').next())
            .filter(|n| n.ends_with(".efi"))
            .map(str::to_string)
            .collect();
        names.sort();
        Ok(names)
    }

    /// Copies `EFI/Linux` back into `dir` (emptied first).
    pub fn copy_entries_to(&self, dir: &Path) -> Result<()> {
        for entry in std::fs::read_dir(dir)?.flatten() {
            std::fs::remove_file(entry.path())?;
        }
        for name in self.entries()? {
            run(mtools("mcopy")
                .args(["-n", "-i"])
                .arg(&self.image)
                .arg(format!("::/EFI/Linux/{name}"))
                .arg(dir.join(&name)))?;
        }
        Ok(())
    }
}

/// Boots the ESP until the guest powers off (or `timeout_secs` pass); returns the serial log.
pub fn boot(esp: &Esp, work: &Path, timeout_secs: u64) -> Result<String> {
    let vars = work.join("vars.fd");
    std::fs::copy(OVMF_VARS, &vars)?;
    let log = work.join("serial.log");
    let status = Command::new("timeout")
        .arg(timeout_secs.to_string())
        .args([
            "qemu-system-x86_64",
            "-machine",
            "q35",
            "-m",
            "512",
            "-display",
            "none",
            "-monitor",
            "none",
            "-serial",
        ])
        .arg(format!("file:{}", log.display()))
        .args([
            "-drive",
            &format!("if=pflash,format=raw,readonly=on,file={OVMF_CODE}"),
        ])
        .args([
            "-drive",
            &format!("if=pflash,format=raw,file={}", vars.display()),
        ])
        .args([
            "-drive",
            &format!("format=raw,file={}", esp.image.display()),
        ])
        .status()
        .context("cannot run qemu-system-x86_64")?;
    let text = String::from_utf8_lossy(&std::fs::read(&log).unwrap_or_default()).into_owned();
    if !status.success() {
        bail!("the guest did not power off within {timeout_secs} s ({status}):\n{text}");
    }
    Ok(text)
}
