//! Writing a plan's files: each downloaded (or rebuilt as a delta, or unpacked) into a hidden
//! temporary on its target's file system and verified by its SHA-256; what may be resumed is
//! kept for the next run, within a cap.

use super::*;

/// Downloads and verifies every file of `plan` into its temporary, for the install (`run`) and
/// for a download ahead (`cache`): when it fails, what may be resumed goes where the next run
/// finds it and the rest is removed (temporaries of compressed files hold unpacked bytes,
/// never kept); with `cache`, the finished files go there too. The SHA-256 of each file.
pub(super) fn download_verified(
    plan: &Plan,
    layout: &Layout,
    fetcher: &Fetcher,
    store: &DeltaStore,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(Progress),
    cache: bool,
) -> Result<Vec<String>, TransactionError> {
    // Each temporary written, and whether it was rebuilt as a delta.
    let mut written: Vec<(PathBuf, bool)> = Vec::new();
    let mut hashes: Vec<String> = Vec::new();
    let result = download_all(
        plan,
        layout,
        fetcher,
        store,
        cancel,
        progress,
        &mut written,
        &mut hashes,
    );
    match &result {
        Err(error) => keep_for_next_run(plan, layout, &written, keeps_bytes(error)),
        Ok(()) if cache => keep_for_next_run(plan, layout, &written, true),
        Ok(()) => {}
    }
    result.map(|()| hashes)
}

// The plan, where its files go, where they come from, and the running totals: one struct
// for them would only move the list.
#[allow(clippy::too_many_arguments)]
fn download_all(
    plan: &Plan,
    layout: &Layout,
    fetcher: &Fetcher,
    store: &DeltaStore,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(Progress),
    written: &mut Vec<(PathBuf, bool)>,
    hashes: &mut Vec<String>,
) -> Result<(), TransactionError> {
    let mut meter = Meter {
        started: std::time::Instant::now(),
        total: plan.fetch_bytes,
    };
    let mut before: u64 = 0;
    for (n, file) in plan.files.iter().enumerate() {
        let dir = layout.on_disk(&file.target_dir);
        std::fs::create_dir_all(&dir).map_err(io("cannot create", &file.target_dir))?;
        let temp_in_root = file.target_dir.join(&file.temp_name);
        let temp = layout.on_disk(&temp_in_root);
        if let Some(index) = delta::index_for(&plan.files, n) {
            let _ = std::fs::remove_file(&temp);
            let index = &plan.files[index];
            let index_path = layout.on_disk(&index.target_dir.join(&index.temp_name));
            // Said before fetching, so that a client shows it while the chunks come.
            if *store != DeltaStore::Off {
                progress(Progress::Method {
                    file: file.final_name.clone(),
                    delta: true,
                    fallback: delta::Why::default(),
                });
            }
            let outcome = try_delta(
                file,
                &index_path,
                layout,
                fetcher,
                store,
                cancel,
                &mut |done| progress(meter.at(before + done)),
            );
            let fallback = match outcome {
                Ok((rebuilt, fetched)) => {
                    written.push((temp_in_root.clone(), true));
                    let notes = delta::Why {
                        text: rebuilt.notes.clone(),
                        ..Default::default()
                    };
                    record_fetched(layout, plan, file, rebuilt, 0, &notes);
                    let out = std::fs::OpenOptions::new()
                        .read(true)
                        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
                        .open(&temp)
                        .map_err(io("cannot open", &temp_in_root))?;
                    finish(file, out, &temp, &temp_in_root)?;
                    hashes.push(file.source.sha256.clone());
                    before += fetched;
                    failpoint::hit("after-download");
                    continue;
                }
                Err(delta::Failure::Cancelled) => {
                    return Err(TransactionError::Fetch(FetchError::Cancelled {
                        url: file.source.location.clone(),
                    }));
                }
                Err(delta::Failure::Fallback(reason)) => reason,
            };
            // The whole file comes instead: the total grows by what the delta would have
            // saved, and the history says why.
            meter.total = meter
                .total
                .saturating_add(file.download_bytes)
                .saturating_sub(file.delta.map_or(file.download_bytes, |d| d.to_fetch_bytes));
            progress(Progress::Method {
                file: file.final_name.clone(),
                delta: false,
                fallback: fallback.clone(),
            });
            record_fetched(
                layout,
                plan,
                file,
                delta::Rebuilt::default(),
                file.download_bytes,
                &fallback,
            );
        }
        // A leftover in the target directory is not trusted; a partial download kept by an
        // earlier run for exactly these bytes (named by their SHA-256) is resumed.
        let _ = std::fs::remove_file(&temp);
        let kept = partial_dir(layout).join(&file.source.sha256);
        let kept_len = match std::fs::metadata(&kept) {
            Ok(meta) if meta.len() <= file.download_bytes => Some(meta.len()),
            Ok(_) => {
                let _ = std::fs::remove_file(&kept);
                None
            }
            Err(_) => None,
        };
        // A plain file is downloaded straight into its temporary; a compressed one into the
        // cache, and unpacked into its temporary once its bytes are verified.
        let (download_path, download_in_root, resumed) = match file.compression {
            None => {
                let resumed = kept_len.filter(|_| std::fs::rename(&kept, &temp).is_ok());
                written.push((temp_in_root.clone(), false));
                (temp.clone(), temp_in_root.clone(), resumed)
            }
            Some(_) => {
                let in_root = Path::new("/").join(PARTIAL_DIR).join(&file.source.sha256);
                crate::fsutil::create_private_dir_all(&partial_dir(layout))
                    .map_err(io("cannot create", &in_root))?;
                (kept.clone(), in_root, kept_len)
            }
        };
        // Private until verified and committed: the commit gives it the definition's Mode=.
        let mut out = match resumed {
            None => crate::fsutil::create_private_file(&download_path),
            Some(_) => std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
                .open(&download_path),
        }
        .map_err(io("cannot create", &download_in_root))?;
        let location = crate::source::catalog::location_of(&file.source);
        let downloaded = fetcher.download(
            &location,
            &file.source.name,
            &mut out,
            resumed.unwrap_or(0),
            file.download_bytes,
            cancel,
            &mut |done| {
                failpoint::hit("during-download");
                progress(meter.at(before + done));
            },
        );
        let verified = downloaded
            .map_err(TransactionError::from)
            .and_then(|(sha256, size)| {
                if size != file.download_bytes {
                    return Err(TransactionError::Truncated {
                        url: file.source.location.clone(),
                        expected: file.download_bytes,
                        got: size,
                    });
                }
                if sha256 != file.source.sha256 {
                    return Err(TransactionError::HashMismatch {
                        url: file.source.location.clone(),
                        expected: file.source.sha256.clone(),
                        actual: sha256,
                    });
                }
                Ok(size)
            });
        let size = match (verified, file.compression) {
            (Ok(size), _) => size,
            (Err(error), None) => return Err(error),
            // A compressed download is not in `written`: keep it for the next run, or drop it.
            (Err(error), Some(_)) => {
                if !keeps_bytes(&error) {
                    let _ = std::fs::remove_file(&download_path);
                }
                return Err(error);
            }
        };
        let (out, temp_sha256) = match file.compression {
            None => (out, file.source.sha256.clone()),
            Some(kind) => {
                drop(out);
                written.push((temp_in_root.clone(), false));
                let unpacked =
                    unpack(kind, &download_path, &temp, file.size_bytes).map_err(|reason| {
                        FetchError::Compressed {
                            url: file.source.location.clone(),
                            reason,
                        }
                    });
                // Verified bytes that do not unpack are of no use to a next run either.
                let _ = std::fs::remove_file(&download_path);
                unpacked?
            }
        };
        finish(file, out, &temp, &temp_in_root)?;
        // A delta that fell back leaves nothing to resume from.
        if delta::index_for(&plan.files, n).is_some() {
            let _ = std::fs::remove_file(delta::partial_path(
                &partial_dir(layout),
                &file.source.sha256,
            ));
        }
        hashes.push(temp_sha256);
        before += size;
        failpoint::hit("after-download");
    }
    Ok(())
}

/// Moves the temporaries of `written` where the next run finds them (`keep`), or removes them:
/// a rebuilt image into the cache as `<sha256>.delta` (its verified chunks), a whole plain file
/// as `<sha256>` (a prefix to resume); unpacked bytes of compressed files are never kept.
fn keep_for_next_run(plan: &Plan, layout: &Layout, written: &[(PathBuf, bool)], keep: bool) {
    for ((temp, as_delta), file) in written.iter().zip(&plan.files) {
        let on_disk = layout.on_disk(temp);
        if keep && *as_delta {
            let cache = partial_dir(layout);
            let kept = crate::fsutil::create_private_dir_all(&cache).is_ok()
                && std::fs::rename(&on_disk, delta::partial_path(&cache, &file.source.sha256))
                    .is_ok();
            if !kept {
                let _ = std::fs::remove_file(&on_disk);
            }
        } else if keep && file.compression.is_none() {
            keep_partial(layout, &on_disk, &file.source.sha256);
        } else {
            let _ = std::fs::remove_file(&on_disk);
        }
    }
}

/// Downloads the files of `plan` ahead, verified, into the download cache, without staging
/// anything: the install that follows finds them there and fetches nothing again (plain and
/// delta files; a compressed file is fetched again). Nothing is done when the new files fit
/// only after old versions are removed: they come when the version is installed.
pub fn download_ahead(
    plan: &Plan,
    layout: &Layout,
    fetcher: &Fetcher,
    store: &DeltaStore,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(Progress),
) -> Result<bool, TransactionError> {
    if plan.needs_room_first() {
        return Ok(false);
    }
    let state = layout.state_dir();
    match download_verified(plan, layout, fetcher, store, cancel, progress, true) {
        Ok(_) => {
            history::append(
                &state,
                &Event::Downloaded {
                    version: plan.version.clone(),
                },
            );
            Ok(true)
        }
        Err(error) => {
            history::append(
                &state,
                &Event::Failed {
                    version: plan.version.clone(),
                    reason: error.to_string(),
                    details: error.details(),
                },
            );
            Err(error)
        }
    }
}

/// Syncs a verified temporary and gives it its mode.
fn finish(
    file: &PlannedFile,
    out: File,
    temp: &Path,
    temp_in_root: &Path,
) -> Result<(), TransactionError> {
    out.sync_all().map_err(io("cannot sync", temp_in_root))?;
    // FAT (the ESP) has no modes: fusefat answers ENOSYS. A mode is no reason to fail.
    if let Err(e) = std::fs::set_permissions(temp, std::fs::Permissions::from_mode(file.mode))
        && e.raw_os_error() != Some(rustix::io::Errno::NOSYS.raw_os_error())
        && e.kind() != std::io::ErrorKind::Unsupported
    {
        return Err(TransactionError::Io {
            what: "cannot set the mode of",
            path: temp_in_root.to_path_buf(),
            source: e,
        });
    }
    Ok(())
}

/// Records how an image with an index came.
fn record_fetched(
    layout: &Layout,
    plan: &Plan,
    file: &PlannedFile,
    rebuilt: delta::Rebuilt,
    full_bytes: u64,
    fallback: &delta::Why,
) {
    history::append(
        &layout.state_dir(),
        &Event::Fetched {
            version: plan.version.clone(),
            file: file.final_name.clone(),
            seed_bytes: rebuilt.seed_bytes,
            store_bytes: rebuilt.store_bytes,
            range_bytes: rebuilt.range_bytes,
            full_bytes,
            fallback: fallback.text.clone(),
            fallback_details: fallback.details.clone(),
        },
    );
}

/// Rebuilds `file` from its index at `index_path` into the partial cache and moves it to its
/// temporary; the bytes fetched, or why the whole file must come instead. `progress` hears the
/// bytes fetched so far, from this thread.
fn try_delta(
    file: &PlannedFile,
    index_path: &Path,
    layout: &Layout,
    fetcher: &Fetcher,
    store: &DeltaStore,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(u64),
) -> Result<(delta::Rebuilt, u64), delta::Failure> {
    use std::sync::atomic::{AtomicU64, Ordering};
    if *store == DeltaStore::Off {
        return Err(delta::Failure::Fallback(delta::Why::off()));
    }
    let cache = partial_dir(layout);
    crate::fsutil::create_private_dir_all(&cache).map_err(|e| {
        delta::Failure::Fallback(delta::Why::new(
            "cache",
            &[("path", cache.display().to_string())],
            format!("cannot create {}: {e}", cache.display()),
        ))
    })?;
    let out = delta::partial_path(&cache, &file.source.sha256);
    let temp = layout.on_disk(&file.target_dir.join(&file.temp_name));
    let done = AtomicU64::new(0);
    let attempt = delta::Attempt {
        layout,
        fetcher,
        file,
        index_path,
        store,
        out: &out,
        cancel,
    };
    // The rebuild runs on its own threads; this one reports its progress meanwhile.
    let result = std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::channel();
        let (attempt, done) = (&attempt, &done);
        scope.spawn(move || {
            let result = delta::rebuild_image(attempt, &|n| done.store(n, Ordering::SeqCst));
            let _ = tx.send(result);
        });
        loop {
            match rx.recv_timeout(std::time::Duration::from_millis(200)) {
                Ok(result) => break result,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    progress(done.load(Ordering::SeqCst));
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    break Err(delta::Failure::Fallback(delta::Why::new(
                        "stopped",
                        &[],
                        "the rebuild stopped",
                    )));
                }
            }
        }
    })?;
    let fetched = done.load(Ordering::SeqCst);
    progress(fetched);
    // The cache and the target are usually one file system; when not, the bytes are copied.
    if std::fs::rename(&out, &temp).is_err() {
        let copied = crate::fsutil::create_private_file(&temp)
            .and_then(|mut to| std::io::copy(&mut File::open(&out)?, &mut to));
        let _ = std::fs::remove_file(&out);
        if let Err(e) = copied {
            let _ = std::fs::remove_file(&temp);
            return Err(delta::Failure::Fallback(delta::Why::new(
                "cache",
                &[("path", temp.display().to_string())],
                format!("cannot move the rebuilt image into place: {e}"),
            )));
        }
    }
    Ok((result, fetched))
}

/// Whether the bytes of a failed download are a good start for the next run: after a network
/// failure or a cancel they are; after wrong bytes they are not.
pub(super) fn keeps_bytes(error: &TransactionError) -> bool {
    matches!(
        error,
        TransactionError::Fetch(
            FetchError::Unreachable { .. }
                | FetchError::Status { .. }
                | FetchError::Cancelled { .. }
        )
    )
}

/// Unpacks the verified download `from` into a new `to`, which must come to exactly `size`
/// bytes (the size the format recorded and the room check counted).
fn unpack(
    kind: crate::source::compression::Compression,
    from: &Path,
    to: &Path,
    size: u64,
) -> Result<(File, String), String> {
    use std::io::Read;
    let input = File::open(from).map_err(|e| e.to_string())?;
    let mut out = crate::fsutil::create_private_file(to)
        .map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    let mut decoder = kind
        .decoder(input)
        .map_err(|e| e.to_string())?
        .take(size.saturating_add(1));
    let mut hashing = HashingWriter {
        inner: &mut out,
        hasher: <sha2::Sha256 as sha2::Digest>::new(),
    };
    let unpacked =
        std::io::copy(&mut decoder, &mut hashing).map_err(|e| format!("cannot unpack it: {e}"))?;
    let sha256 = hex(sha2::Digest::finalize(hashing.hasher).as_slice());
    if unpacked != size {
        return Err(format!(
            "it unpacks to {} bytes, but its header says {size}: refusing it",
            if unpacked > size {
                "more than that many".to_string()
            } else {
                unpacked.to_string()
            }
        ));
    }
    Ok((out, sha256))
}

/// Writes through to `inner` and hashes what passes.
struct HashingWriter<'a> {
    inner: &'a mut File,
    hasher: sha2::Sha256,
}

impl std::io::Write for HashingWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(bytes)?;
        sha2::Digest::update(&mut self.hasher, &bytes[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Where partial downloads are kept between runs, on the disk.
fn partial_dir(layout: &Layout) -> PathBuf {
    layout.on_disk(Path::new("/").join(PARTIAL_DIR).as_path())
}

/// Most bytes of partial downloads kept between runs; the oldest go first beyond it.
pub const PARTIAL_CAP_BYTES: u64 = 16 * 1024 * 1024 * 1024;

/// Moves a partial download into the cache (only within one file system: a temporary on the
/// ESP is dropped instead) and trims the cache to [`PARTIAL_CAP_BYTES`].
fn keep_partial(layout: &Layout, temp: &Path, sha256: &str) {
    let dir = partial_dir(layout);
    let kept = crate::fsutil::create_private_dir_all(&dir).is_ok()
        && std::fs::rename(temp, dir.join(sha256)).is_ok();
    if !kept {
        let _ = std::fs::remove_file(temp);
        return;
    }
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let mut files: Vec<(std::time::SystemTime, u64, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let meta = e.metadata().ok()?;
            Some((meta.modified().ok()?, meta.len(), e.path()))
        })
        .collect();
    files.sort();
    let mut total: u64 = files.iter().map(|f| f.1).sum();
    for (_, size, path) in files {
        if total <= PARTIAL_CAP_BYTES {
            break;
        }
        if std::fs::remove_file(&path).is_ok() {
            total -= size;
        }
    }
}
