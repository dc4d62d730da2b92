//! `kcm_updatecenter`: Update Center's settings page in System Settings.
//!
//! The module itself is C++ (`cpp/`, a `KQuickConfigModule` with its plugin factory, through
//! moc) and QML (`qml/main.qml`, the shared `SettingsForm`). A Rust `cdylib` exports neither
//! C++ symbols nor objects nothing references, so the two plugin entry points moc writes are
//! renamed in the C++ build and exported here under the names Qt's plugin loader looks for.

// Linking the shared QML module (the form, its model, the translations) into the plugin.
use update_center_qml as _;

/// Qt's `QPluginMetaData`: `{ const uchar *data; size_t size; }`, returned by value.
#[repr(C)]
pub struct QPluginMetaData {
    data: *const u8,
    size: usize,
}

// The C++ entry points moc generated, under the names build.rs gave them.
#[allow(unsafe_code)]
unsafe extern "C" {
    fn update_center_kcm_plugin_instance() -> *mut core::ffi::c_void;
    fn update_center_kcm_plugin_query_metadata_v2() -> QPluginMetaData;
}

/// Qt's plugin loader: the plugin's root object (the factory).
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn qt_plugin_instance() -> *mut core::ffi::c_void {
    // SAFETY: moc's function takes no arguments and returns the factory singleton.
    unsafe { update_center_kcm_plugin_instance() }
}

/// Qt's plugin loader: the plugin's metadata (from kcm_updatecenter.json).
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn qt_plugin_query_metadata_v2() -> QPluginMetaData {
    // SAFETY: moc's function takes no arguments and returns static data.
    unsafe { update_center_kcm_plugin_query_metadata_v2() }
}
