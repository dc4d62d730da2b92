//! AppStream metainfo from a hostile mirror: never panics (the version sort included); every
//! release kept is newer than FROM and up to TO, newest first, each version once in a row, with
//! whitespace-normalised descriptions and only http(s) links. An optional first line
//! `#FROM TO` sets the range.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::cmp::Ordering;
use update_center_engine::source::changelog::releases_between;
use update_center_engine::format::version::compare;

fn normalised(text: &str) -> bool {
    text == text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (from, to, xml) = match text
        .strip_prefix('#')
        .and_then(|rest| rest.split_once('\n'))
        .and_then(|(header, xml)| header.split_once(' ').map(|(f, t)| (f, t, xml)))
    {
        Some(range) => range,
        None => ("1", "999999999999", &*text),
    };
    let Ok(releases) = releases_between(xml, "https://fuzz.invalid/m.xml", from, to) else {
        return;
    };
    for release in &releases {
        assert_eq!(compare(&release.version, from), Ordering::Greater);
        assert_ne!(compare(&release.version, to), Ordering::Greater);
        for line in &release.description {
            assert!(
                normalised(line.strip_prefix("• ").unwrap_or(line)),
                "{line:?}"
            );
        }
        for url in &release.urls {
            assert!(url.starts_with("https://") || url.starts_with("http://"));
        }
    }
    for pair in releases.windows(2) {
        assert_ne!(compare(&pair[0].version, &pair[1].version), Ordering::Less);
        assert_ne!(pair[0].version, pair[1].version);
    }
});
