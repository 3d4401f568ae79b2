//! A brute-force reading of robfig/cron v3's standard dialect (what the Temporal server uses
//! for cron jobs), written from robfig's documented rules and shares no code with `src/`.
//!
//! Parsing keeps each field as a table of booleans; `next` walks the local calendar day by
//! day and tries every minute of a matching day, resolving each wall time with chrono-tz:
//! a wall time a DST change skips never fires, one it repeats fires at both instants. That
//! is what robfig's field-by-field search computes in zones whose changes move whole hours
//! on the hour away from midnight (those the property tests use); its anomalies elsewhere
//! (half-hour changes, midnight gaps east of UTC) and a repeat of the hour before midnight are
//! not modelled.
//!
//! `@every` durations are read exactly (decimal arithmetic), which equals Go's float scaling
//! for the short fractions the tests generate.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

/// A parsed cron job schedule.
#[derive(Debug, Clone)]
pub struct RobfigOracle {
    zone: Tz,
    every_seconds: Option<i64>,
    minute: Vec<bool>,
    hour: Vec<bool>,
    dom: Vec<bool>,
    month: Vec<bool>,
    dow: Vec<bool>,
    dom_star: bool,
    dow_star: bool,
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// One field: its table (index = value) and whether a star was written (and kept).
fn read_field(text: &str, lo: usize, hi: usize, names: &[&str]) -> Option<(Vec<bool>, bool)> {
    let mut table = vec![false; hi + 1];
    let mut star = false;
    for item in text.split(',') {
        if item.is_empty() {
            continue;
        }
        let (range, step) = match item.split_once('/') {
            None => (item, None),
            Some((r, s)) => {
                if s.contains('/') {
                    return None;
                }
                (r, Some(integer(s)?))
            }
        };
        let first = range.split('-').next().unwrap_or("");
        let (from, mut to, mut starred) = if first == "*" || first == "?" {
            (lo as u64, hi as u64, true)
        } else {
            let parts: Vec<&str> = range.split('-').collect();
            if parts.len() > 2 {
                return None;
            }
            let a = value(parts[0], names, lo)?;
            let b = if parts.len() == 2 {
                value(parts[1], names, lo)?
            } else {
                a
            };
            (a, b, false)
        };
        if let Some(s) = step {
            if !range.contains('-') {
                to = hi as u64;
            }
            if s > 1 {
                starred = false;
            }
        }
        let step = step.unwrap_or(1);
        if from < lo as u64 || to > hi as u64 || from > to || step == 0 {
            return None;
        }
        let mut v = from;
        while v <= to {
            table[v as usize] = true;
            v += step;
        }
        star |= starred;
    }
    Some((table, star))
}

/// A name (first three letters, any ASCII case) or an integer.
fn value(text: &str, names: &[&str], lo: usize) -> Option<u64> {
    let lower = text.to_ascii_lowercase();
    if let Some(i) = names.iter().position(|n| *n == lower) {
        return Some((i + lo) as u64);
    }
    integer(text)
}

/// An optional sign and decimal digits that fit in `i64`; negatives are refused.
fn integer(text: &str) -> Option<u64> {
    let body = text
        .strip_prefix('+')
        .or_else(|| text.strip_prefix('-'))
        .unwrap_or(text);
    if body.is_empty() || body.chars().any(|c| !c.is_ascii_digit()) {
        return None;
    }
    let n: i128 = text.parse().ok()?;
    if n < 0 || n > i64::MAX as i128 {
        return None;
    }
    Some(n as u64)
}

/// A Go duration in exact nanoseconds (no `d` unit); `None` when Go rejects it.
fn go_duration(text: &str) -> Option<i128> {
    let (sign, mut rest) = match text.chars().next() {
        Some('-') => (-1, &text[1..]),
        Some('+') => (1, &text[1..]),
        _ => (1, text),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let num = &rest[..num_len];
        rest = &rest[num_len..];
        if num.matches('.').count() > 1 || num == "." || num.is_empty() {
            return None;
        }
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let scale: i128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        let (int, frac) = num.split_once('.').unwrap_or((num, ""));
        let int: i128 = if int.is_empty() { 0 } else { int.parse().ok()? };
        let mut part = int * scale;
        let mut denom = 1i128;
        let mut f = 0i128;
        for c in frac.chars().take(18) {
            f = f * 10 + i128::from(c as u8 - b'0');
            denom *= 10;
        }
        part += f * scale / denom;
        total += part;
        if total > 1i128 << 63 {
            return None;
        }
    }
    let total = total * sign;
    if total > i64::MAX as i128 {
        return None;
    }
    Some(total)
}

impl RobfigOracle {
    /// Reads `text`; `None` when robfig rejects it (or would panic on it).
    pub fn parse(text: &str) -> Option<RobfigOracle> {
        if text.is_empty() {
            return None;
        }
        let mut zone = Tz::UTC;
        let mut body = text;
        for prefix in ["CRON_TZ=", "TZ="] {
            if let Some(after) = text.strip_prefix(prefix) {
                let space = after.find(' ')?;
                let name = &after[..space];
                zone = match name {
                    "" | "UTC" | "Local" => Tz::UTC,
                    other => other.parse().ok()?,
                };
                body = after[space..].trim();
                break;
            }
        }
        let expanded = match body {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            _ if body.starts_with('@') => {
                let ns = go_duration(body.strip_prefix("@every ")?)?;
                let seconds = (ns / 1_000_000_000).max(1) as i64;
                let mut o = RobfigOracle::parse("* * * * *")?;
                o.every_seconds = Some(seconds);
                return Some(o);
            }
            fields => fields,
        };
        let parts: Vec<&str> = expanded.split_whitespace().collect();
        if parts.len() != 5 {
            return None;
        }
        let (minute, _) = read_field(parts[0], 0, 59, &[])?;
        let (hour, _) = read_field(parts[1], 0, 23, &[])?;
        let (dom, dom_star) = read_field(parts[2], 1, 31, &[])?;
        let (month, _) = read_field(parts[3], 1, 12, &MONTHS)?;
        let (dow, dow_star) = read_field(parts[4], 0, 6, &DAYS)?;
        Some(RobfigOracle {
            zone,
            every_seconds: None,
            minute,
            hour,
            dom,
            month,
            dow,
            dom_star,
            dow_star,
        })
    }

    fn day_matches(&self, date: NaiveDate) -> bool {
        let by_dom = self.dom[date.day() as usize];
        let by_dow = self.dow[date.weekday().num_days_from_sunday() as usize];
        if self.dom_star || self.dow_star {
            by_dom && by_dow
        } else {
            by_dom || by_dow
        }
    }

    /// The first time strictly after `after`'s whole second, within robfig's five years.
    pub fn next(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let floor = DateTime::from_timestamp(after.timestamp(), 0)?;
        if let Some(s) = self.every_seconds {
            return floor.checked_add_signed(Duration::seconds(s));
        }
        let first = floor + Duration::seconds(1);
        let last_year = first.with_timezone(&self.zone).year() + 5;
        let start = first.with_timezone(&self.zone).naive_local();
        let mut date = start.date();
        let mut best: Option<DateTime<Utc>> = None;
        while date.year() <= last_year {
            if self.month[date.month() as usize] && self.day_matches(date) {
                'day: for h in (0..24).filter(|&h| self.hour[h]) {
                    for m in (0..60).filter(|&m| self.minute[m]) {
                        let wall = date.and_hms_opt(h as u32, m as u32, 0)?;
                        // Hours before the start's wall time cannot come after it (a DST
                        // change moves the clock back by less than three hours).
                        if wall < start - Duration::hours(3) {
                            continue;
                        }
                        let (earlier, later) = match self.zone.from_local_datetime(&wall) {
                            LocalResult::Single(a) => (Some(a), None),
                            LocalResult::Ambiguous(a, b) => (Some(a), Some(b)),
                            LocalResult::None => (None, None),
                        };
                        for i in [earlier, later].into_iter().flatten() {
                            let i = i.with_timezone(&Utc);
                            if i >= first && best.is_none_or(|b| i < b) {
                                best = Some(i);
                            }
                        }
                        // Later wall times of a day are later instants than a time that
                        // occurs once (a repeated one's second pass is taken with its first).
                        let once = earlier.filter(|_| later.is_none());
                        if once.is_some_and(|i| i.with_timezone(&Utc) >= first) {
                            break 'day;
                        }
                    }
                }
            }
            // Every instant of a later day is later than every instant of this one.
            if best.is_some() {
                return best;
            }
            date = date.succ_opt()?;
        }
        best
    }
}
