//! Bytes decoded into a structured spec (calendars with random, often invalid, ranges, day
//! rules included: days and weeks counted from the end, the nearest weekday; intervals and
//! their anchor; cron strings, some with `L`, `W`, `#`; skip calendars; bounds; jitter; a DST
//! policy; a zone from a list), compiled, described, then walked with `next_time` a bounded
//! number of times from an instant derived from the bytes.
//!
//! Must hold: no panic (also for instants at the ends of chrono's range; describing it too); each nominal time strictly after the previous one and whole-second;
//! nominal within `[start_at truncated to the second, end_at]` and not past 2100; the actual
//! time in `[nominal, nominal + jitter)` and before the next nominal time; `next_time` is
//! deterministic; `matching_times` is strictly increasing and within its window.

#![no_main]

use std::time::Duration;

use chrono::{DateTime, Datelike, TimeDelta, TimeZone, Timelike, Utc};
use libfuzzer_sys::fuzz_target;
use schedule_engine::{
    IntervalAnchor, ScheduleCalendarSpec, ScheduleIntervalSpec, ScheduleRange, ScheduleSpec,
};

#[path = "dst_policy.rs"]
mod dst_policy;

#[path = "bytes.rs"]
mod bytes;
use bytes::Bytes;

const ZONES: [&str; 12] = [
    "UTC",
    "",
    "America/New_York",
    "Europe/London",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Pacific/Chatham",
    "America/Santiago",
    "Not/AZone",
    "utc",
];

const CRONS: [&str; 20] = [
    "*/5 * * * *",
    "0 9 * * MON-FRI",
    "@every 90m/7m",
    "@daily",
    "CRON_TZ=Europe/London 30 1 * * *",
    "0 0 31 2 *",
    "*/7 */3 * * * * *",
    "0 12 * * 5-7 2027-2030",
    "30 2 * * 7 # comment",
    "@every 1s",
    "0 18 LW * *",
    "0 9 L-3 * *",
    "0 9 1,L * 1-5",
    "0 12 15W 2 *",
    "0 9 * * 1#3",
    "30 2 * * 5L,7#5",
    "0 0 31W 4 * 2027",
    "* * L * 6#5",
    "0 0 * * FRI#2 # second Friday",
    "0 30 1 l * sunl *",
];

const SEEDS: [&str; 3] = ["", "seed-1", "mynsid-myschedule"];

/// Field bounds in calendar order: second, minute, hour, day of month (counted from either
/// end), month, year, day of week, week of month (from either end).
const BOUNDS: [(i32, i32); 8] = [
    (0, 59),
    (0, 59),
    (0, 23),
    (-31, 31),
    (1, 12),
    (2000, 2100),
    (0, 6),
    (-5, 5),
];

fn range(b: &mut Bytes, (min, max): (i32, i32)) -> ScheduleRange {
    let span = max - min + 1;
    // Mostly values near the field's range (one below to two above), sometimes anything.
    let value = |b: &mut Bytes| match b.u8() % 8 {
        0 => b.u32() as i32,
        _ => min - 1 + (b.u32() % (span as u32 + 3)) as i32,
    };
    let start = value(b);
    let end = match b.u8() % 4 {
        0 => 0,
        1 => start,
        _ => value(b),
    };
    let step = match b.u8() % 8 {
        0 => b.u32() as i32,
        n => i32::from(n) - 2,
    };
    ScheduleRange::new(start, end, step)
}

fn field(b: &mut Bytes, bounds: (i32, i32), default: Vec<ScheduleRange>) -> Vec<ScheduleRange> {
    match b.u8() % 4 {
        0 => default,
        n => (1..n).map(|_| range(b, bounds)).collect(),
    }
}

fn calendar(b: &mut Bytes) -> ScheduleCalendarSpec {
    let d = ScheduleCalendarSpec::default();
    ScheduleCalendarSpec {
        second: field(b, BOUNDS[0], d.second),
        minute: field(b, BOUNDS[1], d.minute),
        hour: field(b, BOUNDS[2], d.hour),
        day_of_month: field(b, BOUNDS[3], d.day_of_month),
        month: field(b, BOUNDS[4], d.month),
        year: field(b, BOUNDS[5], d.year),
        day_of_week: field(b, BOUNDS[6], d.day_of_week),
        week_of_month: field(b, BOUNDS[7], d.week_of_month),
        nearest_weekday: b.u8() % 4 == 0,
        comment: None,
    }
}

fn duration(b: &mut Bytes) -> Duration {
    match b.u8() % 4 {
        0 => Duration::ZERO,
        1 => Duration::from_secs(u64::from(b.u32() % 120)),
        2 => Duration::from_secs(u64::from(b.u32() % (40 * 86_400))),
        _ => Duration::new(u64::from(b.u32()), b.u32() % 1_000_000_000),
    }
}

/// An instant from 1946 to 2106, sometimes with a sub-second part; now and then one next to
/// the ends of chrono's range, where arithmetic overflows if anything does.
///
/// `far_past` allows the start of the range. Bounds get it rarely: a `start_at` in year -262143
/// makes every search start there, and a spec whose skip calendars exclude everything then
/// spends Temporal's whole compute limit (1,209,600 candidates) on every call, which would
/// leave little fuzzing time for anything else.
fn instant(b: &mut Bytes, far_past: bool) -> DateTime<Utc> {
    let near = TimeDelta::seconds(i64::from(b.u8()));
    match b.u8() % 16 {
        0 if far_past => return DateTime::<Utc>::MIN_UTC + near,
        1 => return DateTime::<Utc>::MAX_UTC - near,
        _ => {}
    }
    let base = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .unwrap()
        .timestamp();
    let secs = base + i64::from(b.u32() as i32) + i64::from(b.u8() % 4) * 1_000_000_000 / 4;
    let nanos = if b.u8().is_multiple_of(2) {
        0
    } else {
        b.u32() % 1_000_000_000
    };
    Utc.timestamp_opt(secs, nanos).unwrap()
}

fn spec(b: &mut Bytes) -> ScheduleSpec {
    let calendars = (0..b.u8() % 3).map(|_| calendar(b)).collect();
    let intervals = (0..b.u8() % 3)
        .map(|_| ScheduleIntervalSpec::with_offset(duration(b), duration(b)))
        .collect();
    let cron_expressions = (0..b.u8() % 2)
        .map(|_| b.pick(&CRONS).to_string())
        .collect();
    let skip = (0..b.u8() % 2).map(|_| calendar(b)).collect();
    let start_at = b.u8().is_multiple_of(3).then(|| {
        let far_past = b.u8().is_multiple_of(16);
        instant(b, far_past)
    });
    let end_at = b.u8().is_multiple_of(3).then(|| instant(b, true));
    let jitter = b.u8().is_multiple_of(2).then(|| duration(b));
    let time_zone_name = match b.u8() % 4 {
        0 => None,
        _ => Some(b.pick(&ZONES).to_string()),
    };
    let dst = dst_policy::from_bits(b.u8());
    let interval_anchor = match b.u8() % 4 {
        0 => IntervalAnchor::StartAt,
        1 => IntervalAnchor::At(instant(b, true)),
        _ => IntervalAnchor::Epoch,
    };
    ScheduleSpec {
        calendars,
        intervals,
        cron_expressions,
        skip,
        start_at,
        end_at,
        jitter,
        time_zone_name,
        dst,
        interval_anchor,
    }
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    let spec = spec(&mut b);
    let seed = *b.pick(&SEEDS);
    let after = instant(&mut b, true);
    let steps = 1 + b.u8() % 32;
    let Ok(compiled) = spec.compile_with_jitter_seed(seed) else {
        return;
    };
    assert!(!compiled.to_string().is_empty(), "empty description");

    let lower = spec
        .start_at
        .map(|s| Utc.timestamp_opt(s.timestamp(), 0).unwrap());
    let jitter_ms = spec
        .jitter
        .map_or(0, |j| j.as_millis().min(u128::from(u32::MAX)) as i64);
    let mut previous: Option<schedule_engine::ScheduledTime> = None;
    let mut cursor = after;
    for _ in 0..steps {
        let Some(t) = compiled.next_time(cursor) else {
            break;
        };
        assert_eq!(compiled.next_time(cursor), Some(t), "not deterministic");
        assert!(t.nominal > cursor, "{} not after {cursor}", t.nominal);
        assert_eq!(t.nominal.nanosecond(), 0, "{} not whole-second", t.nominal);
        assert!(t.nominal.year() <= 2100, "{} past 2100", t.nominal);
        if let Some(lower) = lower {
            assert!(t.nominal >= lower, "{} before start {lower}", t.nominal);
        }
        if let Some(end) = spec.end_at {
            assert!(t.nominal <= end, "{} after end {end}", t.nominal);
        }
        let delay = t.actual - t.nominal;
        assert!(delay >= TimeDelta::zero(), "{t:?}: actual before nominal");
        if jitter_ms == 0 {
            assert_eq!(delay, TimeDelta::zero(), "{t:?}: jitter without jitter");
        } else {
            assert!(
                delay < TimeDelta::milliseconds(jitter_ms),
                "{t:?}: jitter too large"
            );
        }
        if let Some(p) = previous {
            assert!(p.actual < t.nominal, "{p:?} runs into {t:?}");
        }
        previous = Some(t);
        cursor = t.nominal;
    }

    let end = after
        .checked_add_signed(TimeDelta::days(3))
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    let mut last = after;
    for t in compiled.matching_times(after, end).take(64) {
        assert!(
            t > last && t <= end,
            "matching_times: {t} after {last}, window end {end}"
        );
        last = t;
    }
});
