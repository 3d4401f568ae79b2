//! The calendar rules beyond Temporal (`L`, `L-n`, `LW`, `nW`, `nL`, `n#k`; their structured
//! forms; anchored intervals): fixed examples whose dates were read off a calendar, misuse as
//! typed errors, and property tests against the brute-force oracle (`tests/util/spec/`) in
//! seven zones, Lord Howe and Chatham among them, through leap years and DST changes.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;

use crate::util::spec::check_against_oracle;
use crate::util::spec::cron_gen::cron_with_rules_strategy;
use crate::util::spec::strategies::{interval_strategy, rules_calendar_strategy, skip_strategy};
use crate::util::spec::zones::zone_and_after;
use schedule_engine::{
    IntervalAnchor, ScheduleCalendarSpec, ScheduleIntervalSpec, ScheduleRange, ScheduleSpec,
};

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

/// The first `n` times of a cron string in `zone` after `from`.
fn times(text: &str, zone: Option<&str>, from: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
    let spec = ScheduleSpec {
        cron_expressions: vec![text.into()],
        time_zone_name: zone.map(str::to_string),
        ..Default::default()
    };
    let compiled = spec.compile().unwrap_or_else(|e| panic!("{text}: {e}"));
    let mut out = Vec::new();
    let mut after = from;
    while out.len() < n {
        let Some(t) = compiled.next_time(after) else {
            break;
        };
        out.push(t.nominal);
        after = t.nominal;
    }
    out
}

/// `(month, day)` pairs of one year at one time of day, UTC.
fn days(y: i32, h: u32, md: &[(u32, u32)]) -> Vec<DateTime<Utc>> {
    md.iter().map(|&(m, d)| utc(y, m, d, h, 0)).collect()
}

#[test]
fn last_days() {
    // 2028 is a leap year: February 29.
    let from = utc(2028, 1, 1, 0, 0);
    assert_eq!(
        times("0 0 L * *", None, from, 4),
        days(2028, 0, &[(1, 31), (2, 29), (3, 31), (4, 30)])
    );
    // L-3: three days before the last day.
    assert_eq!(
        times("0 0 L-3 * *", None, utc(2027, 1, 1, 0, 0), 4),
        days(2027, 0, &[(1, 28), (2, 25), (3, 28), (4, 27)])
    );
    assert_eq!(
        times("0 0 1,L * *", None, utc(2027, 1, 1, 0, 0), 4),
        days(2027, 0, &[(1, 31), (2, 1), (2, 28), (3, 1)])
    );
    // Day of month and day of week still combine with AND: the last day, when a Friday.
    let fridays = times("0 0 L * 5", None, utc(2026, 1, 1, 0, 0), 3);
    assert_eq!(
        fridays,
        [
            utc(2026, 7, 31, 0, 0),
            utc(2027, 4, 30, 0, 0),
            utc(2027, 12, 31, 0, 0)
        ]
    );
}

#[test]
fn nearest_weekdays() {
    // The example: 18:00 on the last weekday of each month of 2027.
    assert_eq!(
        times("0 18 LW * *", None, utc(2027, 1, 1, 0, 0), 6),
        days(
            2027,
            18,
            &[(1, 29), (2, 26), (3, 31), (4, 30), (5, 31), (6, 30)]
        )
    );
    // 2026: the 15th is a Sunday in February, March and November, a Saturday in August.
    assert_eq!(
        times("0 12 15W * *", None, utc(2026, 1, 1, 0, 0), 12),
        days(
            2026,
            12,
            &[
                (1, 15),
                (2, 16),
                (3, 16),
                (4, 15),
                (5, 15),
                (6, 15),
                (7, 15),
                (8, 14),
                (9, 15),
                (10, 15),
                (11, 16),
                (12, 15)
            ]
        )
    );
    // August 1, 2026 is a Saturday: 1W is Monday the 3rd, never July 31.
    assert_eq!(
        times("0 12 1W 7-8 *", None, utc(2026, 6, 1, 0, 0), 2),
        days(2026, 12, &[(7, 1), (8, 3)])
    );
    // 31W: only months with a 31st; January 31, 2027 is a Sunday: Friday the 29th.
    assert_eq!(
        times("0 12 31w * *", None, utc(2027, 1, 1, 0, 0), 4),
        days(2027, 12, &[(1, 29), (3, 31), (5, 31), (7, 30)])
    );
}

#[test]
fn nth_and_last_weekdays() {
    assert_eq!(
        times("0 9 * * 5L", None, utc(2026, 1, 1, 0, 0), 4),
        days(2026, 9, &[(1, 30), (2, 27), (3, 27), (4, 24)])
    );
    assert_eq!(
        times("0 9 * * FRI#2", None, utc(2026, 1, 1, 0, 0), 4),
        days(2026, 9, &[(1, 9), (2, 13), (3, 13), (4, 10)])
    );
    // A fifth Sunday (7 is Sunday) exists only in some months.
    assert_eq!(
        times("0 9 * * 7#5", None, utc(2026, 1, 1, 0, 0), 4),
        days(2026, 9, &[(3, 29), (5, 31), (8, 30), (11, 29)])
    );
    // The example: the first Monday at 09:00 in New York, across the March 14, 2027
    // change: 14:00Z under EST (-5), 13:00Z under EDT (-4).
    assert_eq!(
        times(
            "0 9 * * 1#1",
            Some("America/New_York"),
            utc(2027, 1, 15, 0, 0),
            4
        ),
        [
            utc(2027, 2, 1, 14, 0),
            utc(2027, 3, 1, 14, 0),
            utc(2027, 4, 5, 13, 0),
            utc(2027, 5, 3, 13, 0)
        ]
    );
}

#[test]
fn structured_forms_equal_their_cron_strings() {
    let cal = |f: fn(&mut ScheduleCalendarSpec)| {
        let mut c = ScheduleCalendarSpec {
            hour: vec![ScheduleRange::single(9)],
            ..Default::default()
        };
        f(&mut c);
        ScheduleSpec {
            calendars: vec![c],
            ..Default::default()
        }
    };
    let from = utc(2026, 1, 1, 0, 0);
    let pairs: [(&str, ScheduleSpec); 5] = [
        (
            "0 9 L-3 * *",
            cal(|c| c.day_of_month = vec![ScheduleRange::single(-4)]),
        ),
        (
            "0 9 LW * *",
            cal(|c| {
                c.day_of_month = vec![ScheduleRange::single(-1)];
                c.nearest_weekday = true;
            }),
        ),
        (
            "0 9 15W * *",
            cal(|c| {
                c.day_of_month = vec![ScheduleRange::single(15)];
                c.nearest_weekday = true;
            }),
        ),
        (
            "0 9 * * MON#3",
            cal(|c| {
                c.day_of_week = vec![ScheduleRange::single(1)];
                c.week_of_month = vec![ScheduleRange::single(3)];
            }),
        ),
        (
            "0 9 * * 5L",
            cal(|c| {
                c.day_of_week = vec![ScheduleRange::single(5)];
                c.week_of_month = vec![ScheduleRange::single(-1)];
            }),
        ),
    ];
    for (text, spec) in pairs {
        let compiled = spec.compile().unwrap();
        let mut structured = Vec::new();
        let mut after = from;
        for _ in 0..24 {
            let t = compiled.next_time(after).unwrap().nominal;
            structured.push(t);
            after = t;
        }
        assert_eq!(structured, times(text, None, from, 24), "{text}");
    }
}

#[test]
fn misuse_is_a_typed_error_naming_the_field() {
    for (text, field, why) in [
        ("0 L * * *", "hour", "day rules"),
        ("0 0 * * 6#6", "day_of_week", "not in range 1-5"),
        ("0 0 32W * *", "day_of_month", "32 is not in range 1-31"),
        ("0 0 1,15W * *", "day_of_month", "cannot be part of a list"),
        ("0 0 * * L", "day_of_week", "ambiguous"),
        ("0 0 * * 1-5#2", "day_of_week", "one day of the week"),
    ] {
        let spec = ScheduleSpec {
            cron_expressions: vec![text.into()],
            ..Default::default()
        };
        let e = spec.compile().unwrap_err();
        assert_eq!(
            e.field(),
            format!("cron_expressions[0] ({text:?}) {field}"),
            "{text}"
        );
        assert!(e.message().contains(why), "{text}: {e}");
    }
    let spec = ScheduleSpec {
        intervals: vec![ScheduleIntervalSpec::new(Duration::from_secs(60))],
        interval_anchor: IntervalAnchor::StartAt,
        ..Default::default()
    };
    let e = spec.compile().unwrap_err();
    assert_eq!(e.field(), "interval_anchor");
    assert!(e.message().contains("start_at"), "{e}");
}

#[test]
fn anchored_intervals() {
    let start = utc(2026, 3, 2, 9, 30);
    let every_36h = ScheduleSpec {
        intervals: vec![ScheduleIntervalSpec::new(Duration::from_secs(36 * 3600))],
        start_at: Some(start),
        ..Default::default()
    };
    let first = |spec: &ScheduleSpec| spec.compile().unwrap().next_time(start).unwrap().nominal;
    // From the epoch (Temporal): 36-hour multiples since 1970, the first after the start is
    // 2026-03-03T12:00Z. From start_at: the start itself, then every 36 hours.
    assert_eq!(first(&every_36h), utc(2026, 3, 3, 12, 0));
    let from_start = ScheduleSpec {
        interval_anchor: IntervalAnchor::StartAt,
        ..every_36h.clone()
    };
    let compiled = from_start.compile().unwrap();
    let listed: Vec<_> = compiled
        .matching_times(start - chrono::Duration::seconds(1), utc(2026, 3, 6, 0, 0))
        .collect();
    assert_eq!(
        listed,
        [start, utc(2026, 3, 3, 21, 30), utc(2026, 3, 5, 9, 30)]
    );
    // An explicit anchor with an offset; @every strings count from it too.
    let anchored = ScheduleSpec {
        intervals: vec![ScheduleIntervalSpec::with_offset(
            Duration::from_secs(7 * 86_400),
            Duration::from_secs(3_600),
        )],
        cron_expressions: vec!["@every 5h".into()],
        interval_anchor: IntervalAnchor::At(utc(2026, 1, 5, 8, 0)),
        ..Default::default()
    };
    let compiled = anchored.compile().unwrap();
    let listed: Vec<_> = compiled
        .matching_times(utc(2026, 1, 12, 0, 0), utc(2026, 1, 12, 12, 0))
        .collect();
    // Mondays 09:00 (anchor + 1 h + k weeks) and every 5 hours from 08:00 on January 5
    // (January 12, 00:00 is 160 hours later: 05:00 and 10:00 follow).
    assert_eq!(
        listed,
        [
            utc(2026, 1, 12, 5, 0),
            utc(2026, 1, 12, 9, 0),
            utc(2026, 1, 12, 10, 0)
        ]
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn cron_strings_with_day_rules_match_the_oracle(
        cron in cron_with_rules_strategy(),
        (zone, after) in zone_and_after(),
    ) {
        let (text, calendar) = cron;
        crate::util::spec::check_cron(&text, calendar, zone, after)?;
    }

    #[test]
    fn structured_day_rules_match_the_oracle(
        calendars in prop::collection::vec(rules_calendar_strategy(), 1..=2),
        skip in prop::collection::vec(skip_strategy(), 0..=1),
        (zone, after) in zone_and_after(),
    ) {
        crate::util::spec::check_calendars(calendars, skip, zone, after)?;
    }

    #[test]
    fn anchored_intervals_match_the_oracle(
        intervals in prop::collection::vec(interval_strategy(), 1..=2),
        anchor in prop_oneof![Just(None), (0i64..4_000_000_000, 0u32..1_000_000_000).prop_map(Some)],
        start in -86_400i64 * 30..86_400 * 30,
        (zone, after) in zone_and_after(),
    ) {
        let start_at = DateTime::from_timestamp(after + start, 0);
        let interval_anchor = match anchor {
            None => IntervalAnchor::StartAt,
            Some((secs, nanos)) => IntervalAnchor::At(DateTime::from_timestamp(secs, nanos).unwrap()),
        };
        let spec = ScheduleSpec {
            intervals,
            start_at,
            interval_anchor,
            time_zone_name: Some(zone.to_string()),
            ..Default::default()
        };
        let oracle = crate::util::spec::oracle_for(&spec);
        check_against_oracle(&spec, &oracle, after)?;
    }
}
