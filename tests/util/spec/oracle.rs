//! An independent brute-force oracle for schedule specs: wall-clock matching, literal or under
//! a DST policy.
//!
//! It shares no code with `src/spec`. It expands every range into a table of booleans, walks
//! instants in 15-minute blocks, converts each block's start and end to a wall clock with
//! chrono-tz, and when the UTC offset is the same at both ends (and just before the block) and
//! a multiple of 15 minutes (so the block is one wall-clock quarter hour) enumerates the
//! block's seconds from the tables; any other block (one holding a transition, or an unusual
//! offset) is walked second by second, converting every second. Intervals are
//! `offset + k * every` by direct division. Skip calendars are checked on each candidate's wall
//! clock.
//!
//! Day rules are checked on the date itself, with chrono: the month's length from the next
//! month's 1st, weekdays from `NaiveDate::weekday`, the nearest weekday of every allowed day
//! computed and compared. DST policies, for calendars that do not match every hour:
//! `First` drops an instant whose wall time chrono-tz calls ambiguous and that is the later of
//! the two; `RunAfterGap` makes an instant whose wall clock jumped forward from the second
//! before a time of the calendar when any wall time jumped over matches. Slow and obviously
//! correct.

use std::collections::BTreeSet;

use chrono::{
    DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike,
};
use chrono_tz::Tz;
use schedule_engine::{
    DstPolicy, NonexistentTime, RepeatedTime, ScheduleCalendarSpec, ScheduleRange,
};

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
    /// Day rules beyond Temporal's.
    pub rules: OracleDays,
}

/// Day rules as tables.
#[derive(Debug, Clone, Default)]
pub struct OracleDays {
    /// `[k]`: the day `k` days before the month's last.
    pub from_end: [bool; 31],
    /// Each allowed day stands for the weekday nearest it, within its month.
    pub nearest_weekday: bool,
    /// `[k][w]`: weekday `w` in days `7k + 1 ..= 7k + 7`.
    pub weeks: [[bool; 7]; 5],
    /// `[k][w]`: weekday `w` in days `len - 7k - 6 ..= len - 7k`.
    pub weeks_from_end: [[bool; 7]; 5],
}

/// The values of `ranges`, one by one.
fn values(ranges: &[ScheduleRange]) -> Vec<i32> {
    let mut out = Vec::new();
    for r in ranges {
        let end = if r.end == 0 { r.start } else { r.end };
        let step = r.step.max(1);
        let mut v = r.start;
        while v <= end {
            out.push(v);
            v += step;
        }
    }
    out
}

fn expand(ranges: &[ScheduleRange], table: &mut [bool]) {
    for v in values(ranges) {
        table[v as usize] = true;
    }
}

/// Days in the month of `date`.
fn month_len(date: NaiveDate) -> u32 {
    let first = date.with_day(1).unwrap();
    let next = first.checked_add_months(chrono::Months::new(1)).unwrap();
    (next - first).num_days() as u32
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
            rules: OracleDays::default(),
        };
        expand(&c.second, &mut out.second);
        expand(&c.minute, &mut out.minute);
        expand(&c.hour, &mut out.hour);
        for v in values(&c.day_of_month) {
            match v {
                v if v < 0 => out.rules.from_end[(-v - 1) as usize] = true,
                v => out.day_of_month[v as usize] = true,
            }
        }
        expand(&c.month, &mut out.month);
        expand(&c.day_of_week, &mut out.day_of_week);
        out.rules.nearest_weekday = c.nearest_weekday;
        if !c.week_of_month.is_empty() {
            // The weekdays hold in the listed weeks only.
            let weekdays = std::mem::take(&mut out.day_of_week);
            for k in values(&c.week_of_month) {
                match k {
                    k if k < 0 => out.rules.weeks_from_end[(-k - 1) as usize] = weekdays,
                    k => out.rules.weeks[(k - 1) as usize] = weekdays,
                }
            }
        }
        if !c.year.is_empty() {
            let mut years = [false; 2101];
            expand(&c.year, &mut years);
            out.years = Some((2000..=2100).filter(|&y| years[y as usize]).collect());
        }
        out
    }

    /// Whether the calendar matches in every hour of the day (the DST policies skip it).
    pub fn every_hour(&self) -> bool {
        self.hour.iter().all(|&h| h)
    }

    fn day_matches(&self, date: NaiveDate) -> bool {
        let len = month_len(date);
        let d = date.day();
        let weekday =
            |day: u32| date.with_day(day).unwrap().weekday().num_days_from_sunday() as usize;
        let allowed =
            |t: u32| self.day_of_month[t as usize] || self.rules.from_end[(len - t) as usize];
        let dom = if self.rules.nearest_weekday {
            (1..=len).any(|t| {
                let nearest = match weekday(t) {
                    6 if t == 1 => 3,
                    6 => t - 1,
                    0 if t == len => t - 2,
                    0 => t + 1,
                    _ => t,
                };
                allowed(t) && nearest == d
            })
        } else {
            allowed(d)
        };
        let w = weekday(d);
        let week = ((d - 1) / 7) as usize;
        let week_from_end = ((len - d) / 7) as usize;
        let dow = self.day_of_week[w]
            || self.rules.weeks[week][w]
            || self.rules.weeks_from_end[week_from_end][w];
        dom && dow
    }

    fn day_hour_match(&self, w: &NaiveDateTime) -> bool {
        self.years.as_ref().is_none_or(|ys| ys.contains(&w.year()))
            && self.month[w.month() as usize]
            && self.hour[w.hour() as usize]
            && self.day_matches(w.date())
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
    /// What calendars do at DST changes.
    pub dst: DstPolicy,
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
            dst: DstPolicy::default(),
        }
    }

    /// Whether the instant `t` is the later of two with the same wall clock, for `c` under
    /// the policy `First`.
    fn dropped_repeat(&self, c: &OracleCalendar, t: i64) -> bool {
        self.dst.repeated == RepeatedTime::First
            && !c.every_hour()
            && matches!(
                self.tz.from_local_datetime(&wall(self.tz, t)),
                LocalResult::Ambiguous(_, later) if later.timestamp() == t
            )
    }

    /// Whether `t` is the first instant after a jump forward of the wall clock over a wall
    /// time `c` matches, under the policy `RunAfterGap`.
    fn runs_after_gap(&self, c: &OracleCalendar, t: i64) -> bool {
        if self.dst.nonexistent != NonexistentTime::RunAfterGap || c.every_hour() {
            return false;
        }
        let (before, now) = (wall(self.tz, t - 1), wall(self.tz, t));
        let skipped = (now - before).num_seconds() - 1;
        (1..=skipped).any(|k| c.matches(&(before + chrono::Duration::seconds(k))))
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
        if o0 == o1 && o0 % BLOCK == 0 && offset(self.tz, b - 1) == o0 {
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
                        let t = b + i64::from(dm) * 60 + s;
                        if c.second[s as usize] && !self.dropped_repeat(c, t) {
                            out.insert(t);
                        }
                    }
                }
            }
        } else {
            for t in b..b + BLOCK {
                let w = wall(self.tz, t);
                if self.calendars.iter().any(|c| {
                    (c.matches(&w) && !self.dropped_repeat(c, t)) || self.runs_after_gap(c, t)
                }) {
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
