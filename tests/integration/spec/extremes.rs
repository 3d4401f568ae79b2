//! The spec layer at the edges of time: chrono's whole range as `after`, bounds and jitter at
//! their extremes, the 2100 horizon. Found worth pinning while fuzzing (`fuzz/`); no panic
//! anywhere, and the expected values come from Temporal's rules (docs/semantics.md):
//! `after` is raised to `start_time - 1s`, which is the epoch minus one
//! second when there is no start time, and nothing after 2100 (#bounds-and-the-horizon); Go's
//! truncating interval formula (#intervals); jitter below the gap to the next raw time
//! (#jitter).

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use schedule_engine::{ScheduleIntervalSpec, ScheduleSpec};

const MIN: DateTime<Utc> = DateTime::<Utc>::MIN_UTC;
const MAX: DateTime<Utc> = DateTime::<Utc>::MAX_UTC;

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

fn cron(expr: &str) -> ScheduleSpec {
    ScheduleSpec {
        cron_expressions: vec![expr.to_string()],
        ..Default::default()
    }
}

#[test]
fn without_start_at_the_search_begins_at_the_epoch() {
    let spec = cron("*/5 * * * *").compile().unwrap();
    let first = spec.next_time(MIN).unwrap();
    assert_eq!(first.nominal, utc(1970, 1, 1, 0, 0, 0));
    assert_eq!(first.actual, first.nominal);
    let times: Vec<_> = spec.matching_times(MIN, MAX).take(3).collect();
    assert_eq!(
        times,
        [
            utc(1970, 1, 1, 0, 0, 0),
            utc(1970, 1, 1, 0, 5, 0),
            utc(1970, 1, 1, 0, 10, 0)
        ]
    );
}

#[test]
fn nothing_after_2100() {
    let spec = cron("*/5 * * * *").compile().unwrap();
    assert_eq!(spec.next_time(MAX), None);
    assert_eq!(
        spec.next_time(utc(2100, 12, 31, 23, 50, 0))
            .map(|t| t.nominal),
        Some(utc(2100, 12, 31, 23, 55, 0))
    );
    assert_eq!(spec.next_time(utc(2100, 12, 31, 23, 55, 0)), None);
    assert_eq!(
        spec.matching_times(utc(2100, 12, 31, 23, 55, 0), MAX)
            .count(),
        0
    );
    let every_second = cron("@every 1s").compile().unwrap();
    assert_eq!(every_second.next_time(utc(2100, 12, 31, 23, 59, 59)), None);
}

#[test]
fn bounds_at_the_ends_of_time() {
    let late_start = ScheduleSpec {
        start_at: Some(MAX),
        ..cron("*/5 * * * *")
    };
    assert_eq!(late_start.compile().unwrap().next_time(MIN), None);
    let early_end = ScheduleSpec {
        end_at: Some(MIN),
        ..cron("*/5 * * * *")
    };
    assert_eq!(early_end.compile().unwrap().next_time(MIN), None);
}

#[test]
fn huge_jitter_stays_below_the_next_raw_time() {
    let spec = ScheduleSpec {
        jitter: Some(Duration::MAX),
        ..cron("@every 1s")
    }
    .compile_with_jitter_seed("seed-1")
    .unwrap();
    let mut after = utc(2026, 11, 26, 12, 0, 0);
    for _ in 0..100 {
        let t = spec.next_time(after).unwrap();
        assert_eq!(t.nominal, after + chrono::TimeDelta::seconds(1));
        assert!(t.actual >= t.nominal && t.actual < t.nominal + chrono::TimeDelta::seconds(1));
        after = t.nominal;
    }
}

#[test]
fn an_interval_longer_than_the_horizon_never_fires() {
    // Go's truncating division puts the first time at `every` itself from an `after` just
    // before the epoch, so even n = 0 (the epoch) is not returned.
    for every in [
        Duration::MAX,
        Duration::from_secs(u64::MAX),
        Duration::from_secs(1 << 40),
    ] {
        let spec = ScheduleSpec {
            intervals: vec![ScheduleIntervalSpec::new(every)],
            ..Default::default()
        };
        if let Ok(compiled) = spec.compile() {
            assert_eq!(compiled.next_time(MIN), None, "every {every:?}");
            assert_eq!(compiled.next_time(utc(2026, 1, 1, 0, 0, 0)), None);
        }
    }
}
