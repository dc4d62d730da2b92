//! The settings as a person sees and changes them: the effective retention, and which changes
//! a session user may make without an administrator.

use crate::layout::Layout;
use crate::ops::error::OpError;
use crate::settings::{self, KEYS, SESSION_KEYS};
use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;

/// The longest pause a session user may choose.
pub const SESSION_PAUSE_DAYS: i64 = 7;

/// Every setting by key; `Updates.InstancesMax` without an override shows the retention the
/// definitions set, and `Updates.InstancesMaxOverridden` says which it is.
pub fn settings_view(layout: &Layout) -> Result<BTreeMap<String, String>, OpError> {
    let mut map: BTreeMap<String, String> =
        settings::load(&layout.root)?.to_map().into_iter().collect();
    let overridden = map
        .get("Updates.InstancesMax")
        .is_some_and(|v| !v.is_empty());
    map.insert(
        "Updates.InstancesMaxOverridden".into(),
        if overridden { "yes" } else { "no" }.into(),
    );
    if !overridden
        && let Ok(state) = crate::read_system(layout)
        && let Some(n) = state
            .definitions
            .active()
            .map(|t| t.target.instances_max)
            .min()
    {
        map.insert("Updates.InstancesMax".into(), n.to_string());
    }
    Ok(map)
}

/// Whether a session user (not an administrator) may set `key` to `value`: pausing automatic
/// updates for up to a week, or ending a pause. A pause that is running is extended only by an
/// administrator, so that no session user can renew it week after week.
pub fn session_may_set(key: &str, value: &str, paused_now: bool, now: DateTime<Utc>) -> bool {
    if !SESSION_KEYS.contains(&key) {
        return false;
    }
    value.is_empty()
        || (!paused_now
            && DateTime::parse_from_rfc3339(value).is_ok_and(|until| {
                until.with_timezone(&Utc) <= now + Duration::days(SESSION_PAUSE_DAYS)
            }))
}

/// Whether automatic updates are paused now.
pub fn paused(layout: &Layout, now: DateTime<Utc>) -> bool {
    settings::load(&layout.root)
        .ok()
        .and_then(|s| s.paused_until)
        .is_some_and(|until| now < until)
}

/// Sets one setting (an empty value: back to its default).
pub fn set_setting(layout: &Layout, key: &str, value: &str) -> Result<(), OpError> {
    if !KEYS.contains(&key) {
        let shown: String = key.chars().take(40).collect();
        return Err(OpError::InvalidArgument(format!(
            "`{shown}` is not a setting; known: {}",
            KEYS.join(", ")
        )));
    }
    settings::set(&layout.root, key, value)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_user_may_pause_for_a_week_and_end_a_pause_only() {
        let now = DateTime::parse_from_rfc3339("2026-11-30T12:00:00Z")
            .expect("time")
            .with_timezone(&Utc);
        let key = "Updates.PausedUntil";
        assert!(SESSION_KEYS.contains(&key), "{SESSION_KEYS:?}");
        assert!(session_may_set(key, "2026-12-07T12:00:00Z", false, now));
        assert!(!session_may_set(key, "2026-12-07T12:00:01Z", false, now));
        assert!(
            !session_may_set(key, "2026-12-01T00:00:00Z", true, now),
            "no renewal"
        );
        assert!(session_may_set(key, "", true, now), "ending a pause");
        assert!(!session_may_set(key, "next week", false, now));
        assert!(!session_may_set("Updates.InstancesMax", "", false, now));
    }
}
