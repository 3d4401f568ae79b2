//! Cron jobs' dialect: robfig/cron v3's `ParseStandard`, and the Temporal server's rule for
//! when a cron job's next run starts (`GetBackoffForNextSchedule`).
//!
//! A cron job (`start_workflow` with a `cron_schedule`) is not a Schedule: the server reads
//! its string with robfig's standard parser and plans every run from the previous one. So it
//! speaks a different dialect from [`ScheduleSpec`](super::ScheduleSpec)'s cron strings:
//!
//! | | cron job (this module) | schedule |
//! |---|---|---|
//! | day of month and day of week both restricted | either matches (`0 0 13 * 5`: every Friday and every 13th) | both match (Friday the 13th) |
//! | `@every 1h` | an hour after the previous run's scheduled time | epoch multiples of an hour |
//! | fields | exactly five; `?` is `*`; day of week 0-6 | 5, 6 (year) or 7 (seconds first); 7 is Sunday; `#` comments |
//! | after a run closes | the first cron time not before the close, the wait rounded up to whole seconds | nominal times, never shifted |
//!
//! The rule, from the server's `common/backoff/cron.go` and its callers: a run has a
//! *scheduled time* (its start plus its first-task backoff). The first run is started at
//! `now` with scheduled time `now`; when a run closes (completed, failed or timed out) at
//! `now`, the next cron time after the run's scheduled time is taken, and the one after that,
//! until one is not before `now`; the new run waits from `now` for that time, rounded **up** to
//! whole seconds, and its scheduled time is `now` plus that wait. Canceled or terminated runs
//! end the chain. Invariants: every function is total (bad input is an error, never a panic)
//! and pure.

mod go_duration;
mod go_time;
mod next;
mod parse;

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};

use go_time::Zone;

/// What a parsed schedule is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Five cron fields (robfig's `SpecSchedule`).
    Fields(parse::Fields),
    /// `@every d`: whole seconds, at least one (robfig's `ConstantDelaySchedule`).
    Every { seconds: i64 },
}

/// A cron job's schedule in robfig/cron v3's standard dialect, as the Temporal server reads a
/// `cron_schedule`.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use schedule_engine::standard_cron::StandardCron;
///
/// // Day of month and day of week both restricted: either matches (Vixie cron's rule).
/// let cron = StandardCron::parse("0 0 13 * 5")?;
/// let after = Utc.with_ymd_and_hms(2026, 12, 3, 10, 0, 0).unwrap(); // a Thursday
/// assert_eq!(cron.next(after), Some(Utc.with_ymd_and_hms(2026, 12, 4, 0, 0, 0).unwrap()));
///
/// // `@every` counts from the time it is given, not from the epoch.
/// let every = StandardCron::parse("@every 1h")?;
/// let start = Utc.with_ymd_and_hms(2026, 12, 3, 10, 23, 0).unwrap();
/// assert_eq!(every.next(start), Some(Utc.with_ymd_and_hms(2026, 12, 3, 11, 23, 0).unwrap()));
/// # Ok::<(), schedule_engine::standard_cron::StandardCronError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandardCron {
    kind: Kind,
    zone: Zone,
}

/// Why robfig's parser (and so the Temporal server) rejects a cron job's schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandardCronError {
    message: String,
}

impl StandardCronError {
    /// What is wrong, in robfig's terms (e.g. `end of range (7) above maximum (6): 7 (day of
    /// week)`).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for StandardCronError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for StandardCronError {}

/// When a cron job's next run starts, as the server plans it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StandardCronRun {
    /// The cron time the run is for (robfig's `Next`).
    pub cron_time: DateTime<Utc>,
    /// The wait from `now` until the run's first workflow task (the server's
    /// `first_workflow_task_backoff`): whole seconds, rounded up.
    pub backoff: Duration,
}

impl StandardCron {
    /// Parses a schedule as robfig's `ParseStandard` does.
    pub fn parse(text: &str) -> Result<StandardCron, StandardCronError> {
        parse::parse(text)
            .map(|(kind, zone)| StandardCron { kind, zone })
            .map_err(|message| StandardCronError { message })
    }

    /// robfig's `Next`: the first time of the schedule strictly after `after` (in whole
    /// seconds: a fraction of `after` is dropped first). `None` when robfig finds none within
    /// five years (or past chrono's range).
    pub fn next(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let t = after.timestamp();
        let next = match self.kind {
            Kind::Fields(f) => next::next_fields(&f, self.zone, t)?,
            Kind::Every { seconds } => t.checked_add(seconds)?,
        };
        DateTime::from_timestamp(next, 0)
    }

    /// The server's `GetBackoffForNextSchedule(cron, scheduled, now)`: the run after the one
    /// scheduled for `scheduled`, when it is planned at `now`. A first run uses
    /// `scheduled == now`. `None` when the schedule has no further time (the chain ends).
    ///
    /// Times passed while the previous run was open are skipped, never queued: the first cron
    /// time not before `now` is taken (one before the previous scheduled time is never taken;
    /// a `now` before `scheduled` waits for `scheduled` itself, as the server does).
    pub fn next_run(
        &self,
        scheduled: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Option<StandardCronRun> {
        let cron_time = if now < scheduled {
            scheduled
        } else {
            self.first_not_before(scheduled, now)?
        };
        Some(StandardCronRun {
            cron_time,
            backoff: ceil_seconds(cron_time, now),
        })
    }

    /// The first of `next(scheduled)`, `next(next(scheduled))`, ... that is not before `now`.
    fn first_not_before(
        &self,
        scheduled: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        /// Steps taken one by one before jumping close to `now` (a clock jump or a run open
        /// for a long time must not cost one step per passed time).
        const WALK: u32 = 1024;
        let mut t = self.next(scheduled)?;
        let mut walked = 0;
        while t < now {
            walked += 1;
            if walked == WALK {
                t = self.jump(t, now)?;
                continue;
            }
            t = self.next(t)?;
        }
        Some(t)
    }

    /// From `t` (a time of the schedule, before `now`), the time that walking on would reach
    /// last before `now`, or one close before it. `@every` is exact; for fields the walk
    /// resumes a day before `now`, which is the same sequence away from DST changes.
    fn jump(&self, t: DateTime<Utc>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self.kind {
            Kind::Every { seconds } => {
                let gap = now.timestamp() - t.timestamp();
                let k = gap.div_euclid(seconds);
                DateTime::from_timestamp(t.timestamp().checked_add(k.checked_mul(seconds)?)?, 0)
            }
            Kind::Fields(_) => {
                let day_before = now.checked_sub_signed(chrono::TimeDelta::days(1))?;
                self.next(day_before.max(t))
            }
        }
    }
}

/// Go's `time.Second * Int64Ceil(next.Sub(now).Seconds())`: `Seconds()` adds the whole
/// seconds and the nanoseconds as `f64`, which the ceiling then reads.
fn ceil_seconds(next: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    let d = (next - now).num_nanoseconds().unwrap_or(i64::MAX).max(0);
    let secs = d / 1_000_000_000;
    let nanos = d % 1_000_000_000;
    let f = secs as f64 + nanos as f64 / 1e9;
    Duration::from_secs(f.ceil() as u64)
}

#[cfg(test)]
mod tests;
