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
    /// Intervals: `offset + n * every` from [`interval_anchor`](Self::interval_anchor) (the
    /// Unix epoch by default, as in Temporal).
    pub intervals: Vec<ScheduleIntervalSpec>,
    /// Cron strings in Temporal's dialect (5, 6 or 7 fields, `@every`, `@daily`, `CRON_TZ=`...),
    /// plus the day rules Temporal lacks: `L`, `L-3`, `LW`, `15W` in day of month and `5L`,
    /// `1#3`, `FRI#2` in day of week (see [`ScheduleCalendarSpec`] for their meaning).
    ///
    /// Six fields end in the year (`minute hour day-of-month month day-of-week year`), not
    /// Quartz's seconds first: seconds need seven fields. Most seconds-first strings fail with a
    /// message giving the seven fields they mean, but those whose last field is `*` are valid
    /// both ways and read Temporal's way, as on the server: `0 0 9 * * *` is midnight on the
    /// 9th of each month, not 09:00 daily. `spec.compile()?.to_string()` says what a string
    /// means.
    ///
    /// ```
    /// use schedule_engine::ScheduleSpec;
    ///
    /// let spec = |cron: &str| ScheduleSpec { cron_expressions: vec![cron.into()], ..Default::default() };
    /// let e = spec("0 0 9 * * MON-FRI").compile().unwrap_err();
    /// assert!(e.message().ends_with(r#"for seconds first use 7 fields, second minute hour day-of-month month day-of-week year: "0 0 9 * * MON-FRI *""#));
    /// assert_eq!(spec("0 0 9 * * MON-FRI *").compile()?.to_string(), "at 09:00, Monday through Friday, in UTC");
    /// assert_eq!(spec("0 0 9 * * *").compile()?.to_string(), "at 00:00 on the 9th of the month, in UTC");
    /// # Ok::<(), schedule_engine::SpecError>(())
    /// ```
    pub cron_expressions: Vec<String>,
    /// Calendars whose matching times are skipped (matched to the second).
    pub skip: Vec<ScheduleCalendarSpec>,
    /// Inclusive lower bound on nominal times (at whole-second granularity).
    pub start_at: Option<DateTime<Utc>>,
    /// Inclusive upper bound on nominal times.
    pub end_at: Option<DateTime<Utc>>,
    /// Maximum deterministic delay added to each nominal time.
    #[serde(deserialize_with = "crate::spec::serde_duration::jitter")]
    pub jitter: Option<Duration>,
    /// IANA time zone for calendars, cron strings and skip calendars; `None` is UTC.
    pub time_zone_name: Option<String>,
    /// What calendars do with wall-clock times that do not exist or occur twice on a DST
    /// change; the default is Temporal's literal rule (skip them; fire both).
    pub dst: DstPolicy,
    /// Where intervals count from: the Unix epoch (default, as in Temporal), `start_at`, or a
    /// given instant. Applies to every interval of the spec, `@every` cron strings included.
    pub interval_anchor: IntervalAnchor,
}

/// A calendar: a time matches when every field contains its wall-clock value.
///
/// `Default` is Temporal's: second, minute and hour `[0]`, every day of month, month and day of
/// week, every year. An empty field other than `year` and `week_of_month` matches nothing; an
/// empty `year` or `week_of_month` matches every year or week. Day of month and day of week must
/// both match (no Vixie-cron OR rule).
///
/// Beyond Temporal, the day rules of Quartz and croner, each a cron token and its structured
/// form (a list of ranges is a union, fields combine with AND):
///
/// | cron | meaning | structured |
/// |---|---|---|
/// | `L` | the last day of the month | `day_of_month: [-1]` |
/// | `L-3` | three days before the last (28th of a 31-day month) | `day_of_month: [-4]` |
/// | `1,L` | the first and the last day | `day_of_month: [1, -1]` |
/// | `15W` | the weekday (Mon-Fri) nearest the 15th, in the same month | `day_of_month: [15]`, `nearest_weekday: true` |
/// | `LW` | the last weekday of the month | `day_of_month: [-1]`, `nearest_weekday: true` |
/// | `1#3`, `MON#3` | the third Monday | `day_of_week: [1]`, `week_of_month: [3]` |
/// | `5L` | the last Friday | `day_of_week: [5]`, `week_of_month: [-1]` |
/// | `2,4#3` | Tuesdays, and the third Thursday | two calendars: `{day_of_week: [2]}`, `{day_of_week: [4], week_of_month: [3]}` |
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use schedule_engine::{ScheduleCalendarSpec, ScheduleRange, ScheduleSpec};
///
/// // 18:00 on the last weekday of each month: "0 18 LW * *".
/// let last_weekday = ScheduleCalendarSpec {
///     hour: vec![ScheduleRange::single(18)],
///     day_of_month: vec![ScheduleRange::single(-1)],
///     nearest_weekday: true,
///     ..Default::default()
/// };
/// let spec = ScheduleSpec { calendars: vec![last_weekday], ..Default::default() }.compile()?;
/// let cron = ScheduleSpec { cron_expressions: vec!["0 18 LW * *".into()], ..Default::default() };
/// let after = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap();
/// // January 31, 2027 is a Sunday: the last weekday is Friday the 29th.
/// let next = spec.next_time(after).unwrap().nominal;
/// assert_eq!(next, Utc.with_ymd_and_hms(2027, 1, 29, 18, 0, 0).unwrap());
/// assert_eq!(cron.compile()?.next_time(after).unwrap().nominal, next);
/// # Ok::<(), schedule_engine::SpecError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScheduleCalendarSpec {
    /// Seconds, 0-59.
    pub second: Vec<ScheduleRange>,
    /// Minutes, 0-59.
    pub minute: Vec<ScheduleRange>,
    /// Hours, 0-23.
    pub hour: Vec<ScheduleRange>,
    /// Days of the month, 1-31, or counted from its end, -1 (the last day) to -31; a range is
    /// either all positive or all negative (`{start: -3, end: -1}` is the last three days).
    /// A day a month does not have never matches (the 31st of April, the -31st of February).
    pub day_of_month: Vec<ScheduleRange>,
    /// Months, 1-12.
    pub month: Vec<ScheduleRange>,
    /// Years, 2000-2100; empty means every year.
    pub year: Vec<ScheduleRange>,
    /// Days of the week, 0-6, 0 = Sunday.
    pub day_of_week: Vec<ScheduleRange>,
    /// Weeks of the month counted from its first day, 1 (days 1-7) to 5 (days 29-31), or from
    /// its last day, -1 (the last seven days) to -5; a range is either all positive or all
    /// negative. With `day_of_week`, week 3 is "the third Monday" and week -1 "the last
    /// Friday". Empty (the default) means every week.
    pub week_of_month: Vec<ScheduleRange>,
    /// When true, each day of `day_of_month` stands for the weekday (Monday to Friday) nearest
    /// to it within the same month, as Quartz's `W`: a Saturday moves to the Friday before
    /// (the 1st to Monday the 3rd), a Sunday to the Monday after (the last day to the Friday
    /// before).
    pub nearest_weekday: bool,
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
            week_of_month: Vec::new(),
            nearest_weekday: false,
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

/// Times `anchor + offset + n * every` for every integer `n`, in whole seconds, ignoring the
/// time zone; the anchor is the spec's [`interval_anchor`](ScheduleSpec::interval_anchor), the
/// Unix epoch unless set. Requires `every >= 1 s` and `offset < every`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ScheduleIntervalSpec {
    /// Period.
    #[serde(deserialize_with = "crate::spec::serde_duration::every")]
    pub every: Duration,
    /// Phase from the anchor (the Unix epoch unless the spec says otherwise).
    #[serde(deserialize_with = "crate::spec::serde_duration::offset")]
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

/// Where a spec's intervals count from.
///
/// Temporal counts every interval from the Unix epoch, so `@every 36h` fires at times that
/// depend on 1970, not on when the schedule began. An anchor makes the phase explicit:
///
/// ```
/// use std::time::Duration;
/// use chrono::{TimeZone, Utc};
/// use schedule_engine::{IntervalAnchor, ScheduleIntervalSpec, ScheduleSpec};
///
/// let start = Utc.with_ymd_and_hms(2026, 3, 2, 9, 30, 0).unwrap();
/// let spec = ScheduleSpec {
///     intervals: vec![ScheduleIntervalSpec::new(Duration::from_secs(36 * 3600))],
///     start_at: Some(start),
///     interval_anchor: IntervalAnchor::StartAt,
///     ..Default::default()
/// };
/// let times: Vec<_> = spec.compile()?.matching_times(start - chrono::Duration::seconds(1),
///     start + chrono::Duration::hours(72)).collect();
/// assert_eq!(times, [start, start + chrono::Duration::hours(36), start + chrono::Duration::hours(72)]);
/// # Ok::<(), schedule_engine::SpecError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub enum IntervalAnchor {
    /// 1970-01-01T00:00:00Z, as in Temporal.
    #[default]
    Epoch,
    /// The spec's `start_at` (which must then be set), at whole seconds.
    StartAt,
    /// This instant, at whole seconds.
    At(DateTime<Utc>),
}

/// What a spec's calendars and cron strings do when a DST change (or any change of a zone's
/// UTC offset) makes a wall-clock time not exist that day, or occur twice.
///
/// The default is Temporal's literal rule: a time that does not exist is skipped and one that
/// occurs twice fires twice. The policies apply to calendars that name their hours; a calendar
/// that fires in every hour (`*/15 * * * *`, hour `*`) measures elapsed time, so it keeps the
/// literal rule whatever the policy: its times in a gap are simply not there (the next one comes
/// on time) and its repeated hour fires again, never an hour of silence. Intervals ignore zones.
/// The crate docs draw the timelines ("Time zones and DST").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DstPolicy {
    /// A wall-clock time skipped by a spring-forward change.
    pub nonexistent: NonexistentTime,
    /// A wall-clock time repeated by a fall-back change.
    pub repeated: RepeatedTime,
}

/// What a calendar does with a wall-clock time that does not exist that day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub enum NonexistentTime {
    /// It does not fire that day (Temporal's rule).
    #[default]
    Skip,
    /// It fires once at the first instant after the gap, as Vixie cron does: `30 2 * * *` in
    /// New York fires at 03:00 EDT on the spring-forward day.
    RunAfterGap,
}

/// What a calendar does with a wall-clock time that occurs twice that day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub enum RepeatedTime {
    /// It fires at both instants, earlier first (Temporal's rule).
    #[default]
    Both,
    /// It fires at the first instant only.
    First,
}
