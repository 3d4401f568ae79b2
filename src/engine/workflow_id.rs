//! Workflow ids of scheduled runs: `<action id>-<nominal time, UTC, RFC 3339, whole seconds>`,
//! formatted without chrono's general formatter because it runs once per fired action. Its
//! cache of the last civil day also gives the engine's millis-to-`DateTime` conversion
//! ([`utc_from_millis`]), the other per-fire user of the calendar arithmetic.

use std::cell::Cell;

/// `prefix-YYYY-MM-DDTHH:MM:SSZ` for the nominal time `secs` (Unix seconds, UTC).
pub(crate) fn workflow_id(prefix: &str, secs: i64) -> String {
    let mut s = String::new();
    write_workflow_id(&mut s, prefix, secs);
    s
}

/// Sets `s` to `prefix-YYYY-MM-DDTHH:MM:SSZ`, keeping its buffer when it is large enough.
pub(crate) fn write_workflow_id(s: &mut String, prefix: &str, secs: i64) {
    s.clear();
    let len = prefix.len() + 21;
    if s.capacity() < len {
        s.reserve_exact(len);
    }
    s.push_str(prefix);
    s.push('-');
    push_rfc3339(s, secs);
}

/// Whether `id` is `prefix-<secs as RFC 3339>`, without building the id.
#[inline]
pub(crate) fn is_workflow_id(id: &str, prefix: &str, secs: i64) -> bool {
    match rfc3339_bytes(secs) {
        Some(suffix) => {
            // The time first: ids of one schedule differ there, not in the prefix.
            let (id, p) = (id.as_bytes(), prefix.as_bytes());
            id.len() == p.len() + 21
                && id[p.len() + 1..] == suffix
                && id[p.len()] == b'-'
                && id[..p.len()] == *p
        }
        None => workflow_id(prefix, secs) == id,
    }
}

/// Appends `YYYY-MM-DDTHH:MM:SSZ`; years outside 0..=9999 fall back to chrono's formatter.
fn push_rfc3339(s: &mut String, secs: i64) {
    match rfc3339_bytes(secs) {
        // The buffer holds ASCII digits and separators only, so it is always valid UTF-8.
        Some(buf) => s.push_str(std::str::from_utf8(&buf).unwrap_or_default()),
        None => {
            if let Some(t) = chrono::DateTime::from_timestamp(secs, 0) {
                s.push_str(&t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            }
        }
    }
}

/// Unix seconds of 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the years the fast path formats.
const FIRST_SECS: i64 = -62_167_219_200;
const LAST_SECS: i64 = 253_402_300_799;

/// "00" to "99": two digits per lookup.
const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// The last civil day turned into a date on this thread. Fired actions come in time order,
/// so nearly every call is for the same day as the one before: the calendar arithmetic runs
/// once a day instead of twice per fire (the id is built in `poll` and checked again in
/// `workflow_closed`).
#[derive(Clone, Copy)]
struct Day {
    /// Days since 0000-01-01.
    number: u64,
    /// `YYYY-MM-DD`.
    ymd: [u8; 10],
    /// The same date for chrono.
    date: chrono::NaiveDate,
}

thread_local! {
    // Starts with a day number no call asks for.
    static LAST_DAY: Cell<Day> = const {
        Cell::new(Day {
            number: u64::MAX,
            ymd: [0; 10],
            date: chrono::NaiveDate::MIN,
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
    let (y, m, d) = civil_from_days_since_year0(number);
    let mut ymd = *b"0000-00-00";
    put2(&mut ymd, 0, y / 100);
    put2(&mut ymd, 2, y % 100);
    put2(&mut ymd, 5, m);
    put2(&mut ymd, 8, d);
    // Years 0..=9999 are inside chrono's range: the default is never taken.
    let date = chrono::NaiveDate::from_ymd_opt(y as i32, m as u32, d as u32).unwrap_or_default();
    let day = Day { number, ymd, date };
    LAST_DAY.set(day);
    day
}

/// `YYYY-MM-DDTHH:MM:SSZ` as bytes; `None` for years outside 0..=9999.
#[inline]
fn rfc3339_bytes(secs: i64) -> Option<[u8; 20]> {
    let (day, sod) = day_and_second(secs)?;
    let sod = sod as usize;
    let mut buf = *b"0000-00-00T00:00:00Z";
    buf[..10].copy_from_slice(&day.ymd);
    put2(&mut buf, 11, sod / 3600);
    put2(&mut buf, 14, sod / 60 % 60);
    put2(&mut buf, 17, sod % 60);
    Some(buf)
}

/// The UTC time `ms` (Unix millis) for chrono, its date from the day cache; `None` outside
/// years 0..=9999 (the caller then asks chrono).
pub(crate) fn utc_from_millis(ms: i64) -> Option<chrono::DateTime<chrono::Utc>> {
    let (day, sod) = day_and_second(ms.div_euclid(1000))?;
    let nanos = (ms.rem_euclid(1000) as u32) * 1_000_000;
    let time = chrono::NaiveTime::from_num_seconds_from_midnight_opt(sod, nanos)?;
    Some(day.date.and_time(time).and_utc())
}

/// The civil day of `secs` (Unix seconds, UTC) and the second within it; `None` for years
/// outside 0..=9999.
#[inline(always)]
fn day_and_second(secs: i64) -> Option<(Day, u32)> {
    if !(FIRST_SECS..=LAST_SECS).contains(&secs) {
        return None;
    }
    // Unsigned from here on: divisions by constants become multiplications.
    let since_year0 = (secs - FIRST_SECS) as u64;
    // Under 86 400: the cast keeps it.
    let sod = (since_year0 % 86_400) as u32;
    Some((day(since_year0 / 86_400), sod))
}

/// Writes `v` (< 100) as two digits at `at`.
fn put2<const N: usize>(buf: &mut [u8; N], at: usize, v: usize) {
    let i = (v % 100) * 2;
    buf[at] = PAIRS[i];
    buf[at + 1] = PAIRS[i + 1];
}

/// Proleptic Gregorian (year, month, day) of a day count since 0000-01-01 (H. Hinnant's
/// `civil_from_days`, with eras counted from 400 years earlier so that all is unsigned).
fn civil_from_days_since_year0(days: u64) -> (usize, usize, usize) {
    // Days since -0400-03-01: 146 097 days per 400-year era, minus Jan and Feb of year 0.
    let z = days + 146_097 - 60;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    // The year is at least 0 (callers check the range), so the sum is at least 400.
    let y = yoe + era * 400 + u64::from(m <= 2) - 400;
    (y as usize, m as usize, d as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, SecondsFormat};

    #[test]
    fn matches_the_temporal_example() {
        // docs/semantics.md#workflow-ids: `myid-2022-06-01T00:15:00Z`.
        let t = DateTime::parse_from_rfc3339("2022-06-01T00:15:00Z").unwrap();
        assert_eq!(
            workflow_id("myid", t.timestamp()),
            "myid-2022-06-01T00:15:00Z"
        );
    }

    #[test]
    fn recognises_exactly_its_own_ids() {
        let t = DateTime::parse_from_rfc3339("2022-06-01T00:15:00Z")
            .unwrap()
            .timestamp();
        assert!(is_workflow_id("myid-2022-06-01T00:15:00Z", "myid", t));
        assert!(!is_workflow_id("myid-2022-06-01T00:15:01Z", "myid", t));
        assert!(!is_workflow_id("myi-2022-06-01T00:15:00Z", "myid", t));
        assert!(!is_workflow_id("myid-2022-06-01T00:15:00Zx", "myid", t));
        assert!(!is_workflow_id("myid_2022-06-01T00:15:00Z", "myid", t));
        let far = 400_000_000_000;
        assert!(is_workflow_id(&workflow_id("b", far), "b", far));
        assert!(!is_workflow_id(&workflow_id("b", far), "b", far + 1));
    }

    #[test]
    fn agrees_with_chrono_over_a_wide_range() {
        // chrono's formatter is the independent oracle.
        let mut secs = -62_135_596_800_i64; // 0001-01-01
        while secs < 253_402_300_799 {
            let want = DateTime::from_timestamp(secs, 0)
                .unwrap()
                .to_rfc3339_opts(SecondsFormat::Secs, true);
            assert_eq!(workflow_id("a", secs), format!("a-{want}"), "{secs}");
            secs += 7_777_777;
        }
        // Consecutive times across day boundaries, as fired actions come: the day cache hits.
        let mut secs = 951_696_000 - 3_600; // 2000-02-28T00:00:00Z minus an hour
        while secs < 951_696_000 + 3 * 86_400 {
            let want = DateTime::from_timestamp(secs, 0)
                .unwrap()
                .to_rfc3339_opts(SecondsFormat::Secs, true);
            assert_eq!(workflow_id("a", secs), format!("a-{want}"), "{secs}");
            secs += 997;
        }
        let far = DateTime::from_timestamp(400_000_000_000, 0).unwrap();
        assert_eq!(
            workflow_id("b", 400_000_000_000),
            format!("b-{}", far.to_rfc3339_opts(SecondsFormat::Secs, true))
        );
    }

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
