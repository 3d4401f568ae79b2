//! The few pieces of Go's `time` package that robfig's `Next` leans on, on whole Unix seconds
//! in one zone: reading wall-clock fields, `time.Date` (with its normalisation of overflowing
//! fields and its rule for wall times that a DST change skips or repeats), and `AddDate`.
//!
//! Go resolves a wall time `w` to the instant `w - offset(w - offset(w))`, reading `offset(x)`
//! at the instant whose UTC reading is `x`. So a skipped wall time moves by the size of the
//! gap — forward where the change happens at or east of UTC (Berlin's 02:30 becomes 03:30
//! CEST), backward west of it (New York's 02:30 becomes 01:30 EST) — and a repeated one takes
//! its earlier instant west of UTC and its later one east of it. Invariant: every function is
//! total; instants outside chrono's range read offset 0 (they never become a result).

use chrono::{DateTime, Offset, TimeZone};
use chrono_tz::Tz;

use super::super::civil::{days_from_civil, Fields};

const DAY: i64 = 86_400;

/// The zone a cron job reads its fields in: UTC unless `CRON_TZ=`/`TZ=` named one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Zone {
    Utc,
    Named(Tz),
}

impl Zone {
    /// Seconds east of UTC at instant `t`.
    fn offset(self, t: i64) -> i64 {
        match self {
            Zone::Utc => 0,
            Zone::Named(tz) => DateTime::from_timestamp(t, 0).map_or(0, |d| {
                i64::from(
                    tz.offset_from_utc_datetime(&d.naive_utc())
                        .fix()
                        .local_minus_utc(),
                )
            }),
        }
    }

    /// The wall-clock fields of instant `t`.
    pub(super) fn fields(self, t: i64) -> Fields {
        Fields::of(t.saturating_add(self.offset(t)))
    }

    /// Go's `time.Date(year, month, day, hour, min, sec, 0, zone)`: `month` and `day` may
    /// overflow (month 13 is January next year, day 32 of January is February 1).
    pub(super) fn date(
        self,
        year: i64,
        month: i64,
        day: i64,
        hour: i64,
        min: i64,
        sec: i64,
    ) -> i64 {
        let m0 = month - 1;
        let year = year.saturating_add(m0.div_euclid(12));
        let month = (m0.rem_euclid(12) + 1) as u32;
        let days = days_from_civil(year, month, 1).saturating_add(day - 1);
        let wall = days
            .saturating_mul(DAY)
            .saturating_add(hour * 3600 + min * 60 + sec);
        let guess = self.offset(wall);
        wall.saturating_sub(self.offset(wall.saturating_sub(guess)))
    }

    /// Go's `t.AddDate(0, months, days)` for a whole-second instant.
    pub(super) fn add_date(self, t: i64, months: i64, days: i64) -> i64 {
        let f = self.fields(t);
        self.date(
            f.year,
            i64::from(f.month) + months,
            i64::from(f.day) + days,
            i64::from(f.hour),
            i64::from(f.minute),
            i64::from(f.second),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp()
    }

    #[test]
    fn date_resolves_gaps_and_folds_as_go_does() {
        let ny = Zone::Named(chrono_tz::America::New_York);
        let berlin = Zone::Named(chrono_tz::Europe::Berlin);
        // Go: time.Date(2027, 3, 14, 2, 30, 0, 0, NewYork) = 01:30 EST; Berlin's gap moves forward.
        assert_eq!(
            ny.date(2027, 3, 14, 2, 30, 0),
            at("2027-03-14T01:30:00-05:00")
        );
        assert_eq!(
            berlin.date(2027, 3, 28, 2, 30, 0),
            at("2027-03-28T03:30:00+02:00")
        );
        // Folds: New York takes the first 01:30 (EDT), Berlin the second 02:30 (CET).
        assert_eq!(
            ny.date(2027, 11, 7, 1, 30, 0),
            at("2027-11-07T01:30:00-04:00")
        );
        assert_eq!(
            berlin.date(2027, 10, 31, 2, 30, 0),
            at("2027-10-31T02:30:00+01:00")
        );
        // Overflowing fields carry.
        assert_eq!(
            Zone::Utc.date(2026, 13, 32, 0, 0, 0),
            at("2027-02-01T00:00:00Z")
        );
        assert_eq!(
            Zone::Utc.add_date(at("2027-01-31T05:00:00Z"), 1, 0),
            at("2027-03-03T05:00:00Z")
        );
    }
}
