//! Maintenance windows: the times of the week when the helper may restart the system on its
//! own, as administrators know them from zincati's `periodic` strategy and from kured.
//!
//! A window is a set of weekdays, a start time, a length and a time zone, written on one line:
//!
//! ```text
//! Sat,Sun 02:00 3h Europe/Berlin
//! Mon..Fri 23:30 2h UTC
//! * 04:00 90min America/New_York
//! ```
//!
//! - Days: `Mon Tue Wed Thu Fri Sat Sun` (full English names work too, in any case), lists
//!   (`Sat,Sun`), ranges (`Mon..Fri`; a range may wrap round the week, `Fri..Mon`), or `*` for
//!   every day.
//! - Start: `HH:MM` (or `HH:MM:SS`), local wall-clock time in the window's time zone.
//! - Length: minutes (`90`), or a sum of `d`, `h` and `min` (or `m`) parts (`3h`, `90min`,
//!   `1h30min`); more than zero and at most 7 days.
//! - Time zone: an IANA name such as `UTC`, `Europe/Berlin` or `America/New_York`. The zone
//!   database is built into the program, so a system without `/usr/share/zoneinfo` reads the
//!   same windows.
//!
//! systemd-logind's `DesignatedMaintenanceTime=` can be read as a window too
//! ([`Window::from_logind`]): it names only a start, so the caller gives the length.
//!
//! # How a window is placed in time
//!
//! - A window is open from its start up to, not including, its end.
//! - A window that crosses midnight belongs to the day it starts on: `Fri 23:00 2h` is open on
//!   Saturday at 00:30, and `Sat 23:00 2h` is not.
//! - The start is local wall-clock time in the window's zone, so `02:00` stays 02:00 on the
//!   clock when daylight saving time begins or ends.
//! - When the start time does not exist that day (the clocks jump over it in spring, as 02:30
//!   on the last Sunday of March in Europe/Berlin), the window starts at the first moment after
//!   the jump (03:00 there).
//! - When the start time happens twice (the clocks go back in autumn, as 02:30 on the last
//!   Sunday of October in Europe/Berlin), the window starts at the first of the two.
//! - The length is real elapsed time: a 3-hour window is open for 3 hours even when the clocks
//!   change inside it, so on the wall clock it may end an hour earlier or later than usual.
//! - An empty list of windows is never open.
//! - Windows may overlap or touch; [`Windows::current_end`] then gives the end of the whole
//!   stretch during which some window stays open.

use chrono::{
    DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone,
    Timelike, Utc, Weekday,
};
use chrono_tz::Tz;
use std::fmt;

/// The longest window, in minutes (7 days): a longer one would overlap itself.
pub const MAX_LENGTH_MINUTES: i64 = 7 * 24 * 60;

/// The weekdays in order, Monday first, with the names a window is written with.
const DAYS: [(Weekday, &str, &str); 7] = [
    (Weekday::Mon, "Mon", "Monday"),
    (Weekday::Tue, "Tue", "Tuesday"),
    (Weekday::Wed, "Wed", "Wednesday"),
    (Weekday::Thu, "Thu", "Thursday"),
    (Weekday::Fri, "Fri", "Friday"),
    (Weekday::Sat, "Sat", "Saturday"),
    (Weekday::Sun, "Sun", "Sunday"),
];

/// Every day of the week, as a set of bits (bit 0 is Monday).
const ALL_DAYS: u8 = 0b111_1111;

/// How far back the days are looked at for a window that is open now: the longest window,
/// plus a day for the time-zone offset and a clock change.
const LOOK_BACK_DAYS: i64 = MAX_LENGTH_MINUTES / (24 * 60) + 1;

/// How far ahead the days are looked at: a window opens at least once a week, so two weeks
/// find the next start and let overlapping windows chain for a while.
const LOOK_AHEAD_DAYS: i64 = 15;

/// The longest jump of the clocks searched for a start time that does not exist (the largest
/// jump ever made, Samoa's in 2011, skipped one day).
const MAX_GAP_MINUTES: i64 = 48 * 60;

/// Why a window could not be read or made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    /// The line was empty.
    #[error(
        "a maintenance window is empty: write days, a start time, a length and a time zone, \
         e.g. \"Sat,Sun 02:00 3h Europe/Berlin\""
    )]
    Empty,
    /// The line stops before one of the four parts.
    #[error(
        "the maintenance window \"{line}\" has no {part}: write days, a start time, a length \
         and a time zone, e.g. \"Sat,Sun 02:00 3h Europe/Berlin\""
    )]
    MissingPart {
        /// The part that is missing, e.g. `time zone`.
        part: &'static str,
        /// The whole line as given.
        line: String,
    },
    /// Something follows the time zone.
    #[error(
        "the maintenance window \"{line}\" has \"{extra}\" after its time zone: a window is \
         days, a start time, a length and a time zone"
    )]
    ExtraText {
        /// What follows.
        extra: String,
        /// The whole line as given.
        line: String,
    },
    /// A day name is not one this knows, or a list of days has an empty entry.
    #[error(
        "unknown day \"{day}\": write Mon, Tue, Wed, Thu, Fri, Sat or Sun, a list such as \
         Sat,Sun, a range such as Mon..Fri, or * for every day"
    )]
    UnknownDay {
        /// The day as written.
        day: String,
    },
    /// A window was made with no days at all.
    #[error("a maintenance window needs at least one day")]
    NoDays,
    /// The start time is not a time of day.
    #[error("start time \"{time}\" is not a time of day: write HH:MM, from 00:00 to 23:59")]
    BadTime {
        /// The time as written.
        time: String,
    },
    /// The length is not a duration.
    #[error(
        "length \"{length}\" is not a duration: write minutes (90), hours (3h) or both \
         (1h30min)"
    )]
    BadLength {
        /// The length as written.
        length: String,
    },
    /// The length is zero or longer than a week.
    #[error("length {minutes} minutes is out of range: a window lasts from 1 minute to 7 days")]
    LengthOutOfRange {
        /// The length, in whole minutes.
        minutes: i64,
    },
    /// The time zone is not in the zone database.
    #[error(
        "unknown time zone \"{zone}\": write an IANA name such as UTC, Europe/Berlin or \
         America/New_York (names are case-sensitive)"
    )]
    UnknownZone {
        /// The zone as written.
        zone: String,
    },
    /// A `DesignatedMaintenanceTime=` value uses calendar syntax that is not read here.
    #[error(
        "DesignatedMaintenanceTime=\"{value}\" cannot be used as a maintenance window: only \
         daily, weekly, a time (04:00), days and a time (Sat 02:00, Mon..Fri 03:00) and \
         *-*-* 04:00 are understood"
    )]
    UnsupportedCalendar {
        /// The value as written.
        value: String,
    },
}

/// One maintenance window: on some weekdays, from a local start time, for a length of time,
/// in a time zone. See the module documentation for how it is placed around clock changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The days it opens on, one bit each, bit 0 for Monday.
    days: u8,
    start: NaiveTime,
    length: TimeDelta,
    zone: Tz,
}

/// One time a window is open, in UTC: from `start` up to, not including, `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Opening {
    /// The first moment the window is open.
    pub start: DateTime<Utc>,
    /// The first moment it is closed again.
    pub end: DateTime<Utc>,
}

impl Opening {
    /// Whether `now` falls inside this opening.
    pub fn contains(&self, now: DateTime<Utc>) -> bool {
        self.start <= now && now < self.end
    }
}

impl Window {
    /// Makes a window from its parts. The length counts in whole minutes (seconds are
    /// dropped). Fails when `days` is empty or `length` is not between 1 minute and 7 days.
    pub fn new(
        days: &[Weekday],
        start: NaiveTime,
        length: TimeDelta,
        zone: Tz,
    ) -> Result<Self, WindowError> {
        let bits = days.iter().fold(0u8, |bits, day| bits | day_bit(*day));
        if bits == 0 {
            return Err(WindowError::NoDays);
        }
        let minutes = length.num_minutes();
        if !(1..=MAX_LENGTH_MINUTES).contains(&minutes) {
            return Err(WindowError::LengthOutOfRange { minutes });
        }
        Ok(Self {
            days: bits,
            start,
            length: TimeDelta::minutes(minutes),
            zone,
        })
    }

    /// Reads a window written on one line: days, start time, length and time zone, separated
    /// by spaces, e.g. `Sat,Sun 02:00 3h Europe/Berlin` or `Mon..Fri 23:30 2h UTC`.
    pub fn parse(line: &str) -> Result<Self, WindowError> {
        let mut parts = line.split_whitespace();
        let days = parts.next().ok_or(WindowError::Empty)?;
        let mut next = |part: &'static str| {
            parts.next().ok_or_else(|| WindowError::MissingPart {
                part,
                line: line.trim().to_string(),
            })
        };
        let start = next("start time")?;
        let length = next("length")?;
        let zone = next("time zone")?;
        let extra: Vec<&str> = parts.collect();
        if !extra.is_empty() {
            return Err(WindowError::ExtraText {
                extra: extra.join(" "),
                line: line.trim().to_string(),
            });
        }
        let days = parse_days(days, true)?;
        let start = parse_time(start)?;
        let length = parse_length(length)?;
        let zone = parse_zone(zone)?;
        Self::new(&days, start, length, zone)
    }

    /// Reads systemd-logind's `DesignatedMaintenanceTime=` (see logind.conf(5)) as a window
    /// that opens at the time it names and stays open for `length`. The time is in `zone`
    /// (logind uses the system's local time zone), unless the value ends with a zone of its
    /// own (`Sat 02:00 Europe/Berlin`).
    ///
    /// Only the simple forms of systemd's calendar syntax are understood: `daily` (every day
    /// at 00:00), `weekly` (Monday at 00:00), a time (`04:00`), days and a time (`Sat 02:00`,
    /// `Mon..Fri 03:00`), and the same with the date written as `*-*-*` (`*-*-* 04:00`,
    /// `Sat *-*-* 02:00`). Anything else (`monthly`, dates, repetitions such as `*:0/15`) is an
    /// [`WindowError::UnsupportedCalendar`] error.
    pub fn from_logind(value: &str, length: TimeDelta, zone: Tz) -> Result<Self, WindowError> {
        let unsupported = || WindowError::UnsupportedCalendar {
            value: value.trim().to_string(),
        };
        let midnight = NaiveTime::MIN;
        let mut parts: Vec<&str> = value.split_whitespace().collect();
        match parts.as_slice() {
            [] => return Err(unsupported()),
            [word] if word.eq_ignore_ascii_case("daily") => {
                let every: Vec<Weekday> = DAYS.iter().map(|(day, _, _)| *day).collect();
                return Self::new(&every, midnight, length, zone);
            }
            [word] if word.eq_ignore_ascii_case("weekly") => {
                return Self::new(&[Weekday::Mon], midnight, length, zone);
            }
            _ => {}
        }
        // A trailing time zone, as systemd's calendar syntax allows.
        let mut zone = zone;
        if let Some(last) = parts.last()
            && let Ok(named) = last.parse::<Tz>()
        {
            zone = named;
            parts.pop();
        }
        let (days, rest) = match parts.split_first() {
            Some((first, rest)) if first.starts_with(|c: char| c.is_ascii_alphabetic()) => {
                (parse_days(first, false).map_err(|_| unsupported())?, rest)
            }
            _ => (
                DAYS.iter().map(|(day, _, _)| *day).collect(),
                parts.as_slice(),
            ),
        };
        let time = match rest {
            [date, time] if *date == "*-*-*" => time,
            [time] => time,
            _ => return Err(unsupported()),
        };
        let start = parse_time(time).map_err(|_| unsupported())?;
        Self::new(&days, start, length, zone)
    }

    /// The days the window opens on, Monday first.
    pub fn days(&self) -> Vec<Weekday> {
        DAYS.iter()
            .map(|(day, _, _)| *day)
            .filter(|day| self.days & day_bit(*day) != 0)
            .collect()
    }

    /// The local wall-clock time it opens at.
    pub fn start(&self) -> NaiveTime {
        self.start
    }

    /// How long it stays open, in real elapsed time.
    pub fn length(&self) -> TimeDelta {
        self.length
    }

    /// The time zone its start time is in.
    pub fn zone(&self) -> Tz {
        self.zone
    }

    /// The opening that starts on the local calendar day `date` (in the window's zone), or
    /// `None` when the window does not open on that weekday.
    pub fn opening_on(&self, date: NaiveDate) -> Option<Opening> {
        if self.days & day_bit(date.weekday()) == 0 {
            return None;
        }
        let start = resolve_local(self.zone, date.and_time(self.start))?;
        Some(Opening {
            start,
            end: start + self.length,
        })
    }

    /// The openings that start on the local days from `LOOK_BACK_DAYS` before `now` to
    /// `LOOK_AHEAD_DAYS` after it.
    fn openings_around(&self, now: DateTime<Utc>) -> impl Iterator<Item = Opening> + '_ {
        let today = now.with_timezone(&self.zone).date_naive();
        (-LOOK_BACK_DAYS..=LOOK_AHEAD_DAYS)
            .filter_map(move |offset| today.checked_add_signed(TimeDelta::days(offset)))
            .filter_map(|date| self.opening_on(date))
    }
}

/// Written back in the form [`Window::parse`] reads: `Sat,Sun 02:00 3h Europe/Berlin`.
impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.days == ALL_DAYS {
            f.write_str("*")?;
        } else {
            let names: Vec<&str> = DAYS
                .iter()
                .filter(|(day, _, _)| self.days & day_bit(*day) != 0)
                .map(|(_, name, _)| *name)
                .collect();
            f.write_str(&names.join(","))?;
        }
        write!(f, " {:02}:{:02}", self.start.hour(), self.start.minute())?;
        if self.start.second() != 0 {
            write!(f, ":{:02}", self.start.second())?;
        }
        let minutes = self.length.num_minutes();
        let (hours, rest) = (minutes / 60, minutes % 60);
        match (hours, rest) {
            (0, m) => write!(f, " {m}min")?,
            (h, 0) => write!(f, " {h}h")?,
            (h, m) => write!(f, " {h}h{m}min")?,
        }
        write!(f, " {}", self.zone.name())
    }
}

/// A list of maintenance windows. Some window being open is enough; an empty list is never
/// open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Windows(Vec<Window>);

impl Windows {
    /// The given windows.
    pub fn new(windows: Vec<Window>) -> Self {
        Self(windows)
    }

    /// No windows at all: never open.
    pub fn never() -> Self {
        Self::default()
    }

    /// Whether there are no windows (and so never an open one).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The windows, in the order given.
    pub fn as_slice(&self) -> &[Window] {
        &self.0
    }

    /// Whether some window is open at `now`.
    pub fn contains(&self, now: DateTime<Utc>) -> bool {
        self.openings(now).iter().any(|o| o.contains(now))
    }

    /// The next moment a window opens: `now` itself when one is open already, `None` when the
    /// list is empty.
    pub fn next_start(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let openings = self.openings(now);
        if openings.iter().any(|o| o.contains(now)) {
            return Some(now);
        }
        openings.iter().map(|o| o.start).filter(|s| *s > now).min()
    }

    /// When the open window closes: the end of the whole stretch of overlapping or touching
    /// windows that is open at `now`, or `None` when none is open. Windows that never close
    /// (`* 00:00 24h`) give an end at least two weeks away.
    pub fn current_end(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let openings = self.openings(now);
        let mut end = openings
            .iter()
            .filter(|o| o.contains(now))
            .map(|o| o.end)
            .max()?;
        // Sorted by start: each opening that starts before the stretch ends extends it.
        for opening in &openings {
            if opening.start > end {
                break;
            }
            end = end.max(opening.end);
        }
        Some(end)
    }

    /// Every window's openings around `now`, sorted by start.
    fn openings(&self, now: DateTime<Utc>) -> Vec<Opening> {
        let mut openings: Vec<Opening> =
            self.0.iter().flat_map(|w| w.openings_around(now)).collect();
        openings.sort();
        openings
    }
}

impl From<Vec<Window>> for Windows {
    fn from(windows: Vec<Window>) -> Self {
        Self(windows)
    }
}

impl FromIterator<Window> for Windows {
    fn from_iter<I: IntoIterator<Item = Window>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

fn day_bit(day: Weekday) -> u8 {
    1 << day.num_days_from_monday()
}

/// A local wall-clock time in `zone` as a moment: the first of two when the clocks go back,
/// the first moment after the jump when the clocks jump over it.
fn resolve_local(zone: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(a, b) => Some(a.min(b).with_timezone(&Utc)),
        LocalResult::None => {
            // Clocks change on whole minutes: the first minute that exists after the start is
            // where the jump lands.
            let minute = local.with_second(0)?.with_nanosecond(0)?;
            (1..=MAX_GAP_MINUTES).find_map(|m| {
                zone.from_local_datetime(&(minute + TimeDelta::minutes(m)))
                    .earliest()
                    .map(|t| t.with_timezone(&Utc))
            })
        }
    }
}

/// `Sat,Sun`, `Mon..Fri`, `*` (when `star` allows it): the days, Monday first.
fn parse_days(text: &str, star: bool) -> Result<Vec<Weekday>, WindowError> {
    if star && text == "*" {
        return Ok(DAYS.iter().map(|(day, _, _)| *day).collect());
    }
    let mut bits = 0u8;
    for item in text.split(',') {
        if let Some((from, to)) = item.split_once("..") {
            let (from, to) = (day_index(from)?, day_index(to)?);
            let mut i = from;
            loop {
                bits |= 1 << i;
                if i == to {
                    break;
                }
                i = (i + 1) % 7;
            }
        } else {
            bits |= 1 << day_index(item)?;
        }
    }
    Ok(DAYS
        .iter()
        .map(|(day, _, _)| *day)
        .filter(|day| bits & day_bit(*day) != 0)
        .collect())
}

/// A day's place in the week (0 for Monday), from its short or full English name.
fn day_index(name: &str) -> Result<u8, WindowError> {
    DAYS.iter()
        .zip(0u8..)
        .find(|((_, short, long), _)| {
            name.eq_ignore_ascii_case(short) || name.eq_ignore_ascii_case(long)
        })
        .map(|(_, i)| i)
        .ok_or_else(|| WindowError::UnknownDay {
            day: name.to_string(),
        })
}

/// `HH:MM` or `HH:MM:SS`, the hour with one or two digits, the rest with two.
fn parse_time(text: &str) -> Result<NaiveTime, WindowError> {
    let bad = || WindowError::BadTime {
        time: text.to_string(),
    };
    let fields: Vec<&str> = text.split(':').collect();
    let number = |field: &str, widths: &[usize]| -> Result<u32, WindowError> {
        if !widths.contains(&field.len()) || !field.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        field.parse().map_err(|_| bad())
    };
    let (hour, minute, second) = match fields.as_slice() {
        [h, m] => (number(h, &[1, 2])?, number(m, &[2])?, 0),
        [h, m, s] => (number(h, &[1, 2])?, number(m, &[2])?, number(s, &[2])?),
        _ => return Err(bad()),
    };
    NaiveTime::from_hms_opt(hour, minute, second).ok_or_else(bad)
}

/// `90` (minutes), `3h`, `90min`, `1h30min`, `1d`: the length, checked for its range.
fn parse_length(text: &str) -> Result<TimeDelta, WindowError> {
    let bad = || WindowError::BadLength {
        length: text.to_string(),
    };
    let minutes: i64 = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse().map_err(|_| bad())?
    } else {
        let mut total: i64 = 0;
        let mut rest = text;
        if rest.is_empty() {
            return Err(bad());
        }
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(bad());
            }
            let number: i64 = rest[..digits].parse().map_err(|_| bad())?;
            rest = &rest[digits..];
            let unit = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
            let per_unit = match &rest[..unit] {
                "d" => 24 * 60,
                "h" => 60,
                "min" | "m" => 1,
                _ => return Err(bad()),
            };
            rest = &rest[unit..];
            total = number
                .checked_mul(per_unit)
                .and_then(|m| total.checked_add(m))
                .ok_or_else(bad)?;
        }
        total
    };
    if !(1..=MAX_LENGTH_MINUTES).contains(&minutes) {
        return Err(WindowError::LengthOutOfRange { minutes });
    }
    Ok(TimeDelta::minutes(minutes))
}

fn parse_zone(text: &str) -> Result<Tz, WindowError> {
    text.parse().map_err(|_| WindowError::UnknownZone {
        zone: text.to_string(),
    })
}

#[cfg(test)]
mod tests;
