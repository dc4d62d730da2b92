//! Reading small files (`SHA256SUMS`, its signature) from where a source lives: an HTTP(S)
//! mirror, or a local folder for air-gapped machines (a USB stick, an NFS share). Sizes are
//! capped, timeouts are short, and every error names the URL or path.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use crate::source::origin::{MAX_REDIRECTS, Origin, follow_redirect};

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
    /// The folder `name` inside this location (a chunk store beside the images).
    pub fn folder(&self, name: &str) -> Self {
        match self {
            Self::Http(base) => Self::Http(format!("{base}{name}/")),
            Self::Dir {
                root,
                folder,
                shown,
            } => Self::Dir {
                root: root.clone(),
                folder: folder.join(name),
                shown: format!("{}/{name}", shown.trim_end_matches('/')),
            },
        }
    }

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

impl FetchError {
    /// The failure as the kind and fields a client says in the person's language
    /// (`update_center_client::ERROR_KINDS`; an empty kind for those without fields).
    pub fn details(&self) -> crate::error::ErrorDetails {
        use crate::error::ErrorDetails;
        match self {
            Self::Unreachable { url, .. } => {
                ErrorDetails::new("unreachable", &[("url", url.clone())])
            }
            Self::Status { url, status } => ErrorDetails::new(
                "http-status",
                &[("url", url.clone()), ("status", status.to_string())],
            ),
            Self::TooLarge { url, max_bytes } => ErrorDetails::new(
                "too-large",
                &[("url", url.clone()), ("max_bytes", max_bytes.to_string())],
            ),
            Self::Cancelled { .. } => ErrorDetails::new("cancelled", &[]),
            Self::Write { url, .. } => ErrorDetails::new("write-failed", &[("url", url.clone())]),
            Self::NoSize { url } => ErrorDetails::new("unknown-size", &[("url", url.clone())]),
            Self::Compressed { .. } | Self::Redirect { .. } | Self::Local { .. } => {
                ErrorDetails::default()
            }
        }
    }
}

/// Reads small files from locations, and downloads payloads.
pub struct Fetcher {
    agent: ureq::Agent,
    payload_agent: ureq::Agent,
    max_rate_bytes_per_sec: Option<u64>,
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

    /// Exactly `len` bytes into one buffer of that size (no growth, no copies): `Ok(None)`
    /// when the body is longer, an error when it is shorter.
    fn read_exact_len(self, len: u64) -> Result<Option<Vec<u8>>, String> {
        let size = usize::try_from(len).map_err(|e| e.to_string())?;
        let mut bytes = vec![0u8; size];
        let mut reader = self.into_reader();
        let mut filled = 0;
        while filled < size {
            match reader.read(&mut bytes[filled..]) {
                Ok(0) => return Ok(Some(bytes[..filled].to_vec())),
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.to_string()),
            }
        }
        let mut extra = [0u8; 1];
        match reader.read(&mut extra) {
            Ok(0) => Ok(Some(bytes)),
            Ok(_) => Ok(None),
            Err(e) => Err(e.to_string()),
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
        let limits = PayloadLimits {
            stall: request,
            min_rate: 0,
            deadline: std::time::Instant::now() + Duration::from_secs(PAYLOAD_TIMEOUT_SECS),
        };
        Self::with_payload_limits(connect, request, limits)
    }

    /// A fetcher with these timeouts for metadata and `limits` for payloads (the
    /// administrator's `[Download]` settings); each HTTP agent is built once.
    pub fn with_payload_limits(
        connect: Duration,
        request: Duration,
        limits: PayloadLimits,
    ) -> Self {
        Self {
            agent: crate::source::relay::agent(connect, None, request),
            payload_agent: Self::payload_agent(connect, limits),
            max_rate_bytes_per_sec: None,
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

    fn payload_agent(connect: Duration, limits: PayloadLimits) -> ureq::Agent {
        let left = limits
            .deadline
            .saturating_duration_since(std::time::Instant::now())
            .max(Duration::from_secs(1));
        // A mirror that stops sending mid-file is given up on after `stall` without a byte, and
        // the download resumes; the whole may take hours on a slow link.
        crate::source::relay::agent(connect, Some(limits.stall), left)
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
        let mut request = crate::source::relay::Request {
            method: if head { "HEAD" } else { "GET" }.to_string(),
            url: url.to_string(),
            headers,
            connect_ms: millis(self.connect),
            stall_ms: millis(stall),
            total_ms: millis(total),
            body: None,
        };
        let answer = crate::source::relay::send(socket, &request);
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

    /// Reads `len` bytes of the file at `url` from `start` with a range request: None when
    /// the server ignores `Range` (it answered with the whole file, which is not read).
    pub fn get_range(
        &self,
        url: &str,
        start: u64,
        len: u64,
    ) -> Result<Option<Vec<u8>>, FetchError> {
        let range = format!("bytes={start}-{}", start + len.max(1) - 1);
        let response = self.call(Kind::Payload, false, url, Some(&range))?;
        let status = response.status().as_u16();
        if status == 200 {
            return Ok(None);
        }
        if status != 206 {
            return Err(FetchError::Status {
                url: url.to_string(),
                status,
            });
        }
        match response.into_body().read_exact_len(len) {
            Ok(Some(bytes)) if bytes.len() as u64 == len => Ok(Some(bytes)),
            Ok(Some(bytes)) => Err(FetchError::Unreachable {
                url: url.to_string(),
                reason: format!(
                    "the range from byte {start} has {} bytes, not {len}",
                    bytes.len()
                ),
            }),
            Ok(None) => Err(FetchError::TooLarge {
                url: url.to_string(),
                max_bytes: len as usize,
            }),
            Err(reason) => Err(FetchError::Unreachable {
                url: url.to_string(),
                reason,
            }),
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

mod payload;
mod size;

pub use payload::throttle_delay;
pub use size::FileSizes;
