//! Proleptic Gregorian civil-date arithmetic on integer seconds.
//!
//! A "wall second" is a count of seconds since 1970-01-01T00:00:00 read on a wall clock, i.e. a
//! local date-time encoded as if it were UTC. Converting between wall seconds and calendar fields
//! is pure integer math (Howard Hinnant's days-from-civil), which keeps the hot path free of
//! chrono conversions. Invariant: every function here is total for the `i64` ranges the spec
//! layer uses (years far outside 1900..2200 are never produced).

/// Seconds per day.
pub(crate) const DAY: i64 = 86_400;

/// Days since 1970-01-01 of the civil date `y-m-d` (`m` in 1..=12, `d` in 1..=31).
#[inline]
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date `(year, month, day)` of a day count since 1970-01-01.
#[inline]
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    // Neri and Schneider's Euclidean affine algorithm in u32 arithmetic, shifted by 82 eras of
    // 400 years so that every day from about 30,800 BC to 2.9 million AD is non-negative.
    const ERAS: u32 = 82;
    const SHIFT: u32 = 719_468 + 146_097 * ERAS;
    if !(-(SHIFT as i64)..(1 << 30) - SHIFT as i64).contains(&z) {
        return civil_from_days_slow(z);
    }
    let n = (z + i64::from(SHIFT)) as u32;
    let n1 = 4 * n + 3;
    let century = n1 / 146_097;
    let day_of_century = n1 % 146_097 / 4;
    let n2 = 4 * day_of_century + 3;
    let p2 = 2_939_745u64 * u64::from(n2);
    let year_of_century = (p2 >> 32) as u32;
    let day_of_year = (p2 as u32) / 2_939_745 / 4;
    let n3 = 2_141 * day_of_year + 197_913;
    let march_month = n3 >> 16;
    let day = (n3 & 0xffff) / 2_141 + 1;
    let january_or_february = day_of_year >= 306;
    let year = i64::from(100 * century + year_of_century) - i64::from(400 * ERAS)
        + i64::from(january_or_february);
    let month = if january_or_february {
        march_month - 12
    } else {
        march_month
    };
    (year, month, day)
}

/// Howard Hinnant's days-to-civil, for days outside the fast algorithm's range.
fn civil_from_days_slow(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    // Both casts are of values proven small by the algorithm (1..=31 and 1..=12).
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Whether `y` is a Gregorian leap year.
#[inline]
pub(crate) fn is_leap(y: i64) -> bool {
    // Divisible by 4, and by 16 when divisible by 25 (i.e. by 400 when divisible by 100).
    y & 3 == 0 && (y % 25 != 0 || y & 15 == 0)
}

/// Number of days in month `m` (1..=12) of year `y` (the tables' reference in tests).
#[cfg(test)]
pub(crate) fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 => 28 + u32::from(is_leap(y)),
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Number of days in month `m` (1..=12) of a year that is (or is not) a leap year.
#[inline]
pub(crate) fn month_length(m: u32, leap: bool) -> u32 {
    const LENGTHS: [u8; 13] = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    u32::from(LENGTHS[m as usize]) + u32::from(m == 2 && leap)
}

/// Days from January 1st to the 1st of month `m` (1..=12).
#[inline]
pub(crate) fn days_before_month(m: u32, leap: bool) -> i64 {
    const BEFORE: [u16; 13] = [0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    i64::from(BEFORE[m as usize]) + i64::from(m > 2 && leap)
}

/// Day of the week of a day count since 1970-01-01, 0 = Sunday (1970-01-01 was a Thursday).
#[inline]
pub(crate) fn weekday(days: i64) -> u32 {
    (days + 4).rem_euclid(7) as u32
}

/// Calendar fields of one wall second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fields {
    pub(crate) year: i64,
    pub(crate) month: u32,
    pub(crate) day: u32,
    pub(crate) hour: u32,
    pub(crate) minute: u32,
    pub(crate) second: u32,
    /// 0 = Sunday.
    pub(crate) weekday: u32,
}

impl Fields {
    /// Splits a wall second into its calendar fields.
    #[inline]
    pub(crate) fn of(wall: i64) -> Fields {
        let days = wall.div_euclid(DAY);
        let sod = wall.rem_euclid(DAY) as u32;
        let (year, month, day) = civil_from_days(days);
        Fields {
            year,
            month,
            day,
            hour: sod / 3600,
            minute: sod / 60 % 60,
            second: sod % 60,
            weekday: weekday(days),
        }
    }
}

/// The wall second of a civil date and time.
#[cfg(test)]
pub(crate) fn wall_seconds(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
    days_from_civil(y, mo, d) * DAY + i64::from(h * 3600 + mi * 60 + s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, NaiveDate};

    #[test]
    fn agrees_with_chrono_over_four_centuries() {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        for z in (-200_000..200_000).step_by(7) {
            let date = epoch + chrono::Days::new(0) + chrono::Duration::days(z);
            assert_eq!(
                civil_from_days(z),
                (i64::from(date.year()), date.month(), date.day())
            );
            assert_eq!(
                days_from_civil(i64::from(date.year()), date.month(), date.day()),
                z
            );
            assert_eq!(weekday(z), date.weekday().num_days_from_sunday());
        }
    }

    #[test]
    fn fast_and_slow_civil_agree_at_the_edges_of_the_fast_range() {
        for z in [
            -12_699_422,
            -12_699_421,
            -1,
            0,
            1,
            1_061_042_401,
            1_061_042_402,
        ] {
            assert_eq!(civil_from_days(z), civil_from_days_slow(z), "{z}");
        }
        for y in [
            -1_000_000_i64,
            -30_000,
            1600,
            1900,
            2000,
            2100,
            10_000,
            3_000_000,
        ] {
            let z = days_from_civil(y, 3, 1);
            assert_eq!(civil_from_days(z), (y, 3, 1));
            assert_eq!(civil_from_days(z - 1), (y, 2, 28 + u32::from(is_leap(y))));
            assert_eq!(is_leap(y), y % 4 == 0 && (y % 100 != 0 || y % 400 == 0));
        }
    }

    #[test]
    fn month_tables_agree_with_civil_arithmetic() {
        for y in [1999, 2000, 2023, 2024, 2100] {
            for m in 1..=12 {
                assert_eq!(month_length(m, is_leap(y)), days_in_month(y, m));
                assert_eq!(
                    days_from_civil(y, 1, 1) + days_before_month(m, is_leap(y)),
                    days_from_civil(y, m, 1)
                );
            }
        }
    }

    #[test]
    fn month_lengths() {
        assert_eq!(days_in_month(2000, 2), 29);
        assert_eq!(days_in_month(2100, 2), 28);
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(2023, 2), 28);
        assert_eq!(days_in_month(2023, 4), 30);
        assert_eq!(days_in_month(2023, 12), 31);
    }

    #[test]
    fn fields_of_a_known_instant() {
        // 2022-03-24T00:35:24Z was a Thursday.
        let f = Fields::of(1_648_082_124);
        assert_eq!((f.year, f.month, f.day), (2022, 3, 24));
        assert_eq!((f.hour, f.minute, f.second, f.weekday), (0, 35, 24, 4));
        assert_eq!(wall_seconds(2022, 3, 24, 0, 35, 24), 1_648_082_124);
    }
}
