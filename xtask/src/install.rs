//! `cargo xtask install --destdir DIR`: lays out the binaries, data files, icon and docs in the
//! usual paths under DIR (as a distribution package or an image build would), after a release
//! build. Translations are Fluent files built into the binaries. `--profile debug` takes the
//! debug build; `--no-build` uses what is built already.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// (source in the checkout, destination under DESTDIR, mode).
const FILES: &[(&str, &str, u32)] = &[
    (
        "data/org.kde.updatecenter.desktop",
        "usr/share/applications/org.kde.updatecenter.desktop",
        0o644,
    ),
    (
        "data/org.kde.updatecenter.metainfo.xml",
        "usr/share/metainfo/org.kde.updatecenter.metainfo.xml",
        0o644,
    ),
    (
        "icons/org.kde.updatecenter.svg",
        "usr/share/icons/hicolor/scalable/apps/org.kde.updatecenter.svg",
        0o644,
    ),
    (
        "data/dbus/org.kde.UpdateCenter1.conf",
        "usr/share/dbus-1/system.d/org.kde.UpdateCenter1.conf",
        0o644,
    ),
    (
        "data/dbus/org.kde.UpdateCenter1.service",
        "usr/share/dbus-1/system-services/org.kde.UpdateCenter1.service",
        0o644,
    ),
    (
        "data/dbus/org.kde.UpdateCenter1.xml",
        "usr/share/dbus-1/interfaces/org.kde.UpdateCenter1.xml",
        0o644,
    ),
    (
        "data/polkit/org.kde.updatecenter.policy",
        "usr/share/polkit-1/actions/org.kde.updatecenter.policy",
        0o644,
    ),
    (
        "data/systemd/update-center-helper.service",
        "usr/lib/systemd/system/update-center-helper.service",
        0o644,
    ),
    (
        "data/systemd/update-center-fetch.socket",
        "usr/lib/systemd/system/update-center-fetch.socket",
        0o644,
    ),
    (
        "data/systemd/update-center-fetch@.service",
        "usr/lib/systemd/system/update-center-fetch@.service",
        0o644,
    ),
    (
        "data/systemd/update-center-health-check.service",
        "usr/lib/systemd/system/update-center-health-check.service",
        0o644,
    ),
    (
        "data/systemd/update-center-boot-record.service",
        "usr/lib/systemd/system/update-center-boot-record.service",
        0o644,
    ),
    (
        "data/systemd/update-center-check.service",
        "usr/lib/systemd/system/update-center-check.service",
        0o644,
    ),
    (
        "data/systemd/update-center-check.timer",
        "usr/lib/systemd/system/update-center-check.timer",
        0o644,
    ),
    (
        "data/health.d/10-units-active.required",
        "usr/lib/update-center/health.d/10-units-active.required",
        0o755,
    ),
    (
        "data/health.d/50-nvidia-gpus.wanted",
        "usr/lib/update-center/health.d/50-nvidia-gpus.wanted",
        0o755,
    ),
    (
        "docs/lifecycle.md",
        "usr/share/doc/update-center/lifecycle.md",
        0o644,
    ),
    ("docs/json.md", "usr/share/doc/update-center/json.md", 0o644),
    (
        "data/systemd/user/update-center-notifier.service",
        "usr/lib/systemd/user/update-center-notifier.service",
        0o644,
    ),
    (
        "data/autostart/org.kde.updatecenter.notifier.desktop",
        "etc/xdg/autostart/org.kde.updatecenter.notifier.desktop",
        0o644,
    ),
    ("README.md", "usr/share/doc/update-center/README.md", 0o644),
];

/// (binary, destination).
const BINARIES: &[(&str, &str)] = &[
    ("update-center", "usr/bin/update-center"),
    ("update-center-cli", "usr/bin/update-center-cli"),
    ("update-center-helper", "usr/libexec/update-center-helper"),
    ("update-center-notifier", "usr/bin/update-center-notifier"),
    // The plugin id is the file name: System Settings finds it here.
    (
        "libkcm_updatecenter.so",
        "usr/lib/x86_64-linux-gnu/qt6/plugins/plasma/kcms/systemsettings/kcm_updatecenter.so",
    ),
];

/// Parsed options.
pub struct Options {
    destdir: PathBuf,
    profile: String,
    build: bool,
}

/// Parses `--destdir DIR [--profile release|debug] [--no-build]`.
pub fn options(rest: &[String]) -> Result<Options> {
    let mut o = Options {
        destdir: PathBuf::new(),
        profile: "release".into(),
        build: true,
    };
    let mut iter = rest.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--destdir" => {
                let dir = PathBuf::from(iter.next().context("--destdir needs a directory")?);
                o.destdir = if dir.is_absolute() {
                    dir
                } else {
                    std::env::current_dir()?.join(dir)
                };
            }
            "--profile" => {
                o.profile = iter
                    .next()
                    .context("--profile needs release or debug")?
                    .clone()
            }
            "--no-build" => o.build = false,
            other => bail!("install: unknown option `{other}`"),
        }
    }
    if o.destdir.as_os_str().is_empty() {
        bail!("install needs --destdir DIR");
    }
    if o.profile != "release" && o.profile != "debug" {
        bail!("--profile is release or debug");
    }
    Ok(o)
}

impl Options {
    /// The destination, for the bwrap bind.
    pub fn destdir(&self) -> &Path {
        &self.destdir
    }
}

fn copy(from: &Path, to: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::copy(from, to)
        .with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))?;
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(mode))?;
    Ok(())
}

/// Builds (unless told not to) and lays everything out.
pub fn install(checkout: &Path, o: &Options) -> Result<()> {
    if o.build {
        let mut command =
            std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        command.args([
            "build",
            "-p",
            "update-center",
            "-p",
            "update-center-cli",
            "-p",
            "update-center-helper",
            "-p",
            "update-center-notifier",
            "-p",
            "update-center-kcm",
        ]);
        if o.profile == "release" {
            command.arg("--release");
        }
        let status = command.status()?;
        if !status.success() {
            bail!("cargo build failed ({status})");
        }
    }
    let bins = crate::env::target_dir()?.join(&o.profile);
    for (name, to) in BINARIES {
        copy(&bins.join(name), &o.destdir.join(to), 0o755)?;
    }
    for (from, to, mode) in FILES {
        copy(&checkout.join(from), &o.destdir.join(to), *mode)?;
    }
    for (binary, args, to) in GENERATED {
        generate(&bins.join(binary), args, &o.destdir.join(to))?;
    }
    println!("installed into {}", o.destdir.display());
    Ok(())
}

/// Files the binaries write about themselves, from the same argument definitions as their
/// `--help`: (binary, its arguments, destination under DESTDIR).
const GENERATED: &[(&str, &[&str], &str)] = &[
    (
        "update-center-cli",
        &["manpage"],
        "usr/share/man/man1/update-center-cli.1",
    ),
    (
        "update-center-helper",
        &["manpage"],
        "usr/share/man/man8/update-center-helper.8",
    ),
    (
        "update-center-cli",
        &["completions", "bash"],
        "usr/share/bash-completion/completions/update-center-cli",
    ),
    (
        "update-center-cli",
        &["completions", "zsh"],
        "usr/share/zsh/site-functions/_update-center-cli",
    ),
    (
        "update-center-cli",
        &["completions", "fish"],
        "usr/share/fish/vendor_completions.d/update-center-cli.fish",
    ),
];

/// Runs `binary ARGS` and writes what it prints to `to` (0644).
fn generate(binary: &Path, args: &[&str], to: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let output = std::process::Command::new(binary)
        .args(args)
        .output()
        .with_context(|| format!("cannot run {}", binary.display()))?;
    if !output.status.success() || output.stdout.is_empty() {
        bail!(
            "{} {} failed: {}",
            binary.display(),
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(to, &output.stdout)?;
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o644))?;
    Ok(())
}
