//! Random specs for property tests: structured calendars (with and without the day rules
//! beyond Temporal), skip calendars that never exclude a whole day, intervals.

use std::time::Duration;

use proptest::prelude::*;
use schedule_engine::{ScheduleCalendarSpec, ScheduleIntervalSpec, ScheduleRange};

/// 1-3 valid ranges for a field in `min..=max`, or (rarely) none.
pub fn ranges_strategy(min: i32, max: i32) -> impl Strategy<Value = Vec<ScheduleRange>> {
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

pub fn calendar_strategy() -> impl Strategy<Value = ScheduleCalendarSpec> {
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
pub fn skip_strategy() -> impl Strategy<Value = ScheduleCalendarSpec> {
    (calendar_strategy(), 0i32..=22, 0i32..=5, any::<bool>()).prop_map(|(mut c, h, n, wide)| {
        c.hour = vec![ScheduleRange::new(h, (h + n).min(22), 1)];
        if wide {
            c.minute = vec![ScheduleRange::new(0, 59, 1)];
            c.second = vec![ScheduleRange::new(0, 59, 1)];
        }
        c
    })
}

pub fn interval_strategy() -> impl Strategy<Value = ScheduleIntervalSpec> {
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

/// 1-2 ranges wholly in `lo..=hi` (negative bounds for the values counted from the month's end).
fn signed_ranges(lo: i32, hi: i32) -> impl Strategy<Value = Vec<ScheduleRange>> {
    let range = (lo..=hi, lo..=hi, 0i32..=3, any::<bool>()).prop_map(|(a, b, step, single)| {
        if single {
            ScheduleRange::new(a, 0, 0)
        } else {
            ScheduleRange::new(a.min(b), a.max(b), step)
        }
    });
    prop::collection::vec(range, 1..=2)
}

/// A calendar with the day rules beyond Temporal: days counted from the end of the month
/// (added to or replacing the positive days) and the nearest weekday, with every weekday; or
/// weeks of the month (from either end) with every day of the month; or both at random (then
/// often matching nothing, as Temporal's AND of the two fields wants).
pub fn rules_calendar_strategy() -> impl Strategy<Value = ScheduleCalendarSpec> {
    let weeks = prop_oneof![signed_ranges(1, 5), signed_ranges(-5, -1)];
    (
        calendar_strategy(),
        signed_ranges(-31, -1),
        any::<bool>(),
        weeks,
        any::<bool>(),
        prop_oneof![2 => Just(0u8), 2 => Just(1), 1 => Just(2)],
    )
        .prop_map(|(mut c, from_end, add, weeks, nearest_weekday, mode)| {
            if mode != 1 {
                if add {
                    c.day_of_month.extend(from_end);
                } else {
                    c.day_of_month = from_end;
                }
                c.nearest_weekday = nearest_weekday;
            }
            if mode != 0 {
                c.week_of_month = weeks;
            }
            match mode {
                0 => c.day_of_week = vec![ScheduleRange::new(0, 6, 1)],
                1 => c.day_of_month = vec![ScheduleRange::new(1, 31, 1)],
                _ => {}
            }
            c
        })
}

/// A random calendar (with day rules now and then), one second per minute and, often, only the
/// small hours, where the changes are.
pub fn calendar_near_changes() -> impl Strategy<Value = ScheduleCalendarSpec> {
    let base = prop_oneof![3 => calendar_strategy(), 1 => rules_calendar_strategy()];
    (base, 0i32..60, prop::option::of((0i32..=3, 0i32..=2))).prop_map(|(mut c, s, small)| {
        c.second = vec![ScheduleRange::single(s)];
        if let Some((h, n)) = small {
            c.hour = vec![ScheduleRange::new(h, h + n, 1)];
        }
        c
    })
}
