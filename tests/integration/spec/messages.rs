//! Messages that teach: cron strings written in another dialect's habits (Quartz and the `cron`
//! crate, so tokio-cron-scheduler, put the seconds first in six fields; Temporal's six end in
//! the year, docs/semantics.md#cron-strings) fail with Temporal's field order
//! and the fix, and strings valid in Temporal's reading keep it. Expected times were read off a
//! calendar (2027-01-01 is a Friday).

use chrono::{DateTime, Utc};
use schedule_engine::{ScheduleSpec, SpecError};

const ORDER: &str = "Temporal's 6-field form is minute hour day-of-month month day-of-week year";

fn spec(text: &str) -> ScheduleSpec {
    ScheduleSpec {
        cron_expressions: vec![text.into()],
        ..Default::default()
    }
}

fn error(text: &str) -> SpecError {
    match spec(text).compile() {
        Err(e) => e,
        Ok(_) => panic!("{text} compiled"),
    }
}

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// The first `n` times of `text` after 2027-01-01T00:00:00Z (UTC unless the string says).
fn first(text: &str, n: usize) -> Vec<DateTime<Utc>> {
    let compiled = spec(text)
        .compile()
        .unwrap_or_else(|e| panic!("{text}: {e}"));
    let mut after = t("2027-01-01T00:00:00Z");
    let mut out = Vec::new();
    while out.len() < n {
        let next = compiled.next_time(after).expect("a next time").nominal;
        out.push(next);
        after = next;
    }
    out
}

#[test]
fn six_fields_written_seconds_first_fail_with_the_fix() {
    // (string, the field that fails in Temporal's reading, the fix the message gives, and the
    // first times of what the seconds-first reading means)
    let cases: [(&str, &str, &str, &[&str]); 6] = [
        (
            "0 0 9 * * MON-FRI",
            "year",
            "0 0 9 * * MON-FRI *",
            &[
                "2027-01-01T09:00:00Z",
                "2027-01-04T09:00:00Z",
                "2027-01-05T09:00:00Z",
            ],
        ),
        (
            "0 0 9 * * 1-5",
            "year",
            "0 0 9 * * 1-5 *",
            &[
                "2027-01-01T09:00:00Z",
                "2027-01-04T09:00:00Z",
                "2027-01-05T09:00:00Z",
            ],
        ),
        (
            "0 30 9 * * ?",
            "hour",
            "0 30 9 * * * *",
            &[
                "2027-01-01T09:30:00Z",
                "2027-01-02T09:30:00Z",
                "2027-01-03T09:30:00Z",
            ],
        ),
        (
            "0 0 12 ? * WED",
            "month",
            "0 0 12 * * WED *",
            &[
                "2027-01-06T12:00:00Z",
                "2027-01-13T12:00:00Z",
                "2027-01-20T12:00:00Z",
            ],
        ),
        (
            "0 0/5 * * * ?",
            "year",
            "0 0/5 * * * * *",
            &[
                "2027-01-01T00:05:00Z",
                "2027-01-01T00:10:00Z",
                "2027-01-01T00:15:00Z",
            ],
        ),
        (
            "15 10 * * * MON",
            "year",
            "15 10 * * * MON *",
            &[
                "2027-01-04T00:10:15Z",
                "2027-01-04T01:10:15Z",
                "2027-01-04T02:10:15Z",
            ],
        ),
    ];
    for (text, part, fix, meant) in cases {
        let e = error(text);
        assert_eq!(e.field(), format!("cron_expressions[0] ({text:?}) {part}"));
        assert!(e.message().contains(ORDER), "{text}: {e}");
        let tail = format!(
            "for seconds first use 7 fields, second minute hour day-of-month month \
             day-of-week year{}: {fix:?}",
            if text.contains('?') {
                " (Temporal has no `?`: `*`)"
            } else {
                ""
            }
        );
        assert!(e.message().ends_with(&tail), "{text}: {e}");
        let meant: Vec<_> = meant.iter().map(|s| t(s)).collect();
        assert_eq!(first(fix, meant.len()), meant, "{fix}");
    }
}

#[test]
fn the_fix_keeps_the_zone_prefix() {
    let text = "CRON_TZ=Europe/Paris 0 0 9 * * MON-FRI # standup";
    let e = error(text);
    assert!(
        e.message()
            .ends_with(r#": "CRON_TZ=Europe/Paris 0 0 9 * * MON-FRI *""#),
        "{e}"
    );
    // 09:00 in Paris is 08:00Z in winter.
    assert_eq!(
        first("CRON_TZ=Europe/Paris 0 0 9 * * MON-FRI *", 2),
        [t("2027-01-01T08:00:00Z"), t("2027-01-04T08:00:00Z")]
    );
}

#[test]
fn other_failures_get_the_order_or_the_question_mark_or_nothing() {
    // No day of week fits in the year, and hour 25 fails seconds first too: the order alone.
    for text in ["0 0 25 * * MON", "0 0 25 * * 1-5"] {
        let e = error(text);
        assert!(e.field().ends_with(" year"), "{text}: {e}");
        assert!(
            e.message().contains(ORDER) && !e.message().contains("7 fields"),
            "{text}: {e}"
        );
    }
    // A year meant as a year, or a failure outside the year that fails seconds first too
    // (hour 32), reads as it did.
    assert_eq!(
        error("0 1 2 3 4 1999").message(),
        "1999 is not in range 2000-2100"
    );
    assert_eq!(
        error("0 0 32 * * *").message(),
        error("0 0 32 * *").message()
    );
    // `?` in five and seven fields: what to write instead.
    for text in ["0 0 ? * MON", "0 0 9 ? * MON-FRI 2026"] {
        let e = error(text);
        assert!(e.field().ends_with(" day_of_month"), "{text}: {e}");
        assert!(
            e.message().ends_with(
                "; `?` (Quartz's \"no specific value\") is not in Temporal's dialect: write `*`"
            ),
            "{text}: {e}"
        );
    }
}

/// Six fields valid in both readings keep Temporal's, as the server does (these strings
/// compile there): minute hour day-of-month month day-of-week, every year.
#[test]
fn six_fields_valid_in_temporals_reading_keep_it() {
    assert_eq!(
        first("0 0 9 * * *", 3),
        [
            t("2027-01-09T00:00:00Z"),
            t("2027-02-09T00:00:00Z"),
            t("2027-03-09T00:00:00Z")
        ]
    );
    assert_eq!(
        first("*/10 * * * * *", 2),
        [t("2027-01-01T00:10:00Z"), t("2027-01-01T00:20:00Z")]
    );
    assert_eq!(
        first("0 */5 * * * *", 2),
        [t("2027-01-01T05:00:00Z"), t("2027-01-01T10:00:00Z")]
    );
}
