//! Differential test: our cron dialect against the `cron` crate, on UTC expressions both
//! dialects can state.
//!
//! Expressions are generated as abstract fields (lists of parts: `*`, `*/s`, `v`, `a-b`,
//! `a-b/s`, `a/s`, optionally with English day and month names) and rendered twice:
//! - ours (Temporal's dialect): 5 fields `m h dom mon dow`, 6 fields with the year last, or 7
//!   fields with seconds first and the year last; day of week 0-7, 0 and 7 = Sunday;
//! - the `cron` crate's: always 7 fields `s m h dom mon dow year` (seconds `0` when ours has
//!   none, year `*`); day of week 1-7 = Sunday-Saturday, so every day number is shifted by one.
//!
//! Where the dialects part ways, and what is done about it:
//! - Day of month AND day of week: Temporal ANDs them. So does the `cron` crate (0.15): its
//!   search walks the days allowed by day-of-month and skips to the next day when the weekday is
//!   not allowed; it has no Vixie-cron "OR when both are restricted" rule. The two dialects
//!   agree, so both fields are generated freely (not only with one of them `*`).
//! - Sunday as 7 at the end of a day-of-week range (`5-7`, `a/s`, which runs to 7 in our
//!   dialect): the `cron` crate cannot say "Saturday then Sunday" in one range, so the rendering
//!   adds `,1` (Sunday) when 7 is in the range. Our reading is used: `1-7` is every day.
//! - `a/s` with a name (`wed/2`) is rejected by the `cron` crate: never generated. Names are only
//!   the three-letter English ones (any case), accepted by both.
//! - Steps are at most the field's maximum (the `cron` crate rejects larger ones).
//! - Years are limited to 2026-2040 (the `cron` crate knows 1970-2100, Temporal 2000-2100),
//!   and get no `*/s`, which counts from 1970 there and from 2000 here.
//!
//! A disagreement is triaged by an independent brute-force matcher built from the same abstract
//! fields with Temporal's rules (docs/semantics.md#cron-strings): the failure
//! message says which side's time it accepts.

use std::str::FromStr;

use chrono::{DateTime, Datelike, TimeZone, Timelike, Utc};
use proptest::prelude::*;
use proptest::test_runner::Config;
use schedule_engine::ScheduleSpec;

/// Times compared after each instant.
const N: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Second,
    Minute,
    Hour,
    DayOfMonth,
    Month,
    DayOfWeek,
    Year,
}

impl Kind {
    /// Values generated, in our dialect (day of week includes 7 = Sunday).
    fn bounds(self) -> (u32, u32) {
        match self {
            Kind::Second | Kind::Minute => (0, 59),
            Kind::Hour => (0, 23),
            Kind::DayOfMonth => (1, 31),
            Kind::Month => (1, 12),
            Kind::DayOfWeek => (0, 7),
            Kind::Year => (2026, 2040),
        }
    }

    /// Largest step the `cron` crate accepts (its field maximum).
    fn max_step(self) -> u32 {
        match self {
            Kind::Second | Kind::Minute => 59,
            Kind::Hour => 23,
            Kind::DayOfMonth => 31,
            Kind::Month => 12,
            Kind::DayOfWeek => 7,
            Kind::Year => 20,
        }
    }

    /// Where `*` and `a/s` end, in our dialect.
    fn max(self) -> u32 {
        match self {
            Kind::Year => 2100,
            k => k.bounds().1,
        }
    }

    fn name(self, v: u32) -> Option<&'static str> {
        const MONTHS: [&str; 12] = [
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ];
        const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
        match self {
            Kind::Month => MONTHS.get(v as usize - 1).copied(),
            // 7 has no name of its own (`sun` is 0).
            Kind::DayOfWeek => DAYS.get(v as usize).copied(),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Part {
    Star,
    StarStep(u32),
    Value(u32),
    Range(u32, u32),
    RangeStep(u32, u32, u32),
    FromStep(u32, u32),
}

/// How names are written, when a part can use them.
#[derive(Debug, Clone, Copy)]
enum Names {
    Numbers,
    Lower,
    Upper,
}

#[derive(Debug, Clone)]
struct Field {
    kind: Kind,
    parts: Vec<Part>,
    names: Names,
}

impl Field {
    fn star(kind: Kind) -> Self {
        Field {
            kind,
            parts: vec![Part::Star],
            names: Names::Numbers,
        }
    }

    /// `v` as a name when this field writes names and `v` has one, else as a number.
    fn value(&self, v: u32) -> String {
        match (self.names, self.kind.name(v)) {
            (Names::Lower, Some(n)) => n.to_string(),
            (Names::Upper, Some(n)) => n.to_uppercase(),
            _ => v.to_string(),
        }
    }

    /// A range's ends: both names or both numbers (the `cron` crate accepts no mix).
    fn ends(&self, a: u32, b: u32) -> (String, String) {
        if self.kind.name(a).is_some() && self.kind.name(b).is_some() {
            (self.value(a), self.value(b))
        } else {
            (a.to_string(), b.to_string())
        }
    }

    fn ours(&self) -> String {
        let parts: Vec<String> = self
            .parts
            .iter()
            .map(|p| match *p {
                Part::Star => "*".to_string(),
                Part::StarStep(s) => format!("*/{s}"),
                Part::Value(v) => self.value(v),
                Part::Range(a, b) => {
                    let (a, b) = self.ends(a, b);
                    format!("{a}-{b}")
                }
                Part::RangeStep(a, b, s) => {
                    let (a, b) = self.ends(a, b);
                    format!("{a}-{b}/{s}")
                }
                Part::FromStep(a, s) => format!("{a}/{s}"),
            })
            .collect();
        parts.join(",")
    }

    fn theirs(&self) -> String {
        if self.kind != Kind::DayOfWeek {
            // Same grammar, same meaning, same names.
            return self.ours();
        }
        let parts: Vec<String> = self.parts.iter().map(|p| self.their_day(*p)).collect();
        parts.join(",")
    }

    /// One day-of-week part in the `cron` crate's numbering (ours + 1, Sunday = 1).
    fn their_day(&self, p: Part) -> String {
        // Our `a..=7 step s` is their `(a+1)..=7 step s` (up to Saturday), plus Sunday when 7
        // itself is reached.
        let to_seven = |a: u32, s: u32| -> String {
            if a == 7 {
                return "1".to_string();
            }
            let mut text = format!("{}-7/{s}", a + 1);
            if (7 - a).is_multiple_of(s) {
                text.push_str(",1");
            }
            text
        };
        match p {
            Part::Star => "*".to_string(),
            // Ours is 0..=7 step s, theirs 1..=7 step s: the same days (7 % s == 0 only when
            // 7 is Sunday again).
            Part::StarStep(s) => format!("*/{s}"),
            Part::Value(7) => "1".to_string(),
            Part::Value(v) => match self.names {
                Names::Numbers => (v + 1).to_string(),
                _ => self.value(v),
            },
            Part::Range(a, 7) => to_seven(a, 1),
            Part::RangeStep(a, 7, s) => to_seven(a, s),
            Part::FromStep(a, s) => to_seven(a, s),
            Part::Range(a, b) | Part::RangeStep(a, b, _) => {
                let step = match p {
                    Part::RangeStep(_, _, s) => format!("/{s}"),
                    _ => String::new(),
                };
                if matches!(self.names, Names::Numbers) {
                    format!("{}-{}{step}", a + 1, b + 1)
                } else {
                    let (a, b) = self.ends(a, b);
                    format!("{a}-{b}{step}")
                }
            }
        }
    }

    /// Temporal's reading of the field, for the brute-force oracle (day of week 7 = 0).
    fn contains(&self, v: u32) -> bool {
        let max = self.kind.max();
        let stepped = |a: u32, b: u32, s: u32, v: u32| {
            let hit = |x: u32| x >= a && x <= b && (x - a).is_multiple_of(s);
            hit(v) || (self.kind == Kind::DayOfWeek && v == 0 && hit(7))
        };
        // `*` starts at the field's minimum: 2000 for years (docs/semantics.md#cron-strings).
        let min = match self.kind {
            Kind::Year => 2000,
            k => k.bounds().0,
        };
        self.parts.iter().any(|p| match *p {
            Part::Star => true,
            Part::StarStep(s) => stepped(min, max, s, v),
            Part::Value(x) => stepped(x, x, 1, v),
            Part::Range(a, b) => stepped(a, b, 1, v),
            Part::RangeStep(a, b, s) => stepped(a, b, s, v),
            Part::FromStep(a, s) => stepped(a, max, s, v),
        })
    }
}

#[derive(Debug, Clone)]
struct Expr {
    /// 5, 6 or 7 fields in our dialect.
    form: u8,
    second: Field,
    minute: Field,
    hour: Field,
    day_of_month: Field,
    month: Field,
    day_of_week: Field,
    year: Field,
}

impl Expr {
    fn ours(&self) -> String {
        let middle = [
            &self.minute,
            &self.hour,
            &self.day_of_month,
            &self.month,
            &self.day_of_week,
        ]
        .map(Field::ours)
        .join(" ");
        match self.form {
            5 => middle,
            6 => format!("{middle} {}", self.year.ours()),
            _ => format!("{} {middle} {}", self.second.ours(), self.year.ours()),
        }
    }

    fn theirs(&self) -> String {
        [
            &self.second,
            &self.minute,
            &self.hour,
            &self.day_of_month,
            &self.month,
            &self.day_of_week,
            &self.year,
        ]
        .map(Field::theirs)
        .join(" ")
    }

    /// The brute-force oracle: does `t` (UTC) match every field?
    fn matches(&self, t: DateTime<Utc>) -> bool {
        self.second.contains(t.second())
            && self.minute.contains(t.minute())
            && self.hour.contains(t.hour())
            && self.day_of_month.contains(t.day())
            && self.month.contains(t.month())
            && self
                .day_of_week
                .contains(t.weekday().num_days_from_sunday())
            && self.year.contains(t.year() as u32)
    }
}

fn part(kind: Kind) -> impl Strategy<Value = Part> {
    let (lo, hi) = kind.bounds();
    let step = 1..=kind.max_step();
    // `*/s` on years starts at 2000 for Temporal but at 1970 for the `cron` crate: a year field
    // gets no `*/s`; `(1, 1)` turns that choice into a plain `*`.
    let star_steps = if kind == Kind::Year {
        1..=1
    } else {
        step.clone()
    };
    prop_oneof![
        Just(Part::Star),
        star_steps.prop_map(move |s| if kind == Kind::Year {
            Part::Star
        } else {
            Part::StarStep(s)
        }),
        (lo..=hi).prop_map(Part::Value),
        (lo..=hi, lo..=hi).prop_map(|(a, b)| Part::Range(a.min(b), a.max(b))),
        (lo..=hi, lo..=hi, step.clone()).prop_map(|(a, b, s)| Part::RangeStep(
            a.min(b),
            a.max(b),
            s
        )),
        (lo..=hi, step).prop_map(|(a, s)| Part::FromStep(a, s)),
    ]
}

/// A field: `*` half of the time (so that many expressions fire often enough to compare N
/// times), else one to three parts.
fn field(kind: Kind) -> impl Strategy<Value = Field> {
    let names = prop_oneof![Just(Names::Numbers), Just(Names::Lower), Just(Names::Upper)];
    prop_oneof![
        Just(Field::star(kind)),
        (prop::collection::vec(part(kind), 1..=3), names).prop_map(move |(parts, names)| Field {
            kind,
            parts,
            names
        }),
    ]
}

fn expr() -> impl Strategy<Value = Expr> {
    (
        5u8..=7,
        field(Kind::Second),
        field(Kind::Minute),
        field(Kind::Hour),
        field(Kind::DayOfMonth),
        field(Kind::Month),
        field(Kind::DayOfWeek),
        field(Kind::Year),
    )
        .prop_map(
            |(form, second, minute, hour, day_of_month, month, day_of_week, year)| {
                Expr {
                    form,
                    // Fields a form does not have take their meaning in that form.
                    second: if form == 7 {
                        second
                    } else {
                        Field {
                            kind: Kind::Second,
                            parts: vec![Part::Value(0)],
                            names: Names::Numbers,
                        }
                    },
                    minute,
                    hour,
                    day_of_month,
                    month,
                    day_of_week,
                    year: if form == 5 {
                        Field::star(Kind::Year)
                    } else {
                        year
                    },
                }
            },
        )
}

/// A whole-second instant in [2026-01-01, 2031-01-01).
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    let lo = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .unwrap()
        .timestamp();
    let hi = Utc
        .with_ymd_and_hms(2031, 1, 1, 0, 0, 0)
        .unwrap()
        .timestamp();
    (lo..hi).prop_map(|s| Utc.timestamp_opt(s, 0).unwrap())
}

fn ours(text: &str, after: DateTime<Utc>) -> Result<Vec<DateTime<Utc>>, String> {
    let spec = ScheduleSpec {
        cron_expressions: vec![text.to_string()],
        ..Default::default()
    }
    .compile()
    .map_err(|e| e.to_string())?;
    let mut times = Vec::with_capacity(N);
    let mut after = after;
    while times.len() < N {
        match spec.next_time(after) {
            Some(t) => {
                times.push(t.nominal);
                after = t.nominal;
            }
            None => break,
        }
    }
    Ok(times)
}

fn theirs(text: &str, after: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let schedule =
        cron::Schedule::from_str(text).unwrap_or_else(|e| panic!("cron crate rejects {text}: {e}"));
    schedule.after(&after).take(N).collect()
}

/// Compares the two, with the oracle's verdict on the first difference.
fn check(e: &Expr, after: DateTime<Utc>) -> Result<(), TestCaseError> {
    let (o, t) = (e.ours(), e.theirs());
    let mine = ours(&o, after).map_err(|err| TestCaseError::fail(format!("{o:?}: {err}")))?;
    let reference = theirs(&t, after);
    if mine != reference {
        let i = mine
            .iter()
            .zip(&reference)
            .position(|(a, b)| a != b)
            .unwrap_or(mine.len().min(reference.len()));
        let verdict = |x: Option<&DateTime<Utc>>| match x {
            Some(x) => format!("{x} (oracle: matches = {})", e.matches(*x)),
            None => "none".to_string(),
        };
        return Err(TestCaseError::fail(format!(
            "ours {o:?} vs cron {t:?} after {after}: first difference at #{i}: \
             ours {}, cron {}",
            verdict(mine.get(i)),
            verdict(reference.get(i)),
        )));
    }
    Ok(())
}

proptest! {
    #![proptest_config(Config { cases: 512, failure_persistence: None, ..Config::default() })]

    #[test]
    fn next_times_agree_with_the_cron_crate(e in expr(), after in instant()) {
        check(&e, after)?;
    }
}

/// The benchmark's UTC expressions and the day-of-week edge cases, as fixed cases.
#[test]
fn fixed_expressions_agree_with_the_cron_crate() {
    let cases = [
        ("*/5 * * * *", "0 */5 * * * * *"),
        ("0 9 * * 1-5", "0 0 9 * * 2-6 *"),
        ("30 2 1 * *", "0 30 2 1 * * *"),
        ("0 0 29 2 *", "0 0 0 29 2 * *"),
        ("15,45 */2 * * *", "0 15,45 */2 * * * *"),
        ("0 12 * * 7", "0 0 12 * * 1 *"),
        ("0 12 * * 5-7", "0 0 12 * * 6-7,1 *"),
        ("0 12 * * 1-7", "0 0 12 * * * *"),
        ("0 12 13 * FRI", "0 0 12 13 * 6 *"),
        ("0 12 * jan-mar/2 mon-wed", "0 0 12 * jan-mar/2 2-4 *"),
    ];
    let afters = [
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(2027, 12, 31, 23, 59, 59).unwrap(),
        Utc.with_ymd_and_hms(2028, 2, 28, 12, 0, 0).unwrap(),
    ];
    for (o, t) in cases {
        for after in afters {
            let mine = ours(o, after).unwrap_or_else(|e| panic!("{o}: {e}"));
            assert!(!mine.is_empty(), "{o}: no times");
            assert_eq!(mine, theirs(t, after), "{o} vs {t} after {after}");
        }
    }
}
