//! The download relay: the helper's only way to the network when it runs under its unit.
//!
//! The helper runs as root without a network (`PrivateNetwork=yes`); each HTTP request it
//! makes goes over a Unix socket (`update-center-fetch.socket`, root only) to a fresh
//! `update-center-helper fetch-server` process that systemd starts per connection as an
//! unprivileged dynamic user without capabilities. The relay sends exactly one request (no
//! redirects: the helper follows them itself, by its own rules) and streams the answer back.
//! A flaw in the HTTP or TLS code then gives an attacker on the network a sandboxed nobody,
//! not root; and everything the relay returns is checked by the helper as before (sizes,
//! hashes, signatures).
//!
//! The protocol, on one connection: the helper writes one JSON line ([`Request`]); the relay
//! answers one JSON line ([`Answer`]) and then, for a GET or a POST, the body's bytes until it
//! closes the connection. A POST carries a JSON body of at most 32 KiB: the fleet's calls to
//! etcd's gateway and a FleetLock server (docs/fleets.md), nothing else.

use std::io::{BufRead, Read, Write};
use std::path::Path;
use std::time::Duration;

/// The environment variable naming the relay's socket (set by the helper's unit). Without it
/// the helper makes its requests itself.
pub const SOCKET_ENV: &str = "UPDATE_CENTER_FETCH_SOCKET";

/// The longest request line the relay reads.
const MAX_REQUEST_BYTES: u64 = 64 * 1024;
/// The longest answer line the helper reads (status and headers).
const MAX_ANSWER_BYTES: u64 = 256 * 1024;

/// One HTTP request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Request {
    /// `GET`, `HEAD`, or `POST` (with a JSON `body`).
    pub method: String,
    /// An `http://` or `https://` URL.
    pub url: String,
    /// Headers to send (`Authorization`, `Range`).
    pub headers: Vec<(String, String)>,
    /// Connection timeout, in milliseconds.
    pub connect_ms: u64,
    /// Longest wait for the answer and between two reads of the body, in milliseconds.
    pub stall_ms: u64,
    /// The whole exchange, in milliseconds.
    pub total_ms: u64,
    /// A POST's JSON body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// The largest body a POST may carry through the relay.
pub const MAX_POST_BYTES: usize = 32 * 1024;

/// The answer's head, or why there is none.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Answer {
    /// The status and the headers (names in lower case).
    Response {
        /// HTTP status.
        status: u16,
        /// Headers of the answer.
        headers: Vec<(String, String)>,
    },
    /// The request could not be made (refused URL, DNS, connection, TLS, timeout).
    Failed(String),
}

/// Serves one request from `input` and writes the answer to `output` (the relay process: its
/// standard input and output are the socket systemd accepted).
pub fn serve(input: impl Read, mut output: impl Write) -> std::io::Result<()> {
    let mut line = String::new();
    std::io::BufReader::new(input.take(MAX_REQUEST_BYTES)).read_line(&mut line)?;
    let answer_failed = |output: &mut dyn Write, why: String| -> std::io::Result<()> {
        write_line(output, &Answer::Failed(why))
    };
    let request: Request = match serde_json::from_str(&line) {
        Ok(request) => request,
        Err(e) => return answer_failed(&mut output, format!("not a relay request: {e}")),
    };
    if let Err(why) = check(&request) {
        return answer_failed(&mut output, why);
    }
    let agent = agent(
        Duration::from_millis(request.connect_ms),
        Some(Duration::from_millis(request.stall_ms)),
        Duration::from_millis(request.total_ms),
    );
    let head = request.method == "HEAD";
    let answer = if let Some(body) = &request.body {
        let mut builder = agent.post(&request.url);
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        builder.send(body.as_str())
    } else {
        let mut builder = if head {
            agent.head(&request.url)
        } else {
            agent.get(&request.url)
        };
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        builder.call()
    };
    let response = match answer {
        Ok(response) => response,
        Err(e) => return answer_failed(&mut output, e.to_string()),
    };
    let headers = response
        .headers()
        .iter()
        .filter_map(|(name, value)| {
            value
                .to_str()
                .ok()
                .map(|v| (name.as_str().to_ascii_lowercase(), v.to_string()))
        })
        .collect();
    write_line(
        &mut output,
        &Answer::Response {
            status: response.status().as_u16(),
            headers,
        },
    )?;
    if !head {
        // The body as it comes; the helper counts, limits and hashes it.
        std::io::copy(&mut response.into_body().into_reader(), &mut output)?;
    }
    output.flush()
}

/// The HTTP agent of every request, made directly or by the relay: no redirects followed (the
/// helper follows them by its own rules), every status an answer rather than an error, TLS
/// checked against the system's trust store (so that private mirrors with an in-house CA work),
/// `connect` to connect, `stall` (when given) as the longest wait for the answer and between
/// two reads, `total` for the whole exchange.
pub fn agent(connect: Duration, stall: Option<Duration>, total: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_connect(Some(connect))
        .timeout_recv_response(stall)
        .timeout_per_read(stall)
        .timeout_global(Some(total))
        .max_redirects(0)
        .max_redirects_will_error(false)
        .http_status_as_error(false)
        .user_agent(concat!("update-center/", env!("CARGO_PKG_VERSION")))
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::PlatformVerifier)
                .build(),
        )
        .build()
        .into()
}

/// The relay makes plain HTTP(S) requests and nothing else: GET and HEAD with the two headers
/// of a download, or a POST of a small JSON body with the headers of the fleet's calls.
fn check(request: &Request) -> Result<(), String> {
    let post = request.method == "POST";
    if request.method != "GET" && request.method != "HEAD" && !post {
        return Err(format!(
            "the relay sends GET, HEAD and POST, not {}",
            request.method
        ));
    }
    match (&request.body, post) {
        (Some(body), true) => {
            if body.len() > MAX_POST_BYTES
                || serde_json::from_str::<serde_json::Value>(body).is_err()
            {
                return Err(format!(
                    "the relay posts JSON of at most {MAX_POST_BYTES} bytes"
                ));
            }
        }
        (None, true) => return Err("a POST through the relay carries a JSON body".into()),
        (Some(_), false) => return Err(format!("a {} carries no body", request.method)),
        (None, false) => {}
    }
    let lower = request.url.to_ascii_lowercase();
    if !lower.starts_with("http://") && !lower.starts_with("https://") {
        return Err(format!(
            "the relay fetches http(s) URLs only, not {}",
            request.url
        ));
    }
    for (name, value) in &request.headers {
        let allowed = if post {
            (name.eq_ignore_ascii_case("content-type") && value == "application/json")
                || (name.eq_ignore_ascii_case("fleet-lock-protocol") && value == "true")
        } else {
            name.eq_ignore_ascii_case("authorization") || name.eq_ignore_ascii_case("range")
        };
        if !allowed {
            return Err(format!("the relay sends no {name} header"));
        }
    }
    Ok(())
}

/// POSTs the JSON `body` to `url` with `headers`, through the relay at `relay` when there is
/// one (the helper under its unit) or with `agent` (offline commands, tests); the status and
/// at most `limit` bytes of the answer's body as text. `Err` says why no answer came.
pub fn post_json(
    relay: Option<&Path>,
    agent: &ureq::Agent,
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
    timeout: Duration,
    limit: u64,
) -> Result<(u16, String), String> {
    let mut all: Vec<(String, String)> = vec![("content-type".into(), "application/json".into())];
    all.extend(headers.iter().map(|(n, v)| (n.to_string(), v.to_string())));
    let (status, mut reader): (u16, Box<dyn Read>) = match relay {
        Some(socket) => {
            let millis = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
            let request = Request {
                method: "POST".into(),
                url: url.to_string(),
                headers: all,
                connect_ms: millis,
                stall_ms: millis,
                total_ms: millis,
                body: Some(body.to_string()),
            };
            // The relay reads one line of at most this many bytes (escapes included).
            let line = serde_json::to_vec(&request).map_err(|e| e.to_string())?;
            if line.len() as u64 >= MAX_REQUEST_BYTES {
                return Err(format!(
                    "a request of {} bytes is too large for the relay",
                    line.len()
                ));
            }
            let relayed = send(socket, &request)?;
            (relayed.status, Box::new(relayed.body))
        }
        None => {
            let mut builder = agent.post(url);
            for (name, value) in &all {
                builder = builder.header(name.as_str(), value.as_str());
            }
            let response = builder.send(body).map_err(|e| e.to_string())?;
            let status = response.status().as_u16();
            (status, Box::new(response.into_body().into_reader()))
        }
    };
    let mut bytes = Vec::new();
    (&mut reader)
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > limit {
        return Err(format!("the answer is larger than {limit} bytes"));
    }
    Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
}

fn write_line(output: &mut dyn Write, value: &impl serde::Serialize) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(value).map_err(std::io::Error::other)?;
    line.push(b'\n');
    output.write_all(&line)?;
    output.flush()
}

/// The relay's answer as the helper reads it: the head, and the connection to read the body
/// from.
pub struct Relayed {
    /// HTTP status.
    pub status: u16,
    /// Headers (names in lower case).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: std::io::BufReader<std::os::unix::net::UnixStream>,
}

impl Relayed {
    /// The first header called `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `request` through the relay at `socket`. `Err` says why no answer came (the relay is
/// not there, or could not make the request).
pub fn send(socket: &Path, request: &Request) -> Result<Relayed, String> {
    let stream = std::os::unix::net::UnixStream::connect(socket).map_err(|e| {
        format!(
            "cannot reach the download relay {} (update-center-fetch.socket): {e}",
            socket.display()
        )
    })?;
    // A relay that stops answering is given up on like a mirror that stops sending.
    let stall = Duration::from_millis(request.stall_ms.max(1000));
    stream
        .set_read_timeout(Some(stall + Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    let mut writer = &stream;
    write_line(&mut writer, request).map_err(|e| format!("the download relay: {e}"))?;
    let mut body = std::io::BufReader::new(stream);
    let mut line = String::new();
    (&mut body)
        .take(MAX_ANSWER_BYTES)
        .read_line(&mut line)
        .map_err(|e| format!("the download relay did not answer: {e}"))?;
    match serde_json::from_str::<Answer>(&line) {
        Ok(Answer::Response { status, headers }) => Ok(Relayed {
            status,
            headers,
            body,
        }),
        Ok(Answer::Failed(why)) => Err(why),
        Err(_) if line.is_empty() => Err("the download relay closed the connection".into()),
        Err(e) => Err(format!("the download relay answered garbage: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A one-shot HTTP server on 127.0.0.1 answering `reply` to the first connection; the
    /// request it saw comes back through the returned channel.
    fn http_once(reply: &'static [u8]) -> (String, std::sync::mpsc::Receiver<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("listen");
        let url = format!("http://{}/file", listener.local_addr().expect("addr"));
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().expect("accept");
            let mut seen = String::new();
            let mut reader = std::io::BufReader::new(stream.try_clone().expect("clone"));
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                seen.push_str(&line);
            }
            let _ = tx.send(seen);
            let _ = stream.write_all(reply);
        });
        (url, rx)
    }

    /// Status, headers and body of an answer the relay gave.
    type Answered = (u16, Vec<(String, String)>, Vec<u8>);

    fn relayed(request: &Request) -> Result<Answered, String> {
        let (helper, relay) = std::os::unix::net::UnixStream::pair().expect("pair");
        let server = std::thread::spawn(move || {
            let input = relay.try_clone().expect("clone");
            serve(input, relay)
        });
        let mut writer = &helper;
        write_line(&mut writer, request).expect("write");
        let mut reader = std::io::BufReader::new(helper);
        let mut line = String::new();
        reader.read_line(&mut line).expect("answer");
        let mut body = Vec::new();
        reader.read_to_end(&mut body).expect("body");
        server.join().expect("join").expect("serve");
        match serde_json::from_str::<Answer>(&line).expect("JSON") {
            Answer::Response { status, headers } => Ok((status, headers, body)),
            Answer::Failed(why) => Err(why),
        }
    }

    fn get(url: &str, headers: &[(&str, &str)]) -> Request {
        Request {
            method: "GET".into(),
            url: url.into(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            connect_ms: 5000,
            stall_ms: 5000,
            total_ms: 10000,
            body: None,
        }
    }

    #[test]
    fn the_relay_makes_the_request_and_streams_the_answer_back() {
        let (url, seen) = http_once(
            b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 2-4/10\r\nContent-Length: 3\r\n\r\nabc",
        );
        let (status, headers, body) = relayed(&get(
            &url,
            &[("Range", "bytes=2-"), ("Authorization", "Basic eA==")],
        ))
        .expect("answer");
        assert_eq!(status, 206);
        assert!(headers.contains(&("content-range".into(), "bytes 2-4/10".into())));
        assert_eq!(body, b"abc");
        let request = seen.recv().expect("request");
        assert!(request.starts_with("GET /file HTTP/1.1"), "{request}");
        assert!(request.contains("range: bytes=2-") || request.contains("Range: bytes=2-"));
    }

    #[test]
    fn the_relay_refuses_anything_but_http_and_its_two_headers() {
        for (request, why) in [
            (get("file:///etc/shadow", &[]), "http(s) URLs only"),
            (
                get("http://127.0.0.1:9/", &[("Host", "elsewhere")]),
                "no Host header",
            ),
            (
                Request {
                    method: "PUT".into(),
                    ..get("http://127.0.0.1:9/", &[])
                },
                "GET, HEAD and POST",
            ),
            (
                Request {
                    method: "POST".into(),
                    ..get("http://127.0.0.1:9/", &[])
                },
                "carries a JSON body",
            ),
            (
                Request {
                    method: "POST".into(),
                    body: Some("not json".into()),
                    ..get("http://127.0.0.1:9/", &[])
                },
                "posts JSON",
            ),
            (
                Request {
                    method: "POST".into(),
                    body: Some("{}".into()),
                    ..get("http://127.0.0.1:9/", &[("Authorization", "Basic eA==")])
                },
                "no Authorization header",
            ),
            (
                Request {
                    body: Some("{}".into()),
                    ..get("http://127.0.0.1:9/", &[])
                },
                "carries no body",
            ),
        ] {
            let error = relayed(&request).expect_err("refused");
            assert!(error.contains(why), "{error}");
        }
    }

    #[test]
    fn a_json_post_goes_through_the_relay_with_its_body_and_comes_back() {
        let (url, seen) = http_once(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}",
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let socket = dir.path().join("fetch.socket");
        let listener = std::os::unix::net::UnixListener::bind(&socket).expect("bind");
        let relay = std::thread::spawn(move || {
            let (stream, _) = listener.accept().expect("accept");
            serve(&stream, &stream).expect("serve");
        });
        let agent = agent(
            Duration::from_secs(5),
            Some(Duration::from_secs(5)),
            Duration::from_secs(5),
        );
        let (status, text) = post_json(
            Some(&socket),
            &agent,
            &url,
            &[("fleet-lock-protocol", "true")],
            r#"{"client_params":{"id":"a","group":"g"}}"#,
            Duration::from_secs(5),
            1024,
        )
        .expect("answer");
        relay.join().expect("relay");
        assert_eq!((status, text.as_str()), (200, r#"{"ok":true}"#));
        let request = seen.recv().expect("request");
        assert!(request.starts_with("POST /file HTTP/1.1"), "{request}");
        assert!(
            request
                .to_ascii_lowercase()
                .contains("fleet-lock-protocol: true"),
            "{request}"
        );
        // The body's bytes went too (the server reads the head only).
        assert!(
            request.to_ascii_lowercase().contains("content-length: 40"),
            "{request}"
        );
    }

    #[test]
    fn a_redirect_comes_back_to_the_helper_unfollowed() {
        let (url, _) = http_once(
            b"HTTP/1.1 302 Found\r\nLocation: http://elsewhere.invalid/x\r\nContent-Length: 0\r\n\r\n",
        );
        let (status, headers, _) = relayed(&get(&url, &[])).expect("answer");
        assert_eq!(status, 302);
        assert!(headers.contains(&("location".into(), "http://elsewhere.invalid/x".into())));
    }

    #[test]
    fn a_missing_relay_is_a_clear_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let error = match send(&dir.path().join("fetch.socket"), &get("http://x/", &[])) {
            Ok(_) => panic!("no relay there"),
            Err(e) => e,
        };
        assert!(error.contains("cannot reach the download relay"), "{error}");
    }
}
