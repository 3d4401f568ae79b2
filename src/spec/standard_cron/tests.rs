//! Hand-checked cases of robfig's parser and `Next`; the server's own answers are in
//! tests/spec_standard_cron.rs.

use chrono::{DateTime, Utc};

use super::StandardCron;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn next(cron: &str, after: &str) -> Option<DateTime<Utc>> {
    StandardCron::parse(cron).unwrap().next(t(after))
}

#[test]
fn the_day_rule_is_or_unless_a_star_is_written() {
    // 2026-12-03 is a Thursday.
    assert_eq!(
        next("0 0 13 * 5", "2026-12-03T10:00:00Z"),
        Some(t("2026-12-04T00:00:00Z"))
    );
    assert_eq!(
        next("0 0 13 * ?", "2026-12-03T10:00:00Z"),
        Some(t("2026-12-13T00:00:00Z"))
    );
    // `*/1` keeps the star, `1-31` and `1/1` do not.
    assert_eq!(
        next("0 0 */1 * 5", "2026-12-03T10:00:00Z"),
        Some(t("2026-12-04T00:00:00Z"))
    );
    assert_eq!(
        next("0 0 1-31 * 5", "2026-12-03T10:00:00Z"),
        Some(t("2026-12-04T00:00:00Z"))
    );
    assert_eq!(
        next("0 0 1/2 * 4", "2026-12-03T10:00:00Z"),
        Some(t("2026-12-05T00:00:00Z"))
    );
}

#[test]
fn every_counts_from_the_given_second() {
    assert_eq!(
        next("@every 1h", "2026-12-03T10:23:45.900Z"),
        Some(t("2026-12-03T11:23:45Z"))
    );
    assert_eq!(
        next("@every 1.5s", "2026-12-03T10:00:00Z"),
        Some(t("2026-12-03T10:00:01Z"))
    );
    assert_eq!(
        next("@every -5s", "2026-12-03T10:00:00Z"),
        Some(t("2026-12-03T10:00:01Z"))
    );
}

#[test]
fn what_robfig_rejects() {
    for bad in [
        "",
        "* * * *",
        "0 0 * * 7",
        "0 0 * * 1-7",
        "60 * * * *",
        "@every 1d",
        "@DAILY",
        "@daily ",
        " @daily",
        "-5 * * * *",
        "0 0 * * sat-sun",
        "CRON_TZ=UTC",
        "TZ=Nowhere * * * * *",
        "*/0 * * * *",
        "1-2-3 * * * *",
        "1/2/3 * * * *",
        "0 0 * * monday",
        "0 0 L * *",
        "0 0 0 * * *",
    ] {
        assert!(
            StandardCron::parse(bad).is_err(),
            "{bad:?} should be rejected"
        );
    }
    assert_eq!(
        StandardCron::parse("0 0 * * 7").unwrap_err().message(),
        "end of range (7) above maximum (6): 7 (day of week)"
    );
}

#[test]
fn quirks_robfig_accepts() {
    for ok in [
        "*-5 * * * *",
        "?-x * * * *",
        "+5 * * * *",
        "1,,2 * * * *",
        "? ? ? ? ?",
        "TZ= * * * * *",
        "CRON_TZ=Local @hourly",
        "0 0 * * FR\u{130}",
        "5-+10 * * * *",
    ] {
        assert!(StandardCron::parse(ok).is_ok(), "{ok:?} should be accepted");
    }
    // A field that matches nothing parses, and never fires.
    assert_eq!(next(", * * * *", "2026-12-03T10:00:00Z"), None);
    assert_eq!(next("0 0 30 2 *", "2026-12-03T10:00:00Z"), None);
}

#[test]
fn next_run_skips_times_passed_and_rounds_up() {
    let cron = StandardCron::parse("*/5 * * * *").unwrap();
    // Scheduled 00:05:00.3, closed 00:12:00.25: 00:10 passed, 00:15 is 179.75 s away -> 180 s.
    let run = cron
        .next_run(t("2022-06-01T00:05:00.300Z"), t("2022-06-01T00:12:00.250Z"))
        .unwrap();
    assert_eq!(run.cron_time, t("2022-06-01T00:15:00Z"));
    assert_eq!(run.backoff.as_secs(), 180);
    // A close exactly on a cron time takes that time, with no wait.
    let run = cron
        .next_run(t("2022-06-01T00:05:00Z"), t("2022-06-01T00:10:00Z"))
        .unwrap();
    assert_eq!(
        (run.cron_time, run.backoff.as_secs()),
        (t("2022-06-01T00:10:00Z"), 0)
    );
    // A year-long gap costs no year of steps and lands on the same time.
    let run = cron
        .next_run(t("2022-06-01T00:05:00Z"), t("2023-06-01T00:07:30Z"))
        .unwrap();
    assert_eq!(run.cron_time, t("2023-06-01T00:10:00Z"));
    let every = StandardCron::parse("@every 7s").unwrap();
    let run = every
        .next_run(t("2022-06-01T00:00:00.500Z"), t("2023-06-01T00:00:00Z"))
        .unwrap();
    // 2022-06-01 + k * 7 s: 31 536 000 s later is 4 505 142 * 7 + 6, so the next is 1 s on.
    assert_eq!(run.cron_time, t("2023-06-01T00:00:01Z"));
}

#[test]
fn robfig_skips_lord_howes_two_oclock_on_its_half_hour_fall_back() {
    // 2027-04-04 02:00 +11:00 -> 01:30 +10:30: 02:00 +10:30 happens once, but robfig's hour
    // step (01:00 -> 01:30 -> 02:30) passes over it. The server's vector
    // `CRON_TZ=Australia/Lord_Howe 0 2 4 4 *` shows the same skip.
    let cron = "CRON_TZ=Australia/Lord_Howe 0 2 * * *";
    assert_eq!(
        next(cron, "2027-04-02T02:00:00+11:00"),
        Some(t("2027-04-03T02:00:00+11:00"))
    );
    assert_eq!(
        next(cron, "2027-04-03T02:00:00+11:00"),
        Some(t("2027-04-05T02:00:00+10:30"))
    );
}
