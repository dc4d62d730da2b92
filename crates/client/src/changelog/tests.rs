use super::*;

/// A changelog with every field set, exactly as the helper writes it.
const FULL: &str = r#"{"from":"202611250800","to":"202611260800","releases":[{"version":"202611260800","date":"2026-11-26","description":["Plasma 6.6","• Faster updates"],"urls":["https://kde.org/linux/releases/202611260800"]},{"version":"202611255000","date":null,"description":[],"urls":[]}],"links":["https://kde.org/linux/changelog/202611260800"],"packages":{"added":[{"name":"kpipewire","version":"6.6.0-1"}],"removed":[{"name":"oldlib","version":"1.0-1"}],"upgraded":[{"name":"linux","from":"6.17.8-1","to":"6.17.9-1"}],"downgraded":[{"name":"mesa","from":"25.3.1-1","to":"25.3.0-1"}]},"notes":["https://mirror.example.org/kde-linux_202611250800.manifest does not exist"]}"#;

/// One without package lists, as when a manifest is missing.
const NO_PACKAGES: &str = r#"{"from":"1","to":"2","releases":[],"links":[],"packages":null,"notes":["the definitions name no AppStream= metainfo"]}"#;

#[test]
fn a_full_changelog_reads_and_writes_back_byte_for_byte() {
    let log = parse(FULL).expect("a changelog");
    assert_eq!(log.from, "202611250800");
    assert_eq!(log.releases.len(), 2);
    assert_eq!(log.releases[0].date.as_deref(), Some("2026-11-26"));
    assert_eq!(log.releases[1].date, None);
    let packages = log.packages.as_ref().expect("packages");
    assert_eq!(
        packages.upgraded,
        [Change {
            name: "linux".into(),
            from: "6.17.8-1".into(),
            to: "6.17.9-1".into(),
        }]
    );
    assert_eq!(
        packages.added,
        [Package {
            name: "kpipewire".into(),
            version: "6.6.0-1".into(),
        }]
    );
    assert_eq!(serde_json::to_string(&log).expect("JSON"), FULL);
}

#[test]
fn a_changelog_without_packages_reads_and_writes_back_byte_for_byte() {
    let log = parse(NO_PACKAGES).expect("a changelog");
    assert_eq!(log.packages, None);
    assert_eq!(serde_json::to_string(&log).expect("JSON"), NO_PACKAGES);
}

#[test]
fn fields_a_newer_helper_adds_are_ignored() {
    let newer = FULL.replacen('{', r#"{"signed":true,"#, 1);
    assert_eq!(
        parse(&newer).expect("a changelog"),
        parse(FULL).expect("a changelog")
    );
}
