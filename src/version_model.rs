//! `VersionModel`: the installed OS versions as a list model for QML.
//!
//! A thin QObject shell over [`VersionModelRust`]. `refresh()` asks the helper over D-Bus on the
//! tokio runtime, never on the GUI thread; the answer comes back through `qt_thread().queue()`.

use crate::backend;
use core::pin::Pin;
use cxx_qt::{CxxQtType, Threading};
use cxx_qt_lib::{QByteArray, QHash, QHashPair_i32_QByteArray, QModelIndex, QString, QVariant};
use update_center_client::VersionInfo;

/// The bridge.
#[cxx_qt::bridge]
pub mod qobject {
    unsafe extern "C++Qt" {
        include!(<QtCore/QAbstractListModel>);
        /// Qt's list model base class.
        #[qobject]
        type QAbstractListModel;
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
        #[qproperty(QString, warnings)]
        type VersionModel = super::VersionModelRust;
    }

    impl cxx_qt::Threading for VersionModel {}

    extern "RustQt" {
        /// Asks the helper for the installed versions.
        #[qinvokable]
        fn refresh(self: Pin<&mut VersionModel>);

        /// Called by the window once it has shown the loaded data and stopped changing (no
        /// animation or delayed item left). With `UPDATE_CENTER_REPORT_READY=1` this prints
        /// `update-center: ready` once, which screenshots and tests wait for.
        #[qinvokable]
        #[cxx_name = "reportSettled"]
        fn report_settled(self: Pin<&mut VersionModel>);
    }

    extern "RustQt" {
        #[inherit]
        #[cxx_name = "beginResetModel"]
        unsafe fn begin_reset_model(self: Pin<&mut VersionModel>);
        #[inherit]
        #[cxx_name = "endResetModel"]
        unsafe fn end_reset_model(self: Pin<&mut VersionModel>);
    }

    extern "RustQt" {
        #[qinvokable]
        #[cxx_override]
        fn data(self: &VersionModel, index: &QModelIndex, role: i32) -> QVariant;

        #[qinvokable]
        #[cxx_override]
        #[cxx_name = "roleNames"]
        fn role_names(self: &VersionModel) -> QHash_i32_QByteArray;

        #[qinvokable]
        #[cxx_override]
        #[cxx_name = "rowCount"]
        fn row_count(self: &VersionModel, parent: &QModelIndex) -> i32;
    }
}

/// Roles of the model, in the order of [`ROLE_NAMES`].
const ROLE_NAMES: [&str; 11] = [
    "version",
    "releasedMs",
    "complete",
    "booted",
    "sizeBytes",
    "fileCount",
    "missingTransfers",
    "stateNames",
    "stateWords",
    "triesLeft",
    "triesDone",
];
/// Qt::UserRole.
const FIRST_ROLE: i32 = 0x0100;

/// The state behind the QObject.
#[derive(Default)]
pub struct VersionModelRust {
    loading: bool,
    error_message: QString,
    warnings: QString,
    loaded: bool,
    count: i32,
    rows: Vec<VersionInfo>,
    announced: bool,
}

impl qobject::VersionModel {
    /// Asks the helper for the installed versions, off the GUI thread.
    pub fn refresh(mut self: Pin<&mut Self>) {
        if self.loading {
            return;
        }
        self.as_mut().set_loading(true);
        let qt_thread = self.qt_thread();
        backend::spawn(async move {
            let result = backend::overview().await;
            // Said on the GUI thread, where Fluent's bundles live: in the person's language
            // where this client knows the failure's kind (no service, no bus, no answer).
            let queued = qt_thread.queue(move |model| {
                if let Err(failure) = &result {
                    eprintln!("update-center: {failure}");
                }
                model.apply(result.map_err(|failure| failure.said_reading()))
            });
            if let Err(error) = queued {
                // The window was closed while the call ran: nothing is left to update.
                eprintln!("update-center: dropping the helper's answer: {error:?}");
            }
        });
    }

    fn apply(mut self: Pin<&mut Self>, result: Result<backend::Overview, String>) {
        let (overview, message) = match result {
            Ok(overview) => (overview, String::new()),
            Err(message) => (backend::Overview::default(), message),
        };
        let rows = overview.versions;
        self.as_mut().set_warnings(QString::from(
            &overview
                .warnings
                .iter()
                .map(update_center_client::l10n::say_warning)
                .collect::<Vec<_>>()
                .join("\n"),
        ));
        // SAFETY: begin/end are paired and nothing else touches the rows in between.
        unsafe {
            self.as_mut().begin_reset_model();
            self.as_mut().rust_mut().rows = rows;
            self.as_mut().end_reset_model();
        }
        let count = i32::try_from(self.rows.len()).unwrap_or(i32::MAX);
        self.as_mut().set_count(count);
        if !message.is_empty() {
            eprintln!("update-center: {message}");
        }
        self.as_mut().set_error_message(QString::from(&message));
        self.as_mut().set_loaded(true);
        self.set_loading(false);
    }

    /// Prints `update-center: ready` once the window has settled, when `UPDATE_CENTER_REPORT_READY=1`.
    pub fn report_settled(mut self: Pin<&mut Self>) {
        let wanted = std::env::var_os("UPDATE_CENTER_REPORT_READY").is_some_and(|v| v == "1");
        if wanted && self.loaded && !self.loading && !self.announced {
            self.as_mut().rust_mut().announced = true;
            println!("update-center: ready");
            use std::io::Write;
            let _ = std::io::stdout().flush();
        }
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
            "version" => QVariant::from(&QString::from(&row.version)),
            "releasedMs" => QVariant::from(&released_ms(&row.version).unwrap_or(f64::NAN)),
            "complete" => QVariant::from(&row.complete),
            "booted" => QVariant::from(&row.booted),
            "sizeBytes" => {
                let total: u64 = row.files.iter().map(|f| f.size_bytes).sum();
                // QML numbers are doubles; sizes stay exact far beyond any disk.
                #[allow(clippy::cast_precision_loss)]
                QVariant::from(&(total as f64))
            }
            "fileCount" => QVariant::from(&i32::try_from(row.files.len()).unwrap_or(i32::MAX)),
            "missingTransfers" => QVariant::from(&QString::from(&row.missing_transfers.join(", "))),
            // Names joined by commas (for `split(",")` in QML), words by new lines.
            "stateNames" => {
                let names: Vec<&str> = row.states.iter().map(|(n, _)| n.as_str()).collect();
                QVariant::from(&QString::from(&names.join(",")))
            }
            "triesLeft" => QVariant::from(&tries(row).map_or(-1, |t| t.0)),
            "triesDone" => QVariant::from(&tries(row).map_or(-1, |t| t.1)),
            "stateWords" => {
                let words: Vec<&str> = row.states.iter().map(|(_, w)| w.as_str()).collect();
                QVariant::from(&QString::from(&words.join("\n")))
            }
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

/// The boot counter of a version's boot entry (`NAME+LEFT-DONE.efi`), while it has one.
fn tries(row: &VersionInfo) -> Option<(i32, i32)> {
    row.files.iter().find_map(|f| {
        let stem = f.path.strip_suffix(".efi")?;
        let (_, counter) = stem.rsplit_once('+')?;
        let (left, done) = counter.split_once('-').unwrap_or((counter, "0"));
        Some((left.parse().ok()?, done.parse().ok()?))
    })
}

/// When a version was built, in milliseconds since the epoch (for QML's `Date`), for versions
/// that are UTC timestamps `YYYYMMDDHHMM` as on KDE Linux.
fn released_ms(version: &str) -> Option<f64> {
    if version.len() != 12 || !version.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let time = chrono::NaiveDateTime::parse_from_str(version, "%Y%m%d%H%M").ok()?;
    // Milliseconds since 1970 fit a double exactly for millions of years.
    #[allow(clippy::cast_precision_loss)]
    Some(time.and_utc().timestamp_millis() as f64)
}

#[cfg(test)]
mod tests {
    use super::released_ms;

    #[test]
    fn boot_counters_come_from_the_boot_entry() {
        let row = |path: &str| update_center_client::VersionInfo {
            version: "1".into(),
            complete: true,
            booted: false,
            files: vec![update_center_client::InstalledFile {
                transfer: "60-esp".into(),
                path: path.into(),
                size_bytes: 1,
            }],
            missing_transfers: Vec::new(),
            states: Vec::new(),
        };
        assert_eq!(
            super::tries(&row("/efi/EFI/Linux/k_1+2-1.efi")),
            Some((2, 1))
        );
        assert_eq!(super::tries(&row("/efi/EFI/Linux/k_1+3.efi")), Some((3, 0)));
        assert_eq!(super::tries(&row("/efi/EFI/Linux/k_1.efi")), None);
    }

    #[test]
    fn timestamp_versions_have_a_release_time() {
        assert_eq!(released_ms("197001010001"), Some(60_000.0));
        assert_eq!(released_ms("202611251200"), Some(1_795_608_000_000.0));
        assert_eq!(released_ms("1.2.3"), None);
        assert_eq!(released_ms("202613011200"), None, "month 13");
    }
}
