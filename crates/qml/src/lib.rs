//! The parts of Update Center's interface that the application and the System Settings module
//! share: the `org.kde.updatecenter.settings` QML module (the settings form, its
//! `SettingsModel`, and the `L10n` singleton with the Fluent translations) and the D-Bus runtime.

pub mod bus;
// The cxx-qt bridges declare `unsafe extern` blocks and exported functions by design.
#[allow(unsafe_code)]
pub mod l10n;
#[allow(unsafe_code)]
pub mod settings_model;
