//! The disks of the VM guests, made and read without mounting: the state disk (ext4, through
//! e2fsprogs) and the ESP (FAT, through mtools), whole or as a partition of a GPT disk.

use super::{SYSTEMD_BOOT, run};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The system's state disk: an ext4 file system (journaled, as the state of a real system),
/// made from a root directory and read back without mounting (e2fsprogs).
pub struct StateDisk {
    /// The image.
    pub image: PathBuf,
}

impl StateDisk {
    /// Replays the journal and checks the file system; an error when it is damaged beyond what
    /// a preening check fixes (a power cut must never do that to ext4).
    fn replay_journal(&self) -> Result<()> {
        // -p: preen, replays the journal and fixes only what is safe; exit 1 means "fixed".
        let output = Command::new("e2fsck")
            .args(["-p", "-f"])
            .arg(&self.image)
            .output()
            .context("e2fsck")?;
        if !matches!(output.status.code(), Some(0 | 1)) {
            bail!(
                "e2fsck found errors it could not fix ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stdout)
            );
        }
        Ok(())
    }

    /// Replaces the file `/uc-actions` on the (unmounted) file system with `text`. After a
    /// power cut the journal is replayed first (as the kernel would at the next mount), or the
    /// replay would undo the change.
    pub fn set_actions(&self, text: &str) -> Result<()> {
        self.replay_journal()?;
        let file = self.image.with_extension("actions");
        std::fs::write(&file, text)?;
        // `rm` fails harmlessly when there is no such file yet.
        let _ = Command::new("debugfs")
            .args(["-w", "-R", "rm /uc-actions"])
            .arg(&self.image)
            .output();
        run(Command::new("debugfs")
            .arg("-w")
            .arg("-R")
            .arg(format!("write {} /uc-actions", file.display()))
            .arg(&self.image))
    }

    /// Makes a 512 MB ext4 image holding `root`.
    pub fn create(image: &Path, root: &Path) -> Result<Self> {
        Self::create_sized(image, root, "512M")
    }

    /// Makes an ext4 image of `size` (as mkfs.ext4 reads it: `1536M`) holding `root`.
    pub fn create_sized(image: &Path, root: &Path, size: &str) -> Result<Self> {
        run(Command::new("mkfs.ext4")
            .args(["-q", "-F", "-L", "state", "-d"])
            .arg(root)
            .arg(image)
            .arg(size))?;
        Ok(Self {
            image: image.to_path_buf(),
        })
    }

    /// Copies what the guest left into `dir` (a power cut's journal is replayed first, as the
    /// kernel would at the next mount).
    pub fn extract(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir)?;
        self.replay_journal()?;
        run(Command::new("debugfs")
            .arg("-R")
            .arg(format!("rdump / {}", dir.display()))
            .arg(&self.image))
    }
}

/// A FAT32 ESP image with systemd-boot and the given boot entries: the whole disk, or (as on a
/// real machine) the EFI system partition of a GPT disk.
pub struct Esp {
    /// The image.
    pub image: PathBuf,
    /// Where the file system starts in the image, in bytes (0: the whole image).
    offset: u64,
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
        let esp = Self {
            image: image.to_path_buf(),
            offset: 0,
        };
        esp.fill(entries_dir, loader_conf)?;
        Ok(esp)
    }

    /// A 256 MiB GPT disk whose one partition (1 MiB to 255 MiB) is the EFI system partition,
    /// with systemd-boot and every file of `entries_dir` in `EFI/Linux`: what systemd-boot,
    /// systemd-bless-boot and the helper find on a real machine.
    pub fn create_partitioned(image: &Path, entries_dir: &Path) -> Result<Self> {
        run(Command::new("truncate").args(["-s", "256M"]).arg(image))?;
        let mut sfdisk = Command::new("sfdisk");
        sfdisk
            .args(["--quiet", "--no-reread", "--no-tell-kernel"])
            .arg(image)
            .stdin(std::process::Stdio::piped());
        let mut child = sfdisk.spawn().context("sfdisk (util-linux)")?;
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().context("sfdisk stdin")?;
            stdin.write_all(
                b"label: gpt
start=2048, size=520192, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=\"esp\"\n",
            )?;
        }
        if !child.wait()?.success() {
            bail!("sfdisk could not partition {}", image.display());
        }
        // mkfs.vfat's offset is in sectors, its size in KiB.
        run(Command::new("mkfs.vfat")
            .args(["-F", "32", "--offset", "2048", "-n", "ESP"])
            .arg(image)
            .arg("260096"))?;
        let esp = Self {
            image: image.to_path_buf(),
            offset: 2048 * 512,
        };
        esp.fill(entries_dir, "")?;
        Ok(esp)
    }

    /// The image as mtools names it: `IMAGE@@OFFSET` for a partition.
    fn target(&self) -> String {
        if self.offset == 0 {
            self.image.display().to_string()
        } else {
            format!("{}@@{}", self.image.display(), self.offset)
        }
    }

    fn fill(&self, entries_dir: &Path, loader_conf: &str) -> Result<()> {
        let image = &self.image;
        let i = self.target();
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
        Ok(())
    }

    /// The file names in `EFI/Linux`, as the boot loader left them.
    pub fn entries(&self) -> Result<Vec<String>> {
        let output = mtools("mdir")
            .args(["-b", "-i"])
            .arg(self.target())
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
                .arg(self.target())
                .arg(format!("::/EFI/Linux/{name}"))
                .arg(dir.join(&name)))?;
        }
        Ok(())
    }
}
