use super::*;
use crate::health::{CheckResult, Kind, Outcome};

/// One record of each kind, exactly as the helper writes them (one per line).
const RECORDS: &str = r#"{"time":"2026-11-26T08:00:00Z","event":"started","version":"202611260800","download_bytes":1500000000}
{"time":"2026-11-26T08:01:00Z","event":"removed","version":"202610010800"}
{"time":"2026-11-26T08:02:00Z","event":"committed","version":"202611260800"}
{"time":"2026-11-26T08:03:00Z","event":"failed","version":"202611270800","reason":"no room on /efi"}
{"time":"2026-11-26T08:04:00Z","event":"recovered","version":"202611270800","completed":false}
{"time":"2026-11-26T08:05:00Z","event":"pinned","version":"202611260800"}
{"time":"2026-11-26T08:06:00Z","event":"unpinned","version":"202611260800"}
{"time":"2026-11-26T08:07:00Z","event":"rolled-back","version":"202611250800","once":true}
{"time":"2026-11-26T08:08:00Z","event":"booted","version":"202611260800","entry":"kde-linux_202611260800+2-1.efi","tries_left":2,"tries_done":1,"good":false}
{"time":"2026-11-26T08:09:00Z","event":"booted","version":"202611260800","entry":"kde-linux_202611260800.efi","tries_left":null,"tries_done":null,"good":true}
{"time":"2026-11-26T08:10:00Z","event":"fallback-detected","failed":"202611270800","tries":3,"running":"202611260800"}
{"time":"2026-11-26T08:11:00Z","event":"fallback-acknowledged","failed":"202611270800"}
{"time":"2026-11-26T08:12:00Z","event":"checked","candidate":""}
{"time":"2026-11-26T08:13:00Z","event":"health-checked","passed":false,"checks":[{"name":"10-units.required","kind":"required","outcome":"passed","output":"","duration_ms":12},{"name":"20-skip.wanted","kind":"wanted","outcome":"skipped","output":"n/a\n","duration_ms":1},{"name":"30-exit.required","kind":"required","outcome":"failed","status":1,"output":"boom","duration_ms":5},{"name":"31-signal.wanted","kind":"wanted","outcome":"failed","status":null,"output":"","duration_ms":5},{"name":"40-slow.required","kind":"required","outcome":"timed-out","after_secs":60,"output":"","duration_ms":60000},{"name":"50-broken.wanted","kind":"wanted","outcome":"not-run","reason":"Permission denied","output":"","duration_ms":0}]}
{"time":"2026-11-26T08:14:00Z","event":"failed","version":"202611270800","reason":"not enough room on /efi","details":{"kind":"room-unknown","fields":{"dir":"/efi"}}}
{"time":"2026-11-26T08:15:00Z","event":"fetched","version":"202611270800","file":"kde-linux_202611270800.erofs","seed_bytes":0,"store_bytes":0,"range_bytes":0,"full_bytes":5000,"fallback":"deltas are off ([Delta] Store=off)","fallback_details":{"kind":"off","fields":{}}}"#;

fn records() -> Vec<Record> {
    RECORDS
        .lines()
        .map(|line| serde_json::from_str(line).expect("a record"))
        .collect()
}

#[test]
fn every_kind_of_record_reads_and_writes_back_byte_for_byte() {
    let records = records();
    let kinds: Vec<&str> = records.iter().map(|r| r.event.kind()).collect();
    assert_eq!(
        kinds,
        [
            "started",
            "removed",
            "committed",
            "failed",
            "recovered",
            "pinned",
            "unpinned",
            "rolled-back",
            "booted",
            "booted",
            "fallback-detected",
            "fallback-acknowledged",
            "checked",
            "health-checked",
            "failed",
            "fetched",
        ]
    );
    for (line, record) in RECORDS.lines().zip(&records) {
        assert_eq!(serde_json::to_string(record).expect("JSON"), line);
    }
    // The older failed record has no details; the newer one says its kind and fields.
    let Event::Failed { details, .. } = &records[14].event else {
        panic!("{:?}", records[14]);
    };
    assert_eq!(
        (details.kind.as_str(), details.field("dir")),
        ("room-unknown", "/efi")
    );
    assert!(matches!(&records[3].event, Event::Failed { details, .. } if details.is_empty()));
}

#[test]
fn fields_land_where_they_belong() {
    let records = records();
    assert_eq!(
        records[8].event,
        Event::Booted {
            version: "202611260800".into(),
            entry: "kde-linux_202611260800+2-1.efi".into(),
            tries_left: Some(2),
            tries_done: Some(1),
            good: false,
        }
    );
    let Event::HealthChecked { passed, checks } = &records[13].event else {
        panic!("{:?}", records[13]);
    };
    assert!(!passed);
    assert_eq!(
        checks[2],
        CheckResult {
            name: "30-exit.required".into(),
            kind: Kind::Required,
            outcome: Outcome::Failed { status: Some(1) },
            output: "boom".into(),
            duration_ms: 5,
        }
    );
    let failed: Vec<bool> = checks.iter().map(CheckResult::failed).collect();
    assert_eq!(failed, [false, false, true, true, true, true]);
    assert_eq!(
        checks[4].outcome,
        Outcome::TimedOut { after_secs: 60 },
        "{checks:?}"
    );
}

#[test]
fn a_history_answer_is_read_in_its_order_and_unknown_kinds_are_left_out() {
    let mut lines: Vec<&str> = RECORDS.lines().collect();
    lines.reverse();
    lines.insert(
        3,
        r#"{"time":"2026-11-26T09:00:00Z","event":"teleported","to":"mars"}"#,
    );
    let answer = format!("[{}]", lines.join(","));
    let parsed = parse(&answer).expect("an array");
    let mut expected = records();
    expected.reverse();
    assert_eq!(parsed, expected);
    assert_eq!(parse("[]").expect("empty"), Vec::new());
    assert!(parse("{}").is_err(), "not an array");
}
