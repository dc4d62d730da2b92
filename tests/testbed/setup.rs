//! A builder for test systems: which versions are installed, which one runs, and what a mirror
//! offers (served on 127.0.0.1 or as a folder inside the root, signed or not), in one chain
//! instead of a hand-made set-up per suite.
//!
//! ```text
//! let t = Setup::new().offering(NEW, vec![(image, payload)]).build();
//! // t.system: versions A and B installed, B running; t.server: NEW offered, the source set.
//! let t = Setup::new()
//!     .only(RUNNING)
//!     .offering_versions([MirrorVersion::complete(NEW)], Images::Plain)
//!     .signed_by(key)
//!     .local_source("/media/usb/kde-linux")
//!     .build();
//! // t.system: RUNNING alone, the keyring installed; t.mirror_dir: a signed folder in the root.
//! ```

use crate::gpg::GpgKey;
use crate::mirror::{self, HttpMirror, MirrorVersion};
use crate::system::{Images, KdeLinuxRoot, VersionSpec};
use crate::world::{A, B};
use std::path::{Path, PathBuf};

/// Files a mirror offers: (name, bytes).
pub type Files = Vec<(String, Vec<u8>)>;

/// Changes made to the mirror's folder before it is served.
type Prepare = Box<dyn FnOnce(&Path)>;

/// Changes made to the system before the mirror is made.
type PrepareSystem = Box<dyn FnOnce(&KdeLinuxRoot)>;

/// What the mirror offers.
enum Offer {
    /// One complete version whose files are replaced by these (`mirror::with_payloads`).
    Payloads(String, Files),
    /// These versions, with images of this kind (`mirror::create`).
    Versions(Vec<MirrorVersion>, Images),
}

/// What to build.
pub struct Setup {
    installed: Vec<VersionSpec>,
    booted: Option<String>,
    images: Images,
    offer: Option<Offer>,
    key: Option<GpgKey>,
    verify: Option<bool>,
    local: Option<String>,
    prepare_system: Option<PrepareSystem>,
    prepare_mirror: Option<Prepare>,
}

/// What was built; everything is removed or stopped when it is dropped.
pub struct Built {
    /// The temporary directory everything lives in.
    pub dir: tempfile::TempDir,
    /// The system (at `dir/root`).
    pub system: KdeLinuxRoot,
    /// The mirror's folder: `dir/mirror`, or the local source's folder inside the root.
    pub mirror_dir: PathBuf,
    /// The mirror, serving `mirror_dir` over HTTP, set as the system's source.
    pub server: Option<HttpMirror>,
    /// The key that signed the mirror's list, when it is signed.
    pub key: Option<GpgKey>,
}

impl Built {
    /// The mirror (panics when none is served over HTTP: a test that asks for it needs one).
    pub fn server(&self) -> &HttpMirror {
        self.server
            .as_ref()
            .expect("the setup serves no mirror over HTTP")
    }

    /// The signing key (panics when the mirror is not signed).
    pub fn key(&self) -> &GpgKey {
        self.key.as_ref().expect("the setup signs nothing: no key")
    }
}

impl Default for Setup {
    fn default() -> Self {
        Self::new()
    }
}

impl Setup {
    /// Versions A and B installed, complete, B running; plain images; nothing offered.
    pub fn new() -> Self {
        Self {
            installed: vec![VersionSpec::complete(A), VersionSpec::complete(B)],
            booted: Some(B.to_string()),
            images: Images::Plain,
            offer: None,
            key: None,
            verify: None,
            local: None,
            prepare_system: None,
            prepare_mirror: None,
        }
    }

    /// These versions installed instead.
    pub fn installed(mut self, versions: impl Into<Vec<VersionSpec>>) -> Self {
        self.installed = versions.into();
        self
    }

    /// This version running (None: no IMAGE_VERSION).
    pub fn booted(mut self, version: Option<&str>) -> Self {
        self.booted = version.map(str::to_string);
        self
    }

    /// Only `version` installed, complete, and running.
    pub fn only(self, version: &str) -> Self {
        self.installed([VersionSpec::complete(version)])
            .booted(Some(version))
    }

    /// Nothing installed and no IMAGE_VERSION.
    pub fn empty(self) -> Self {
        self.installed(Vec::new()).booted(None)
    }

    /// Images of this kind.
    pub fn images(mut self, images: Images) -> Self {
        self.images = images;
        self
    }

    /// A mirror offering `version` with these files (name, bytes) beside its UKI, signed lists
    /// written, served over HTTP and set as the system's source.
    pub fn offering(mut self, version: &str, files: Files) -> Self {
        self.offer = Some(Offer::Payloads(version.to_string(), files));
        self
    }

    /// A mirror offering these versions (made by [`mirror::create`], its `/usr` images of kind
    /// `images`), served over HTTP and set as the system's source.
    pub fn offering_versions(
        mut self,
        versions: impl Into<Vec<MirrorVersion>>,
        images: Images,
    ) -> Self {
        self.offer = Some(Offer::Versions(versions.into(), images));
        self
    }

    /// The mirror's list signed by `key` once it is made (before
    /// [`prepare_mirror`](Self::prepare_mirror)), the key's keyring installed into the system,
    /// and the source verified (unless [`verify`](Self::verify) says otherwise). The key is
    /// kept in [`Built::key`].
    pub fn signed_by(mut self, key: GpgKey) -> Self {
        self.key = Some(key);
        self
    }

    /// `Verify=` of the source (default: yes when the mirror is signed).
    pub fn verify(mut self, verify: bool) -> Self {
        self.verify = Some(verify);
        self
    }

    /// The mirror made in a folder inside the root at `path` (as a USB stick would be), set as
    /// a local source instead of being served over HTTP.
    pub fn local_source(mut self, path: &str) -> Self {
        self.local = Some(path.to_string());
        self
    }

    /// Changes the system once it is made, before the mirror is (EFI variables, files of its
    /// own...).
    pub fn prepare_system(mut self, prepare: impl FnOnce(&KdeLinuxRoot) + 'static) -> Self {
        self.prepare_system = Some(Box::new(prepare));
        self
    }

    /// Changes the mirror's folder before it is served (recompress a file, drop one...).
    pub fn prepare_mirror(mut self, prepare: impl FnOnce(&Path) + 'static) -> Self {
        self.prepare_mirror = Some(Box::new(prepare));
        self
    }

    /// Builds it all; panics with the reason when a part cannot be made (a test cannot go on).
    pub fn build(self) -> Built {
        let dir = tempfile::tempdir().expect("tempdir");
        let system = KdeLinuxRoot::create(
            &dir.path().join("root"),
            &self.installed,
            self.booted.as_deref(),
            self.images,
        )
        .expect("root");
        if let Some(key) = &self.key {
            key.install_keyring(&system.root).expect("keyring");
        }
        if let Some(prepare) = self.prepare_system {
            prepare(&system);
        }
        let mirror_dir = match &self.local {
            Some(path) => system.root.join(path.trim_start_matches('/')),
            None => dir.path().join("mirror"),
        };
        let verify = self.verify.unwrap_or(self.key.is_some());
        let mut server = None;
        if let Some(offer) = self.offer {
            match offer {
                Offer::Payloads(version, files) => {
                    mirror::with_payloads(&mirror_dir, &version, &files)
                }
                Offer::Versions(versions, images) => {
                    mirror::create(&mirror_dir, &versions, images, None)
                }
            }
            .expect("mirror");
            if let Some(key) = &self.key {
                key.sign_detached(
                    &mirror_dir.join("SHA256SUMS"),
                    &mirror_dir.join("SHA256SUMS.gpg"),
                )
                .expect("sign");
            }
            if let Some(prepare) = self.prepare_mirror {
                prepare(&mirror_dir);
            }
            match &self.local {
                Some(path) => system.use_source(path, verify).expect("source"),
                None => {
                    let served = HttpMirror::serve(&mirror_dir).expect("serve");
                    system.use_source(&served.url, verify).expect("source");
                    server = Some(served);
                }
            }
        }
        Built {
            dir,
            system,
            mirror_dir,
            server,
            key: self.key,
        }
    }
}
