//! One cron field: Temporal's grammar for a comma list of `*`, `x`, `x-z`, `x/y`, `*/y`,
//! `x-z/y` with names, and the day rules beyond it — `L`, `L-n`, `LW`, `nW` in day of month,
//! `nL` and `n#k` in day of week.
//!
//! Rules for the day tokens (Quartz's, where it has one): `W` takes one day and stands alone
//! in its field (no list, range or step: `1,15W` is an error); `L`, `L-n`, `nL` and `n#k` take
//! one value each and may be listed with plain values (`1,L`, `2,4#3`: lists are unions); `n`
//! is 0-7 or a day name in day of week (7 = Sunday), `k` is 1-5, `L-n` takes n in 0-30. `L`
//! alone in day of week (Quartz: Saturday) is an error, as too ambiguous.

use super::calendar::{MAX_YEAR, MIN_YEAR};
use super::days::DayRules;
use super::structured::range_bits;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Names {
    None,
    Month,
    Weekday,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Field {
    pub(super) name: &'static str,
    pub(super) min: i32,
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

pub(super) const SECOND: Field = field("second", 0, 59, Names::None);
pub(super) const MINUTE: Field = field("minute", 0, 59, Names::None);
pub(super) const HOUR: Field = field("hour", 0, 23, Names::None);
pub(super) const DAY_OF_MONTH: Field = field("day_of_month", 1, 31, Names::None);
pub(super) const MONTH: Field = field("month", 1, 12, Names::Month);
pub(super) const DAY_OF_WEEK: Field = field("day_of_week", 0, 7, Names::Weekday);
// The casts are exact: both bounds are four-digit years.
pub(super) const YEAR: Field = field("year", MIN_YEAR as i32, MAX_YEAR as i32, Names::None);

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
    pub(super) fn value(&self, text: &str) -> Result<i32, String> {
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
            Err(_)
                if self.names != Names::Weekday
                    && self.name != "day_of_month"
                    && day_rule(text) =>
            {
                Err(format!(
                    "{text:?} is not a {}: L, W and # are day rules, allowed only in \
                     day_of_month (L, L-3, LW, 15W) and day_of_week (5L, 1#3)",
                    self.what()
                ))
            }
            Err(_) => Err(format!("{text:?} is not a {}", self.what())),
        }
    }

    /// The set of values of one field, as bits relative to `base`: one pass over its bytes,
    /// each comma-separated part handled where it ends.
    pub(super) fn parse(&self, text: &str, base: i32) -> Result<u128, String> {
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

/// Whether `text` looks like a day rule (`L`, `L-3`, `15W`, `LW`): digits, dashes and at least
/// one `L` or `W`.
fn day_rule(text: &str) -> bool {
    text.bytes().any(|b| matches!(b, b'L' | b'l' | b'W' | b'w'))
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'L' | b'l' | b'W' | b'w' | b'-'))
}

/// A day of the month or week, with the rules beyond Temporal's sets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Days {
    /// Plain days of the month, bits 1..=31.
    pub(super) day_of_month: u32,
    /// Plain weekdays, bits 0..=6.
    pub(super) day_of_week: u8,
    pub(super) rules: DayRules,
}

fn has_any(text: &str, bytes: &[u8]) -> bool {
    text.bytes().any(|b| bytes.contains(&b))
}

/// `L` or `L-n`: the bit of `n` (days before the last day).
fn last_day(part: &str) -> Result<u32, String> {
    let offset = match part.get(1..) {
        Some("") => return Ok(1),
        Some(rest) => rest.strip_prefix('-'),
        None => None,
    };
    match offset.map(|n| (n, n.parse::<u32>())) {
        Some((n, Ok(k))) if k <= 30 && n.bytes().all(|b| b.is_ascii_digit()) => Ok(1 << k),
        Some((n, Ok(_))) if n.bytes().all(|b| b.is_ascii_digit()) => Err(format!(
            "in {part:?} the offset {n} is more than 30 days before the last day"
        )),
        _ => Err(format!(
            "{part:?} is not a last-day rule: write L (the last day) or L-n (n days before it, \
             0-30), on its own, not in a range or step"
        )),
    }
}

/// Parses the day-of-month field into `days`.
pub(super) fn day_of_month(text: &str, days: &mut Days) -> Result<(), String> {
    if !has_any(text, b"LlWw") {
        days.day_of_month = DAY_OF_MONTH.parse(text, 0)? as u32;
        return Ok(());
    }
    if has_any(text, b"Ww") {
        if text.contains(',') {
            return Err(format!(
                "in {text:?} W cannot be part of a list: it takes one day (15W, LW), as in Quartz"
            ));
        }
        let Some(day) = text.strip_suffix(['W', 'w']) else {
            return Err(format!(
                "{text:?}: L and W are days of their own (L, L-3, LW, 15W), not part of a \
                 range or step"
            ));
        };
        days.rules.nearest_weekday = true;
        if day.starts_with(['L', 'l']) {
            days.rules.from_end = last_day(day)?;
        } else if has_any(day, b"-/*LlWw") || day.is_empty() {
            return Err(format!(
                "{text:?}: W takes one day of the month (15W, LW), not a range or step"
            ));
        } else {
            let d = DAY_OF_MONTH
                .value(day)
                .map_err(|e| format!("in {text:?}: {e}"))?;
            days.day_of_month = 1 << d;
        }
        return Ok(());
    }
    for part in text.split(',') {
        if part.starts_with(['L', 'l']) {
            days.rules.from_end |= last_day(part)?;
        } else if has_any(part, b"LlWw") {
            return Err(format!(
                "{part:?}: L and W are days of their own (L, L-3, LW, 15W), not part of a \
                 range or step"
            ));
        } else {
            days.day_of_month |= DAY_OF_MONTH.parse(part, 0)? as u32;
        }
    }
    Ok(())
}

/// A weekday of a `#` or `L` rule: one value 0-7 or a name, Sunday as 0.
fn one_weekday(day: &str, part: &str, rule: &str) -> Result<u32, String> {
    if day.is_empty() || has_any(day, b"-/*") {
        return Err(format!(
            "{part:?}: {rule} takes one day of the week (1#3, FRI#2, 5L), not a range or step"
        ));
    }
    let w = DAY_OF_WEEK
        .value(day)
        .map_err(|e| format!("in {part:?}: {e}"))?;
    Ok(w as u32 % 7)
}

/// Parses the day-of-week field into `days` (7 is Sunday).
pub(super) fn day_of_week(text: &str, days: &mut Days) -> Result<(), String> {
    // 7 is Sunday: bit 7 folds onto bit 0.
    let fold = |bits: u128| ((bits & 0x7f) | (bits >> 7 & 1)) as u8;
    if !has_any(text, b"Ll#") {
        days.day_of_week = fold(DAY_OF_WEEK.parse(text, 0)?);
        return Ok(());
    }
    for part in text.split(',') {
        if let Some((day, nth)) = part.split_once('#') {
            let w = one_weekday(day, part, "#")?;
            match nth.parse::<usize>() {
                Ok(k @ 1..=5) if nth.bytes().all(|b| b.is_ascii_digit()) => {
                    days.rules.weeks[k - 1] |= 1 << w;
                }
                _ => {
                    return Err(format!(
                        "in {part:?} the occurrence {nth:?} is not in range 1-5 (1#3 is the \
                         third Monday)"
                    ))
                }
            }
        } else if let Some(day) = part.strip_suffix(['L', 'l']) {
            if day.is_empty() {
                return Err(
                    "\"L\" alone is ambiguous in day_of_week: write 5L for the last Friday, or \
                     6 (SAT) for Saturday"
                        .into(),
                );
            }
            let w = one_weekday(day, part, "L")?;
            days.rules.weeks_from_end[0] |= 1 << w;
        } else {
            days.day_of_week |= fold(DAY_OF_WEEK.parse(part, 0)?);
        }
    }
    Ok(())
}
