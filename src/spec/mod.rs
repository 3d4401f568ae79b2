//! Timeline math: a [`ScheduleSpec`] compiles to a [`CompiledSpec`] that computes the exact
//! times at which Temporal's server would act. Pure: no clock, no I/O, no schedules.
//!
//! Modules: `civil` (integer calendar arithmetic), `days` (which days of a month a calendar
//! allows, day rules included), `calendar` (bitmask calendars and their search), `structured`
//! (validating structured calendars), `cron`, `cron_field` and `duration` (Temporal's cron
//! dialect and the day rules beyond it), `zone` (offset stretches per IANA zone), `dst` (the
//! search under a DST policy), `interval` (interval arithmetic and anchors), `jitter`
//! (Temporal's hash), `compiled` (validation and
//! `GetNextTime`), `describe` (a spec in one line of English), `serde_duration` (every
//! `Duration` field of the crate read from config files: `600`, `"10m"`, serde's own form);
//! `standard_cron` is the other dialect, cron jobs' (robfig's parser, the server's next-run rule).

mod calendar;
pub(crate) mod civil;
mod compiled;
mod cron;
mod cron_field;
mod days;
mod describe;
mod dst;
mod duration;
mod error;
mod interval;
mod jitter;
pub(crate) mod serde_duration;
mod standard_cron;
mod structured;
mod types;
mod zone;

pub use compiled::CompiledSpec;
pub use error::SpecError;
pub use standard_cron::{StandardCron, StandardCronError, StandardCronRun};
pub use types::{
    DstPolicy, IntervalAnchor, NonexistentTime, RepeatedTime, ScheduleCalendarSpec,
    ScheduleIntervalSpec, ScheduleRange, ScheduleSpec, ScheduledTime,
};
