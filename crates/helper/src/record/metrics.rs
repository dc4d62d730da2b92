//! Metrics for Prometheus, in the node-exporter textfile collector's format: a `.prom` file
//! the helper writes atomically after every job and every boot record, so that a site's
//! existing node-exporter serves them. Names, HELP texts and labels are stable (they are an
//! interface: docs/fleets.md lists them); counters end in `_total`, times in
//! `_timestamp_seconds`.

use crate::record::history::{Event, Record};
use std::collections::BTreeMap;
use std::fmt::Write;

/// The file name in the textfile collector's directory.
pub const FILE: &str = "update_center.prom";
/// The textfile collector's directory on Debian and most distributions.
pub const DEFAULT_DIR: &str = "/var/lib/prometheus/node-exporter";

/// What the metrics say, gathered from the history and the helper's state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metrics {
    /// The version running.
    pub running: String,
    /// The version that boots next by default.
    pub default: String,
    /// The version on offer, when the last check found one.
    pub available: Option<String>,
    /// A staged version waits for a restart (kured's meaning of "reboot required").
    pub reboot_required: bool,
    /// When the sources were last checked (seconds since the epoch).
    pub last_check: Option<i64>,
    /// When a version was last staged successfully.
    pub last_success: Option<i64>,
    /// Bytes that came for images, by kind: `full`, `seeds`, `store`, `ranges`.
    pub bytes: BTreeMap<&'static str, u64>,
    /// Failed updates, by reason.
    pub failures: BTreeMap<&'static str, u64>,
    /// Automatic fallbacks to an older version after failed boots.
    pub fallbacks: u64,
    /// What an automatic restart or download waits for now (reason kinds).
    pub waiting: Vec<String>,
}

/// The reason class of a failure message (a small, fixed label set).
fn failure_reason(reason: &str, details: &update_center_client::ErrorDetails) -> &'static str {
    // The kind where the record has one; the English of records older than kinds.
    match details.kind.as_str() {
        "cancelled" => return "cancelled",
        "hash-mismatch" | "signature" | "replayed" => return "verification",
        "no-room" | "room-unknown" => return "no-room",
        "unreachable" | "http-status" | "truncated" | "too-large" => return "network",
        "" => {}
        _ => return "other",
    }
    let r = reason.to_ascii_lowercase();
    if r.contains("cancelled") {
        "cancelled"
    } else if r.contains("sha-256") || r.contains("sha256") || r.contains("signature") {
        "verification"
    } else if r.contains("room") || r.contains("no space") || r.contains("space left") {
        "no-room"
    } else if r.contains("cannot reach")
        || r.contains("answered http")
        || r.contains("ended after")
        || r.contains("timed out")
        || r.contains("connection")
    {
        "network"
    } else {
        "other"
    }
}

impl Metrics {
    /// The counters and times the history holds.
    pub fn from_history(records: &[Record]) -> Self {
        let mut m = Self::default();
        for kind in ["full", "seeds", "store", "ranges"] {
            m.bytes.insert(kind, 0);
        }
        for record in records {
            let time = chrono::DateTime::parse_from_rfc3339(&record.time)
                .ok()
                .map(|t| t.timestamp());
            match &record.event {
                Event::Fetched {
                    seed_bytes,
                    store_bytes,
                    range_bytes,
                    full_bytes,
                    ..
                } => {
                    *m.bytes.entry("seeds").or_default() += seed_bytes;
                    *m.bytes.entry("store").or_default() += store_bytes;
                    *m.bytes.entry("ranges").or_default() += range_bytes;
                    *m.bytes.entry("full").or_default() += full_bytes;
                }
                Event::Failed {
                    reason, details, ..
                } => {
                    *m.failures
                        .entry(failure_reason(reason, details))
                        .or_default() += 1;
                }
                Event::Committed { .. } => m.last_success = time.or(m.last_success),
                Event::Checked { .. } => m.last_check = time.or(m.last_check),
                Event::FallbackDetected { .. } => m.fallbacks += 1,
                _ => {}
            }
        }
        m
    }

    /// The textfile.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, samples: &[(String, String)]| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            for (labels, value) in samples {
                let _ = writeln!(out, "{name}{labels} {value}");
            }
        };
        let label = |pairs: &[(&str, &str)]| {
            let inner: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                .collect();
            format!("{{{}}}", inner.join(","))
        };
        metric(
            "update_center_info",
            "gauge",
            "The running version and the version that boots next by default, as labels.",
            &[(
                label(&[("running", &self.running), ("default", &self.default)]),
                "1".into(),
            )],
        );
        metric(
            "update_center_update_available",
            "gauge",
            "1 when the last check found a newer version (its version as a label).",
            &[(
                label(&[("version", self.available.as_deref().unwrap_or(""))]),
                u8::from(self.available.is_some()).to_string(),
            )],
        );
        metric(
            "update_center_reboot_required",
            "gauge",
            "1 when a staged version waits for a restart.",
            &[(String::new(), u8::from(self.reboot_required).to_string())],
        );
        metric(
            "update_center_last_check_timestamp_seconds",
            "gauge",
            "When the update sources were last checked (0: never).",
            &[(String::new(), self.last_check.unwrap_or(0).to_string())],
        );
        metric(
            "update_center_last_success_timestamp_seconds",
            "gauge",
            "When a version was last staged successfully (0: never).",
            &[(String::new(), self.last_success.unwrap_or(0).to_string())],
        );
        metric(
            "update_center_image_bytes_total",
            "counter",
            "Bytes of images by where they came from: full downloads, installed versions (seeds), a chunk store, range requests.",
            &self
                .bytes
                .iter()
                .map(|(kind, bytes)| (label(&[("source", kind)]), bytes.to_string()))
                .collect::<Vec<_>>(),
        );
        let mut failures = self.failures.clone();
        for reason in ["cancelled", "verification", "no-room", "network", "other"] {
            failures.entry(reason).or_default();
        }
        metric(
            "update_center_failures_total",
            "counter",
            "Failed updates by reason.",
            &failures
                .iter()
                .map(|(reason, n)| (label(&[("reason", reason)]), n.to_string()))
                .collect::<Vec<_>>(),
        );
        metric(
            "update_center_fallbacks_total",
            "counter",
            "Automatic fallbacks to an older version after a new one failed to boot.",
            &[(String::new(), self.fallbacks.to_string())],
        );
        let mut waiting: BTreeMap<&str, u8> = update_center_client::waiting::KINDS
            .iter()
            .map(|k| (*k, 0))
            .collect();
        for kind in &self.waiting {
            waiting.insert(kind.as_str(), 1);
        }
        metric(
            "update_center_blocked",
            "gauge",
            "1 for each reason an automatic download or restart waits for now.",
            &waiting
                .iter()
                .map(|(reason, on)| (label(&[("reason", reason)]), on.to_string()))
                .collect::<Vec<_>>(),
        );
        out
    }
}

/// A label value as the exposition format wants it.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Writes the textfile into `dir` atomically (readable by node-exporter), when `dir` exists.
pub fn write(dir: &std::path::Path, metrics: &Metrics) -> std::io::Result<bool> {
    if !dir.is_dir() {
        return Ok(false);
    }
    let path = dir.join(FILE);
    crate::fsutil::write_atomically(&path, metrics.render().as_bytes())?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(time: &str, event: Event) -> Record {
        Record {
            time: time.into(),
            event,
        }
    }

    #[test]
    fn the_history_gives_bytes_by_kind_failures_by_reason_and_the_times() {
        let records = [
            record(
                "2026-11-30T01:00:00Z",
                Event::Checked {
                    candidate: "2".into(),
                },
            ),
            record(
                "2026-11-30T01:05:00Z",
                Event::Failed {
                    version: "2".into(),
                    reason: "cannot reach https://mirror.example/: timed out".into(),
                    details: Default::default(),
                },
            ),
            record(
                "2026-11-30T01:10:00Z",
                Event::Fetched {
                    version: "2".into(),
                    file: "kde-linux_2.erofs".into(),
                    seed_bytes: 900,
                    store_bytes: 80,
                    range_bytes: 0,
                    full_bytes: 0,
                    fallback: String::new(),
                    fallback_details: Default::default(),
                },
            ),
            record(
                "2026-11-30T01:11:00Z",
                Event::Committed {
                    version: "2".into(),
                },
            ),
            record(
                "2026-11-30T02:00:00Z",
                Event::FallbackDetected {
                    failed: "2".into(),
                    tries: 3,
                    running: "1".into(),
                },
            ),
        ];
        let mut m = Metrics::from_history(&records);
        assert_eq!(m.bytes["seeds"], 900);
        assert_eq!(m.bytes["store"], 80);
        assert_eq!(m.failures["network"], 1);
        assert_eq!(m.fallbacks, 1);
        assert_eq!(m.last_success, Some(1_796_001_060));
        assert_eq!(m.last_check, Some(1_796_000_400));
        m.running = "1".into();
        m.default = "2\"quoted".into();
        m.waiting = vec!["gpu-jobs".into()];
        let text = m.render();
        assert!(text.contains("update_center_info{running=\"1\",default=\"2\\\"quoted\"} 1"));
        assert!(text.contains("update_center_image_bytes_total{source=\"seeds\"} 900"));
        assert!(text.contains("update_center_failures_total{reason=\"network\"} 1"));
        assert!(text.contains("update_center_failures_total{reason=\"other\"} 0"));
        assert!(text.contains("update_center_blocked{reason=\"gpu-jobs\"} 1"));
        assert!(text.contains("update_center_blocked{reason=\"metered\"} 0"));
        assert!(text.contains("update_center_update_available{version=\"\"} 0"));
    }

    #[test]
    fn failure_messages_fall_into_a_few_reasons() {
        for (message, reason) in [
            ("the download of x was cancelled", "cancelled"),
            ("x does not match its SHA-256 in SHA256SUMS", "verification"),
            ("not enough room on /system", "no-room"),
            ("cannot reach https://m/: connection refused", "network"),
            ("https://m/x.efi ended after 10 of 46 bytes", "network"),
            ("https://m/x.efi answered HTTP 503", "network"),
            ("cannot rename https://x", "other"),
        ] {
            let none = update_center_client::ErrorDetails::default();
            assert_eq!(failure_reason(message, &none), reason, "{message}");
        }
    }

    #[test]
    fn a_failure_with_a_kind_is_counted_by_its_kind_not_its_words() {
        let kind = |k: &str| update_center_client::ErrorDetails::new(k, &[]);
        // The English would say "network"; the kind says what it was.
        let words = "cannot reach https://m/: the signature does not match";
        assert_eq!(failure_reason(words, &kind("signature")), "verification");
        assert_eq!(
            failure_reason(words, &kind("hash-mismatch")),
            "verification"
        );
        assert_eq!(failure_reason(words, &kind("no-room")), "no-room");
        assert_eq!(failure_reason("x", &kind("http-status")), "network");
        assert_eq!(failure_reason("x", &kind("cancelled")), "cancelled");
        assert_eq!(
            failure_reason("cannot reach x", &kind("file-system")),
            "other"
        );
    }
}
