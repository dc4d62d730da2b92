//! Running a plan: remove whole old versions (boot entry first), write every new file as a
//! hidden temporary on its target's file system, verify it, then record the intent and rename
//! in transfer order so that the boot entry appears last. An interrupted transaction is finished
//! or undone by [`recover`] on the next start. Every step leaves a history record.

use crate::failpoint;
use crate::installed::inventory::Layout;
use crate::record::history::{self, Event};
use crate::settings::DeltaStore;
use crate::source::fetch::{FetchError, Fetcher};
use crate::update::delta;
use crate::update::plan::{Plan, PlannedFile};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

pub use crate::fsutil::{hex, sha256_of};
pub use crate::layout::{PARTIAL_DIR, STATE_DIR};
use download::download_verified;
pub use download::{PARTIAL_CAP_BYTES, download_ahead};

mod download;
/// The intent record of a transaction being committed.
const INTENT_FILE: &str = "transaction.json";

/// Why a transaction failed. Whatever it wrote has been removed again.
#[derive(Debug, thiserror::Error)]
pub enum TransactionError {
    /// A file could not be fetched.
    #[error("{0}")]
    Fetch(#[from] FetchError),
    /// A file's bytes do not match `SHA256SUMS`.
    #[error(
        "{url} does not match its SHA-256 in SHA256SUMS (expected {expected}, got {actual}): the mirror served wrong bytes"
    )]
    HashMismatch {
        /// Where it came from.
        url: String,
        /// From SHA256SUMS.
        expected: String,
        /// What arrived.
        actual: String,
    },
    /// A file is shorter than the plan says.
    #[error("{url} ended after {got} of {expected} bytes")]
    Truncated {
        /// Where it came from.
        url: String,
        /// Bytes expected.
        expected: u64,
        /// Bytes received.
        got: u64,
    },
    /// A file system operation failed.
    #[error("{what} {}: {source}", path.display())]
    Io {
        /// What was being done.
        what: &'static str,
        /// On which path (inside the root).
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl TransactionError {
    /// The failure as the kind and fields a client says in the person's language
    /// (`update_center_client::ERROR_KINDS`).
    pub fn details(&self) -> crate::error::ErrorDetails {
        use crate::error::ErrorDetails;
        match self {
            Self::Fetch(e) => e.details(),
            Self::HashMismatch { url, .. } => {
                ErrorDetails::new("hash-mismatch", &[("url", url.clone())])
            }
            Self::Truncated { url, expected, got } => ErrorDetails::new(
                "truncated",
                &[
                    ("url", url.clone()),
                    ("got_bytes", got.to_string()),
                    ("expected_bytes", expected.to_string()),
                ],
            ),
            Self::Io { path, .. } => {
                ErrorDetails::new("file-system", &[("path", path.display().to_string())])
            }
        }
    }
}

/// The intent record written before the first rename.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Intent {
    /// The version being committed.
    pub version: String,
    /// (temporary, final) paths inside the root, in rename order.
    pub renames: Vec<(PathBuf, PathBuf)>,
    /// SHA-256 of each temporary, in the same order.
    pub sha256: Vec<String>,
}

fn io<'a>(
    what: &'static str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> TransactionError + 'a {
    move |source| TransactionError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

use crate::fsutil::{sync_dir, write_atomically};

/// Progress of a running transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Downloading: bytes of all files so far, of the total.
    Downloading {
        /// Bytes so far.
        done_bytes: u64,
        /// Bytes in all.
        total_bytes: u64,
        /// Average rate so far, in bytes per second.
        rate_bytes_per_sec: u64,
        /// Seconds left at that rate, once it is known.
        eta_secs: Option<u64>,
    },
    /// How an image with a chunk index comes: as a delta (only what no installed image
    /// has), or whole, and why.
    Method {
        /// The file, by its final name.
        file: String,
        /// Rebuilt from chunks.
        delta: bool,
        /// Why the whole file is downloaded after all (empty for a delta).
        fallback: delta::Why,
    },
    /// Renaming the verified files into place.
    Committing,
}

/// Progress in bytes against the plan's total (which grows when a delta falls back).
struct Meter {
    started: std::time::Instant,
    total: u64,
}

impl Meter {
    fn at(&self, done: u64) -> Progress {
        let seconds = self.started.elapsed().as_secs_f64();
        let rate = if seconds > 0.0 {
            (done as f64 / seconds) as u64
        } else {
            0
        };
        let total = self.total.max(done);
        Progress::Downloading {
            done_bytes: done,
            total_bytes: total,
            rate_bytes_per_sec: rate,
            eta_secs: (rate > 0).then(|| total.saturating_sub(done) / rate),
        }
    }
}

/// Runs `plan` on the system of `layout`; images with an index come as deltas from `store`.
pub fn execute(
    plan: &Plan,
    layout: &Layout,
    fetcher: &Fetcher,
    store: &DeltaStore,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(Progress),
) -> Result<(), TransactionError> {
    let state = layout.state_dir();
    history::append(
        &state,
        &Event::Started {
            version: plan.version.clone(),
            download_bytes: plan.fetch_bytes,
        },
    );
    let result = run(plan, layout, fetcher, store, cancel, progress, &state);
    match &result {
        Ok(()) => history::append(
            &state,
            &Event::Committed {
                version: plan.version.clone(),
            },
        ),
        Err(error) => history::append(
            &state,
            &Event::Failed {
                version: plan.version.clone(),
                reason: error.to_string(),
                details: error.details(),
            },
        ),
    }
    result
}

/// Removes whole versions, the boot entry of each first, so that no boot entry is ever left
/// without its image; records each in the history.
pub fn remove_versions(
    removals: &[crate::update::plan::Removal],
    layout: &Layout,
) -> Result<(), TransactionError> {
    let state = layout.state_dir();
    for removal in removals {
        failpoint::hit("before-removal");
        for file in &removal.files {
            let on_disk = layout.on_disk(file);
            match std::fs::remove_file(&on_disk) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(TransactionError::Io {
                        what: "cannot remove",
                        path: file.clone(),
                        source: e,
                    });
                }
            }
            if let Some(dir) = on_disk.parent() {
                sync_dir(dir).map_err(io("cannot sync", file))?;
            }
            failpoint::hit("after-removing-a-file");
        }
        history::append(
            &state,
            &Event::Removed {
                version: removal.version.clone(),
            },
        );
    }
    Ok(())
}

fn run(
    plan: &Plan,
    layout: &Layout,
    fetcher: &Fetcher,
    store: &DeltaStore,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(Progress),
    state: &Path,
) -> Result<(), TransactionError> {
    // Old versions go first only when the new files would not fit beside them; otherwise
    // after every new file is downloaded and verified, so that a failed download leaves the
    // installed versions exactly as they were.
    let room_first = plan.needs_room_first();
    if room_first {
        remove_versions(&plan.removals, layout)?;
    }
    let hashes = download_verified(plan, layout, fetcher, store, cancel, progress, false)?;
    if !room_first {
        remove_versions(&plan.removals, layout)?;
    }
    progress(Progress::Committing);
    let intent = Intent {
        version: plan.version.clone(),
        renames: plan
            .files
            .iter()
            .map(|f| {
                (
                    f.target_dir.join(&f.temp_name),
                    f.target_dir.join(&f.final_name),
                )
            })
            .collect(),
        sha256: hashes,
    };
    let intent_path = state.join(INTENT_FILE);
    let bytes = serde_json::to_vec_pretty(&intent).unwrap_or_default();
    write_atomically(&intent_path, &bytes).map_err(io("cannot write", &intent_path))?;
    failpoint::hit("after-intent");
    commit(&intent, layout)?;
    failpoint::hit("before-intent-removal");
    std::fs::remove_file(&intent_path).map_err(io("cannot remove", &intent_path))?;
    sync_dir(state).map_err(io("cannot sync", state))?;
    Ok(())
}

/// Renames every temporary of `intent` into place, in order; already renamed ones are skipped.
fn commit(intent: &Intent, layout: &Layout) -> Result<(), TransactionError> {
    for (temp, target) in &intent.renames {
        let (from, to) = (layout.on_disk(temp), layout.on_disk(target));
        if !from.exists() && to.exists() {
            continue;
        }
        crate::fsutil::rename_durably(&from, &to).map_err(io("cannot rename", temp))?;
        failpoint::hit("after-rename");
    }
    Ok(())
}

/// What [`recover`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovery {
    /// Nothing was interrupted.
    Clean,
    /// An interrupted commit was completed.
    Completed(String),
    /// Temporaries of an interrupted transaction were removed.
    Discarded(Vec<PathBuf>),
}

/// Finishes or undoes whatever an interrupted run left behind: a intent whose files are all
/// there is committed; any other hidden temporary of ours is removed.
pub fn recover(layout: &Layout, target_dirs: &[PathBuf]) -> Result<Recovery, TransactionError> {
    let state = layout.state_dir();
    let intent_path = state.join(INTENT_FILE);
    if let Ok(bytes) = std::fs::read(&intent_path)
        && let Ok(intent) = serde_json::from_slice::<Intent>(&bytes)
    {
        let complete = intent
            .renames
            .iter()
            .all(|(temp, target)| layout.on_disk(temp).exists() || layout.on_disk(target).exists());
        // A temporary is committed only when its bytes are still the ones the intent record
        // names: a torn or altered file is discarded, never renamed into place.
        let intact = intent.renames.len() == intent.sha256.len()
            && intent
                .renames
                .iter()
                .zip(&intent.sha256)
                .all(|((temp, _), sha256)| {
                    let on_disk = layout.on_disk(temp);
                    !on_disk.exists() || sha256_of(&on_disk).is_ok_and(|h| h == *sha256)
                });
        if complete && intact {
            commit(&intent, layout)?;
            std::fs::remove_file(&intent_path).map_err(io("cannot remove", &intent_path))?;
            history::append(
                &state,
                &Event::Recovered {
                    version: intent.version.clone(),
                    completed: true,
                },
            );
            return Ok(Recovery::Completed(intent.version));
        }
    }
    let _ = std::fs::remove_file(&intent_path);
    let mut removed = Vec::new();
    for dir in target_dirs {
        let Ok(entries) = std::fs::read_dir(layout.on_disk(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(".#update-center.") {
                let path = dir.join(&name);
                std::fs::remove_file(entry.path()).map_err(io("cannot remove", &path))?;
                removed.push(path);
            }
        }
    }
    if removed.is_empty() {
        return Ok(Recovery::Clean);
    }
    history::append(
        &state,
        &Event::Recovered {
            version: String::new(),
            completed: false,
        },
    );
    Ok(Recovery::Discarded(removed))
}
