//! The DST policies (`ScheduleSpec::dst`): the timelines of the crate docs, every offset change
//! of 2020-2030 in seven zones (1-hour, 30-minute and 45-minute-offset DST, midnight changes)
//! under all four policies against the brute-force oracle (`tests/util/spec/`), and random
//! calendars near changes.

use std::str::FromStr;

use chrono::{DateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;

use crate::util::spec::strategies::calendar_near_changes;
use crate::util::spec::zones::dst_zone_and_after;
use schedule_engine::{
    DstPolicy, NonexistentTime, RepeatedTime, ScheduleCalendarSpec, ScheduleRange, ScheduleSpec,
};

const POLICIES: [DstPolicy; 4] = [
    DstPolicy {
        nonexistent: NonexistentTime::Skip,
        repeated: RepeatedTime::Both,
    },
    DstPolicy {
        nonexistent: NonexistentTime::RunAfterGap,
        repeated: RepeatedTime::Both,
    },
    DstPolicy {
        nonexistent: NonexistentTime::Skip,
        repeated: RepeatedTime::First,
    },
    DstPolicy {
        nonexistent: NonexistentTime::RunAfterGap,
        repeated: RepeatedTime::First,
    },
];

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn spec(crons: &[&str], zone: &str, dst: DstPolicy) -> ScheduleSpec {
    ScheduleSpec {
        cron_expressions: crons.iter().map(|c| c.to_string()).collect(),
        time_zone_name: Some(zone.into()),
        dst,
        ..Default::default()
    }
}

fn listed(spec: &ScheduleSpec, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    spec.compile().unwrap().matching_times(from, to).collect()
}

#[test]
fn new_york_timelines_of_the_crate_docs() {
    let [skip, after_gap, first, _] = POLICIES;
    // 2024-03-10: 02:00 EST (07:00Z) becomes 03:00 EDT; 02:30 does not exist.
    let (from, to) = (utc(2024, 3, 9, 12, 0), utc(2024, 3, 11, 12, 0));
    let ny = "America/New_York";
    assert_eq!(
        listed(&spec(&["30 2 * * *"], ny, skip), from, to),
        [utc(2024, 3, 11, 6, 30)]
    );
    assert_eq!(
        listed(&spec(&["30 2 * * *"], ny, after_gap), from, to),
        [utc(2024, 3, 10, 7, 0), utc(2024, 3, 11, 6, 30)]
    );
    // 2024-11-03: 02:00 EDT (06:00Z) becomes 01:00 EST; 01:30 happens twice.
    let (from, to) = (utc(2024, 11, 3, 0, 0), utc(2024, 11, 3, 12, 0));
    assert_eq!(
        listed(&spec(&["30 1 * * *"], ny, skip), from, to),
        [utc(2024, 11, 3, 5, 30), utc(2024, 11, 3, 6, 30)]
    );
    assert_eq!(
        listed(&spec(&["30 1 * * *"], ny, first), from, to),
        [utc(2024, 11, 3, 5, 30)]
    );
    // Every 15 minutes is elapsed time under every policy: no gap longer than 15 minutes.
    for policy in POLICIES {
        for (from, to) in [
            (utc(2024, 3, 10, 6, 0), utc(2024, 3, 10, 8, 0)),
            (utc(2024, 11, 3, 5, 0), utc(2024, 11, 3, 7, 30)),
        ] {
            let times = listed(&spec(&["*/15 * * * *"], ny, policy), from, to);
            let gaps: Vec<i64> = times
                .windows(2)
                .map(|w| (w[1] - w[0]).num_minutes())
                .collect();
            assert!(gaps.iter().all(|&g| g == 15), "{policy:?}: {gaps:?}");
        }
    }
}

#[test]
fn lord_howe_half_hour_changes() {
    let [skip, after_gap, first, _] = POLICIES;
    let lh = "Australia/Lord_Howe";
    // 2024-10-06: 02:00 (+10:30, 15:30Z the day before) becomes 02:30 (+11); 02:15 is skipped.
    let (from, to) = (utc(2024, 10, 5, 12, 0), utc(2024, 10, 6, 12, 0));
    assert!(listed(&spec(&["15 2 * * *"], lh, skip), from, to).is_empty());
    assert_eq!(
        listed(&spec(&["15 2 * * *"], lh, after_gap), from, to),
        [utc(2024, 10, 5, 15, 30)]
    );
    // 2024-04-07: 02:00 (+11, 15:00Z the day before) becomes 01:30 (+10:30); 01:45 comes twice.
    let (from, to) = (utc(2024, 4, 6, 12, 0), utc(2024, 4, 7, 12, 0));
    assert_eq!(
        listed(&spec(&["45 1 * * *"], lh, skip), from, to),
        [utc(2024, 4, 6, 14, 45), utc(2024, 4, 6, 15, 15)]
    );
    assert_eq!(
        listed(&spec(&["45 1 * * *"], lh, first), from, to),
        [utc(2024, 4, 6, 14, 45)]
    );
}

/// The zone's offset changes in `[from, to)`, exact to the second (hourly scan, then bisection,
/// with chrono-tz).
fn changes(tz: Tz, from: i64, to: i64) -> Vec<i64> {
    let offset = |t: i64| {
        let utc = DateTime::from_timestamp(t, 0).unwrap().naive_utc();
        tz.offset_from_utc_datetime(&utc).fix().local_minus_utc()
    };
    let mut out = Vec::new();
    let mut t = from;
    while t < to {
        if offset(t) != offset(t + 3600) {
            let (mut lo, mut hi) = (t, t + 3600);
            while hi - lo > 1 {
                let mid = (lo + hi) / 2;
                if offset(mid) == offset(t) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            out.push(hi);
        }
        t += 3600;
    }
    out
}

#[test]
fn every_change_of_2020_to_2030_under_every_policy() {
    // Fixed-hour calendars at distinct seconds (so no calendar hides another's time), one that
    // runs every hour, and one at midnight for the zones that change at midnight.
    let crons = [
        "1 30 1,2 * * * *",
        "2 15,45 0-3 * * * *",
        "3 */10 0-3 * * * *",
        "4 7 * * * * *",
        "0 0 0 * * * *",
    ];
    let zones = [
        "America/New_York",
        "Europe/London",
        "Europe/Berlin",
        "Australia/Lord_Howe",
        "Pacific/Chatham",
        "America/Santiago",
        "America/Havana",
    ];
    let (from, to) = (
        utc(2020, 1, 1, 0, 0).timestamp(),
        utc(2031, 1, 1, 0, 0).timestamp(),
    );
    let mut checked = 0;
    for zone in zones {
        let tz = Tz::from_str(zone).unwrap();
        let all = changes(tz, from, to);
        assert!(all.len() >= 10, "{zone}: {} changes", all.len());
        for change in all {
            for dst in POLICIES {
                let spec = spec(&crons, zone, dst);
                // The structured twin of the cron strings, for the oracle.
                let structured = ScheduleSpec {
                    calendars: crons.iter().map(|c| cron_calendar(c)).collect(),
                    cron_expressions: Vec::new(),
                    ..spec.clone()
                };
                let oracle = crate::util::spec::oracle_for(&structured);
                let (a, b) = (change - 4 * 3600, change + 4 * 3600);
                let want = oracle.times(a, b, usize::MAX);
                let got: Vec<i64> = listed(
                    &spec,
                    DateTime::from_timestamp(a, 0).unwrap(),
                    DateTime::from_timestamp(b, 0).unwrap(),
                )
                .iter()
                .map(|t| t.timestamp())
                .collect();
                assert_eq!(got, want, "{zone} change at {change}, {dst:?}");
                checked += 1;
            }
        }
    }
    assert!(checked > 500, "{checked}");
}

/// The structured calendar of one of the 7-field cron strings above (second, minute, hour;
/// every day), built by hand.
fn cron_calendar(text: &str) -> ScheduleCalendarSpec {
    let single = |v| vec![ScheduleRange::single(v)];
    match text {
        "1 30 1,2 * * * *" => ScheduleCalendarSpec {
            second: single(1),
            minute: single(30),
            hour: vec![ScheduleRange::new(1, 2, 1)],
            ..Default::default()
        },
        "2 15,45 0-3 * * * *" => ScheduleCalendarSpec {
            second: single(2),
            minute: vec![ScheduleRange::new(15, 45, 30)],
            hour: vec![ScheduleRange::new(0, 3, 1)],
            ..Default::default()
        },
        "3 */10 0-3 * * * *" => ScheduleCalendarSpec {
            second: single(3),
            minute: vec![ScheduleRange::new(0, 59, 10)],
            hour: vec![ScheduleRange::new(0, 3, 1)],
            ..Default::default()
        },
        "4 7 * * * * *" => ScheduleCalendarSpec {
            second: single(4),
            minute: single(7),
            hour: vec![ScheduleRange::new(0, 23, 1)],
            ..Default::default()
        },
        "0 0 0 * * * *" => ScheduleCalendarSpec::default(),
        other => panic!("no structured twin for {other}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// Six hours from up to three hours before a change: the whole list of times.
    #[test]
    fn random_calendars_near_changes_match_the_oracle(
        calendars in prop::collection::vec(calendar_near_changes(), 1..=2),
        policy in prop::sample::select(POLICIES.to_vec()),
        (zone, after) in dst_zone_and_after(),
    ) {
        let spec = ScheduleSpec {
            calendars,
            time_zone_name: Some(zone.to_string()),
            dst: policy,
            ..Default::default()
        };
        let oracle = crate::util::spec::oracle_for(&spec);
        let until = after + 6 * 3600;
        let want = oracle.times(after, until, 2_000);
        let got: Vec<i64> = spec
            .compile()
            .unwrap()
            .matching_times(
                DateTime::from_timestamp(after, 0).unwrap(),
                DateTime::from_timestamp(until, 0).unwrap(),
            )
            .take(2_000)
            .map(|t| t.timestamp())
            .collect();
        prop_assert_eq!(got, want);
    }
}
