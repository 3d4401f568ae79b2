//! Time zones as tables of UTC-offset stretches, shared per zone.
//!
//! A zone is a sequence of stretches `[start, end)` of instants with one constant UTC offset.
//! Literal wall-clock matching walks the stretches: inside one, wall = instant + offset is a
//! monotone bijection, so a calendar's next wall time maps straight back to an instant. A wall
//! time in a spring-forward gap belongs to no stretch (never fires); one in a fall-back overlap
//! belongs to two (fires at both instants, earlier first).
//!
//! The table is built once per zone from chrono-tz (which keeps its own spans private) by
//! sampling offsets every few hours over 1969..2102 and bisecting each change to the second,
//! then leaked: there are a few hundred zones at most, so every compiled spec holds a `Copy`
//! reference. A named zone is always a table (it carries the name a spec's description shows),
//! with no transitions when its offset never changed; only UTC is `Fixed`. Invariant: `transitions` is strictly increasing in time and each entry's offset
//! differs from the previous one.

use std::cell::Cell;
use std::str::FromStr;
use std::sync::OnceLock;

use chrono::{DateTime, Offset, TimeZone};
use chrono_tz::{Tz, TZ_VARIANTS};

/// First instant sampled: 1969-12-30T00:00:00Z (nominal times are never before 1969-12-31).
const TABLE_START: i64 = -2 * 86_400;
/// Last instant sampled: 2102-01-01T00:00:00Z (nothing fires after 2100).
const TABLE_END: i64 = 4_165_516_800;
/// Sampling step. No IANA zone since 1970 changes offset twice within this span.
const SAMPLE_STEP: i64 = 6 * 3600;

/// The offset history of one IANA zone over 1969..2102.
pub(crate) struct ZoneTable {
    name: &'static str,
    /// Offset (seconds east of UTC) before the first transition.
    initial: i32,
    /// `(instant, offset from that instant on)`.
    transitions: Box<[(i64, i32)]>,
}

impl std::fmt::Debug for ZoneTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The transitions are derived data; the name identifies the table.
        f.write_str(self.name)
    }
}

/// How a spec reads wall clocks.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Zone {
    /// One offset forever, unnamed: UTC.
    Fixed(i32),
    /// A named zone (with no transitions at all when its offset never changed since 1969).
    Table(&'static ZoneTable),
}

/// The constant-offset stretch of a zone around an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stretch {
    /// First instant of the stretch (`i64::MIN` for the first one).
    pub(crate) start: i64,
    /// The UTC offset just before `start` (equal to `offset` for the first stretch).
    pub(crate) before: i64,
    /// The UTC offset in force.
    pub(crate) offset: i64,
    /// First instant after the stretch (`i64::MAX` for the last one).
    pub(crate) end: i64,
}

impl PartialEq for Zone {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Zone::Fixed(a), Zone::Fixed(b)) => a == b,
            (Zone::Table(a), Zone::Table(b)) => a.name == b.name,
            _ => false,
        }
    }
}

impl Zone {
    /// The UTC offset in force at the instant `t` and the end (exclusive) of its stretch.
    #[inline]
    pub(crate) fn stretch(&self, t: i64) -> (i64, i64) {
        match self {
            Zone::Fixed(off) => (i64::from(*off), i64::MAX),
            Zone::Table(table) => {
                let idx = table.transitions.partition_point(|&(at, _)| at <= t);
                let off = match idx {
                    0 => table.initial,
                    _ => table.transitions[idx - 1].1,
                };
                let end = table.transitions.get(idx).map_or(i64::MAX, |&(at, _)| at);
                (i64::from(off), end)
            }
        }
    }

    /// The UTC offset in force at the instant `t`.
    #[inline]
    pub(crate) fn offset(&self, t: i64) -> i64 {
        self.stretch(t).0
    }

    /// The offset, when it never changes.
    #[inline]
    pub(crate) fn fixed_offset(&self) -> Option<i64> {
        match self {
            Zone::Fixed(off) => Some(i64::from(*off)),
            Zone::Table(table) if table.transitions.is_empty() => Some(i64::from(table.initial)),
            Zone::Table(_) => None,
        }
    }

    /// The stretch holding the instant `t`, with the offset before it.
    pub(crate) fn stretch_around(&self, t: i64) -> Stretch {
        match self {
            Zone::Fixed(off) => Stretch {
                start: i64::MIN,
                before: i64::from(*off),
                offset: i64::from(*off),
                end: i64::MAX,
            },
            Zone::Table(table) => {
                let idx = table.transitions.partition_point(|&(at, _)| at <= t);
                let offset_of = |i: usize| match i {
                    0 => i64::from(table.initial),
                    _ => i64::from(table.transitions[i - 1].1),
                };
                Stretch {
                    start: match idx {
                        0 => i64::MIN,
                        _ => table.transitions[idx - 1].0,
                    },
                    before: offset_of(idx.saturating_sub(1)),
                    offset: offset_of(idx),
                    end: table.transitions.get(idx).map_or(i64::MAX, |&(at, _)| at),
                }
            }
        }
    }

    /// The zone's name as the spec gave it (`"UTC"` for no zone).
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Zone::Fixed(_) => "UTC",
            Zone::Table(table) => table.name,
        }
    }
}

/// Resolves a zone name: `""` and `"UTC"` are UTC, anything else must be an IANA name
/// (case-sensitive, like Go's `time.LoadLocation`).
pub(crate) fn resolve(name: &str) -> Option<Zone> {
    if name.is_empty() || name == "UTC" {
        return Some(Zone::Fixed(0));
    }
    // Specs of one process mostly name one zone: the last one resolved on this thread is
    // compared as a string instead of hashing the name again.
    thread_local! {
        static LAST: Cell<Option<(&'static str, Zone)>> = const { Cell::new(None) };
    }
    if let Some((last, zone)) = LAST.get() {
        if last == name {
            return Some(zone);
        }
    }
    let tz = Tz::from_str(name).ok()?;
    // One slot per chrono-tz zone (a fieldless enum), filled on first use: reads take no lock.
    static CACHE: OnceLock<Box<[OnceLock<Zone>]>> = OnceLock::new();
    let slots = CACHE.get_or_init(|| TZ_VARIANTS.iter().map(|_| OnceLock::new()).collect());
    let slot = slots.get(tz as usize)?;
    let zone = *slot.get_or_init(|| build(tz));
    LAST.set(Some((tz.name(), zone)));
    Some(zone)
}

fn offset_at(tz: Tz, t: i64) -> i32 {
    // The table's instants are all within chrono's range, so this never falls back.
    DateTime::from_timestamp(t, 0)
        .map(|d| {
            tz.offset_from_utc_datetime(&d.naive_utc())
                .fix()
                .local_minus_utc()
        })
        .unwrap_or(0)
}

fn build(tz: Tz) -> Zone {
    let initial = offset_at(tz, TABLE_START);
    let mut transitions = Vec::new();
    let mut prev = initial;
    let mut t = TABLE_START;
    while t < TABLE_END {
        let next = t + SAMPLE_STEP;
        let off = offset_at(tz, next);
        if off != prev {
            // Bisect for the first second with the new offset.
            let (mut lo, mut hi) = (t, next);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if offset_at(tz, mid) == prev {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            transitions.push((hi, off));
            prev = off;
        }
        t = next;
    }
    Zone::Table(Box::leak(Box::new(ZoneTable {
        name: tz.name(),
        initial,
        transitions: transitions.into_boxed_slice(),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_and_fixed_zones() {
        assert_eq!(resolve(""), Some(Zone::Fixed(0)));
        assert_eq!(resolve("UTC"), Some(Zone::Fixed(0)));
        let kolkata = resolve("Asia/Kolkata").unwrap();
        assert_eq!(kolkata.fixed_offset(), Some(19_800));
        assert_eq!(kolkata.name(), "Asia/Kolkata");
        assert_eq!(resolve("").unwrap().name(), "UTC");
        assert_eq!(resolve("America/New_York").unwrap().fixed_offset(), None);
        assert_eq!(resolve("Mars/Base"), None);
        assert_eq!(resolve("america/new_york"), None);
    }

    #[test]
    fn table_agrees_with_chrono_tz() {
        for name in [
            "America/New_York",
            "Europe/London",
            "Australia/Lord_Howe",
            "Pacific/Chatham",
            "America/Sao_Paulo",
        ] {
            let zone = resolve(name).unwrap();
            let tz = Tz::from_str(name).unwrap();
            let mut t = 0;
            while t < 4_133_980_800 {
                assert_eq!(zone.offset(t), i64::from(offset_at(tz, t)), "{name} at {t}");
                t += 3_599 * 7;
            }
        }
    }

    #[test]
    fn new_york_2027_spring_forward_is_exact() {
        let zone = resolve("America/New_York").unwrap();
        // 2027-03-14T07:00:00Z: 02:00 EST becomes 03:00 EDT.
        let at = 1_805_007_600;
        assert_eq!(zone.offset(at - 1), -5 * 3600);
        assert_eq!(zone.offset(at), -4 * 3600);
        assert_eq!(zone.stretch(at - 1).1, at);
        let s = zone.stretch_around(at);
        assert_eq!((s.start, s.before, s.offset), (at, -5 * 3600, -4 * 3600));
        assert_eq!(zone.stretch_around(at - 1).end, at);
        assert_eq!(zone.stretch_around(at - 1).offset, -5 * 3600);
    }
}
