//! os-release of an image on arbitrary text: never panics; every `KEY=` line with a well-formed
//! key can be looked up, a malformed key never can, `IMAGE_VERSION` is never empty, and a value
//! written with os-release(5) quoting (double or single quotes) reads back unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use update_center_engine::format::osrelease::OsRelease;

fn well_formed(key: &str) -> bool {
    !key.is_empty() && key.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let os = OsRelease::from_text(&text);
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        if let Some((key, _)) = line.split_once('=') {
            let key = key.trim();
            assert_eq!(os.get(key).is_some(), well_formed(key), "{key:?}");
        }
    }
    assert_ne!(os.image_version(), Some(""));

    // The first line as a value, quoted the two ways os-release(5) allows.
    let value = text.lines().next().unwrap_or("");
    let mut escaped = String::new();
    for c in value.chars() {
        if matches!(c, '\\' | '"' | '$' | '`') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    let file = format!("{text}\nFUZZ_VALUE=\"{escaped}\"\n");
    assert_eq!(OsRelease::from_text(&file).get("FUZZ_VALUE"), Some(value));
    if !value.contains('\'') {
        let file = format!("{text}\nFUZZ_VALUE='{value}'\n");
        assert_eq!(OsRelease::from_text(&file).get("FUZZ_VALUE"), Some(value));
    }
});
