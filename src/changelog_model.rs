//! `ChangelogModel`: what the update on offer brings, for the What's New page. The rows are the
//! releases between the running version and the offer, newest first; the package diff comes as
//! counts, the changes themselves and the kernel's and Plasma's versions.
//!
//! `refresh()` asks the helper on the D-Bus runtime; the answer comes back typed
//! ([`update_center_client::changelog`]), so that QML reads fields and never JSON.

use crate::backend;
use core::pin::Pin;
use cxx_qt::{CxxQtType, Threading};
use cxx_qt_lib::{
    QByteArray, QHash, QHashPair_i32_QByteArray, QList, QMap, QMapPair_QString_QVariant,
    QModelIndex, QString, QStringList, QVariant,
};
use update_center_client::changelog::{Changelog, PackageDiff, Release};

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
        include!("cxx-qt-lib/qlist.h");
        /// A list of values (a JavaScript array in QML).
        type QList_QVariant = cxx_qt_lib::QList<cxx_qt_lib::QVariant>;
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
        #[qproperty(QString, from_version, cxx_name = "fromVersion")]
        #[qproperty(QString, to_version, cxx_name = "toVersion")]
        #[qproperty(QString, notes)]
        #[qproperty(bool, has_packages, cxx_name = "hasPackages")]
        #[qproperty(i32, upgraded_count, cxx_name = "upgradedCount")]
        #[qproperty(i32, downgraded_count, cxx_name = "downgradedCount")]
        #[qproperty(i32, added_count, cxx_name = "addedCount")]
        #[qproperty(i32, removed_count, cxx_name = "removedCount")]
        #[qproperty(QList_QVariant, package_changes, cxx_name = "packageChanges")]
        #[qproperty(QList_QVariant, highlights)]
        type ChangelogModel = super::ChangelogModelRust;
    }

    impl cxx_qt::Threading for ChangelogModel {}

    extern "RustQt" {
        /// Asks the helper what changes from the running version to the update on offer.
        #[qinvokable]
        fn refresh(self: Pin<&mut ChangelogModel>);

        /// Shows a `Changelog` answer as the helper sends it (JSON), for tests and previews
        /// without a helper.
        #[qinvokable]
        #[cxx_name = "loadJson"]
        fn load_json(self: Pin<&mut ChangelogModel>, json: &QString);
    }

    extern "RustQt" {
        #[inherit]
        #[cxx_name = "beginResetModel"]
        unsafe fn begin_reset_model(self: Pin<&mut ChangelogModel>);
        #[inherit]
        #[cxx_name = "endResetModel"]
        unsafe fn end_reset_model(self: Pin<&mut ChangelogModel>);
    }

    extern "RustQt" {
        #[qinvokable]
        #[cxx_override]
        fn data(self: &ChangelogModel, index: &QModelIndex, role: i32) -> QVariant;

        #[qinvokable]
        #[cxx_override]
        #[cxx_name = "roleNames"]
        fn role_names(self: &ChangelogModel) -> QHash_i32_QByteArray;

        #[qinvokable]
        #[cxx_override]
        #[cxx_name = "rowCount"]
        fn row_count(self: &ChangelogModel, parent: &QModelIndex) -> i32;
    }
}

/// Roles of the model (one release each), in the order of their numbers from Qt::UserRole on.
const ROLE_NAMES: [&str; 4] = ["version", "date", "description", "urls"];
/// Qt::UserRole.
const FIRST_ROLE: i32 = 0x0100;

/// A package change as the page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageRow {
    /// `upgraded`, `downgraded`, `added` or `removed`.
    pub kind: &'static str,
    /// The package.
    pub name: String,
    /// Its version before (upgraded and downgraded packages).
    pub from: String,
    /// Its version after (upgraded and downgraded packages).
    pub to: String,
    /// Its version (added and removed packages).
    pub version: String,
}

/// Every package change: upgraded, downgraded, added, then removed ones.
pub fn package_rows(diff: &PackageDiff) -> Vec<PackageRow> {
    let changed = |kind, list: &[update_center_client::changelog::Change]| {
        list.iter()
            .map(|c| PackageRow {
                kind,
                name: c.name.clone(),
                from: c.from.clone(),
                to: c.to.clone(),
                version: String::new(),
            })
            .collect::<Vec<_>>()
    };
    let single = |kind, list: &[update_center_client::changelog::Package]| {
        list.iter()
            .map(|p| PackageRow {
                kind,
                name: p.name.clone(),
                from: String::new(),
                to: String::new(),
                version: p.version.clone(),
            })
            .collect::<Vec<_>>()
    };
    [
        changed("upgraded", &diff.upgraded),
        changed("downgraded", &diff.downgraded),
        single("added", &diff.added),
        single("removed", &diff.removed),
    ]
    .concat()
}

/// The changes worth a line of their own: `(part, from, to)` with part `kernel` or `plasma`.
pub fn highlights(diff: &PackageDiff) -> Vec<(&'static str, String, String)> {
    diff.upgraded
        .iter()
        .chain(&diff.downgraded)
        .filter_map(|c| {
            let part = if c.name == "linux" || c.name.starts_with("linux-image") {
                "kernel"
            } else if c.name == "plasma-workspace" || c.name == "plasma-desktop" {
                "plasma"
            } else {
                return None;
            };
            Some((part, c.from.clone(), c.to.clone()))
        })
        .collect()
}

/// A JavaScript object for QML from `(key, value)` pairs.
fn object<'a>(fields: impl IntoIterator<Item = (&'a str, &'a str)>) -> QVariant {
    let mut map = QMap::<QMapPair_QString_QVariant>::default();
    for (key, value) in fields {
        map.insert(QString::from(key), QVariant::from(&QString::from(value)));
    }
    QVariant::from(&map)
}

/// A count as a QML integer.
fn count_of<T>(list: &[T]) -> i32 {
    i32::try_from(list.len()).unwrap_or(i32::MAX)
}

/// The state behind the QObject.
#[derive(Default)]
pub struct ChangelogModelRust {
    loading: bool,
    loaded: bool,
    count: i32,
    error_message: QString,
    from_version: QString,
    to_version: QString,
    notes: QString,
    has_packages: bool,
    upgraded_count: i32,
    downgraded_count: i32,
    added_count: i32,
    removed_count: i32,
    package_changes: QList<QVariant>,
    highlights: QList<QVariant>,
    releases: Vec<Release>,
    /// Another read was asked for while one ran.
    read_again: bool,
}

impl qobject::ChangelogModel {
    /// Reads the changelog off the GUI thread. Reads coalesce: while one runs, another is queued at most once.
    pub fn refresh(mut self: Pin<&mut Self>) {
        if self.loading {
            self.as_mut().rust_mut().read_again = true;
            return;
        }
        self.as_mut().set_loading(true);
        let qt_thread = self.qt_thread();
        backend::spawn(async move {
            let result = backend::changelog().await;
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

    /// Shows a `Changelog` answer (for tests).
    pub fn load_json(self: Pin<&mut Self>, json: &QString) {
        let result = update_center_client::changelog::parse(&json.to_string())
            .map_err(|e| format!("The release notes cannot be read: {e}"));
        self.apply(result);
    }

    /// Shows what the helper answered; after a failure, what was shown stays, with the message.
    fn apply(mut self: Pin<&mut Self>, result: Result<Changelog, String>) {
        match result {
            Ok(log) => {
                self.as_mut().show(log);
                self.as_mut().set_error_message(QString::default());
            }
            Err(message) => {
                eprintln!("update-center: {message}");
                self.as_mut().set_error_message(QString::from(&message));
            }
        }
        self.as_mut().set_loaded(true);
        self.as_mut().set_loading(false);
        if std::mem::take(&mut self.as_mut().rust_mut().read_again) {
            self.refresh();
        }
    }

    /// Puts `log` in the rows and properties.
    fn show(mut self: Pin<&mut Self>, log: Changelog) {
        // SAFETY: begin/end are paired and nothing else touches the rows in between.
        unsafe {
            self.as_mut().begin_reset_model();
            self.as_mut().rust_mut().releases = log.releases;
            self.as_mut().end_reset_model();
        }
        let count = count_of(&self.releases);
        self.as_mut().set_count(count);
        self.as_mut().set_from_version(QString::from(&log.from));
        self.as_mut().set_to_version(QString::from(&log.to));
        self.as_mut()
            .set_notes(QString::from(&log.notes.join("\n")));
        let diff = log.packages.clone().unwrap_or_default();
        let mut changes = QList::<QVariant>::default();
        for row in package_rows(&diff) {
            changes.append(object([
                ("kind", row.kind),
                ("name", row.name.as_str()),
                ("from", row.from.as_str()),
                ("to", row.to.as_str()),
                ("version", row.version.as_str()),
            ]));
        }
        let mut lines = QList::<QVariant>::default();
        for (part, from, to) in highlights(&diff) {
            lines.append(object([
                ("part", part),
                ("from", from.as_str()),
                ("to", to.as_str()),
            ]));
        }
        self.as_mut().set_upgraded_count(count_of(&diff.upgraded));
        self.as_mut()
            .set_downgraded_count(count_of(&diff.downgraded));
        self.as_mut().set_added_count(count_of(&diff.added));
        self.as_mut().set_removed_count(count_of(&diff.removed));
        self.as_mut().set_package_changes(changes);
        self.as_mut().set_highlights(lines);
        self.set_has_packages(log.packages.is_some());
    }

    /// Data of one row.
    pub fn data(&self, index: &QModelIndex, role: i32) -> QVariant {
        let Some(release) = usize::try_from(index.row())
            .ok()
            .and_then(|r| self.releases.get(r))
        else {
            return QVariant::default();
        };
        let Some(name) = usize::try_from(role - FIRST_ROLE)
            .ok()
            .and_then(|i| ROLE_NAMES.get(i))
        else {
            return QVariant::default();
        };
        let list = |items: &[String]| -> QStringList { items.iter().map(QString::from).collect() };
        match *name {
            "version" => QVariant::from(&QString::from(&release.version)),
            "date" => QVariant::from(&QString::from(release.date.as_deref().unwrap_or(""))),
            "description" => QVariant::from(&list(&release.description)),
            "urls" => QVariant::from(&list(&release.urls)),
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
        count_of(&self.releases)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use update_center_client::changelog::{Change, Package};

    fn change(name: &str, from: &str, to: &str) -> Change {
        Change {
            name: name.into(),
            from: from.into(),
            to: to.into(),
        }
    }

    fn diff() -> PackageDiff {
        PackageDiff {
            added: vec![Package {
                name: "ollama".into(),
                version: "0.12.0-1".into(),
            }],
            removed: vec![Package {
                name: "gone".into(),
                version: "1.0-1".into(),
            }],
            upgraded: vec![
                change("plasma-workspace", "6.5.3-1", "6.6.0-1"),
                change("kate", "25.08.0-1", "25.08.1-1"),
            ],
            downgraded: vec![change("linux-image-amd64", "6.17.9-1", "6.17.8-1")],
        }
    }

    #[test]
    fn package_changes_come_upgraded_downgraded_added_removed() {
        let rows = package_rows(&diff());
        let kinds: Vec<(&str, &str)> = rows.iter().map(|r| (r.kind, r.name.as_str())).collect();
        assert_eq!(
            kinds,
            [
                ("upgraded", "plasma-workspace"),
                ("upgraded", "kate"),
                ("downgraded", "linux-image-amd64"),
                ("added", "ollama"),
                ("removed", "gone"),
            ]
        );
        assert_eq!(
            (rows[0].from.as_str(), rows[0].to.as_str()),
            ("6.5.3-1", "6.6.0-1")
        );
        assert_eq!(rows[3].version, "0.12.0-1");
    }

    #[test]
    fn the_kernel_and_plasma_are_called_out_whichever_way_they_move() {
        assert_eq!(
            highlights(&diff()),
            [
                ("plasma", "6.5.3-1".to_string(), "6.6.0-1".to_string()),
                ("kernel", "6.17.9-1".to_string(), "6.17.8-1".to_string()),
            ]
        );
        assert!(highlights(&PackageDiff::default()).is_empty());
    }
}
