//! A client of the FleetLock protocol (as Fedora CoreOS's zincati speaks it): `POST
//! {server}/v1/pre-reboot` before a restart, `POST {server}/v1/steady-state` once the machine is
//! well again, each with the header `fleet-lock-protocol: true` and the body
//! `{"client_params": {"id": ID, "group": GROUP}}`. A 200 answer grants; any other carries
//! `{"kind": ..., "value": ...}` saying why not. Sites that run airlock (on etcd) or a
//! Kubernetes FleetLock server use what they have.

use serde_json::{Value, json};
use std::time::Duration;

/// What the server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Granted (pre-reboot: the slot is this machine's; steady-state: it was given back).
    Granted,
    /// Refused, with the server's kind and words (e.g. all slots taken).
    Refused {
        /// The server's kind of refusal.
        kind: String,
        /// Its words.
        value: String,
    },
}

/// The server could not be asked.
#[derive(Debug, thiserror::Error)]
#[error("the FleetLock server {url} did not answer: {message}")]
pub struct FleetLockError {
    /// The request's URL.
    pub url: String,
    /// Why.
    pub message: String,
}

/// A FleetLock server.
#[derive(Debug, Clone)]
pub struct FleetLock {
    base: String,
    agent: ureq::Agent,
    timeout: Duration,
    relay: Option<std::path::PathBuf>,
}

impl FleetLock {
    /// The server at `base` (`http://host:port`, without `/v1`).
    pub fn new(base: &str, timeout: Duration) -> Self {
        Self {
            base: base.trim_end_matches('/').to_string(),
            agent: ureq::Agent::config_builder()
                .timeout_global(Some(timeout))
                .http_status_as_error(false)
                .max_redirects(0)
                .user_agent(concat!("update-center/", env!("CARGO_PKG_VERSION")))
                .build()
                .into(),
            timeout,
            relay: None,
        }
    }

    /// The same, sending every request through the download relay at `socket` when given
    /// (`crate::source::relay`).
    #[must_use]
    pub fn with_relay(mut self, socket: Option<std::path::PathBuf>) -> Self {
        self.relay = socket;
        self
    }

    fn post(&self, path: &str, id: &str, group: &str) -> Result<Answer, FleetLockError> {
        let url = format!("{}/v1/{path}", self.base);
        let body = json!({"client_params": {"id": id, "group": group}});
        let failed = |message: String| FleetLockError {
            url: url.clone(),
            message,
        };
        let (status, text) = crate::source::relay::post_json(
            self.relay.as_deref(),
            &self.agent,
            &url,
            &[("fleet-lock-protocol", "true")],
            &body.to_string(),
            self.timeout,
            64 * 1024,
        )
        .map_err(failed)?;
        if status == 200 {
            return Ok(Answer::Granted);
        }
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let field = |name: &str| value.get(name).and_then(Value::as_str).map(str::to_string);
        Ok(Answer::Refused {
            kind: field("kind").unwrap_or_else(|| format!("http-{status}")),
            value: field("value").unwrap_or_else(|| text.chars().take(200).collect()),
        })
    }

    /// Asks for a restart slot.
    pub fn pre_reboot(&self, id: &str, group: &str) -> Result<Answer, FleetLockError> {
        self.post("pre-reboot", id, group)
    }

    /// Gives the slot back: the machine is well.
    pub fn steady_state(&self, id: &str, group: &str) -> Result<Answer, FleetLockError> {
        self.post("steady-state", id, group)
    }
}
