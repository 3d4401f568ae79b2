//! Timeline math: a [`ScheduleSpec`] compiles to a [`CompiledSpec`] that computes the exact
//! times at which Temporal's server would act. Pure: no clock, no I/O, no schedules.
//!
//! Modules: `civil` (integer calendar arithmetic), `calendar` (bitmask calendars and their
//! search), `cron` and `duration` (Temporal's cron dialect), `zone` (offset stretches per IANA
//! zone), `jitter` (Temporal's hash), `compiled` (validation and `GetNextTime`);
//! `standard_cron` is the other dialect, cron jobs' (robfig's parser, the server's next-run rule).

mod calendar;
mod civil;
mod compiled;
mod cron;
mod duration;
mod error;
mod jitter;
mod standard_cron;
mod types;
mod zone;

pub use compiled::CompiledSpec;
pub use error::SpecError;
pub use standard_cron::{StandardCron, StandardCronError, StandardCronRun};
pub use types::{
    ScheduleCalendarSpec, ScheduleIntervalSpec, ScheduleRange, ScheduleSpec, ScheduledTime,
};
