//! Properties of the parsers and the version order, on generated input (proptest).

use proptest::prelude::*;
use std::cmp::Ordering;
use std::path::Path;
use update_center_engine::format::{ini, pattern::Pattern, sums, version};

/// Version-like strings, including characters systemd skips.
fn version_text() -> impl Strategy<Value = String> {
    "[0-9a-zA-Z.~^_+,-]{0,16}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn version_order_is_antisymmetric_and_reflexive(a in version_text(), b in version_text()) {
        prop_assert_eq!(version::compare(&a, &a), Ordering::Equal);
        prop_assert_eq!(version::compare(&a, &b), version::compare(&b, &a).reverse());
    }

    #[test]
    fn version_order_is_transitive(a in version_text(), b in version_text(), c in version_text()) {
        let mut v = [a, b, c];
        v.sort_by(|x, y| version::compare(x, y));
        prop_assert_ne!(version::compare(&v[0], &v[2]), Ordering::Greater);
    }

    #[test]
    fn ini_parser_never_panics(text in "(\\PC|\n|\\\\|\\[|\\]|=|#){0,400}") {
        let _ = ini::parse(Path::new("x.transfer"), &text);
    }

    #[test]
    fn ini_assignments_survive_a_round_trip(
        entries in proptest::collection::vec(("[A-Z][A-Za-z]{0,10}", "[A-Za-z0-9@%/._ -]{0,30}"), 0..20)
    ) {
        let mut text = String::from("[Section]\n");
        for (key, value) in &entries {
            text.push_str(&format!("{key}={value}\n"));
        }
        let parsed = ini::parse(Path::new("x.transfer"), &text).expect("valid by construction");
        let pairs: Vec<(String, String)> = parsed.into_iter().map(|a| (a.key, a.value)).collect();
        let expected: Vec<(String, String)> = entries.iter().map(|(k, v)| (k.clone(), v.trim().to_string())).collect();
        prop_assert_eq!(pairs, expected);
    }

    #[test]
    fn pattern_parser_never_panics(text in "(\\PC|@){0,40}", name in "\\PC{0,60}") {
        if let Ok(pattern) = Pattern::parse(&text) {
            let _ = pattern.matches(&name);
        }
    }

    #[test]
    fn a_formatted_name_matches_its_pattern(
        prefix in "[a-z][a-z-]{0,8}_",
        suffix in "\\.[a-z]{1,5}",
        version in "[0-9][0-9A-Za-z.]{0,11}",
        tries in proptest::option::of((0u64..10, 0u64..10)),
    ) {
        let text = match tries {
            Some(_) => format!("{prefix}@v+@l-@d{suffix}"),
            None => format!("{prefix}@v{suffix}"),
        };
        let pattern = Pattern::parse(&text).expect("valid by construction");
        // A version stops at the first occurrence of the next literal, as in systemd: names
        // whose version contains that literal cannot round-trip, by design.
        let next_literal = if tries.is_some() { "+" } else { suffix.as_str() };
        prop_assume!(!version.contains(next_literal));
        let name = pattern.format(&version, tries.map(|t| t.0), tries.map(|t| t.1)).expect("formattable");
        let fields = pattern.matches(&name).expect("matches its own name");
        prop_assert_eq!(fields.version, version);
        prop_assert_eq!(fields.tries_left, tries.map(|t| t.0));
        prop_assert_eq!(fields.tries_done, tries.map(|t| t.1));
    }

    #[test]
    fn sums_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = sums::parse(&bytes);
    }

    #[test]
    fn valid_sums_lines_are_accepted(
        lines in proptest::collection::btree_map("[A-Za-z0-9._+-]{1,40}", "[0-9a-f]{64}", 0..30)
    ) {
        let lines: Vec<(String, String)> = lines.into_iter().filter(|(n, _)| n != "." && n != "..").collect();
        let text: String = lines.iter().map(|(name, hash)| format!("{hash}  {name}\n")).collect();
        let entries = sums::parse(text.as_bytes()).expect("valid by construction");
        prop_assert_eq!(entries.len(), lines.len());
    }
}
