//! `HistoryModel`: the history records as a list model for QML, newest first, optionally only
//! one group of them (`filter`: `updates`, `boots`, `choices`; empty for all).
//!
//! `refresh()` asks the helper on the D-Bus runtime; the records come back typed
//! ([`update_center_client::history`]) and each becomes a row of plain roles, so that QML reads
//! fields and never JSON.

use crate::backend;
use core::pin::Pin;
use cxx_qt::{CxxQtType, Threading};
use cxx_qt_lib::{QByteArray, QHash, QHashPair_i32_QByteArray, QModelIndex, QString, QVariant};
use update_center_client::history::{Event, Record};

/// The bridge.
#[cxx_qt::bridge]
pub mod qobject {
    unsafe extern "C++" {
        include!(<QtCore/QAbstractListModel>);
        /// Qt's list model base class (declared as a QObject once, in the versions model's
        /// bridge: a second declaration would define its casts twice).
        type QAbstractListModel = crate::version_model::qobject::QAbstractListModel;
    }

    unsafe extern "C++" {
        include!("cxx-qt-lib/qhash.h");
        /// Role names.
        type QHash_i32_QByteArray = cxx_qt_lib::QHash<cxx_qt_lib::QHashPair_i32_QByteArray>;
        include!("cxx-qt-lib/qvariant.h");
        /// A value of any type.
        type QVariant = cxx_qt_lib::QVariant;
        include!("cxx-qt-lib/qmodelindex.h");
        /// A row of the model.
        type QModelIndex = cxx_qt_lib::QModelIndex;
        include!("cxx-qt-lib/qstring.h");
        /// A string.
        type QString = cxx_qt_lib::QString;
    }

    extern "RustQt" {
        #[qobject]
        #[base = QAbstractListModel]
        #[qml_element]
        #[qproperty(bool, loading)]
        #[qproperty(bool, loaded)]
        #[qproperty(i32, count)]
        #[qproperty(QString, error_message, cxx_name = "errorMessage")]
        #[qproperty(QString, filter, READ, WRITE = set_filter, NOTIFY)]
        type HistoryModel = super::HistoryModelRust;
    }

    impl cxx_qt::Threading for HistoryModel {}

    extern "RustQt" {
        /// Asks the helper for the newest records.
        #[qinvokable]
        fn refresh(self: Pin<&mut HistoryModel>);

        /// Shows the records of a `History` answer as the helper sends it (a JSON array), for
        /// tests and previews without a helper.
        #[qinvokable]
        #[cxx_name = "loadJson"]
        fn load_json(self: Pin<&mut HistoryModel>, json: &QString);

        /// Shows only one group of records (`updates`, `boots`, `choices`), or all (empty).
        #[cxx_name = "setFilter"]
        fn set_filter(self: Pin<&mut HistoryModel>, filter: QString);
    }

    extern "RustQt" {
        #[inherit]
        #[cxx_name = "beginResetModel"]
        unsafe fn begin_reset_model(self: Pin<&mut HistoryModel>);
        #[inherit]
        #[cxx_name = "endResetModel"]
        unsafe fn end_reset_model(self: Pin<&mut HistoryModel>);
    }

    extern "RustQt" {
        #[qinvokable]
        #[cxx_override]
        fn data(self: &HistoryModel, index: &QModelIndex, role: i32) -> QVariant;

        #[qinvokable]
        #[cxx_override]
        #[cxx_name = "roleNames"]
        fn role_names(self: &HistoryModel) -> QHash_i32_QByteArray;

        #[qinvokable]
        #[cxx_override]
        #[cxx_name = "rowCount"]
        fn row_count(self: &HistoryModel, parent: &QModelIndex) -> i32;
    }
}

/// Roles of the model, in the order of their numbers from Qt::UserRole on.
const ROLE_NAMES: [&str; 18] = [
    "kind",
    "group",
    "timeMs",
    "version",
    "running",
    "tries",
    "reason",
    "reasonDetails",
    "passed",
    "once",
    "good",
    "completed",
    "available",
    "file",
    "delta",
    "fetchedBytes",
    "reusedBytes",
    "fullBytes",
];
/// Qt::UserRole.
const FIRST_ROLE: i32 = 0x0100;

/// One record as QML shows it: every field a message may take, empty where the kind has none.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Row {
    /// The event kind, as the helper names it (`rolled-back`).
    pub kind: &'static str,
    /// `updates`, `boots` or `choices`: what the page's filter shows together.
    pub group: &'static str,
    /// When, in milliseconds since the epoch (NaN when the time is unreadable).
    pub time_ms: f64,
    /// The version the record is about (the failed one of a fallback, the offer of a check).
    pub version: String,
    /// The version running after a fallback.
    pub running: String,
    /// How often a version was tried before the fallback.
    pub tries: i32,
    /// Why an update failed, or why an image came whole instead of as a delta.
    pub reason: String,
    /// The same as the JSON of an `ErrorDetails` (a failure's kind of `ERROR_KINDS`, a
    /// fallback's of `FALLBACK_KINDS`, and their fields), for the sentence in the person's
    /// language; empty where the record has no kind (then `reason` says it in English).
    pub reason_details: String,
    /// Every required health check passed.
    pub passed: bool,
    /// A rollback for the next boot only.
    pub once: bool,
    /// A boot from a blessed entry.
    pub good: bool,
    /// An interrupted update was completed rather than undone.
    pub completed: bool,
    /// A check found an update.
    pub available: bool,
    /// The file an image came as (by its installed name).
    pub file: String,
    /// The image came as a delta (rather than whole).
    pub delta: bool,
    /// Bytes of a delta that came over the network (from a chunk store or range requests).
    pub fetched_bytes: u64,
    /// Bytes of a delta reused from the installed versions.
    pub reused_bytes: u64,
    /// Bytes of an image that came whole.
    pub full_bytes: u64,
}

impl Row {
    /// The row of `record`.
    pub fn of(record: &Record) -> Self {
        let event = &record.event;
        let kind = event.kind();
        let mut row = Self {
            kind,
            group: group_of(kind),
            time_ms: time_ms(&record.time).unwrap_or(f64::NAN),
            ..Self::default()
        };
        match event {
            Event::Started { version, .. }
            | Event::Downloaded { version }
            | Event::Removed { version }
            | Event::Committed { version }
            | Event::Pinned { version }
            | Event::Unpinned { version } => row.version.clone_from(version),
            Event::Failed {
                version,
                reason,
                details,
            } => {
                row.version.clone_from(version);
                row.reason.clone_from(reason);
                row.reason_details = details_json(details);
            }
            Event::Recovered { version, completed } => {
                row.version.clone_from(version);
                row.completed = *completed;
            }
            Event::RolledBack { version, once } => {
                row.version.clone_from(version);
                row.once = *once;
            }
            Event::Booted { version, good, .. } => {
                row.version.clone_from(version);
                row.good = *good;
            }
            Event::FallbackDetected {
                failed,
                tries,
                running,
            } => {
                row.version.clone_from(failed);
                row.running.clone_from(running);
                row.tries = i32::try_from(*tries).unwrap_or(i32::MAX);
            }
            Event::FallbackAcknowledged { failed } => row.version.clone_from(failed),
            Event::Checked { candidate } => {
                row.version.clone_from(candidate);
                row.available = !candidate.is_empty();
            }
            Event::HealthChecked { passed, .. } => row.passed = *passed,
            Event::Fetched {
                version,
                file,
                seed_bytes,
                store_bytes,
                range_bytes,
                full_bytes,
                fallback,
                fallback_details,
            } => {
                row.version.clone_from(version);
                row.file.clone_from(file);
                row.delta = *full_bytes == 0;
                row.fetched_bytes = store_bytes.saturating_add(*range_bytes);
                row.reused_bytes = *seed_bytes;
                row.full_bytes = *full_bytes;
                row.reason.clone_from(fallback);
                row.reason_details = details_json(fallback_details);
            }
        }
        row
    }
}

/// `details` as JSON for QML, or empty when it has no kind.
fn details_json(details: &update_center_client::ErrorDetails) -> String {
    if details.kind.is_empty() {
        return String::new();
    }
    serde_json::to_string(details).unwrap_or_default()
}

/// The group of an event kind: updates, boots, or a person's choices (pins, rollbacks, checks).
fn group_of(kind: &str) -> &'static str {
    match kind {
        "started" | "downloaded" | "fetched" | "committed" | "failed" | "removed" | "recovered" => {
            "updates"
        }
        "booted" | "fallback-detected" | "fallback-acknowledged" | "health-checked" => "boots",
        _ => "choices",
    }
}

/// An RFC 3339 time in milliseconds since the epoch (for QML's `Date`).
fn time_ms(time: &str) -> Option<f64> {
    let time = chrono::DateTime::parse_from_rfc3339(time).ok()?;
    // Milliseconds since 1970 fit a double exactly for millions of years.
    #[allow(clippy::cast_precision_loss)]
    Some(time.timestamp_millis() as f64)
}

/// Bytes as a QML number (a double: exact far beyond any disk).
#[allow(clippy::cast_precision_loss)]
fn number(bytes: u64) -> f64 {
    bytes as f64
}

/// The state behind the QObject.
#[derive(Default)]
pub struct HistoryModelRust {
    loading: bool,
    loaded: bool,
    count: i32,
    error_message: QString,
    filter: QString,
    /// Every record read, as rows, newest first.
    all: Vec<Row>,
    /// The rows the filter lets through.
    rows: Vec<Row>,
    /// Another read was asked for while one ran.
    read_again: bool,
}

impl qobject::HistoryModel {
    /// Reads the history off the GUI thread. Reads coalesce: while one runs, another is queued at most once.
    pub fn refresh(mut self: Pin<&mut Self>) {
        if self.loading {
            self.as_mut().rust_mut().read_again = true;
            return;
        }
        self.as_mut().set_loading(true);
        let qt_thread = self.qt_thread();
        backend::spawn(async move {
            let result = backend::history().await;
            // Said on the GUI thread, where Fluent's bundles live: in the person's language
            // where this client knows the failure's kind (no service, no bus, no answer).
            let queued = qt_thread.queue(move |model| {
                if let Err(failure) = &result {
                    eprintln!("update-center: {failure}");
                }
                model.apply(result.map_err(|failure| failure.said_reading()))
            });
            if let Err(error) = queued {
                eprintln!("update-center: dropping the helper's answer: {error:?}");
            }
        });
    }

    /// Shows the records of a `History` answer (for tests).
    pub fn load_json(self: Pin<&mut Self>, json: &QString) {
        let result = update_center_client::history::parse(&json.to_string())
            .map_err(|e| format!("The history cannot be read: {e}"));
        self.apply(result);
    }

    /// Shows one group of records (`updates`, `boots`, `choices`), or all (empty).
    pub fn set_filter(mut self: Pin<&mut Self>, filter: QString) {
        if self.filter == filter {
            return;
        }
        self.as_mut().rust_mut().filter = filter;
        self.as_mut().show();
        self.filter_changed();
    }

    /// Shows what the helper answered; after a failure, what was shown stays, with the message.
    fn apply(mut self: Pin<&mut Self>, result: Result<Vec<Record>, String>) {
        let message = match result {
            Ok(records) => {
                self.as_mut().rust_mut().all = records.iter().map(Row::of).collect();
                String::new()
            }
            Err(message) => {
                eprintln!("update-center: {message}");
                message
            }
        };
        self.as_mut().show();
        self.as_mut().set_error_message(QString::from(&message));
        self.as_mut().set_loaded(true);
        self.as_mut().set_loading(false);
        if std::mem::take(&mut self.as_mut().rust_mut().read_again) {
            self.refresh();
        }
    }

    /// Puts the rows the filter lets through in the model.
    fn show(mut self: Pin<&mut Self>) {
        let filter = self.filter.to_string();
        let rows: Vec<Row> = self
            .all
            .iter()
            .filter(|r| filter.is_empty() || r.group == filter)
            .cloned()
            .collect();
        // SAFETY: begin/end are paired and nothing else touches the rows in between.
        unsafe {
            self.as_mut().begin_reset_model();
            self.as_mut().rust_mut().rows = rows;
            self.as_mut().end_reset_model();
        }
        let count = i32::try_from(self.rows.len()).unwrap_or(i32::MAX);
        self.set_count(count);
    }

    /// Data of one row.
    pub fn data(&self, index: &QModelIndex, role: i32) -> QVariant {
        let Some(row) = usize::try_from(index.row())
            .ok()
            .and_then(|r| self.rows.get(r))
        else {
            return QVariant::default();
        };
        let Some(name) = usize::try_from(role - FIRST_ROLE)
            .ok()
            .and_then(|i| ROLE_NAMES.get(i))
        else {
            return QVariant::default();
        };
        match *name {
            "kind" => QVariant::from(&QString::from(row.kind)),
            "group" => QVariant::from(&QString::from(row.group)),
            "timeMs" => QVariant::from(&row.time_ms),
            "version" => QVariant::from(&QString::from(&row.version)),
            "running" => QVariant::from(&QString::from(&row.running)),
            "tries" => QVariant::from(&row.tries),
            "reason" => QVariant::from(&QString::from(&row.reason)),
            "reasonDetails" => QVariant::from(&QString::from(&row.reason_details)),
            "passed" => QVariant::from(&row.passed),
            "once" => QVariant::from(&row.once),
            "good" => QVariant::from(&row.good),
            "completed" => QVariant::from(&row.completed),
            "available" => QVariant::from(&row.available),
            "file" => QVariant::from(&QString::from(&row.file)),
            "delta" => QVariant::from(&row.delta),
            "fetchedBytes" => QVariant::from(&number(row.fetched_bytes)),
            "reusedBytes" => QVariant::from(&number(row.reused_bytes)),
            "fullBytes" => QVariant::from(&number(row.full_bytes)),
            _ => QVariant::default(),
        }
    }

    /// Role names for QML.
    pub fn role_names(&self) -> QHash<QHashPair_i32_QByteArray> {
        let mut roles = QHash::<QHashPair_i32_QByteArray>::default();
        for (offset, name) in (0..).zip(ROLE_NAMES) {
            roles.insert(FIRST_ROLE + offset, QByteArray::from(name));
        }
        roles
    }

    /// Number of rows.
    pub fn row_count(&self, _parent: &QModelIndex) -> i32 {
        i32::try_from(self.rows.len()).unwrap_or(i32::MAX)
    }
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
    fn each_kind_fills_the_fields_its_message_takes() {
        let fallback = Row::of(&record(
            "1970-01-01T00:01:00Z",
            Event::FallbackDetected {
                failed: "2".into(),
                tries: 3,
                running: "1".into(),
            },
        ));
        assert_eq!(
            fallback,
            Row {
                kind: "fallback-detected",
                group: "boots",
                time_ms: 60_000.0,
                version: "2".into(),
                running: "1".into(),
                tries: 3,
                ..Row::default()
            }
        );
        let check = |candidate: &str| {
            Row::of(&record(
                "2026-11-26T08:00:00Z",
                Event::Checked {
                    candidate: candidate.into(),
                },
            ))
        };
        assert!(check("3").available);
        assert_eq!(check("3").version, "3");
        assert!(!check("").available);
        assert_eq!(check("").group, "choices");
        let failed = Row::of(&record(
            "2026-11-26T08:00:00+01:00",
            Event::Failed {
                version: "3".into(),
                reason: "no room".into(),
                details: update_center_client::ErrorDetails::new(
                    "no-room",
                    &[("dir", "/system".into())],
                ),
            },
        ));
        assert_eq!(
            (failed.group, failed.reason.as_str()),
            ("updates", "no room")
        );
        let said: update_center_client::ErrorDetails =
            serde_json::from_str(&failed.reason_details).expect("the details as JSON");
        assert_eq!(
            (said.kind.as_str(), said.field("dir")),
            ("no-room", "/system")
        );
        assert_eq!(failed.time_ms, 1_795_676_400_000.0, "the offset counts");
        let delta = Row::of(&record(
            "2026-11-26T08:00:00Z",
            Event::Fetched {
                version: "3".into(),
                file: "kde-linux_3.erofs".into(),
                seed_bytes: 4_000,
                store_bytes: 300,
                range_bytes: 200,
                full_bytes: 0,
                fallback: String::new(),
                fallback_details: update_center_client::ErrorDetails::default(),
            },
        ));
        assert_eq!(
            delta,
            Row {
                kind: "fetched",
                group: "updates",
                time_ms: 1_795_680_000_000.0,
                version: "3".into(),
                file: "kde-linux_3.erofs".into(),
                delta: true,
                fetched_bytes: 500,
                reused_bytes: 4_000,
                ..Row::default()
            }
        );
        let whole = Row::of(&record(
            "2026-11-26T08:00:00Z",
            Event::Fetched {
                version: "3".into(),
                file: "kde-linux_3.erofs".into(),
                seed_bytes: 0,
                store_bytes: 0,
                range_bytes: 0,
                full_bytes: 4_500,
                fallback: "deltas are off ([Delta] Store=off)".into(),
                fallback_details: update_center_client::ErrorDetails::new("off", &[]),
            },
        ));
        assert!(
            whole.reason_details.contains("\"off\""),
            "{}",
            whole.reason_details
        );
        assert!(!whole.delta);
        assert_eq!(whole.full_bytes, 4_500);
        assert_eq!(whole.reason, "deltas are off ([Delta] Store=off)");
        let torn = Row::of(&record(
            "yesterday",
            Event::Pinned {
                version: "1".into(),
            },
        ));
        assert!(torn.time_ms.is_nan());
    }

    #[test]
    fn every_kind_has_a_group() {
        for (kind, group) in [
            ("started", "updates"),
            ("fetched", "updates"),
            ("removed", "updates"),
            ("downloaded", "updates"),
            ("recovered", "updates"),
            ("booted", "boots"),
            ("health-checked", "boots"),
            ("fallback-acknowledged", "boots"),
            ("pinned", "choices"),
            ("unpinned", "choices"),
            ("rolled-back", "choices"),
            ("checked", "choices"),
        ] {
            assert_eq!(group_of(kind), group, "{kind}");
        }
    }
}
