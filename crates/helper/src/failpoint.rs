//! Fail points for crash tests: with the `failpoints` feature (development builds only) and
//! `UPDATE_CENTER_FAILPOINT=NAME[:N]`, the process aborts at the N-th (default first) pass
//! through the named point, as abruptly as a power cut. Release builds compile this to nothing.

/// Aborts here when the environment asks for it (see the module documentation).
#[cfg(feature = "failpoints")]
pub fn hit(name: &str) {
    use std::sync::atomic::{AtomicU64, Ordering};
    static PASSES: AtomicU64 = AtomicU64::new(0);
    let Ok(wanted) = std::env::var("UPDATE_CENTER_FAILPOINT") else {
        return;
    };
    let (point, nth) = match wanted.split_once(':') {
        Some((p, n)) => (p.to_string(), n.parse::<u64>().unwrap_or(1)),
        None => (wanted, 1),
    };
    if point == name && PASSES.fetch_add(1, Ordering::SeqCst) + 1 == nth {
        std::process::abort();
    }
}

/// Release builds: no fail points.
#[cfg(not(feature = "failpoints"))]
#[inline(always)]
pub fn hit(_name: &str) {}

/// Every fail point, for the crash tests.
pub const ALL: [&str; 7] = [
    "before-removal",
    "after-removing-a-file",
    "during-download",
    "after-download",
    "after-intent",
    "after-rename",
    "before-intent-removal",
];

/// The time now. Development builds (the `failpoints` feature) read an injected time from
/// `UPDATE_CENTER_NOW` (RFC 3339), so that tests can stand at any moment of a maintenance
/// window; release builds always read the clock.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    #[cfg(feature = "failpoints")]
    if let Some(now) = std::env::var("UPDATE_CENTER_NOW")
        .ok()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
    {
        return now.with_timezone(&chrono::Utc);
    }
    chrono::Utc::now()
}
