//! Zones and start instants for property tests: zones with 1-hour, 30-minute (Lord Howe) and
//! 45-minute-offset (Chatham) DST, DST until 2019 (Sao Paulo), and none; starts often just
//! before one of their changes, found with chrono-tz.

use std::str::FromStr;
use std::sync::OnceLock;

use chrono::{DateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;

pub const ZONES: [&str; 7] = [
    "UTC",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/Sao_Paulo",
    "Asia/Kolkata",
];

/// A start instant: any time in 2017..=2028, often in a month with DST changes somewhere
/// (Sao Paulo still had DST until 2019).
pub fn after_strategy() -> impl Strategy<Value = i64> {
    let months = prop_oneof![
        1 => 1u32..=12,
        3 => prop::sample::select(vec![2u32, 3, 4, 9, 10, 11]),
    ];
    (2017i32..=2028, months, 1u32..=28, 0i64..86_400).prop_map(|(y, m, d, sod)| {
        Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap().timestamp() + sod
    })
}

/// The zone's UTC-offset changes in 2017..2029, found by hourly sampling with chrono-tz.
pub fn transitions(zone: &str) -> Vec<i64> {
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
pub fn dst_zone_and_after() -> impl Strategy<Value = (&'static str, i64)> {
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

pub fn transition_table() -> &'static [(&'static str, Vec<i64>)] {
    static TRANSITIONS: OnceLock<Vec<(&'static str, Vec<i64>)>> = OnceLock::new();
    TRANSITIONS.get_or_init(|| ZONES.iter().map(|z| (*z, transitions(z))).collect())
}

/// A zone and a start instant; half of the starts fall shortly before one of the zone's DST
/// changes (within two days, often within three hours).
pub fn zone_and_after() -> impl Strategy<Value = (&'static str, i64)> {
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

/// The zone of an IANA name.
pub fn zone_of(name: &str) -> Tz {
    Tz::from_str(name).unwrap()
}
