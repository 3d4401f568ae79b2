//! Engine time: Unix milliseconds, turned into `DateTime<Utc>` only at the edges (actions, read
//! models, records).
//!
//! A fire converts its nominal time (and the workflow id formats it): both use one cache of the
//! last civil day seen on this thread ([`day_and_second`]), so the calendar arithmetic
//! (`spec::civil`) runs once a day rather than per fire. Fired actions come in time order, so
//! nearly every call hits it.

use std::cell::Cell;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

use crate::spec::civil::civil_from_days;

/// Scheduled times start after this (1969-12-31T23:59:59Z), as Temporal's search does without
/// a `start_at`: the engine takes no scheduled time before the Unix epoch. Before it, interval
/// searches round differently (Go's truncating division), which only walking could follow;
/// from here on a clock jump is counted in one step.
pub(crate) const EPOCH_FLOOR_MS: i64 = -1000;

/// The earliest and latest Unix millis chrono represents.
pub(crate) const MIN_MS: i64 = DateTime::<Utc>::MIN_UTC.timestamp_millis();
pub(crate) const MAX_MS: i64 = DateTime::<Utc>::MAX_UTC.timestamp_millis();

/// A `DateTime` from Unix millis (`None` out of chrono's range).
pub(crate) fn from_ms(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
}

/// A `DateTime` from Unix millis, saturating at chrono's range.
pub(crate) fn to_dt(ms: i64) -> DateTime<Utc> {
    if let Some(t) = utc_from_millis(ms) {
        return t;
    }
    from_ms(ms).unwrap_or(if ms < 0 {
        DateTime::<Utc>::MIN_UTC
    } else {
        DateTime::<Utc>::MAX_UTC
    })
}

/// Unix seconds of 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the years the day cache
/// serves.
pub(crate) const FIRST_SECS: i64 = -62_167_219_200;
pub(crate) const LAST_SECS: i64 = 253_402_300_799;

/// Days from 0000-01-01 to 1970-01-01.
const YEAR0_TO_EPOCH_DAYS: i64 = 719_528;

/// "00" to "99": two digits per lookup.
const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// A civil day, as the last one turned into a date on this thread.
#[derive(Clone, Copy)]
pub(crate) struct Day {
    /// Days since 0000-01-01.
    number: u64,
    /// `YYYY-MM-DD`.
    pub(crate) ymd: [u8; 10],
    /// The same date for chrono.
    date: NaiveDate,
}

thread_local! {
    // Starts with a day number no call asks for.
    static LAST_DAY: Cell<Day> = const {
        Cell::new(Day {
            number: u64::MAX,
            ymd: [0; 10],
            date: NaiveDate::MIN,
        })
    };
}

/// The day `number` days after 0000-01-01 (at most 9999-12-31).
#[inline(always)]
fn day(number: u64) -> Day {
    let last = LAST_DAY.get();
    if last.number == number {
        last
    } else {
        new_day(number)
    }
}

/// [`day`] when the day changed: computed and kept.
#[cold]
#[inline(never)]
fn new_day(number: u64) -> Day {
    // At most 3,652,424 days: the casts keep every value.
    let (y, m, d) = civil_from_days(number as i64 - YEAR0_TO_EPOCH_DAYS);
    let (y, m, d) = (y as usize, m as usize, d as usize);
    let mut ymd = *b"0000-00-00";
    put2(&mut ymd, 0, y / 100);
    put2(&mut ymd, 2, y % 100);
    put2(&mut ymd, 5, m);
    put2(&mut ymd, 8, d);
    let date = NaiveDate::from_ymd_opt(y as i32, m as u32, d as u32)
        .expect("invariant: years 0..=9999 are inside chrono's range");
    let day = Day { number, ymd, date };
    LAST_DAY.set(day);
    day
}

/// The civil day of `secs` (Unix seconds, UTC) and the second within it; `None` for years
/// outside 0..=9999.
#[inline(always)]
pub(crate) fn day_and_second(secs: i64) -> Option<(Day, u32)> {
    if !(FIRST_SECS..=LAST_SECS).contains(&secs) {
        return None;
    }
    // Unsigned from here on: divisions by constants become multiplications.
    let since_year0 = (secs - FIRST_SECS) as u64;
    // Under 86 400: the cast keeps it.
    let sod = (since_year0 % 86_400) as u32;
    Some((day(since_year0 / 86_400), sod))
}

/// The UTC time `ms` (Unix millis) for chrono, its date from the day cache; `None` outside
/// years 0..=9999 (the caller then asks chrono).
pub(crate) fn utc_from_millis(ms: i64) -> Option<DateTime<Utc>> {
    let (day, sod) = day_and_second(ms.div_euclid(1000))?;
    let nanos = (ms.rem_euclid(1000) as u32) * 1_000_000;
    let time = NaiveTime::from_num_seconds_from_midnight_opt(sod, nanos)?;
    Some(day.date.and_time(time).and_utc())
}

/// Writes `v` (< 100) as two digits at `at`.
pub(crate) fn put2<const N: usize>(buf: &mut [u8; N], at: usize, v: usize) {
    let i = (v % 100) * 2;
    buf[at] = PAIRS[i];
    buf[at + 1] = PAIRS[i + 1];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_from_millis_agrees_with_chrono() {
        // chrono's own conversion is the oracle; the day cache is hit and missed in turn.
        let mut ms = FIRST_SECS * 1000 - 5_000;
        while ms < LAST_SECS * 1000 + 5_000 {
            for m in [ms, ms + 1, ms + 999, ms + 86_399_999] {
                let want = DateTime::from_timestamp_millis(m);
                let inside = (FIRST_SECS..=LAST_SECS).contains(&m.div_euclid(1000));
                match utc_from_millis(m) {
                    Some(got) => assert_eq!(Some(got), want, "{m}"),
                    None => assert!(!inside, "{m}"),
                }
            }
            ms += 7_777_777_777;
        }
        for m in [-1, 0, 1, -86_400_000, 951_782_400_000, 4_107_542_399_999] {
            assert_eq!(
                utc_from_millis(m),
                DateTime::from_timestamp_millis(m),
                "{m}"
            );
        }
    }
}
