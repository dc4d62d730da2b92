//! Reading small files (`SHA256SUMS`, its signature) from where a source lives: an HTTP(S)
//! mirror, or a local folder for air-gapped machines (a USB stick, an NFS share). Sizes are
//! capped, timeouts are short, and every error names the URL or path.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use crate::origin::{MAX_REDIRECTS, Origin, follow_redirect};

/// Connecting to a mirror may take this long.
pub const CONNECT_TIMEOUT_SECS: u64 = 15;
/// A whole metadata request (not a payload download) may take this long.
pub const REQUEST_TIMEOUT_SECS: u64 = 60;

/// Where a source's files are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// An HTTP(S) directory URL, always ending in `/`.
    Http(String),
    /// A local directory (a USB stick, a share): files in it are opened beneath it only,
    /// never through a symbolic link, and only when regular (see [`crate::fsutil::open_beneath`]).
    Dir {
        /// The root the folder is inside.
        root: PathBuf,
        /// The folder, relative to the root.
        folder: PathBuf,
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
    /// A redirect that would lower the protection of the request.
    #[error("{url} redirects to {to}: {reason}; refusing it")]
    Redirect {
        /// The URL asked for.
        url: String,
        /// Where it pointed.
        to: String,
        /// Why it is refused.
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
    /// HTTP Basic credentials for one origin (the mirror the administrator set):
    /// (origin, `Authorization` header value). Held in memory only and wiped when dropped;
    /// `Debug` is not derived.
    credentials: Option<(Origin, zeroize::Zeroizing<String>)>,
    /// The rules a payload download must keep.
    limits: PayloadLimits,
    /// Timeouts of small requests: connecting, and the whole request.
    connect: Duration,
    request: Duration,
    /// The download relay's socket, when requests go through it (the helper's unit has no
    /// network of its own: see `relay.rs`).
    relay: Option<std::path::PathBuf>,
}

/// Which kind of request: a small file (metadata, sizes) or a payload.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Small,
    Payload,
}

/// An answer's body: read from ureq, or from the download relay.
enum Body {
    Direct(ureq::Body),
    Relayed(std::io::BufReader<std::os::unix::net::UnixStream>),
}

impl Body {
    fn into_reader(self) -> Box<dyn Read> {
        match self {
            Self::Direct(body) => Box::new(body.into_reader()),
            Self::Relayed(reader) => Box::new(reader),
        }
    }

    /// The whole body, or `Ok(None)` when it is longer than `limit` bytes.
    fn read_limited(self, limit: u64) -> Result<Option<Vec<u8>>, String> {
        match self {
            Self::Direct(mut body) => match body.with_config().limit(limit).read_to_vec() {
                Ok(bytes) => Ok(Some(bytes)),
                Err(ureq::Error::BodyExceedsLimit(_)) => Ok(None),
                Err(e) => Err(e.to_string()),
            },
            Self::Relayed(reader) => {
                let mut bytes = Vec::new();
                reader
                    .take(limit.saturating_add(1))
                    .read_to_end(&mut bytes)
                    .map_err(|e| e.to_string())?;
                Ok((bytes.len() as u64 <= limit).then_some(bytes))
            }
        }
    }
}

/// The rules a payload download must keep, so that a hostile or broken mirror cannot hold the
/// one job slot: bytes at least every `stall` (and on average at least `min_rate` bytes per
/// second over each `stall` window), or the connection breaks off and resumes, [`RETRIES`]
/// times; and the whole download done by `deadline` from the fetcher's creation.
#[derive(Debug, Clone, Copy)]
pub struct PayloadLimits {
    /// Longest wait for a byte; also the window of the minimum rate.
    pub stall: Duration,
    /// Least average bytes per second over a window (0: none).
    pub min_rate: u64,
    /// When the whole job must be done.
    pub deadline: std::time::Instant,
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
            .max_redirects(0)
            .max_redirects_will_error(false)
            .http_status_as_error(false)
            .user_agent(concat!("update-center/", env!("CARGO_PKG_VERSION")))
            .tls_config(tls())
            .build()
            .into();
        let limits = PayloadLimits {
            stall: request,
            min_rate: 0,
            deadline: std::time::Instant::now() + Duration::from_secs(PAYLOAD_TIMEOUT_SECS),
        };
        Self {
            agent,
            payload_agent: Self::payload_agent(connect, request, limits),
            max_rate: None,
            credentials: None,
            limits,
            connect,
            request,
            relay: None,
        }
    }

    /// Sends every HTTP request through the download relay at `socket` (none: directly).
    pub fn with_relay(mut self, socket: Option<std::path::PathBuf>) -> Self {
        self.relay = socket;
        self
    }

    /// Applies `limits` to payload downloads (the administrator's `[Download]` settings).
    pub fn with_limits(mut self, connect: Duration, limits: PayloadLimits) -> Self {
        self.payload_agent = Self::payload_agent(connect, limits.stall, limits);
        self.limits = limits;
        self
    }

    fn payload_agent(connect: Duration, stall: Duration, limits: PayloadLimits) -> ureq::Agent {
        let tls = || {
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::PlatformVerifier)
                .build()
        };
        let left = limits
            .deadline
            .saturating_duration_since(std::time::Instant::now())
            .max(Duration::from_secs(1));
        ureq::Agent::config_builder()
            .timeout_connect(Some(connect))
            .timeout_recv_response(Some(stall))
            // A mirror that stops sending mid-file is given up on after this long without a
            // byte, and the download resumes; the whole may take hours on a slow link.
            .timeout_per_read(Some(stall))
            .timeout_global(Some(left))
            .max_redirects(0)
            .max_redirects_will_error(false)
            .http_status_as_error(false)
            .user_agent(concat!("update-center/", env!("CARGO_PKG_VERSION")))
            .tls_config(tls())
            .build()
            .into()
    }

    /// Sends HTTP Basic credentials with every request to the origin of `url` (scheme, host
    /// and port) and to nothing else: not to another host, not after a redirect elsewhere, and
    /// never over plain `http://` to another machine (then they are not used at all).
    pub fn with_credentials(mut self, url: &str, user: &str, password: &str) -> Self {
        use base64::Engine;
        if let Some(origin) = Origin::of(url).filter(Origin::may_carry_password) {
            let pair = zeroize::Zeroizing::new(format!("{user}:{password}"));
            let token = zeroize::Zeroizing::new(
                base64::engine::general_purpose::STANDARD.encode(pair.as_bytes()),
            );
            self.credentials = Some((
                origin,
                zeroize::Zeroizing::new(format!("Basic {}", token.as_str())),
            ));
        }
        self
    }

    /// Sends a request for `url` (HEAD or GET, with an optional `Range`), following up to
    /// [`MAX_REDIRECTS`] redirects itself: never from `https` to `http`, and the credentials
    /// go with each hop only when that hop is their origin.
    fn call(
        &self,
        kind: Kind,
        head: bool,
        url: &str,
        range: Option<&str>,
    ) -> Result<ureq::http::Response<Body>, FetchError> {
        let mut current = url.to_string();
        for _ in 0..=MAX_REDIRECTS {
            let authorization = self
                .credentials
                .as_ref()
                .filter(|(origin, _)| Origin::of(&current).as_ref() == Some(origin))
                .map(|(_, value)| value);
            let response = match &self.relay {
                None => {
                    let agent = match kind {
                        Kind::Small => &self.agent,
                        Kind::Payload => &self.payload_agent,
                    };
                    let mut request = if head {
                        agent.head(&current)
                    } else {
                        agent.get(&current)
                    };
                    if let Some(value) = authorization {
                        request = request.header("Authorization", value.as_str());
                    }
                    if let Some(range) = range {
                        request = request.header("Range", range);
                    }
                    request.call().map(|r| r.map(Body::Direct)).map_err(|e| {
                        FetchError::Unreachable {
                            url: current.clone(),
                            reason: e.to_string(),
                        }
                    })?
                }
                Some(socket) => self.relayed(socket, kind, head, &current, authorization, range)?,
            };
            if !matches!(response.status().as_u16(), 301 | 302 | 303 | 307 | 308) {
                return Ok(response);
            }
            let refuse = |to: &str, reason: &str| FetchError::Redirect {
                url: current.clone(),
                to: to.to_string(),
                reason: reason.to_string(),
            };
            let location = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .trim()
                .to_string();
            current =
                follow_redirect(&current, &location).map_err(|reason| refuse(&location, reason))?;
        }
        Err(FetchError::Redirect {
            url: url.to_string(),
            to: current,
            reason: format!("more than {MAX_REDIRECTS} redirects"),
        })
    }

    /// One hop through the download relay, with the timeouts of `kind`.
    fn relayed(
        &self,
        socket: &std::path::Path,
        kind: Kind,
        head: bool,
        url: &str,
        authorization: Option<&zeroize::Zeroizing<String>>,
        range: Option<&str>,
    ) -> Result<ureq::http::Response<Body>, FetchError> {
        use zeroize::Zeroize;
        let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let (stall, total) = match kind {
            Kind::Small => (self.request, self.request),
            Kind::Payload => (
                self.limits.stall,
                self.limits
                    .deadline
                    .saturating_duration_since(std::time::Instant::now())
                    .max(Duration::from_secs(1)),
            ),
        };
        let mut headers = Vec::new();
        if let Some(value) = authorization {
            headers.push(("Authorization".to_string(), value.to_string()));
        }
        if let Some(range) = range {
            headers.push(("Range".to_string(), range.to_string()));
        }
        let mut request = crate::relay::Request {
            method: if head { "HEAD" } else { "GET" }.to_string(),
            url: url.to_string(),
            headers,
            connect_ms: millis(self.connect),
            stall_ms: millis(stall),
            total_ms: millis(total),
        };
        let answer = crate::relay::send(socket, &request);
        for (_, value) in &mut request.headers {
            value.zeroize();
        }
        let relayed = answer.map_err(|reason| FetchError::Unreachable {
            url: url.to_string(),
            reason,
        })?;
        let mut builder = ureq::http::Response::builder().status(relayed.status);
        for (name, value) in &relayed.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        builder
            .body(Body::Relayed(relayed.body))
            .map_err(|e| FetchError::Unreachable {
                url: url.to_string(),
                reason: format!("the download relay's answer: {e}"),
            })
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
            Location::Dir { root, folder, .. } => {
                get_local(root, folder, name, &location.display(name), max_bytes)
            }
        }
    }

    fn get_http(&self, url: &str, max_bytes: usize) -> Result<Option<Vec<u8>>, FetchError> {
        let response = self.call(Kind::Small, false, url, None)?;
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
        match response.into_body().read_limited(limit) {
            Ok(Some(bytes)) => Ok(Some(bytes)),
            Ok(None) => Err(FetchError::TooLarge {
                url: url.to_string(),
                max_bytes,
            }),
            Err(reason) => Err(FetchError::Unreachable {
                url: url.to_string(),
                reason,
            }),
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
                    Err(Interrupted::Restart) if attempt >= RETRIES => {
                        return Err(FetchError::Unreachable {
                            url: url.clone(),
                            reason: format!(
                                "the mirror answered {} range requests with other bytes than asked for",
                                RETRIES + 1
                            ),
                        });
                    }
                    Err(Interrupted::Restart) => {
                        // The mirror ignored the range: start over (a bounded number of times,
                        // so a mirror that always answers with other bytes cannot loop us).
                        attempt += 1;
                        if cancel.load(std::sync::atomic::Ordering::Relaxed) {
                            return Err(FetchError::Cancelled { url: url.clone() });
                        }
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
                let range = (offset > 0).then(|| format!("bytes={offset}-"));
                let response = match self.call(Kind::Payload, false, url, range.as_deref()) {
                    Ok(response) => response,
                    Err(FetchError::Unreachable { reason, .. }) => return Err(transient(reason)),
                    Err(other) => return Err(Interrupted::Fatal(other)),
                };
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
                response.into_body().into_reader()
            }
            Location::Dir { root, folder, .. } => Box::new(
                crate::fsutil::open_beneath(root, folder, name).map_err(|e| {
                    Interrupted::Fatal(FetchError::Local {
                        path: url.to_string(),
                        reason: e.to_string(),
                    })
                })?,
            ),
        };
        let mut buffer = vec![0u8; CHUNK_BYTES];
        let (started, first_byte) = (std::time::Instant::now(), *total);
        let (mut window_start, mut window_bytes) = (started, 0u64);
        loop {
            if cancel.load(std::sync::atomic::Ordering::Relaxed) {
                return Err(Interrupted::Fatal(FetchError::Cancelled {
                    url: url.to_string(),
                }));
            }
            if std::time::Instant::now() >= self.limits.deadline {
                return Err(Interrupted::Fatal(FetchError::Unreachable {
                    url: url.to_string(),
                    reason: "the download did not finish by its deadline ([Download] DeadlineSec=)"
                        .into(),
                }));
            }
            let n = reader
                .read(&mut buffer)
                .map_err(|e| transient(e.to_string()))?;
            if n == 0 {
                return Ok(());
            }
            *total += n as u64;
            // The minimum rate, over windows as long as the stall limit: a mirror that trickles
            // a byte now and then breaks off like one that stalls, and is resumed.
            window_bytes += n as u64;
            let window = window_start.elapsed();
            if window >= self.limits.stall {
                let rate = window_bytes as f64 / window.as_secs_f64();
                if self.limits.min_rate > 0 && rate < self.limits.min_rate as f64 {
                    return Err(transient(format!(
                        "the mirror sent {window_bytes} bytes in {} s, less than the minimum of {} bytes per second ([Download] MinRateBytesPerSec=)",
                        window.as_secs(),
                        self.limits.min_rate
                    )));
                }
                (window_start, window_bytes) = (std::time::Instant::now(), 0);
            }
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
                let response = self.call(Kind::Small, true, &url, None)?;
                let status = response.status().as_u16();
                // Some mirrors answer GET only (as systemd-sysupdate, which never sends HEAD,
                // needs): ask for the first byte instead and read the size from the answer.
                if matches!(status, 400 | 403 | 405 | 501) {
                    return self.size_by_get(&url);
                }
                if !(200..300).contains(&status) {
                    return Err(FetchError::Status { url, status });
                }
                content_length(&response).ok_or(FetchError::NoSize { url })
            }
            Location::Dir { root, folder, .. } => crate::fsutil::open_beneath(root, folder, name)
                .map_err(|e| e.to_string())
                .and_then(|file| file.metadata().map_err(|e| e.to_string()))
                .map(|m| m.len())
                .map_err(|reason| FetchError::Local { path: url, reason }),
        }
    }
}

/// The `Content-Length` of an answer.
fn content_length<B>(response: &ureq::http::Response<B>) -> Option<u64> {
    response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

impl Fetcher {
    /// The size of the file at `url` from a GET for its first byte: the total of the
    /// `Content-Range` of a 206, or the `Content-Length` of a 200 from a mirror that ignores
    /// ranges (its body is not read).
    fn size_by_get(&self, url: &str) -> Result<u64, FetchError> {
        let response = self.call(Kind::Small, false, url, Some("bytes=0-0"))?;
        let status = response.status().as_u16();
        let size = match status {
            206 => response
                .headers()
                .get("content-range")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit_once('/'))
                .and_then(|(_, total)| total.trim().parse().ok()),
            200..=299 => content_length(&response),
            _ => {
                return Err(FetchError::Status {
                    url: url.to_string(),
                    status,
                });
            }
        };
        size.ok_or(FetchError::NoSize {
            url: url.to_string(),
        })
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
                let range = format!("bytes={start}-");
                let response = self.call(Kind::Small, false, &url, Some(&range))?;
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
            Location::Dir { root, folder, .. } => {
                let local = |e: std::io::Error| FetchError::Local {
                    path: url.clone(),
                    reason: e.to_string(),
                };
                let mut file = crate::fsutil::open_beneath(root, folder, name).map_err(|e| {
                    FetchError::Local {
                        path: url.clone(),
                        reason: e.to_string(),
                    }
                })?;
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

fn get_local(
    root: &Path,
    folder: &Path,
    name: &str,
    shown: &str,
    max_bytes: usize,
) -> Result<Option<Vec<u8>>, FetchError> {
    use std::io::Read;
    let file = match crate::fsutil::open_beneath(root, folder, name) {
        Ok(file) => file,
        Err(crate::fsutil::OpenError::NotFound) => return Ok(None),
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
