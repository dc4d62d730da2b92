//! Systems shaped like KDE Linux, built in a temporary directory: os-release, the three transfer
//! files KDE Linux ships, real EROFS images in `/system`, UKI stand-ins on an ESP at `/efi`.

use anyhow::{Context, Result, bail};
use sha2::Digest;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The three transfer definitions of KDE Linux (see `kde-linux-updates.md`), with a mirror URL
/// that tests replace when they serve one.
pub const KDE_LINUX_TRANSFERS: [(&str, &str); 3] = [
    (
        "50-root-x86-64-erofs.transfer",
        "[Transfer]\n\
         ProtectVersion=%A\n\
         AppStream=https://mirror.invalid/kde-linux/org.kde.linux.metainfo.xml\n\
         \n\
         [Source]\n\
         Type=url-file\n\
         Path=https://mirror.invalid/kde-linux/sysupdate/v2/\n\
         MatchPattern=kde-linux_@v_root-x86-64.erofs\n\
         \n\
         [Target]\n\
         Type=regular-file\n\
         Path=/system\n\
         MatchPattern=kde-linux_@v.erofs\n\
         ReadOnly=yes\n\
         InstancesMax=4\n",
    ),
    (
        "50-root-x86-64-caibx.transfer",
        "[Transfer]\n\
         ProtectVersion=%A\n\
         \n\
         [Source]\n\
         Type=url-file\n\
         Path=https://mirror.invalid/kde-linux/sysupdate/v2/\n\
         MatchPattern=kde-linux_@v_root-x86-64.caibx\n\
         \n\
         [Target]\n\
         Type=regular-file\n\
         Path=/system\n\
         MatchPattern=kde-linux_@v.erofs.caibx\n\
         ReadOnly=yes\n\
         InstancesMax=4\n",
    ),
    (
        "60-esp.transfer",
        "[Transfer]\n\
         ProtectVersion=%A\n\
         \n\
         [Source]\n\
         Type=url-file\n\
         Path=https://mirror.invalid/kde-linux/sysupdate/v2/\n\
         MatchPattern=kde-linux_@v.efi\n\
         \n\
         [Target]\n\
         Type=regular-file\n\
         Path=/EFI/Linux\n\
         PathRelativeTo=boot\n\
         MatchPattern=kde-linux_@v+@l-@d.efi \\\n\
         \x20             kde-linux_@v+@l.efi \\\n\
         \x20             kde-linux_@v.efi \\\n\
         \x20             kdeos_@v+@l-@d.efi \\\n\
         \x20             kdeos_@v+@l.efi \\\n\
         \x20             kdeos_@v.efi\n\
         Mode=0644\n\
         TriesLeft=2\n\
         TriesDone=0\n\
         InstancesMax=4\n",
    ),
];

/// Names of the transfers, in file-name order (the order systemd-sysupdate applies them: the
/// chunk index sorts before the image, the UKI last).
pub const TRANSFER_NAMES: [&str; 3] = ["50-root-x86-64-caibx", "50-root-x86-64-erofs", "60-esp"];

/// How the `/usr` image of a version is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Images {
    /// Real EROFS images made by `mkfs.erofs` (needs erofs-utils).
    Erofs,
    /// Plain files with recognisable content (for tests that only read names and sizes).
    Plain,
}

/// One version to install into the system.
#[derive(Debug, Clone)]
pub struct VersionSpec {
    /// The version, e.g. `202603211640`.
    pub version: String,
    /// Whether the EROFS image is present.
    pub erofs: bool,
    /// Whether the chunk index is present.
    pub caibx: bool,
    /// The UKI's boot counter (`+left-done`), or `None` for a blessed entry; `Some(None)` for
    /// no UKI at all is expressed by `uki: false`.
    pub uki: bool,
    /// Boot counter of the UKI name: `(tries left, tries done)`.
    pub counter: Option<(u64, u64)>,
    /// Use the legacy `kdeos_` prefix for the UKI.
    pub legacy_name: bool,
}

impl VersionSpec {
    /// A complete, blessed version.
    pub fn complete(version: &str) -> Self {
        Self {
            version: version.to_string(),
            erofs: true,
            caibx: true,
            uki: true,
            counter: None,
            legacy_name: false,
        }
    }

    /// Paths (inside the root) of the files this version has, in transfer order.
    pub fn files(&self) -> Vec<(&'static str, PathBuf)> {
        let v = &self.version;
        let mut out = Vec::new();
        if self.caibx {
            out.push((
                TRANSFER_NAMES[0],
                PathBuf::from(format!("/system/kde-linux_{v}.erofs.caibx")),
            ));
        }
        if self.erofs {
            out.push((
                TRANSFER_NAMES[1],
                PathBuf::from(format!("/system/kde-linux_{v}.erofs")),
            ));
        }
        if self.uki {
            let prefix = if self.legacy_name {
                "kdeos"
            } else {
                "kde-linux"
            };
            let counter = self
                .counter
                .map(|(l, d)| format!("+{l}-{d}"))
                .unwrap_or_default();
            out.push((
                TRANSFER_NAMES[2],
                PathBuf::from(format!("/efi/EFI/Linux/{prefix}_{v}{counter}.efi")),
            ));
        }
        out
    }

    /// Transfers without a file for this version.
    pub fn missing(&self) -> Vec<&'static str> {
        let present: Vec<&str> = self.files().iter().map(|(t, _)| *t).collect();
        TRANSFER_NAMES
            .into_iter()
            .filter(|t| !present.contains(t))
            .collect()
    }
}

/// A KDE Linux-shaped root directory.
#[derive(Debug)]
pub struct KdeLinuxRoot {
    /// The root.
    pub root: PathBuf,
    /// The versions installed, as specified.
    pub versions: Vec<VersionSpec>,
    /// The booted version.
    pub booted: Option<String>,
}

impl KdeLinuxRoot {
    /// Builds the root under `root` (created if needed).
    pub fn create(
        root: &Path,
        versions: &[VersionSpec],
        booted: Option<&str>,
        images: Images,
    ) -> Result<Self> {
        let write = |path: &str, content: &[u8]| -> Result<()> {
            let full = root.join(path.trim_start_matches('/'));
            if let Some(parent) = full.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&full, content)
                .with_context(|| format!("cannot write {}", full.display()))
        };
        let mut os_release = String::from(
            "NAME=\"KDE Linux\"\nPRETTY_NAME=\"KDE Linux\"\nID=kde-linux\nIMAGE_ID=kde-linux\n",
        );
        if let Some(v) = booted {
            os_release.push_str(&format!("IMAGE_VERSION={v}\n"));
        }
        write("/etc/os-release", os_release.as_bytes())?;
        for (name, text) in KDE_LINUX_TRANSFERS {
            write(&format!("/usr/lib/sysupdate.d/{name}"), text.as_bytes())?;
        }
        std::fs::create_dir_all(root.join("efi/loader"))?;
        std::fs::create_dir_all(root.join("efi/EFI/Linux"))?;
        std::fs::create_dir_all(root.join("system"))?;
        for spec in versions {
            for (transfer, path) in spec.files() {
                let full = root.join(path.strip_prefix("/").unwrap_or(&path));
                match transfer {
                    "50-root-x86-64-erofs" => make_usr_image(&full, &spec.version, images)?,
                    "50-root-x86-64-caibx" => write(
                        &path.display().to_string(),
                        format!("chunk index stand-in for kde-linux {}\n", spec.version).as_bytes(),
                    )?,
                    _ => write(
                        &path.display().to_string(),
                        format!(
                            "MZ unified kernel image stand-in for kde-linux {}\n",
                            spec.version
                        )
                        .as_bytes(),
                    )?,
                }
            }
        }
        Ok(Self {
            root: root.to_path_buf(),
            versions: versions.to_vec(),
            booted: booted.map(str::to_string),
        })
    }

    /// Points every transfer at `url` (an HTTP mirror, or a local path for `regular-file`
    /// sources) and sets `Verify=`.
    pub fn use_source(&self, url: &str, verify: bool) -> Result<()> {
        let local = !url.starts_with("http");
        for (name, _) in KDE_LINUX_TRANSFERS {
            let file = self.root.join("usr/lib/sysupdate.d").join(name);
            let mut text = std::fs::read_to_string(&file)?
                .replace("https://mirror.invalid/kde-linux/sysupdate/v2/", url)
                .replace(
                    "[Transfer]\n",
                    &format!("[Transfer]\nVerify={}\n", if verify { "yes" } else { "no" }),
                );
            if local {
                text = text.replace("Type=url-file", "Type=regular-file");
            }
            std::fs::write(&file, text)?;
        }
        Ok(())
    }

    /// Sets `InstancesMax=` of every transfer with drop-ins in `/etc`, as an administrator would.
    pub fn set_instances_max(&self, max: u64) -> Result<()> {
        for name in TRANSFER_NAMES {
            let dropins = self.root.join(format!("etc/sysupdate.d/{name}.transfer.d"));
            std::fs::create_dir_all(&dropins)?;
            std::fs::write(
                dropins.join("max.conf"),
                format!("[Target]\nInstancesMax={max}\n"),
            )?;
        }
        Ok(())
    }

    /// The demo system: two complete versions, the newer one booted.
    pub fn demo(root: &Path, images: Images) -> Result<Self> {
        let versions = [
            VersionSpec::complete("202611200930"),
            VersionSpec::complete("202611251200"),
        ];
        Self::create(root, &versions, Some("202611251200"), images)
    }
}

/// Makes the `/usr` image of a version: a real EROFS file system holding an os-release.
pub(crate) fn make_usr_image(path: &Path, version: &str, images: Images) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    if images == Images::Plain {
        std::fs::write(
            path,
            format!("usr image stand-in for kde-linux {version}\n"),
        )?;
        return Ok(());
    }
    let content = tempfile::tempdir()?;
    let lib = content.path().join("lib");
    std::fs::create_dir_all(&lib)?;
    std::fs::write(
        lib.join("os-release"),
        format!("NAME=\"KDE Linux\"\nID=kde-linux\nIMAGE_ID=kde-linux\nIMAGE_VERSION={version}\n"),
    )?;
    let output = Command::new("mkfs.erofs")
        .arg("--quiet")
        .arg(path)
        .arg(content.path())
        .output()
        .context("cannot run mkfs.erofs (install erofs-utils, or run through `cargo xtask`)")?;
    if !output.status.success() {
        bail!(
            "mkfs.erofs failed for {}: {}",
            path.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// (path inside the root, size, SHA-256, mode) of every file under /system and /efi.
pub fn installed_files(root: &Path) -> Vec<(String, u64, String, u32)> {
    let mut out = Vec::new();
    let mut stack = vec![root.join("system"), root.join("efi")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let meta = entry.metadata().expect("metadata");
            if meta.is_dir() {
                stack.push(path);
                continue;
            }
            let digest = sha2::Sha256::digest(std::fs::read(&path).expect("read"));
            out.push((
                path.strip_prefix(root)
                    .expect("inside")
                    .display()
                    .to_string(),
                meta.len(),
                digest.iter().map(|b| format!("{b:02x}")).collect(),
                std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o7777,
            ));
        }
    }
    out.sort();
    out
}

/// Makes an EROFS image of `tree` as KDE Linux makes its images: zstd, 64 KiB clusters and
/// chunks, reproducible (time 0, mtimes ignored), so that unchanged files land in the same
/// chunks from one build to the next.
pub fn kde_linux_erofs(tree: &Path, image: &Path) -> Result<()> {
    let output = Command::new("mkfs.erofs")
        .args([
            "-zzstd",
            "-C",
            "65536",
            "--chunksize",
            "65536",
            "-T0",
            "--ignore-mtime",
        ])
        .arg("--quiet")
        .arg(image)
        .arg(tree)
        .output()
        .context("cannot run mkfs.erofs (install erofs-utils, or run through `cargo xtask`)")?;
    if !output.status.success() {
        bail!(
            "mkfs.erofs failed for {}: {}",
            image.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// The demo's `/usr` image of `version`, made as KDE Linux makes its images: a tree that every
/// version shares (about 3 MB of libraries and text), its os-release, and one file that differs
/// from version to version, so that an update between two of them is a small delta.
pub fn demo_usr_image(image: &Path, version: &str) -> Result<()> {
    let tree = tempfile::tempdir()?;
    let lib = tree.path().join("lib");
    for i in 0..160u64 {
        let path = lib.join(format!("kf6/part{}/lib{i}.so", i % 8));
        std::fs::create_dir_all(path.parent().context("a parent")?)?;
        let mut state = i * 0x9e37_79b9 + 1;
        let len = 4096 + (i as usize * 7919) % (32 * 1024);
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                if i % 2 == 0 {
                    b"plasma kirigami qt6 \n"[(state % 20) as usize]
                } else {
                    state as u8
                }
            })
            .collect();
        std::fs::write(path, bytes)?;
    }
    std::fs::write(
        lib.join("os-release"),
        format!("NAME=\"KDE Linux\"\nID=kde-linux\nIMAGE_ID=kde-linux\nIMAGE_VERSION={version}\n"),
    )?;
    std::fs::write(
        lib.join("kf6/build-id"),
        format!("{version}\n").repeat(2048),
    )?;
    if let Some(parent) = image.parent() {
        std::fs::create_dir_all(parent)?;
    }
    kde_linux_erofs(tree.path(), image)
}

/// Publishes `image` as a site does, with the helper's `chunk` command: its casync index at
/// `index` and, given a store, its chunks there (casync's default sizes).
pub fn publish_index(image: &Path, index: &Path, store: Option<&Path>) -> Result<()> {
    let mut command = Command::new(crate::binary("update-center-helper")?);
    command.args(["chunk", "--index"]).arg(index);
    if let Some(store) = store {
        command.arg("--store").arg(store);
    }
    let output = command.arg(image).output()?;
    if !output.status.success() {
        bail!(
            "update-center-helper chunk {}: {}",
            image.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}
