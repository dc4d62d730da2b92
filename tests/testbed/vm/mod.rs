//! A virtual machine with the real boot chain: OVMF firmware, systemd-boot from Debian's
//! systemd-boot-efi, and unified kernel images made by `ukify` from Debian's kernel and a small
//! busybox initramfs. Each image's `/init` plays one OS version: it says which version booted,
//! and either passes its health check (powers off, as after a good boot) or fails it (reboots
//! without blessing, so systemd-boot counts the try). qemu runs without KVM (TCG), its serial
//! console goes to a log, and everything is bounded by a timeout. The ESP is a real FAT image,
//! written and read with mtools.

mod disks;

pub use disks::{Esp, StateDisk};

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// systemd-boot, as Debian ships it.
const SYSTEMD_BOOT: &str = "/usr/lib/systemd/boot/efi/systemd-bootx64.efi";
pub(crate) const OVMF_CODE: &str = "/usr/share/OVMF/OVMF_CODE_4M.fd";
const OVMF_VARS: &str = "/usr/share/OVMF/OVMF_VARS_4M.fd";

pub(crate) fn run(command: &mut Command) -> Result<()> {
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
        let kernel = kernel()?;
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
        pack(&root, &initrd)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            kernel,
            initrd,
        })
    }

    /// Guests whose initramfs plays a whole KDE Linux boot with the real helper in it (see
    /// [`SYSTEM_INIT`]): the ESP is the first virtio disk, mounted with the kernel's vfat
    /// driver; the system's state (a KDE Linux-shaped root: os-release, sysupdate.d, `/system`,
    /// the helper's state and a local mirror) is an ext4 file system on the second virtio
    /// disk, mounted as the system's root: what the helper writes survives a power cut as on
    /// a real machine.
    ///
    /// The initramfs and the UKIs are cached under the build directory, keyed by a hash of
    /// everything they are made of (the helper, systemd-bless-boot, the kernel, the modules,
    /// `/init`): a second run of the suite builds nothing.
    pub fn system() -> Result<Self> {
        let kernel = kernel()?;
        let release = kernel
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("vmlinuz-"))
            .context("kernel name")?
            .to_string();
        let helper = crate::binary("update-center-helper")?;
        let cache = {
            use sha2::{Digest, Sha256};
            let mut hash = Sha256::new();
            for file in [helper.as_path(), Path::new(BLESS_BOOT), kernel.as_path()] {
                hash.update(std::fs::read(file).with_context(|| format!("{}", file.display()))?);
            }
            hash.update(SYSTEM_INIT);
            hash.update(GUEST_MODULES.join(","));
            let key: String = hash.finalize()[..8]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            helper
                .parent()
                .context("build directory")?
                .join("vm-guests")
                .join(key)
        };
        let initrd = cache.join("initrd-system.img");
        if initrd.exists() {
            return Ok(Self {
                dir: cache,
                kernel,
                initrd,
            });
        }
        std::fs::create_dir_all(&cache)?;
        // Built beside the cache entry and renamed into it: parallel tests never see half of it.
        let work = tempfile::Builder::new()
            .prefix(".building-")
            .tempdir_in(&cache)?;
        let dir = work.path();
        let root = dir.join("initrd-system");
        for sub in [
            "bin",
            "proc",
            "sys",
            "dev",
            "lib/modules",
            "lib64",
            "lib/x86_64-linux-gnu",
        ] {
            std::fs::create_dir_all(root.join(sub))?;
        }
        std::fs::copy("/bin/busybox", root.join("bin/busybox"))
            .context("no /bin/busybox (busybox-static)")?;
        for applet in [
            "sh", "mount", "umount", "sed", "echo", "poweroff", "reboot", "insmod", "tar", "mkdir",
            "rm", "sync", "cat", "touch", "ls",
        ] {
            std::os::unix::fs::symlink("busybox", root.join("bin").join(applet))?;
        }
        // The modules the guest needs and Debian builds as modules, unpacked (busybox's insmod
        // does not read .ko.xz).
        for module in GUEST_MODULES {
            let output = Command::new("modinfo")
                .args(["-n", "-k", &release, module])
                .output()
                .context("modinfo (kmod)")?;
            let path = String::from_utf8_lossy(&output.stdout).trim().to_string();
            if path.is_empty() {
                bail!("the kernel {release} has no module {module}");
            }
            let target = root.join(format!("lib/modules/{module}.ko"));
            let unpacked = Command::new("xz").args(["-dc", &path]).output()?;
            if !unpacked.status.success() {
                bail!("cannot unpack {path}");
            }
            std::fs::write(target, unpacked.stdout)?;
        }
        // The helper, stripped, and systemd-bless-boot (which marks a good boot good on a real
        // system, after boot-complete.target), each with the libraries it links.
        let target = root.join("bin/update-center-helper");
        run(Command::new("strip").arg("-o").arg(&target).arg(&helper))?;
        std::fs::create_dir_all(root.join("usr/lib/systemd"))?;
        std::fs::copy(BLESS_BOOT, root.join(BLESS_BOOT.trim_start_matches('/')))
            .context("no systemd-bless-boot (Debian's systemd-boot package)")?;
        for binary in [helper.as_path(), Path::new(BLESS_BOOT)] {
            for lib in linked_libraries(binary)? {
                let inside = root.join(lib.to_string_lossy().trim_start_matches('/'));
                if let Some(parent) = inside.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                std::fs::copy(&lib, &inside)
                    .with_context(|| format!("cannot copy {}", lib.display()))?;
            }
        }
        let init = root.join("init");
        std::fs::write(&init, SYSTEM_INIT)?;
        std::fs::set_permissions(&init, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
        let built = dir.join("initrd-system.img");
        pack(&root, &built)?;
        std::fs::rename(&built, &initrd)?;
        Ok(Self {
            dir: cache,
            kernel,
            initrd,
        })
    }

    /// A unified kernel image of `version` whose health check passes (`good`) or fails.
    pub fn uki(&self, version: &str, good: bool) -> Result<PathBuf> {
        let health = if good { "good" } else { "bad" };
        let out = self.dir.join(format!("uki-{version}-{health}.efi"));
        if out.exists() {
            return Ok(out);
        }
        let work = tempfile::Builder::new()
            .prefix(".uki-")
            .tempdir_in(&self.dir)?;
        let os_release = work.path().join("os-release");
        std::fs::write(
            &os_release,
            format!(
                "ID=kde-linux\nIMAGE_ID=kde-linux\nIMAGE_VERSION={version}\nPRETTY_NAME=\"KDE Linux {version}\"\n"
            ),
        )?;
        let built = work.path().join("uki.efi");
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
            .arg(&built))?;
        std::fs::rename(&built, &out)?;
        Ok(out)
    }
}

/// Modules the system guests load: the ESP's file system, EFI variables, the virtio disks.
const GUEST_MODULES: [&str; 11] = [
    "fat",
    "vfat",
    "nls_cp437",
    "nls_ascii",
    "efivarfs",
    "virtio_blk",
    "crc16",
    "mbcache",
    "jbd2",
    "crc32c_generic",
    "ext4",
];

/// The `/init` of the system guests: one boot of a KDE Linux-shaped system with the real
/// helper. It records the boot (`boot-record`, which reads what systemd-boot left in the EFI
/// variables and on the ESP), runs the health checks (a good boot of a version on trial is
/// blessed by systemd-bless-boot, which renames its entry on the FAT ESP), then does what the
/// first line of `/uc-actions` in the state asks (`stage`: stage the update from the local
/// mirror; `rollback [--once] VERSION`; `reboot`) and reboots, or powers off when nothing is
/// left to do.
/// Every step is said on the serial console.
const SYSTEM_INIT: &str = r#"#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
v=$(sed 's/.*uc.version=\([^ ]*\).*/\1/' /proc/cmdline)
echo "uc: booted version $v"
for m in fat vfat nls_cp437 nls_ascii efivarfs virtio_blk crc16 mbcache jbd2 crc32c_generic ext4; do
    insmod /lib/modules/$m.ko || echo "uc: cannot load $m"
done
mkdir -p /sysroot
mount -t ext4 /dev/vdb /sysroot || echo "uc: cannot mount the state disk"
# The booted image's os-release, as on KDE Linux where each version brings its own.
sed -i "s/^IMAGE_VERSION=.*/IMAGE_VERSION=$v/" /sysroot/etc/os-release
mkdir -p /efi /sys/firmware/efi/efivars /sysroot/efi /sysroot/sys/firmware/efi/efivars
mount -t vfat /dev/vda /efi || echo "uc: cannot mount the ESP"
mount -t efivarfs efivarfs /sys/firmware/efi/efivars || echo "uc: no EFI variables"
mount -o bind /efi /sysroot/efi
mount -o bind /sys/firmware/efi/efivars /sysroot/sys/firmware/efi/efivars
H="/bin/update-center-helper --root /sysroot --esp /efi --relax-esp-checks"
# A power cut may have left a half-done transaction: the helper discards it.
$H recover 2>&1 | sed 's/^/uc: recover: /'
$H boot-record 2>&1 | sed 's/^/uc: boot-record: /'
$H health-check --reboot-command "echo uc: reboot-previous asked" > /health.log 2>&1
healthy=$?
sed 's/^/uc: health-check: /' /health.log
# boot-complete.target is reached only when the required checks passed; then
# systemd-bless-boot marks the boot good, as on a real system.
# What the host asked this boot to do: the first line of /uc-actions (then the guest
# reboots), or nothing (then it powers off).
next=poweroff
if [ $healthy = 0 ]; then
    SYSTEMD_RELAX_ESP_CHECKS=1 /usr/lib/systemd/systemd-bless-boot good 2>&1 | sed 's/^/uc: bless-boot: /'
else
    # Unblessed: the next boot is systemd-boot's next try, or its fallback.
    echo "uc: a required health check failed; rebooting unblessed"
    next=reboot
fi
action=$(sed -n 1p /sysroot/uc-actions 2>/dev/null)
if [ -n "$action" ]; then
    sed -i 1d /sysroot/uc-actions
    echo "uc: action: $action"
    case "$action" in
        stage) $H update 2>&1 | sed 's/^/uc: update: /' ;;
        rollback*) $H $action 2>&1 | sed 's/^/uc: rollback: /' ;;
    esac
    next=reboot
fi
ls /sysroot/efi/EFI/Linux | sed 's/^/uc: esp: /'
umount /sysroot/sys/firmware/efi/efivars
umount /sysroot/efi
umount /sysroot || echo "uc: cannot unmount the state disk"
umount /efi
sync
echo "uc: $next"
$next -f
"#;

/// systemd's own blessing of a good boot, as Debian ships it.
const BLESS_BOOT: &str = "/usr/lib/systemd/systemd-bless-boot";

/// The shared libraries `binary` loads, as `ldd` resolves them (the loader included).
fn linked_libraries(binary: &Path) -> Result<Vec<PathBuf>> {
    let output = Command::new("ldd").arg(binary).output().context("ldd")?;
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| {
            l.split_whitespace()
                .find(|w| w.starts_with('/'))
                .map(PathBuf::from)
        })
        .collect())
}

/// Finds Debian's kernel in `/boot`.
fn kernel() -> Result<PathBuf> {
    std::fs::read_dir("/boot")?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("vmlinuz-"))
        })
        .context("no kernel in /boot (linux-image-amd64)")
}

/// Packs the directory `root` as a gzip'd cpio initramfs.
pub(crate) fn pack(root: &Path, initrd: &Path) -> Result<()> {
    run(Command::new("sh").arg("-c").arg(format!(
        "cd '{}' && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1 > '{}'",
        root.display(),
        initrd.display()
    )))
}

/// Boots the ESP until the guest powers off (or `timeout_secs` pass); returns the serial log.
pub fn boot(esp: &Esp, work: &Path, timeout_secs: u64) -> Result<String> {
    boot_with(esp, None, work, timeout_secs)
}

/// The machine's EFI variable store (its NVRAM): made from OVMF's template once per working
/// directory, then kept across boots and power cuts, as on a real machine.
pub(crate) fn fresh_vars(work: &Path) -> Result<PathBuf> {
    let vars = work.join("vars.fd");
    if !vars.exists() {
        std::fs::copy(OVMF_VARS, &vars)?;
    }
    Ok(vars)
}

/// qemu's arguments for one machine: q35 without KVM, OVMF with this working directory's
/// variable store, the serial console to `serial`, and the disks. Without a state disk the ESP
/// is the firmware's default disk (AHCI); with one, both are virtio disks (`vda`, `vdb`).
fn qemu_args(
    esp: &Esp,
    state: Option<&StateDisk>,
    work: &Path,
    serial: &str,
) -> Result<Vec<String>> {
    let vars = fresh_vars(work)?;
    let mut args: Vec<String> = [
        "-machine", "q35", "-m", "1024", "-display", "none", "-monitor", "none", "-serial", serial,
    ]
    .map(String::from)
    .to_vec();
    let mut drives = vec![
        format!("if=pflash,format=raw,readonly=on,file={OVMF_CODE}"),
        format!("if=pflash,format=raw,file={}", vars.display()),
    ];
    match state {
        None => drives.push(format!("format=raw,file={}", esp.image.display())),
        Some(state) => {
            drives.push(format!("if=virtio,format=raw,file={}", esp.image.display()));
            drives.push(format!(
                "if=virtio,format=raw,file={}",
                state.image.display()
            ));
        }
    }
    for drive in drives {
        args.push("-drive".into());
        args.push(drive);
    }
    Ok(args)
}

/// Runs qemu with `args` (its serial console on standard output) and kills it `after` the
/// console printed a line containing `marker`: the serial log, and whether the power was cut.
pub(crate) fn run_and_cut(
    args: Vec<String>,
    marker: &str,
    after: std::time::Duration,
    timeout_secs: u64,
) -> Result<(String, bool)> {
    use std::io::BufRead;
    use std::time::{Duration, Instant};
    let mut child = Command::new("qemu-system-x86_64")
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("cannot run qemu-system-x86_64")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(timeout_secs);
    let mut cut_at: Option<Instant> = None;
    let mut log = String::new();
    let cut = loop {
        let until = cut_at.map_or(deadline, |c| c.min(deadline));
        let wait = until.saturating_duration_since(Instant::now());
        match rx.recv_timeout(wait) {
            Ok(line) => {
                if cut_at.is_none() && line.contains(marker) {
                    cut_at = Some(Instant::now() + after);
                }
                log.push_str(&line);
                log.push('\n');
            }
            // The moment came (or the time ran out): pull the plug.
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => break cut_at.is_some(),
            // The guest powered off by itself.
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break false,
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    Ok((log, cut))
}

/// Boots a system guest: the ESP and the state disk as virtio disks (`vda`, `vdb`).
pub fn boot_system(esp: &Esp, state: &StateDisk, work: &Path, timeout_secs: u64) -> Result<String> {
    boot_with(esp, Some(state), work, timeout_secs)
}

fn boot_with(
    esp: &Esp,
    state: Option<&StateDisk>,
    work: &Path,
    timeout_secs: u64,
) -> Result<String> {
    let log = work.join("serial.log");
    let status = Command::new("timeout")
        .arg(timeout_secs.to_string())
        .arg("qemu-system-x86_64")
        .args(qemu_args(
            esp,
            state,
            work,
            &format!("file:{}", log.display()),
        )?)
        .status()
        .context("cannot run qemu-system-x86_64")?;
    let text = String::from_utf8_lossy(&std::fs::read(&log).unwrap_or_default()).into_owned();
    if !status.success() {
        bail!("the guest did not power off within {timeout_secs} s ({status}):\n{text}");
    }
    Ok(text)
}
