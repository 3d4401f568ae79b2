//! An independent brute-force oracle for schedule specs: literal wall-clock matching.
//!
//! It shares no code with `src/spec`. It expands every range into a table of booleans, walks
//! instants in 15-minute blocks, converts each block's start and end to a wall clock with
//! chrono-tz, and when the UTC offset is the same at both ends and a multiple of 15 minutes (so
//! the block is one wall-clock quarter hour) enumerates the block's seconds from the tables;
//! any other block (one holding a transition, or an unusual offset) is walked second by second,
//! converting every second. Intervals are `offset + k * every` by direct division. Skip
//! calendars are checked on each candidate's wall clock. This is slow and obviously correct.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, NaiveDateTime, Offset, TimeZone, Timelike};
use chrono_tz::Tz;
use schedule_engine::{ScheduleCalendarSpec, ScheduleRange};

const BLOCK: i64 = 900;
/// 2101-01-01T00:00:00Z.
const HORIZON: i64 = 4_133_980_800;

/// One calendar as tables of matching values.
#[derive(Debug, Clone)]
pub struct OracleCalendar {
    pub second: [bool; 60],
    pub minute: [bool; 60],
    pub hour: [bool; 24],
    pub day_of_month: [bool; 32],
    pub month: [bool; 13],
    pub day_of_week: [bool; 7],
    /// `None` = every year.
    pub years: Option<BTreeSet<i32>>,
}

fn expand(ranges: &[ScheduleRange], table: &mut [bool]) {
    for r in ranges {
        let end = if r.end < r.start { r.start } else { r.end };
        let step = r.step.max(1);
        let mut v = r.start;
        while v <= end {
            table[v as usize] = true;
            v += step;
        }
    }
}

impl OracleCalendar {
    /// Expands a (valid) structured calendar.
    pub fn from_structured(c: &ScheduleCalendarSpec) -> Self {
        let mut out = OracleCalendar {
            second: [false; 60],
            minute: [false; 60],
            hour: [false; 24],
            day_of_month: [false; 32],
            month: [false; 13],
            day_of_week: [false; 7],
            years: None,
        };
        expand(&c.second, &mut out.second);
        expand(&c.minute, &mut out.minute);
        expand(&c.hour, &mut out.hour);
        expand(&c.day_of_month, &mut out.day_of_month);
        expand(&c.month, &mut out.month);
        expand(&c.day_of_week, &mut out.day_of_week);
        if !c.year.is_empty() {
            let mut years = [false; 2101];
            expand(&c.year, &mut years);
            out.years = Some((2000..=2100).filter(|&y| years[y as usize]).collect());
        }
        out
    }

    fn day_hour_match(&self, w: &NaiveDateTime) -> bool {
        self.years.as_ref().is_none_or(|ys| ys.contains(&w.year()))
            && self.month[w.month() as usize]
            && self.day_of_month[w.day() as usize]
            && self.day_of_week[w.weekday().num_days_from_sunday() as usize]
            && self.hour[w.hour() as usize]
    }

    /// Whether a wall clock matches every field.
    pub fn matches(&self, w: &NaiveDateTime) -> bool {
        self.day_hour_match(w)
            && self.minute[w.minute() as usize]
            && self.second[w.second() as usize]
    }
}

/// A whole spec for the oracle.
#[derive(Debug, Clone)]
pub struct Oracle {
    pub calendars: Vec<OracleCalendar>,
    /// `(every, offset)` in whole seconds.
    pub intervals: Vec<(i64, i64)>,
    pub skip: Vec<OracleCalendar>,
    pub tz: Tz,
    /// Whole seconds: nominal >= floor(start_at).
    pub start: Option<i64>,
    /// Whole seconds: nominal <= floor(end_at).
    pub end: Option<i64>,
}

fn offset(tz: Tz, t: i64) -> i64 {
    let utc = DateTime::from_timestamp(t, 0).unwrap().naive_utc();
    i64::from(tz.offset_from_utc_datetime(&utc).fix().local_minus_utc())
}

fn wall(tz: Tz, t: i64) -> NaiveDateTime {
    DateTime::from_timestamp(t, 0)
        .unwrap()
        .with_timezone(&tz)
        .naive_local()
}

impl Oracle {
    /// An oracle in `tz` with nothing in it.
    pub fn new(tz: Tz) -> Self {
        Oracle {
            calendars: Vec::new(),
            intervals: Vec::new(),
            skip: Vec::new(),
            tz,
            start: None,
            end: None,
        }
    }

    fn candidates_in_block(&self, b: i64, out: &mut BTreeSet<i64>) {
        for &(every, off) in &self.intervals {
            let mut t = b + (off - b).rem_euclid(every);
            while t < b + BLOCK {
                out.insert(t);
                t += every;
            }
        }
        if self.calendars.is_empty() {
            return;
        }
        let (o0, o1) = (offset(self.tz, b), offset(self.tz, b + BLOCK - 1));
        if o0 == o1 && o0 % BLOCK == 0 {
            let w0 = wall(self.tz, b);
            debug_assert_eq!(w0.minute() % 15, 0);
            for c in &self.calendars {
                if !c.day_hour_match(&w0) {
                    continue;
                }
                for dm in 0..15 {
                    if !c.minute[(w0.minute() + dm) as usize] {
                        continue;
                    }
                    for s in 0..60 {
                        if c.second[s as usize] {
                            out.insert(b + i64::from(dm) * 60 + s);
                        }
                    }
                }
            }
        } else {
            for t in b..b + BLOCK {
                let w = wall(self.tz, t);
                if self.calendars.iter().any(|c| c.matches(&w)) {
                    out.insert(t);
                }
            }
        }
    }

    fn allowed(&self, t: i64) -> bool {
        t >= self.start.unwrap_or(0)
            && self.end.is_none_or(|e| t <= e)
            && t < HORIZON
            && !self.skip.iter().any(|c| c.matches(&wall(self.tz, t)))
    }

    /// Nominal times in `(after, until]`, ascending, at most `limit` of them.
    pub fn times(&self, after: i64, until: i64, limit: usize) -> Vec<i64> {
        let mut out = Vec::new();
        let mut b = (after + 1).div_euclid(BLOCK) * BLOCK;
        let stop = until.min(HORIZON);
        let mut block = BTreeSet::new();
        while b <= stop && out.len() < limit {
            block.clear();
            self.candidates_in_block(b, &mut block);
            for &t in &block {
                if t > after && t <= until && self.allowed(t) && out.len() < limit {
                    out.push(t);
                }
            }
            b += BLOCK;
        }
        out
    }
}
