//! An etcd v3 client over etcd's JSON gateway (`POST /v3/...` on every member's client URL,
//! on by default since etcd 3.3). The gateway rather than gRPC: the helper already speaks HTTP,
//! the gRPC client crates need `protoc` and a second TLS and HTTP/2 stack at build time, and
//! the handful of calls a semaphore and a rollout record need (range, put, delete, txn, lease
//! grant, keep-alive, revoke) are one JSON request each.
//!
//! Members are tried in the order given; a member that does not answer is skipped for the
//! next one, so that a cluster with a member down serves on. Every request is linearizable
//! (etcd's default), so any member answers as the leader would.

use base64::Engine;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How long one request to one member may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// The most bytes of one answer read.
const MAX_ANSWER_BYTES: u64 = 4 << 20;

/// What went wrong talking to etcd.
#[derive(Debug, thiserror::Error)]
pub enum EtcdError {
    /// No member answered; each member's failure is listed.
    #[error("no etcd member answered: {0}")]
    Unreachable(String),
    /// A member answered with an error (etcd's own message, e.g. a lease that expired).
    #[error("etcd at {endpoint} refused {call}: {message}")]
    Refused {
        /// The member.
        endpoint: String,
        /// The call (`kv/txn`).
        call: String,
        /// What etcd said.
        message: String,
    },
    /// An answer that is not what the gateway sends.
    #[error("etcd at {endpoint} answered {call} with something unexpected: {what}")]
    Malformed {
        /// The member.
        endpoint: String,
        /// The call.
        call: String,
        /// What was wrong.
        what: String,
    },
}

/// One key and its value, as a range returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    /// The key.
    pub key: String,
    /// The value.
    pub value: String,
    /// The revision that created it.
    pub create_revision: i64,
    /// The revision that changed it last.
    pub mod_revision: i64,
    /// The lease it is bound to (0: none).
    pub lease: i64,
}

/// A condition of a transaction.
#[derive(Debug, Clone)]
pub enum Compare {
    /// The key does not exist.
    Absent(String),
    /// The key holds this value.
    ValueIs(String, String),
    /// The key was last changed at this revision (0: it does not exist).
    ModRevisionIs(String, i64),
}

/// A change in a transaction.
#[derive(Debug, Clone)]
pub enum Op {
    /// Puts the key, bound to a lease (0: none).
    Put {
        /// The key.
        key: String,
        /// The value.
        value: String,
        /// The lease.
        lease: i64,
    },
    /// Deletes the key.
    Delete(String),
}

/// A client of one etcd cluster.
#[derive(Debug, Clone)]
pub struct Etcd {
    endpoints: Vec<String>,
    agent: ureq::Agent,
    timeout: Duration,
    /// The download relay's socket: the helper under its unit has no network of its own.
    relay: Option<std::path::PathBuf>,
    /// Requests sent so far (by this client and its clones), answered or not.
    requests: Arc<AtomicU64>,
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text.as_bytes())
}

fn unb64(value: &Value) -> Option<String> {
    let text = value.as_str()?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// A 64-bit number, which the gateway writes as a string (and leaves out when zero).
fn int(value: Option<&Value>) -> i64 {
    match value {
        Some(Value::String(s)) => s.parse().unwrap_or(0),
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        _ => 0,
    }
}

/// The key after every key that starts with `prefix` (etcd's `range_end` for a prefix).
pub fn prefix_end(prefix: &str) -> Vec<u8> {
    let mut end = prefix.as_bytes().to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

impl Etcd {
    /// A client of the members at `endpoints` (`http://host:port`, tried in this order).
    pub fn new(endpoints: &[String]) -> Self {
        Self::with_timeout(endpoints, REQUEST_TIMEOUT)
    }

    /// The same, giving each member `timeout` per request.
    pub fn with_timeout(endpoints: &[String], timeout: Duration) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("update-center/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Self {
            endpoints: endpoints
                .iter()
                .map(|e| e.trim_end_matches('/').to_string())
                .collect(),
            agent,
            timeout,
            relay: None,
            requests: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The same, sending every request through the download relay at `socket` when given
    /// (`crate::source::relay`).
    #[must_use]
    pub fn with_relay(mut self, socket: Option<std::path::PathBuf>) -> Self {
        self.relay = socket;
        self
    }

    /// Requests sent so far by this client and its clones (each try of a member counts).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// The members, as given.
    pub fn endpoints(&self) -> &[String] {
        &self.endpoints
    }

    /// Sends `body` to `/v3/{call}` of the first member that answers.
    fn call(&self, call: &str, body: &Value) -> Result<Value, EtcdError> {
        let mut failures = Vec::new();
        for endpoint in &self.endpoints {
            let url = format!("{endpoint}/v3/{call}");
            self.requests.fetch_add(1, Ordering::Relaxed);
            let answer = crate::source::relay::post_json(
                self.relay.as_deref(),
                &self.agent,
                &url,
                &[],
                &body.to_string(),
                self.timeout,
                MAX_ANSWER_BYTES,
            );
            let (status, text) = match answer {
                Ok(answer) => answer,
                Err(e) => {
                    failures.push(format!("{endpoint}: {e}"));
                    continue;
                }
            };
            let value: Value = serde_json::from_str(&text).map_err(|e| EtcdError::Malformed {
                endpoint: endpoint.clone(),
                call: call.to_string(),
                what: format!("not JSON ({e})"),
            })?;
            if status == 200 {
                return Ok(value);
            }
            let message = value
                .get("message")
                .or_else(|| value.get("error"))
                .and_then(Value::as_str)
                .unwrap_or("no message")
                .to_string();
            // A member without a leader cannot answer; another one may.
            if status == 503 || message.contains("no leader") {
                failures.push(format!("{endpoint}: {message}"));
                continue;
            }
            return Err(EtcdError::Refused {
                endpoint: endpoint.clone(),
                call: call.to_string(),
                message,
            });
        }
        Err(EtcdError::Unreachable(failures.join("; ")))
    }

    /// Every key that starts with `prefix`, in key order, at the newest revision or at
    /// `revision` (0: the newest); and the cluster's revision of the answer.
    pub fn range_prefix(
        &self,
        prefix: &str,
        revision: i64,
    ) -> Result<(Vec<KeyValue>, i64), EtcdError> {
        let engine = base64::engine::general_purpose::STANDARD;
        let mut body = json!({
            "key": b64(prefix),
            "range_end": engine.encode(prefix_end(prefix)),
        });
        if revision > 0 {
            body["revision"] = json!(revision.to_string());
        }
        let answer = self.call("kv/range", &body)?;
        let revision = int(answer.get("header").and_then(|h| h.get("revision")));
        let kvs = answer
            .get("kvs")
            .and_then(Value::as_array)
            .map(|kvs| {
                kvs.iter()
                    .filter_map(|kv| {
                        Some(KeyValue {
                            key: unb64(kv.get("key")?)?,
                            value: kv.get("value").and_then(unb64).unwrap_or_default(),
                            create_revision: int(kv.get("create_revision")),
                            mod_revision: int(kv.get("mod_revision")),
                            lease: int(kv.get("lease")),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok((kvs, revision))
    }

    /// How many keys start with `prefix` (etcd counts them; no key is sent).
    pub fn count_prefix(&self, prefix: &str) -> Result<u64, EtcdError> {
        let engine = base64::engine::general_purpose::STANDARD;
        let body = json!({
            "key": b64(prefix),
            "range_end": engine.encode(prefix_end(prefix)),
            "count_only": true,
        });
        let answer = self.call("kv/range", &body)?;
        Ok(u64::try_from(int(answer.get("count"))).unwrap_or(0))
    }

    /// The value of `key`, if it exists.
    pub fn get(&self, key: &str) -> Result<Option<KeyValue>, EtcdError> {
        let (kvs, _) = self.range_prefix(key, 0)?;
        Ok(kvs.into_iter().find(|kv| kv.key == key))
    }

    /// Puts `key` (bound to `lease`, 0: none).
    pub fn put(&self, key: &str, value: &str, lease: i64) -> Result<(), EtcdError> {
        self.txn(
            &[],
            &[Op::Put {
                key: key.into(),
                value: value.into(),
                lease,
            }],
        )
        .map(drop)
    }

    /// Applies `ops` if every condition holds; whether they held.
    pub fn txn(&self, compare: &[Compare], ops: &[Op]) -> Result<bool, EtcdError> {
        let compare: Vec<Value> = compare
            .iter()
            .map(|c| match c {
                Compare::Absent(key) => json!({
                    "key": b64(key), "target": "CREATE", "result": "EQUAL",
                    "create_revision": "0",
                }),
                Compare::ValueIs(key, value) => json!({
                    "key": b64(key), "target": "VALUE", "result": "EQUAL",
                    "value": b64(value),
                }),
                Compare::ModRevisionIs(key, revision) => json!({
                    "key": b64(key), "target": "MOD", "result": "EQUAL",
                    "mod_revision": revision.to_string(),
                }),
            })
            .collect();
        let success: Vec<Value> = ops
            .iter()
            .map(|op| match op {
                Op::Put { key, value, lease } => json!({"request_put": {
                    "key": b64(key), "value": b64(value), "lease": lease.to_string(),
                }}),
                Op::Delete(key) => json!({"request_delete_range": {"key": b64(key)}}),
            })
            .collect();
        let answer = self.call(
            "kv/txn",
            &json!({"compare": compare, "success": success, "failure": []}),
        )?;
        Ok(answer
            .get("succeeded")
            .and_then(Value::as_bool)
            .unwrap_or(false))
    }

    /// A new lease of `ttl_secs`; its id.
    pub fn grant(&self, ttl_secs: u64) -> Result<i64, EtcdError> {
        let answer = self.call("lease/grant", &json!({"TTL": ttl_secs.to_string()}))?;
        match int(answer.get("ID")) {
            0 => Err(EtcdError::Malformed {
                endpoint: self.endpoints.join(", "),
                call: "lease/grant".into(),
                what: format!("no lease id in {answer}"),
            }),
            id => Ok(id),
        }
    }

    /// Keeps lease `id` alive for another TTL; the seconds it has now (0: it expired).
    pub fn keep_alive(&self, id: i64) -> Result<i64, EtcdError> {
        let answer = self.call("lease/keepalive", &json!({"ID": id.to_string()}))?;
        Ok(int(answer.get("result").unwrap_or(&answer).get("TTL")))
    }

    /// Ends lease `id` now: every key bound to it goes.
    pub fn revoke(&self, id: i64) -> Result<(), EtcdError> {
        match self.call("lease/revoke", &json!({"ID": id.to_string()})) {
            // Already gone: what revoking wanted.
            Err(EtcdError::Refused { message, .. }) if message.contains("not found") => Ok(()),
            other => other.map(drop),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_ends_after_its_last_key() {
        assert_eq!(prefix_end("/a/"), b"/a0".to_vec());
        assert_eq!(prefix_end("a\u{7f}"), b"a\x80".to_vec());
        assert_eq!(prefix_end(""), vec![0]);
    }

    #[test]
    fn numbers_come_as_strings_or_not_at_all() {
        assert_eq!(int(Some(&json!("42"))), 42);
        assert_eq!(int(Some(&json!(7))), 7);
        assert_eq!(int(None), 0);
        assert_eq!(unb64(&json!(b64("/slots/0"))).as_deref(), Some("/slots/0"));
    }

    #[test]
    fn no_member_is_a_clear_error() {
        // A port nothing listens on (the discard port on this machine's loopback).
        let etcd = Etcd::with_timeout(&["http://127.0.0.1:9".into()], Duration::from_secs(2));
        let error = etcd.get("/x").expect_err("nothing answers");
        assert!(
            error
                .to_string()
                .starts_with("no etcd member answered: http://127.0.0.1:9"),
            "{error}"
        );
    }
}
