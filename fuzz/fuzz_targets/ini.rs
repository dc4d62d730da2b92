//! The ini parser on arbitrary text: never panics; an accepted file has only known sections
//! shapes (every assignment has a key).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(assignments) = update_center_engine::format::ini::parse(Path::new("f.transfer"), text)
    {
        for a in assignments {
            assert!(!a.key.is_empty());
            assert!(!a.section.is_empty());
        }
    }
});
