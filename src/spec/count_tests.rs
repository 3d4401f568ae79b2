//! `count_times` against the walk it stands for: repeated `next_time_unix` calls.

use std::time::Duration;

use chrono::DateTime;

use super::*;
use crate::spec::{
    DstPolicy, IntervalAnchor, NonexistentTime, RepeatedTime, ScheduleCalendarSpec,
    ScheduleIntervalSpec, ScheduleRange, ScheduleSpec,
};

/// The walk itself, one time at a time, for at most `steps` times.
fn walk(spec: &CompiledSpec, after: i64, until: i64, steps: usize) -> TimeCount {
    let mut out = TimeCount::default();
    let mut at = after;
    while let Some((t, _)) = spec.next_time_unix(at) {
        if t > until || out.count as usize == steps {
            break;
        }
        out.push(t);
        at = t;
    }
    out
}

fn cron(text: &str) -> ScheduleSpec {
    ScheduleSpec {
        cron_expressions: vec![text.to_owned()],
        ..Default::default()
    }
}

fn every(secs: u64, offset: u64) -> ScheduleIntervalSpec {
    ScheduleIntervalSpec::with_offset(Duration::from_secs(secs), Duration::from_secs(offset))
}

fn at(rfc3339: &str) -> i64 {
    DateTime::parse_from_rfc3339(rfc3339).unwrap().timestamp()
}

/// Specs covering each path: intervals alone (one, several, coprime, wide), calendars in
/// fixed and DST zones, both together, skips, bounds, jitter.
fn specs() -> Vec<ScheduleSpec> {
    let weekend = ScheduleCalendarSpec {
        second: vec![ScheduleRange::new(0, 59, 1)],
        minute: vec![ScheduleRange::new(0, 59, 1)],
        hour: vec![ScheduleRange::new(0, 23, 1)],
        day_of_week: vec![ScheduleRange::new(0, 0, 1), ScheduleRange::single(6)],
        ..Default::default()
    };
    let mut v = vec![
        ScheduleSpec {
            intervals: vec![every(1, 0)],
            ..Default::default()
        },
        ScheduleSpec {
            intervals: vec![every(7, 3), every(11, 5), every(60, 0)],
            ..Default::default()
        },
        ScheduleSpec {
            intervals: vec![every(86_400 * 400 + 1, 86_399), every(3_000_000_019, 17)],
            ..Default::default()
        },
        cron("* * * * *"),
        cron("*/7 * * * * * *"),
        cron("0 30 2 * * * *"),
        cron("CRON_TZ=America/New_York 30 1,2,3 * * *"),
        cron("CRON_TZ=Australia/Lord_Howe */20 1,2 * * *"),
        cron("0 0 29 2 *"),
        // Sao Paulo fell back at midnight on 2019-02-17: 23:30 of the 16th happened twice.
        cron("CRON_TZ=America/Sao_Paulo 30 23 16 2 *"),
        cron("15 10 * * MON-FRI"),
        ScheduleSpec {
            cron_expressions: vec!["*/5 * * * *".into(), "0 */2 * * *".into()],
            intervals: vec![every(90, 0), every(3600 * 25, 60)],
            time_zone_name: Some("Europe/London".into()),
            ..Default::default()
        },
        ScheduleSpec {
            intervals: vec![every(1, 0)],
            skip: vec![weekend.clone()],
            ..Default::default()
        },
        ScheduleSpec {
            cron_expressions: vec!["* * * * * * *".into()],
            skip: vec![ScheduleCalendarSpec {
                second: vec![ScheduleRange::new(0, 59, 1)],
                minute: vec![ScheduleRange::new(0, 59, 1)],
                hour: vec![ScheduleRange::new(0, 23, 1)],
                day_of_month: vec![ScheduleRange::new(1, 20, 1)],
                ..Default::default()
            }],
            ..Default::default()
        },
        ScheduleSpec {
            intervals: vec![every(3600, 0)],
            start_at: DateTime::from_timestamp(at("2024-03-01T12:34:56Z"), 0),
            end_at: DateTime::from_timestamp(at("2031-07-04T00:00:00Z"), 0),
            jitter: Some(Duration::from_secs(1800)),
            ..Default::default()
        },
    ];
    for (i, s) in v.iter_mut().enumerate() {
        if i % 3 == 0 && s.jitter.is_none() {
            s.jitter = Some(Duration::from_secs(5));
        }
    }
    v
}

#[test]
fn counts_what_the_walk_finds() {
    let ranges = [
        (at("2024-01-01T00:00:00Z"), at("2024-01-02T12:00:00Z")),
        // New York springs forward on 2026-03-08, Lord Howe falls back half an hour on
        // 2026-04-05, London on 2026-10-25, New York on 2026-11-01.
        (at("2026-03-07T05:00:00Z"), at("2026-03-09T05:00:00Z")),
        (at("2026-04-04T10:00:00Z"), at("2026-04-05T20:00:00Z")),
        (at("2026-10-24T20:00:00Z"), at("2026-10-26T02:00:00Z")),
        (at("2026-10-31T22:17:03Z"), at("2026-11-02T08:00:00Z")),
        (at("2100-12-30T00:00:00Z"), at("2101-01-03T00:00:00Z")),
        (at("2030-02-28T23:59:58Z"), at("2030-03-01T00:00:02Z")),
        (-1, 86_400 + 17),
        (at("2019-02-15T00:00:00Z"), at("2019-02-20T00:00:00Z")),
        // Long: dense specs are compared up to where 200,000 walked times reach.
        (at("2027-12-15T00:00:00Z"), at("2028-05-01T00:00:00Z")),
    ];
    for (i, spec) in specs().iter().enumerate() {
        let compiled = spec.compile_with_jitter_seed("seed").unwrap();
        for &(after, until) in &ranges {
            let walked = walk(&compiled, after, until, 200_000);
            let until = if walked.count == 200_000 {
                walked.last.unwrap()
            } else {
                until
            };
            assert_eq!(
                compiled.count_times(after, until),
                walked,
                "spec {i} ({spec:?}) over ({after}, {until}]"
            );
        }
    }
}

#[test]
fn a_search_that_gives_up_ends_the_count_where_the_walk_ends() {
    // Every second, skipping the 1st to the 20th of each month: 20 days of skipped candidates
    // are more than a search examines, so the walk ends on the 1st after its start.
    let spec = &specs()[13];
    let compiled = spec.compile().unwrap();
    let (after, until) = (at("2026-01-25T00:00:00Z"), at("2026-03-25T00:00:00Z"));
    let walked = walk(&compiled, after, until, usize::MAX);
    assert_eq!(walked.last, Some(at("2026-01-31T23:59:59Z")));
    assert_eq!(compiled.count_times(after, until), walked);
}

#[test]
fn decades_are_counted_without_walking() {
    // 1970 to 2100 every second is 4.1 billion times: walking them would take minutes.
    let spec = ScheduleSpec {
        intervals: vec![every(1, 0)],
        ..Default::default()
    }
    .compile()
    .unwrap();
    let until = at("2100-12-31T23:59:59Z");
    let c = spec.count_times(0, until);
    assert_eq!(c.count, until as u64);
    assert_eq!((c.before_last, c.last), (Some(until - 1), Some(until)));
    // And a calendar, every second of every weekday, from 1970 to 2100, in New York.
    let cal = cron("CRON_TZ=America/New_York * * * * * MON-FRI *")
        .compile()
        .unwrap();
    let started = std::time::Instant::now();
    let c = cal.count_times(0, until);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // About 5/7 of the seconds; the exact figure is checked against the walk on short ranges.
    let share = c.count as f64 / until as f64;
    assert!((share - 5.0 / 7.0).abs() < 0.001, "{share}");
}

#[test]
fn a_wall_time_repeated_at_a_midnight_fall_back_counts_twice() {
    let spec = cron("CRON_TZ=America/Sao_Paulo 30 23 16 2 *")
        .compile()
        .unwrap();
    let (after, until) = (at("2019-02-15T00:00:00Z"), at("2019-02-20T00:00:00Z"));
    let c = spec.count_times(after, until);
    assert_eq!(c.count, 2);
    assert_eq!(c, walk(&spec, after, until, usize::MAX));
}

// The DST policies: every combination, in zones whose changes fall at 02:00, 01:00, on the
// half hour, at 02:45, at midnight (Sao Paulo, Nuuk), across midnight (St John's, Casey), and a
// whole day long (Apia), with calendars that name their hours and calendars that fire every
// hour, skip calendars, anchored intervals and the day rules.

/// The four policies: Temporal's rule first, then `RunAfterGap`, `First`, and both.
fn policies() -> [DstPolicy; 4] {
    let policy = |nonexistent, repeated| DstPolicy {
        nonexistent,
        repeated,
    };
    let (skip, after_gap) = (NonexistentTime::Skip, NonexistentTime::RunAfterGap);
    let (both, first) = (RepeatedTime::Both, RepeatedTime::First);
    [
        policy(skip, both),
        policy(after_gap, both),
        policy(skip, first),
        policy(after_gap, first),
    ]
}

fn crons_in(zone: &str, crons: &[&str]) -> ScheduleSpec {
    ScheduleSpec {
        cron_expressions: crons.iter().map(|c| c.to_string()).collect(),
        time_zone_name: Some(zone.into()),
        ..Default::default()
    }
}

fn singles(v: &[i32]) -> Vec<ScheduleRange> {
    v.iter().map(|&v| ScheduleRange::single(v)).collect()
}

/// A spec whose calendars meet offset changes, and the years `from..to` to count it over.
struct DstCase {
    spec: ScheduleSpec,
    from: i32,
    to: i32,
}

fn dst_cases() -> Vec<DstCase> {
    let case = |spec: ScheduleSpec, from: i32, to: i32| DstCase { spec, from, to };
    let ny = "America/New_York";
    let anchor = DateTime::from_timestamp(at("2021-06-01T00:17:29Z"), 0).unwrap();
    vec![
        case(crons_in(ny, &["30 1,2,3 * * *"]), 2015, 2031),
        // Every half hour (every hour: literal) with calendars that name their hours.
        case(
            crons_in(
                ny,
                &["*/30 * * * *", "15 2 * * *", "0 1 * * SUN", "7 1-3 * 11 *"],
            ),
            2022,
            2027,
        ),
        // The day rules, on the days New York changes (second Sunday of March, first of
        // November) and around them.
        case(
            crons_in(
                ny,
                &[
                    "30 2 * * SUN#2",
                    "10 1 * * 0#1",
                    "45 1 L * *",
                    "15 2 LW * *",
                    "30 1 15W * *",
                    "0 2 * * 5L",
                    "20 2 * * 1#3",
                    "40 1 L-3 * *",
                    "50 1,2 8-14 3 0",
                ],
            ),
            2000,
            2040,
        ),
        // Skip calendars: the wall clock of the instant after the gap (03:00), and Sundays in
        // November.
        case(
            ScheduleSpec {
                skip: vec![
                    ScheduleCalendarSpec {
                        hour: singles(&[3]),
                        ..Default::default()
                    },
                    ScheduleCalendarSpec {
                        second: vec![ScheduleRange::new(0, 59, 1)],
                        minute: vec![ScheduleRange::new(0, 59, 1)],
                        hour: vec![ScheduleRange::new(1, 1, 1)],
                        month: singles(&[11]),
                        day_of_week: singles(&[0]),
                        ..Default::default()
                    },
                ],
                ..crons_in(ny, &["0,30 1,2,3 * * *", "*/20 * * * *"])
            },
            2016,
            2030,
        ),
        // Intervals from an anchor, with calendars.
        case(
            ScheduleSpec {
                intervals: vec![every(7 * 3600 + 13, 0), every(86_400 * 3, 3600)],
                interval_anchor: IntervalAnchor::At(anchor),
                ..crons_in(ny, &["30 2 * * *", "30 1 * * *"])
            },
            2016,
            2030,
        ),
        // The structured day rules: negative days, weeks of the month, the nearest weekday.
        case(
            ScheduleSpec {
                calendars: vec![
                    ScheduleCalendarSpec {
                        minute: singles(&[30]),
                        hour: singles(&[1, 2]),
                        day_of_month: vec![ScheduleRange::new(-7, -1, 2)],
                        ..Default::default()
                    },
                    ScheduleCalendarSpec {
                        minute: singles(&[5]),
                        hour: singles(&[2]),
                        day_of_week: singles(&[0]),
                        week_of_month: singles(&[2, -1]),
                        ..Default::default()
                    },
                    ScheduleCalendarSpec {
                        minute: singles(&[55]),
                        hour: singles(&[1]),
                        day_of_month: singles(&[1, 3, 6]),
                        nearest_weekday: true,
                        ..Default::default()
                    },
                ],
                ..crons_in(ny, &[])
            },
            2016,
            2030,
        ),
        case(
            crons_in("Europe/London", &["30 1 * * *", "0 1 * * 0L"]),
            2010,
            2040,
        ),
        case(
            crons_in("Australia/Lord_Howe", &["*/20 1,2 * * *", "45 1 * * *"]),
            2015,
            2031,
        ),
        case(
            crons_in("Pacific/Chatham", &["*/15 2,3 * * *", "50 3 * * SUN"]),
            2015,
            2031,
        ),
        // Changes at midnight: 00:00 becomes 01:00, and 00:00 becomes 23:00 the day before.
        case(
            crons_in(
                "America/Sao_Paulo",
                &["30 23 * * *", "0,30 0 * * *", "0 23 L * *"],
            ),
            2015,
            2021,
        ),
        // 23:00 on Saturday becomes 00:00 on Sunday: the skipped walls are the day before.
        case(
            crons_in(
                "America/Nuuk",
                &["30 23 * * SAT", "15 22 * * *", "0 23 L * *"],
            ),
            2020,
            2035,
        ),
        // Alone: nothing matches the Sunday that holds the instant after the gap.
        case(crons_in("America/Nuuk", &["30 23 * * SAT"]), 2020, 2035),
        // Until 2011, 00:01 became 01:01, and 00:01 became 23:01 the day before: the
        // repeated hour crosses midnight (two hours in 1988).
        case(
            crons_in(
                "America/St_Johns",
                &["30 23 * * *", "0,30 0 * * *", "0 22 * * SAT"],
            ),
            1985,
            2013,
        ),
        // 2010-03-05 02:00 became 23:00 the day before; 2009-10-18 02:00 became 05:00.
        case(
            crons_in("Antarctica/Casey", &["0 0,1,3,23 * * *", "30 4 * * *"]),
            2008,
            2013,
        ),
        // 2011-12-30 was skipped whole: 2011-12-29 24:00 became 2011-12-31 00:00.
        case(
            crons_in(
                "Pacific/Apia",
                &["0 12 * * *", "0 0 30 12 *", "0 6 * * FRI"],
            ),
            2009,
            2014,
        ),
        case(
            crons_in("Pacific/Apia", &["0 12 30 12 *", "0 0 * * 0#2"]),
            2009,
            2014,
        ),
    ]
}

fn year_start(y: i32) -> i64 {
    at(&format!("{y:04}-01-01T00:00:00Z"))
}

/// The zone's offset changes in `(from, to]`, read from its table.
fn changes(spec: &CompiledSpec, from: i64, to: i64) -> Vec<i64> {
    let zone = spec.inner.zone;
    let mut out = Vec::new();
    let mut t = from;
    while t < to {
        let s = zone.stretch_around(t + 1);
        if s.start > from && s.start <= to {
            out.push(s.start);
        }
        t = s.end.max(t + 1);
    }
    out
}

/// Compares the count with the walk over `(after, until]`; a difference is added to `failures`.
fn compare(spec: &CompiledSpec, after: i64, until: i64, what: &str, failures: &mut Vec<String>) {
    let (counted, walked) = (
        spec.count_times(after, until),
        walk(spec, after, until, usize::MAX),
    );
    if counted != walked {
        failures.push(format!(
            "{what} over ({after}, {until}]: counted {counted:?}, walked {walked:?}"
        ));
    }
}

#[test]
fn counts_what_the_walk_finds_under_every_dst_policy() {
    let mut failures = Vec::new();
    let mut compared = 0;
    for (i, case) in dst_cases().into_iter().enumerate() {
        let (from, to) = (year_start(case.from), year_start(case.to));
        for policy in policies() {
            let spec = ScheduleSpec {
                dst: policy,
                ..case.spec.clone()
            };
            let compiled = spec.compile_with_jitter_seed("seed").unwrap();
            let what = format!(
                "case {i} ({:?} in {:?}, {policy:?})",
                spec.cron_expressions, spec.time_zone_name
            );
            let all = changes(&compiled, from, to);
            assert!(all.len() >= 2, "{what}: {} changes", all.len());
            // Years at a time, then short ranges that start and end on each side of each
            // change (the partial segments there).
            assert!(walk(&compiled, from, to, 51).count > 50, "{what}");
            compare(&compiled, from, to, &what, &mut failures);
            // And ranges from anywhere, an hour to three months long (xorshift, fixed seed).
            let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ (i as u64) << 8;
            let mut next = |n: i64| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x % n as u64) as i64
            };
            for _ in 0..12 {
                let after = from + next(to - from);
                let until = after + 3600 + next(90 * 86_400);
                compare(&compiled, after, until, &what, &mut failures);
            }
            for &c in &all {
                let around = [
                    (-1, 0),
                    (-3601, 7200),
                    (0, 1),
                    (-1, 86_400),
                    (1, 172_800),
                    (-2 * 86_400, 3 * 86_400),
                ];
                for (a, b) in around {
                    compare(&compiled, c + a, c + b, &what, &mut failures);
                }
            }
            compared += 13 + 6 * all.len();
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {compared} ranges differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
