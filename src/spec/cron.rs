//! Temporal's cron dialect, parsed straight into a compiled [`Calendar`] or an interval.
//!
//! Grammar (Temporal's `parseCronString`, steps in order): trim; optional `CRON_TZ=<zone> ` or
//! `TZ=<zone> ` prefix; `#` starts a comment; `@every <dur>[/<phase>]`; the shorthands
//! `@yearly @annually @monthly @weekly @daily @midnight @hourly`; else 5 fields (`min hour dom
//! month dow`), 6 (`... year`) or 7 (`sec ... year`). A field is a comma list of `*`, `x`,
//! `x-z`, `x/y` (x..max), `*/y`, `x-z/y`; month names need >= 3 letters, day names >= 2, any
//! case. In day of week 7 is Sunday, so a range through 7 runs through Sunday (`1-7` is every
//! day: the server's dropping of Sunday there is a bug we do not copy). `?` and `H` are not
//! values and fail like any other bad text.
//!
//! Beyond Temporal (`cron_field`): `L`, `L-n`, `LW`, `nW` in day of month, `nL` and `n#k` in
//! day of week. The one change to Temporal's reading of a string is `#`: a `#` inside the
//! day-of-week field, right after a letter or digit and right before a digit (`5#3`, `FRI#2`)
//! is the nth-weekday rule; any other `#` starts the comment, as in Temporal (`*#tag`,
//! `2,4#tag`, `5 # note`; `0 0 5#3 * *` is `0 0 5` with comment `3 * *`). The server reads
//! `5#3` as every Friday with comment `3`, a silent trap its own tests call a pitfall.
//!
//! Errors teach other dialects' habits (`teach`): six fields written seconds first, and `?`.

use super::calendar::{year_words, Calendar};
use super::cron_field::{
    day_of_month, day_of_week, Days, Field, HOUR, MINUTE, MONTH, SECOND, YEAR,
};
use super::days::DayRules;
use super::duration::parse_go_duration;
use super::structured::MAX_COMMENT_BYTES;

/// A parsed cron string.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cron<'a> {
    /// A calendar, in the zone named by its prefix (`""` when it had none).
    Calendar { calendar: Calendar, zone: &'a str },
    /// An `@every` interval in whole nanoseconds (its zone prefix, if any, is dropped).
    Every { every_ns: i128, phase_ns: i128 },
}

/// What is wrong with a cron string: the part (`""` for the whole string) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CronError {
    pub(crate) part: &'static str,
    pub(crate) message: String,
}

fn whole(message: String) -> CronError {
    CronError { part: "", message }
}

/// Parses one cron string of Temporal's dialect.
pub(crate) fn parse(text: &str) -> Result<Cron<'_>, CronError> {
    let mut s = trim(text);
    let mut zone = "";
    let mut zone_prefix = "";
    if s.starts_with("TZ=") || s.starts_with("CRON_TZ=") {
        let Some((prefix, rest)) = s.split_once(' ') else {
            return Err(whole(
                "a time zone prefix must be followed by the cron fields".into(),
            ));
        };
        zone = prefix.split_once('=').map_or("", |(_, z)| z);
        zone_prefix = prefix;
        s = rest;
    }
    let (s, comment) = split_comment(s);
    let comment = comment.map(str::trim);
    let s = trim(s);
    if s.starts_with("@every") {
        return parse_every(s);
    }
    let expanded = match s {
        "@yearly" | "@annually" => "0 0 1 1 *",
        "@monthly" => "0 0 1 * *",
        "@weekly" => "0 0 * * 0",
        "@daily" | "@midnight" => "0 0 * * *",
        "@hourly" => "0 * * * *",
        other => other,
    };
    let mut fields = [""; 7];
    let mut n = 0;
    let mut keep = |f| {
        if n < 7 {
            fields[n] = f;
        }
        n += 1;
    };
    if expanded.is_ascii() {
        // Byte offsets of ASCII spaces: every slice is on a character boundary.
        let mut start = None;
        for (i, &b) in expanded.as_bytes().iter().enumerate() {
            match (is_space(b), start) {
                (true, Some(from)) => {
                    keep(&expanded[from..i]);
                    start = None;
                }
                (false, None) => start = Some(i),
                _ => {}
            }
        }
        if let Some(from) = start {
            keep(&expanded[from..]);
        }
    } else {
        expanded.split_whitespace().for_each(&mut keep);
    }
    let (second, rest) = match n {
        5 | 6 => ("0", &fields[..n]),
        7 => (fields[0], &fields[1..7]),
        _ => {
            let hint = match comment {
                Some(_) => {
                    "; the text after '#' is a comment (a '#' means the nth weekday only in \
                     day_of_week, right after a day and before a digit: 5#3)"
                }
                None => "",
            };
            return Err(whole(format!(
                "expected 5, 6 or 7 fields (or @every, @daily, ...), found {n}{hint}"
            )));
        }
    };
    let calendar =
        fields_calendar(second, rest).map_err(|e| teach(e, &fields[..n], zone_prefix))?;
    let comment = comment.unwrap_or("");
    if comment.len() > MAX_COMMENT_BYTES {
        return Err(CronError {
            part: "comment",
            message: format!(
                "comment is {} bytes, longer than {MAX_COMMENT_BYTES}",
                comment.len()
            ),
        });
    }
    Ok(Cron::Calendar { calendar, zone })
}

/// The calendar of the fields after the second (5 or 6: the year is optional).
fn fields_calendar(second: &str, rest: &[&str]) -> Result<Calendar, CronError> {
    let year = rest.get(5).copied().unwrap_or("*");
    let parse_field = |field: Field, text: &str, base: i32| {
        field.parse(text, base).map_err(|message| CronError {
            part: field.name,
            message,
        })
    };
    let mut days = Days::default();
    day_of_week(rest[4], &mut days).map_err(|message| CronError {
        part: "day_of_week",
        message,
    })?;
    // The casts keep bits already range-checked against each field's bounds.
    let second = parse_field(SECOND, second, 0)? as u64;
    let minute = parse_field(MINUTE, rest[0], 0)? as u64;
    let hour = parse_field(HOUR, rest[1], 0)? as u32;
    day_of_month(rest[2], &mut days).map_err(|message| CronError {
        part: "day_of_month",
        message,
    })?;
    Ok(Calendar {
        second,
        minute,
        hour,
        day_of_month: days.day_of_month,
        month: parse_field(MONTH, rest[3], 0)? as u16,
        day_of_week: days.day_of_week,
        all_years: year == "*",
        years: if year == "*" {
            [0; 2]
        } else {
            year_words(parse_field(YEAR, year, YEAR.min)?)
        },
        rules: (days.rules != DayRules::default())
            .then(|| days.rules.compiled(days.day_of_month, days.day_of_week)),
        leap_only: false,
    }
    .prepared())
}

/// Adds to a field error what Quartz and `cron`-crate habits need to hear. A 6-field string
/// that would parse read seconds first (`0 0 9 * * MON-FRI`, a `?` taken as `*`) gets
/// Temporal's field order and the 7-field string that means it; one that fails in a year that
/// is no year (`MON`, `1-5`) gets the field order alone. A `?` anywhere gets its replacement.
/// Only messages of strings that fail anyway change here, never the reading of a string: six
/// fields valid both ways (`0 0 9 * * *`) keep Temporal's (see the docs of
/// `ScheduleSpec::cron_expressions`).
fn teach(mut e: CronError, fields: &[&str], zone_prefix: &str) -> CronError {
    const ORDER: &str = "Temporal's 6-field form is minute hour day-of-month month day-of-week \
                         year, not Quartz's seconds first";
    let quartz_any = fields.contains(&"?");
    if fields.len() == 6 {
        let seven: Vec<&str> = fields
            .iter()
            .map(|&f| if f == "?" { "*" } else { f })
            .chain(["*"])
            .collect();
        if fields_calendar(seven[0], &seven[1..]).is_ok() {
            let space = if zone_prefix.is_empty() { "" } else { " " };
            let any = if quartz_any {
                " (Temporal has no `?`: `*`)"
            } else {
                ""
            };
            e.message = format!(
                "{}; {ORDER}; for seconds first use 7 fields, second minute hour day-of-month \
                 month day-of-week year{any}: \"{zone_prefix}{space}{}\"",
                e.message,
                seven.join(" ")
            );
            return e;
        }
        // A run of four digits is a year meant as one (`1999`), which needs no lesson.
        let year_like = fields[5]
            .split(|c: char| !c.is_ascii_digit())
            .any(|run| run.len() >= 4);
        if e.part == "year" && !year_like {
            e.message = format!("{}; {ORDER}", e.message);
        }
    }
    if quartz_any {
        e.message = format!(
            "{}; `?` (Quartz's \"no specific value\") is not in Temporal's dialect: write `*`",
            e.message
        );
    }
    e
}

/// Splits off the comment: the text after the first `#` that is not an nth-weekday mark. A
/// mark is a `#` in the day-of-week field (the 5th of 5 or 6 fields, the 6th of 7), right after
/// an ASCII letter or digit and right before a digit. Which field a `#` is in depends on how
/// many fields precede the comment, so the comment's start moves back until every mark left
/// is in the day-of-week field (each step moves it to an earlier `#`, so this ends).
fn split_comment(s: &str) -> (&str, Option<&str>) {
    let bytes = s.as_bytes();
    let Some(first) = bytes.iter().position(|&b| b == b'#') else {
        return (s, None);
    };
    let mark = |i: usize| {
        i > 0
            && bytes[i - 1].is_ascii_alphanumeric()
            && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
    };
    let hash_at = |i: usize| bytes[i] == b'#';
    let mut end = (first..bytes.len())
        .find(|&i| hash_at(i) && !mark(i))
        .unwrap_or(bytes.len());
    loop {
        let body = &s[..end];
        let dow = match words(body).count() {
            5 | 6 => words(body).nth(4),
            7 => words(body).nth(5),
            _ => None,
        };
        let outside = |i: usize| dow.is_none_or(|(from, to)| i < from || i >= to);
        match (first..end).find(|&i| hash_at(i) && outside(i)) {
            Some(stray) => end = stray,
            None => break,
        }
    }
    // `end` is the offset of an ASCII `#` (or the length): both slices are on boundaries.
    match s.get(end + 1..) {
        Some(comment) => (&s[..end], Some(comment)),
        None => (s, None),
    }
}

/// Byte spans of the whitespace-separated words of `s` (Go's `strings.Fields`).
fn words(s: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut chars = s.char_indices().peekable();
    std::iter::from_fn(move || {
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let (from, _) = chars.next()?;
        let mut to = s.len();
        while let Some(&(i, c)) = chars.peek() {
            if c.is_whitespace() {
                to = i;
                break;
            }
            chars.next();
        }
        Some((from, to))
    })
}

/// Go's `unicode.IsSpace` (Rust's `char::is_whitespace`) restricted to ASCII: includes `\x0B`,
/// which `u8::is_ascii_whitespace` does not.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// `str::trim`, with a byte loop when the ends are ASCII (Unicode whitespace is never ASCII).
fn trim(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(&a), Some(&z)) if a.is_ascii() && !is_space(a) && z.is_ascii() && !is_space(z) => s,
        _ => s.trim(),
    }
}

fn parse_every(s: &str) -> Result<Cron<'static>, CronError> {
    let Some((_, spec)) = s.split_once(' ') else {
        return Err(whole(format!(
            "{s:?} needs a duration after @every, e.g. \"@every 90m\""
        )));
    };
    let (every, phase) = match spec.split_once('/') {
        Some((every, phase)) => (every, Some(phase)),
        None => (spec, None),
    };
    let every_ns = parse_go_duration(every).map_err(|message| CronError {
        part: "interval",
        message,
    })?;
    let phase_ns = match phase {
        Some(p) => parse_go_duration(p).map_err(|message| CronError {
            part: "phase",
            message,
        })?,
        None => 0,
    };
    if every_ns < 1_000_000_000 {
        return Err(CronError {
            part: "interval",
            message: format!("{every:?} is less than 1s"),
        });
    }
    if phase_ns < 0 {
        return Err(CronError {
            part: "phase",
            message: format!("{:?} is negative", phase.unwrap_or_default()),
        });
    }
    if phase_ns >= every_ns {
        return Err(CronError {
            part: "phase",
            message: format!(
                "{:?} is not less than the interval {every:?}",
                phase.unwrap_or_default()
            ),
        });
    }
    Ok(Cron::Every { every_ns, phase_ns })
}

#[cfg(test)]
#[path = "cron_tests.rs"]
mod tests;
