//! A calendar compiled to bitmasks, and its wall-clock search.
//!
//! Invariants: bit `v` of a mask means value `v` matches (day of week: 0 = Sunday; year: bit
//! `y - 2000`); `all_years` stands for Temporal's empty year list (every year, also before
//! 2000). Searches never return a wall time whose year is after 2100 (Temporal's horizon).
//! Calendars with an empty field, or whose months hold none of their days (February 30), never
//! fire and are dropped by the compiler, so no search here scans the horizon for them. Day
//! rules beyond Temporal's (`days`) live in a box that exists only when some are set, so plain
//! calendars keep their size and their search.

use super::civil::{
    civil_from_days, days_before_month, days_from_civil, is_leap, month_length, weekday, Fields,
    DAY,
};
use super::days::{month_mask, weekday_days, DayRules};

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

/// Every year 2000..=2100.
const ALL_YEAR_BITS: u128 = u128::MAX >> 27;

/// All 24 hours.
pub(crate) const EVERY_HOUR: u32 = (1 << 24) - 1;

/// One compiled calendar (structured or from a cron string).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Calendar {
    pub(crate) second: u64,
    pub(crate) minute: u64,
    pub(crate) hour: u32,
    /// Bits 1..=31.
    pub(crate) day_of_month: u32,
    /// Bits 1..=12.
    pub(crate) month: u16,
    /// Bits 0..=6, 0 = Sunday: weekdays allowed in every week of the month.
    pub(crate) day_of_week: u8,
    /// Temporal's empty year list: every year.
    pub(crate) all_years: bool,
    /// The calendar fires only in leap years (February 29): the search skips the others.
    /// Set by [`Calendar::prepared`].
    pub(crate) leap_only: bool,
    /// Bit `y - 2000` for years 2000..=2100, low word first (two words, not a `u128`, keep the
    /// calendar 8-byte aligned and 56 bytes long: the engine keeps one inline per schedule).
    pub(crate) years: [u64; 2],
    /// Day rules beyond Temporal's, when any is set.
    pub(crate) rules: Option<Box<DayRules>>,
}

/// Splits a year mask into the calendar's two words.
pub(crate) fn year_words(years: u128) -> [u64; 2] {
    [years as u64, (years >> 64) as u64]
}

impl Calendar {
    fn years(&self) -> u128 {
        u128::from(self.years[0]) | u128::from(self.years[1]) << 64
    }

    /// Whether the calendar never fires: some field is empty, or no allowed month has an
    /// allowed day in an allowed year (February 29 counts only if some allowed year is a leap
    /// year). Which weekday a month starts on is left to the search.
    pub(crate) fn is_never(&self) -> bool {
        let years = self.years();
        let leap = self.all_years || years & LEAP_YEARS != 0;
        let common = self.all_years || years & !LEAP_YEARS & ALL_YEAR_BITS != 0;
        self.second == 0
            || self.minute == 0
            || self.hour == 0
            || (self.rules.is_none() && self.day_of_week == 0)
            || !((leap && self.has_days(true)) || (common && self.has_days(false)))
    }

    /// Whether some allowed month has an allowed day in a leap (or common) year, its 1st on
    /// some weekday.
    fn has_days(&self, leap: bool) -> bool {
        (1..=12).filter(|m| self.month >> m & 1 == 1).any(|m| {
            let len = month_length(m, leap);
            match &self.rules {
                None => self.day_of_month & month_mask(len) != 0,
                Some(rules) => (0..7).any(|first| rules.days(first, len) != 0),
            }
        })
    }

    /// The calendar with its derived facts set (`leap_only`): called once it is built.
    pub(crate) fn prepared(mut self) -> Self {
        self.leap_only = !self.has_days(false);
        self
    }

    /// Whether the calendar matches in every hour of the day: it then measures elapsed time,
    /// and the DST policies leave it alone.
    pub(crate) fn every_hour(&self) -> bool {
        self.hour == EVERY_HOUR
    }

    #[inline]
    fn year_matches(&self, y: i64) -> bool {
        self.all_years
            || ((MIN_YEAR..=MAX_YEAR).contains(&y) && self.years() >> (y - MIN_YEAR) & 1 == 1)
    }

    /// The first matching year `>= y`, if any is `<= 2100` (a leap year if `leap_only`).
    #[inline]
    fn next_year(&self, y: i64) -> Option<i64> {
        let mut y = self.next_year_in_set(y)?;
        while self.leap_only && !is_leap(y) {
            // The next multiple of 4 (a century that is not a leap year goes round again).
            y = self.next_year_in_set((y | 3) + 1)?;
        }
        Some(y)
    }

    /// The first year `>= y` of the year set, if any is `<= 2100`.
    #[inline]
    fn next_year_in_set(&self, y: i64) -> Option<i64> {
        if y > MAX_YEAR {
            return None;
        }
        if self.all_years {
            return Some(y);
        }
        let from = (y.max(MIN_YEAR) - MIN_YEAR) as u32;
        let rest = self.years().checked_shr(from).unwrap_or(0);
        (rest != 0).then(|| MIN_YEAR + i64::from(from + rest.trailing_zeros()))
    }

    /// The allowed days of a month of `len` days that starts on day number `first` (days since
    /// the epoch).
    #[inline]
    fn month_days(&self, first: i64, len: u32) -> u32 {
        match &self.rules {
            None => {
                self.day_of_month & weekday_days(self.day_of_week, weekday(first)) & month_mask(len)
            }
            Some(rules) => rules.days(weekday(first), len),
        }
    }

    /// Whether the wall second `wall` matches every field.
    #[inline]
    pub(crate) fn matches(&self, wall: i64) -> bool {
        let f = Fields::of(wall);
        let day = match &self.rules {
            None => self.day_of_month >> f.day & 1 == 1 && self.day_of_week >> f.weekday & 1 == 1,
            Some(_) => {
                let first = wall.div_euclid(DAY) - i64::from(f.day - 1);
                self.month_days(first, month_length(f.month, is_leap(f.year))) >> f.day & 1 == 1
            }
        };
        self.year_matches(f.year)
            && self.month >> f.month & 1 == 1
            && day
            && self.hour >> f.hour & 1 == 1
            && self.minute >> f.minute & 1 == 1
            && self.second >> f.second & 1 == 1
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
                let month_days = self.month_days(first, dim);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::civil::wall_seconds;
    use crate::spec::structured::cal;
    use crate::spec::ScheduleRange;

    #[test]
    fn default_is_daily_midnight() {
        let c = cal(|_| {});
        // 2022-03-24T00:00:00 -> next is 2022-03-25T00:00:00.
        let t = wall_seconds(2022, 3, 24, 0, 0, 0);
        assert_eq!(c.next_after(t), Some(t + DAY));
        assert_eq!(c.next_after(t - 1), Some(t));
    }

    #[test]
    fn feb_29_searches_leap_years_only() {
        let c = cal(|s| {
            s.month = vec![ScheduleRange::single(2)];
            s.day_of_month = vec![ScheduleRange::single(29)];
        });
        assert!(c.leap_only);
        assert!(!cal(|s| s.month = vec![ScheduleRange::single(2)]).leap_only);
        // From each year of 2093..2100 the next February 29 is 2096's, then none (2100 is
        // not a leap year); from 1997 it is 2000's (a leap century).
        for y in 2093..=2096 {
            let from = wall_seconds(y, 1, 1, 0, 0, 0);
            assert_eq!(c.next_after(from), Some(wall_seconds(2096, 2, 29, 0, 0, 0)));
        }
        assert_eq!(c.next_after(wall_seconds(2096, 3, 1, 0, 0, 0)), None);
        assert_eq!(
            c.next_after(wall_seconds(1997, 6, 1, 0, 0, 0)),
            Some(wall_seconds(2000, 2, 29, 0, 0, 0))
        );
        // With a year set: its one leap year.
        let c = cal(|s| {
            s.month = vec![ScheduleRange::single(2)];
            s.day_of_month = vec![ScheduleRange::single(29)];
            s.year = vec![ScheduleRange::new(2025, 2030, 1)];
        });
        assert_eq!(
            c.next_after(wall_seconds(2020, 1, 1, 0, 0, 0)),
            Some(wall_seconds(2028, 2, 29, 0, 0, 0))
        );
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
    fn day_rules_in_the_search_and_in_matches() {
        // The last weekday of each month at 18:00 ("0 18 LW * *"), 2027: January 31 is a Sunday,
        // February 28 a Sunday, March 31 a Wednesday, April 30 a Friday.
        let lw = cal(|s| {
            s.hour = vec![ScheduleRange::single(18)];
            s.day_of_month = vec![ScheduleRange::single(-1)];
            s.nearest_weekday = true;
        });
        let mut t = wall_seconds(2027, 1, 1, 0, 0, 0);
        let mut got = Vec::new();
        for _ in 0..4 {
            t = lw.next_after(t).unwrap();
            assert!(lw.matches(t));
            assert!(!lw.matches(t - DAY));
            got.push(t);
        }
        let want: Vec<_> = [(1, 29), (2, 26), (3, 31), (4, 30)]
            .iter()
            .map(|&(m, d)| wall_seconds(2027, m, d, 18, 0, 0))
            .collect();
        assert_eq!(got, want);
        // The third Monday: March 15, 2027, April 19.
        let third_monday = cal(|s| {
            s.day_of_week = vec![ScheduleRange::single(1)];
            s.week_of_month = vec![ScheduleRange::single(3)];
        });
        let from = wall_seconds(2027, 3, 1, 0, 0, 0);
        let first = third_monday.next_after(from).unwrap();
        assert_eq!(first, wall_seconds(2027, 3, 15, 0, 0, 0));
        assert_eq!(
            third_monday.next_after(first),
            Some(wall_seconds(2027, 4, 19, 0, 0, 0))
        );
    }

    #[test]
    fn day_rules_that_never_fire_are_never() {
        // The fifth Friday of February in a common year only: 2027 has none.
        let c = cal(|s| {
            s.month = vec![ScheduleRange::single(2)];
            s.year = vec![ScheduleRange::single(2027)];
            s.day_of_week = vec![ScheduleRange::single(5)];
            s.week_of_month = vec![ScheduleRange::single(5)];
        });
        assert!(c.is_never());
        // In a leap year the 29th can be a Friday.
        let c = cal(|s| {
            s.month = vec![ScheduleRange::single(2)];
            s.day_of_week = vec![ScheduleRange::single(5)];
            s.week_of_month = vec![ScheduleRange::single(5)];
        });
        assert!(!c.is_never());
        // The weekday nearest the 31st, in 30-day months only.
        let c = cal(|s| {
            s.month = vec![ScheduleRange::new(4, 6, 2)];
            s.day_of_month = vec![ScheduleRange::single(31)];
            s.nearest_weekday = true;
        });
        assert!(c.is_never());
        // Weeks with no weekday at all.
        let c = cal(|s| {
            s.day_of_week = Vec::new();
            s.week_of_month = vec![ScheduleRange::single(-1)];
        });
        assert!(c.is_never());
    }

    #[test]
    fn every_hour_is_read_from_the_hour_field() {
        assert!(cal(|s| s.hour = vec![ScheduleRange::new(0, 23, 1)]).every_hour());
        assert!(!cal(|s| s.hour = vec![ScheduleRange::new(0, 22, 1)]).every_hour());
        assert!(!cal(|_| {}).every_hour());
    }
}
