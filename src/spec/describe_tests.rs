//! Descriptions of specs: the sentences a reader gets for common and unusual specs.

use std::time::Duration;

use chrono::{TimeZone, Utc};

use crate::{
    DstPolicy, IntervalAnchor, NonexistentTime, RepeatedTime, ScheduleCalendarSpec,
    ScheduleIntervalSpec, ScheduleRange, ScheduleSpec,
};

fn cron(text: &str) -> String {
    ScheduleSpec {
        cron_expressions: vec![text.into()],
        ..Default::default()
    }
    .compile()
    .unwrap_or_else(|e| panic!("{text}: {e}"))
    .to_string()
}

#[test]
fn cron_strings() {
    for (text, want) in [
        ("0 9 * * MON-FRI", "at 09:00, Monday through Friday, in UTC"),
        ("0 9 * * *", "at 09:00 every day, in UTC"),
        ("30 8,17 * * *", "at 08:30 and 17:30 every day, in UTC"),
        ("*/15 * * * *", "every 15 minutes, in UTC"),
        ("5/15 * * * *", "every 15 minutes from :05, in UTC"),
        ("* * * * *", "every minute, in UTC"),
        ("*/10 * * * * * *", "every 10 seconds, in UTC"),
        ("* * * * * * *", "every second, in UTC"),
        ("0 * * * *", "every hour, in UTC"),
        ("30 * * * *", "every hour at :30, in UTC"),
        ("0 */6 * * *", "every 6 hours, in UTC"),
        ("0 1/6 * * *", "every 6 hours from 01:00, in UTC"),
        (
            "*/15 9-17 * * 1-5",
            "every 15 minutes from 09:00 through 17:59, Monday through Friday, in UTC",
        ),
        (
            "0 9,12,15,18,21 * * *",
            "at :00 past hours 9, 12, ..., 21 every day, in UTC",
        ),
        ("0 0 1 * *", "at 00:00 on the 1st of the month, in UTC"),
        (
            "0 0 1,15 * *",
            "at 00:00 on the 1st and 15th of the month, in UTC",
        ),
        ("0 0 29 2 *", "at 00:00 on February 29, in UTC"),
        (
            "0 0 1 1,7 *",
            "at 00:00 on the 1st of the month, in January and July, in UTC",
        ),
        (
            "0 12 * 6-8 6,0",
            "at 12:00 on Saturday and Sunday, in June through August, in UTC",
        ),
        (
            "0 0 13 * 5",
            "at 00:00 on the 13th of the month, if it is Friday, in UTC",
        ),
        (
            "0 0 1 1 * 2027-2029",
            "at 00:00 on January 1, in 2027 through 2029, in UTC",
        ),
        (
            "0 18 L * *",
            "at 18:00 on the last day of the month, in UTC",
        ),
        (
            "0 18 L-3 * *",
            "at 18:00 on the 4th-to-last day of the month, in UTC",
        ),
        (
            "0 18 1,L * *",
            "at 18:00 on the 1st and the last day of the month, in UTC",
        ),
        (
            "0 18 LW * *",
            "at 18:00 on the last weekday of the month, in UTC",
        ),
        (
            "0 18 15W * *",
            "at 18:00 on the weekday nearest the 15th of the month, in UTC",
        ),
        (
            "0 9 * * 1#3",
            "at 09:00 on the third Monday of the month, in UTC",
        ),
        (
            "0 9 * * 5L",
            "at 09:00 on the last Friday of the month, in UTC",
        ),
        (
            "0 9 * * 2,4#3",
            "at 09:00 on Tuesday or the third Thursday of the month, in UTC",
        ),
        ("0 0 * * 0", "at 00:00 on Sunday, in UTC"),
        (
            "0 12 * * 1,3,5",
            "at 12:00 on Monday, Wednesday and Friday, in UTC",
        ),
        (
            "0 0,12 1 * *",
            "at 00:00 and 12:00 on the 1st of the month, in UTC",
        ),
        (
            "5,10,40 * * * *",
            "at :05, :10 and :40 past every hour, in UTC",
        ),
        (
            "15,45 */2 * * *",
            "every 30 minutes from :15, in hours 0, 2, ..., 22, in UTC",
        ),
        (
            "0 0 * 1,3,5,7,9 *",
            "at 00:00 every day, in January, March, ..., September, in UTC",
        ),
        (
            "0 9 * * 1#1,1#3",
            "at 09:00 on the first and third Monday of the month, in UTC",
        ),
        (
            "0 9 * * 1#1,3#3",
            "at 09:00 on the first Monday and the third Wednesday of the month, in UTC",
        ),
        (
            "0 9 * * 5L,SUN#2",
            "at 09:00 on the second Sunday and the last Friday of the month, in UTC",
        ),
        ("@every 90m", "every 90 minutes"),
        (
            "@every 1d/6h",
            "every day (offset 6 hours from the Unix epoch)",
        ),
        ("@every 36h", "every 36 hours"),
    ] {
        assert_eq!(cron(text), want, "{text}");
    }
}

#[test]
fn zone_skip_bounds_jitter_and_policy() {
    let spec = ScheduleSpec {
        cron_expressions: vec!["0 18 LW * *".into()],
        skip: vec![ScheduleCalendarSpec {
            hour: vec![ScheduleRange::single(18)],
            month: vec![ScheduleRange::single(12)],
            ..Default::default()
        }],
        time_zone_name: Some("Europe/Berlin".into()),
        start_at: Some(Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap()),
        end_at: Some(Utc.with_ymd_and_hms(2028, 1, 1, 0, 0, 0).unwrap()),
        jitter: Some(Duration::from_secs(30)),
        dst: DstPolicy {
            nonexistent: NonexistentTime::RunAfterGap,
            repeated: RepeatedTime::First,
        },
        ..Default::default()
    };
    assert_eq!(
        spec.compile().unwrap().to_string(),
        "at 18:00 on the last weekday of the month, in Europe/Berlin, except at 18:00 every \
         day, in December, from 2027-01-01T00:00:00Z, until 2028-01-01T00:00:00Z, each delayed \
         by up to 30 seconds of jitter; a time skipped by a DST change runs right after it; a \
         time repeated by a DST change runs once"
    );
}

#[test]
fn structured_calendars_read_like_their_cron_strings() {
    let third_monday = ScheduleCalendarSpec {
        hour: vec![ScheduleRange::single(9)],
        day_of_week: vec![ScheduleRange::single(1)],
        week_of_month: vec![ScheduleRange::single(3)],
        ..Default::default()
    };
    let spec = ScheduleSpec {
        calendars: vec![third_monday],
        ..Default::default()
    };
    assert_eq!(spec.compile().unwrap().to_string(), cron("0 9 * * 1#3"));
    let last_three_days = ScheduleCalendarSpec {
        day_of_month: vec![ScheduleRange::new(-3, -1, 1)],
        ..Default::default()
    };
    let spec = ScheduleSpec {
        calendars: vec![last_three_days],
        ..Default::default()
    };
    assert_eq!(
        spec.compile().unwrap().to_string(),
        "at 00:00 on the 3rd-to-last day, the 2nd-to-last day and the last day of the month, in UTC"
    );
}

#[test]
fn intervals_and_anchors() {
    let every = |secs| ScheduleIntervalSpec::new(Duration::from_secs(secs));
    let start = Utc.with_ymd_and_hms(2026, 3, 2, 9, 30, 0).unwrap();
    let spec = ScheduleSpec {
        intervals: vec![every(36 * 3600)],
        start_at: Some(start),
        interval_anchor: IntervalAnchor::StartAt,
        ..Default::default()
    };
    assert_eq!(
        spec.compile().unwrap().to_string(),
        "every 36 hours, from 2026-03-02T09:30:00Z"
    );
    let spec = ScheduleSpec {
        interval_anchor: IntervalAnchor::Epoch,
        ..spec
    };
    // 36-hour multiples since the epoch: 2026-03-03T12:00:00Z is the first after the start.
    assert_eq!(
        spec.compile().unwrap().to_string(),
        "every 36 hours (first at 2026-03-03T12:00:00Z), from 2026-03-02T09:30:00Z"
    );
    let spec = ScheduleSpec {
        intervals: vec![every(5400), every(45)],
        ..Default::default()
    };
    assert_eq!(
        spec.compile().unwrap().to_string(),
        "every 45 seconds; every 90 minutes"
    );
    assert_eq!(
        ScheduleSpec::default().compile().unwrap().to_string(),
        "never"
    );
    let never = ScheduleSpec {
        cron_expressions: vec!["0 0 30 2 *".into()],
        ..Default::default()
    };
    assert_eq!(never.compile().unwrap().to_string(), "never");
}
