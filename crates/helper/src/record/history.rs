//! The deployment history: an append-only journal of JSON lines (`history.jsonl` in the state
//! directory). Each record is written with one `write` and an fsync; a record torn by a crash
//! is the last line, and readers skip it, so an interrupted append never hides earlier ones.

use std::io::Write;
use std::path::Path;

/// The journal's file name in the state directory.
pub const FILE: &str = "history.jsonl";

/// The records are the client crate's types: what the journal and `History` hold is what
/// clients read.
pub use update_center_client::history::{Event, Record};

/// Appends a record. History must never stop an update: a failure is reported on stderr.
pub fn append(state_dir: &Path, event: &Event) {
    let record = Record {
        time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        event: event.clone(),
    };
    if let Err(error) = try_append(state_dir, &record) {
        eprintln!(
            "update-center-helper: warning: cannot write the history in {}: {error}",
            state_dir.display()
        );
    }
}

/// The journal is rotated when it grows beyond this many bytes.
pub const ROTATE_BYTES: u64 = 8 * 1024 * 1024;
/// Rotation always keeps at least this many of the newest records.
pub const KEEP_RECORDS: usize = 1000;

fn try_append(state_dir: &Path, record: &Record) -> std::io::Result<()> {
    try_append_rotating(state_dir, record, ROTATE_BYTES)
}

fn try_append_rotating(
    state_dir: &Path,
    record: &Record,
    rotate_bytes: u64,
) -> std::io::Result<()> {
    let path = state_dir.join(FILE);
    if std::fs::metadata(&path).is_ok_and(|m| m.len() > rotate_bytes) {
        rotate(state_dir, rotate_bytes)?;
    }
    append_line(state_dir, record)
}

/// Rewrites the journal atomically with the newest records: all of the last
/// [`KEEP_RECORDS`], and older ones as long as the file stays under half of `rotate_bytes`.
fn rotate(state_dir: &Path, rotate_bytes: u64) -> std::io::Result<()> {
    let records = read(state_dir);
    let mut lines: Vec<Vec<u8>> = Vec::new();
    let mut bytes: u64 = 0;
    for (age, record) in records.iter().rev().enumerate() {
        let mut line = serde_json::to_vec(record).map_err(std::io::Error::other)?;
        line.push(b'\n');
        if age >= KEEP_RECORDS && bytes + line.len() as u64 > rotate_bytes / 2 {
            break;
        }
        bytes += line.len() as u64;
        lines.push(line);
    }
    lines.reverse();
    crate::fsutil::write_atomically(&state_dir.join(FILE), &lines.concat())
}

fn append_line(state_dir: &Path, record: &Record) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    crate::fsutil::create_private_dir_all(state_dir)?;
    let mut line = serde_json::to_vec(record).map_err(std::io::Error::other)?;
    line.push(b'\n');
    let path = state_dir.join(FILE);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(crate::fsutil::PRIVATE_FILE_MODE)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(&path)?;
    // A torn line of an earlier crash must not swallow this record: start on a fresh line.
    let length = file.metadata()?.len();
    if length > 0 {
        use std::io::{Read, Seek, SeekFrom};
        let mut last = [0u8; 1];
        let mut reader = std::fs::File::open(&path)?;
        reader.seek(SeekFrom::Start(length - 1))?;
        reader.read_exact(&mut last)?;
        if last[0] != b'\n' {
            line.insert(0, b'\n');
        }
    }
    file.write_all(&line)?;
    file.sync_all()
}

/// Every readable record, oldest first; torn or foreign lines are skipped.
pub fn read(state_dir: &Path) -> Vec<Record> {
    let Ok(bytes) = std::fs::read(state_dir.join(FILE)) else {
        return Vec::new();
    };
    bytes
        .split(|b| *b == b'\n')
        .filter_map(|line| serde_json::from_slice(line).ok())
        .collect()
}

/// Which records a query wants.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// At or after this time.
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Before this time.
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// Only these kinds (`Event::kind`); all when empty.
    pub kinds: Vec<String>,
    /// At most this many.
    pub limit: Option<usize>,
}

/// Records matching `query`, newest first.
pub fn query(state_dir: &Path, query: &Query) -> Vec<Record> {
    read(state_dir)
        .into_iter()
        .rev()
        .filter(|r| {
            let time = chrono::DateTime::parse_from_rfc3339(&r.time)
                .map(|t| t.with_timezone(&chrono::Utc))
                .ok();
            let after = query.since.is_none_or(|s| time.is_some_and(|t| t >= s));
            let before = query.until.is_none_or(|u| time.is_some_and(|t| t < u));
            let kind = query.kinds.is_empty() || query.kinds.iter().any(|k| k == r.event.kind());
            after && before && kind
        })
        .take(query.limit.unwrap_or(usize::MAX))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn committed(version: usize) -> Record {
        Record {
            time: format!("2026-11-{:02}T00:00:00Z", 1 + version % 28),
            event: Event::Committed {
                version: version.to_string(),
            },
        }
    }

    #[test]
    fn rotation_keeps_at_least_the_last_thousand_records() {
        let dir = tempfile::tempdir().expect("tempdir");
        // A tiny limit: every append past it rotates.
        for n in 0..1500 {
            try_append_rotating(dir.path(), &committed(n), 20_000).expect("append");
        }
        let records = read(dir.path());
        assert!(records.len() >= KEEP_RECORDS, "{}", records.len());
        assert!(records.len() < 1500, "old records were dropped");
        assert_eq!(records.last(), Some(&committed(1499)));
        let versions: Vec<usize> = records
            .iter()
            .map(|r| match &r.event {
                Event::Committed { version } => version.parse().expect("number"),
                other => panic!("{other:?}"),
            })
            .collect();
        let first = versions[0];
        assert_eq!(
            versions,
            (first..1500).collect::<Vec<_>>(),
            "no gap, in order"
        );
    }

    #[test]
    fn queries_filter_by_time_and_kind_newest_first() {
        let dir = tempfile::tempdir().expect("tempdir");
        for n in 0..10 {
            append_line(dir.path(), &committed(n)).expect("append");
        }
        append_line(
            dir.path(),
            &Record {
                time: "2026-11-05T12:00:00Z".into(),
                event: Event::Pinned {
                    version: "3".into(),
                },
            },
        )
        .expect("append");
        let at = |s: &str| {
            chrono::DateTime::parse_from_rfc3339(s)
                .expect("time")
                .with_timezone(&chrono::Utc)
        };
        let found = query(
            dir.path(),
            &Query {
                since: Some(at("2026-11-03T00:00:00Z")),
                until: Some(at("2026-11-06T00:00:00Z")),
                kinds: vec!["committed".into()],
                limit: Some(2),
            },
        );
        assert_eq!(found, vec![committed(4), committed(3)]);
        let pins = query(
            dir.path(),
            &Query {
                kinds: vec!["pinned".into()],
                ..Query::default()
            },
        );
        assert_eq!(pins.len(), 1);
    }

    #[test]
    fn the_records_the_helper_sends_are_what_the_client_reads() {
        use crate::health::{CheckResult, Kind, Outcome};
        let check = |name: &str, outcome| CheckResult {
            name: name.into(),
            kind: Kind::Required,
            outcome,
            output: "out".into(),
            duration_ms: 7,
        };
        let v = || "202611260800".to_string();
        let events = [
            Event::Started {
                version: v(),
                download_bytes: 42,
            },
            Event::Removed { version: v() },
            Event::Committed { version: v() },
            Event::Failed {
                version: v(),
                reason: "no room".into(),
                details: update_center_client::ErrorDetails::new(
                    "no-room",
                    &[("dir", "/system".into())],
                ),
            },
            Event::Recovered {
                version: v(),
                completed: true,
            },
            Event::Pinned { version: v() },
            Event::Unpinned { version: v() },
            Event::RolledBack {
                version: v(),
                once: false,
            },
            Event::Booted {
                version: v(),
                entry: "k_202611260800+2-1.efi".into(),
                tries_left: Some(2),
                tries_done: None,
                good: false,
            },
            Event::FallbackDetected {
                failed: v(),
                tries: 3,
                running: "202611250800".into(),
            },
            Event::FallbackAcknowledged { failed: v() },
            Event::Checked {
                candidate: String::new(),
            },
            Event::HealthChecked {
                passed: false,
                checks: vec![
                    check("a.required", Outcome::Passed),
                    check("b.required", Outcome::Skipped),
                    check("c.required", Outcome::Failed { status: None }),
                    check("d.required", Outcome::TimedOut { after_secs: 60 }),
                    check(
                        "e.required",
                        Outcome::NotRun {
                            reason: "denied".into(),
                        },
                    ),
                ],
            },
        ];
        let dir = tempfile::tempdir().expect("tempdir");
        for event in &events {
            append(dir.path(), event);
        }
        // As the service answers `History`.
        let sent = query(dir.path(), &Query::default());
        let json = serde_json::to_string(&sent).expect("JSON");
        let read = update_center_client::history::parse(&json).expect("the client reads it");
        assert_eq!(read, sent);
        let kinds: Vec<&str> = read.iter().rev().map(|r| r.event.kind()).collect();
        let written: Vec<&str> = events.iter().map(Event::kind).collect();
        assert_eq!(kinds, written, "every kind, newest first");
        // The journal's lines are the same JSON.
        let journal = std::fs::read_to_string(dir.path().join(FILE)).expect("journal");
        let first: update_center_client::history::Record =
            serde_json::from_str(journal.lines().next().expect("a line")).expect("a record");
        assert_eq!(first.event, events[0]);
    }

    #[test]
    fn a_torn_record_hides_nothing_before_or_after_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        append(
            dir.path(),
            &Event::Committed {
                version: "1".into(),
            },
        );
        // A crash in the middle of the next append leaves half a line.
        let path = dir.path().join(FILE);
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("open");
        file.write_all(b"{\"time\":\"2026-11-26T00:00:00Z\",\"event\":\"comm")
            .expect("write");
        drop(file);
        append(
            dir.path(),
            &Event::Committed {
                version: "2".into(),
            },
        );
        let versions: Vec<String> = read(dir.path())
            .into_iter()
            .map(|r| match r.event {
                Event::Committed { version } => version,
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(versions, vec!["1", "2"]);
    }
}
