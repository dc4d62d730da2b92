//! Update mirrors for tests: a directory laid out like KDE Linux's `sysupdate/v2/` (payloads,
//! `SHA256SUMS`, `SHA256SUMS.gpg` signed by GnuPG) and a real HTTP/1.1 server on 127.0.0.1
//! serving it.

use crate::gpg::GpgKey;
use crate::system::Images;
use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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

/// A static file server on 127.0.0.1 (GET and HEAD; 404 for anything missing). Stopped when
/// dropped.
pub struct HttpMirror {
    /// Base URL, ending in `/`.
    pub url: String,
    stop: Arc<AtomicBool>,
    port: u16,
}

impl HttpMirror {
    /// Serves `dir` on a free port of 127.0.0.1.
    pub fn serve(dir: &Path) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").context("cannot listen on 127.0.0.1")?;
        let port = listener.local_addr()?.port();
        let stop = Arc::new(AtomicBool::new(false));
        let dir = dir.to_path_buf();
        let flag = stop.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let dir = dir.clone();
                std::thread::spawn(move || {
                    let _ = handle(stream, &dir);
                });
            }
        });
        Ok(Self {
            url: format!("http://127.0.0.1:{port}/"),
            stop,
            port,
        })
    }
}

impl Drop for HttpMirror {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn handle(stream: TcpStream, dir: &Path) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" || header == "\n" {
            break;
        }
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
    let mut out = stream;
    let path: PathBuf = dir.join(target.trim_start_matches('/'));
    let safe = !target.contains("..") && path.starts_with(dir);
    let body = if safe && path.is_file() {
        std::fs::read(&path).ok()
    } else {
        None
    };
    match (method, body) {
        ("GET" | "HEAD", Some(body)) => {
            write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            if method == "GET" {
                out.write_all(&body)?;
            }
        }
        ("GET" | "HEAD", None) => {
            write!(
                out,
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )?;
        }
        _ => {
            write!(
                out,
                "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )?;
        }
    }
    out.flush()
}
