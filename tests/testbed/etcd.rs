//! A real etcd cluster on 127.0.0.1 (Debian's `etcd-server`): members on free ports, each with
//! its data in a temporary folder, stopped (killed) when dropped. Tests stop and start single
//! members to see what the machines of a fleet do without them.

use anyhow::{Context, Result, bail};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The etcd binary.
const ETCD: &str = "/usr/bin/etcd";

/// One member.
struct Member {
    name: String,
    client_port: u16,
    peer_port: u16,
    child: Option<Child>,
    log: PathBuf,
}

/// A cluster of members on this machine.
pub struct EtcdCluster {
    members: Vec<Member>,
    cluster: String,
    dir: tempfile::TempDir,
}

/// A port below Linux's ephemeral range (32768-60999), free now: a port the kernel hands out
/// for outgoing connections or `bind(0)` could be taken by another test between this check
/// and etcd's listen, or while a member is down. Each call in this process gets a new one;
/// processes start at different places by their pid.
fn free_port() -> Result<u16> {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let seed = (std::process::id() % 500) * 24;
    for _ in 0..12_768 {
        let offset = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let port = u16::try_from(20_000 + (seed + offset) % 12_768).unwrap_or(20_000);
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    bail!("no free port from 20000 to 32767")
}

/// `GET path` of `127.0.0.1:port`: the status and the body, or `None` when nothing answers.
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = std::net::TcpStream::connect_timeout(
        &([127, 0, 0, 1], port).into(),
        Duration::from_secs(1),
    )
    .ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string())?;
    Some((status, body))
}

impl EtcdCluster {
    /// Starts `size` members and waits until the cluster has a leader.
    pub fn start(size: usize) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let mut members = Vec::new();
        for n in 0..size {
            members.push(Member {
                name: format!("m{n}"),
                client_port: free_port()?,
                peer_port: free_port()?,
                child: None,
                log: dir.path().join(format!("m{n}.log")),
            });
        }
        let cluster = members
            .iter()
            .map(|m| format!("{}=http://127.0.0.1:{}", m.name, m.peer_port))
            .collect::<Vec<_>>()
            .join(",");
        let mut this = Self {
            members,
            cluster,
            dir,
        };
        for n in 0..size {
            this.spawn(n, "new")?;
        }
        this.wait_healthy(&(0..size).collect::<Vec<_>>())?;
        Ok(this)
    }

    fn spawn(&mut self, n: usize, state: &str) -> Result<()> {
        let data = self.dir.path().join(format!("m{n}.etcd"));
        let member = &mut self.members[n];
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&member.log)?;
        let child = Command::new(ETCD)
            .arg("--name")
            .arg(&member.name)
            .arg("--data-dir")
            .arg(&data)
            .arg("--listen-client-urls")
            .arg(format!("http://127.0.0.1:{}", member.client_port))
            .arg("--advertise-client-urls")
            .arg(format!("http://127.0.0.1:{}", member.client_port))
            .arg("--listen-peer-urls")
            .arg(format!("http://127.0.0.1:{}", member.peer_port))
            .arg("--initial-advertise-peer-urls")
            .arg(format!("http://127.0.0.1:{}", member.peer_port))
            .arg("--initial-cluster")
            .arg(&self.cluster)
            .arg("--initial-cluster-state")
            .arg(state)
            .arg("--initial-cluster-token")
            .arg("update-center-test")
            // Elections in a fraction of a second on loopback.
            .args(["--heartbeat-interval", "50", "--election-timeout", "500"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("cannot start etcd (Debian's etcd-server)")?;
        member.child = Some(child);
        Ok(())
    }

    /// Waits until each of `members` says the cluster is healthy (it has a leader).
    fn wait_healthy(&mut self, members: &[usize]) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        for &n in members {
            loop {
                if let Some((200, body)) = get(self.members[n].client_port, "/health")
                    && body.contains("\"health\":\"true\"")
                {
                    break;
                }
                if let Some(child) = self.members[n].child.as_mut()
                    && let Some(status) = child.try_wait()?
                {
                    let log = std::fs::read_to_string(&self.members[n].log).unwrap_or_default();
                    bail!("etcd member m{n} exited ({status}): {log}");
                }
                if Instant::now() > deadline {
                    let log = std::fs::read_to_string(&self.members[n].log).unwrap_or_default();
                    bail!("etcd member m{n} is not healthy after 60 s: {log}");
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Ok(())
    }

    /// The client URLs of every member, in order.
    pub fn endpoints(&self) -> Vec<String> {
        self.members
            .iter()
            .map(|m| format!("http://127.0.0.1:{}", m.client_port))
            .collect()
    }

    /// The same, comma-separated (for `--etcd`).
    pub fn endpoint_list(&self) -> String {
        self.endpoints().join(",")
    }

    /// Kills member `n` (as a power cut would).
    pub fn stop(&mut self, n: usize) {
        if let Some(mut child) = self.members[n].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts member `n` again on its data, and waits until it is healthy.
    pub fn restart(&mut self, n: usize) -> Result<()> {
        self.stop(n);
        self.spawn(n, "existing")?;
        self.wait_healthy(&[n])
    }

    /// Starts every member again on its data (after all were stopped: one alone has no
    /// quorum), and waits until the cluster is healthy.
    pub fn restart_all(&mut self) -> Result<()> {
        let all: Vec<usize> = (0..self.members.len()).collect();
        for &n in &all {
            self.stop(n);
            self.spawn(n, "existing")?;
        }
        self.wait_healthy(&all)
    }
}

impl Drop for EtcdCluster {
    fn drop(&mut self) {
        for n in 0..self.members.len() {
            self.stop(n);
        }
    }
}
