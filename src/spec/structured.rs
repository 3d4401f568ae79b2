//! Validation and compilation of [`ScheduleCalendarSpec`], Temporal's structured calendar
//! (plus the day rules beyond it: days and weeks counted from the end of the month, the
//! nearest weekday).
//!
//! Temporal's rules for a range: `start` within the field's bounds; `end == 0` means `start`;
//! otherwise `start <= end <= max`; `step == 0` means 1 and a negative step is an error. The
//! signed fields (`day_of_month`, `week_of_month`) also take negative ranges, counted from the
//! end of the month, and a range is wholly positive or wholly negative. Every message names the
//! field and quotes the range.

use super::calendar::{year_words, Calendar, MAX_YEAR, MIN_YEAR};
use super::days::DayRules;
use super::{ScheduleCalendarSpec, ScheduleRange, SpecError};

/// One field's bounds and its name in messages.
#[derive(Debug, Clone, Copy)]
struct FieldKind {
    /// The Rust field name, e.g. `day_of_week`.
    name: &'static str,
    min: i32,
    max: i32,
    /// The most negative value counted from the end (-31 for days), or 0 when the field
    /// takes no negative values.
    from_end: i32,
}

const fn kind(name: &'static str, min: i32, max: i32) -> FieldKind {
    FieldKind {
        name,
        min,
        max,
        from_end: 0,
    }
}

const SECOND: FieldKind = kind("second", 0, 59);
const MINUTE: FieldKind = kind("minute", 0, 59);
const HOUR: FieldKind = kind("hour", 0, 23);
const DAY_OF_MONTH: FieldKind = FieldKind {
    from_end: -31,
    ..kind("day_of_month", 1, 31)
};
const MONTH: FieldKind = kind("month", 1, 12);
// The casts are exact: both bounds are four-digit years.
const YEAR: FieldKind = kind("year", MIN_YEAR as i32, MAX_YEAR as i32);
/// Structured calendars take 0-6 only; cron strings also accept 7 for Sunday.
const DAY_OF_WEEK: FieldKind = kind("day_of_week", 0, 6);
const WEEK_OF_MONTH: FieldKind = FieldKind {
    from_end: -5,
    ..kind("week_of_month", 1, 5)
};

/// Set bits `start, start + step, ..= end` (relative to `base`) in a mask.
///
/// Callers pass validated bounds (`base <= start`, `end - base < 128`); anything else yields
/// only the bits that fit, never a panic. Mask arithmetic, no loop per value: a step of 1 is a
/// contiguous run, a longer step doubles a comb of bits until it spans the range.
pub(crate) fn range_bits(start: i32, end: i32, step: i32, base: i32) -> u128 {
    if start > end || start < base || step < 1 {
        return 0;
    }
    let lo = (i64::from(start) - i64::from(base)) as u64;
    if lo > 127 {
        return 0;
    }
    let span = (i64::from(end) - i64::from(start)) as u64;
    let span = span.min(127 - lo) as u32;
    // Bits 0..=span.
    let run = u128::MAX >> (127 - span);
    let comb = if step == 1 {
        run
    } else {
        // Bits at multiples of `step` below `covered`; each round doubles `covered`.
        let step = step as u64;
        let (mut comb, mut covered) = (1u128, step);
        while covered <= u64::from(span) {
            comb |= comb << covered;
            covered *= 2;
        }
        comb & run
    };
    comb << lo
}

/// A validated field: its values as bits relative to `kind.min` for years and to 0 otherwise,
/// and its negative values `-(k + 1)` as bits `k`.
#[derive(Debug, Default)]
struct FieldBits {
    values: u128,
    from_end: u32,
}

impl FieldKind {
    fn bounds(&self) -> String {
        match self.from_end {
            0 => format!("{}-{}", self.min, self.max),
            neg => format!("{}-{} or {neg} to -1", self.min, self.max),
        }
    }

    /// Validates one field (Temporal's rules, plus negative ranges where the field has them).
    fn check(
        &self,
        ranges: &[ScheduleRange],
        path: &dyn Fn() -> String,
    ) -> Result<FieldBits, SpecError> {
        let base = if self.name == "year" { self.min } else { 0 };
        let err = |r: &ScheduleRange, what: String| SpecError::InvalidField {
            field: format!("{}.{}", path(), self.name),
            message: format!("range {}: {what}", show_range(r)),
        };
        let mut bits = FieldBits::default();
        for r in ranges {
            let negative = r.start < 0 && self.from_end != 0;
            let (lo, hi) = if negative {
                (self.from_end, -1)
            } else {
                (self.min, self.max)
            };
            if r.start < lo || r.start > hi {
                return Err(SpecError::InvalidField {
                    field: format!("{}.{}", path(), self.name),
                    message: format!(
                        "{} is not in range {} (range {})",
                        r.start,
                        self.bounds(),
                        show_range(r)
                    ),
                });
            }
            if r.end != 0 && r.end < r.start {
                return Err(err(r, format!("end {} is before start {}", r.end, r.start)));
            }
            if r.end != 0 && r.end > hi {
                let why = if negative {
                    format!(
                        "end {} is not in range {lo} to -1 (a range counts either from the start \
                         of the month or from its end)",
                        r.end
                    )
                } else {
                    format!("end {} is not in range {lo}-{hi}", r.end)
                };
                return Err(err(r, why));
            }
            if r.step < 0 {
                return Err(err(r, format!("step {} is negative", r.step)));
            }
            let end = if r.end == 0 { r.start } else { r.end };
            if negative {
                let mut v = i64::from(r.start);
                while v <= i64::from(end) {
                    bits.from_end |= 1 << (-v - 1);
                    v += i64::from(r.step.max(1));
                }
            } else {
                bits.values |= range_bits(r.start, end, r.step.max(1), base);
            }
        }
        Ok(bits)
    }
}

fn show_range(r: &ScheduleRange) -> String {
    format!("{{start: {}, end: {}, step: {}}}", r.start, r.end, r.step)
}

/// Longest comment Temporal accepts, in bytes.
pub(crate) const MAX_COMMENT_BYTES: usize = 200;

/// Validates a structured calendar and compiles it; `path` names it in errors (e.g.
/// `calendars[0]`) and is only called on error.
pub(crate) fn compile_structured(
    cal: &ScheduleCalendarSpec,
    path: &dyn Fn() -> String,
) -> Result<Calendar, SpecError> {
    // Checked in Temporal's order, the fields beyond it last. Every cast below is of a mask
    // whose bits were range-checked against the field's bounds.
    let second = SECOND.check(&cal.second, path)?.values as u64;
    let minute = MINUTE.check(&cal.minute, path)?.values as u64;
    let hour = HOUR.check(&cal.hour, path)?.values as u32;
    let day_of_month = DAY_OF_MONTH.check(&cal.day_of_month, path)?;
    let month = MONTH.check(&cal.month, path)?.values as u16;
    let day_of_week = DAY_OF_WEEK.check(&cal.day_of_week, path)?.values as u8;
    let years = YEAR.check(&cal.year, path)?.values;
    let weeks = WEEK_OF_MONTH.check(&cal.week_of_month, path)?;
    let mut calendar = Calendar {
        second,
        minute,
        hour,
        day_of_month: day_of_month.values as u32,
        month,
        day_of_week,
        all_years: cal.year.is_empty(),
        years: year_words(years),
        rules: None,
        leap_only: false,
    };
    if day_of_month.from_end != 0 || cal.nearest_weekday || !cal.week_of_month.is_empty() {
        let mut rules = DayRules {
            from_end: day_of_month.from_end,
            nearest_weekday: cal.nearest_weekday,
            ..Default::default()
        };
        if !cal.week_of_month.is_empty() {
            // The weekdays hold only in the listed weeks.
            calendar.day_of_week = 0;
            for k in 0..5 {
                if weeks.values >> (k + 1) & 1 == 1 {
                    rules.weeks[k] = day_of_week;
                }
                if weeks.from_end >> k & 1 == 1 {
                    rules.weeks_from_end[k] = day_of_week;
                }
            }
        }
        calendar.rules = Some(rules.compiled(calendar.day_of_month, calendar.day_of_week));
    }
    if let Some(comment) = &cal.comment {
        if comment.len() > MAX_COMMENT_BYTES {
            return Err(SpecError::InvalidField {
                field: format!("{}.comment", path()),
                message: format!(
                    "comment is {} bytes, longer than {MAX_COMMENT_BYTES}",
                    comment.len()
                ),
            });
        }
    }
    Ok(calendar.prepared())
}

/// A valid structured calendar, Temporal's default changed by `f`, compiled (for tests).
#[cfg(test)]
pub(crate) fn cal(f: impl FnOnce(&mut ScheduleCalendarSpec)) -> Calendar {
    let mut spec = ScheduleCalendarSpec::default();
    f(&mut spec);
    compile_structured(&spec, &|| "calendars[0]".into()).expect("a valid calendar")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(f: impl FnOnce(&mut ScheduleCalendarSpec)) -> String {
        let mut spec = ScheduleCalendarSpec::default();
        f(&mut spec);
        compile_structured(&spec, &|| "calendars[0]".into())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn range_normalisation() {
        let c = cal(|s| s.hour = vec![ScheduleRange::new(5, 0, 0)]);
        assert_eq!(c.hour, 1 << 5);
        let c = cal(|s| s.minute = vec![ScheduleRange::new(0, 59, 15)]);
        assert_eq!(c.minute, 1 | 1 << 15 | 1 << 30 | 1 << 45);
        let c = cal(|s| s.year = vec![ScheduleRange::new(2000, 2100, 50)]);
        assert_eq!(c.years, year_words(1 | 1 << 50 | 1 << 100));
    }

    #[test]
    fn validation_messages_name_field_and_value() {
        let m = err(|s| s.hour = vec![ScheduleRange::single(24)]);
        assert!(
            m.starts_with("calendars[0].hour: 24 is not in range 0-23"),
            "{m}"
        );
        let m = err(|s| s.minute = vec![ScheduleRange::new(30, 10, 1)]);
        assert!(
            m.starts_with("calendars[0].minute: range") && m.contains("end 10 is before start 30"),
            "{m}"
        );
        let m = err(|s| s.hour = vec![ScheduleRange::new(0, 23, -2)]);
        assert!(
            m.contains("calendars[0].hour") && m.contains("step -2 is negative"),
            "{m}"
        );
        let m = err(|s| s.day_of_week = vec![ScheduleRange::single(7)]);
        assert!(
            m.starts_with("calendars[0].day_of_week: 7 is not in range 0-6"),
            "{m}"
        );
        let m = err(|s| s.year = vec![ScheduleRange::single(1999)]);
        assert!(
            m.starts_with("calendars[0].year: 1999 is not in range 2000-2100"),
            "{m}"
        );
        let m = err(|s| s.month = vec![ScheduleRange::new(1, 13, 1)]);
        assert!(
            m.contains("calendars[0].month") && m.contains("end 13 is not in range 1-12"),
            "{m}"
        );
        let m = err(|s| s.comment = Some("x".repeat(201)));
        assert!(
            m.starts_with("calendars[0].comment: comment is 201 bytes"),
            "{m}"
        );
        assert!(compile_structured(
            &ScheduleCalendarSpec {
                comment: Some("x".repeat(200)),
                ..Default::default()
            },
            &|| "c".into()
        )
        .is_ok());
    }

    #[test]
    fn range_bits_equals_the_listed_values() {
        // Oracle: the values start, start + step, ... <= end, set one by one.
        for (start, end, step, base) in [
            (0, 59, 1, 0),
            (0, 59, 5, 0),
            (1, 31, 1, 0),
            (2, 31, 2, 0),
            (5, 59, 20, 0),
            (0, 7, 7, 0),
            (2000, 2100, 1, 2000),
            (2000, 2100, 50, 2000),
            (2003, 2097, 3, 2000),
            (9, 9, 1, 0),
            (9, 9, 4, 0),
            (1, 12, i32::MAX, 0),
        ] {
            let mut want = 0u128;
            let mut v = i64::from(start);
            while v <= i64::from(end) {
                want |= 1 << (v - i64::from(base));
                v += i64::from(step);
            }
            assert_eq!(
                range_bits(start, end, step, base),
                want,
                "{start}-{end}/{step}"
            );
        }
        assert_eq!(range_bits(5, 4, 1, 0), 0);
    }
    #[test]
    fn negative_days_and_weeks_count_from_the_end() {
        let c =
            cal(|s| s.day_of_month = vec![ScheduleRange::new(-3, -1, 1), ScheduleRange::single(1)]);
        assert_eq!(c.day_of_month, 1 << 1);
        let rules = c.rules.expect("rules");
        assert_eq!(rules.from_end, 0b111);
        let c = cal(|s| s.day_of_month = vec![ScheduleRange::new(-31, -1, 10)]);
        // -31, -21, -11, -1: bits 30, 20, 10, 0.
        assert_eq!(
            c.rules.expect("rules").from_end,
            1 | 1 << 10 | 1 << 20 | 1 << 30
        );
        let c = cal(|s| {
            s.day_of_week = vec![ScheduleRange::new(1, 2, 1)];
            s.week_of_month = vec![ScheduleRange::single(2), ScheduleRange::single(-1)];
        });
        assert_eq!(c.day_of_week, 0);
        let rules = c.rules.expect("rules");
        assert_eq!(rules.weeks, [0, 0b110, 0, 0, 0]);
        assert_eq!(rules.weeks_from_end, [0b110, 0, 0, 0, 0]);
        // Nothing beyond Temporal: no rules, the calendar Temporal would build.
        assert_eq!(cal(|_| {}).rules, None);
    }

    #[test]
    fn signed_fields_reject_mixed_and_out_of_range_values() {
        let m = err(|s| s.day_of_month = vec![ScheduleRange::new(-3, 5, 1)]);
        assert!(
            m.starts_with("calendars[0].day_of_month: range {start: -3, end: 5, step: 1}: end 5")
                && m.contains("either from the start"),
            "{m}"
        );
        let m = err(|s| s.day_of_month = vec![ScheduleRange::single(-32)]);
        assert!(
            m.starts_with("calendars[0].day_of_month: -32 is not in range 1-31 or -31 to -1"),
            "{m}"
        );
        let m = err(|s| s.day_of_month = vec![ScheduleRange::single(0)]);
        assert!(m.contains("0 is not in range 1-31 or -31 to -1"), "{m}");
        let m = err(|s| s.day_of_month = vec![ScheduleRange::new(-1, -3, 1)]);
        assert!(m.contains("end -3 is before start -1"), "{m}");
        let m = err(|s| s.week_of_month = vec![ScheduleRange::single(6)]);
        assert!(
            m.starts_with("calendars[0].week_of_month: 6 is not in range 1-5 or -5 to -1"),
            "{m}"
        );
        let m = err(|s| s.week_of_month = vec![ScheduleRange::new(-6, -1, 1)]);
        assert!(m.contains("-6 is not in range 1-5 or -5 to -1"), "{m}");
        let m = err(|s| s.week_of_month = vec![ScheduleRange::new(1, 5, -1)]);
        assert!(m.contains("step -1 is negative"), "{m}");
        // Fields without negative values keep Temporal's message.
        let m = err(|s| s.hour = vec![ScheduleRange::single(-1)]);
        assert!(
            m.starts_with("calendars[0].hour: -1 is not in range 0-23"),
            "{m}"
        );
    }
}
