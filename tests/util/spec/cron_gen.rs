//! Random cron strings with independently expanded value sets: each generated string comes
//! with the calendar it must mean, built from the random choices (never by parsing the text).
//! Day fields can also carry the day rules beyond Temporal (`L`, `L-n`, `nW`, `LW`, `nL`,
//! `n#k`, with names and either case).

use std::collections::BTreeSet;

use proptest::prelude::*;

use super::oracle::{OracleCalendar, OracleDays};

/// One comma-separated part of a cron field.
#[derive(Debug, Clone)]
enum Part {
    Star,
    StarStep(i32),
    Value(i32),
    ValueStep(i32, i32),
    Range(i32, i32),
    RangeStep(i32, i32, i32),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Names {
    None,
    Month,
    Weekday,
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const DAYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];

fn part_strategy(min: i32, max: i32) -> impl Strategy<Value = Part> {
    let span = (max - min).max(1);
    prop_oneof![
        2 => Just(Part::Star),
        1 => (1..=span).prop_map(Part::StarStep),
        4 => (min..=max).prop_map(Part::Value),
        1 => (min..=max, 1..=span).prop_map(|(v, s)| Part::ValueStep(v, s)),
        2 => (min..=max, min..=max).prop_map(|(a, b)| Part::Range(a.min(b), a.max(b))),
        1 => (min..=max, min..=max, 1..=span).prop_map(|(a, b, s)| Part::RangeStep(a.min(b), a.max(b), s)),
    ]
}

/// Renders a value, as a name prefix (random length, random case) when `style` says so.
fn value_text(v: i32, names: Names, style: u32) -> String {
    let name = match names {
        Names::Month => MONTHS[(v - 1) as usize],
        Names::Weekday if v < 7 => DAYS[v as usize],
        _ => return v.to_string(),
    };
    if style.is_multiple_of(3) {
        return v.to_string();
    }
    let min_len = if names == Names::Month { 3 } else { 2 };
    let len = min_len + (style / 3) as usize % (name.len() - min_len + 1);
    let prefix = &name[..len];
    match style % 3 {
        1 => prefix.to_string(),
        _ => prefix.to_ascii_uppercase(),
    }
}

fn part_text(p: &Part, names: Names, style: u32) -> String {
    let v = |x: i32| value_text(x, names, style);
    match *p {
        Part::Star => "*".into(),
        Part::StarStep(s) => format!("*/{s}"),
        Part::Value(x) => v(x),
        Part::ValueStep(x, s) => format!("{}/{s}", v(x)),
        Part::Range(a, b) => format!("{}-{}", v(a), v(b)),
        Part::RangeStep(a, b, s) => format!("{}-{}/{s}", v(a), v(b)),
    }
}

/// The values a part stands for, by plain iteration.
fn part_values(p: &Part, min: i32, max: i32) -> Vec<i32> {
    let (lo, hi, step) = match *p {
        Part::Star => (min, max, 1),
        Part::StarStep(s) => (min, max, s),
        Part::Value(x) => (x, x, 1),
        Part::ValueStep(x, s) => (x, max, s),
        Part::Range(a, b) => (a, b, 1),
        Part::RangeStep(a, b, s) => (a, b, s),
    };
    (lo..=hi).step_by(step as usize).collect()
}

type Field = (Vec<Part>, u32);

fn field_strategy(min: i32, max: i32) -> impl Strategy<Value = Field> {
    (
        prop::collection::vec(part_strategy(min, max), 1..=3),
        any::<u32>(),
    )
}

fn field_text(f: &Field, names: Names) -> String {
    f.0.iter()
        .map(|p| part_text(p, names, f.1))
        .collect::<Vec<_>>()
        .join(",")
}

fn field_set<const N: usize>(f: &Field, min: i32, max: i32) -> [bool; N] {
    let mut out = [false; N];
    for p in &f.0 {
        for v in part_values(p, min, max) {
            // Day of week 7 is Sunday.
            out[(if N == 7 && v == 7 { 0 } else { v }) as usize] = true;
        }
    }
    out
}

/// A day-of-month field: its text and what it means.
#[derive(Debug, Clone)]
pub struct DomField {
    text: String,
    days: [bool; 32],
    from_end: [bool; 31],
    nearest: bool,
}

/// A day-of-week field: its text and what it means.
#[derive(Debug, Clone)]
pub struct DowField {
    text: String,
    days: [bool; 7],
    weeks: [[bool; 7]; 5],
    weeks_from_end: [[bool; 7]; 5],
}

fn plain_dom() -> impl Strategy<Value = DomField> {
    field_strategy(1, 31).prop_map(|f| DomField {
        text: field_text(&f, Names::None),
        days: field_set::<32>(&f, 1, 31),
        from_end: [false; 31],
        nearest: false,
    })
}

fn plain_dow() -> impl Strategy<Value = DowField> {
    field_strategy(0, 7).prop_map(|f| DowField {
        text: field_text(&f, Names::Weekday),
        days: field_set::<7>(&f, 0, 7),
        weeks: [[false; 7]; 5],
        weeks_from_end: [[false; 7]; 5],
    })
}

/// `L` or `L-n`, in either case.
fn last_text(n: u32, lower: bool) -> String {
    let l = if lower { "l" } else { "L" };
    match n {
        0 => l.to_string(),
        n => format!("{l}-{n}"),
    }
}

/// Day of month with rules: plain parts listed with `L`/`L-n`, or one `nW`/`LW`/`L-nW`.
fn rules_dom() -> impl Strategy<Value = DomField> {
    let last = prop_oneof![3 => Just(0u32), 1 => 1u32..=30];
    let listed = (
        prop::option::of(plain_dom()),
        prop::collection::vec((last.clone(), any::<bool>()), 1..=2),
    )
        .prop_map(|(plain, lasts)| {
            let mut field = plain.unwrap_or(DomField {
                text: String::new(),
                days: [false; 32],
                from_end: [false; 31],
                nearest: false,
            });
            for (n, lower) in lasts {
                if !field.text.is_empty() {
                    field.text.push(',');
                }
                field.text.push_str(&last_text(n, lower));
                field.from_end[n as usize] = true;
            }
            field
        });
    let nearest =
        (prop_oneof![1u32..=31, Just(0)], last, any::<bool>()).prop_map(|(day, n, lower)| {
            let w = if lower { "w" } else { "W" };
            let mut field = DomField {
                text: String::new(),
                days: [false; 32],
                from_end: [false; 31],
                nearest: true,
            };
            if day == 0 {
                field.text = format!("{}{w}", last_text(n, lower));
                field.from_end[n as usize] = true;
            } else {
                field.text = format!("{day}{w}");
                field.days[day as usize] = true;
            }
            field
        });
    prop_oneof![2 => plain_dom(), 3 => listed, 2 => nearest]
}

/// Day of week with rules: plain parts listed with `w#k` and `wL` (numbers 0-7 or names).
fn rules_dow() -> impl Strategy<Value = DowField> {
    let rule = (
        0i32..=7,
        prop_oneof![1u32..=5, Just(0)],
        any::<u32>(),
        any::<bool>(),
    );
    (
        prop::option::of(plain_dow()),
        prop::collection::vec(rule, 1..=2),
    )
        .prop_map(|(plain, rules)| {
            let mut field = plain.unwrap_or(DowField {
                text: String::new(),
                days: [false; 7],
                weeks: [[false; 7]; 5],
                weeks_from_end: [[false; 7]; 5],
            });
            for (w, k, style, lower) in rules {
                let day = value_text(w, Names::Weekday, style);
                let part = match k {
                    0 => {
                        field.weeks_from_end[0][(w % 7) as usize] = true;
                        format!("{day}{}", if lower { "l" } else { "L" })
                    }
                    k => {
                        field.weeks[(k - 1) as usize][(w % 7) as usize] = true;
                        format!("{day}#{k}")
                    }
                };
                if !field.text.is_empty() {
                    field.text.push(',');
                }
                field.text.push_str(&part);
            }
            field
        })
}

/// A cron string and the calendar it must mean (Temporal's dialect only).
pub fn cron_strategy() -> impl Strategy<Value = (String, OracleCalendar)> {
    cron_from(plain_dom(), plain_dow())
}

/// A cron string whose day fields carry day rules (one of them, mostly, the other `*`), and the
/// calendar it must mean.
pub fn cron_with_rules_strategy() -> impl Strategy<Value = (String, OracleCalendar)> {
    let every_day = || DomField {
        text: "*".into(),
        days: std::array::from_fn(|d| d >= 1),
        from_end: [false; 31],
        nearest: false,
    };
    let every_weekday = || DowField {
        text: "*".into(),
        days: [true; 7],
        weeks: [[false; 7]; 5],
        weeks_from_end: [[false; 7]; 5],
    };
    let days = prop_oneof![
        2 => (rules_dom(), Just(every_weekday())),
        2 => (Just(every_day()), rules_dow()),
        1 => (rules_dom(), rules_dow()),
    ];
    days.prop_flat_map(|(dom, dow)| cron_from(Just(dom), Just(dow)))
}

fn cron_from(
    doms: impl Strategy<Value = DomField>,
    dows: impl Strategy<Value = DowField>,
) -> impl Strategy<Value = (String, OracleCalendar)> {
    let years = prop_oneof![
        2 => Just(None),
        1 => (2017i32..=2030, 0i32..=3).prop_map(|(y, n)| Some((y, y + n))),
    ];
    (
        prop::option::of(field_strategy(0, 59)),
        field_strategy(0, 59),
        field_strategy(0, 23),
        doms,
        field_strategy(1, 12),
        dows,
        years,
        0u8..3,
    )
        .prop_map(|(second, minute, hour, dom, month, dow, years, layout)| {
            let mut fields = vec![
                field_text(&minute, Names::None),
                field_text(&hour, Names::None),
                dom.text.clone(),
                field_text(&month, Names::Month),
                dow.text.clone(),
            ];
            let year_text = years.map_or("*".to_string(), |(a, b)| format!("{a}-{b}"));
            // Layout: 5 fields, 6 (year last) or 7 (seconds first, year last).
            let seconds = if layout == 2 { second.clone() } else { None };
            match (layout, &seconds) {
                (1, _) => fields.push(year_text),
                (2, Some(s)) => {
                    fields.insert(0, field_text(s, Names::None));
                    fields.push(year_text);
                }
                (2, None) => {
                    fields.insert(0, "0".into());
                    fields.push(year_text);
                }
                _ => {}
            }
            let years = if layout == 0 {
                None
            } else {
                years.map(|(a, b)| (a..=b).collect::<BTreeSet<_>>())
            };
            let mut second_set = [false; 60];
            match &seconds {
                Some(s) => second_set = field_set::<60>(s, 0, 59),
                None => second_set[0] = true,
            }
            let calendar = OracleCalendar {
                second: second_set,
                minute: field_set::<60>(&minute, 0, 59),
                hour: field_set::<24>(&hour, 0, 23),
                day_of_month: dom.days,
                month: field_set::<13>(&month, 1, 12),
                day_of_week: dow.days,
                years,
                rules: OracleDays {
                    from_end: dom.from_end,
                    nearest_weekday: dom.nearest,
                    weeks: dow.weeks,
                    weeks_from_end: dow.weeks_from_end,
                },
            };
            (fields.join(" "), calendar)
        })
}
