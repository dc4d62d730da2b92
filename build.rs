//! Builds the cxx-qt bridges and the `org.kde.updatecenter` QML module of the GUI.

use cxx_qt_build::{CxxQtBuilder, QmlModule};

fn main() {
    let mut builder =
        CxxQtBuilder::new_qml_module(QmlModule::new("org.kde.updatecenter").qml_files([
            "qml/Main.qml",
            "qml/OverviewPage.qml",
            "qml/StatusCard.qml",
            "qml/VersionsPage.qml",
            "qml/HistoryPage.qml",
            "qml/WhatsNewPage.qml",
            "qml/SettingsPage.qml",
            "qml/VersionDelegate.qml",
            "qml/Badge.qml",
        ]))
        .qt_module("Quick")
        .files([
            "src/version_model.rs",
            "src/history_model.rs",
            "src/changelog_model.rs",
            "src/status.rs",
            "src/platform.rs",
        ])
        .cpp_file("cpp/platform.cpp");
    if std::env::var_os("CARGO_FEATURE_QML_TESTS").is_some() {
        builder = builder
            .qt_module("QuickTest")
            .file("src/qmltest.rs")
            .cpp_file("cpp/qmltest.cpp");
    }
    builder.build();
}
