//! The user-facing description of when a schedule acts: [`ScheduleSpec`] and its parts.
//!
//! These are plain data (public fields, `Default`, serde). Nothing here is validated until
//! [`ScheduleSpec::compile`](crate::ScheduleSpec::compile) turns a spec into a
//! [`CompiledSpec`](crate::CompiledSpec).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// When a schedule acts: the union of its calendars, cron strings and intervals, minus the times
/// matched by `skip`, within `[start_at, end_at]`, each time delayed by a deterministic jitter.
///
/// Mirrors Temporal's `ScheduleSpec` (Python SDK names).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ScheduleSpec {
    /// Structured calendars; a time matches when every field of one calendar matches.
    pub calendars: Vec<ScheduleCalendarSpec>,
    /// Intervals aligned to the Unix epoch (never to `start_at`), with an offset.
    pub intervals: Vec<ScheduleIntervalSpec>,
    /// Cron strings in Temporal's dialect (5, 6 or 7 fields, `@every`, `@daily`, `CRON_TZ=`...).
    pub cron_expressions: Vec<String>,
    /// Calendars whose matching times are skipped (matched to the second).
    pub skip: Vec<ScheduleCalendarSpec>,
    /// Inclusive lower bound on nominal times (at whole-second granularity).
    pub start_at: Option<DateTime<Utc>>,
    /// Inclusive upper bound on nominal times.
    pub end_at: Option<DateTime<Utc>>,
    /// Maximum deterministic delay added to each nominal time.
    pub jitter: Option<Duration>,
    /// IANA time zone for calendars, cron strings and skip calendars; `None` is UTC.
    pub time_zone_name: Option<String>,
}

/// A calendar: a time matches when every field contains its wall-clock value.
///
/// `Default` is Temporal's: second, minute and hour `[0]`, every day of month, month and day of
/// week, every year. An empty field other than `year` matches nothing; an empty `year` matches
/// every year. Day of month and day of week must both match (no Vixie-cron OR rule).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScheduleCalendarSpec {
    /// Seconds, 0-59.
    pub second: Vec<ScheduleRange>,
    /// Minutes, 0-59.
    pub minute: Vec<ScheduleRange>,
    /// Hours, 0-23.
    pub hour: Vec<ScheduleRange>,
    /// Days of the month, 1-31.
    pub day_of_month: Vec<ScheduleRange>,
    /// Months, 1-12.
    pub month: Vec<ScheduleRange>,
    /// Years, 2000-2100; empty means every year.
    pub year: Vec<ScheduleRange>,
    /// Days of the week, 0-6, 0 = Sunday.
    pub day_of_week: Vec<ScheduleRange>,
    /// Free text, at most 200 bytes.
    pub comment: Option<String>,
}

impl Default for ScheduleCalendarSpec {
    fn default() -> Self {
        ScheduleCalendarSpec {
            second: vec![ScheduleRange::single(0)],
            minute: vec![ScheduleRange::single(0)],
            hour: vec![ScheduleRange::single(0)],
            day_of_month: vec![ScheduleRange::new(1, 31, 1)],
            month: vec![ScheduleRange::new(1, 12, 1)],
            year: Vec::new(),
            day_of_week: vec![ScheduleRange::new(0, 6, 1)],
            comment: None,
        }
    }
}

/// An inclusive range `start, start + step, ... <= end`.
///
/// Temporal's normalisation: `end == 0` means the single value `start`; `0 < end < start` is an
/// error; `step == 0` means 1; a negative step is an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ScheduleRange {
    /// First value.
    pub start: i32,
    /// Last value (inclusive); 0 means `start`.
    pub end: i32,
    /// Step; 0 means 1.
    pub step: i32,
}

impl ScheduleRange {
    /// A range `start..=end` stepping by `step`.
    pub fn new(start: i32, end: i32, step: i32) -> Self {
        ScheduleRange { start, end, step }
    }

    /// The single value `v`.
    pub fn single(v: i32) -> Self {
        ScheduleRange {
            start: v,
            end: v,
            step: 1,
        }
    }
}

/// Times `epoch + n * every + offset` for every integer `n`, in whole seconds, ignoring the time
/// zone. Requires `every >= 1 s` and `offset < every`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ScheduleIntervalSpec {
    /// Period.
    pub every: Duration,
    /// Phase from the Unix epoch.
    pub offset: Duration,
}

impl ScheduleIntervalSpec {
    /// An interval of `every` with no offset.
    pub fn new(every: Duration) -> Self {
        ScheduleIntervalSpec {
            every,
            offset: Duration::ZERO,
        }
    }

    /// An interval of `every` shifted by `offset` from the Unix epoch.
    pub fn with_offset(every: Duration, offset: Duration) -> Self {
        ScheduleIntervalSpec { every, offset }
    }
}

/// One time of a schedule's timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ScheduledTime {
    /// The time the spec matched (whole seconds); names the workflow run.
    pub nominal: DateTime<Utc>,
    /// `nominal` plus jitter: when the action is taken.
    pub actual: DateTime<Utc>,
}
