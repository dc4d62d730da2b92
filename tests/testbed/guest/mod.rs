//! The systemd guest: a KDE Linux-shaped OS made from Debian 13 packages, booted by OVMF and
//! systemd-boot under qemu (TCG), with systemd as PID 1, the system bus, polkitd, udev,
//! systemd-networkd and systemd-bless-boot, and the helper, the CLI and the units installed
//! by `cargo xtask install` as a distribution would.
//!
//! The layout is KDE Linux's: `/usr` of each version is an EROFS image in `/system`
//! (`mkfs.erofs -zzstd -C 65536 --chunksize 65536 -T0 --ignore-mtime`), each version has a
//! unified kernel image on the ESP (the EFI system partition of a GPT disk) whose command line
//! names that image, and `/etc` and `/var` persist on a state disk (ext4). A small initramfs
//! mounts the state disk as the root and the version's image on `/usr`, then hands over to
//! systemd. The mirror is a real HTTP server on the host (qemu's user network reaches it at
//! 10.0.2.2), signed with GnuPG; the guest's keyring is in `/usr` as on KDE Linux.
//!
//! The test's harness in the guest (`/etc/uc-scenario`, not part of the product) says on the
//! serial console which version booted and how the boot went, then runs this boot's action
//! (a line of `/uc-actions`, written by the host), and powers off or reboots.
//!
//! Building the versions takes about a minute; they are cached under the target directory,
//! keyed by the base image (`cargo xtask vm-image`) and everything `cargo xtask install` lays
//! out, so a second run builds nothing.

mod harness;
mod machine;

pub use machine::{Machine, booted, said};

use crate::gpg::GpgKey;
use crate::vm::{pack, run};
use anyhow::{Context, Result, bail};
use harness::{HARNESS, HARNESS_LIB, HARNESS_UNIT, INIT, POLKIT_RULE, WRITEBACK};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The version installed and running when a machine is made.
pub const OLD: &str = "202611010800";
/// A newer version: one package more (`hello`).
pub const NEW: &str = "202611150800";
/// The newest version: two packages more (`hello`, `tree`) and a required health check that
/// fails, so that it never becomes healthy.
pub const BAD: &str = "202611200930";

/// (version, packages unpacked into its `/usr` on top of the base, fails its health check).
const VERSIONS: [(&str, &[&str], bool); 3] = [
    (OLD, &[], false),
    (NEW, &["hello"], false),
    (BAD, &["hello", "tree"], true),
];

/// Bumped when the way the versions are made changes.
const RECIPE: &str = "guest-os 1";

/// Modules the initramfs loads (with what they depend on): the virtio disks, the state disk's
/// ext4, and EROFS images on loop devices.
const INITRD_MODULES: [&str; 4] = ["virtio_blk", "ext4", "loop", "erofs"];

/// The OS versions, built (or found in the cache).
pub struct GuestOs {
    /// The cache entry: `kde-linux_V.erofs`, `kde-linux_V.efi`, `state/` (the persistent part).
    pub dir: PathBuf,
    /// The key that signs the mirror; its keyring is in every version's `/usr`.
    pub key: GpgKey,
}

fn target_dir() -> Result<PathBuf> {
    // target/debug/deps/TEST -> target
    let helper = crate::binary("update-center-helper")?;
    Ok(helper
        .parent()
        .and_then(Path::parent)
        .context("target directory")?
        .to_path_buf())
}

fn sh(script: &str) -> Result<()> {
    run(Command::new("sh").arg("-ec").arg(script))
}

fn quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', "'\\''"))
}

/// A SHA-256 over every file under `dir` (path below `top`, mode, bytes; links by target), in
/// path order.
fn hash_tree(hash: &mut sha2::Sha256, top: &Path, dir: &Path) -> Result<()> {
    use sha2::Digest;
    use std::os::unix::fs::PermissionsExt;
    let mut entries: Vec<_> = std::fs::read_dir(dir)?
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        let meta = std::fs::symlink_metadata(&path)?;
        hash.update(path.strip_prefix(top)?.as_os_str().as_encoded_bytes());
        hash.update(meta.permissions().mode().to_le_bytes());
        if meta.is_symlink() {
            hash.update(std::fs::read_link(&path)?.as_os_str().as_encoded_bytes());
        } else if meta.is_dir() {
            hash_tree(hash, top, &path)?;
        } else {
            hash.update(std::fs::read(&path)?);
        }
    }
    Ok(())
}

impl GuestOs {
    /// The versions of the current build, made now unless cached.
    pub fn get() -> Result<Self> {
        use sha2::Digest;
        let images = target_dir()?.join("vm-image");
        let base = images.join("base.tar");
        let base_key = std::fs::read_to_string(images.join("base.key"))
            .ok()
            .filter(|_| base.exists())
            .context(
                "the systemd guest's OS image is missing: `cargo xtask test` and `cargo xtask vm-test` build it (or `cargo xtask vm-image`)",
            )?;
        let key = GpgKey::kept_in(&images.join("signing-key"), "KDE Linux guest images")?;
        // What `cargo xtask install` lays out now decides whether the cache is current.
        let staging = tempfile::Builder::new()
            .prefix(".install-")
            .tempdir_in(&images)?;
        let product = staging.path().join("product");
        let output = Command::new(crate::binary("xtask")?)
            .args(["install", "--profile", "debug", "--no-build", "--destdir"])
            .arg(&product)
            .output()
            .context("cargo xtask install")?;
        if !output.status.success() {
            bail!(
                "xtask install failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let mut hash = sha2::Sha256::new();
        hash.update(RECIPE);
        hash.update(base_key.trim());
        hash.update(INIT);
        hash.update(HARNESS);
        hash.update(HARNESS_LIB);
        hash.update(HARNESS_UNIT);
        hash.update(POLKIT_RULE);
        hash.update(WRITEBACK);
        hash.update(key.public_keyring()?);
        hash_tree(&mut hash, &product, &product)?;
        let name: String = hash.finalize()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let dir = images.join(format!("os-{name}"));
        let os = Self { dir, key };
        if os.dir.join("done").exists() {
            return Ok(os);
        }
        // One build at a time (the tests of a binary run in parallel).
        let lock = std::fs::File::create(images.join("os.lock"))?;
        lock.lock()?;
        if os.dir.join("done").exists() {
            return Ok(os);
        }
        let started = std::time::Instant::now();
        let partial = images.join(format!("os-{name}.partial"));
        if partial.exists() {
            std::fs::remove_dir_all(&partial)?;
        }
        std::fs::create_dir_all(&partial)?;
        os.build(&partial, &base, &product)?;
        std::fs::write(partial.join("done"), "")?;
        std::fs::rename(&partial, &os.dir)?;
        // Older builds take ~300 MB each.
        for entry in std::fs::read_dir(&images)?.flatten() {
            let n = entry.file_name().to_string_lossy().into_owned();
            if n.starts_with("os-") && entry.path() != os.dir {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        eprintln!(
            "guest OS versions built in {:.0} s",
            started.elapsed().as_secs_f64()
        );
        Ok(os)
    }

    fn build(&self, out: &Path, base: &Path, product: &Path) -> Result<()> {
        let root = out.join("root");
        std::fs::create_dir_all(&root)?;
        run(Command::new("tar")
            .arg("-xf")
            .arg(base)
            .arg("-C")
            .arg(&root))?;
        let release = std::fs::read_dir(root.join("usr/lib/modules"))?
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .next()
            .context("the base image has no kernel modules")?;
        let kernel = root.join(format!("boot/vmlinuz-{release}"));
        // Modules: what a virtual machine needs, not every driver Debian builds.
        let kmods = root.join("usr/lib/modules").join(&release).join("kernel");
        sh(&format!(
            "cd {k}; rm -rf sound net/[!c]* net/c[!o]*; \
             cd drivers; for d in *; do case $d in block|virtio|char|net|input|firmware|hid|rtc) ;; *) rm -rf $d ;; esac; done; \
             cd net; for f in *; do case $f in virtio_net.ko*|net_failover.ko*) ;; *) rm -rf $f ;; esac; done",
            k = quote(&kmods)
        ))?;
        run(Command::new("depmod").arg("-b").arg(&root).arg(&release))?;
        // The product, as `cargo xtask install` lays it out, stripped as a distribution does.
        sh(&format!("cp -a {}/. {}", quote(product), quote(&root)))?;
        for binary in [
            "usr/bin/update-center",
            "usr/bin/update-center-cli",
            "usr/bin/update-center-notifier",
            "usr/libexec/update-center-helper",
            "usr/lib/x86_64-linux-gnu/qt6/plugins/plasma/kcms/systemsettings/kcm_updatecenter.so",
        ] {
            run(Command::new("strip")
                .arg("--strip-debug")
                .arg(root.join(binary)))?;
        }
        for (name, text) in crate::system::KDE_LINUX_TRANSFERS {
            let dir = root.join("usr/lib/sysupdate.d");
            std::fs::create_dir_all(&dir)?;
            std::fs::write(dir.join(name), text)?;
        }
        self.key.install_keyring(&root)?;
        self.configure(&root)?;
        self.initrd(&root, &release, out)?;
        // Each version: its /usr as an EROFS image and its unified kernel image.
        for (version, packages, bad) in VERSIONS {
            let usr = out.join(format!("usr-{version}"));
            sh(&format!(
                "cp -a {} {}",
                quote(&root.join("usr")),
                quote(&usr)
            ))?;
            for package in packages {
                let unpacked = out.join(format!("deb-{package}"));
                sh(&format!(
                    "dpkg-deb -x {root}/var/cache/uc-debs/{package}_*.deb {u} && cp -a {u}/usr/. {usr} && rm -rf {u}",
                    root = quote(&root),
                    u = quote(&unpacked),
                    usr = quote(&usr)
                ))?;
            }
            let os_release = usr.join("lib/os-release");
            let _ = std::fs::remove_file(&os_release);
            std::fs::write(
                &os_release,
                format!(
                    "NAME=\"KDE Linux\"\nPRETTY_NAME=\"KDE Linux {version}\"\nID=kde-linux\nID_LIKE=debian\n\
                     IMAGE_ID=kde-linux\nIMAGE_VERSION={version}\n"
                ),
            )?;
            if bad {
                let check = usr.join("lib/update-center/health.d/20-serves.required");
                std::fs::write(
                    &check,
                    "#!/bin/sh\necho \"this version cannot serve (the test built it so)\"\nexit 1\n",
                )?;
                std::fs::set_permissions(
                    &check,
                    std::os::unix::fs::PermissionsExt::from_mode(0o755),
                )?;
            }
            crate::system::kde_linux_erofs(&usr, &out.join(format!("kde-linux_{version}.erofs")))?;
            run(Command::new("ukify")
                .arg("build")
                .arg("--linux")
                .arg(&kernel)
                .arg("--initrd")
                .arg(out.join("initrd.img"))
                .arg("--cmdline")
                .arg(format!("console=ttyS0 quiet uc.version={version}"))
                .arg(format!("--os-release=@{}", os_release.display()))
                .arg("--output")
                .arg(out.join(format!("kde-linux_{version}.efi"))))?;
            std::fs::remove_dir_all(&usr)?;
        }
        // The persistent part: everything but /usr (a mount point) and the kernel's files.
        sh(&format!(
            "cd {r}; rm -rf usr boot/* var/cache/uc-debs vmlinuz* initrd.img*; mkdir usr system efi",
            r = quote(&root)
        ))?;
        std::fs::rename(&root, out.join("state"))?;
        Ok(())
    }

    /// `/etc` of the machine: identity, mounts, network, users, the site's polkit rule, slow
    /// writeback, the units enabled, and the test's harness.
    fn configure(&self, root: &Path) -> Result<()> {
        let write = |path: &str, text: &str, mode: u32| -> Result<()> {
            let file = root.join(path);
            if let Some(parent) = file.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let _ = std::fs::remove_file(&file);
            std::fs::write(&file, text)?;
            std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(mode))?;
            Ok(())
        };
        write(
            "etc/machine-id",
            "6b64654c696e75780000000000000001\n",
            0o444,
        )?;
        write("etc/hostname", "kde-linux-guest\n", 0o644)?;
        write(
            "etc/fstab",
            "/dev/vda1 /efi vfat umask=0077,nofail 0 2\n",
            0o644,
        )?;
        write(
            "etc/systemd/network/50-virtio.network",
            "[Match]\nName=en* eth*\n\n[Network]\nDHCP=ipv4\n",
            0o644,
        )?;
        write(
            "etc/polkit-1/rules.d/50-update-center-admins.rules",
            POLKIT_RULE,
            0o644,
        )?;
        write("etc/sysctl.d/90-power-cut.conf", WRITEBACK, 0o644)?;
        write("etc/uc-scenario/run", HARNESS, 0o755)?;
        write("etc/uc-scenario/lib.sh", HARNESS_LIB, 0o644)?;
        write(
            "etc/systemd/system/uc-scenario.service",
            HARNESS_UNIT,
            0o644,
        )?;
        write("uc-actions", "", 0o644)?;
        // No login prompt on the serial console: the harness writes there.
        std::os::unix::fs::symlink(
            "/dev/null",
            root.join("etc/systemd/system/serial-getty@.service"),
        )?;
        for user in [&["-G", "sudo", "alice"][..], &["bob"][..]] {
            run(Command::new("chroot")
                .arg(root)
                .args(["useradd", "-m", "-s", "/bin/sh"])
                .args(user))?;
        }
        // The units, enabled from their [Install] sections as a distribution's package does.
        run(Command::new("systemctl")
            .arg(format!("--root={}", root.display()))
            .args([
                "enable",
                "update-center-health-check.service",
                "update-center-boot-record.service",
                "systemd-networkd.service",
                "uc-scenario.service",
            ]))?;
        Ok(())
    }

    /// The initramfs: busybox, the modules (unpacked: busybox's insmod reads no .ko.xz) in
    /// the order they load, and `/init`.
    fn initrd(&self, root: &Path, release: &str, out: &Path) -> Result<()> {
        let dir = out.join("initrd");
        for sub in ["bin", "proc", "sys", "dev", "sysroot", "lib/modules"] {
            std::fs::create_dir_all(dir.join(sub))?;
        }
        std::fs::copy("/bin/busybox", dir.join("bin/busybox"))
            .context("no /bin/busybox (busybox-static)")?;
        for applet in [
            "sh",
            "mount",
            "umount",
            "sed",
            "cat",
            "echo",
            "mkdir",
            "insmod",
            "poweroff",
            "sync",
            "switch_root",
        ] {
            std::os::unix::fs::symlink("busybox", dir.join("bin").join(applet))?;
        }
        // (module name, file), dependencies and soft pre-dependencies first.
        let mut order: Vec<(String, PathBuf)> = Vec::new();
        fn modinfo(
            root: &Path,
            release: &str,
            field: &[&str],
            module: &str,
        ) -> Result<Option<String>> {
            let output = Command::new("modinfo")
                .arg("-b")
                .arg(root)
                .args(["-k", release])
                .args(field)
                .arg(module)
                .output()?;
            Ok(output
                .status
                .success()
                .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string()))
        }
        fn visit(
            root: &Path,
            release: &str,
            module: &str,
            order: &mut Vec<(String, PathBuf)>,
        ) -> Result<()> {
            // An alias (crc32c) resolves to a module file; a module built into the kernel has
            // none (nothing to load).
            let Some(file) = modinfo(root, release, &["-n"], module)? else {
                return Ok(());
            };
            let file = file.lines().next().unwrap_or_default().to_string();
            if !file.ends_with(".ko.xz") && !file.ends_with(".ko") {
                return Ok(());
            }
            let name = Path::new(&file)
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.split(".ko").next())
                .context("module file name")?
                .to_string();
            if order.iter().any(|(m, _)| *m == name) {
                return Ok(());
            }
            let depends = modinfo(root, release, &["-F", "depends"], &name)?.unwrap_or_default();
            let softdeps = modinfo(root, release, &["-F", "softdep"], &name)?.unwrap_or_default();
            let pre: Vec<String> = softdeps
                .lines()
                .filter_map(|l| l.trim().strip_prefix("pre:"))
                .flat_map(|l| l.split_whitespace().map(str::to_string))
                .collect();
            for dep in depends
                .split(',')
                .map(str::to_string)
                .chain(pre)
                .filter(|d| !d.is_empty())
            {
                visit(root, release, &dep, order)?;
            }
            let path = if file.starts_with(&*root.to_string_lossy()) {
                PathBuf::from(file)
            } else {
                root.join(file.trim_start_matches('/'))
            };
            order.push((name, path));
            Ok(())
        }
        for module in INITRD_MODULES {
            visit(root, release, module, &mut order)?;
        }
        for (module, path) in &order {
            let unpacked = Command::new("xz").arg("-dc").arg(path).output()?;
            if !unpacked.status.success() {
                bail!("cannot unpack {}", path.display());
            }
            std::fs::write(
                dir.join(format!("lib/modules/{module}.ko")),
                unpacked.stdout,
            )?;
        }
        let order: Vec<&str> = order.iter().map(|(m, _)| m.as_str()).collect();
        std::fs::write(dir.join("modules"), order.join("\n") + "\n")?;
        let init = dir.join("init");
        std::fs::write(&init, INIT)?;
        std::fs::set_permissions(&init, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
        pack(&dir, &out.join("initrd.img"))?;
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }
}
