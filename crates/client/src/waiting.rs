//! What the machine waits for before it goes on by itself (`Waiting`, and the answers of
//! `DownloadAutomatically` and `RestartAutomatically`): each reason a kind and named fields,
//! never a sentence, so that every client says it in its language. docs/policies.md lists them.

use std::collections::HashMap;

/// One reason: (kind, fields).
pub type WaitReason = (String, HashMap<String, String>);

/// Every kind a helper sends today.
pub const KINDS: [&str; 17] = [
    "metered",
    "battery",
    "captive-portal",
    "offline",
    "manual-restart",
    "outside-window",
    "inhibitor",
    "sessions",
    "gpu-jobs",
    "busy-command",
    "overdue",
    "rollout-wave",
    "rollout-paused",
    "rollout-halted",
    "no-slot",
    "fleet-unreachable",
    "no-machine-id",
];

/// One English line for a reason: for the journal and the command line (the windows use
/// Fluent). A kind this client does not know is given as it is.
pub fn describe(kind: &str, fields: &HashMap<String, String>) -> String {
    let f = |name: &str| fields.get(name).cloned().unwrap_or_default();
    match kind {
        "metered" => "on a metered connection".into(),
        "battery" => format!(
            "on battery at {}% (downloads wait below {}%)",
            f("percent"),
            f("min")
        ),
        "captive-portal" => "behind a captive portal (log in to the network first)".into(),
        "offline" => "no network".into(),
        "manual-restart" => "the policy leaves restarts to a person".into(),
        "outside-window" => match fields.get("next") {
            Some(next) => format!("outside the maintenance windows; the next opens {next}"),
            None => "outside the maintenance windows; none is set".into(),
        },
        "inhibitor" => format!("{} blocks shutdown: {}", f("who"), f("why")),
        "sessions" => format!("{} people logged in ({})", f("count"), f("users")),
        "gpu-jobs" => format!("{} GPU jobs running (pids {})", f("count"), f("pids")),
        "busy-command" => format!(
            "{} says the machine is busy ({})",
            f("command"),
            f("status")
        ),
        "overdue" => format!(
            "a staged version has waited {} hours for a restart (more than {})",
            f("hours"),
            f("max")
        ),
        "rollout-wave" => format!(
            "the rollout of {} has reached {}% of the machines; this one's turn comes at {}%",
            f("version"),
            f("share"),
            f("bucket")
        ),
        "rollout-paused" => format!("an administrator paused the rollout of {}", f("version")),
        "rollout-halted" => format!(
            "the rollout of {} stopped: {} of the {} machines that started it reported a failure",
            f("version"),
            f("failures"),
            f("started")
        ),
        "no-slot" => format!(
            "every restart slot of group {} is taken by machines restarting now",
            f("group")
        ),
        "fleet-unreachable" => format!(
            "the fleet's servers cannot be reached ({}); no restart without a slot",
            f("servers")
        ),
        "no-machine-id" => {
            "the machine has no machine id yet, so it has no name in its fleet".into()
        }
        other => other.to_string(),
    }
}

/// The fields each kind has (docs/policies.md); `outside-window` has no `next` when no window
/// is set. Every client message says each of them.
pub const FIELDS: [(&str, &[&str]); 17] = [
    ("metered", &["guess"]),
    ("battery", &["percent", "min"]),
    ("captive-portal", &[]),
    ("offline", &[]),
    ("manual-restart", &[]),
    ("outside-window", &["next"]),
    ("inhibitor", &["who", "why", "pid"]),
    ("sessions", &["count", "users"]),
    ("gpu-jobs", &["count", "pids"]),
    ("busy-command", &["command", "status"]),
    ("overdue", &["hours", "max", "since"]),
    ("rollout-wave", &["version", "share", "bucket"]),
    ("rollout-paused", &["version"]),
    ("rollout-halted", &["version", "failures", "started"]),
    ("no-slot", &["group"]),
    ("fleet-unreachable", &["servers"]),
    ("no-machine-id", &[]),
];

/// Kinds that hold only an automatic download: a person's own download goes past them (the
/// window's and the tray's "Download anyway"). `offline` is not one: nothing would come.
pub const OVERRIDABLE: [&str; 3] = ["metered", "battery", "captive-portal"];

/// Whether `reasons` hold an automatic download that a person's own would go past: one of
/// [`OVERRIDABLE`], and no network missing.
pub fn download_overridable(reasons: &[WaitReason]) -> bool {
    reasons
        .iter()
        .any(|(kind, _)| OVERRIDABLE.contains(&kind.as_str()))
        && !reasons.iter().any(|(kind, _)| kind == "offline")
}

/// Fields that are counts: Fluent gets them as numbers, for its plural forms.
#[cfg(feature = "l10n")]
const NUMBERS: [&str; 9] = [
    "count", "percent", "min", "hours", "max", "share", "bucket", "failures", "started",
];

/// One reason in the person's language (Fluent's `waiting-KIND`, with the fields as its
/// arguments; times in the local time zone). A kind this client has no message for is given
/// in the helper's English ([`describe`]).
#[cfg(feature = "l10n")]
pub fn say(kind: &str, fields: &HashMap<String, String>) -> String {
    say_at(kind, fields, chrono::Local::now())
}

/// [`say`] at `now` (which says "today" and "tomorrow").
#[cfg(feature = "l10n")]
pub fn say_at(
    kind: &str,
    fields: &HashMap<String, String>,
    now: chrono::DateTime<chrono::Local>,
) -> String {
    use crate::l10n::{FluentArgs, FluentValue, has_message, translate};
    let id = format!("waiting-{kind}");
    if !has_message(&id) {
        return describe(kind, fields);
    }
    let mut args = FluentArgs::new();
    for (name, value) in fields {
        let value = match name.as_str() {
            "next" | "since" => FluentValue::from(time(value, now)),
            n if NUMBERS.contains(&n) => match value.parse::<f64>() {
                Ok(number) => FluentValue::from(number),
                Err(_) => FluentValue::from(value.clone()),
            },
            _ => FluentValue::from(value.clone()),
        };
        args.set(name.clone(), value);
    }
    // Whether a maintenance window is set at all (no `next` then).
    if kind == "outside-window" {
        args.set(
            "set",
            if fields.contains_key("next") {
                "yes"
            } else {
                "no"
            },
        );
    }
    translate(&id, Some(&args))
}

/// Every reason in the person's language, one line each.
#[cfg(feature = "l10n")]
pub fn lines(reasons: &[WaitReason]) -> Vec<String> {
    reasons
        .iter()
        .map(|(kind, fields)| say(kind, fields))
        .collect()
}

/// An RFC 3339 time in the local time zone, said as people say it (`waiting-time`: today,
/// tomorrow, a weekday within the week, else the date); text that is no time as it is.
#[cfg(feature = "l10n")]
fn time(text: &str, now: chrono::DateTime<chrono::Local>) -> String {
    use crate::l10n::{FluentArgs, translate};
    use chrono::{Datelike, Timelike};
    let Ok(at) = chrono::DateTime::parse_from_rfc3339(text) else {
        return text.to_string();
    };
    let at = at.with_timezone(&now.timezone());
    let days = (at.date_naive() - now.date_naive()).num_days();
    let when = match days {
        0 => "today",
        1 => "tomorrow",
        -1 => "yesterday",
        -6..=6 => "week",
        _ => "other",
    };
    let weekday = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        [at.weekday().num_days_from_monday() as usize];
    let mut args = FluentArgs::new();
    args.set("when", when);
    args.set("weekday", weekday);
    args.set("time", format!("{:02}:{:02}", at.hour(), at.minute()));
    args.set("day", at.day().to_string());
    args.set("month", at.month().to_string());
    args.set("year", at.year().to_string());
    translate("waiting-time", Some(&args))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_as_its_own_line() {
        let fields: HashMap<String, String> = [
            ("count", "2"),
            ("pids", "1, 2"),
            ("percent", "12"),
            ("min", "30"),
            ("next", "2026-12-05T01:00:00Z"),
            ("who", "backup"),
            ("why", "copying"),
            ("users", "ana"),
            ("command", "/usr/local/bin/busy"),
            ("status", "exit status 1"),
            ("hours", "80"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let lines: Vec<String> = KINDS.iter().map(|k| describe(k, &fields)).collect();
        for (kind, line) in KINDS.iter().zip(&lines) {
            assert_ne!(line, kind, "{kind} has no line");
        }
        let distinct: std::collections::BTreeSet<&String> = lines.iter().collect();
        assert_eq!(distinct.len(), KINDS.len());
        assert_eq!(
            describe("gpu-jobs", &fields),
            "2 GPU jobs running (pids 1, 2)"
        );
        assert_eq!(describe("new-kind", &fields), "new-kind");
    }

    fn fields(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_person_can_go_past_metered_battery_and_portal_but_not_offline() {
        let reason = |kind: &str| (kind.to_string(), HashMap::new());
        assert!(download_overridable(&[
            reason("metered"),
            reason("battery")
        ]));
        assert!(!download_overridable(&[
            reason("offline"),
            reason("metered")
        ]));
        assert!(download_overridable(&[reason("battery")]));
        assert!(!download_overridable(&[reason("offline")]));
        assert!(!download_overridable(&[reason("manual-restart")]));
        assert!(!download_overridable(&[]));
    }

    /// In English (the tests run without a locale in the environment).
    #[cfg(feature = "l10n")]
    #[test]
    fn every_kind_is_said_through_fluent_with_its_fields_and_local_times() {
        use chrono::TimeZone;
        let now = chrono::Utc
            .with_ymd_and_hms(2026, 12, 2, 10, 0, 0)
            .single()
            .expect("time")
            .with_timezone(&chrono::Local);
        let local = |hours: i64| {
            let at = now + chrono::Duration::hours(hours);
            (
                at.with_timezone(&chrono::Utc)
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                at.format("%H:%M").to_string(),
            )
        };
        let (tomorrow, tomorrow_time) = local(24);
        assert_eq!(
            say_at("outside-window", &fields(&[("next", &tomorrow)]), now),
            format!("the next maintenance window, tomorrow at {tomorrow_time}")
        );
        let (today, today_time) = local(0);
        assert!(
            say_at("outside-window", &fields(&[("next", &today)]), now)
                .ends_with(&format!("today at {today_time}"))
        );
        assert_eq!(
            say_at("outside-window", &HashMap::new(), now),
            "a maintenance window (none is set)"
        );
        // Within the week: the weekday; further: the date.
        let (later, _) = local(24 * 3);
        let day = (now + chrono::Duration::hours(72)).format("%A").to_string();
        assert!(
            say_at("outside-window", &fields(&[("next", &later)]), now).contains(&day),
            "{day}"
        );
        let (long_ago, _) = local(-24 * 20);
        let overdue = say_at(
            "overdue",
            &fields(&[("hours", "480"), ("max", "72"), ("since", &long_ago)]),
            now,
        );
        let date = (now - chrono::Duration::hours(24 * 20))
            .format("%-m/%-d/%Y")
            .to_string();
        assert!(
            overdue.contains("480 hours") && overdue.contains("72") && overdue.contains(&date),
            "{overdue}"
        );
        assert_eq!(
            say_at(
                "sessions",
                &fields(&[("count", "1"), ("users", "ana")]),
                now
            ),
            "one person to log out (ana)"
        );
        assert_eq!(
            say_at(
                "gpu-jobs",
                &fields(&[("count", "2"), ("pids", "1, 2")]),
                now
            ),
            "2 GPU jobs to end (processes 1, 2)"
        );
        assert_eq!(
            say_at("metered", &fields(&[("guess", "yes")]), now),
            "a connection that is not metered (this one probably is)"
        );
        // A kind this client does not know: the helper's kind as it is.
        assert_eq!(say_at("new-kind", &HashMap::new(), now), "new-kind");
        // Every kind has its own line, none the English of `describe`.
        for kind in KINDS {
            let line = say_at(kind, &fields(&[("count", "2")]), now);
            assert_ne!(line, describe(kind, &fields(&[("count", "2")])), "{kind}");
        }
        assert_eq!(
            lines(&[("offline".into(), HashMap::new())]),
            ["a network connection"]
        );
    }
}
