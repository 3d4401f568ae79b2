//! Parser tests: facts from Temporal's `TestParseCronString` and docs/semantics.md, and the
//! error messages (each names the part and quotes the offending text).

use super::*;
use crate::spec::calendar::year_words;
use crate::spec::days::DayRules;

fn cal(text: &str) -> (Calendar, String) {
    match parse(text) {
        Ok(Cron::Calendar { calendar, zone }) => (calendar, zone.to_string()),
        other => panic!("{text}: {other:?}"),
    }
}

fn bits(values: &[u32]) -> u64 {
    values.iter().fold(0, |m, v| m | 1 << v)
}

fn err(text: &str) -> CronError {
    match parse(text) {
        Err(e) => e,
        Ok(c) => panic!("{text} parsed: {c:?}"),
    }
}

#[test]
fn five_fields_with_steps_and_lists() {
    let (c, zone) = cal("5,9 */2 * * *");
    assert_eq!(zone, "");
    assert_eq!(c.second, 1);
    assert_eq!(c.minute, bits(&[5, 9]));
    assert_eq!(
        u64::from(c.hour),
        bits(&(0..24).step_by(2).collect::<Vec<_>>())
    );
    assert_eq!(c.day_of_month, u32::MAX << 1);
    assert_eq!(c.month, 0x1ffe);
    assert_eq!(c.day_of_week, 0x7f);
    assert!(c.all_years);
}

#[test]
fn seven_fields_tz_prefix_names_and_comment() {
    let (c, zone) = cal("CRON_TZ=US/Pacific 55 55,57 5 2/2 * wed-thurs *  # explanation");
    assert_eq!(zone, "US/Pacific");
    assert_eq!(c.second, bits(&[55]));
    assert_eq!(c.minute, bits(&[55, 57]));
    assert_eq!(c.hour, 1 << 5);
    assert_eq!(
        u64::from(c.day_of_month),
        bits(&(2..=31).step_by(2).collect::<Vec<_>>())
    );
    assert_eq!(c.day_of_week, 1 << 3 | 1 << 4);
    let (_, zone) = cal("TZ=Europe/London 0 9 * * *");
    assert_eq!(zone, "Europe/London");
}

#[test]
fn six_fields_end_in_the_year() {
    let (c, _) = cal("0 12 * * * 2022-2023");
    assert!(!c.all_years);
    assert_eq!(c.years, year_words(1 << 22 | 1 << 23));
    assert_eq!(c.second, 1);
    let (c, _) = cal("0 0 12 * * * 2000-2100/50");
    assert_eq!(c.years, year_words(1 | 1 << 50 | 1 << 100));
}

#[test]
fn x_slash_y_runs_to_the_maximum() {
    let (c, _) = cal("5/20 * * * *");
    assert_eq!(c.minute, bits(&[5, 25, 45]));
    let (c, _) = cal("0 1-10/4 * * *");
    assert_eq!(u64::from(c.hour), bits(&[1, 5, 9]));
}

#[test]
fn names_any_case_with_minimum_prefixes() {
    for (text, month) in [("jan", 1), ("Sept", 9), ("august", 8), ("DECEMBER", 12)] {
        let (c, _) = cal(&format!("0 0 1 {text} *"));
        assert_eq!(c.month, 1 << month, "{text}");
    }
    for (text, dow) in [
        ("su", 0),
        ("mon", 1),
        ("wed", 3),
        ("thurs", 4),
        ("Friday", 5),
    ] {
        let (c, _) = cal(&format!("0 0 * * {text}"));
        assert_eq!(c.day_of_week, 1 << dow, "{text}");
    }
    let (c, _) = cal("0 0 * * Tu-Th");
    assert_eq!(c.day_of_week, 0b11100);
    assert!(err("0 0 1 ja *").message.contains("\"ja\""));
    assert!(err("0 0 * * t").message.contains("\"t\""));
}

#[test]
fn seven_is_sunday_and_ranges_through_seven_include_sunday() {
    let (c, _) = cal("0 0 * * 7");
    assert_eq!(c.day_of_week, 1);
    let (c, _) = cal("0 0 * * 5-7");
    assert_eq!(c.day_of_week, 1 | 1 << 5 | 1 << 6);
    // docs/semantics.md#day-of-week-ranges-through-7: 1-7 is every day (the server drops Sunday).
    let (c, _) = cal("0 0 * * 1-7");
    assert_eq!(c.day_of_week, 0x7f);
    let (c, _) = cal("0 0 * * 1-7/2");
    assert_eq!(c.day_of_week, 1 | 1 << 1 | 1 << 3 | 1 << 5);
    let (c, _) = cal("0 0 * * 2-7/4");
    assert_eq!(c.day_of_week, 1 << 2 | 1 << 6);
    let (c, _) = cal("0 0 * * 0-7/7");
    assert_eq!(c.day_of_week, 1);
    assert!(err("0 0 * * mon-sun").message.contains("before the start"));
}

#[test]
fn shorthands() {
    let daily = cal("0 0 * * *").0;
    assert_eq!(cal("@daily").0, daily);
    assert_eq!(cal("@midnight").0, daily);
    assert_eq!(cal("@yearly").0, cal("0 0 1 1 *").0);
    assert_eq!(cal("@annually").0, cal("0 0 1 1 *").0);
    assert_eq!(cal("@monthly").0, cal("0 0 1 * *").0);
    assert_eq!(cal("@weekly").0, cal("0 0 * * 0").0);
    assert_eq!(cal("@hourly").0, cal("0 * * * *").0);
    assert!(err("@reboot").message.contains("found 1"));
    assert!(err("@DAILY").message.contains("found 1"));
}

#[test]
fn every_with_phase_units_and_dropped_zone() {
    let s = 1_000_000_000i128;
    assert_eq!(
        parse("@every 5h/45m"),
        Ok(Cron::Every {
            every_ns: 18_000 * s,
            phase_ns: 2_700 * s
        })
    );
    assert_eq!(
        parse("CRON_TZ=Europe/London @every 1.5d"),
        Ok(Cron::Every {
            every_ns: 129_600 * s,
            phase_ns: 0
        })
    );
    assert_eq!(
        parse("@every 43h # comment"),
        Ok(Cron::Every {
            every_ns: 154_800 * s,
            phase_ns: 0
        })
    );
}

#[test]
fn hash_starts_a_comment_unless_it_marks_an_nth_weekday() {
    // docs/semantics.md#nth-weekday-with-hash: a day-of-week value followed at once by `#` and a digit is the nth weekday.
    let (c, _) = cal("0 0 * * 5#3");
    assert_eq!(c.day_of_week, 0);
    assert_eq!(
        c.rules.as_deref().map(|r| r.weeks),
        Some([0, 0, 1 << 5, 0, 0])
    );
    assert_eq!(cal("0 0 * * FRI#3").0, c);
    assert_eq!(cal("0 0 * * 5#3 # third Friday").0, c);
    // Any other `#` starts the comment, as in Temporal.
    for (text, dow) in [
        ("0 0 * * *#tag", 0x7f),
        ("0 0 * * 2,4#tag", 1 << 2 | 1 << 4),
        ("0 0 * * 5 # note", 1 << 5),
        ("0 0 * * 5 #3", 1 << 5),
        ("0 0 * * 5# 3", 1 << 5),
        ("0 0 * * 5#x3", 1 << 5),
    ] {
        let (c, _) = cal(text);
        assert_eq!((c.day_of_week, c.rules), (dow, None), "{text}");
    }
    // A `#` outside day of week is a comment even when it looks like a mark: "0 0 5" + "3 * *".
    assert!(err("0 0 5#3 * *").message.contains("found 3"));
    assert!(err("0 0 5#3 * *").message.contains("comment"));
    // In a 7-field string day of week is the 6th field; a mark in the 5th (month) starts the
    // comment, as in Temporal: "0 0 1 1 5" (January 1 if a Friday), comment "3 * *".
    let (c, _) = cal("0 0 0 * * 1#2 *");
    assert_eq!(
        c.rules.as_deref().map(|r| r.weeks),
        Some([0, 1 << 1, 0, 0, 0])
    );
    assert_eq!(cal("0 0 1 1 5#3 * *").0, cal("0 0 1 1 5").0);
    // A mark after the shorthand or @every is a comment too.
    assert_eq!(cal("@weekly#3").0, cal("0 0 * * 0").0);
    assert_eq!(
        parse("@every 5m#3"),
        Ok(Cron::Every {
            every_ns: 300_000_000_000,
            phase_ns: 0
        })
    );
    assert_eq!(
        err(&format!("0 0 * * * # {}", "x".repeat(201))).part,
        "comment"
    );
}

#[test]
fn bad_values_name_the_field_and_the_text() {
    let e = err("0 9 * * FOO");
    assert_eq!(e.part, "day_of_week");
    assert_eq!(e.message, "\"FOO\" is not a day name or number 0-7");
    let e = err("0 24 * * *");
    assert_eq!(
        (e.part, e.message.as_str()),
        ("hour", "24 is not in range 0-23")
    );
    let e = err("60 * * * *");
    assert_eq!(
        (e.part, e.message.as_str()),
        ("minute", "60 is not in range 0-59")
    );
    let e = err("0 0 1 13 *");
    assert_eq!(e.part, "month");
    assert_eq!(e.message, "13 is not in range 1-12");
    let e = err("0 0 1 JANUARYX *");
    assert_eq!(e.message, "\"JANUARYX\" is not a month name or number 1-12");
    let e = err("0 0 * * * 1999");
    assert_eq!(
        (e.part, e.message.as_str()),
        ("year", "1999 is not in range 2000-2100")
    );
    let e = err("0 0 * * 8");
    assert_eq!(e.message, "8 is not in range 0-7");
    let e = err("0 0 1,,2 * *");
    assert_eq!(e.part, "day_of_month");
    assert!(e.message.contains("\"\""), "{}", e.message);
}

#[test]
fn unsupported_quartz_characters_are_errors() {
    for (text, part, bad) in [
        ("0 0 ? * MON", "day_of_month", "\"?\""),
        ("H 0 * * *", "minute", "\"H\""),
    ] {
        let e = err(text);
        assert_eq!(e.part, part, "{text}");
        assert!(e.message.contains(bad), "{text}: {}", e.message);
    }
}

#[test]
fn day_rules_parse_into_day_rules() {
    let rules = |text: &str| cal(text).0.rules.map(|r| *r);
    let from_end = |bits: u32, nearest: bool| DayRules {
        from_end: bits,
        nearest_weekday: nearest,
        ..Default::default()
    };
    assert_eq!(rules("0 0 L * *"), Some(from_end(1, false)));
    assert_eq!(rules("0 0 l * *"), Some(from_end(1, false)));
    assert_eq!(rules("0 0 L-3 * *"), Some(from_end(1 << 3, false)));
    assert_eq!(rules("0 0 L-0 * *"), Some(from_end(1, false)));
    assert_eq!(
        rules("0 0 1,L,L-30 * *"),
        Some(from_end(1 | 1 << 30, false))
    );
    assert_eq!(cal("0 0 1,L * *").0.day_of_month, 1 << 1);
    assert_eq!(rules("0 0 LW * *"), Some(from_end(1, true)));
    assert_eq!(rules("0 0 L-2W * *"), Some(from_end(1 << 2, true)));
    let (c, _) = cal("0 0 15W * *");
    assert_eq!(
        (c.day_of_month, c.rules.map(|r| *r)),
        (1 << 15, Some(from_end(0, true)))
    );
    let mut weeks = DayRules::default();
    weeks.weeks_from_end[0] = 1 << 5 | 1;
    weeks.weeks[0] = 1 << 1;
    let (c, _) = cal("0 0 * * 5L,7L,1#1,3");
    assert_eq!((c.day_of_week, c.rules.map(|r| *r)), (1 << 3, Some(weeks)));
    assert_eq!(cal("0 0 * * FRIL").0, cal("0 0 * * 5L").0);
    assert_eq!(cal("0 0 * * sun#5").0, cal("0 0 * * 7#5").0);
    assert_eq!(cal("0 0 * * 0#5").0, cal("0 0 * * 7#5").0);
}

#[test]
fn day_rules_misused_are_errors_that_say_why() {
    for (text, part, why) in [
        ("0 L * * *", "hour", "day rules"),
        ("L 0 * * *", "minute", "day rules"),
        ("0 0 1 L *", "month", "day rules"),
        ("0 0 * * * L", "year", "day rules"),
        (
            "0 0 * * 6#6",
            "day_of_week",
            "occurrence \"6\" is not in range 1-5",
        ),
        ("0 0 * * 6#0", "day_of_week", "not in range 1-5"),
        ("0 0 * * 6#1x", "day_of_week", "not in range 1-5"),
        ("0 0 * * 8#1", "day_of_week", "8 is not in range 0-7"),
        ("0 0 * * 1-5#2", "day_of_week", "one day of the week"),
        ("0 0 * * */2#1", "day_of_week", "one day of the week"),
        ("0 0 * * 1-5L", "day_of_week", "one day of the week"),
        ("0 0 * * L", "day_of_week", "ambiguous"),
        ("0 0 * * 1,L", "day_of_week", "ambiguous"),
        ("0 0 32W * *", "day_of_month", "32 is not in range 1-31"),
        ("0 0 0W * *", "day_of_month", "0 is not in range 1-31"),
        ("0 0 W * *", "day_of_month", "one day of the month"),
        ("0 0 1-15W * *", "day_of_month", "one day of the month"),
        ("0 0 15W/2 * *", "day_of_month", "days of their own"),
        ("0 0 1,15W * *", "day_of_month", "cannot be part of a list"),
        ("0 0 LW,1 * *", "day_of_month", "cannot be part of a list"),
        ("0 0 L-31 * *", "day_of_month", "more than 30"),
        ("0 0 L-x * *", "day_of_month", "not a last-day rule"),
        ("0 0 L/2 * *", "day_of_month", "not a last-day rule"),
        ("0 0 1-L * *", "day_of_month", "days of their own"),
        ("0 0 5L * *", "day_of_month", "days of their own"),
    ] {
        let e = err(text);
        assert_eq!(e.part, part, "{text}: {}", e.message);
        assert!(e.message.contains(why), "{text}: {}", e.message);
    }
}

#[test]
fn ranges_steps_slashes_and_dashes() {
    let e = err("0 9-5 * * *");
    assert_eq!(e.part, "hour");
    assert!(e.message.contains("\"9-5\"") && e.message.contains("before the start"));
    let e = err("0 -5 * * *");
    assert!(e.message.contains("start of \"-5\""), "{}", e.message);
    let e = err("*/0 * * * *");
    assert!(e.message.contains("step \"0\""), "{}", e.message);
    let e = err("0 0 1-31/-2 * *");
    assert!(e.message.contains("step \"-2\""), "{}", e.message);
    let e = err("0 0 1/2/3 * *");
    assert_eq!(e.message, "\"1/2/3\" has too many slashes");
    let e = err("0 0 1-2-3 * *");
    assert_eq!(e.message, "\"1-2-3\" has too many dashes");
    let e = err("0 0 5/ * *");
    assert!(e.message.contains("missing the step"), "{}", e.message);
    let e = err("0 0 * * 1-");
    assert!(e.message.contains("end of \"1-\""), "{}", e.message);
}

#[test]
fn field_counts_and_empty_strings() {
    for text in ["", "   ", "* * * *", "* * * * * * * *", "every day at noon"] {
        let e = err(text);
        assert_eq!(e.part, "", "{text}");
        assert!(
            e.message.starts_with("expected 5, 6 or 7 fields"),
            "{text}: {}",
            e.message
        );
    }
    let e = err("CRON_TZ=UTC");
    assert!(
        e.message.contains("followed by the cron fields"),
        "{}",
        e.message
    );
}

#[test]
fn every_errors() {
    let e = err("@every");
    assert!(e.message.contains("needs a duration"), "{}", e.message);
    let e = err("@every 0s");
    assert_eq!(
        (e.part, e.message.as_str()),
        ("interval", "\"0s\" is less than 1s")
    );
    let e = err("@every 500ms");
    assert_eq!(e.part, "interval");
    let e = err("@every 1h/1h");
    assert_eq!(e.part, "phase");
    assert!(
        e.message.contains("not less than the interval"),
        "{}",
        e.message
    );
    let e = err("@every 1h/2h");
    assert_eq!(e.part, "phase");
    let e = err("@every 1h/-5m");
    assert_eq!(
        (e.part, e.message.as_str()),
        ("phase", "\"-5m\" is negative")
    );
    let e = err("@every 1w");
    assert_eq!(e.part, "interval");
    assert!(e.message.contains("unknown unit \"w\""), "{}", e.message);
    let e = err("@every  5m");
    assert_eq!(e.part, "interval");
}

#[test]
fn fields_split_on_any_whitespace_like_go_strings_fields() {
    // Go's unicode.IsSpace: ASCII \t \n \v \f \r and space, and Unicode spaces such as U+2003.
    let daily_at_nine = cal("0 9 * * *").0;
    for text in [
        "0\t9 * * *",
        "0\x0b9 * * *",
        "0\x0c9\r*\n* *",
        " \t0 9 * * *\x0b",
        "0\u{2003}9 * * *",
        "\u{2003}0 9 * * *\u{a0}",
    ] {
        assert_eq!(cal(text).0, daily_at_nine, "{text:?}");
    }
}
