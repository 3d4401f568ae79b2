//! A compiled spec in one line of English: what `Display` on [`CompiledSpec`] writes.
//!
//! It reads the compiled form (bitmasks, whole-second intervals), so a cron string and the
//! structured calendar it means read the same, and what is described is what runs. Shape:
//! the calendars and intervals, `; `-separated (each calendar with its zone), then `, except`
//! and the skip calendars, the bounds, the jitter, and the DST policy when it is not the
//! default. Times of day are 24-hour wall-clock times; instants are RFC 3339 in UTC.
//!
//! [`CompiledSpec`]: super::CompiledSpec

use std::fmt::{self, Write};

use chrono::{DateTime, SecondsFormat};

use super::calendar::Calendar;
use super::days::DayRules;
use super::{DstPolicy, NonexistentTime, RepeatedTime};

/// What a description is made of (the compiled spec's parts).
pub(crate) struct Parts<'a> {
    pub(crate) calendars: &'a [Calendar],
    pub(crate) skip: &'a [Calendar],
    /// `(every, offset)` in whole seconds, offsets from the epoch.
    pub(crate) intervals: &'a [(i64, i64)],
    pub(crate) zone: &'static str,
    /// `floor(start_at)`, if set.
    pub(crate) start: Option<i64>,
    /// `floor(end_at)`, if set.
    pub(crate) end: Option<i64>,
    pub(crate) jitter_ms: u32,
    pub(crate) dst: DstPolicy,
}

const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTHS: [&str; 13] = [
    "",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const NTH: [&str; 5] = ["first", "second", "third", "fourth", "fifth"];

/// Writes the description.
pub(crate) fn write(f: &mut fmt::Formatter<'_>, p: &Parts<'_>) -> fmt::Result {
    let mut items: Vec<String> = p
        .calendars
        .iter()
        .map(|c| format!("{}, in {}", calendar(c), p.zone))
        .collect();
    items.extend(
        p.intervals
            .iter()
            .map(|&(every, offset)| interval(every, offset, p.start)),
    );
    if items.is_empty() {
        return f.write_str("never");
    }
    f.write_str(&items.join("; "))?;
    if !p.skip.is_empty() {
        let skip: Vec<String> = p.skip.iter().map(calendar).collect();
        write!(f, ", except {}", skip.join(" or "))?;
    }
    if let Some(start) = p.start {
        write!(f, ", from {}", instant(start))?;
    }
    if let Some(end) = p.end {
        write!(f, ", until {}", instant(end))?;
    }
    if p.jitter_ms > 0 {
        let jitter = match p.jitter_ms % 1000 {
            0 => duration(i64::from(p.jitter_ms / 1000)),
            _ => format!("{} ms", p.jitter_ms),
        };
        write!(f, ", each delayed by up to {jitter} of jitter")?;
    }
    if !p.calendars.is_empty() {
        if p.dst.nonexistent == NonexistentTime::RunAfterGap {
            f.write_str("; a time skipped by a DST change runs right after it")?;
        }
        if p.dst.repeated == RepeatedTime::First {
            f.write_str("; a time repeated by a DST change runs once")?;
        }
    }
    Ok(())
}

fn instant(t: i64) -> String {
    DateTime::from_timestamp(t, 0).map_or_else(
        || format!("{t} s after the epoch"),
        |d| d.to_rfc3339_opts(SecondsFormat::Secs, true),
    )
}

/// Whole seconds in the largest unit that divides them: `90 minutes`, `36 hours`, `day`.
fn duration(secs: i64) -> String {
    let (n, unit) = match secs {
        s if s > 0 && s % 86_400 == 0 => (s / 86_400, "day"),
        s if s > 0 && s % 3_600 == 0 => (s / 3_600, "hour"),
        s if s > 0 && s % 60 == 0 => (s / 60, "minute"),
        s => (s, "second"),
    };
    match n {
        1 => unit.to_string(),
        n => format!("{n} {unit}s"),
    }
}

fn interval(every: i64, offset: i64, start: Option<i64>) -> String {
    let mut out = format!("every {}", duration(every));
    match start {
        Some(start) => {
            // The first time at or after `start`: offset + n * every.
            let first = start + (offset - start).rem_euclid(every.max(1));
            if first != start {
                let _ = write!(out, " (first at {})", instant(first));
            }
        }
        None if offset != 0 => {
            let _ = write!(out, " (offset {} from the Unix epoch)", duration(offset));
        }
        None => {}
    }
    out
}

/// The values (bits) of a mask below `n`.
fn values(mask: u64, n: u32) -> Vec<u32> {
    (0..n).filter(|v| mask >> v & 1 == 1).collect()
}

/// `[a, a + step, ...]` covering `0..n` evenly (`step` divides `n`), as `(a, step)`.
fn period(set: &[u32], n: u32) -> Option<(u32, u32)> {
    let (&first, step) = match set {
        [first, second, ..] => (first, second - first),
        _ => return None,
    };
    let even = n.is_multiple_of(step) && first < step && set.len() as u32 == n / step;
    (even
        && set
            .iter()
            .enumerate()
            .all(|(i, &v)| v == first + i as u32 * step))
    .then_some((first, step))
}

/// `a, b and c`, with runs of three or more consecutive values written `x through y` and
/// longer steps of four or more written `x, y, ..., z`.
fn list(values: &[u32], show: impl Fn(u32) -> String) -> String {
    let mut items = Vec::new();
    let mut i = 0;
    while i < values.len() {
        let step = values.get(i + 1).map_or(0, |next| next - values[i]);
        let mut j = i;
        while j + 1 < values.len() && values[j + 1] - values[j] == step {
            j += 1;
        }
        match (step, j - i + 1) {
            (1, n) if n >= 3 => {
                items.push(format!("{} through {}", show(values[i]), show(values[j])))
            }
            (_, n) if n >= 4 => items.push(format!(
                "{}, {}, ..., {}",
                show(values[i]),
                show(values[i + 1]),
                show(values[j])
            )),
            _ => {
                // Only the first value is taken: the next may start a run of its own.
                items.push(show(values[i]));
                j = i;
            }
        }
        i = j + 1;
    }
    list_words(&items)
}

fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// One calendar, without its zone.
fn calendar(c: &Calendar) -> String {
    let mut out = time_of_day(c);
    let day = days(c);
    let months = values(u64::from(c.month), 13);
    match (&day, months.as_slice()) {
        (Day::Dated(d), &[m]) => {
            let _ = write!(out, " on {} {d}", MONTHS[m as usize]);
        }
        _ => {
            match &day {
                // "at 09:00 every day"; not after "every hour" or "every 5 minutes".
                Day::Every if !out.contains("every ") => out.push_str(" every day"),
                Day::Every => {}
                Day::Dated(d) => {
                    let _ = write!(out, " on the {} of the month", ordinal(*d));
                }
                Day::Phrase(p) => out.push_str(p),
            }
            if months.len() < 12 {
                let _ = write!(out, ", in {}", list(&months, |m| MONTHS[m as usize].into()));
            }
        }
    }
    if !c.all_years {
        let years: Vec<u32> = (0..=100)
            .filter(|y| {
                let word = c.years[y / 64];
                word >> (y % 64) & 1 == 1
            })
            .map(|y| 2000 + y as u32)
            .collect();
        let _ = write!(out, ", in {}", list(&years, |y| y.to_string()));
    }
    out
}

fn clock(h: u32, m: u32, s: u32, seconds: bool) -> String {
    if seconds {
        format!("{h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}")
    }
}

/// The hours after "past": `every hour`, `every 2 hours`, `every 6 hours from 01:00`,
/// `hours 9 through 17`, `hours 0, 2, ..., 20`.
fn hours(h: &[u32]) -> String {
    match period(h, 24) {
        _ if h.len() == 24 => "every hour".into(),
        Some((0, step)) => format!("every {step} hours"),
        Some((h0, step)) => format!("every {step} hours from {}", clock(h0, 0, 0, false)),
        None => format!("hours {}", list(h, |v| v.to_string())),
    }
}

fn time_of_day(c: &Calendar) -> String {
    let (s, m, h) = (
        values(c.second, 60),
        values(c.minute, 60),
        values(u64::from(c.hour), 24),
    );
    let with_seconds = s != [0];
    // `0 */6 * * *` reads better as "every 6 hours" than as four times.
    let hourly_steps = s == [0] && m == [0] && h.len() >= 3 && period(&h, 24).is_some();
    if s.len() * m.len() * h.len() <= 4 && !hourly_steps {
        let mut times = Vec::new();
        for &hh in &h {
            for &mm in &m {
                times.extend(s.iter().map(|&ss| clock(hh, mm, ss, with_seconds)));
            }
        }
        return format!("at {}", list_words(&times));
    }
    let every_second = s.len() == 60;
    let past = |mm: u32| match s.as_slice() {
        [ss] if *ss != 0 => format!(":{mm:02}:{ss:02}"),
        _ => format!(":{mm:02}"),
    };
    let during = || match h.as_slice() {
        _ if h.len() == 24 => String::new(),
        [first, .., last] if (*last - *first) as usize + 1 == h.len() => format!(
            " from {} through {}",
            clock(*first, 0, 0, false),
            clock(*last, 59, 59, every_second)
        ),
        _ => format!(", in hours {}", list(&h, |v| v.to_string())),
    };
    if every_second && m.len() == 60 {
        return format!("every second{}", during());
    }
    if let (Some((s0, step)), true) = (period(&s, 60), m.len() == 60 && h.len() == 24) {
        let from = if s0 == 0 {
            String::new()
        } else {
            format!(" from second {s0}")
        };
        return format!("every {step} seconds{from}");
    }
    if s.len() == 1 {
        if m.len() == 60 {
            let at_second = match s[0] {
                0 => String::new(),
                ss => format!(" at second {ss}"),
            };
            return format!("every minute{at_second}{}", during());
        }
        if let Some((m0, step)) = period(&m, 60) {
            let from = if m0 == 0 && s[0] == 0 {
                String::new()
            } else {
                format!(" from {}", past(m0))
            };
            return format!("every {step} minutes{from}{}", during());
        }
        if let ([mm], 24) = (m.as_slice(), h.len()) {
            return match (mm, s[0]) {
                (0, 0) => "every hour".into(),
                _ => format!("every hour at {}", past(*mm)),
            };
        }
        if let ([0], Some(_), 0) = (m.as_slice(), period(&h, 24), s[0]) {
            return hours(&h);
        }
        let minutes: Vec<String> = m.iter().map(|&mm| past(mm)).collect();
        return format!("at {} past {}", list_words(&minutes), hours(&h));
    }
    let mut out = String::from("at ");
    if with_seconds {
        let _ = write!(out, "seconds {} of ", list(&s, |v| v.to_string()));
    }
    let _ = write!(
        out,
        "minutes {} past {}",
        list(&m, |v| v.to_string()),
        hours(&h)
    );
    out
}

/// Strings joined as `a, b and c`.
fn list_words(items: &[String]) -> String {
    match items.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => items.concat(),
    }
}

/// The day part of a calendar.
enum Day {
    /// Every day.
    Every,
    /// One plain day of the month and nothing else.
    Dated(u32),
    /// A phrase starting with a space or a comma.
    Phrase(String),
}

fn days(c: &Calendar) -> Day {
    let none = DayRules::default();
    let rules = c.rules.as_deref().unwrap_or(&none);
    let plain_days = values(u64::from(c.day_of_month), 32);
    let all_days = plain_days.len() == 31 && rules.from_end == 0;
    let mut month_days = Vec::new();
    if !all_days {
        if !plain_days.is_empty() {
            month_days.push(format!("the {}", list(&plain_days, ordinal)));
        }
        for k in values(u64::from(rules.from_end), 31).into_iter().rev() {
            month_days.push(match k {
                0 => "the last day".into(),
                k => format!("the {}-to-last day", ordinal(k + 1)),
            });
        }
    }
    let weekdays = values(u64::from(c.day_of_week), 7);
    let mut week_rules = Vec::new();
    // Weeks with the same weekdays read together: "the first and third Monday".
    for (from_end, weeks) in [(false, &rules.weeks), (true, &rules.weeks_from_end)] {
        let mut done = 0u8;
        for (k, &mask) in weeks.iter().enumerate() {
            if mask == 0 || done >> k & 1 == 1 {
                continue;
            }
            let same: Vec<String> = (k..5)
                .filter(|&j| weeks[j] == mask)
                .map(|j| {
                    done |= 1 << j;
                    match (from_end, j) {
                        (false, j) => NTH[j].to_string(),
                        (true, 0) => "last".to_string(),
                        (true, j) => format!("{}-to-last", NTH[j]),
                    }
                })
                .collect();
            week_rules.push(format!("the {} {}", list_words(&same), weekday_list(mask)));
        }
    }
    let plain_weekdays = weekdays.len() < 7 && !weekdays.is_empty();
    let weekday_phrase = match (plain_weekdays, week_rules.is_empty()) {
        (false, true) => None,
        (true, true) => Some(weekday_list(c.day_of_week)),
        (false, false) => Some(format!("{} of the month", list_words(&week_rules))),
        (true, false) => Some(format!(
            "{} or {} of the month",
            weekday_list(c.day_of_week),
            list_words(&week_rules)
        )),
    };
    let day_phrase = match (month_days.is_empty(), rules.nearest_weekday) {
        (true, _) => None,
        (false, false) => Some(list_words(&month_days)),
        (false, true) => {
            let nearest = month_days
                .iter()
                .map(|d| match d.as_str() {
                    "the last day" => "the last weekday".to_string(),
                    d => format!("the weekday nearest {d}"),
                })
                .collect::<Vec<_>>();
            Some(list_words(&nearest))
        }
    };
    match (day_phrase, weekday_phrase) {
        (None, None) => Day::Every,
        (None, Some(w)) if plain_weekdays && week_rules.is_empty() && w.contains(" through ") => {
            Day::Phrase(format!(", {w}"))
        }
        (None, Some(w)) => Day::Phrase(format!(" on {w}")),
        (Some(_), None) if plain_days.len() == 1 && rules == &none => Day::Dated(plain_days[0]),
        (Some(d), None) => Day::Phrase(format!(" on {d} of the month")),
        (Some(d), Some(w)) => Day::Phrase(format!(" on {d} of the month, if it is {w}")),
    }
}

/// Weekdays Monday first: `Monday through Friday`, `Saturday and Sunday`.
fn weekday_list(mask: u8) -> String {
    // Positions 0..=6 are Monday..Sunday.
    let monday_first: Vec<u32> = (0..7).filter(|p| mask >> ((p + 1) % 7) & 1 == 1).collect();
    list(&monday_first, |p| {
        WEEKDAYS[((p + 1) % 7) as usize].to_string()
    })
}

#[cfg(test)]
#[path = "describe_tests.rs"]
mod tests;
