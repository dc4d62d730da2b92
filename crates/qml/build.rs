//! Builds the `org.kde.updatecenter.settings` QML module, exported to the crates that link it
//! (the application and the System Settings module).

use cxx_qt_build::{CxxQtBuilder, QmlModule};

fn main() {
    CxxQtBuilder::new_qml_module(
        QmlModule::new("org.kde.updatecenter.settings").qml_files(["qml/SettingsForm.qml"]),
    )
    .qt_module("Quick")
    .files(["src/l10n.rs", "src/settings_model.rs"])
    .build()
    .export();
}
