//! Update Center: the Kirigami application that shows the system's OS versions.
//!
//! [`run`] sets up Qt (application identity, the Plasma style unless the user chose another,
//! Breeze icons when no theme is set) and loads the QML; the logic lives in the bridge objects.

mod backend;
// The cxx-qt bridges declare `unsafe extern` blocks and exported functions by design.
#[allow(unsafe_code)]
mod changelog_model;
#[allow(unsafe_code)]
mod history_model;
#[allow(unsafe_code)]
mod platform;
#[cfg(feature = "qml-tests")]
#[allow(unsafe_code)]
pub mod qmltest;
#[allow(unsafe_code)]
mod status;
#[allow(unsafe_code)]
mod version_model;

use cxx_qt_lib::{QGuiApplication, QQmlApplicationEngine, QQuickStyle, QString, QUrl};

/// The main QML file inside the `org.kde.updatecenter` module.
const MAIN_QML: &str = "qrc:/qt/qml/org/kde/updatecenter/qml/Main.qml";

/// Selects the Plasma Qt Quick Controls style unless the user chose one. Must run before any
/// QML that imports Qt Quick Controls is loaded.
pub fn use_plasma_style_unless_chosen() {
    if std::env::var_os("QT_QUICK_CONTROLS_STYLE").is_none() {
        QQuickStyle::set_style(&QString::from("org.kde.desktop"));
    }
}

/// Runs the application; returns its exit code.
pub fn run() -> i32 {
    let mut app = QGuiApplication::new();
    if let Some(mut app) = app.as_mut() {
        app.as_mut()
            .set_application_name(&QString::from("update-center"));
        app.as_mut()
            .set_organization_domain(&QString::from("kde.org"));
        app.as_mut()
            .set_application_version(&QString::from(env!("CARGO_PKG_VERSION")));
    }
    QGuiApplication::set_desktop_file_name(&QString::from("org.kde.updatecenter"));
    use_plasma_style_unless_chosen();
    platform::ffi::use_breeze_icons_when_unset();

    claim_window_name();
    let mut engine = QQmlApplicationEngine::new();
    if let Some(engine) = engine.as_mut() {
        engine.load(&QUrl::from(MAIN_QML));
    }
    app.as_mut().map_or(1, |app| app.exec())
}

/// Owns `org.kde.updatecenter` on the session bus while the window is open, so that the tray
/// notifier sends no notification about what the window already shows. Without a session bus
/// the window works as before.
fn claim_window_name() {
    static SESSION: std::sync::OnceLock<zbus::Connection> = std::sync::OnceLock::new();
    update_center_qml::bus::spawn(async {
        let claimed = async {
            let connection = zbus::Connection::session().await?;
            connection
                .request_name(update_center_client::launch::WINDOW_BUS_NAME)
                .await?;
            zbus::Result::Ok(connection)
        };
        if let Ok(connection) = claimed.await {
            let _ = SESSION.set(connection);
        }
    });
}
