//! Clock jumps under the DST policies: the times a jump skips are counted in one step
//! (`CompiledSpec::count_times` inside the engine), and the count must be the one the policy's
//! timeline holds — the instant after a spring-forward gap added under `RunAfterGap`, the
//! second occurrence of repeated wall times dropped under `First`.
//!
//! Expected counts come from chrono's calendar (so many times per local day) in the
//! multi-decade test, and from a walk of the public `CompiledSpec::next_time` in the property
//! test; never from the count itself.

use std::time::{Duration, Instant};

use crate::util::engine::*;
use crate::util::spec::strategies::{
    calendar_near_changes, calendar_strategy, interval_strategy, rules_calendar_strategy,
    skip_strategy,
};
use crate::util::spec::zones::{dst_zone_and_after, zone_and_after, zone_of};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use proptest::prelude::*;
use schedule_engine::{
    DstPolicy, IntervalAnchor, NonexistentTime, RepeatedTime, Schedule, ScheduleOverlapPolicy as P,
    ScheduleSpec, Scheduler, SchedulerConfig,
};

fn schedule(spec: ScheduleSpec, catchup: Duration) -> Schedule {
    let mut s = interval(Duration::from_secs(1), Duration::ZERO, P::Skip);
    s.spec = spec;
    s.policy.catchup_window = catchup;
    s
}

/// A schedule that fires `per_date` times on each local date, from the wall time `at` on.
struct Daily {
    zone: &'static str,
    cron: &'static str,
    dst: DstPolicy,
    at: (u32, u32),
    per_date: u64,
}

impl Daily {
    /// Its times in `(from, to]` by chrono's calendar: `per_date` for each date from the first
    /// whose `at` is after `from` to the last whose `at` is not after `to`. Right when no
    /// offset change is near `at` on the two end dates, which holds for the instants used here.
    fn times(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> u64 {
        let tz = zone_of(self.zone);
        let at = NaiveTime::from_hms_opt(self.at.0, self.at.1, 0).unwrap();
        let (a, b) = (
            from.with_timezone(&tz).naive_local(),
            to.with_timezone(&tz).naive_local(),
        );
        let first: NaiveDate = if a.time() < at {
            a.date()
        } else {
            a.date().succ_opt().unwrap()
        };
        let last = if b.time() >= at {
            b.date()
        } else {
            b.date().pred_opt().unwrap()
        };
        self.per_date * ((last - first).num_days() + 1) as u64
    }
}

/// 1970 to 2100 in one poll, under policies that make each schedule fire exactly once per
/// local day (or 3,600 times a day) where Temporal's literal rule would not:
/// - New York, 02:30 under `RunAfterGap`: the spring-forward day runs at 03:00 EDT instead of
///   not at all;
/// - New York, every second of 01:00-01:59 under `First`: the repeated hour runs once;
/// - St. John's, 23:30 under `First`: from 1987 to 2010 its clocks fell back from 00:01 to
///   23:01, so 23:30 came twice and the repeated walls crossed midnight;
/// - Apia, noon under `RunAfterGap`: 2011-12-30 was skipped whole, its noon runs when the
///   gap ends.
#[test]
fn a_jump_of_130_years_under_dst_policies_is_counted_exactly() {
    let t0 = t("1970-01-02T12:00:00Z");
    let now = t("2100-06-01T12:00:00Z");
    let catchup = Duration::from_secs(30 * 86_400);
    let after_gap = DstPolicy {
        nonexistent: NonexistentTime::RunAfterGap,
        ..Default::default()
    };
    let first = DstPolicy {
        repeated: RepeatedTime::First,
        ..Default::default()
    };
    let daily = |zone, cron, dst, at| Daily {
        zone,
        cron,
        dst,
        at,
        per_date: 1,
    };
    let cases = [
        daily("America/New_York", "0 30 2 * * * *", after_gap, (2, 30)),
        Daily {
            per_date: 3600,
            ..daily("America/New_York", "* * 1 * * * *", first, (1, 0))
        },
        daily("America/St_Johns", "0 30 23 * * * *", first, (23, 30)),
        daily("Pacific/Apia", "0 0 12 * * * *", after_gap, (12, 0)),
    ];
    let mut s = Scheduler::default();
    for (i, case) in cases.iter().enumerate() {
        let spec = ScheduleSpec {
            cron_expressions: vec![case.cron.to_string()],
            time_zone_name: Some(case.zone.to_string()),
            dst: case.dst,
            ..Default::default()
        };
        s.create_schedule(&format!("s{i}"), schedule(spec, catchup), t0)
            .unwrap();
    }
    let started = Instant::now();
    let _ = s.poll(now);
    let took = started.elapsed();
    // The same bound as the literal jumps of engine_clock_jumps.rs: the policies cost a few
    // segments per offset change, not a walk.
    assert!(took < Duration::from_secs(2), "poll took {took:?}");
    // Missed: actual time before now - catchup window (no jitter: the nominal time).
    let last_missed =
        now - chrono::Duration::from_std(catchup).unwrap() - chrono::Duration::seconds(1);
    for (i, case) in cases.iter().enumerate() {
        let id = format!("s{i}");
        let what = format!("{} {:?} {:?}", case.zone, case.cron, case.dst);
        let d = describe(&s, &id, now).info;
        assert_eq!(accounted(&s, &id, now), case.times(t0, now), "{what}");
        assert_eq!(
            d.num_actions_missed_catchup_window,
            case.times(t0, last_missed),
            "{what}"
        );
    }
}

/// The nominal times of `(from, to]` by repeated public `next_time` calls, at most `limit`.
fn walk(spec: &ScheduleSpec, from: i64, to: i64, limit: usize) -> Vec<i64> {
    let compiled = spec.compile().unwrap();
    let mut out = Vec::new();
    let mut at = DateTime::from_timestamp(from, 0).unwrap();
    while out.len() < limit {
        match compiled.next_time(at) {
            Some(s) if s.nominal.timestamp() <= to => {
                out.push(s.nominal.timestamp());
                at = s.nominal;
            }
            _ => break,
        }
    }
    out
}

proptest! {
    // About 1 case in 12 draws an empty spec and is rejected: allow for that at any case count
    // (PROPTEST_CASES=20000 hit the default limit of 1024 rejects).
    #![proptest_config(ProptestConfig { cases: 64, max_global_rejects: 1 << 20, failure_persistence: None, ..ProptestConfig::default() })]

    /// A schedule created at `t0` and polled once, up to years later: its counters hold every
    /// time of the walk (and the missed ones are those before the catch-up window).
    #[test]
    fn a_jump_counts_what_the_walk_finds(
        calendars in prop::collection::vec(calendar_near_changes(), 0..=2),
        extra in prop::collection::vec(prop_oneof![calendar_strategy(), rules_calendar_strategy()], 0..=1),
        skip in prop::collection::vec(skip_strategy(), 0..=1),
        intervals in prop::collection::vec(interval_strategy(), 0..=1),
        anchor in prop::option::of(0i64..2_000_000_000),
        nonexistent in prop::sample::select(vec![NonexistentTime::Skip, NonexistentTime::RunAfterGap]),
        repeated in prop::sample::select(vec![RepeatedTime::Both, RepeatedTime::First]),
        (zone, t0) in prop_oneof![dst_zone_and_after(), zone_and_after()],
        jump_days in prop_oneof![1i64..40, 40i64..3_000],
        catchup in prop::sample::select(vec![60u64, 3_600, 86_400, 30 * 86_400, 365 * 86_400]),
    ) {
        let mut calendars = calendars;
        calendars.extend(extra);
        prop_assume!(!calendars.is_empty() || !intervals.is_empty());
        let spec = ScheduleSpec {
            calendars,
            skip,
            intervals,
            interval_anchor: match anchor {
                Some(a) => IntervalAnchor::At(DateTime::from_timestamp(a, 0).unwrap()),
                None => IntervalAnchor::Epoch,
            },
            time_zone_name: Some(zone.to_string()),
            dst: DstPolicy { nonexistent, repeated },
            ..Default::default()
        };
        // Dense specs are jumped only as far as 50,000 walked times reach.
        let mut until = t0 + jump_days * 86_400;
        let times = walk(&spec, t0, until, 50_000);
        if times.len() == 50_000 {
            until = *times.last().unwrap();
        }
        let (start, now) = (
            DateTime::from_timestamp(t0, 0).unwrap(),
            DateTime::from_timestamp(until, 0).unwrap(),
        );
        // Kept describable however long ago its last time was.
        let mut s = Scheduler::new(SchedulerConfig {
            retention: Duration::from_secs(200 * 365 * 86_400),
            ..Default::default()
        });
        s.create_schedule("s", schedule(spec.clone(), Duration::from_secs(catchup)), start)
            .unwrap();
        let _ = s.poll(now);
        let missed_until = until - catchup as i64 - 1;
        let missed = times.iter().filter(|&&t| t <= missed_until).count() as u64;
        let d = describe(&s, "s", now).info;
        prop_assert_eq!(accounted(&s, "s", now), times.len() as u64, "all times");
        prop_assert_eq!(d.num_actions_missed_catchup_window, missed, "missed");
    }
}
