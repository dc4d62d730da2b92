//! The deployment history: an append-only journal of JSON lines (`history.jsonl` in the state
//! directory). Each record is written with one `write` and an fsync; a record torn by a crash
//! is the last line, and readers skip it, so an interrupted append never hides earlier ones.

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

/// The journal's file name in the state directory.
pub const FILE: &str = "history.jsonl";

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// An update started.
    Started {
        /// The version.
        version: String,
        /// Bytes to download.
        download_bytes: u64,
    },
    /// A whole version was removed to make room.
    Removed {
        /// The version.
        version: String,
    },
    /// An update was committed: the version is installed.
    Committed {
        /// The version.
        version: String,
    },
    /// An update failed; nothing of it is left.
    Failed {
        /// The version.
        version: String,
        /// Why.
        reason: String,
    },
    /// An interrupted update was completed (`completed`) or discarded on start-up.
    Recovered {
        /// The version, when known.
        version: String,
        /// Whether it was completed.
        completed: bool,
    },
}

/// One record: when, and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// RFC 3339 time in UTC.
    pub time: String,
    /// What happened.
    #[serde(flatten)]
    pub event: Event,
}

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

fn try_append(state_dir: &Path, record: &Record) -> std::io::Result<()> {
    std::fs::create_dir_all(state_dir)?;
    let mut line = serde_json::to_vec(record).map_err(std::io::Error::other)?;
    line.push(b'\n');
    let path = state_dir.join(FILE);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
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
    let Ok(text) = std::fs::read_to_string(state_dir.join(FILE)) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
