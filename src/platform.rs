//! Desktop integration written in C++ (`cpp/platform.cpp`) because the Qt bindings lack it.

/// The C++ side.
#[cxx_qt::bridge]
pub mod ffi {
    unsafe extern "C++" {
        include!("update-center/cpp/platform.h");
        /// Selects the Breeze icon theme when no theme was chosen.
        #[cxx_name = "useBreezeIconsWhenUnset"]
        fn use_breeze_icons_when_unset();
    }
}
