//! SHA256SUMS from a hostile mirror: never panics; every accepted name is a plain file name.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(entries) = update_center_engine::format::sums::parse(data) {
        for entry in entries {
            assert!(!entry.name.contains('/'));
            assert!(entry.name != "." && entry.name != "..");
            assert_eq!(entry.sha256.len(), 64);
        }
    }
});
