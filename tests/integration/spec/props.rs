//! Property tests against the independent brute-force oracle (`tests/util/spec/oracle.rs`):
//! random structured calendars, random cron strings (built from random field choices whose
//! value sets the test expands itself), random intervals, skip calendars, bounds and jitter,
//! in zones with 1-hour, 30-minute and 45-minute-offset DST and none.

use std::time::Duration;

use chrono::{DateTime, TimeDelta};
use proptest::prelude::*;

use crate::util::spec::cron_gen::cron_strategy;
use crate::util::spec::strategies::{calendar_strategy, interval_strategy, skip_strategy};
use crate::util::spec::zones::{dst_zone_and_after, zone_and_after};
use crate::util::spec::{check_against_oracle, CHAIN};
use schedule_engine::{ScheduleCalendarSpec, ScheduleRange, ScheduleSpec};

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn structured_calendars_match_the_oracle(
        calendars in prop::collection::vec(calendar_strategy(), 1..=2),
        skip in prop::collection::vec(skip_strategy(), 0..=1),
        (zone, after) in zone_and_after(),
    ) {
        crate::util::spec::check_calendars(calendars, skip, zone, after)?;
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
        let oracle = crate::util::spec::oracle_for(&spec);
        check_against_oracle(&spec, &oracle, after)?;
    }

    #[test]
    fn cron_strings_match_the_oracle(cron in cron_strategy(), (zone, after) in zone_and_after()) {
        let (text, calendar) = cron;
        crate::util::spec::check_cron(&text, calendar, zone, after)?;
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
        let oracle = crate::util::spec::oracle_for(&spec);
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
            // Feeding the actual time back yields the next nominal time (docs/semantics.md#jitter).
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
        field in 0usize..8,
        nearest_weekday in any::<bool>(),
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
            6 => calendar.day_of_week = ranges,
            _ => calendar.week_of_month = ranges,
        }
        calendar.nearest_weekday = nearest_weekday;
        let specs = [
            ScheduleSpec { cron_expressions: vec![text.clone()], ..Default::default() },
            ScheduleSpec { calendars: vec![calendar.clone()], skip: vec![calendar], ..Default::default() },
            ScheduleSpec { time_zone_name: Some(text), ..Default::default() },
        ];
        let after = DateTime::from_timestamp(after % 8_000_000_000_000, 0).unwrap_or_default();
        for spec in specs {
            if let Ok(compiled) = spec.compile() {
                let _ = compiled.to_string();
                let _ = compiled.next_time(after);
                let _ = compiled.matching_times(after, after + TimeDelta::days(3)).take(3).count();
            }
        }
    }
}
