//! Builds the System Settings plugin: a KQuickConfigModule (C++, through moc) whose page is the
//! shared settings form, with its metadata, linked with the shared QML module.

use cxx_qt_build::{CppFile, CxxQtBuilder, MocArguments};

/// Where the KF6 headers live inside the (dev) root.
const KF6_INCLUDE: &str = "/usr/include/KF6";

#[allow(unsafe_code)]
fn main() {
    let qt_include = qt_include_dir();
    let kf6: Vec<String> = [
        "KCMUtilsQuick",
        "KCMUtilsCore",
        "KCMUtils",
        "KCoreAddons",
        "KConfigCore",
        "KConfig",
    ]
    .iter()
    .map(|d| format!("{KF6_INCLUDE}/{d}"))
    .chain([
        KF6_INCLUDE.to_string(),
        format!("{qt_include}/QtQmlIntegration"),
    ])
    .collect();
    let moc = || {
        MocArguments::default()
            .include_paths(kf6.iter().map(std::path::PathBuf::from).collect::<Vec<_>>())
    };
    for lib in ["KF6KCMUtilsQuick", "KF6KCMUtilsCore", "KF6CoreAddons"] {
        println!("cargo::rustc-link-lib=dylib={lib}");
    }
    println!("cargo::rerun-if-changed=cpp");
    println!("cargo::rerun-if-changed=qml");
    println!("cargo::rerun-if-changed=kcm_updatecenter.json");
    let builder = CxxQtBuilder::new()
        .qt_module("Quick")
        .qt_module("Qml")
        // KF 6.13's KQuickConfigModule loads the page from qrc:/kcm/<plugin id>/main.qml.
        .qrc("kcm.qrc")
        .cpp_file(CppFile::from("cpp/kcm.h").moc_arguments(moc()))
        .cpp_file(CppFile::from("cpp/kcm_factory.h").moc_arguments(moc()))
        .cpp_file("cpp/kcm.cpp");
    // SAFETY: only include directories and two renames are added to the C++ build. The plugin
    // entry points moc writes get other names; src/lib.rs exports the real names (a cdylib
    // does not export C++ symbols).
    let builder = unsafe {
        builder.cc_builder(move |cc| {
            for dir in &kf6 {
                cc.include(dir);
            }
            cc.define("qt_plugin_instance", "update_center_kcm_plugin_instance");
            cc.define(
                "qt_plugin_query_metadata_v2",
                "update_center_kcm_plugin_query_metadata_v2",
            );
        })
    };
    builder.build();
}

/// Qt's header directory, from qmake (as cxx-qt finds Qt).
fn qt_include_dir() -> String {
    let qmake = std::env::var("QMAKE").unwrap_or_else(|_| "qmake6".to_string());
    std::process::Command::new(qmake)
        .args(["-query", "QT_INSTALL_HEADERS"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "/usr/include/x86_64-linux-gnu/qt6".to_string())
}
