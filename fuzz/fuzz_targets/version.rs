//! The version order on arbitrary pairs: never panics, reflexive and antisymmetric.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::cmp::Ordering;
use update_center_engine::format::version::compare;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (a, b) = text.split_once('\n').unwrap_or((&text, ""));
    assert_eq!(compare(a, a), Ordering::Equal);
    assert_eq!(compare(a, b), compare(b, a).reverse());
});
