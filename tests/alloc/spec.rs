//! `CompiledSpec::next_time` does not touch the heap.
//!
//! A counting global allocator (`tests/util/counting_alloc.rs`) counts the allocations made by the current
//! thread. Compiling may allocate; every `next_time` call after that, the first one included,
//! must not.

use std::time::Duration;

use crate::counting_alloc::allocations;
use chrono::{DateTime, TimeZone, Utc};
use schedule_engine::{ScheduleCalendarSpec, ScheduleIntervalSpec, ScheduleRange, ScheduleSpec};

/// Whole-second instants spread over 2026-2030 (a fixed linear congruential walk).
fn instants(n: usize) -> Vec<DateTime<Utc>> {
    let lo = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .unwrap()
        .timestamp();
    let span: u64 = 5 * 365 * 86_400;
    let mut x: u64 = 12_345;
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            Utc.timestamp_opt(lo + ((x >> 11) % span) as i64, 0)
                .unwrap()
        })
        .collect()
}

/// Calls `next_time` from many instants and along successive occurrences; returns how many
/// allocations this thread made meanwhile and how many times were found (so the calls are used).
fn count_next_time(spec: &ScheduleSpec) -> (u64, usize) {
    let compiled = spec.compile().expect("the spec compiles");
    let starts = instants(2_000);
    let before = allocations();
    let mut found = 0;
    for &start in &starts {
        let mut after = start;
        for _ in 0..5 {
            match compiled.next_time(after) {
                Some(t) => {
                    found += 1;
                    after = t.nominal;
                }
                None => break,
            }
        }
    }
    (allocations() - before, found)
}

fn cron(expr: &str, zone: Option<&str>) -> ScheduleSpec {
    ScheduleSpec {
        cron_expressions: vec![expr.to_string()],
        time_zone_name: zone.map(str::to_string),
        ..Default::default()
    }
}

#[test]
fn the_counter_sees_allocations() {
    // Guards the test itself: a counter that never counts would make the others vacuous.
    let before = allocations();
    let v = std::hint::black_box(vec![1_u8; 64]);
    assert_eq!(v.len(), 64);
    assert!(allocations() > before);
}

#[test]
fn next_time_does_not_allocate_on_the_benchmark_expressions() {
    let cases = [
        ("*/5 * * * *", None),
        ("0 9 * * 1-5", None),
        ("30 2 1 * *", None),
        ("0 0 29 2 *", None),
        ("15,45 */2 * * *", None),
        ("30 2 * * *", Some("America/New_York")),
    ];
    for (expr, zone) in cases {
        let (allocs, found) = count_next_time(&cron(expr, zone));
        assert!(found > 0, "{expr}: no times found");
        assert_eq!(
            allocs, 0,
            "{expr} {zone:?}: {allocs} allocations in next_time"
        );
    }
}

#[test]
fn next_time_does_not_allocate_with_calendars_skip_intervals_bounds_and_jitter() {
    // The other paths of next_time: a structured calendar, a skip calendar, an interval,
    // bounds, and jitter (whose hash input is built per call) with a seed.
    let spec = ScheduleSpec {
        calendars: vec![ScheduleCalendarSpec {
            minute: vec![ScheduleRange::new(0, 59, 7)],
            hour: vec![ScheduleRange::new(8, 18, 1)],
            day_of_week: vec![ScheduleRange::new(1, 5, 1)],
            ..Default::default()
        }],
        intervals: vec![ScheduleIntervalSpec::with_offset(
            Duration::from_secs(5_400),
            Duration::from_secs(600),
        )],
        cron_expressions: vec!["0 12 * * SAT,SUN".to_string()],
        skip: vec![ScheduleCalendarSpec {
            second: vec![ScheduleRange::new(0, 59, 1)],
            minute: vec![ScheduleRange::new(0, 59, 1)],
            hour: vec![ScheduleRange::single(12)],
            ..Default::default()
        }],
        start_at: Some(Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0).unwrap()),
        end_at: Some(Utc.with_ymd_and_hms(2035, 6, 1, 0, 0, 0).unwrap()),
        jitter: Some(Duration::from_secs(300)),
        time_zone_name: Some("Europe/Berlin".to_string()),
        ..Default::default()
    };
    let compiled = spec
        .compile_with_jitter_seed("mynsid-myschedule")
        .expect("the spec compiles");
    let starts = instants(2_000);
    let before = allocations();
    let mut found = 0;
    for &start in &starts {
        if compiled.next_time(start).is_some() {
            found += 1;
        }
    }
    let allocs = allocations() - before;
    assert_eq!(found, 2_000);
    assert_eq!(allocs, 0, "{allocs} allocations in next_time");
}

/// Allocations made by `next_time` with jitter and a seed of `len` bytes: (first call on this
/// thread, the 1999 calls after it).
fn with_seed_of(len: usize) -> (u64, u64) {
    let spec = ScheduleSpec {
        cron_expressions: vec!["*/5 * * * *".to_string()],
        jitter: Some(Duration::from_secs(60)),
        ..Default::default()
    };
    let seed = "s".repeat(len);
    let compiled = spec
        .compile_with_jitter_seed(&seed)
        .expect("the spec compiles");
    let starts = instants(2_000);
    let before = allocations();
    assert!(compiled.next_time(starts[0]).is_some());
    let first = allocations() - before;
    let before = allocations();
    let found = starts[1..]
        .iter()
        .filter(|&&t| compiled.next_time(t).is_some())
        .count();
    assert_eq!(found, 1_999);
    (first, allocations() - before)
}

#[test]
fn next_time_with_a_seed_as_long_as_any_temporal_id_does_not_allocate() {
    // Temporal's ids may be up to 1000 bytes and the engine's seed is the schedule id.
    for len in [242, 1_000, 1_024] {
        assert_eq!(with_seed_of(len), (0, 0), "seed of {len} bytes");
    }
}

#[test]
fn next_time_with_a_longer_seed_allocates_only_on_the_threads_first_call() {
    // Beyond any id Temporal accepts the spec layer hashes from a per-thread buffer, reserved
    // on a thread's first such call; no later call may allocate.
    let (first, later) = with_seed_of(5_000);
    assert!(first <= 1, "{first} allocations in the first call");
    assert_eq!(later, 0, "{later} allocations after the first call");
}
