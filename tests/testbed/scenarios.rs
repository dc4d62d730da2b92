//! Named systems with a mirror, for the differential tests against systemd-sysupdate: each
//! builds a KDE Linux root and the mirror it updates from, then applies its own twist.

use crate::mirror::{self, MirrorVersion};
use crate::system::{Images, KdeLinuxRoot, VersionSpec};
use anyhow::Result;
use std::path::Path;

/// A system and its mirror.
pub struct Scenario {
    /// Short name, used in messages.
    pub name: &'static str,
    /// Installed versions.
    pub installed: Vec<VersionSpec>,
    /// The running version.
    pub booted: &'static str,
    /// What the mirror offers.
    pub mirror: Vec<MirrorVersion>,
    /// Changes to the root after it is built (drop-ins, features, legacy files...).
    pub twist: fn(&Path) -> Result<()>,
}

fn write(root: &Path, path: &str, text: &str) -> Result<()> {
    let full = root.join(path);
    if let Some(parent) = full.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(full, text)?;
    Ok(())
}

fn edit(root: &Path, path: &str, from: &str, to: &str) -> Result<()> {
    let full = root.join(path);
    let text = std::fs::read_to_string(&full)?;
    anyhow::ensure!(text.contains(from), "{path} has no `{from}`");
    std::fs::write(full, text.replacen(from, to, 1))?;
    Ok(())
}

fn no_twist(_: &Path) -> Result<()> {
    Ok(())
}

fn complete(versions: &[&str]) -> Vec<VersionSpec> {
    versions.iter().map(|v| VersionSpec::complete(v)).collect()
}

fn offered(versions: &[&str]) -> Vec<MirrorVersion> {
    versions
        .iter()
        .map(|v| MirrorVersion::complete(v))
        .collect()
}

/// Every scenario.
pub fn all() -> Vec<Scenario> {
    let on_trial = |v: &str, left, done| VersionSpec {
        counter: Some((left, done)),
        ..VersionSpec::complete(v)
    };
    vec![
        Scenario {
            name: "kde-linux-four-installed",
            installed: vec![
                VersionSpec::complete("202610010800"),
                VersionSpec::complete("202610150800"),
                VersionSpec::complete("202611010800"),
                on_trial("202611200930", 1, 1),
            ],
            booted: "202611010800",
            mirror: offered(&[
                "202611010800",
                "202611200930",
                "202611250800",
                "202611260800",
            ]),
            twist: no_twist,
        },
        Scenario {
            name: "boot-counters",
            installed: vec![
                on_trial("202611010800", 0, 3),
                on_trial("202611150800", 2, 0),
                on_trial("202611200930", 1, 1),
            ],
            booted: "202611150800",
            mirror: offered(&["202611250800"]),
            twist: no_twist,
        },
        Scenario {
            name: "legacy-kdeos-names",
            installed: vec![
                VersionSpec {
                    legacy_name: true,
                    ..VersionSpec::complete("202501010800")
                },
                VersionSpec {
                    legacy_name: true,
                    counter: Some((1, 1)),
                    ..VersionSpec::complete("202502010800")
                },
                VersionSpec::complete("202611010800"),
            ],
            booted: "202502010800",
            mirror: offered(&["202611250800"]),
            twist: no_twist,
        },
        Scenario {
            name: "incomplete-installed",
            installed: vec![
                VersionSpec::complete("202611010800"),
                VersionSpec {
                    uki: false,
                    ..VersionSpec::complete("202611200930")
                },
            ],
            booted: "202611010800",
            mirror: offered(&["202611200930", "202611250800"]),
            twist: no_twist,
        },
        Scenario {
            name: "mirror-missing-one-file",
            installed: complete(&["202611010800"]),
            booted: "202611010800",
            mirror: vec![
                MirrorVersion::complete("202611200930"),
                MirrorVersion {
                    erofs: false,
                    ..MirrorVersion::complete("202611250800")
                },
            ],
            twist: no_twist,
        },
        Scenario {
            name: "feature-off",
            installed: vec![VersionSpec {
                caibx: false,
                ..VersionSpec::complete("202611010800")
            }],
            booted: "202611010800",
            mirror: vec![MirrorVersion {
                caibx: false,
                ..MirrorVersion::complete("202611250800")
            }],
            twist: |root| {
                edit(
                    root,
                    "usr/lib/sysupdate.d/50-root-x86-64-caibx.transfer",
                    "[Transfer]\n",
                    "[Transfer]\nFeatures=delta\n",
                )?;
                write(
                    root,
                    "usr/lib/sysupdate.d/delta.feature",
                    "[Feature]\nDescription=Delta downloads\nEnabled=no\n",
                )
            },
        },
        Scenario {
            name: "feature-on",
            installed: complete(&["202611010800"]),
            booted: "202611010800",
            mirror: vec![
                MirrorVersion::complete("202611200930"),
                MirrorVersion {
                    caibx: false,
                    ..MirrorVersion::complete("202611250800")
                },
            ],
            twist: |root| {
                edit(
                    root,
                    "usr/lib/sysupdate.d/50-root-x86-64-caibx.transfer",
                    "[Transfer]\n",
                    "[Transfer]\nFeatures=delta\n",
                )?;
                write(
                    root,
                    "usr/lib/sysupdate.d/delta.feature",
                    "[Feature]\nEnabled=no\n",
                )?;
                write(
                    root,
                    "etc/sysupdate.d/delta.feature.d/on.conf",
                    "[Feature]\nEnabled=yes\n",
                )
            },
        },
        Scenario {
            name: "drop-in-in-etc",
            installed: complete(&["202610010800", "202611010800"]),
            booted: "202611010800",
            mirror: offered(&["202611200930"]),
            twist: |root| {
                for name in ["50-root-x86-64-erofs", "50-root-x86-64-caibx", "60-esp"] {
                    write(
                        root,
                        &format!("etc/sysupdate.d/{name}.transfer.d/min.conf"),
                        "[Transfer]\nMinVersion=202610150000\n",
                    )?;
                }
                Ok(())
            },
        },
        Scenario {
            name: "min-version-equal-to-an-offered-version",
            installed: complete(&["202611010800"]),
            booted: "202611010800",
            mirror: offered(&["202611200930", "202611250800"]),
            twist: |root| {
                edit(
                    root,
                    "usr/lib/sysupdate.d/60-esp.transfer",
                    "[Transfer]\n",
                    "[Transfer]\nMinVersion=202611200930\n",
                )
            },
        },
        Scenario {
            name: "min-version-beyond-everything",
            installed: complete(&["202611010800"]),
            booted: "202611010800",
            mirror: offered(&["202611200930", "202611250800"]),
            twist: |root| {
                edit(
                    root,
                    "usr/lib/sysupdate.d/60-esp.transfer",
                    "[Transfer]\n",
                    "[Transfer]\nMinVersion=202612010000\n",
                )
            },
        },
        Scenario {
            name: "protect-version",
            installed: complete(&["202610010800", "202610150800", "202611010800"]),
            booted: "202610150800",
            mirror: offered(&["202610150800", "202611250800"]),
            twist: no_twist,
        },
        Scenario {
            name: "legacy-conf-beside-transfer",
            installed: complete(&["202611010800"]),
            booted: "202611010800",
            mirror: offered(&["202611250800"]),
            twist: |root| {
                write(
                    root,
                    "usr/lib/sysupdate.d/70-extra.conf",
                    "[Source]\nType=url-file\nPath=https://mirror.invalid/extra/\nMatchPattern=extra_@v.raw\n\n[Target]\nType=regular-file\nPath=/extra\nMatchPattern=extra_@v.raw\n",
                )
            },
        },
    ]
}

impl Scenario {
    /// Builds the root in `dir/root` and the mirror in `dir/mirror`; `url` is where the mirror
    /// will be served.
    pub fn build(
        &self,
        dir: &Path,
        url_of_mirror: impl FnOnce(&Path) -> Result<String>,
    ) -> Result<KdeLinuxRoot> {
        let system = KdeLinuxRoot::create(
            &dir.join("root"),
            &self.installed,
            Some(self.booted),
            Images::Plain,
        )?;
        let mirror_dir = dir.join("mirror");
        mirror::create(&mirror_dir, &self.mirror, Images::Plain, None)?;
        let url = url_of_mirror(&mirror_dir)?;
        system.use_source(&url, false)?;
        (self.twist)(&system.root)?;
        Ok(system)
    }
}
