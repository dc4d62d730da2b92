//! Tests of `changelog`.

use super::*;

const METAINFO: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<component type="operating-system">
  <id>org.kde.linux</id>
  <releases>
<release version="202611260800" date="2026-11-26">
  <description>
    <p>Plasma 6.6.  Faster   login.</p>
    <ul><li>Fixes <em>Wi-Fi</em> resume</li><li>New wallpaper</li></ul>
  </description>
  <url type="details">https://kde.org/linux/202611260800</url>
  <url>javascript:alert(1)</url>
</release>
<release version="202611200800" timestamp="1763625600">
  <description><p>Kernel 6.17.</p></description>
</release>
<release version="202611150800" date="2026-11-15"/>
<release version="202611010800" date="2026-11-01"/>
  </releases>
</component>"#;

#[test]
fn only_the_releases_in_between_newest_first() {
    let found = releases_between(METAINFO, "u", "202611150800", "202611260800").expect("parse");
    let versions: Vec<&str> = found.iter().map(|r| r.version.as_str()).collect();
    assert_eq!(versions, vec!["202611260800", "202611200800"]);
    assert_eq!(
        found[0].description,
        vec![
            "Plasma 6.6. Faster login.",
            "• Fixes Wi-Fi resume",
            "• New wallpaper"
        ]
    );
    assert_eq!(found[0].urls, vec!["https://kde.org/linux/202611260800"]);
    assert_eq!(found[1].date.as_deref(), Some("2025-11-20"));
    assert!(
        releases_between(METAINFO, "u", "202611260800", "202611260800")
            .expect("parse")
            .is_empty()
    );
    let none = "<component><releases/></component>";
    assert!(
        releases_between(none, "u", "1", "2")
            .expect("parse")
            .is_empty()
    );
}

#[test]
fn the_metadata_cache_keeps_to_its_caps_and_the_newest_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = dir.path();
    for i in 0..CACHE_MAX_FILES + 10 {
        std::fs::write(cache.join(format!("f{i:03}")), [0u8; 16]).expect("write");
    }
    let newest = cache.join("newest");
    std::fs::write(
        &newest,
        vec![0u8; usize::try_from(CACHE_MAX_BYTES).expect("fits")],
    )
    .expect("write");
    trim_cache(cache, &newest);
    let left: Vec<_> = std::fs::read_dir(cache).expect("list").flatten().collect();
    let bytes: u64 = left.iter().map(|e| e.metadata().expect("meta").len()).sum();
    assert!(left.len() <= CACHE_MAX_FILES, "{} files", left.len());
    assert!(bytes <= CACHE_MAX_BYTES, "{bytes} bytes");
    assert!(newest.exists(), "the file just written stays");
}

#[test]
fn hostile_xml_is_refused_or_harmless() {
    let laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<component><releases><release version="2"><description><p>&lol2;</p></description></release></releases></component>"#;
    let e = releases_between(laughs, "u", "1", "2").expect_err("DTD");
    assert!(e.to_string().contains("not valid AppStream"), "{e}");
    let huge = format!("<component>{}</component>", " ".repeat(METAINFO_MAX_BYTES));
    let e = releases_between(&huge, "u", "1", "2").expect_err("huge");
    assert!(e.to_string().contains("larger than"), "{e}");
    let deep = format!("{}{}", "<a>".repeat(100_000), "</a>".repeat(100_000));
    assert!(releases_between(&deep, "u", "1", "2").is_ok());
    let wide = format!(
        "<component>{}</component>",
        "<x/>".repeat(XML_NODES_LIMIT as usize + 10)
    );
    assert!(releases_between(&wide, "u", "1", "2").is_err());
    assert!(releases_between("<unclosed", "u", "1", "2").is_err());
}

fn package(name: &str, version: &str) -> Package {
    Package {
        name: name.into(),
        version: version.into(),
    }
}

#[test]
fn the_package_diff_names_every_kind_of_change() {
    let old = vec![
        package("plasma-desktop", "6.5.3-1"),
        package("linux", "6.17.1.arch1-1"),
        package("mesa", "1:25.2.0-1"),
        package("kate", "25.08.0-1"),
        package("gone", "1.0-1"),
    ];
    let new = vec![
        package("plasma-desktop", "6.6.0-1"),
        package("linux", "6.16.9.arch1-1"),
        package("mesa", "1:25.2.0-1"),
        package("kate", "25.08.0-1"),
        package("ollama", "0.12.0-1"),
    ];
    let d = diff(&old, &new);
    assert_eq!(d.added, vec![package("ollama", "0.12.0-1")]);
    assert_eq!(d.removed, vec![package("gone", "1.0-1")]);
    assert_eq!(
        d.upgraded,
        vec![Change {
            name: "plasma-desktop".into(),
            from: "6.5.3-1".into(),
            to: "6.6.0-1".into()
        }]
    );
    assert_eq!(d.downgraded.len(), 1);
    assert_eq!(d.downgraded[0].name, "linux");
}

#[test]
fn manifests_are_mkosi_json_and_anything_else_is_an_error() {
    let mkosi = br#"{"manifest_version": 1, "config": {"name": "kde-linux"},
        "packages": [{"type": "pacman", "name": "bash", "version": "5.3.3-1", "architecture": "x86_64"}]}"#;
    assert_eq!(
        parse_manifest(mkosi, "u").expect("manifest"),
        vec![package("bash", "5.3.3-1")]
    );
    assert!(parse_manifest(b"{\"packages\": 3}", "u").is_err());
    assert!(parse_manifest(b"<html>", "u").is_err());
}

#[test]
fn the_changelog_the_helper_sends_is_what_the_client_reads() {
    let xml = r#"<component><releases>
        <release version="3" date="2026-11-26"><description><p>Plasma 6.6</p>
          <ul><li>Faster updates</li></ul></description>
          <url>https://kde.org/linux/releases/3</url></release>
        <release version="2" timestamp="1795608000"/>
      </releases></component>"#;
    let old = vec![package("linux", "6.17.8-1"), package("gone", "1.0-1")];
    let new = vec![package("linux", "6.17.9-1"), package("ollama", "0.12.0-1")];
    let sent = Changelog {
        from: "1".into(),
        to: "3".into(),
        releases: releases_between(xml, "u", "1", "3").expect("releases"),
        links: vec!["https://kde.org/linux/changelog/3".into()],
        packages: Some(diff(&old, &new)),
        notes: vec!["a note".into()],
    };
    // As the service answers `Changelog`.
    let json = serde_json::to_string(&sent).expect("JSON");
    let read = update_center_client::changelog::parse(&json).expect("the client reads it");
    assert_eq!(read, sent);
    assert_eq!(read.releases[1].date.as_deref(), Some("2026-11-25"));
    let without = Changelog {
        packages: None,
        ..sent
    };
    let json = serde_json::to_string(&without).expect("JSON");
    assert!(json.contains(r#""packages":null"#), "{json}");
    assert_eq!(
        update_center_client::changelog::parse(&json).expect("the client reads it"),
        without
    );
}
