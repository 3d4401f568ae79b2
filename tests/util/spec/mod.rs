//! Helpers of the spec tests: JSON vector readers, the brute-force oracle (shares no code with
//! `src/`), robfig's dialect as a second oracle, and proptest strategies.

pub mod cron_gen;
pub mod oracle;
pub mod robfig_oracle;
pub mod strategies;
pub mod zones;

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;
use serde_json::Value;

use schedule_engine::{
    IntervalAnchor, ScheduleCalendarSpec, ScheduleIntervalSpec, ScheduleRange, ScheduleSpec,
};

use oracle::{Oracle, OracleCalendar};

/// Parses an RFC 3339 time.
pub fn time(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().expect("a time string"))
        .expect("RFC 3339")
        .with_timezone(&Utc)
}

/// A time as the vectors print it: RFC 3339, `Z`, fraction only when non-zero.
pub fn show(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

fn ranges(v: &Value) -> Vec<ScheduleRange> {
    v.as_array()
        .expect("a range list")
        .iter()
        .map(|r| {
            let n = |i: usize| r[i].as_i64().expect("an integer") as i32;
            ScheduleRange::new(n(0), n(1), n(2))
        })
        .collect()
}

/// A calendar of the neutral vector format (`[[start, end, step], ...]` per field).
pub fn neutral_calendar(v: &Value) -> ScheduleCalendarSpec {
    ScheduleCalendarSpec {
        second: ranges(&v["second"]),
        minute: ranges(&v["minute"]),
        hour: ranges(&v["hour"]),
        day_of_month: ranges(&v["day_of_month"]),
        month: ranges(&v["month"]),
        year: ranges(&v["year"]),
        day_of_week: ranges(&v["day_of_week"]),
        comment: v["comment"].as_str().map(str::to_string),
        ..Default::default()
    }
}

/// Seconds (possibly fractional) as a `Duration`; `None` when negative (not representable).
pub fn seconds(v: &Value) -> Option<Duration> {
    let s = v.as_f64().expect("a number");
    (s >= 0.0).then(|| Duration::from_nanos((s * 1e9).round() as u64))
}

/// A spec of the neutral vector format (tests/data/README.md). `None` when the spec
/// cannot be expressed in the Rust types (a negative interval or offset: `Duration` is unsigned).
pub fn neutral_spec(v: &Value) -> Option<ScheduleSpec> {
    let list = |k: &str| v[k].as_array().cloned().unwrap_or_default();
    let mut intervals = Vec::new();
    for iv in list("intervals") {
        intervals.push(ScheduleIntervalSpec::with_offset(
            seconds(&iv["every_s"])?,
            seconds(&iv["offset_s"])?,
        ));
    }
    Some(ScheduleSpec {
        calendars: list("calendars").iter().map(neutral_calendar).collect(),
        intervals,
        cron_expressions: list("cron_expressions")
            .iter()
            .map(|c| c.as_str().expect("a cron string").to_string())
            .collect(),
        skip: list("skip").iter().map(neutral_calendar).collect(),
        start_at: (!v["start_at"].is_null()).then(|| time(&v["start_at"])),
        end_at: (!v["end_at"].is_null()).then(|| time(&v["end_at"])),
        // Temporal treats a negative jitter as none.
        jitter: if v["jitter_s"].is_null() {
            None
        } else {
            seconds(&v["jitter_s"])
        },
        time_zone_name: v["time_zone_name"].as_str().map(str::to_string),
        ..Default::default()
    })
}

/// The oracle for a spec with structured calendars and intervals only (cron strings must have
/// been replaced by calendars first, e.g. from the server's `normalized` spec), with its DST
/// policy and interval anchor.
pub fn oracle_for(spec: &ScheduleSpec) -> Oracle {
    assert!(
        spec.cron_expressions.is_empty(),
        "the oracle takes no cron strings"
    );
    let tz = match spec.time_zone_name.as_deref() {
        None | Some("") => Tz::UTC,
        Some(name) => Tz::from_str(name).expect("a known zone"),
    };
    let mut oracle = Oracle::new(tz);
    oracle.calendars = spec
        .calendars
        .iter()
        .map(OracleCalendar::from_structured)
        .collect();
    oracle.skip = spec
        .skip
        .iter()
        .map(OracleCalendar::from_structured)
        .collect();
    // Intervals count from the anchor: `anchor + offset + k * every`.
    let anchor = match spec.interval_anchor {
        IntervalAnchor::StartAt => spec.start_at.expect("StartAt needs start_at").timestamp(),
        IntervalAnchor::At(t) => t.timestamp(),
        _ => 0,
    };
    oracle.intervals = spec
        .intervals
        .iter()
        .map(|iv| {
            (
                iv.every.as_secs() as i64,
                anchor + iv.offset.as_secs() as i64,
            )
        })
        .collect();
    oracle.start = spec.start_at.map(|t| t.timestamp());
    oracle.end = spec.end_at.map(|t| t.timestamp());
    oracle.dst = spec.dst;
    oracle
}

/// How many successive times [`check_against_oracle`] compares.
pub const CHAIN: usize = 16;
/// How far [`check_against_oracle`] lets the oracle search.
pub const HORIZON: i64 = 120 * 86_400;

/// The compiled spec's next `CHAIN` nominal times after `after` (each `next_time` from the
/// previous one), and its `matching_times` over the same stretch, compared with the oracle's.
/// `SPEC_PROPS_STATS` set: prints how many times were compared and whether they were near a
/// DST change.
pub fn check_against_oracle(
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
    prop_assert_eq!(&ours, &expected);
    // matching_times over the stretch the chain covered lists the same times.
    if let Some(&last) = expected.last() {
        let (from, to) = (
            DateTime::from_timestamp(after, 0).unwrap(),
            DateTime::from_timestamp(last, 0).unwrap(),
        );
        let listed: Vec<i64> = compiled
            .matching_times(from, to)
            .map(|t| t.timestamp())
            .collect();
        prop_assert_eq!(listed, expected, "matching_times");
    }
    Ok(())
}

/// [`check_against_oracle`] for structured calendars and skip calendars in `zone`.
pub fn check_calendars(
    calendars: Vec<ScheduleCalendarSpec>,
    skip: Vec<ScheduleCalendarSpec>,
    zone: &str,
    after: i64,
) -> Result<(), TestCaseError> {
    let spec = ScheduleSpec {
        calendars,
        skip,
        time_zone_name: Some(zone.to_string()),
        ..Default::default()
    };
    check_against_oracle(&spec, &oracle_for(&spec), after)
}

/// [`check_against_oracle`] for one cron string in `zone` that must mean `calendar`.
pub fn check_cron(
    text: &str,
    calendar: OracleCalendar,
    zone: &str,
    after: i64,
) -> Result<(), TestCaseError> {
    let spec = ScheduleSpec {
        cron_expressions: vec![text.to_string()],
        time_zone_name: Some(zone.to_string()),
        ..Default::default()
    };
    let mut oracle = Oracle::new(Tz::from_str(zone).expect("a known zone"));
    oracle.calendars = vec![calendar];
    check_against_oracle(&spec, &oracle, after)
        .map_err(|e| TestCaseError::fail(format!("{text:?}: {e}")))
}
