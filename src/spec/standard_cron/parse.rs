//! robfig/cron v3's `ParseStandard`, the reader of Temporal's `cron_schedule`.
//!
//! What it accepts, read from robfig's `parser.go` and `spec.go` and confirmed against a
//! Temporal server (tests/data/cron-job-vectors.json):
//! - an optional `CRON_TZ=<zone> ` or `TZ=<zone> ` prefix, ended by the first ASCII space (an
//!   empty zone or `Local` is UTC, which is also the default);
//! - then either a descriptor, matched exactly (`@yearly`, `@annually`, `@monthly`, `@weekly`,
//!   `@daily`, `@midnight`, `@hourly`, or `@every ` and a Go duration), or exactly five fields
//!   separated by whitespace: minute 0-59, hour 0-23, day of month 1-31, month 1-12 or
//!   `jan`..`dec`, day of week 0-6 or `sun`..`sat` (7 is out of range; names are the three
//!   letters, any case);
//! - a field is a comma list (empty items ignored) of `*` or `?` (everything; anything after
//!   a `-` is then ignored), `a`, `a-b`, each optionally `/step`; `a/step` runs to the field's
//!   maximum; numbers are Go `strconv.Atoi` (a leading `+` is fine, a `-` never is).
//!
//! The star bit: robfig marks a field written as `*` or `?` (without a step above 1), and the
//! day rule reads it (see `next`).

use super::go_duration;
use super::go_time::Zone;
use super::Kind;

/// Marks a field written as `*`/`?` (robfig's `starBit`).
pub(super) const STAR: u64 = 1 << 63;

/// Bit sets of the five fields (bit n = value n), with [`STAR`] where robfig sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Fields {
    pub(super) minute: u64,
    pub(super) hour: u64,
    pub(super) dom: u64,
    pub(super) month: u64,
    pub(super) dow: u64,
}

struct Bounds {
    name: &'static str,
    min: u64,
    max: u64,
    names: &'static [&'static str],
}

const MINUTE: Bounds = Bounds {
    name: "minute",
    min: 0,
    max: 59,
    names: &[],
};
const HOUR: Bounds = Bounds {
    name: "hour",
    min: 0,
    max: 23,
    names: &[],
};
const DOM: Bounds = Bounds {
    name: "day of month",
    min: 1,
    max: 31,
    names: &[],
};
const MONTH: Bounds = Bounds {
    name: "month",
    min: 1,
    max: 12,
    // Index + 1 is the value.
    names: &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ],
};
const DOW: Bounds = Bounds {
    name: "day of week",
    min: 0,
    max: 6,
    names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
};

/// Parses a cron job's schedule; the error says what robfig objects to.
pub(super) fn parse(text: &str) -> Result<(Kind, Zone), String> {
    if text.is_empty() {
        return Err("empty spec string".into());
    }
    let (zone, spec) = split_zone(text)?;
    if spec.starts_with('@') {
        return descriptor(spec).map(|k| (k, zone));
    }
    let fields: Vec<&str> = spec.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "expected exactly 5 fields, found {}: {fields:?}",
            fields.len()
        ));
    }
    let fields = Fields {
        minute: field(fields[0], &MINUTE)?,
        hour: field(fields[1], &HOUR)?,
        dom: field(fields[2], &DOM)?,
        month: field(fields[3], &MONTH)?,
        dow: field(fields[4], &DOW)?,
    };
    Ok((Kind::Fields(fields), zone))
}

/// Splits off a `CRON_TZ=`/`TZ=` prefix: the zone and the rest, trimmed.
fn split_zone(text: &str) -> Result<(Zone, &str), String> {
    let name_start = if let Some(rest) = text.strip_prefix("CRON_TZ=") {
        text.len() - rest.len()
    } else if let Some(rest) = text.strip_prefix("TZ=") {
        text.len() - rest.len()
    } else {
        return Ok((Zone::Utc, text));
    };
    // robfig slices up to the first space; without one it panics (the server answers
    // "something went wrong", an internal error).
    let Some(end) = text.find(' ') else {
        return Err("a time zone prefix must be followed by a space and the schedule".into());
    };
    let name = &text[name_start..end];
    Ok((zone(name)?, text[end..].trim()))
}

/// Go's `time.LoadLocation`, on chrono-tz's database: "" and "UTC" are UTC, "Local" is the
/// time's own zone (UTC for the server, which passes UTC times).
fn zone(name: &str) -> Result<Zone, String> {
    match name {
        "" | "UTC" | "Local" => Ok(Zone::Utc),
        _ => name
            .parse::<chrono_tz::Tz>()
            .map(Zone::Named)
            .map_err(|_| format!("provided bad location {name}: unknown time zone {name}")),
    }
}

fn descriptor(spec: &str) -> Result<Kind, String> {
    let all = |b: &Bounds| bits(b.min, b.max, 1) | STAR;
    let at = |minute: u64, hour: u64, dom: u64, month: u64, dow: u64| {
        Ok(Kind::Fields(Fields {
            minute,
            hour,
            dom,
            month,
            dow,
        }))
    };
    match spec {
        "@yearly" | "@annually" => at(1, 1, 1 << 1, 1 << 1, all(&DOW)),
        "@monthly" => at(1, 1, 1 << 1, all(&MONTH), all(&DOW)),
        "@weekly" => at(1, 1, all(&DOM), all(&MONTH), 1),
        "@daily" | "@midnight" => at(1, 1, all(&DOM), all(&MONTH), all(&DOW)),
        "@hourly" => at(1, all(&HOUR), all(&DOM), all(&MONTH), all(&DOW)),
        _ => {
            let Some(d) = spec.strip_prefix("@every ") else {
                return Err(format!("unrecognized descriptor: {spec}"));
            };
            let ns = go_duration::parse(d)
                .map_err(|e| format!("failed to parse duration {spec}: {e}"))?;
            // robfig's Every: under a second is a second; a fraction of a second is dropped.
            Ok(Kind::Every {
                seconds: (ns / 1_000_000_000).max(1),
            })
        }
    }
}

/// A comma list of ranges.
fn field(text: &str, b: &Bounds) -> Result<u64, String> {
    text.split(',')
        .filter(|r| !r.is_empty())
        .try_fold(0, |acc, r| Ok(acc | range(r, b)?))
}

/// One `*`, `?`, `a` or `a-b`, with an optional `/step`.
fn range(expr: &str, b: &Bounds) -> Result<u64, String> {
    let err = |what: String| Err(format!("{what}: {expr} ({})", b.name));
    let slashes: Vec<&str> = expr.split('/').collect();
    let dashes: Vec<&str> = slashes[0].split('-').collect();
    let (start, mut end, mut star) = if dashes[0] == "*" || dashes[0] == "?" {
        (b.min, b.max, STAR)
    } else {
        let start = number_or_name(dashes[0], b)?;
        let end = match dashes.len() {
            1 => start,
            2 => number_or_name(dashes[1], b)?,
            _ => return err("too many hyphens".into()),
        };
        (start, end, 0)
    };
    let step = match slashes.len() {
        1 => 1,
        2 => {
            let step = number(slashes[1])?;
            if dashes.len() == 1 {
                end = b.max;
            }
            if step > 1 {
                star = 0;
            }
            step
        }
        _ => return err("too many slashes".into()),
    };
    if start < b.min {
        return err(format!(
            "beginning of range ({start}) below minimum ({})",
            b.min
        ));
    }
    if end > b.max {
        return err(format!("end of range ({end}) above maximum ({})", b.max));
    }
    if start > end {
        return err(format!(
            "beginning of range ({start}) beyond end of range ({end})"
        ));
    }
    if step == 0 {
        return err("step of range should be a positive number".into());
    }
    Ok(bits(start, end, step) | star)
}

/// A name of the field (compared as Go's `strings.ToLower` would) or a number.
fn number_or_name(text: &str, b: &Bounds) -> Result<u64, String> {
    // Go lowercases with Unicode's simple mapping; the only non-ASCII letter that maps into
    // the names' alphabet is U+0130 (İ -> i, as in "FRİ").
    let lower: String = text
        .chars()
        .map(|c| {
            if c == '\u{130}' {
                'i'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect();
    if let Some(i) = b.names.iter().position(|n| *n == lower) {
        return Ok(i as u64 + b.min);
    }
    number(text)
}

/// Go's `strconv.Atoi`, then robfig's refusal of negatives.
fn number(text: &str) -> Result<u64, String> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return Err(format!("failed to parse int from {text}: invalid syntax"));
    }
    let n: i64 = text
        .parse()
        .map_err(|_| format!("failed to parse int from {text}: value out of range"))?;
    u64::try_from(n).map_err(|_| format!("negative number ({n}) not allowed: {text}"))
}

/// Bits `start, start + step, ...` up to `end` (at most 63).
fn bits(start: u64, end: u64, step: u64) -> u64 {
    let mut out = 0;
    let mut i = start;
    while i <= end {
        out |= 1 << i;
        match i.checked_add(step) {
            Some(n) => i = n,
            None => break,
        }
    }
    out
}
