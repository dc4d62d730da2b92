//! Match patterns: parsing arbitrary text and matching arbitrary names never panics, and a
//! matched version is always a valid version.
#![no_main]

use libfuzzer_sys::fuzz_target;
use update_center_engine::format::pattern::{Pattern, is_valid_version};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (pattern, name) = text.split_once('\n').unwrap_or((&text, "kde-linux_1.efi"));
    if let Ok(pattern) = Pattern::parse(pattern)
        && let Some(fields) = pattern.matches(name)
    {
        assert!(is_valid_version(&fields.version));
    }
});
