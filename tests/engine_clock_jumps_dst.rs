//! Clock jumps under the DST policies: the times a jump skips are counted in one step
//! (`CompiledSpec::count_times` inside the engine), and the count must be the one the policy's
//! timeline holds — the instant after a spring-forward gap added under `RunAfterGap`, the
//! second occurrence of repeated wall times dropped under `First`.
//!
//! Expected counts come from chrono's calendar (one time per local day, or per Saturday) in the
//! multi-decade test, and from a walk of the public `CompiledSpec::next_time` in the property
//! test; never from the count itself.

mod engine_util;
mod support;

use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use engine_util::*;
use proptest::prelude::*;
use schedule_engine::{
    DstPolicy, IntervalAnchor, NonexistentTime, RepeatedTime, Schedule, ScheduleOverlapPolicy as P,
    ScheduleRange, ScheduleSpec, Scheduler, SchedulerConfig,
};
use support::strategies::{
    calendar_strategy, interval_strategy, rules_calendar_strategy, skip_strategy,
};
use support::zones::{dst_zone_and_after, zone_and_after, zone_of};

const POLICIES: [DstPolicy; 4] = [
    DstPolicy {
        nonexistent: NonexistentTime::Skip,
        repeated: RepeatedTime::Both,
    },
    DstPolicy {
        nonexistent: NonexistentTime::RunAfterGap,
        repeated: RepeatedTime::Both,
    },
    DstPolicy {
        nonexistent: NonexistentTime::Skip,
        repeated: RepeatedTime::First,
    },
    DstPolicy {
        nonexistent: NonexistentTime::RunAfterGap,
        repeated: RepeatedTime::First,
    },
];

fn schedule(spec: ScheduleSpec, catchup: Duration) -> Schedule {
    let mut s = interval(Duration::from_secs(1), Duration::ZERO, P::Skip);
    s.spec = spec;
    s.policy.catchup_window = catchup;
    s
}

/// Sum of the counters that classify scheduled times, plus what waits in the buffer.
fn accounted(s: &Scheduler, id: &str, now: DateTime<Utc>) -> u64 {
    let i = describe(s, id, now).info;
    i.num_actions
        + i.num_actions_skipped_overlap
        + i.num_actions_replaced_overlap
        + i.num_actions_missed_catchup_window
        + i.num_actions_buffer_dropped
        + i.num_actions_dropped_paused
        + i.num_actions_duplicate_dropped
        + i.buffer_size as u64
}

/// Local dates `d` (of `weekday`, if given) whose wall time `at` falls in `(from, to]`, by
/// chrono's calendar: the dates from the first whose `at` is after `from` to the last whose
/// `at` is not after `to`. Right when no offset change is near `at` on the two end dates,
/// which holds for the instants used here.
fn dates(
    tz: Tz,
    at: NaiveTime,
    weekday: Option<Weekday>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> u64 {
    let (a, b) = (
        from.with_timezone(&tz).naive_local(),
        to.with_timezone(&tz).naive_local(),
    );
    let mut d: NaiveDate = if a.time() < at {
        a.date()
    } else {
        a.date().succ_opt().unwrap()
    };
    let last = if b.time() >= at {
        b.date()
    } else {
        b.date().pred_opt().unwrap()
    };
    let mut n = 0;
    while d <= last {
        if weekday.is_none_or(|w| d.weekday() == w) {
            n += 1;
        }
        d = d.succ_opt().unwrap();
    }
    n
}

/// 1970 to 2100 in one poll, under policies that make each schedule fire exactly once per
/// local day (or per Saturday, or 3,600 times a day) where Temporal's literal rule would not:
/// - New York, 02:30 under `RunAfterGap`: the spring-forward day runs at 03:00 EDT instead of
///   not at all;
/// - New York, every second of 01:00-01:59 under `First`: the repeated hour runs once;
/// - St. John's, 23:30 under `First`: until 2011 its clocks fell back from 00:01 to 23:01, so
///   23:30 came twice and the repeated walls crossed midnight;
/// - Nuuk, Saturdays 23:30 under both: since 2024 its Saturday 23:00 springs to Sunday 00:00,
///   so the time after the gap is on the next wall day (and the fall-back repeats 23:30);
/// - Apia, noon under `RunAfterGap`: 2011-12-30 was skipped whole, its noon runs when the
///   gap ends.
#[test]
fn a_jump_of_130_years_under_dst_policies_is_counted_exactly() {
    let t0 = t("1970-01-02T12:00:00Z");
    let now = t("2100-06-01T12:00:00Z");
    let catchup = Duration::from_secs(30 * 86_400);
    let [_, after_gap, first, both] = POLICIES;
    let hm = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
    // (zone, cron, policy, wall time, weekday, times per matching date)
    let cases: [(&str, &str, DstPolicy, NaiveTime, Option<Weekday>, u64); 5] = [
        (
            "America/New_York",
            "0 30 2 * * * *",
            after_gap,
            hm(2, 30),
            None,
            1,
        ),
        (
            "America/New_York",
            "* * 1 * * * *",
            first,
            hm(1, 0),
            None,
            3600,
        ),
        (
            "America/St_Johns",
            "0 30 23 * * * *",
            first,
            hm(23, 30),
            None,
            1,
        ),
        (
            "America/Nuuk",
            "0 30 23 * * SAT *",
            both,
            hm(23, 30),
            Some(Weekday::Sat),
            1,
        ),
        (
            "Pacific/Apia",
            "0 0 12 * * * *",
            after_gap,
            hm(12, 0),
            None,
            1,
        ),
    ];
    let mut s = Scheduler::default();
    for (i, (zone, cron, dst, ..)) in cases.iter().enumerate() {
        let spec = ScheduleSpec {
            cron_expressions: vec![cron.to_string()],
            time_zone_name: Some(zone.to_string()),
            dst: *dst,
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
    let window_start = now - chrono::Duration::from_std(catchup).unwrap();
    for (i, &(zone, cron, dst, at, weekday, per_date)) in cases.iter().enumerate() {
        let tz = zone_of(zone);
        let id = format!("s{i}");
        let all = per_date * dates(tz, at, weekday, t0, now);
        // Missed: actual time before now - catchup window (no jitter: the nominal time).
        let missed = per_date
            * dates(
                tz,
                at,
                weekday,
                t0,
                window_start - chrono::Duration::seconds(1),
            );
        let d = describe(&s, &id, now).info;
        assert_eq!(accounted(&s, &id, now), all, "{zone} {cron:?} {dst:?}");
        assert_eq!(
            d.num_actions_missed_catchup_window, missed,
            "{zone} {cron:?} {dst:?}"
        );
    }
}

/// A random calendar (with day rules now and then), one second per minute and, often, only the
/// small hours, where the changes are.
fn calendar_near_changes() -> impl Strategy<Value = schedule_engine::ScheduleCalendarSpec> {
    let base = prop_oneof![3 => calendar_strategy(), 1 => rules_calendar_strategy()];
    (base, 0i32..60, prop::option::of((0i32..=3, 0i32..=2))).prop_map(|(mut c, s, small)| {
        c.second = vec![ScheduleRange::single(s)];
        if let Some((h, n)) = small {
            c.hour = vec![ScheduleRange::new(h, h + n, 1)];
        }
        c
    })
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
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// A schedule created at `t0` and polled once, up to years later: its counters hold every
    /// time of the walk (and the missed ones are those before the catch-up window).
    #[test]
    fn a_jump_counts_what_the_walk_finds(
        calendars in prop::collection::vec(calendar_near_changes(), 0..=2),
        extra in prop::collection::vec(prop_oneof![calendar_strategy(), rules_calendar_strategy()], 0..=1),
        skip in prop::collection::vec(skip_strategy(), 0..=1),
        intervals in prop::collection::vec(interval_strategy(), 0..=1),
        anchor in prop::option::of(0i64..2_000_000_000),
        policy in prop::sample::select(POLICIES.to_vec()),
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
            dst: policy,
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
