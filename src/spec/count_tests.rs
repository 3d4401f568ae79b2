//! `count_times` against the walk it stands for: repeated `next_time_unix` calls.

use std::time::Duration;

use chrono::DateTime;

use super::*;
use crate::spec::{ScheduleCalendarSpec, ScheduleIntervalSpec, ScheduleRange, ScheduleSpec};

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
