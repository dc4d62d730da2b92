//! The package manifest JSON from a hostile mirror: never panics; an accepted manifest survives
//! a round trip, and the package diff between its two halves (and against itself and nothing)
//! sorts every package into the right list.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use update_center_engine::source::changelog::{Package, diff, parse_manifest};
use update_center_engine::format::version::compare;

/// The version a list gives each name (the last one wins, as in the diff).
fn index(list: &[Package]) -> BTreeMap<&str, &str> {
    list.iter()
        .map(|p| (p.name.as_str(), p.version.as_str()))
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(packages) = parse_manifest(data, "https://fuzz.invalid/a.manifest") else {
        return;
    };
    let again = serde_json::to_vec(&serde_json::json!({ "packages": packages })).expect("json");
    assert_eq!(parse_manifest(&again, "u").expect("round trip"), packages);

    let same = diff(&packages, &packages);
    assert!(same.added.is_empty() && same.removed.is_empty());
    assert!(same.upgraded.is_empty() && same.downgraded.is_empty());
    let names = index(&packages).len();
    assert_eq!(diff(&[], &packages).added.len(), names);
    assert_eq!(diff(&packages, &[]).removed.len(), names);

    let (old, new) = packages.split_at(packages.len() / 2);
    let (before, after) = (index(old), index(new));
    let d = diff(old, new);
    for p in &d.added {
        assert!(!before.contains_key(p.name.as_str()));
        assert_eq!(after.get(p.name.as_str()), Some(&p.version.as_str()));
    }
    for p in &d.removed {
        assert!(!after.contains_key(p.name.as_str()));
        assert_eq!(before.get(p.name.as_str()), Some(&p.version.as_str()));
    }
    for (c, newer) in d
        .upgraded
        .iter()
        .map(|c| (c, true))
        .chain(d.downgraded.iter().map(|c| (c, false)))
    {
        assert_eq!(before.get(c.name.as_str()), Some(&c.from.as_str()));
        assert_eq!(after.get(c.name.as_str()), Some(&c.to.as_str()));
        assert_ne!(c.from, c.to);
        assert_eq!(compare(&c.to, &c.from).is_lt(), !newer);
    }
    let unchanged = after
        .iter()
        .filter(|(name, version)| before.get(*name) == Some(*version))
        .count();
    assert_eq!(
        d.added.len() + d.upgraded.len() + d.downgraded.len() + unchanged,
        after.len()
    );
    assert_eq!(
        d.removed.len() + d.upgraded.len() + d.downgraded.len() + unchanged,
        before.len()
    );
});
