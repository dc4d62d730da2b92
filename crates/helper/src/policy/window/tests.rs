//! Windows read, placed in time across midnight, weeks and daylight saving changes, and
//! merged.

use super::*;

/// A moment written in RFC 3339, as UTC.
fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .with_timezone(&Utc)
}

fn windows(lines: &[&str]) -> Windows {
    lines
        .iter()
        .map(|l| Window::parse(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

/// One question asked of a list of windows at one moment, and the answers expected.
struct Case {
    what: &'static str,
    windows: &'static [&'static str],
    now: &'static str,
    open: bool,
    next_start: Option<&'static str>,
    end: Option<&'static str>,
}

const CASES: &[Case] = &[
    // Europe/Berlin, 2026-03-29: at 01:00 UTC the clocks jump from 02:00 to 03:00.
    Case {
        what: "Berlin spring: 02:30 does not exist, the window waits for 03:00 CEST",
        windows: &["Sun 02:30 3h Europe/Berlin"],
        now: "2026-03-29T00:59:59Z",
        open: false,
        next_start: Some("2026-03-29T01:00:00Z"),
        end: None,
    },
    Case {
        what: "Berlin spring: open from the first moment after the jump",
        windows: &["Sun 02:30 3h Europe/Berlin"],
        now: "2026-03-29T01:00:00Z",
        open: true,
        next_start: Some("2026-03-29T01:00:00Z"),
        end: Some("2026-03-29T04:00:00Z"),
    },
    Case {
        what: "Berlin spring: 3 real hours after the late start",
        windows: &["Sun 02:30 3h Europe/Berlin"],
        now: "2026-03-29T03:59:59Z",
        open: true,
        next_start: Some("2026-03-29T03:59:59Z"),
        end: Some("2026-03-29T04:00:00Z"),
    },
    Case {
        what: "Berlin spring: closed at its end, next week at 02:30 CEST",
        windows: &["Sun 02:30 3h Europe/Berlin"],
        now: "2026-03-29T04:00:00Z",
        open: false,
        next_start: Some("2026-04-05T00:30:00Z"),
        end: None,
    },
    Case {
        what: "Berlin spring: the Sunday before starts at 02:30 CET",
        windows: &["Sun 02:30 3h Europe/Berlin"],
        now: "2026-03-22T01:29:00Z",
        open: false,
        next_start: Some("2026-03-22T01:30:00Z"),
        end: None,
    },
    Case {
        what: "Berlin spring: a window across the jump lasts 2 real hours (to 04:30 CEST)",
        windows: &["Sun 01:30 2h Europe/Berlin"],
        now: "2026-03-29T02:15:00Z",
        open: true,
        next_start: Some("2026-03-29T02:15:00Z"),
        end: Some("2026-03-29T02:30:00Z"),
    },
    // Europe/Berlin, 2026-10-25: at 01:00 UTC the clocks go back from 03:00 to 02:00.
    Case {
        what: "Berlin autumn: 02:30 happens twice, the window opens at the first",
        windows: &["Sun 02:30 3h Europe/Berlin"],
        now: "2026-10-25T00:29:00Z",
        open: false,
        next_start: Some("2026-10-25T00:30:00Z"),
        end: None,
    },
    Case {
        what: "Berlin autumn: at the second 02:30 it has been open an hour",
        windows: &["Sun 02:30 3h Europe/Berlin"],
        now: "2026-10-25T01:30:00Z",
        open: true,
        next_start: Some("2026-10-25T01:30:00Z"),
        end: Some("2026-10-25T03:30:00Z"),
    },
    Case {
        what: "Berlin autumn: closed after 3 real hours, next week at 02:30 CET",
        windows: &["Sun 02:30 3h Europe/Berlin"],
        now: "2026-10-25T03:30:00Z",
        open: false,
        next_start: Some("2026-11-01T01:30:00Z"),
        end: None,
    },
    Case {
        what: "Berlin autumn: across midnight and the change, ends at the second 02:00",
        windows: &["Sat 23:00 4h Europe/Berlin"],
        now: "2026-10-25T00:59:00Z",
        open: true,
        next_start: Some("2026-10-25T00:59:00Z"),
        end: Some("2026-10-25T01:00:00Z"),
    },
    Case {
        what: "Berlin autumn: the next Saturday starts at 23:00 CET",
        windows: &["Sat 23:00 4h Europe/Berlin"],
        now: "2026-10-25T01:00:00Z",
        open: false,
        next_start: Some("2026-10-31T22:00:00Z"),
        end: None,
    },
    // America/New_York, 2026-03-08: at 07:00 UTC the clocks jump from 02:00 to 03:00.
    Case {
        what: "New York spring: 02:00 does not exist, the window waits for 03:00 EDT",
        windows: &["Sun 02:00 1h America/New_York"],
        now: "2026-03-08T06:59:00Z",
        open: false,
        next_start: Some("2026-03-08T07:00:00Z"),
        end: None,
    },
    Case {
        what: "New York spring: open for an hour from 03:00 EDT",
        windows: &["Sun 02:00 1h America/New_York"],
        now: "2026-03-08T07:30:00Z",
        open: true,
        next_start: Some("2026-03-08T07:30:00Z"),
        end: Some("2026-03-08T08:00:00Z"),
    },
    Case {
        what: "New York spring: next week at 02:00 EDT",
        windows: &["Sun 02:00 1h America/New_York"],
        now: "2026-03-08T08:00:00Z",
        open: false,
        next_start: Some("2026-03-15T06:00:00Z"),
        end: None,
    },
    Case {
        what: "New York spring: a window across the jump ends at 03:30 EDT",
        windows: &["Sun 01:30 1h America/New_York"],
        now: "2026-03-08T07:15:00Z",
        open: true,
        next_start: Some("2026-03-08T07:15:00Z"),
        end: Some("2026-03-08T07:30:00Z"),
    },
    // America/New_York, 2026-11-01: at 06:00 UTC the clocks go back from 02:00 to 01:00.
    Case {
        what: "New York autumn: 01:30 happens twice, the window opens at the first",
        windows: &["Sun 01:30 1h America/New_York"],
        now: "2026-11-01T05:29:00Z",
        open: false,
        next_start: Some("2026-11-01T05:30:00Z"),
        end: None,
    },
    Case {
        what: "New York autumn: open for one real hour",
        windows: &["Sun 01:30 1h America/New_York"],
        now: "2026-11-01T06:29:59Z",
        open: true,
        next_start: Some("2026-11-01T06:29:59Z"),
        end: Some("2026-11-01T06:30:00Z"),
    },
    Case {
        what: "New York autumn: the second 01:30 does not open it again",
        windows: &["Sun 01:30 1h America/New_York"],
        now: "2026-11-01T06:30:00Z",
        open: false,
        next_start: Some("2026-11-08T06:30:00Z"),
        end: None,
    },
    Case {
        what: "New York autumn: across midnight and the change, ends at 02:00 EST",
        windows: &["Sat 22:00 5h America/New_York"],
        now: "2026-11-01T06:59:00Z",
        open: true,
        next_start: Some("2026-11-01T06:59:00Z"),
        end: Some("2026-11-01T07:00:00Z"),
    },
    // Midnight, several windows, UTC.
    Case {
        what: "a Friday window crossing midnight covers Saturday 00:30",
        windows: &["Fri 23:00 2h UTC"],
        now: "2026-03-07T00:30:00Z",
        open: true,
        next_start: Some("2026-03-07T00:30:00Z"),
        end: Some("2026-03-07T01:00:00Z"),
    },
    Case {
        what: "a Saturday window does not cover Saturday 00:30",
        windows: &["Sat 23:00 2h UTC"],
        now: "2026-03-07T00:30:00Z",
        open: false,
        next_start: Some("2026-03-07T23:00:00Z"),
        end: None,
    },
    Case {
        what: "UTC: open at its very start",
        windows: &["Mon..Fri 23:30 2h UTC"],
        now: "2026-03-06T23:30:00Z",
        open: true,
        next_start: Some("2026-03-06T23:30:00Z"),
        end: Some("2026-03-07T01:30:00Z"),
    },
    Case {
        what: "several: the Friday night window runs into the Berlin Saturday one",
        windows: &["Mon..Fri 23:30 2h UTC", "Sat,Sun 02:00 3h Europe/Berlin"],
        now: "2026-03-07T00:30:00Z",
        open: true,
        next_start: Some("2026-03-07T00:30:00Z"),
        end: Some("2026-03-07T04:00:00Z"),
    },
    Case {
        what: "several: Saturday noon waits for Sunday 02:00 CET",
        windows: &["Mon..Fri 23:30 2h UTC", "Sat,Sun 02:00 3h Europe/Berlin"],
        now: "2026-03-07T12:00:00Z",
        open: false,
        next_start: Some("2026-03-08T01:00:00Z"),
        end: None,
    },
    Case {
        what: "several: after Sunday's window, Monday night",
        windows: &["Mon..Fri 23:30 2h UTC", "Sat,Sun 02:00 3h Europe/Berlin"],
        now: "2026-03-08T05:00:00Z",
        open: false,
        next_start: Some("2026-03-09T23:30:00Z"),
        end: None,
    },
    Case {
        what: "several: a Wednesday waits for the same night",
        windows: &["Sat,Sun 02:00 3h Europe/Berlin", "Mon..Fri 23:30 2h UTC"],
        now: "2026-03-04T12:00:00Z",
        open: false,
        next_start: Some("2026-03-04T23:30:00Z"),
        end: None,
    },
    Case {
        what: "touching windows make one stretch",
        windows: &["Sat 00:00 24h UTC", "Sun 00:00 24h UTC"],
        now: "2026-03-07T12:00:00Z",
        open: true,
        next_start: Some("2026-03-07T12:00:00Z"),
        end: Some("2026-03-09T00:00:00Z"),
    },
    Case {
        what: "a range round the week end: open on Monday",
        windows: &["Fri..Mon 10:00 1h UTC"],
        now: "2026-03-02T10:30:00Z",
        open: true,
        next_start: Some("2026-03-02T10:30:00Z"),
        end: Some("2026-03-02T11:00:00Z"),
    },
    Case {
        what: "a range round the week end: Tuesday waits for Friday",
        windows: &["Fri..Mon 10:00 1h UTC"],
        now: "2026-03-03T10:30:00Z",
        open: false,
        next_start: Some("2026-03-06T10:00:00Z"),
        end: None,
    },
    Case {
        what: "no windows: never open",
        windows: &[],
        now: "2026-03-07T12:00:00Z",
        open: false,
        next_start: None,
        end: None,
    },
];

#[test]
fn windows_open_and_close_at_the_expected_moments() {
    for case in CASES {
        let list = windows(case.windows);
        let now = at(case.now);
        assert_eq!(list.contains(now), case.open, "{}: contains", case.what);
        assert_eq!(
            list.next_start(now),
            case.next_start.map(at),
            "{}: next_start",
            case.what
        );
        assert_eq!(
            list.current_end(now),
            case.end.map(at),
            "{}: current_end",
            case.what
        );
    }
}

#[test]
fn a_window_open_all_the_time_ends_far_ahead() {
    let list = windows(&["* 00:00 24h UTC"]);
    let now = at("2026-03-07T12:00:00Z");
    assert!(list.contains(now));
    assert_eq!(list.next_start(now), Some(now));
    let end = list.current_end(now).expect("open");
    assert!(end >= now + TimeDelta::days(14), "{end}");
}

#[test]
fn the_empty_list_is_never_open() {
    let never = Windows::never();
    assert!(never.is_empty());
    assert_eq!(never, Windows::new(Vec::new()));
    for now in ["2026-01-01T00:00:00Z", "2026-03-29T01:00:00Z"] {
        assert!(!never.contains(at(now)));
        assert_eq!(never.next_start(at(now)), None);
        assert_eq!(never.current_end(at(now)), None);
    }
}

#[test]
fn an_opening_is_placed_on_the_day_it_starts() {
    let window = Window::parse("Sun 02:30 3h Europe/Berlin").expect("window");
    let sunday = NaiveDate::from_ymd_opt(2026, 3, 29).expect("date");
    assert_eq!(
        window.opening_on(sunday),
        Some(Opening {
            start: at("2026-03-29T01:00:00Z"),
            end: at("2026-03-29T04:00:00Z"),
        })
    );
    let monday = NaiveDate::from_ymd_opt(2026, 3, 30).expect("date");
    assert_eq!(window.opening_on(monday), None);
}

#[test]
fn windows_are_read_and_written_back() {
    let cases = [
        (
            "Sat,Sun 02:00 3h Europe/Berlin",
            "Sat,Sun 02:00 3h Europe/Berlin",
        ),
        ("Mon..Fri 23:30 2h UTC", "Mon,Tue,Wed,Thu,Fri 23:30 2h UTC"),
        (
            "* 4:00 90 America/New_York",
            "* 04:00 1h30min America/New_York",
        ),
        (
            "sunday,SAT 02:00:30 90min UTC",
            "Sat,Sun 02:00:30 1h30min UTC",
        ),
        ("Fri..Mon 10:00 1d UTC", "Mon,Fri,Sat,Sun 10:00 24h UTC"),
        ("Mon..Sun 00:00 45min UTC", "* 00:00 45min UTC"),
        ("Sun..Sun 00:00 7d UTC", "Sun 00:00 168h UTC"),
        (
            "  Tue   06:15  1h15m  Asia/Tokyo  ",
            "Tue 06:15 1h15min Asia/Tokyo",
        ),
    ];
    for (line, written) in cases {
        let window = Window::parse(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert_eq!(window.to_string(), written, "{line}");
        assert_eq!(Window::parse(written), Ok(window), "{written}");
    }
    let window = Window::parse("Sat,Sun 02:00 3h Europe/Berlin").expect("window");
    assert_eq!(window.days(), [Weekday::Sat, Weekday::Sun]);
    assert_eq!(
        window.start(),
        NaiveTime::from_hms_opt(2, 0, 0).expect("time")
    );
    assert_eq!(window.length(), TimeDelta::hours(3));
    assert_eq!(window.zone(), chrono_tz::Europe::Berlin);
}

#[test]
fn bad_windows_are_refused_with_what_is_wrong() {
    let missing = |part, line: &str| WindowError::MissingPart {
        part,
        line: line.to_string(),
    };
    let cases: Vec<(&str, WindowError, &str)> = vec![
        ("", WindowError::Empty, "empty"),
        ("   ", WindowError::Empty, "empty"),
        ("Sat", missing("start time", "Sat"), "no start time"),
        ("Sat 02:00", missing("length", "Sat 02:00"), "no length"),
        (
            "Sat 02:00 3h",
            missing("time zone", "Sat 02:00 3h"),
            "no time zone",
        ),
        (
            "Sat 02:00 3h UTC extra words",
            WindowError::ExtraText {
                extra: "extra words".into(),
                line: "Sat 02:00 3h UTC extra words".into(),
            },
            "\"extra words\"",
        ),
        (
            "Sa 02:00 3h UTC",
            WindowError::UnknownDay { day: "Sa".into() },
            "unknown day \"Sa\"",
        ),
        (
            "Mon..Fry 02:00 3h UTC",
            WindowError::UnknownDay { day: "Fry".into() },
            "\"Fry\"",
        ),
        (
            "Sat,,Sun 02:00 3h UTC",
            WindowError::UnknownDay { day: "".into() },
            "unknown day \"\"",
        ),
        (
            "Sat 24:00 3h UTC",
            WindowError::BadTime {
                time: "24:00".into(),
            },
            "\"24:00\" is not a time of day",
        ),
        (
            "Sat 2:5 3h UTC",
            WindowError::BadTime { time: "2:5".into() },
            "\"2:5\"",
        ),
        (
            "Sat 02:00am 3h UTC",
            WindowError::BadTime {
                time: "02:00am".into(),
            },
            "\"02:00am\"",
        ),
        (
            "Sat 02:00 3x UTC",
            WindowError::BadLength {
                length: "3x".into(),
            },
            "length \"3x\" is not a duration",
        ),
        (
            "Sat 02:00 h UTC",
            WindowError::BadLength { length: "h".into() },
            "\"h\"",
        ),
        (
            "Sat 02:00 99999999999999999999h UTC",
            WindowError::BadLength {
                length: "99999999999999999999h".into(),
            },
            "not a duration",
        ),
        (
            "Sat 02:00 0 UTC",
            WindowError::LengthOutOfRange { minutes: 0 },
            "0 minutes is out of range",
        ),
        (
            "Sat 02:00 8d UTC",
            WindowError::LengthOutOfRange { minutes: 11520 },
            "11520 minutes",
        ),
        (
            "Sat 02:00 3h Europe/Berlln",
            WindowError::UnknownZone {
                zone: "Europe/Berlln".into(),
            },
            "unknown time zone \"Europe/Berlln\"",
        ),
        (
            "Sat 02:00 3h europe/berlin",
            WindowError::UnknownZone {
                zone: "europe/berlin".into(),
            },
            "case-sensitive",
        ),
    ];
    for (line, expected, message) in cases {
        let error = Window::parse(line).expect_err(line);
        assert_eq!(error, expected, "{line:?}");
        assert!(
            error.to_string().contains(message),
            "{line:?}: {error} lacks {message:?}"
        );
    }
}

#[test]
fn a_window_needs_days_and_a_length() {
    let start = NaiveTime::MIN;
    assert_eq!(
        Window::new(&[], start, TimeDelta::hours(1), Tz::UTC),
        Err(WindowError::NoDays)
    );
    assert_eq!(
        Window::new(&[Weekday::Sat], start, TimeDelta::seconds(59), Tz::UTC),
        Err(WindowError::LengthOutOfRange { minutes: 0 })
    );
    let window =
        Window::new(&[Weekday::Sat], start, TimeDelta::seconds(150), Tz::UTC).expect("window");
    assert_eq!(window.length(), TimeDelta::minutes(2));
}

#[test]
fn logind_maintenance_times_become_windows() {
    let cases = [
        ("daily", "* 00:00 2h Europe/Berlin"),
        ("Daily", "* 00:00 2h Europe/Berlin"),
        ("weekly", "Mon 00:00 2h Europe/Berlin"),
        ("Sat 02:00", "Sat 02:00 2h Europe/Berlin"),
        (
            "Mon..Fri 03:00",
            "Mon,Tue,Wed,Thu,Fri 03:00 2h Europe/Berlin",
        ),
        ("*-*-* 04:00", "* 04:00 2h Europe/Berlin"),
        ("04:00", "* 04:00 2h Europe/Berlin"),
        ("Sat *-*-* 02:00:00", "Sat 02:00 2h Europe/Berlin"),
        ("Sat,Sun 02:00 UTC", "Sat,Sun 02:00 2h UTC"),
    ];
    for (value, window) in cases {
        let read = Window::from_logind(value, TimeDelta::hours(2), chrono_tz::Europe::Berlin)
            .unwrap_or_else(|e| panic!("{value}: {e}"));
        assert_eq!(read.to_string(), window, "{value}");
    }
}

#[test]
fn other_logind_calendar_forms_are_refused() {
    for value in [
        "",
        "monthly",
        "hourly",
        "2026-*-01 04:00",
        "*:0/15",
        "Sat 02:00 extra",
        "Sa 02:00",
        "*-*-* 25:00",
        "Sat,Sun",
        "*-*-*",
        "UTC",
        "* 04:00",
    ] {
        let error = Window::from_logind(value, TimeDelta::hours(2), Tz::UTC).expect_err(value);
        assert_eq!(
            error,
            WindowError::UnsupportedCalendar {
                value: value.to_string()
            },
            "{value:?}"
        );
        assert!(
            error
                .to_string()
                .contains("cannot be used as a maintenance window"),
            "{error}"
        );
    }
    assert_eq!(
        Window::from_logind("daily", TimeDelta::zero(), Tz::UTC),
        Err(WindowError::LengthOutOfRange { minutes: 0 })
    );
}
