//! Compile errors as the user sees them, and `GetNextTime` rules from docs/semantics.md.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::{ScheduleCalendarSpec, ScheduleIntervalSpec, ScheduleRange, ScheduleSpec};

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn cron(exprs: &[&str], zone: Option<&str>) -> ScheduleSpec {
    ScheduleSpec {
        cron_expressions: exprs.iter().map(|s| s.to_string()).collect(),
        time_zone_name: zone.map(str::to_string),
        ..Default::default()
    }
}

fn error(spec: &ScheduleSpec) -> String {
    spec.compile().unwrap_err().to_string()
}

fn every(secs: u64) -> ScheduleSpec {
    ScheduleSpec {
        intervals: vec![ScheduleIntervalSpec::new(Duration::from_secs(secs))],
        ..Default::default()
    }
}

#[test]
fn messages_name_field_and_text() {
    assert_eq!(
        error(&cron(&["0 9 * * FOO"], None)),
        "cron_expressions[0] (\"0 9 * * FOO\") day_of_week: \"FOO\" is not a day name or number 0-7"
    );
    assert_eq!(
        error(&cron(&["0 9 * * *"], Some("Mars/Base"))),
        "time_zone_name: unknown time zone \"Mars/Base\""
    );
    assert_eq!(
        error(&cron(&["0 9 * * *"], Some("america/new_york"))),
        "time_zone_name: unknown time zone \"america/new_york\""
    );
    let e = cron(&["0 9 * * *"], Some("Mars/Base"))
        .compile()
        .unwrap_err();
    assert_eq!(
        (e.field(), e.message()),
        ("time_zone_name", "unknown time zone \"Mars/Base\"")
    );
    let m = error(&cron(&["CRON_TZ=Mars/Base 0 9 * * *"], None));
    assert!(
        m.starts_with("cron_expressions[0] time zone: unknown time zone \"Mars/Base\""),
        "{m}"
    );
    assert_eq!(
        error(&cron(&[""], None)),
        "cron_expressions[0] (\"\"): expected 5, 6 or 7 fields (or @every, @daily, ...), found 0"
    );
    let spec = ScheduleSpec {
        calendars: vec![ScheduleCalendarSpec {
            hour: vec![ScheduleRange::single(24)],
            ..Default::default()
        }],
        ..Default::default()
    };
    assert!(error(&spec).starts_with("calendars[0].hour: 24 is not in range 0-23"));
}

#[test]
fn skip_calendars_are_validated_too() {
    let spec = ScheduleSpec {
        skip: vec![
            ScheduleCalendarSpec::default(),
            ScheduleCalendarSpec {
                minute: vec![ScheduleRange::new(0, 59, -1)],
                ..Default::default()
            },
        ],
        ..every(60)
    };
    let m = error(&spec);
    assert!(
        m.starts_with("skip[1].minute: ") && m.contains("step -1 is negative"),
        "{m}"
    );
}

#[test]
fn cron_zones_must_agree() {
    let m = error(&cron(
        &["CRON_TZ=Europe/Berlin 0 9 * * *", "0 10 * * *"],
        None,
    ));
    assert!(m.starts_with("cron_expressions[1] (\"0 10 * * *\") time zone: no time zone conflicts with \"Europe/Berlin\""), "{m}");
    let m = error(&cron(&["0 10 * * *", "TZ=Europe/Berlin 0 9 * * *"], None));
    assert!(
        m.contains("\"Europe/Berlin\" conflicts with no time zone"),
        "{m}"
    );
    // @every counts as having no zone, whatever its prefix.
    assert!(
        cron(&["CRON_TZ=Europe/Berlin 0 9 * * *", "@every 5h"], None)
            .compile()
            .is_err()
    );
    assert!(
        cron(&["CRON_TZ=Europe/Berlin @every 5h", "0 9 * * *"], None)
            .compile()
            .is_ok()
    );
    let m = error(&cron(
        &["CRON_TZ=Europe/Berlin 0 9 * * *"],
        Some("America/New_York"),
    ));
    assert!(
        m.contains("\"Europe/Berlin\" conflicts with time_zone_name \"America/New_York\""),
        "{m}"
    );
    assert!(cron(
        &[
            "CRON_TZ=Europe/Berlin 0 9 * * *",
            "TZ=Europe/Berlin 1 9 * * *"
        ],
        Some("Europe/Berlin")
    )
    .compile()
    .is_ok());
}

#[test]
fn interval_validation() {
    let m = error(&every(0));
    assert_eq!(m, "intervals[0].every: 0ns is less than 1s");
    let spec = ScheduleSpec {
        intervals: vec![ScheduleIntervalSpec::new(Duration::from_millis(999))],
        ..Default::default()
    };
    assert_eq!(error(&spec), "intervals[0].every: 999ms is less than 1s");
    let spec = ScheduleSpec {
        intervals: vec![ScheduleIntervalSpec::with_offset(
            Duration::from_secs(3600),
            Duration::from_secs(3600),
        )],
        ..Default::default()
    };
    assert_eq!(
        error(&spec),
        "intervals[0].offset: 3600s is not less than every (3600s)"
    );
    // Sub-second parts: validated in full, computed truncated (2.5 s / 1.7 s acts as 2 s / 1 s).
    let spec = ScheduleSpec {
        intervals: vec![ScheduleIntervalSpec::with_offset(
            Duration::from_millis(2500),
            Duration::from_millis(1700),
        )],
        ..Default::default()
    };
    let c = spec.compile().unwrap();
    let n = c.next_time(t("2026-01-01T00:00:00Z")).unwrap().nominal;
    assert_eq!(n, t("2026-01-01T00:00:01Z"));
}

#[test]
fn bounds_are_inclusive_at_whole_seconds() {
    // docs/semantics.md#bounds-and-the-horizon: start 12:00:00.456 yields the 12:00:00 match.
    let spec = ScheduleSpec {
        start_at: Some(t("2022-03-23T12:00:00.456Z")),
        end_at: Some(t("2022-03-23T12:02:00Z")),
        ..every(60)
    };
    let c = spec.compile().unwrap();
    let times: Vec<_> = c
        .matching_times(t("2022-03-01T00:00:00Z"), t("2022-04-01T00:00:00Z"))
        .collect();
    assert_eq!(
        times,
        vec![
            t("2022-03-23T12:00:00Z"),
            t("2022-03-23T12:01:00Z"),
            t("2022-03-23T12:02:00Z")
        ]
    );
}

#[test]
fn everything_skipped_ends_at_the_iteration_limit() {
    let all_seconds = ScheduleCalendarSpec {
        second: vec![ScheduleRange::new(0, 59, 1)],
        minute: vec![ScheduleRange::new(0, 59, 1)],
        hour: vec![ScheduleRange::new(0, 23, 1)],
        ..Default::default()
    };
    let spec = ScheduleSpec {
        skip: vec![all_seconds],
        ..every(1)
    };
    assert_eq!(
        spec.compile().unwrap().next_time(t("2022-01-01T00:00:00Z")),
        None
    );
}

#[test]
fn empty_fields_never_fire_and_horizon_is_2100() {
    let spec = ScheduleSpec {
        calendars: vec![ScheduleCalendarSpec {
            second: vec![],
            ..Default::default()
        }],
        ..Default::default()
    };
    assert_eq!(
        spec.compile().unwrap().next_time(t("2022-01-01T00:00:00Z")),
        None
    );
    let c = every(86_400).compile().unwrap();
    assert_eq!(
        c.next_time(t("2100-12-30T00:00:00Z")).map(|s| s.nominal),
        Some(t("2100-12-31T00:00:00Z"))
    );
    assert_eq!(c.next_time(t("2100-12-31T00:00:00Z")), None);
}

#[test]
fn impossible_dates_never_fire_and_feb_29_waits_for_a_leap_year() {
    let from = t("2026-01-01T00:00:00Z");
    for never in [
        "0 0 30 2 *",
        "0 0 31 2 *",
        "0 0 31 4 *",
        "0 0 31 4,6,9,11 *",
        "0 0 29 2 * 2026-2027",
        "0 0 29 2 * 2100",
    ] {
        let spec = cron(&[never], None).compile().unwrap();
        assert!(spec.inner.calendars.is_empty(), "{never} kept");
        assert_eq!(spec.next_time(from), None, "{never}");
    }
    // 2028 is the first leap year after 2026.
    let next = |text: &str| {
        cron(&[text], None)
            .compile()
            .unwrap()
            .next_time(from)
            .map(|s| s.nominal)
    };
    assert_eq!(next("0 0 29 2 *"), Some(t("2028-02-29T00:00:00Z")));
    assert_eq!(
        next("0 0 29 2 * 2026-2030"),
        Some(t("2028-02-29T00:00:00Z"))
    );
    // One possible month is enough: April 31 never, May 31 2026 does.
    assert_eq!(next("0 0 31 4,5 *"), Some(t("2026-05-31T00:00:00Z")));
}

#[test]
fn jitter_worked_example_and_cap() {
    // docs/semantics.md#jitter: interval 24h, jitter 1h, after 2022-03-23T11:00Z.
    let spec = ScheduleSpec {
        jitter: Some(Duration::from_secs(3600)),
        ..every(86_400)
    };
    let after = t("2022-03-23T11:00:00Z");
    for (seed, want) in [
        ("", "2022-03-24T00:35:24.276Z"),
        ("seed-1", "2022-03-24T00:06:12.519Z"),
        ("seed-2", "2022-03-24T00:39:16.922Z"),
    ] {
        let c = spec.compile_with_jitter_seed(seed).unwrap();
        assert_eq!(c.next_time(after).unwrap().actual, t(want), "seed {seed:?}");
    }
    // The jitter never reaches the next raw time.
    let spec = ScheduleSpec {
        jitter: Some(Duration::from_secs(100_000)),
        ..every(60)
    };
    let c = spec.compile().unwrap();
    let s = c.next_time(after).unwrap();
    assert!(s.actual - s.nominal < chrono::TimeDelta::seconds(60));
}

#[test]
fn compiled_spec_is_shareable() {
    fn assert_traits<T: Clone + std::fmt::Debug + Send + Sync + 'static>() {}
    assert_traits::<super::CompiledSpec>();
    let c = cron(&["0 9 * * *"], Some("America/New_York"))
        .compile()
        .unwrap();
    let d = c.clone();
    assert_eq!(c, d);
    assert!(format!("{c:?}").contains("America/New_York"));
}

#[test]
fn interval_search_in_i64_agrees_with_the_128_bit_one() {
    // The wide version is the definition (Go's truncating division on exact integers).
    let big = [i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX - 1, i64::MAX];
    let times = [
        i64::MIN,
        i64::MIN / 2,
        -1_000_000_007,
        -1,
        0,
        1,
        1_654_041_599,
        1_654_041_600,
        4_133_980_799,
        i64::MAX / 2,
        i64::MAX - 1,
        i64::MAX,
    ];
    for &ts in &times {
        for every in [1, 7, 60, 86_400, 1 << 40, i64::MAX] {
            for offset in [0, 1, 13, every - 1, every / 2] {
                assert_eq!(
                    crate::spec::interval::interval_next(ts, every, offset),
                    crate::spec::interval::interval_next_wide(ts, every, offset),
                    "{ts} {every} {offset}"
                );
            }
        }
        for &offset in &big {
            assert_eq!(
                crate::spec::interval::interval_next(ts, 3600, offset),
                crate::spec::interval::interval_next_wide(ts, 3600, offset),
                "{ts} {offset}"
            );
        }
    }
}

#[test]
fn the_lone_interval_shortcut_is_taken_only_for_a_bare_interval_and_agrees_with_the_search() {
    let plain = every(300).compile().unwrap();
    assert!(plain.lone.is_some());
    // Anything beside the one interval leaves the general search in charge.
    let others = [
        ScheduleSpec {
            start_at: Some(t("2022-06-01T00:00:00Z")),
            ..every(300)
        },
        ScheduleSpec {
            end_at: Some(t("2022-06-01T00:00:00Z")),
            ..every(300)
        },
        ScheduleSpec {
            jitter: Some(Duration::from_secs(5)),
            ..every(300)
        },
        ScheduleSpec {
            skip: vec![ScheduleCalendarSpec::default()],
            ..every(300)
        },
        ScheduleSpec {
            cron_expressions: vec!["0 * * * *".into()],
            ..every(300)
        },
        ScheduleSpec {
            intervals: vec![
                ScheduleIntervalSpec::new(Duration::from_secs(300)),
                ScheduleIntervalSpec::new(Duration::from_secs(7)),
            ],
            ..Default::default()
        },
    ];
    for spec in &others {
        assert!(spec.compile().unwrap().lone.is_none(), "{spec:?}");
    }
    // The shortcut's answers equal the general search's (which reads the spec, not `lone`),
    // before the epoch, in this era and at the 2100 horizon; also for sub-second durations
    // (whole seconds are kept: 1.5 s every 1.2 s offset is every 1 s offset 1 s), an `@every`
    // cron string, and a `start_at` inside the epoch's first second (search floor -1 as without).
    let interval = |every: Duration, offset: Duration| ScheduleSpec {
        intervals: vec![ScheduleIntervalSpec::with_offset(every, offset)],
        ..Default::default()
    };
    let mut specs: Vec<(i64, ScheduleSpec)> = [(1, 0), (300, 17), (86_400, 3_600), (604_800, 1)]
        .into_iter()
        .map(|(secs, offset)| {
            let spec = interval(Duration::from_secs(secs), Duration::from_secs(offset));
            (secs as i64, spec)
        })
        .collect();
    specs.push((
        1,
        interval(Duration::from_millis(1_500), Duration::from_millis(1_200)),
    ));
    specs.push((90, cron(&["@every 90s"], None)));
    specs.push((
        300,
        ScheduleSpec {
            start_at: Some(t("1970-01-01T00:00:00.5Z")),
            ..every(300)
        },
    ));
    for (secs, spec) in specs {
        let shown = format!("{spec:?}");
        let spec = spec.compile().unwrap();
        assert!(spec.lone.is_some(), "{shown}");
        for after in [
            i64::MIN,
            -86_400,
            -2,
            -1,
            0,
            1_654_041_599,
            1_654_041_600,
            4_133_980_799 - secs,
            4_133_980_799,
            i64::MAX,
        ] {
            assert_eq!(
                spec.next_time_unix(after),
                spec.search(after),
                "{shown} {after}"
            );
        }
    }
}

#[cfg(target_pointer_width = "64")]
#[test]
fn the_day_rules_and_policies_cost_plain_specs_no_memory() {
    // The engine keeps one compiled spec per schedule (its `Inner` behind an `Arc`, with one
    // calendar inline): the day rules live in a box and the policy in the jitter's spare bytes,
    // so both stay the size they were before them.
    assert!(size_of::<super::Calendar>() <= 56);
    assert!(size_of::<super::Inner>() <= 160);
}

#[test]
fn specs_saved_before_the_new_fields_still_load() {
    // A spec and a calendar as serialized before `dst`, `interval_anchor`, `week_of_month` and
    // `nearest_weekday` existed.
    let old = r#"{"calendars":[{"second":[{"start":0,"end":0,"step":0}],"minute":[{"start":30,"end":0,"step":0}],"hour":[{"start":2,"end":0,"step":0}],"day_of_month":[{"start":1,"end":31,"step":1}],"month":[{"start":1,"end":12,"step":1}],"year":[],"day_of_week":[{"start":0,"end":6,"step":1}],"comment":null}],"intervals":[],"cron_expressions":["0 9 * * *"],"skip":[],"start_at":null,"end_at":null,"jitter":null,"time_zone_name":"America/New_York"}"#;
    let spec: ScheduleSpec = serde_json::from_str(old).unwrap();
    assert_eq!(spec.dst, crate::spec::DstPolicy::default());
    assert_eq!(spec.interval_anchor, crate::spec::IntervalAnchor::Epoch);
    assert!(spec.calendars[0].week_of_month.is_empty());
    assert!(!spec.calendars[0].nearest_weekday);
    // The new fields round-trip under their Rust names.
    let new = ScheduleSpec {
        dst: crate::spec::DstPolicy {
            nonexistent: crate::spec::NonexistentTime::RunAfterGap,
            repeated: crate::spec::RepeatedTime::First,
        },
        interval_anchor: crate::spec::IntervalAnchor::At(t("2026-01-01T00:00:00Z")),
        ..spec.clone()
    };
    let json = serde_json::to_string(&new).unwrap();
    assert!(
        json.contains(r#""dst":{"nonexistent":"RunAfterGap","repeated":"First"}"#),
        "{json}"
    );
    assert!(
        json.contains(r#""interval_anchor":{"At":"2026-01-01T00:00:00Z"}"#),
        "{json}"
    );
    assert_eq!(serde_json::from_str::<ScheduleSpec>(&json).unwrap(), new);
}
