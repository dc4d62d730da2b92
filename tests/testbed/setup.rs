//! A builder for test systems: which versions are installed, which one runs, and what a mirror
//! on 127.0.0.1 offers, in one chain instead of a hand-made set-up per suite.
//!
//! ```ignore
//! let t = Setup::new().offering(NEW, vec![(image, payload)]).build();
//! // t.system: versions A and B installed, B running; t.server: NEW offered, the source set.
//! ```

use crate::mirror::{self, HttpMirror};
use crate::system::{Images, KdeLinuxRoot, VersionSpec};
use crate::world::{A, B};
use std::path::{Path, PathBuf};

/// Files a mirror offers: (name, bytes).
pub type Files = Vec<(String, Vec<u8>)>;

/// Changes made to the mirror's folder before it is served.
type Prepare = Box<dyn FnOnce(&Path)>;

/// What to build.
pub struct Setup {
    installed: Vec<VersionSpec>,
    booted: Option<String>,
    images: Images,
    offer: Option<(String, Files)>,
    prepare_mirror: Option<Prepare>,
}

/// What was built; everything is removed or stopped when it is dropped.
pub struct Built {
    /// The temporary directory everything lives in.
    pub dir: tempfile::TempDir,
    /// The system (at `dir/root`).
    pub system: KdeLinuxRoot,
    /// The mirror's folder (`dir/mirror`), when something is offered.
    pub mirror_dir: PathBuf,
    /// The mirror, serving `mirror_dir`, set as the system's source.
    pub server: Option<HttpMirror>,
}

impl Built {
    /// The mirror (panics when nothing was offered: a test that asks for it needs one).
    pub fn server(&self) -> &HttpMirror {
        self.server
            .as_ref()
            .expect("the setup offers nothing: no mirror")
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
            prepare_mirror: None,
        }
    }

    /// These versions installed instead.
    pub fn installed(mut self, versions: Vec<VersionSpec>) -> Self {
        self.installed = versions;
        self
    }

    /// This version running (None: no IMAGE_VERSION).
    pub fn booted(mut self, version: Option<&str>) -> Self {
        self.booted = version.map(str::to_string);
        self
    }

    /// Images of this kind.
    pub fn images(mut self, images: Images) -> Self {
        self.images = images;
        self
    }

    /// A mirror offering `version` with these files (name, bytes) beside its UKI, signed lists
    /// written, served over HTTP and set as the system's source.
    pub fn offering(mut self, version: &str, files: Files) -> Self {
        self.offer = Some((version.to_string(), files));
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
        let mirror_dir = dir.path().join("mirror");
        let server = self.offer.map(|(version, files)| {
            mirror::with_payloads(&mirror_dir, &version, &files).expect("mirror");
            if let Some(prepare) = self.prepare_mirror {
                prepare(&mirror_dir);
            }
            let server = HttpMirror::serve(&mirror_dir).expect("serve");
            system.use_source(&server.url, false).expect("source");
            server
        });
        Built {
            dir,
            system,
            mirror_dir,
            server,
        }
    }
}
