//! Runs the QtQuickTest suites in `qml/tests/` inside a process that has the application's QML
//! module (`org.kde.updatecenter`) and its Rust bridge objects registered. Built only with the
//! `qml-tests` feature, which `cargo xtask test` enables.

/// The C++ side (`cpp/qmltest.cpp`).
#[cxx_qt::bridge]
pub mod ffi {
    unsafe extern "C++" {
        include!("update-center/cpp/qmltest.h");
        /// Runs every `tst_*.qml` in `source_dir`; returns the number of failed tests.
        #[cxx_name = "runQuickTests"]
        fn run_quick_tests(source_dir: &str) -> i32;
    }
}

/// Runs the suites in `source_dir` with the application's style.
pub fn run(source_dir: &str) -> i32 {
    crate::use_plasma_style_unless_chosen();
    ffi::run_quick_tests(source_dir)
}
