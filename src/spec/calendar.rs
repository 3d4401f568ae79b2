//! A calendar compiled to bitmasks, and its wall-clock search.
//!
//! Invariants: bit `v` of a mask means value `v` matches (day of week: 0 = Sunday; year: bit
//! `y - 2000`); `all_years` stands for Temporal's empty year list (every year, also before
//! 2000). Searches never return a wall time whose year is after 2100 (Temporal's horizon).
//! Calendars with an empty field, or whose months hold none of their days (February 30), never
//! fire and are dropped by the compiler, so no search here scans the horizon for them.

use super::civil::{
    civil_from_days, days_before_month, days_from_civil, is_leap, month_length, weekday, Fields,
    DAY,
};
use super::{ScheduleCalendarSpec, ScheduleRange, SpecError};

/// The last year any calendar can match.
pub(crate) const MAX_YEAR: i64 = 2100;
/// The first year a year range may name.
pub(crate) const MIN_YEAR: i64 = 2000;

/// Leap years among 2000..=2100, as bits `y - 2000` (2100 is not one).
const LEAP_YEARS: u128 = {
    let mut mask = 0u128;
    let mut y = 0;
    while y <= 100 {
        if y % 4 == 0 && y != 100 {
            mask |= 1 << y;
        }
        y += 1;
    }
    mask
};

/// One compiled calendar (structured or from a cron string).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Calendar {
    pub(crate) second: u64,
    pub(crate) minute: u64,
    pub(crate) hour: u32,
    /// Bits 1..=31.
    pub(crate) day_of_month: u32,
    /// Bits 1..=12.
    pub(crate) month: u16,
    /// Bits 0..=6, 0 = Sunday.
    pub(crate) day_of_week: u8,
    /// Bit `y - 2000` for years 2000..=2100.
    pub(crate) years: u128,
    /// Temporal's empty year list: every year.
    pub(crate) all_years: bool,
}

impl Calendar {
    /// Whether the calendar never fires: some field is empty, or no allowed month has an
    /// allowed day (February 29 counts only if some allowed year is a leap year). The day of
    /// week is left to the search.
    pub(crate) fn is_never(&self) -> bool {
        self.second == 0
            || self.minute == 0
            || self.hour == 0
            || self.day_of_week == 0
            || (!self.all_years && self.years == 0)
            || !self.has_a_month_day()
    }

    fn has_a_month_day(&self) -> bool {
        let leap = self.all_years || self.years & LEAP_YEARS != 0;
        (1..=12).any(|m| {
            self.month >> m & 1 == 1
                && self.day_of_month & (u32::MAX >> (31 - month_length(m, leap))) != 0
        })
    }

    #[inline]
    fn year_matches(&self, y: i64) -> bool {
        self.all_years
            || ((MIN_YEAR..=MAX_YEAR).contains(&y) && self.years >> (y - MIN_YEAR) & 1 == 1)
    }

    /// The first matching year `>= y`, if any is `<= 2100`.
    #[inline]
    fn next_year(&self, y: i64) -> Option<i64> {
        if y > MAX_YEAR {
            return None;
        }
        if self.all_years {
            return Some(y);
        }
        let from = (y.max(MIN_YEAR) - MIN_YEAR) as u32;
        let rest = self.years.checked_shr(from).unwrap_or(0);
        (rest != 0).then(|| MIN_YEAR + i64::from(from + rest.trailing_zeros()))
    }

    /// Whether the wall second `wall` matches every field.
    #[inline]
    pub(crate) fn matches(&self, wall: i64) -> bool {
        let f = Fields::of(wall);
        self.year_matches(f.year)
            && self.month >> f.month & 1 == 1
            && self.day_of_month >> f.day & 1 == 1
            && self.day_of_week >> f.weekday & 1 == 1
            && self.hour >> f.hour & 1 == 1
            && self.minute >> f.minute & 1 == 1
            && self.second >> f.second & 1 == 1
    }

    /// Days of a month (bits 1..=31) whose weekday matches, given the day number (since the
    /// epoch) of its 1st.
    #[inline]
    fn weekday_days(&self, first_day: i64) -> u32 {
        let dow = u32::from(self.day_of_week);
        if dow == 0x7f {
            return u32::MAX;
        }
        let first = weekday(first_day);
        // Bit k of `r`: day k + 1 of the month (weekday (first + k) % 7) matches.
        let r = ((dow >> first) | (dow << (7 - first))) & 0x7f;
        // Copies of the 7-bit week every 7 days; they never overlap, so no carries.
        ((u64::from(r) * 0x1020_4081) << 1) as u32
    }

    /// The smallest matching wall second strictly after `wall`, with year <= 2100.
    ///
    /// Nested loops, one per field from year down to second: each level jumps to its field's
    /// next set bit, and a level that runs out moves its parent on by one and starts again at
    /// the smallest value. `jan1` (days since the epoch of January 1st of `y`) moves with the
    /// year, so only a jump over years not in the year set needs civil arithmetic.
    #[inline]
    pub(crate) fn next_after(&self, wall: i64) -> Option<i64> {
        let t = wall.checked_add(1)?;
        let day = t.div_euclid(DAY);
        let sod = t.rem_euclid(DAY) as u32;
        let (mut y, mut mo, mut d) = civil_from_days(day);
        let (mut h, mut mi, mut s) = (sod / 3600, sod / 60 % 60, sod % 60);
        let mut leap = is_leap(y);
        let mut jan1 = day - days_before_month(mo, leap) - i64::from(d - 1);
        loop {
            let ny = self.next_year(y)?;
            if ny != y {
                (y, mo, d, h, mi, s) = (ny, 1, 1, 0, 0, 0);
                jan1 = days_from_civil(y, 1, 1);
                leap = is_leap(y);
            }
            'months: loop {
                // Invariant: 1 <= mo <= 12.
                let months = self.month & (u16::MAX << mo);
                if months == 0 {
                    break 'months;
                }
                let nm = months.trailing_zeros();
                if nm != mo {
                    (mo, d, h, mi, s) = (nm, 1, 0, 0, 0);
                }
                let dim = month_length(mo, leap);
                let first = jan1 + days_before_month(mo, leap);
                let month_days =
                    self.day_of_month & self.weekday_days(first) & (u32::MAX >> (31 - dim));
                'days: loop {
                    // Invariant: 1 <= d <= dim.
                    let days = month_days & (u32::MAX << d);
                    if days == 0 {
                        break 'days;
                    }
                    let nd = days.trailing_zeros();
                    if nd != d {
                        (d, h, mi, s) = (nd, 0, 0, 0);
                    }
                    'hours: loop {
                        let hours = self.hour & (u32::MAX << h);
                        if hours == 0 {
                            break 'hours;
                        }
                        let nh = hours.trailing_zeros();
                        if nh != h {
                            (h, mi, s) = (nh, 0, 0);
                        }
                        'minutes: loop {
                            let minutes = self.minute & (u64::MAX << mi);
                            if minutes == 0 {
                                break 'minutes;
                            }
                            let nmi = minutes.trailing_zeros();
                            if nmi != mi {
                                (mi, s) = (nmi, 0);
                            }
                            let seconds = self.second & (u64::MAX << s);
                            if seconds != 0 {
                                s = seconds.trailing_zeros();
                                let day = first + i64::from(d - 1);
                                return Some(day * DAY + i64::from(h * 3600 + mi * 60 + s));
                            }
                            if mi == 59 {
                                break 'minutes;
                            }
                            (mi, s) = (mi + 1, 0);
                        }
                        if h == 23 {
                            break 'hours;
                        }
                        (h, mi, s) = (h + 1, 0, 0);
                    }
                    if d == dim {
                        break 'days;
                    }
                    (d, h, mi, s) = (d + 1, 0, 0, 0);
                }
                if mo == 12 {
                    break 'months;
                }
                (mo, d, h, mi, s) = (mo + 1, 1, 0, 0, 0);
            }
            jan1 += 365 + i64::from(leap);
            y += 1;
            leap = is_leap(y);
            (mo, d, h, mi, s) = (1, 1, 0, 0, 0);
        }
    }
}

/// One field's bounds and its name in messages.
#[derive(Debug, Clone, Copy)]
struct FieldKind {
    /// The Rust field name, e.g. `day_of_week`.
    name: &'static str,
    min: i32,
    max: i32,
}

const fn kind(name: &'static str, min: i32, max: i32) -> FieldKind {
    FieldKind { name, min, max }
}

const SECOND: FieldKind = kind("second", 0, 59);
const MINUTE: FieldKind = kind("minute", 0, 59);
const HOUR: FieldKind = kind("hour", 0, 23);
const DAY_OF_MONTH: FieldKind = kind("day_of_month", 1, 31);
const MONTH: FieldKind = kind("month", 1, 12);
// The casts are exact: both bounds are four-digit years.
const YEAR: FieldKind = kind("year", MIN_YEAR as i32, MAX_YEAR as i32);
/// Structured calendars take 0-6 only; cron strings also accept 7 for Sunday.
const DAY_OF_WEEK: FieldKind = kind("day_of_week", 0, 6);

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

/// Validates a structured field (Temporal's rules) and returns its mask relative to `kind.min`
/// for years and to 0 otherwise.
fn structured_field(
    ranges: &[ScheduleRange],
    kind: FieldKind,
    path: &dyn Fn() -> String,
) -> Result<u128, SpecError> {
    let base = if kind.name == "year" { kind.min } else { 0 };
    let err = |message: String| SpecError::InvalidField {
        field: format!("{}.{}", path(), kind.name),
        message,
    };
    let mut mask = 0;
    for r in ranges {
        let (lo, hi) = (kind.min, kind.max);
        if r.start < lo || r.start > hi {
            return Err(err(format!(
                "{} is not in range {lo}-{hi} (range {})",
                r.start,
                show_range(r)
            )));
        }
        if r.end != 0 && r.end < r.start {
            return Err(err(format!(
                "range {}: end {} is before start {}",
                show_range(r),
                r.end,
                r.start
            )));
        }
        if r.end > hi {
            return Err(err(format!(
                "range {}: end {} is not in range {lo}-{hi}",
                show_range(r),
                r.end
            )));
        }
        if r.step < 0 {
            return Err(err(format!(
                "range {}: step {} is negative",
                show_range(r),
                r.step
            )));
        }
        let end = if r.end < r.start { r.start } else { r.end };
        mask |= range_bits(r.start, end, r.step.max(1), base);
    }
    Ok(mask)
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
    // Every cast below is of a mask whose bits were range-checked against the field's bounds.
    let calendar = Calendar {
        second: structured_field(&cal.second, SECOND, path)? as u64,
        minute: structured_field(&cal.minute, MINUTE, path)? as u64,
        hour: structured_field(&cal.hour, HOUR, path)? as u32,
        day_of_month: structured_field(&cal.day_of_month, DAY_OF_MONTH, path)? as u32,
        month: structured_field(&cal.month, MONTH, path)? as u16,
        day_of_week: structured_field(&cal.day_of_week, DAY_OF_WEEK, path)? as u8,
        years: structured_field(&cal.year, YEAR, path)?,
        all_years: cal.year.is_empty(),
    };
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
    Ok(calendar)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::civil::wall_seconds;

    fn cal(f: impl FnOnce(&mut ScheduleCalendarSpec)) -> Calendar {
        let mut spec = ScheduleCalendarSpec::default();
        f(&mut spec);
        compile_structured(&spec, &|| "calendars[0]".into()).unwrap()
    }

    fn err(f: impl FnOnce(&mut ScheduleCalendarSpec)) -> String {
        let mut spec = ScheduleCalendarSpec::default();
        f(&mut spec);
        compile_structured(&spec, &|| "calendars[0]".into())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn default_is_daily_midnight() {
        let c = cal(|_| {});
        // 2022-03-24T00:00:00 -> next is 2022-03-25T00:00:00.
        let t = wall_seconds(2022, 3, 24, 0, 0, 0);
        assert_eq!(c.next_after(t), Some(t + DAY));
        assert_eq!(c.next_after(t - 1), Some(t));
    }

    #[test]
    fn range_normalisation() {
        let c = cal(|s| s.hour = vec![ScheduleRange::new(5, 0, 0)]);
        assert_eq!(c.hour, 1 << 5);
        let c = cal(|s| s.minute = vec![ScheduleRange::new(0, 59, 15)]);
        assert_eq!(c.minute, 1 | 1 << 15 | 1 << 30 | 1 << 45);
        let c = cal(|s| s.year = vec![ScheduleRange::new(2000, 2100, 50)]);
        assert_eq!(c.years, 1 | 1 << 50 | 1 << 100);
    }

    #[test]
    fn feb_29_only_in_leap_years_and_feb_30_never() {
        let c = cal(|s| {
            s.month = vec![ScheduleRange::single(2)];
            s.day_of_month = vec![ScheduleRange::single(29)];
        });
        let from = wall_seconds(2021, 1, 1, 0, 0, 0);
        assert_eq!(c.next_after(from), Some(wall_seconds(2024, 2, 29, 0, 0, 0)));
        let c = cal(|s| {
            s.month = vec![ScheduleRange::single(2)];
            s.day_of_month = vec![ScheduleRange::single(30)];
        });
        assert_eq!(c.next_after(from), None);
    }

    #[test]
    fn horizon_is_2100() {
        let c = cal(|s| s.year = vec![ScheduleRange::single(2100)]);
        let from = wall_seconds(2100, 12, 31, 0, 0, 0);
        assert_eq!(c.next_after(from), None);
        assert_eq!(
            c.next_after(from - 1),
            Some(wall_seconds(2100, 12, 31, 0, 0, 0))
        );
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
    fn empty_field_is_never() {
        assert!(cal(|s| s.second.clear()).is_never());
        assert!(cal(|s| s.day_of_week.clear()).is_never());
        assert!(!cal(|s| s.year.clear()).is_never());
    }

    fn month_day(months: &[i32], days: &[i32], years: &[i32]) -> Calendar {
        let singles = |v: &[i32]| v.iter().map(|&x| ScheduleRange::single(x)).collect();
        cal(|s| {
            s.month = singles(months);
            s.day_of_month = singles(days);
            s.year = singles(years);
        })
    }

    #[test]
    fn impossible_month_days_are_never() {
        // February has at most 29 days, April, June, September and November 30.
        assert!(month_day(&[2], &[30], &[]).is_never());
        assert!(month_day(&[2], &[30, 31], &[]).is_never());
        assert!(month_day(&[4, 6, 9, 11], &[31], &[]).is_never());
        assert!(month_day(&[2, 4], &[31], &[]).is_never());
        // Any other month with the 31st can fire.
        assert!(!month_day(&[2, 3], &[31], &[]).is_never());
        // February 29 needs a leap year among the allowed years: 2000 is one (divisible by
        // 400), 2100 is not (divisible by 100), 2001-2003 hold none, 2028 is one.
        assert!(!month_day(&[2], &[29], &[]).is_never());
        assert!(!month_day(&[2], &[29], &[2000]).is_never());
        assert!(month_day(&[2], &[29], &[2100]).is_never());
        assert!(month_day(&[2], &[29], &[2001, 2002, 2003]).is_never());
        assert!(!month_day(&[2], &[29], &[2001, 2028]).is_never());
        // A non-leap year still has February 28.
        assert!(!month_day(&[2], &[28, 29], &[2100]).is_never());
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
}
