//! Property tests against the independent brute-force oracle (`tests/support/oracle.rs`):
//! random structured calendars, random cron strings (built from random field choices whose
//! value sets the test expands itself), random intervals, skip calendars, bounds and jitter,
//! in zones with 1-hour, 30-minute and 45-minute-offset DST and none.

mod support;

use std::collections::BTreeSet;
use std::str::FromStr;
use std::sync::OnceLock;
use std::time::Duration;

use chrono::{DateTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;

use schedule_engine::{ScheduleCalendarSpec, ScheduleIntervalSpec, ScheduleRange, ScheduleSpec};
use support::oracle::{Oracle, OracleCalendar};

const ZONES: [&str; 7] = [
    "UTC",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/Sao_Paulo",
    "Asia/Kolkata",
];

/// How many successive times each case compares.
const CHAIN: usize = 16;
/// How far the oracle searches.
const HORIZON: i64 = 120 * 86_400;

/// A start instant: any time in 2017..=2028, often in a month with DST changes somewhere
/// (Sao Paulo still had DST until 2019).
fn after_strategy() -> impl Strategy<Value = i64> {
    let months = prop_oneof![
        1 => 1u32..=12,
        3 => prop::sample::select(vec![2u32, 3, 4, 9, 10, 11]),
    ];
    (2017i32..=2028, months, 1u32..=28, 0i64..86_400).prop_map(|(y, m, d, sod)| {
        Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap().timestamp() + sod
    })
}

/// The zone's UTC-offset changes in 2017..2029, found by hourly sampling with chrono-tz.
fn transitions(zone: &str) -> Vec<i64> {
    let tz = zone_of(zone);
    let offset = |t: i64| {
        let utc = DateTime::from_timestamp(t, 0).unwrap().naive_utc();
        tz.offset_from_utc_datetime(&utc).fix().local_minus_utc()
    };
    let start = Utc
        .with_ymd_and_hms(2017, 1, 1, 0, 0, 0)
        .unwrap()
        .timestamp();
    let end = Utc
        .with_ymd_and_hms(2029, 1, 1, 0, 0, 0)
        .unwrap()
        .timestamp();
    (start..end)
        .step_by(3600)
        .filter(|&t| offset(t) != offset(t + 3600))
        .collect()
}

/// A zone with DST and a start instant up to three hours before one of its changes.
fn dst_zone_and_after() -> impl Strategy<Value = (&'static str, i64)> {
    let with_changes: Vec<_> = transition_table()
        .iter()
        .filter(|(_, changes)| !changes.is_empty())
        .cloned()
        .collect();
    prop::sample::select(with_changes).prop_flat_map(|(zone, changes)| {
        (
            Just(zone),
            prop::sample::select(changes),
            -3 * 3_600i64..600,
        )
            .prop_map(|(zone, t, d)| (zone, t + d))
    })
}

fn transition_table() -> &'static [(&'static str, Vec<i64>)] {
    static TRANSITIONS: OnceLock<Vec<(&'static str, Vec<i64>)>> = OnceLock::new();
    TRANSITIONS.get_or_init(|| ZONES.iter().map(|z| (*z, transitions(z))).collect())
}

/// A zone and a start instant; half of the starts fall shortly before one of the zone's DST
/// changes (within two days, often within three hours).
fn zone_and_after() -> impl Strategy<Value = (&'static str, i64)> {
    prop::sample::select(transition_table().to_vec()).prop_flat_map(|(zone, changes)| {
        let near = if changes.is_empty() {
            after_strategy().boxed()
        } else {
            let before = prop_oneof![-2 * 86_400i64..3_600, -3 * 3_600i64..3_600];
            (prop::sample::select(changes), before)
                .prop_map(|(t, d)| t + d)
                .boxed()
        };
        (Just(zone), prop_oneof![after_strategy(), near])
    })
}

/// 1-3 valid ranges for a field in `min..=max`, or (rarely) none.
fn ranges_strategy(min: i32, max: i32) -> impl Strategy<Value = Vec<ScheduleRange>> {
    let range = (min..=max, min..=max, 0i32..=4, 0u8..4).prop_map(move |(a, b, step, kind)| {
        let (lo, hi) = (a.min(b), a.max(b));
        match kind {
            0 => ScheduleRange::new(a, 0, 0),
            1 => ScheduleRange::new(min, max, step),
            _ => ScheduleRange::new(lo, hi, step),
        }
    });
    prop_oneof![
        1 => Just(Vec::new()),
        30 => prop::collection::vec(range, 1..=3),
    ]
}

fn calendar_strategy() -> impl Strategy<Value = ScheduleCalendarSpec> {
    let years = prop_oneof![
        4 => Just(Vec::new()),
        1 => (2017i32..=2030, 0i32..=3).prop_map(|(y, n)| vec![ScheduleRange::new(y, y + n, 0)]),
    ];
    (
        ranges_strategy(0, 59),
        ranges_strategy(0, 59),
        ranges_strategy(0, 23),
        ranges_strategy(1, 31),
        ranges_strategy(1, 12),
        years,
        ranges_strategy(0, 6),
    )
        .prop_map(
            |(second, minute, hour, day_of_month, month, year, day_of_week)| ScheduleCalendarSpec {
                second,
                minute,
                hour,
                day_of_month,
                month,
                year,
                day_of_week,
                comment: None,
                ..Default::default()
            },
        )
}

/// A skip calendar that leaves at least one hour of every day alone (so the search never runs
/// into Temporal's limit of 1,209,600 skipped candidates in a row).
fn skip_strategy() -> impl Strategy<Value = ScheduleCalendarSpec> {
    (calendar_strategy(), 0i32..=22, 0i32..=5, any::<bool>()).prop_map(|(mut c, h, n, wide)| {
        c.hour = vec![ScheduleRange::new(h, (h + n).min(22), 1)];
        if wide {
            c.minute = vec![ScheduleRange::new(0, 59, 1)];
            c.second = vec![ScheduleRange::new(0, 59, 1)];
        }
        c
    })
}

fn interval_strategy() -> impl Strategy<Value = ScheduleIntervalSpec> {
    let every = prop_oneof![
        1u64..=120,
        60u64..=7_200,
        3_600u64..=10 * 86_400,
        prop::sample::select(vec![60u64, 300, 900, 3_600, 5_400, 86_400, 604_800]),
    ];
    (every, any::<u64>(), 0u32..1_000_000_000).prop_map(|(every, off, nanos)| {
        ScheduleIntervalSpec::with_offset(
            Duration::new(every, nanos / 2),
            Duration::from_secs(off % every),
        )
    })
}

/// The compiled spec's next `CHAIN` nominal times, compared with the oracle's.
fn check_against_oracle(
    spec: &ScheduleSpec,
    oracle: &Oracle,
    after: i64,
) -> Result<(), TestCaseError> {
    let compiled = spec
        .compile()
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let expected = oracle.times(after, after + HORIZON, CHAIN);
    let mut ours = Vec::new();
    let mut t = DateTime::from_timestamp(after, 0).unwrap();
    while ours.len() < CHAIN {
        match compiled.next_time(t) {
            Some(s) if s.nominal.timestamp() <= after + HORIZON => {
                prop_assert!(s.nominal > t, "not strictly after {t}: {}", s.nominal);
                prop_assert_eq!(s.nominal, s.actual, "no jitter configured");
                ours.push(s.nominal.timestamp());
                t = s.nominal;
            }
            _ => break,
        }
    }
    if std::env::var_os("SPEC_PROPS_STATS").is_some() {
        let near_change = expected.iter().any(|&t| {
            let off = |t: i64| {
                let utc = DateTime::from_timestamp(t, 0).unwrap().naive_utc();
                oracle
                    .tz
                    .offset_from_utc_datetime(&utc)
                    .fix()
                    .local_minus_utc()
            };
            off(t - 7_200) != off(t + 7_200)
        });
        eprintln!(
            "STAT times={} near_dst_change={near_change}",
            expected.len()
        );
    }
    prop_assert_eq!(ours, expected);
    Ok(())
}

fn zone_of(name: &str) -> Tz {
    Tz::from_str(name).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn structured_calendars_match_the_oracle(
        calendars in prop::collection::vec(calendar_strategy(), 1..=2),
        skip in prop::collection::vec(skip_strategy(), 0..=1),
        (zone, after) in zone_and_after(),
    ) {
        let spec = ScheduleSpec {
            calendars,
            skip,
            time_zone_name: Some(zone.to_string()),
            ..Default::default()
        };
        let oracle = support::oracle_for(&spec);
        check_against_oracle(&spec, &oracle, after)?;
    }

    #[test]
    fn intervals_calendars_skip_and_bounds_match_the_oracle(
        intervals in prop::collection::vec(interval_strategy(), 1..=2),
        calendars in prop::collection::vec(calendar_strategy(), 0..=1),
        skip in prop::collection::vec(skip_strategy(), 0..=1),
        (zone, after) in zone_and_after(),
        bounds in (prop::option::of(-86_400i64 * 10..86_400 * 30), prop::option::of(0i64..86_400 * 60), 0u32..1_000_000_000),
    ) {
        let (start, len, nanos) = bounds;
        let start_at = start.map(|s| DateTime::from_timestamp(after + s, nanos).unwrap());
        let end_at = len.map(|l| DateTime::from_timestamp(after + start.unwrap_or(0) + l, nanos).unwrap());
        let spec = ScheduleSpec {
            calendars,
            intervals,
            skip,
            start_at,
            end_at,
            time_zone_name: Some(zone.to_string()),
            ..Default::default()
        };
        let oracle = support::oracle_for(&spec);
        check_against_oracle(&spec, &oracle, after)?;
    }

    #[test]
    fn cron_strings_match_the_oracle(cron in cron_strategy(), (zone, after) in zone_and_after()) {
        let (text, calendar) = cron;
        let spec = ScheduleSpec {
            cron_expressions: vec![text.clone()],
            time_zone_name: Some(zone.to_string()),
            ..Default::default()
        };
        let mut oracle = Oracle::new(zone_of(zone));
        oracle.calendars = vec![calendar];
        check_against_oracle(&spec, &oracle, after).map_err(|e| TestCaseError::fail(format!("{text:?}: {e}")))?;
    }

    #[test]
    fn dst_changes_match_the_oracle(
        base in calendar_strategy(),
        minutes in prop::sample::select(vec![1i32, 5, 10, 15, 20, 30]),
        early_hours in any::<bool>(),
        (zone, after) in dst_zone_and_after(),
    ) {
        // Dense wall clocks around the change: every few minutes, every hour or the small hours.
        let calendar = ScheduleCalendarSpec {
            second: vec![ScheduleRange::single(base.second.first().map_or(0, |r| r.start))],
            minute: vec![ScheduleRange::new(0, 59, minutes)],
            hour: vec![if early_hours { ScheduleRange::new(0, 4, 1) } else { ScheduleRange::new(0, 23, 1) }],
            day_of_month: vec![ScheduleRange::new(1, 31, 1)],
            month: vec![ScheduleRange::new(1, 12, 1)],
            year: Vec::new(),
            day_of_week: vec![ScheduleRange::new(0, 6, 1)],
            comment: None,
            ..Default::default()
        };
        let spec = ScheduleSpec {
            calendars: vec![calendar, base],
            time_zone_name: Some(zone.to_string()),
            ..Default::default()
        };
        let oracle = support::oracle_for(&spec);
        check_against_oracle(&spec, &oracle, after)?;
    }

    #[test]
    fn jitter_is_deterministic_and_in_range(
        intervals in prop::collection::vec(interval_strategy(), 1..=2),
        calendars in prop::collection::vec(calendar_strategy(), 0..=1),
        jitter_ms in 1u64..=4 * 3_600_000,
        seed in "[a-z0-9-]{0,40}",
        (zone, after) in zone_and_after(),
    ) {
        let spec = ScheduleSpec {
            calendars,
            intervals,
            jitter: Some(Duration::from_millis(jitter_ms)),
            time_zone_name: Some(zone.to_string()),
            ..Default::default()
        };
        let plain = ScheduleSpec { jitter: None, ..spec.clone() }.compile().unwrap();
        let a = spec.compile_with_jitter_seed(&seed).unwrap();
        let b = spec.compile_with_jitter_seed(&seed).unwrap();
        let mut t = DateTime::from_timestamp(after, 0).unwrap();
        for _ in 0..CHAIN {
            let (Some(x), Some(y), Some(p)) = (a.next_time(t), b.next_time(t), plain.next_time(t)) else {
                break;
            };
            prop_assert_eq!(x, y);
            prop_assert_eq!(x.nominal, p.nominal, "jitter does not move nominal times");
            let delay = x.actual - x.nominal;
            prop_assert!(delay >= TimeDelta::zero() && delay < TimeDelta::milliseconds(jitter_ms as i64));
            prop_assert_eq!(delay.num_milliseconds() * 1_000_000, delay.num_nanoseconds().unwrap());
            // The jitter never reaches the following nominal time.
            if let Some(next) = plain.next_time(x.nominal) {
                prop_assert!(x.actual < next.nominal);
            }
            // Feeding the actual time back yields the next nominal time (semantics report 5).
            t = x.actual;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    /// Bad input is an error, never a panic, and whatever compiles can be searched.
    #[test]
    fn arbitrary_input_never_panics(
        text in prop_oneof![".*", "(CRON_TZ=[A-Za-z/_]{0,12} )?[-0-9*/,#@a-zA-Z ?LW]{0,40}"],
        range in (any::<i32>(), any::<i32>(), any::<i32>()),
        field in 0usize..7,
        after in any::<i64>(),
    ) {
        let (start, end, step) = range;
        let mut calendar = ScheduleCalendarSpec::default();
        let ranges = vec![ScheduleRange::new(start, end, step)];
        match field {
            0 => calendar.second = ranges,
            1 => calendar.minute = ranges,
            2 => calendar.hour = ranges,
            3 => calendar.day_of_month = ranges,
            4 => calendar.month = ranges,
            5 => calendar.year = ranges,
            _ => calendar.day_of_week = ranges,
        }
        let specs = [
            ScheduleSpec { cron_expressions: vec![text.clone()], ..Default::default() },
            ScheduleSpec { calendars: vec![calendar.clone()], skip: vec![calendar], ..Default::default() },
            ScheduleSpec { time_zone_name: Some(text), ..Default::default() },
        ];
        let after = DateTime::from_timestamp(after % 8_000_000_000_000, 0).unwrap_or_default();
        for spec in specs {
            if let Ok(compiled) = spec.compile() {
                let _ = compiled.next_time(after);
                let _ = compiled.matching_times(after, after + TimeDelta::days(3)).take(3).count();
            }
        }
    }
}

// ---- random cron strings with independently expanded value sets ----

/// One comma-separated part of a cron field.
#[derive(Debug, Clone)]
enum Part {
    Star,
    StarStep(i32),
    Value(i32),
    ValueStep(i32, i32),
    Range(i32, i32),
    RangeStep(i32, i32, i32),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Names {
    None,
    Month,
    Weekday,
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const DAYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];

fn part_strategy(min: i32, max: i32) -> impl Strategy<Value = Part> {
    let span = (max - min).max(1);
    prop_oneof![
        2 => Just(Part::Star),
        1 => (1..=span).prop_map(Part::StarStep),
        4 => (min..=max).prop_map(Part::Value),
        1 => (min..=max, 1..=span).prop_map(|(v, s)| Part::ValueStep(v, s)),
        2 => (min..=max, min..=max).prop_map(|(a, b)| Part::Range(a.min(b), a.max(b))),
        1 => (min..=max, min..=max, 1..=span).prop_map(|(a, b, s)| Part::RangeStep(a.min(b), a.max(b), s)),
    ]
}

/// Renders a value, as a name prefix (random length, random case) when `style` says so.
fn value_text(v: i32, names: Names, style: u32) -> String {
    let name = match names {
        Names::Month => MONTHS[(v - 1) as usize],
        Names::Weekday if v < 7 => DAYS[v as usize],
        _ => return v.to_string(),
    };
    if style % 3 == 0 {
        return v.to_string();
    }
    let min_len = if names == Names::Month { 3 } else { 2 };
    let len = min_len + (style / 3) as usize % (name.len() - min_len + 1);
    let prefix = &name[..len];
    match style % 3 {
        1 => prefix.to_string(),
        _ => prefix.to_ascii_uppercase(),
    }
}

fn part_text(p: &Part, names: Names, style: u32) -> String {
    let v = |x: i32| value_text(x, names, style);
    match *p {
        Part::Star => "*".into(),
        Part::StarStep(s) => format!("*/{s}"),
        Part::Value(x) => v(x),
        Part::ValueStep(x, s) => format!("{}/{s}", v(x)),
        Part::Range(a, b) => format!("{}-{}", v(a), v(b)),
        Part::RangeStep(a, b, s) => format!("{}-{}/{s}", v(a), v(b)),
    }
}

/// The values a part stands for, by plain iteration.
fn part_values(p: &Part, min: i32, max: i32) -> Vec<i32> {
    let (lo, hi, step) = match *p {
        Part::Star => (min, max, 1),
        Part::StarStep(s) => (min, max, s),
        Part::Value(x) => (x, x, 1),
        Part::ValueStep(x, s) => (x, max, s),
        Part::Range(a, b) => (a, b, 1),
        Part::RangeStep(a, b, s) => (a, b, s),
    };
    (lo..=hi).step_by(step as usize).collect()
}

type Field = (Vec<Part>, u32);

fn field_strategy(min: i32, max: i32) -> impl Strategy<Value = Field> {
    (
        prop::collection::vec(part_strategy(min, max), 1..=3),
        any::<u32>(),
    )
}

fn field_text(f: &Field, names: Names) -> String {
    f.0.iter()
        .map(|p| part_text(p, names, f.1))
        .collect::<Vec<_>>()
        .join(",")
}

fn field_set<const N: usize>(f: &Field, min: i32, max: i32) -> [bool; N] {
    let mut out = [false; N];
    for p in &f.0 {
        for v in part_values(p, min, max) {
            // Day of week 7 is Sunday.
            out[(if N == 7 && v == 7 { 0 } else { v }) as usize] = true;
        }
    }
    out
}

/// A cron string and the calendar it must mean.
fn cron_strategy() -> impl Strategy<Value = (String, OracleCalendar)> {
    let years = prop_oneof![
        2 => Just(None),
        1 => (2017i32..=2030, 0i32..=3).prop_map(|(y, n)| Some((y, y + n))),
    ];
    (
        prop::option::of(field_strategy(0, 59)),
        field_strategy(0, 59),
        field_strategy(0, 23),
        field_strategy(1, 31),
        field_strategy(1, 12),
        field_strategy(0, 7),
        years,
        0u8..3,
    )
        .prop_map(|(second, minute, hour, dom, month, dow, years, layout)| {
            let mut fields = vec![
                field_text(&minute, Names::None),
                field_text(&hour, Names::None),
                field_text(&dom, Names::None),
                field_text(&month, Names::Month),
                field_text(&dow, Names::Weekday),
            ];
            let year_text = years.map_or("*".to_string(), |(a, b)| format!("{a}-{b}"));
            // Layout: 5 fields, 6 (year last) or 7 (seconds first, year last).
            let seconds = if layout == 2 { second.clone() } else { None };
            match (layout, &seconds) {
                (1, _) => fields.push(year_text),
                (2, Some(s)) => {
                    fields.insert(0, field_text(s, Names::None));
                    fields.push(year_text);
                }
                (2, None) => {
                    fields.insert(0, "0".into());
                    fields.push(year_text);
                }
                _ => {}
            }
            let years = if layout == 0 {
                None
            } else {
                years.map(|(a, b)| (a..=b).collect::<BTreeSet<_>>())
            };
            let mut second_set = [false; 60];
            match &seconds {
                Some(s) => second_set = field_set::<60>(s, 0, 59),
                None => second_set[0] = true,
            }
            let calendar = OracleCalendar {
                second: second_set,
                minute: field_set::<60>(&minute, 0, 59),
                hour: field_set::<24>(&hour, 0, 23),
                day_of_month: field_set::<32>(&dom, 1, 31),
                month: field_set::<13>(&month, 1, 12),
                day_of_week: field_set::<7>(&dow, 0, 7),
                years,
            };
            (fields.join(" "), calendar)
        })
}
