//! [`ScheduleSpec::compile`] and the compiled timeline: Temporal's `GetNextTime`.
//!
//! Invariants of a [`CompiledSpec`]: every calendar can fire (calendars with an empty field, or
//! with no allowed day in any allowed month, are dropped at compile time); intervals are whole
//! seconds with `0 <= offset < every` after truncation of validated durations; times are whole
//! Unix seconds until they leave as `DateTime<Utc>`. `next_time` allocates nothing (for seeds
//! up to 1024 bytes) and always terminates: each call makes at most [`MAX_EXCLUSION_ITERATIONS`]
//! raw searches, each bounded by the year-2100 horizon.

use std::num::NonZeroI64;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use smallvec::SmallVec;

use super::calendar::Calendar;
use super::cron::{self, Cron};
use super::describe;
use super::dst;
use super::interval::{anchored_offset, interval_next};
use super::jitter::delay_ms;
use super::structured::compile_structured;
use super::zone::{self, Zone};
use super::{DstPolicy, IntervalAnchor, ScheduleSpec, ScheduledTime, SpecError};

/// Temporal's limit on raw candidates examined per `GetNextTime` (two weeks of seconds): a
/// spec whose skip calendars exclude that many candidates in a row has no next time.
pub(crate) const MAX_EXCLUSION_ITERATIONS: u32 = 1_209_600;

/// 2101-01-01T00:00:00Z: nothing at or after it is ever returned.
const HORIZON: i64 = 4_133_980_800;

const NANOS_PER_SECOND: i128 = 1_000_000_000;

/// A validated [`ScheduleSpec`] that computes its timeline, as Temporal's server would.
///
/// Times are the union of the calendars, cron strings and intervals, minus the times whose wall
/// clock matches a skip calendar, within `start_at..=end_at` (whole seconds) and before 2101.
/// Calendars read the wall clock in the spec's zone literally by default: a wall time that does
/// not exist (spring forward) never fires, one that occurs twice (fall back) fires at both
/// instants; the spec's [`DstPolicy`] can say otherwise. Intervals ignore the zone. Each nominal
/// time is delayed by a deterministic jitter.
///
/// `Display` writes the spec in one line of English (calendars, cron strings and intervals as
/// compiled: a cron string and the structured calendar it means read the same):
///
/// ```
/// use schedule_engine::ScheduleSpec;
///
/// let spec = ScheduleSpec {
///     cron_expressions: vec!["0 9 * * MON-FRI".into()],
///     time_zone_name: Some("America/New_York".into()),
///     ..Default::default()
/// };
/// assert_eq!(spec.compile()?.to_string(), "at 09:00, Monday through Friday, in America/New_York");
/// # Ok::<(), schedule_engine::SpecError>(())
/// ```
///
/// Cheap to clone (one `Arc` and two integers); `Send + Sync`; `next_time` does not allocate.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledSpec {
    inner: Arc<Inner>,
    /// `(every, offset)` in whole seconds when the spec is one interval and nothing else (no
    /// calendar, skip, jitter or `end_at`, and no `start_at` after the epoch's first second,
    /// which would raise the search floor above -1). The engine asks for a next time once per
    /// fired action; with a million schedules `inner` is out of cache by then, and this answers
    /// without reading it.
    lone: Option<(NonZeroI64, i64)>,
}

#[derive(Debug, PartialEq)]
struct Inner {
    /// Inline for the usual single calendar, so compiling a cron string allocates only the `Arc`.
    calendars: Calendars,
    /// Rare, so boxed: an empty box is two words and no allocation, which keeps the engine's
    /// interval-only schedules under 1 KiB (an inline calendar is 64 bytes).
    skip: Box<[Calendar]>,
    /// `(every, offset)` in whole seconds. Inline for the usual single interval: no second
    /// allocation, and the search for a plain interval spec reads only this struct.
    intervals: SmallVec<[(i64, i64); 1]>,
    zone: Zone,
    /// `floor(start_at) - 1`, or -1 (Temporal searches from the epoch at the earliest).
    after_floor: i64,
    /// `floor(end_at)`, or `i64::MAX`.
    end: i64,
    /// Configured jitter in milliseconds (0 = none), at most `u32::MAX` (Temporal's cap).
    jitter_ms: u32,
    /// What calendars do at DST changes.
    dst: DstPolicy,
    /// Empty when `jitter_ms` is 0: the seed only feeds the jitter hash.
    seed: Box<[u8]>,
}

type Calendars = SmallVec<[Calendar; 1]>;

fn invalid(field: String, message: String) -> SpecError {
    SpecError::InvalidField { field, message }
}

impl ScheduleSpec {
    /// Validates the spec and compiles it, with the jitter seed `""`.
    pub fn compile(&self) -> Result<CompiledSpec, SpecError> {
        self.compile_with_jitter_seed("")
    }

    /// Validates the spec and compiles it; `seed` makes jitter deterministic per schedule
    /// (Temporal hashes `"<namespace id>-<schedule id>"`; the engine uses the schedule id).
    pub fn compile_with_jitter_seed(&self, seed: &str) -> Result<CompiledSpec, SpecError> {
        let mut calendars = SmallVec::new();
        for (i, c) in self.calendars.iter().enumerate() {
            push_calendar(
                &mut calendars,
                compile_structured(c, &|| format!("calendars[{i}]"))?,
            );
        }
        let mut skip = SmallVec::new();
        for (i, c) in self.skip.iter().enumerate() {
            push_calendar(&mut skip, compile_structured(c, &|| format!("skip[{i}]"))?);
        }
        let mut intervals = Vec::new();
        for (i, iv) in self.intervals.iter().enumerate() {
            if iv.every < std::time::Duration::from_secs(1) {
                return Err(invalid(
                    format!("intervals[{i}].every"),
                    format!("{:?} is less than 1s", iv.every),
                ));
            }
            if iv.offset >= iv.every {
                return Err(invalid(
                    format!("intervals[{i}].offset"),
                    format!("{:?} is not less than every ({:?})", iv.offset, iv.every),
                ));
            }
            let secs = |d: std::time::Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            intervals.push((secs(iv.every), secs(iv.offset)));
        }
        let mut cron_zone: Option<(usize, &str)> = None;
        for (i, text) in self.cron_expressions.iter().enumerate() {
            let cron_field = |part: &str| match part {
                "" => format!("cron_expressions[{i}] ({text:?})"),
                part => format!("cron_expressions[{i}] ({text:?}) {part}"),
            };
            let parsed = cron::parse(text).map_err(|e| invalid(cron_field(e.part), e.message))?;
            // An @every string counts as having no zone, whatever its prefix said.
            let this_zone = match &parsed {
                Cron::Calendar { zone, .. } => *zone,
                Cron::Every { .. } => "",
            };
            match cron_zone {
                None => cron_zone = Some((i, this_zone)),
                Some((first, zone)) if zone != this_zone => {
                    return Err(invalid(
                        cron_field("time zone"),
                        format!(
                            "{} conflicts with {} of cron_expressions[{first}]; all cron strings \
                             must name the same zone",
                            show_zone(this_zone),
                            show_zone(zone)
                        ),
                    ))
                }
                Some(_) => {}
            }
            match parsed {
                Cron::Calendar { calendar, .. } => push_calendar(&mut calendars, calendar),
                Cron::Every { every_ns, phase_ns } => intervals.push((
                    i64::try_from(every_ns / NANOS_PER_SECOND).unwrap_or(i64::MAX),
                    i64::try_from(phase_ns / NANOS_PER_SECOND).unwrap_or(0),
                )),
            }
        }
        let spec_zone = self.time_zone_name.as_deref().unwrap_or("");
        let (zone_field, zone_name) = match cron_zone {
            Some((i, z)) if !z.is_empty() => {
                if !spec_zone.is_empty() && spec_zone != z {
                    return Err(invalid(
                        format!(
                            "cron_expressions[{i}] ({:?}) time zone",
                            self.cron_expressions[i]
                        ),
                        format!(
                            "{} conflicts with time_zone_name {}",
                            show_zone(z),
                            show_zone(spec_zone)
                        ),
                    ));
                }
                (Some(i), z)
            }
            _ => (None, spec_zone),
        };
        let zone = zone::resolve(zone_name).ok_or_else(|| {
            let field = match zone_field {
                Some(i) => format!("cron_expressions[{i}] time zone"),
                None => "time_zone_name".to_string(),
            };
            invalid(field, format!("unknown time zone {zone_name:?}"))
        })?;
        let anchor = match self.interval_anchor {
            IntervalAnchor::Epoch => 0,
            IntervalAnchor::StartAt => match self.start_at {
                Some(start) => start.timestamp(),
                None => {
                    return Err(invalid(
                        "interval_anchor".into(),
                        "StartAt needs start_at to be set".into(),
                    ))
                }
            },
            IntervalAnchor::At(t) => t.timestamp(),
        };
        for (every, offset) in &mut intervals {
            // `anchor + offset + n * every` is `offset' + n * every` from the epoch.
            *offset = anchored_offset(anchor, *every, *offset);
        }
        intervals.sort_unstable();
        intervals.dedup();
        let jitter_ms = self
            .jitter
            .map_or(0, |j| u32::try_from(j.as_millis()).unwrap_or(u32::MAX));
        let seed = if jitter_ms == 0 {
            &[][..]
        } else {
            seed.as_bytes()
        };
        let inner = Inner {
            calendars,
            skip: skip.into_vec().into_boxed_slice(),
            // Collected, not `from_vec`: a pushed-to `Vec` has spare capacity, and `from_vec`
            // would keep its heap buffer instead of going inline.
            intervals: intervals.into_iter().collect(),
            zone,
            after_floor: self
                .start_at
                .map_or(-1, |s| s.timestamp().saturating_sub(1)),
            end: self.end_at.map_or(i64::MAX, |e| e.timestamp()),
            jitter_ms,
            dst: self.dst,
            seed: seed.into(),
        };
        let lone = inner
            .single_interval()
            .filter(|_| inner.after_floor == -1 && inner.end == i64::MAX)
            .and_then(|(every, offset)| NonZeroI64::new(every).map(|every| (every, offset)));
        Ok(CompiledSpec {
            inner: Arc::new(inner),
            lone,
        })
    }
}

fn show_zone(zone: &str) -> String {
    if zone.is_empty() {
        "no time zone".into()
    } else {
        format!("{zone:?}")
    }
}

/// Keeps calendars that can fire, once each.
fn push_calendar(out: &mut Calendars, calendar: Calendar) {
    if !calendar.is_never() && !out.contains(&calendar) {
        out.push(calendar);
    }
}

impl Inner {
    /// The earliest calendar wall time strictly after the wall second `wall`.
    fn calendar_wall_next(&self, wall: i64) -> Option<i64> {
        self.calendars
            .iter()
            .filter_map(|c| c.next_after(wall))
            .min()
    }

    /// The earliest instant strictly after `ts` whose wall clock matches some calendar.
    fn calendar_next(&self, ts: i64) -> Option<i64> {
        if self.calendars.is_empty() {
            return None;
        }
        if let Some(off) = self.zone.fixed_offset() {
            return Some(self.calendar_wall_next(ts.checked_add(off)?)? - off);
        }
        if self.dst != DstPolicy::default() {
            return self
                .calendars
                .iter()
                .filter_map(|c| dst::next_instant(c, self.zone, self.dst, ts))
                .min();
        }
        // Walk the zone's constant-offset stretches from the one holding ts + 1. `known` is
        // (w0, the first calendar wall time after w0): still the answer for any later wall
        // `w >= w0` below it, so sparse calendars are searched once, not once per stretch.
        let mut after = ts;
        let mut known: Option<(i64, Option<i64>)> = None;
        loop {
            let (off, end) = self.zone.stretch(after.checked_add(1)?);
            let wall = after.checked_add(off)?;
            let next = match known {
                Some((from, found)) if wall >= from && found.is_none_or(|w| w > wall) => found,
                _ => self.calendar_wall_next(wall),
            };
            known = Some((wall, next));
            match next {
                Some(w) if w - off < end => return Some(w - off),
                Some(_) => {}
                None => {
                    // Later stretches can only help if their wall clocks revisit times at or
                    // before `wall` (a fall-back overlap); otherwise nothing is left.
                    if end == i64::MAX || end + self.zone.offset(end) > wall {
                        return None;
                    }
                }
            }
            if end == i64::MAX {
                return None;
            }
            after = end - 1;
        }
    }

    /// Temporal's `rawNext`: the union of calendars and intervals, ignoring skip and bounds.
    fn raw_next(&self, ts: i64) -> Option<i64> {
        let mut best = self.calendar_next(ts);
        for &(every, offset) in self.intervals.iter() {
            let n = interval_next(ts, every, offset);
            best = Some(best.map_or(n, |b| b.min(n)));
        }
        best
    }

    /// `(every, offset)` when the spec is one interval and nothing else but its bounds: no
    /// calendar, skip or jitter.
    fn single_interval(&self) -> Option<(i64, i64)> {
        match self.intervals[..] {
            [interval]
                if self.calendars.is_empty() && self.skip.is_empty() && self.jitter_ms == 0 =>
            {
                Some(interval)
            }
            _ => None,
        }
    }

    /// Whether the raw time `n` is inside `end_at` and before the 2100 horizon.
    fn in_bounds(&self, n: i64) -> bool {
        n <= self.end && n < HORIZON
    }

    fn skipped(&self, t: i64) -> bool {
        if self.skip.is_empty() {
            return false;
        }
        let wall = t + self.zone.offset(t);
        self.skip.iter().any(|c| c.matches(wall))
    }
}

impl CompiledSpec {
    /// The next time whose nominal time is strictly after `after` (at whole-second resolution:
    /// `after` is floored to the second), with its jittered actual time; `None` when the
    /// schedule has no more times (past `end_at` or 2100, or more than Temporal's 1,209,600
    /// skipped candidates in a row).
    ///
    /// Feeding `actual` back as `after` yields the following time: the jitter never reaches the
    /// next raw time. Calling it with `nominal <= after < actual` skips that time, as in
    /// Temporal.
    #[must_use]
    pub fn next_time(&self, after: DateTime<Utc>) -> Option<ScheduledTime> {
        let (nominal, delay) = self.next_time_unix(after.timestamp())?;
        // Built from integers: chrono's `DateTime + TimeDelta` costs more than the search.
        let nominal_time = DateTime::from_timestamp(nominal, 0)?;
        let actual = if delay == 0 {
            nominal_time
        } else {
            let secs = nominal.checked_add(i64::try_from(delay / 1000).ok()?)?;
            DateTime::from_timestamp(secs, (delay % 1000) as u32 * 1_000_000)?
        };
        Some(ScheduledTime {
            nominal: nominal_time,
            actual,
        })
    }

    /// [`CompiledSpec::next_time`] in integers, for callers that keep times as integers: the
    /// nominal time (Unix seconds) and the jitter delay (millis) of the first scheduled time
    /// after `after` (Unix seconds).
    #[inline]
    pub(crate) fn next_time_unix(&self, after: i64) -> Option<(i64, u64)> {
        if let Some((every, offset)) = self.lone {
            // The shortcut below with no start (floor -1) and no end.
            let n = interval_next(after.max(-1), every.get(), offset);
            return (n < HORIZON).then_some((n, 0));
        }
        let inner = &*self.inner;
        if let Some((every, offset)) = inner.single_interval() {
            // The search would end after one step with this answer (nothing is skipped, no
            // jitter).
            let n = interval_next(after.max(inner.after_floor), every, offset);
            return inner.in_bounds(n).then_some((n, 0));
        }
        self.search(after)
    }

    /// [`CompiledSpec::next_time_unix`] for every spec.
    #[inline(never)]
    fn search(&self, after: i64) -> Option<(i64, u64)> {
        let inner = &*self.inner;
        let mut ts = after.max(inner.after_floor);
        let mut iterations = 0;
        let nominal = loop {
            if iterations >= MAX_EXCLUSION_ITERATIONS {
                return None;
            }
            let n = inner.raw_next(ts)?;
            if !inner.in_bounds(n) {
                return None;
            }
            iterations += 1;
            if !inner.skipped(n) {
                break n;
            }
            ts = n;
        };
        let delay = if inner.jitter_ms == 0 {
            0
        } else {
            // The jitter never reaches the next raw time (skip and end_at ignored).
            let max_ms = match inner.raw_next(nominal) {
                Some(following) => u64::from(inner.jitter_ms).min(
                    u64::try_from(following - nominal)
                        .unwrap_or(0)
                        .saturating_mul(1000),
                ),
                None => u64::from(inner.jitter_ms),
            };
            delay_ms(nominal, &inner.seed, max_ms)
        };
        Some((nominal, delay))
    }

    /// Actual times in `(start, end]`, in order, like Temporal's `ListScheduleMatchingTimes`:
    /// each search starts from the previous actual time and stops at the first actual time
    /// after `end`.
    pub fn matching_times(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> impl Iterator<Item = DateTime<Utc>> {
        let spec = self.clone();
        let mut after = Some(start);
        std::iter::from_fn(move || {
            let t = spec.next_time(after?).filter(|t| t.actual <= end);
            after = t.map(|t| t.actual);
            after
        })
    }
}

impl std::fmt::Display for CompiledSpec {
    /// The spec in one line of English (see the type's docs).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = &*self.inner;
        describe::write(
            f,
            &describe::Parts {
                calendars: &inner.calendars,
                skip: &inner.skip,
                intervals: &inner.intervals,
                zone: inner.zone.name(),
                start: (inner.after_floor != -1).then(|| inner.after_floor.saturating_add(1)),
                end: (inner.end != i64::MAX).then_some(inner.end),
                jitter_ms: inner.jitter_ms,
                dst: inner.dst,
            },
        )
    }
}

#[cfg(test)]
#[path = "compiled_tests.rs"]
mod tests;

// A child module, so that it reads `Inner` without widening its fields.
#[path = "count.rs"]
mod count;
