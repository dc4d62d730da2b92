//! nginx serving a folder on 127.0.0.1, as a site serves a mirror or a chunk store (range
//! requests included, as nginx answers them).

use anyhow::{Context, Result, bail};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running nginx; stopped when dropped.
pub struct Nginx {
    child: Child,
    _dir: tempfile::TempDir,
    /// How much of the access log was read already (never truncated: nginx appends to it
    /// whenever a request ends, also between a read and a truncation, which would lose it).
    read: std::sync::Mutex<usize>,
    /// `http://127.0.0.1:PORT/`.
    pub url: String,
}

impl Nginx {
    /// Serves `root` (read only, no listing).
    pub fn serve(root: &Path) -> Result<Self> {
        Self::serve_limited(root, None)
    }

    /// Serves `root`, sending each response at most `rate` fast (nginx's `limit_rate`, e.g.
    /// `1m`): a slow mirror whose downloads take long enough to be interrupted.
    pub fn serve_limited(root: &Path, rate: Option<&str>) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        // A free port: bound, read and let go just before nginx binds it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let prefix = dir.path().display();
        let config = format!(
            "daemon off;\nmaster_process off;\npid {prefix}/nginx.pid;\nerror_log {prefix}/error.log;\n\
             events {{}}\nhttp {{\n  log_format sent '$body_bytes_sent $status $uri';\n\
             access_log {prefix}/access.log sent;\n  client_body_temp_path {prefix}/body;\n\
             proxy_temp_path {prefix}/proxy;\n  fastcgi_temp_path {prefix}/fastcgi;\n\
             uwsgi_temp_path {prefix}/uwsgi;\n  scgi_temp_path {prefix}/scgi;\n\
             server {{\n    listen 127.0.0.1:{port};\n    root {};\n    {}\n  }}\n}}\n",
            root.display(),
            rate.map(|r| format!("limit_rate {r};")).unwrap_or_default()
        );
        let conf = dir.path().join("nginx.conf");
        std::fs::write(&conf, config)?;
        let child = Command::new("/usr/sbin/nginx")
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("cannot start nginx")?;
        let mut nginx = Self {
            child,
            _dir: dir,
            read: std::sync::Mutex::new(0),
            url: format!("http://127.0.0.1:{port}/"),
        };
        // Ready when it accepts a connection.
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = nginx.child.try_wait()? {
                let log = std::fs::read_to_string(nginx._dir.path().join("error.log"))
                    .unwrap_or_default();
                bail!("nginx exited ({status}): {log}");
            }
            if Instant::now() > deadline {
                bail!("nginx does not listen on port {port}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(nginx)
    }
}

impl Nginx {
    /// Bytes of response bodies sent since the last call (as nginx counts them, from its
    /// access log), and the number of requests.
    pub fn take_sent(&self) -> Result<(u64, u64)> {
        let requests = self.take_requests()?;
        Ok((requests.iter().map(|r| r.0).sum(), requests.len() as u64))
    }

    /// Every request answered since the last call: (body bytes sent, status, path).
    pub fn take_requests(&self) -> Result<Vec<(u64, u16, String)>> {
        let log = self._dir.path().join("access.log");
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let mut read = self
            .read
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Whole lines only: one being written now is taken next time.
        let end = text.rfind('\n').map_or(*read, |i| (i + 1).max(*read));
        let new = text.get(*read..end).unwrap_or_default().to_string();
        *read = end;
        Ok(new
            .lines()
            .filter_map(|line| {
                let mut fields = line.split_whitespace();
                Some((
                    fields.next()?.parse().ok()?,
                    fields.next()?.parse().ok()?,
                    fields.next()?.to_string(),
                ))
            })
            .collect())
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
