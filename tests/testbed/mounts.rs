//! Real file systems mounted for the length of a test (the tests run as root in the dev root):
//! a size-limited tmpfs, btrfs in a loop file, FAT through fusefat (this kernel has no vfat).
//! Unmounted when dropped.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A mounted file system.
pub struct Mounted {
    point: PathBuf,
    fuse: bool,
    _image_dir: Option<tempfile::TempDir>,
}

fn run(command: &mut Command) -> Result<()> {
    let output = command
        .output()
        .with_context(|| format!("cannot run {:?}", command.get_program()))?;
    if !output.status.success() {
        bail!(
            "{:?} failed: {}",
            command.get_program(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// An image file of `size_mb` MB in a temporary directory.
fn image(size_mb: u64, name: &str) -> Result<(tempfile::TempDir, PathBuf)> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join(name);
    std::fs::File::create(&path)?.set_len(size_mb * 1024 * 1024)?;
    Ok((dir, path))
}

impl Mounted {
    /// A tmpfs at `at`, limited to `size` (e.g. `2m`) when given.
    pub fn tmpfs(at: &Path, size: Option<&str>) -> Result<Self> {
        std::fs::create_dir_all(at)?;
        let mut command = Command::new("mount");
        command.args(["-t", "tmpfs"]);
        if let Some(size) = size {
            command.arg("-o").arg(format!("size={size}"));
        }
        run(command.arg("tmpfs").arg(at))?;
        Ok(Self {
            point: at.to_path_buf(),
            fuse: false,
            _image_dir: None,
        })
    }

    /// A btrfs file system of `size_mb` MB in a loop file, as `/system` is on KDE Linux.
    pub fn btrfs(at: &Path, size_mb: u64) -> Result<Self> {
        let (dir, image) = image(size_mb, "system.btrfs")?;
        run(Command::new("mkfs.btrfs").arg("-q").arg(&image))?;
        std::fs::create_dir_all(at)?;
        run(Command::new("mount")
            .args(["-o", "loop"])
            .arg(&image)
            .arg(at))?;
        Ok(Self {
            point: at.to_path_buf(),
            fuse: false,
            _image_dir: Some(dir),
        })
    }

    /// A FAT16 file system of `size_mb` MB (an ESP), made by mkfs.vfat and mounted read-write
    /// with fusefat.
    pub fn fat(at: &Path, size_mb: u64) -> Result<Self> {
        let (dir, image) = image(size_mb, "esp.img")?;
        run(Command::new("mkfs.vfat")
            .args(["-F", "16", "-s", "1", "-n", "ESP"])
            .arg(&image))?;
        std::fs::create_dir_all(at)?;
        run(Command::new("fusefat")
            .args(["-o", "rw+"])
            .arg(&image)
            .arg(at))?;
        Ok(Self {
            point: at.to_path_buf(),
            fuse: true,
            _image_dir: Some(dir),
        })
    }
}

/// Every file under `dir`, as (path relative to `dir`, contents).
fn read_tree(dir: &Path) -> Result<Vec<(PathBuf, Vec<u8>)>> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push((path.strip_prefix(dir)?.to_path_buf(), std::fs::read(&path)?));
            }
        }
    }
    Ok(files)
}

impl Mounted {
    /// Mounts a new file system over the directory `at` with `mount`, keeping what `at` held:
    /// its files are copied onto the new file system.
    pub fn keeping_contents(at: &Path, mount: impl FnOnce(&Path) -> Result<Self>) -> Result<Self> {
        let files = read_tree(at)?;
        std::fs::remove_dir_all(at)?;
        let mounted = mount(at)?;
        for (relative, bytes) in files {
            let path = at.join(relative);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(path, bytes)?;
        }
        Ok(mounted)
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        if self.fuse {
            let unmounted = Command::new("fusermount")
                .arg("-u")
                .arg(&self.point)
                .status();
            if matches!(unmounted, Ok(s) if s.success()) {
                return;
            }
        }
        let _ = Command::new("umount").arg(&self.point).status();
    }
}
