//! Update mirrors for tests: a directory laid out like KDE Linux's `sysupdate/v2/` (payloads,
//! `SHA256SUMS`, `SHA256SUMS.gpg` signed by GnuPG) and a real HTTP/1.1 server on 127.0.0.1
//! serving it.

use crate::gpg::GpgKey;
use crate::system::Images;
use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// One version on the mirror.
#[derive(Debug, Clone)]
pub struct MirrorVersion {
    /// The version.
    pub version: String,
    /// Offer the UKI.
    pub efi: bool,
    /// Offer the EROFS image.
    pub erofs: bool,
    /// Offer the chunk index.
    pub caibx: bool,
}

impl MirrorVersion {
    /// All three files.
    pub fn complete(version: &str) -> Self {
        Self {
            version: version.to_string(),
            efi: true,
            erofs: true,
            caibx: true,
        }
    }
}

/// Writes the mirror's payloads and `SHA256SUMS` into `dir`, and signs it when `key` is given.
pub fn create(
    dir: &Path,
    versions: &[MirrorVersion],
    images: Images,
    key: Option<&GpgKey>,
) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    for v in versions {
        let version = &v.version;
        if v.efi {
            std::fs::write(
                dir.join(format!("kde-linux_{version}.efi")),
                format!("MZ UKI stand-in {version}\n"),
            )?;
        }
        if v.caibx {
            std::fs::write(
                dir.join(format!("kde-linux_{version}_root-x86-64.caibx")),
                format!("caibx stand-in {version}\n"),
            )?;
        }
        if v.erofs {
            crate::system::make_usr_image(
                &dir.join(format!("kde-linux_{version}_root-x86-64.erofs")),
                version,
                images,
            )?;
        }
    }
    write_sums(dir)?;
    if let Some(key) = key {
        key.sign_detached(&dir.join("SHA256SUMS"), &dir.join("SHA256SUMS.gpg"))?;
    }
    Ok(())
}

/// A mirror offering one complete version whose files are replaced by `payloads` (file name,
/// contents), with `SHA256SUMS` written for them.
pub fn with_payloads(dir: &Path, version: &str, payloads: &[(String, Vec<u8>)]) -> Result<()> {
    create(
        dir,
        &[MirrorVersion::complete(version)],
        Images::Plain,
        None,
    )?;
    for (name, bytes) in payloads {
        std::fs::write(dir.join(name), bytes)?;
    }
    write_sums(dir)
}

/// Writes `SHA256SUMS` for every regular file of `dir` (except the list and its signature).
pub fn write_sums(dir: &Path) -> Result<()> {
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "SHA256SUMS" && n != "SHA256SUMS.gpg")
        .collect();
    names.sort();
    let mut text = String::new();
    for name in names {
        let digest = Sha256::digest(std::fs::read(dir.join(&name))?);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        text.push_str(&format!("{hex}  {name}\n"));
    }
    std::fs::write(dir.join("SHA256SUMS"), text)?;
    Ok(())
}

/// A misbehaviour the mirror can be told to show for one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this HTTP status instead of the file.
    Status(u16),
    /// Announce the whole file, send this many bytes, then close the connection (once; the
    /// next request, e.g. a resume, is served normally).
    DropAfter(usize),
    /// Announce and send only this many bytes, as if the file were that short.
    Truncate(usize),
    /// Accept the request and never answer.
    Stall,
    /// Ignore range requests and always send the whole file with status 200.
    NoRanges,
    /// Like `DropAfter`, then `NoRanges` for the requests that follow.
    DropThenIgnoreRanges(usize),
    /// Like `DropAfter`, then this HTTP status for the requests that follow.
    DropThenStatus(usize, u16),
    /// Announce the whole file, send this many bytes, then hold the connection open without
    /// another byte until the client gives up (once; the next request is served normally).
    StallOnceAfter(usize),
    /// Answer `302 Found` pointing at this URL.
    Redirect(String),
    /// Send the file one byte at a time with this many milliseconds between bytes (a mirror
    /// trickling bytes to hold a download open).
    Trickle(u64),
}

type Faults = Arc<Mutex<BTreeMap<String, Fault>>>;

/// A static file server on 127.0.0.1 (GET and HEAD, byte ranges; 404 for anything missing)
/// that can be told to misbehave per file. Stopped when dropped.
pub struct HttpMirror {
    /// Base URL, ending in `/`.
    pub url: String,
    /// The directory served.
    pub dir: PathBuf,
    stop: Arc<AtomicBool>,
    port: u16,
    faults: Faults,
    /// Range requests seen, as (file name, first byte).
    pub ranges: Arc<Mutex<Vec<(String, u64)>>>,
    /// The `Authorization` header every request must carry, when set.
    auth: Arc<Mutex<Option<String>>>,
    /// The status every HEAD request gets instead of an answer, when set (a GET-only mirror).
    head_refused: Arc<Mutex<Option<u16>>>,
    /// Every request seen, as (method, file name, whether it carried `Authorization`).
    pub requests: Arc<Mutex<Vec<(String, String, bool)>>>,
}

impl HttpMirror {
    /// Serves `dir` on a free port of 127.0.0.1.
    pub fn serve(dir: &Path) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").context("cannot listen on 127.0.0.1")?;
        let port = listener.local_addr()?.port();
        let stop = Arc::new(AtomicBool::new(false));
        let faults: Faults = Arc::default();
        let ranges: Arc<Mutex<Vec<(String, u64)>>> = Arc::default();
        let auth: Arc<Mutex<Option<String>>> = Arc::default();
        let head_refused: Arc<Mutex<Option<u16>>> = Arc::default();
        let requests: Arc<Mutex<Vec<(String, String, bool)>>> = Arc::default();
        let (shared_head, shared_requests) = (head_refused.clone(), requests.clone());
        let served = dir.to_path_buf();
        let dir = dir.to_path_buf();
        let (flag, shared_faults, shared_ranges) = (stop.clone(), faults.clone(), ranges.clone());
        let shared_auth = auth.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (dir, faults, ranges) =
                    (dir.clone(), shared_faults.clone(), shared_ranges.clone());
                let auth = shared_auth.lock().ok().and_then(|a| a.clone());
                let head = shared_head.lock().ok().and_then(|h| *h);
                let requests = shared_requests.clone();
                std::thread::spawn(move || {
                    let seen = Seen {
                        ranges: &ranges,
                        requests: &requests,
                    };
                    let _ = handle(stream, &dir, &faults, seen, auth.as_deref(), head);
                });
            }
        });
        Ok(Self {
            url: format!("http://127.0.0.1:{port}/"),
            dir: served,
            stop,
            port,
            faults,
            ranges,
            auth,
            head_refused,
            requests,
        })
    }

    /// From now on, answers every HEAD request with `status` (405 or 501, as GET-only file
    /// servers and CDNs do).
    pub fn refuse_head(&self, status: u16) {
        if let Ok(mut head) = self.head_refused.lock() {
            *head = Some(status);
        }
    }

    /// From now on, answers 401 to every request without HTTP Basic credentials `user:password`.
    pub fn require_basic_auth(&self, user: &str, password: &str) {
        use base64::Engine;
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        if let Ok(mut auth) = self.auth.lock() {
            *auth = Some(format!("Basic {token}"));
        }
    }

    /// Makes the mirror misbehave for `name` from now on.
    pub fn set_fault(&self, name: &str, fault: Fault) {
        if let Ok(mut faults) = self.faults.lock() {
            faults.insert(name.to_string(), fault);
        }
    }

    /// Heals the mirror.
    pub fn clear_faults(&self) {
        if let Ok(mut faults) = self.faults.lock() {
            faults.clear();
        }
    }
}

impl Drop for HttpMirror {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// What a request handler records.
struct Seen<'a> {
    ranges: &'a Mutex<Vec<(String, u64)>>,
    requests: &'a Mutex<Vec<(String, String, bool)>>,
}

fn handle(
    stream: TcpStream,
    dir: &Path,
    faults: &Faults,
    seen: Seen<'_>,
    auth: Option<&str>,
    head_refused: Option<u16>,
) -> std::io::Result<()> {
    let ranges = seen.ranges;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut range_start: Option<u64> = None;
    let mut range_end: Option<u64> = None;
    let mut authorization: Option<String> = None;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" || header == "\n" {
            break;
        }
        if let Some((key, value)) = header.split_once(':')
            && key.eq_ignore_ascii_case("authorization")
        {
            authorization = Some(value.trim().to_string());
        }
        if let Some(value) = header.to_ascii_lowercase().strip_prefix("range: bytes=") {
            let (start, end) = value.trim().split_once('-').unwrap_or((value.trim(), ""));
            range_start = start.parse().ok();
            range_end = end.parse().ok();
        }
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
    let name = target.trim_start_matches('/').to_string();
    let mut out = stream;
    let path: PathBuf = dir.join(&name);
    let safe = !target.contains("..") && path.starts_with(dir);
    let length = if safe && path.is_file() {
        std::fs::metadata(&path).ok().map(|m| m.len())
    } else {
        None
    };
    let fault = faults.lock().ok().and_then(|f| f.get(&name).cloned());
    if let Ok(mut requests) = seen.requests.lock() {
        requests.push((method.to_string(), name.clone(), authorization.is_some()));
    }
    if let Some(start) = range_start
        && let Ok(mut seen) = ranges.lock()
    {
        seen.push((name.clone(), start));
    }
    let header = |out: &mut TcpStream, status: &str, length: usize, extra: &str| {
        write!(
            out,
            "HTTP/1.1 {status}\r\nContent-Length: {length}\r\n{extra}Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n"
        )
    };
    if let Some(wanted) = auth
        && authorization.as_deref() != Some(wanted)
    {
        header(
            &mut out,
            "401 Unauthorized",
            0,
            "WWW-Authenticate: Basic realm=\"mirror\"\r\n",
        )?;
        return Ok(());
    }
    if method == "HEAD"
        && let Some(code) = head_refused
    {
        header(&mut out, &format!("{code} HEAD Refused"), 0, "")?;
        return out.flush();
    }
    match (method, length, fault) {
        (_, _, Some(Fault::Redirect(to))) => {
            header(&mut out, "302 Found", 0, &format!("Location: {to}\r\n"))?
        }
        ("GET", Some(length), Some(Fault::Trickle(millis))) => {
            let body = std::fs::read(&path)?;
            header(&mut out, "200 OK", usize::try_from(length).unwrap_or(0), "")?;
            for byte in body {
                out.write_all(&[byte])?;
                out.flush()?;
                std::thread::sleep(std::time::Duration::from_millis(millis));
            }
        }
        (_, _, Some(Fault::Status(code))) => header(&mut out, &format!("{code} Injected"), 0, "")?,
        (_, _, Some(Fault::Stall)) => {
            // Hold the connection open without a byte until the client gives up.
            let mut sink = Vec::new();
            let _ = reader.read_to_end(&mut sink);
        }
        (
            "GET",
            Some(_),
            Some(
                fault @ (Fault::DropAfter(n)
                | Fault::DropThenIgnoreRanges(n)
                | Fault::DropThenStatus(n, _)),
            ),
        ) => {
            if let Ok(mut faults) = faults.lock() {
                match fault {
                    Fault::DropThenIgnoreRanges(_) => faults.insert(name.clone(), Fault::NoRanges),
                    Fault::DropThenStatus(_, code) => {
                        faults.insert(name.clone(), Fault::Status(code))
                    }
                    _ => faults.remove(&name),
                };
            }
            let body = std::fs::read(&path)?;
            header(&mut out, "200 OK", body.len(), "")?;
            out.write_all(&body[..n.min(body.len())])?;
            out.flush()?;
            let _ = out.shutdown(std::net::Shutdown::Both);
        }
        ("GET", Some(_), Some(Fault::StallOnceAfter(n))) => {
            if let Ok(mut faults) = faults.lock() {
                faults.remove(&name);
            }
            let body = std::fs::read(&path)?;
            header(&mut out, "200 OK", body.len(), "")?;
            out.write_all(&body[..n.min(body.len())])?;
            out.flush()?;
            // Until the client closes its end.
            let mut sink = Vec::new();
            let _ = reader.read_to_end(&mut sink);
        }
        ("GET", Some(_), Some(Fault::Truncate(n))) => {
            let body = std::fs::read(&path)?;
            let n = n.min(body.len());
            header(&mut out, "200 OK", n, "")?;
            out.write_all(&body[..n])?;
        }
        ("GET" | "HEAD", Some(length), fault) => {
            let ranged = range_start.filter(|s| *s < length && fault != Some(Fault::NoRanges));
            let start = ranged.unwrap_or(0);
            let last = match (ranged, range_end) {
                (Some(_), Some(end)) => end.min(length - 1),
                _ => length.saturating_sub(1),
            };
            let count = if ranged.is_some() {
                last + 1 - start
            } else {
                length
            };
            let extra = match ranged {
                Some(start) => format!("Content-Range: bytes {start}-{last}/{length}\r\n"),
                None => String::new(),
            };
            let status = if ranged.is_some() {
                "206 Partial Content"
            } else {
                "200 OK"
            };
            header(
                &mut out,
                status,
                usize::try_from(count).unwrap_or(usize::MAX),
                &extra,
            )?;
            if method == "GET" {
                // Streamed from the file: payloads of a gigabyte stay out of memory.
                use std::io::Seek;
                let mut file = std::fs::File::open(&path)?;
                file.seek(std::io::SeekFrom::Start(start))?;
                std::io::copy(&mut file.take(count), &mut out)?;
            }
        }
        ("GET" | "HEAD", None, _) => header(&mut out, "404 Not Found", 0, "")?,
        _ => header(&mut out, "405 Method Not Allowed", 0, "")?,
    }
    out.flush()
}
