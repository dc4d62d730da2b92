//! Reading small files (`SHA256SUMS`, its signature) from where a source lives: an HTTP(S)
//! mirror, or a local folder for air-gapped machines (a USB stick, an NFS share). Sizes are
//! capped, timeouts are short, and every error names the URL or path.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// Connecting to a mirror may take this long.
pub const CONNECT_TIMEOUT_SECS: u64 = 15;
/// A whole metadata request (not a payload download) may take this long.
pub const REQUEST_TIMEOUT_SECS: u64 = 60;

/// Where a source's files are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// An HTTP(S) directory URL, always ending in `/`.
    Http(String),
    /// A local directory: the path on disk, and the path as the definitions name it.
    Dir {
        /// Path on disk.
        on_disk: PathBuf,
        /// Path as written in the definition (inside the root).
        shown: String,
    },
}

impl Location {
    /// A URL or path of a file in this location, for messages and the catalog.
    pub fn display(&self, name: &str) -> String {
        match self {
            Self::Http(base) => format!("{base}{name}"),
            Self::Dir { shown, .. } => format!("{}/{name}", shown.trim_end_matches('/')),
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Http(base) => f.write_str(base),
            Self::Dir { shown, .. } => f.write_str(shown),
        }
    }
}

/// Why a file could not be read from a location.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The mirror did not answer (DNS, connection, TLS, timeout).
    #[error("cannot reach {url}: {reason}")]
    Unreachable {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The mirror answered with an HTTP error.
    #[error("{url} answered HTTP {status}{}", match status {
        401 | 403 => ": the mirror wants a user name and password; set them in Update Center's settings (they stay in your keyring)",
        _ => "",
    })]
    Status {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
    },
    /// The file is larger than allowed.
    #[error("{url} is larger than {max_bytes} bytes; refusing it")]
    TooLarge {
        /// The URL or path.
        url: String,
        /// The limit.
        max_bytes: usize,
    },
    /// The download was cancelled.
    #[error("the download of {url} was cancelled")]
    Cancelled {
        /// The URL or path.
        url: String,
    },
    /// Writing the downloaded bytes failed (a full disk, an I/O error).
    #[error("cannot write {url} to disk: {reason}")]
    Write {
        /// The URL or path being written.
        url: String,
        /// Why.
        reason: String,
    },
    /// The mirror does not say how large a file is.
    #[error("{url} has no Content-Length; its size is needed to check the room before writing")]
    NoSize {
        /// The URL.
        url: String,
    },
    /// A compressed file cannot be sized or unpacked.
    #[error("{url}: {reason}")]
    Compressed {
        /// The URL or path.
        url: String,
        /// Why.
        reason: String,
    },
    /// A local file could not be read.
    #[error("cannot read {path}: {reason}")]
    Local {
        /// The path.
        path: String,
        /// Why.
        reason: String,
    },
}

/// Reads small files from locations, and downloads payloads.
pub struct Fetcher {
    agent: ureq::Agent,
    payload_agent: ureq::Agent,
    max_rate: Option<u64>,
    /// HTTP Basic credentials for the URLs under a prefix (the mirror the administrator set):
    /// (prefix, `Authorization` header value). Held in memory only; `Debug` is not derived.
    credentials: Option<(String, String)>,
}

/// A payload download may take this long in all (a slow link and a multi-GB image).
pub const PAYLOAD_TIMEOUT_SECS: u64 = 6 * 3600;
/// How often a broken-off download is resumed before the error is reported.
pub const RETRIES: u32 = 3;

/// How one attempt of a download ended early.
enum Interrupted {
    /// The connection broke or the mirror had a passing failure: resume.
    Transient(FetchError),
    /// The mirror ignored the range request: start again from zero.
    Restart,
    /// No point in trying again.
    Fatal(FetchError),
}

/// Bytes read and written at a time while downloading.
const CHUNK_BYTES: usize = 1024 * 1024;

impl Default for Fetcher {
    fn default() -> Self {
        Self::new()
    }
}

impl Fetcher {
    /// A fetcher with the default timeouts, checking TLS certificates against the system's
    /// trust store (so that private mirrors with an in-house CA work).
    pub fn new() -> Self {
        Self::with_timeouts(
            Duration::from_secs(CONNECT_TIMEOUT_SECS),
            Duration::from_secs(REQUEST_TIMEOUT_SECS),
        )
    }

    /// A fetcher with other timeouts (tests, slow links).
    pub fn with_timeouts(connect: Duration, request: Duration) -> Self {
        let tls = || {
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::PlatformVerifier)
                .build()
        };
        let agent = ureq::Agent::config_builder()
            .timeout_connect(Some(connect))
            .timeout_global(Some(request))
            .http_status_as_error(false)
            .user_agent(concat!("update-center/", env!("CARGO_PKG_VERSION")))
            .tls_config(tls())
            .build()
            .into();
        let payload_agent = ureq::Agent::config_builder()
            .timeout_connect(Some(connect))
            .timeout_recv_response(Some(request))
            // A mirror that stops sending mid-file is given up on after this long without a
            // byte, and the download resumes; the whole may take hours on a slow link.
            .timeout_per_read(Some(request))
            .timeout_global(Some(Duration::from_secs(PAYLOAD_TIMEOUT_SECS)))
            .http_status_as_error(false)
            .user_agent(concat!("update-center/", env!("CARGO_PKG_VERSION")))
            .tls_config(tls())
            .build()
            .into();
        Self {
            agent,
            payload_agent,
            max_rate: None,
            credentials: None,
        }
    }

    /// Sends HTTP Basic credentials with every request under `prefix` (an `https://` or
    /// `http://` mirror URL) and to nothing else.
    pub fn with_credentials(mut self, prefix: &str, user: &str, password: &str) -> Self {
        use base64::Engine;
        if prefix.starts_with("https://") || prefix.starts_with("http://") {
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            self.credentials = Some((prefix.to_string(), format!("Basic {token}")));
        }
        self
    }

    /// `request` with the credentials when `url` is under their prefix.
    fn authorized<B>(
        &self,
        url: &str,
        request: ureq::RequestBuilder<B>,
    ) -> ureq::RequestBuilder<B> {
        match &self.credentials {
            Some((prefix, value)) if url.starts_with(prefix.as_str()) => {
                request.header("Authorization", value.as_str())
            }
            _ => request,
        }
    }

    /// Reads `name` from `location`: `Ok(None)` when it does not exist (HTTP 404/410, no file).
    pub fn get(
        &self,
        location: &Location,
        name: &str,
        max_bytes: usize,
    ) -> Result<Option<Vec<u8>>, FetchError> {
        match location {
            Location::Http(_) => self.get_http(&location.display(name), max_bytes),
            Location::Dir { on_disk, .. } => {
                get_local(&on_disk.join(name), &location.display(name), max_bytes)
            }
        }
    }

    fn get_http(&self, url: &str, max_bytes: usize) -> Result<Option<Vec<u8>>, FetchError> {
        let unreachable = |e: ureq::Error| FetchError::Unreachable {
            url: url.to_string(),
            reason: e.to_string(),
        };
        let mut response = self
            .authorized(url, self.agent.get(url))
            .call()
            .map_err(unreachable)?;
        let status = response.status().as_u16();
        if status == 404 || status == 410 {
            return Ok(None);
        }
        if !(200..300).contains(&status) {
            return Err(FetchError::Status {
                url: url.to_string(),
                status,
            });
        }
        let limit = u64::try_from(max_bytes).unwrap_or(u64::MAX);
        match response.body_mut().with_config().limit(limit).read_to_vec() {
            Ok(bytes) => Ok(Some(bytes)),
            Err(ureq::Error::BodyExceedsLimit(_)) => Err(FetchError::TooLarge {
                url: url.to_string(),
                max_bytes,
            }),
            Err(e) => Err(unreachable(e)),
        }
    }
}

/// How long to pause so that `bytes` read in `elapsed` stay at or under `rate` bytes per second.
pub fn throttle_delay(bytes: u64, rate: u64, elapsed: Duration) -> Duration {
    if rate == 0 {
        return Duration::ZERO;
    }
    let due = Duration::from_secs_f64(bytes as f64 / rate as f64);
    due.saturating_sub(elapsed)
}

impl Fetcher {
    /// Limits payload downloads to `bytes_per_sec` (none: as fast as the link goes).
    pub fn with_max_rate(mut self, bytes_per_sec: Option<u64>) -> Self {
        self.max_rate = bytes_per_sec.filter(|r| *r > 0);
        self
    }

    /// Streams `name` from `location` into `out`, hashing as it goes; returns the SHA-256 (hex)
    /// and the number of bytes. A connection that breaks off is resumed with an HTTP range
    /// request (after a short back-off, [`RETRIES`] times); a mirror that answers a range with
    /// the whole file is read from the start again. Stops with an error when `cancel` is set,
    /// and refuses more than `max_bytes` (the size the plan was made for).
    // The arguments are the request (where, what, from which byte, how much at most) and its
    // controls (cancel, progress): a struct for them would only move the list.
    #[allow(clippy::too_many_arguments)]
    pub fn download(
        &self,
        location: &Location,
        name: &str,
        out: &mut std::fs::File,
        resume_from: u64,
        max_bytes: u64,
        cancel: &std::sync::atomic::AtomicBool,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(String, u64), FetchError> {
        use sha2::{Digest, Sha256};
        use std::io::{Read, Seek};
        let url = location.display(name);
        let write_error = |e: std::io::Error| FetchError::Write {
            url: url.clone(),
            reason: e.to_string(),
        };
        let mut hasher = Sha256::new();
        let mut total: u64 = 0;
        if resume_from > 0 {
            // The bytes of an earlier run are hashed again: nothing unverified is trusted.
            out.seek(std::io::SeekFrom::Start(0)).map_err(write_error)?;
            let mut kept = (&mut *out).take(resume_from);
            let mut buffer = vec![0u8; CHUNK_BYTES];
            loop {
                let n = kept.read(&mut buffer).map_err(write_error)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buffer[..n]);
                total += n as u64;
            }
            out.seek(std::io::SeekFrom::Start(total))
                .map_err(write_error)?;
            progress(total);
        }
        let mut attempt = 0;
        let complete_already = resume_from > 0 && total >= max_bytes;
        if !complete_already {
            loop {
                let result = self.download_from(
                    location,
                    name,
                    &url,
                    total,
                    out,
                    &mut hasher,
                    &mut total,
                    max_bytes,
                    cancel,
                    progress,
                );
                match result {
                    Ok(()) => break,
                    // A file kept from an earlier run may be complete already.
                    Err(Interrupted::Fatal(FetchError::Status { status: 416, .. }))
                        if total == max_bytes =>
                    {
                        break;
                    }
                    Err(Interrupted::Restart) => {
                        // The mirror ignored the range: start over.
                        hasher = Sha256::new();
                        total = 0;
                        out.set_len(0).map_err(write_error)?;
                        out.seek(std::io::SeekFrom::Start(0)).map_err(write_error)?;
                    }
                    Err(Interrupted::Transient(error))
                        if attempt < RETRIES && matches!(location, Location::Http(_)) =>
                    {
                        attempt += 1;
                        let back_off = Duration::from_millis(250 << attempt);
                        eprintln!(
                            "update-center-helper: {error}; resuming at byte {total} in {back_off:?}"
                        );
                        std::thread::sleep(back_off);
                    }
                    Err(Interrupted::Transient(error) | Interrupted::Fatal(error)) => {
                        return Err(error);
                    }
                }
            }
        }
        let hex: String = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok((hex, total))
    }

    #[allow(clippy::too_many_arguments)]
    fn download_from(
        &self,
        location: &Location,
        name: &str,
        url: &str,
        offset: u64,
        out: &mut impl std::io::Write,
        hasher: &mut sha2::Sha256,
        total: &mut u64,
        max_bytes: u64,
        cancel: &std::sync::atomic::AtomicBool,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), Interrupted> {
        use sha2::Digest;
        use std::io::Read;
        let transient = |reason: String| {
            Interrupted::Transient(FetchError::Unreachable {
                url: url.to_string(),
                reason,
            })
        };
        let mut reader: Box<dyn Read> = match location {
            Location::Http(_) => {
                let mut request = self.authorized(url, self.payload_agent.get(url));
                if offset > 0 {
                    request = request.header("Range", &format!("bytes={offset}-"));
                }
                let response = request.call().map_err(|e| transient(e.to_string()))?;
                let status = response.status().as_u16();
                match status {
                    206 => {
                        let start = response
                            .headers()
                            .get("content-range")
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| v.strip_prefix("bytes "))
                            .and_then(|v| v.split('-').next())
                            .and_then(|v| v.parse::<u64>().ok());
                        if start != Some(offset) {
                            return Err(Interrupted::Restart);
                        }
                    }
                    200 if offset > 0 => return Err(Interrupted::Restart),
                    200..=299 => {}
                    500..=599 => {
                        return Err(Interrupted::Transient(FetchError::Status {
                            url: url.to_string(),
                            status,
                        }));
                    }
                    _ => {
                        return Err(Interrupted::Fatal(FetchError::Status {
                            url: url.to_string(),
                            status,
                        }));
                    }
                }
                Box::new(response.into_body().into_reader())
            }
            Location::Dir { on_disk, .. } => {
                Box::new(std::fs::File::open(on_disk.join(name)).map_err(|e| {
                    Interrupted::Fatal(FetchError::Local {
                        path: url.to_string(),
                        reason: e.to_string(),
                    })
                })?)
            }
        };
        let mut buffer = vec![0u8; CHUNK_BYTES];
        let (started, first_byte) = (std::time::Instant::now(), *total);
        loop {
            if cancel.load(std::sync::atomic::Ordering::Relaxed) {
                return Err(Interrupted::Fatal(FetchError::Cancelled {
                    url: url.to_string(),
                }));
            }
            let n = reader
                .read(&mut buffer)
                .map_err(|e| transient(e.to_string()))?;
            if n == 0 {
                return Ok(());
            }
            *total += n as u64;
            if *total > max_bytes {
                return Err(Interrupted::Fatal(FetchError::TooLarge {
                    url: url.to_string(),
                    max_bytes: usize::try_from(max_bytes).unwrap_or(usize::MAX),
                }));
            }
            hasher.update(&buffer[..n]);
            if let Some(rate) = self.max_rate {
                std::thread::sleep(throttle_delay(*total - first_byte, rate, started.elapsed()));
            }
            out.write_all(&buffer[..n]).map_err(|e| {
                Interrupted::Fatal(FetchError::Write {
                    url: url.to_string(),
                    reason: e.to_string(),
                })
            })?;
            progress(*total);
        }
    }

    /// The size of `name` at `location` (HTTP `HEAD`, or the file's size).
    pub fn size(&self, location: &Location, name: &str) -> Result<u64, FetchError> {
        let url = location.display(name);
        match location {
            Location::Http(_) => {
                let response = self
                    .authorized(&url, self.agent.head(&url))
                    .call()
                    .map_err(|e| FetchError::Unreachable {
                        url: url.clone(),
                        reason: e.to_string(),
                    })?;
                let status = response.status().as_u16();
                if !(200..300).contains(&status) {
                    return Err(FetchError::Status { url, status });
                }
                response
                    .headers()
                    .get("content-length")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse().ok())
                    .ok_or(FetchError::NoSize { url })
            }
            Location::Dir { on_disk, .. } => std::fs::metadata(on_disk.join(name))
                .map(|m| m.len())
                .map_err(|e| FetchError::Local {
                    path: url,
                    reason: e.to_string(),
                }),
        }
    }
}

/// The sizes of an offered file: as downloaded, and as installed (unpacked).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct FileSizes {
    /// Bytes to download.
    pub download: u64,
    /// Bytes on the target once unpacked (the same as `download` for plain files).
    pub installed: u64,
}

impl Fetcher {
    /// Up to `max` bytes of `name` from byte `start` on (an HTTP range request).
    pub fn read_range(
        &self,
        location: &Location,
        name: &str,
        start: u64,
        max: u64,
    ) -> Result<Vec<u8>, FetchError> {
        use std::io::{Read, Seek};
        let url = location.display(name);
        match location {
            Location::Http(_) => {
                let unreachable = |e: ureq::Error| FetchError::Unreachable {
                    url: url.clone(),
                    reason: e.to_string(),
                };
                let response = self
                    .authorized(&url, self.agent.get(&url))
                    .header("Range", &format!("bytes={start}-"))
                    .call()
                    .map_err(unreachable)?;
                let status = response.status().as_u16();
                if status == 200 && start > 0 {
                    return Err(FetchError::Compressed {
                        url,
                        reason: "the mirror ignores range requests, which are needed to learn the unpacked size of a compressed file".into(),
                    });
                }
                if !(200..300).contains(&status) {
                    return Err(FetchError::Status { url, status });
                }
                let mut bytes = Vec::new();
                response
                    .into_body()
                    .into_reader()
                    .take(max)
                    .read_to_end(&mut bytes)
                    .map_err(|e| FetchError::Unreachable {
                        url: url.clone(),
                        reason: e.to_string(),
                    })?;
                Ok(bytes)
            }
            Location::Dir { on_disk, .. } => {
                let local = |e: std::io::Error| FetchError::Local {
                    path: url.clone(),
                    reason: e.to_string(),
                };
                let mut file = std::fs::File::open(on_disk.join(name)).map_err(local)?;
                file.seek(std::io::SeekFrom::Start(start)).map_err(local)?;
                let mut bytes = Vec::new();
                file.take(max).read_to_end(&mut bytes).map_err(local)?;
                Ok(bytes)
            }
        }
    }

    /// The download size of `name` and its size once installed: for a compressed file (by
    /// suffix) the unpacked size its format records, read from its first and last bytes.
    pub fn sizes(&self, location: &Location, name: &str) -> Result<FileSizes, FetchError> {
        use crate::compression::{Compression, HEAD_BYTES, TAIL_BYTES};
        let download = self.size(location, name)?;
        let Some(kind) = Compression::of_name(name) else {
            return Ok(FileSizes {
                download,
                installed: download,
            });
        };
        let head = self.read_range(location, name, 0, HEAD_BYTES)?;
        let tail_start = download.saturating_sub(TAIL_BYTES);
        let tail = self.read_range(location, name, tail_start, TAIL_BYTES)?;
        let installed = kind
            .unpacked_size(&head, &tail, download)
            .map_err(|reason| FetchError::Compressed {
                url: location.display(name),
                reason,
            })?;
        Ok(FileSizes {
            download,
            installed,
        })
    }
}

fn get_local(path: &Path, shown: &str, max_bytes: usize) -> Result<Option<Vec<u8>>, FetchError> {
    use std::io::Read;
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(FetchError::Local {
                path: shown.to_string(),
                reason: e.to_string(),
            });
        }
    };
    let mut bytes = Vec::new();
    let limit = u64::try_from(max_bytes)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    file.take(limit)
        .read_to_end(&mut bytes)
        .map_err(|e| FetchError::Local {
            path: shown.to_string(),
            reason: e.to_string(),
        })?;
    if bytes.len() > max_bytes {
        return Err(FetchError::TooLarge {
            url: shown.to_string(),
            max_bytes,
        });
    }
    Ok(Some(bytes))
}

#[cfg(test)]
mod tests {
    use super::throttle_delay;
    use std::time::Duration;

    #[test]
    fn the_throttle_waits_only_when_ahead_of_the_rate() {
        assert_eq!(
            throttle_delay(1_000_000, 1_000_000, Duration::from_millis(400)),
            Duration::from_millis(600)
        );
        assert_eq!(
            throttle_delay(1_000_000, 1_000_000, Duration::from_secs(2)),
            Duration::ZERO
        );
        assert_eq!(throttle_delay(5, 0, Duration::ZERO), Duration::ZERO);
    }
}
