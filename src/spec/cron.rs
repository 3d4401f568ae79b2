//! Temporal's cron dialect, parsed straight into a compiled [`Calendar`] or an interval.
//!
//! Grammar (Temporal's `parseCronString`, steps in order): trim; optional `CRON_TZ=<zone> ` or
//! `TZ=<zone> ` prefix; `#` starts a comment; `@every <dur>[/<phase>]`; the shorthands
//! `@yearly @annually @monthly @weekly @daily @midnight @hourly`; else 5 fields (`min hour dom
//! month dow`), 6 (`... year`) or 7 (`sec ... year`). A field is a comma list of `*`, `x`,
//! `x-z`, `x/y` (x..max), `*/y`, `x-z/y`; month names need >= 3 letters, day names >= 2, any
//! case. In day of week 7 is Sunday, so a range through 7 runs through Sunday (`1-7` is every
//! day: the server's dropping of Sunday there is a bug we do not copy). `?`, `L`, `W`, `H` are
//! not values and fail like any other bad text.

use super::calendar::{range_bits, Calendar, MAX_COMMENT_BYTES, MAX_YEAR, MIN_YEAR};
use super::duration::parse_go_duration;

/// A parsed cron string.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cron<'a> {
    /// A calendar, in the zone named by its prefix (`""` when it had none).
    Calendar { calendar: Calendar, zone: &'a str },
    /// An `@every` interval in whole nanoseconds (its zone prefix, if any, is dropped).
    Every { every_ns: i128, phase_ns: i128 },
}

/// What is wrong with a cron string: the part (`""` for the whole string) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CronError {
    pub(crate) part: &'static str,
    pub(crate) message: String,
}

fn whole(message: String) -> CronError {
    CronError { part: "", message }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Names {
    None,
    Month,
    Weekday,
}

#[derive(Debug, Clone, Copy)]
struct Field {
    name: &'static str,
    min: i32,
    max: i32,
    names: Names,
}

const fn field(name: &'static str, min: i32, max: i32, names: Names) -> Field {
    Field {
        name,
        min,
        max,
        names,
    }
}

const SECOND: Field = field("second", 0, 59, Names::None);
const MINUTE: Field = field("minute", 0, 59, Names::None);
const HOUR: Field = field("hour", 0, 23, Names::None);
const DAY_OF_MONTH: Field = field("day_of_month", 1, 31, Names::None);
const MONTH: Field = field("month", 1, 12, Names::Month);
const DAY_OF_WEEK: Field = field("day_of_week", 0, 7, Names::Weekday);
// The casts are exact: both bounds are four-digit years.
const YEAR: Field = field("year", MIN_YEAR as i32, MAX_YEAR as i32, Names::None);

const MONTH_NAMES: [&str; 12] = [
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
const DAY_NAMES: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];

impl Field {
    fn what(&self) -> String {
        match self.names {
            Names::None => format!("number {}-{}", self.min, self.max),
            Names::Month => format!("month name or number {}-{}", self.min, self.max),
            Names::Weekday => format!("day name or number {}-{}", self.min, self.max),
        }
    }

    /// A name prefix (long enough) or a decimal integer (Go's `Atoi`, so `+5` is allowed).
    fn value(&self, text: &str) -> Result<i32, String> {
        // Plain short numbers (nearly every value) skip the name table and the generic parse;
        // digits are never a name prefix, so the result is the same.
        let digits = text.as_bytes();
        if (1..=4).contains(&digits.len()) && digits.iter().all(u8::is_ascii_digit) {
            let v = digits.iter().fold(0, |v, &d| v * 10 + i32::from(d - b'0'));
            return if (self.min..=self.max).contains(&v) {
                Ok(v)
            } else {
                Err(format!("{v} is not in range {}-{}", self.min, self.max))
            };
        }
        let (names, min_len, first): (&[&str], usize, i32) = match self.names {
            Names::None => (&[], usize::MAX, 0),
            Names::Month => (&MONTH_NAMES, 3, 1),
            Names::Weekday => (&DAY_NAMES, 2, 0),
        };
        if text.len() >= min_len {
            let prefix_of = |n: &&str| {
                n.len() >= text.len()
                    && n.as_bytes()[..text.len()].eq_ignore_ascii_case(text.as_bytes())
            };
            if let Some(i) = names.iter().position(prefix_of) {
                return Ok(first + i as i32);
            }
        }
        match text.parse::<i64>() {
            Ok(v) if (i64::from(self.min)..=i64::from(self.max)).contains(&v) => Ok(v as i32),
            Ok(v) => Err(format!("{v} is not in range {}-{}", self.min, self.max)),
            Err(_) => Err(format!("{text:?} is not a {}", self.what())),
        }
    }

    /// The set of values of one field, as bits relative to `base`: one pass over its bytes,
    /// each comma-separated part handled where it ends.
    fn parse(&self, text: &str, base: i32) -> Result<u128, String> {
        if text == "*" {
            return Ok(range_bits(self.min, self.max, 1, base));
        }
        if text.bytes().all(|b| b.is_ascii_digit()) {
            // A single number (or `""`, which `value` rejects).
            let v = self.value(text)?;
            return Ok(range_bits(v, v, 1, base));
        }
        let bytes = text.as_bytes();
        let mut mask = 0;
        let mut start = 0;
        let mut marks = Marks::default();
        for (i, &b) in bytes.iter().enumerate() {
            match b {
                b',' => {
                    mask |= self.part(&text[start..i], marks, base)?;
                    start = i + 1;
                    marks = Marks::default();
                }
                b'/' => {
                    if marks.slash.is_none() {
                        marks.slash = Some(i - start);
                    } else {
                        marks.extra_slash = true;
                    }
                }
                // Dashes count only before the step.
                b'-' if marks.slash.is_none() => {
                    if marks.dash.is_none() {
                        marks.dash = Some(i - start);
                    } else {
                        marks.extra_dash = true;
                    }
                }
                _ => {}
            }
        }
        Ok(mask | self.part(&text[start..], marks, base)?)
    }

    /// One part of a field (`*`, `x`, `x-z`, `x/y`, `*/y`, `x-z/y`), given where its first `/`
    /// and first `-` (before the `/`) are.
    fn part(&self, part: &str, marks: Marks, base: i32) -> Result<u128, String> {
        // Marks are byte offsets of ASCII bytes in `part`, so every slice below is on a
        // character boundary.
        let (range, step) = match marks.slash {
            None => (part, None),
            Some(_) if marks.extra_slash => return Err(format!("{part:?} has too many slashes")),
            Some(at) if at + 1 == part.len() => {
                return Err(format!("{part:?} is missing the step after '/'"))
            }
            Some(at) => {
                let step = &part[at + 1..];
                match step.parse::<i64>() {
                    Ok(n) if n >= 1 => (&part[..at], Some(i32::try_from(n).unwrap_or(i32::MAX))),
                    _ => {
                        return Err(format!(
                            "step {step:?} in {part:?} is not a whole number of at least 1"
                        ))
                    }
                }
            }
        };
        let (lo, hi) = if range == "*" {
            (self.min, self.max)
        } else {
            match marks.dash {
                None => {
                    let v = self.value(range)?;
                    (v, if step.is_some() { self.max } else { v })
                }
                Some(_) if marks.extra_dash => return Err(format!("{part:?} has too many dashes")),
                Some(at) => {
                    let lo = self
                        .value(&range[..at])
                        .map_err(|e| format!("start of {part:?}: {e}"))?;
                    let hi = self
                        .value(&range[at + 1..])
                        .map_err(|e| format!("end of {part:?}: {e}"))?;
                    if hi < lo {
                        return Err(format!(
                            "in {part:?} the end ({hi}) is before the start ({lo})"
                        ));
                    }
                    (lo, hi)
                }
            }
        };
        Ok(range_bits(lo, hi, step.unwrap_or(1), base))
    }
}

/// Where the separators of one part are: byte offsets of the first `/` and of the first `-`
/// before it, and whether another of each follows.
#[derive(Debug, Clone, Copy, Default)]
struct Marks {
    slash: Option<usize>,
    extra_slash: bool,
    dash: Option<usize>,
    extra_dash: bool,
}

/// Parses one cron string of Temporal's dialect.
pub(crate) fn parse(text: &str) -> Result<Cron<'_>, CronError> {
    let mut s = trim(text);
    let mut zone = "";
    if s.starts_with("TZ=") || s.starts_with("CRON_TZ=") {
        let Some((prefix, rest)) = s.split_once(' ') else {
            return Err(whole(
                "a time zone prefix must be followed by the cron fields".into(),
            ));
        };
        zone = prefix.split_once('=').map_or("", |(_, z)| z);
        s = rest;
    }
    let mut comment = "";
    if let Some((before, after)) = s.split_once('#') {
        comment = after.trim();
        s = before;
    }
    let s = trim(s);
    if s.starts_with("@every") {
        return parse_every(s);
    }
    let expanded = match s {
        "@yearly" | "@annually" => "0 0 1 1 *",
        "@monthly" => "0 0 1 * *",
        "@weekly" => "0 0 * * 0",
        "@daily" | "@midnight" => "0 0 * * *",
        "@hourly" => "0 * * * *",
        other => other,
    };
    let mut fields = [""; 7];
    let mut n = 0;
    let mut keep = |f| {
        if n < 7 {
            fields[n] = f;
        }
        n += 1;
    };
    if expanded.is_ascii() {
        // Byte offsets of ASCII spaces: every slice is on a character boundary.
        let mut start = None;
        for (i, &b) in expanded.as_bytes().iter().enumerate() {
            match (is_space(b), start) {
                (true, Some(from)) => {
                    keep(&expanded[from..i]);
                    start = None;
                }
                (false, None) => start = Some(i),
                _ => {}
            }
        }
        if let Some(from) = start {
            keep(&expanded[from..]);
        }
    } else {
        expanded.split_whitespace().for_each(&mut keep);
    }
    let (second, rest) = match n {
        5 | 6 => ("0", &fields[..n]),
        7 => (fields[0], &fields[1..7]),
        _ => {
            return Err(whole(format!(
                "expected 5, 6 or 7 fields (or @every, @daily, ...), found {n}"
            )))
        }
    };
    let year = rest.get(5).copied().unwrap_or("*");
    let parse_field = |field: Field, text: &str, base: i32| {
        field.parse(text, base).map_err(|message| CronError {
            part: field.name,
            message,
        })
    };
    // The casts keep bits already range-checked against each field's bounds.
    let day_of_week = parse_field(DAY_OF_WEEK, rest[4], 0)? as u8;
    let calendar = Calendar {
        second: parse_field(SECOND, second, 0)? as u64,
        minute: parse_field(MINUTE, rest[0], 0)? as u64,
        hour: parse_field(HOUR, rest[1], 0)? as u32,
        day_of_month: parse_field(DAY_OF_MONTH, rest[2], 0)? as u32,
        month: parse_field(MONTH, rest[3], 0)? as u16,
        // 7 is Sunday.
        day_of_week: (day_of_week & 0x7f) | (day_of_week >> 7),
        years: if year == "*" {
            0
        } else {
            parse_field(YEAR, year, YEAR.min)?
        },
        all_years: year == "*",
    };
    if comment.len() > MAX_COMMENT_BYTES {
        return Err(CronError {
            part: "comment",
            message: format!(
                "comment is {} bytes, longer than {MAX_COMMENT_BYTES}",
                comment.len()
            ),
        });
    }
    Ok(Cron::Calendar { calendar, zone })
}

/// Go's `unicode.IsSpace` (Rust's `char::is_whitespace`) restricted to ASCII: includes `\x0B`,
/// which `u8::is_ascii_whitespace` does not.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// `str::trim`, with a byte loop when the ends are ASCII (Unicode whitespace is never ASCII).
fn trim(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(&a), Some(&z)) if a.is_ascii() && !is_space(a) && z.is_ascii() && !is_space(z) => s,
        _ => s.trim(),
    }
}

fn parse_every(s: &str) -> Result<Cron<'static>, CronError> {
    let Some((_, spec)) = s.split_once(' ') else {
        return Err(whole(format!(
            "{s:?} needs a duration after @every, e.g. \"@every 90m\""
        )));
    };
    let (every, phase) = match spec.split_once('/') {
        Some((every, phase)) => (every, Some(phase)),
        None => (spec, None),
    };
    let every_ns = parse_go_duration(every).map_err(|message| CronError {
        part: "interval",
        message,
    })?;
    let phase_ns = match phase {
        Some(p) => parse_go_duration(p).map_err(|message| CronError {
            part: "phase",
            message,
        })?,
        None => 0,
    };
    if every_ns < 1_000_000_000 {
        return Err(CronError {
            part: "interval",
            message: format!("{every:?} is less than 1s"),
        });
    }
    if phase_ns < 0 {
        return Err(CronError {
            part: "phase",
            message: format!("{:?} is negative", phase.unwrap_or_default()),
        });
    }
    if phase_ns >= every_ns {
        return Err(CronError {
            part: "phase",
            message: format!(
                "{:?} is not less than the interval {every:?}",
                phase.unwrap_or_default()
            ),
        });
    }
    Ok(Cron::Every { every_ns, phase_ns })
}

#[cfg(test)]
#[path = "cron_tests.rs"]
mod tests;
