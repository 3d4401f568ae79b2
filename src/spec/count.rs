//! Counting the times of a range without visiting them: what a scheduler needs when its clock
//! jumps (every missed time is counted, none is walked).
//!
//! [`CompiledSpec::count_times`] answers exactly what repeated `next_time_unix` calls from
//! `after` yield up to `until`: how many nominal times, and the last two. From the epoch on,
//! the candidates those searches visit form a set:
//! - each interval's `offset + k * every` for `k >= 1` (Go's truncating division, which
//!   Temporal uses, never returns `k = 0` from a search point at or after the epoch);
//! - the instants whose wall clock in the spec's zone matches a calendar, as the spec's
//!   [`DstPolicy`](crate::DstPolicy) reads it: literally, except for calendars that name their
//!   hours where the zone's offset changes (`RunAfterGap` adds the first instant after a gap
//!   whose skipped walls such a calendar matches; `First` drops the walls a fall-back repeats);
//!
//! within `start_at..=end_at` and before the 2101 horizon. A candidate whose wall clock matches
//! a skip calendar is skipped, and a search gives up (the walk ends) after
//! [`MAX_EXCLUSION_ITERATIONS`] skipped candidates in a row.
//!
//! Intervals alone are counted by inclusion-exclusion over their combined progressions. With
//! calendars or skips, the range is cut into segments of one zone offset and one wall-clock
//! day; a segment's candidates and skipped seconds are two bitmaps of its 86,400 seconds, and
//! whole days with the same matching calendars and interval phases share one evaluation. Only
//! the day predicate is read through `Calendar::matches`, so calendar tokens that select days
//! need nothing here; the time of day must stay the product of the hour, minute and second
//! masks.
//!
//! The policies change only the segment that starts a stretch after an offset change and the
//! segments holding the walls a fall-back repeats (its first and, when those walls cross wall
//! midnight, the next): `count_dst` works out their edits. A segment with edits is evaluated
//! on its own, never shared with other days, and never passed over for having no matching
//! calendar on its wall day (the walls a gap skipped can lie on the day before). Every other
//! segment reads its wall day literally.
//!
//! Cost: `O(2^intervals)` for intervals alone (up to [`MAX_INCLUSION`] of them), `O(days)`
//! otherwise (at most about 48,000 between 1970 and 2100; each offset change adds one or two
//! evaluations outside the memo and one search per calendar), independent of the number of
//! times.
//! Before the epoch searches round differently: a range starting there is walked one time at a
//! time until it reaches the epoch (the engine never asks for one).

use std::collections::HashMap;

use super::super::calendar::Calendar;
use super::super::civil::DAY;
use super::super::zone::Zone;
use super::{CompiledSpec, Inner, HORIZON, MAX_EXCLUSION_ITERATIONS};
use policy::{edited, Edits, Policy};

/// Intervals counted by inclusion-exclusion; more go through the day bitmaps.
const MAX_INCLUSION: usize = 10;
/// Words of one day's bitmap (86,400 bits).
const WORDS: usize = (DAY / 64) as usize;
/// Distinct day evaluations kept per count; the memo starts over beyond it.
const MEMO_LIMIT: usize = 4096;
/// The first wall day (2101-01-01) no calendar search reaches.
const WALL_HORIZON_DAY: i64 = HORIZON / DAY;
/// Above this a combined modulus is wider than any range: its progression is one point.
const WIDE: i128 = 1 << 64;

/// The times a walk finds in a range.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct TimeCount {
    /// How many (saturating).
    pub(crate) count: u64,
    /// The last one (Unix seconds).
    pub(crate) last: Option<i64>,
    /// The one before the last.
    pub(crate) before_last: Option<i64>,
}

impl TimeCount {
    fn push(&mut self, t: i64) {
        self.count = self.count.saturating_add(1);
        self.before_last = self.last;
        self.last = Some(t);
    }

    /// These times followed by `later` ones.
    fn then(self, later: TimeCount) -> TimeCount {
        match later.count {
            0 => self,
            1 => TimeCount {
                count: self.count.saturating_add(1),
                last: later.last,
                before_last: self.last,
            },
            n => TimeCount {
                count: self.count.saturating_add(n),
                ..later
            },
        }
    }
}

impl CompiledSpec {
    /// The nominal times (Unix seconds) that repeated `next_time_unix` calls, starting from
    /// `after` and feeding each result back, yield up to and including `until`: how many, and
    /// the last two. Exact, including the end of the walk where a search gives up.
    pub(crate) fn count_times(&self, after: i64, until: i64) -> TimeCount {
        let mut out = TimeCount::default();
        let mut after = after;
        while after < 0 {
            match self.next_time_unix(after) {
                Some((t, _)) if t <= until => {
                    out.push(t);
                    after = t;
                }
                _ => return out,
            }
        }
        let inner = &*self.inner;
        let lo = after.max(inner.after_floor);
        let hi = until.min(inner.end).min(HORIZON - 1);
        if hi <= lo || (inner.calendars.is_empty() && inner.intervals.is_empty()) {
            return out;
        }
        let rest = if inner.calendars.is_empty()
            && inner.skip.is_empty()
            && inner.intervals.len() <= MAX_INCLUSION
        {
            count_intervals(&inner.intervals, lo, hi)
        } else {
            DayWalk::new(inner).run(lo, hi)
        };
        out.then(rest)
    }
}

/// Instants `≡ r (mod m)` and `>= start`, or a single instant once `m` is wider than any range.
#[derive(Debug, Clone, Copy)]
enum Prog {
    Every { r: i128, m: i128, start: i128 },
    Point(i128),
}

fn gcd(a: i128, b: i128) -> i128 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// `x` with `a * x ≡ 1 (mod m)`, for coprime `a` and `m`.
fn inverse(a: i128, m: i128) -> i128 {
    let (mut old_r, mut r) = (a.rem_euclid(m), m);
    let (mut old_s, mut s) = (1i128, 0i128);
    while r != 0 {
        let q = old_r / r;
        (old_r, r) = (r, old_r - q * r);
        (old_s, s) = (s, old_s - q * s);
    }
    old_s.rem_euclid(m)
}

impl Prog {
    /// Interval `(every, offset)` from `k = 1`.
    fn interval(every: i64, offset: i64) -> Prog {
        let (m, r) = (i128::from(every), i128::from(offset));
        Prog::Every { r, m, start: r + m }
    }

    /// The first point `>= from`.
    fn first_from(self, from: i128) -> Option<i128> {
        match self {
            Prog::Every { r, m, start } => {
                let from = from.max(start);
                Some(r + (from - r + m - 1).div_euclid(m) * m)
            }
            Prog::Point(p) => (p >= from).then_some(p),
        }
    }

    /// The last point `<= to` (and `>= start`).
    fn last_to(self, to: i128) -> Option<i128> {
        match self {
            Prog::Every { r, m, start } => {
                let p = r + (to - r).div_euclid(m) * m;
                (p >= start).then_some(p)
            }
            Prog::Point(p) => (p <= to).then_some(p),
        }
    }

    /// Points in `(lo, hi]`.
    fn count(self, lo: i128, hi: i128) -> i128 {
        match (self, self.first_from(lo + 1)) {
            (Prog::Every { r, m, .. }, Some(first)) if first <= hi => {
                (hi - r).div_euclid(m) - (first - r).div_euclid(m) + 1
            }
            (Prog::Point(p), _) => i128::from(p > lo && p <= hi),
            _ => 0,
        }
    }

    /// The points of both (Chinese remainder theorem); `lo` anchors a single point.
    fn and(self, other: Prog, lo: i128) -> Option<Prog> {
        match (self, other) {
            (Prog::Point(p), o) | (o, Prog::Point(p)) => {
                (o.first_from(p) == Some(p)).then_some(Prog::Point(p))
            }
            (
                Prog::Every {
                    r: r1,
                    m: m1,
                    start: s1,
                },
                Prog::Every {
                    r: r2,
                    m: m2,
                    start: s2,
                },
            ) => {
                let g = gcd(m1, m2);
                if (r2 - r1) % g != 0 {
                    return None;
                }
                let n = m2 / g;
                // x = r1 + m1 * t with t ≡ (r2 - r1) / g * inverse(m1 / g) (mod n); every
                // product stays below 2^127 (m1 <= 2^64, n < 2^63).
                let t = ((r2 - r1) / g).rem_euclid(n) * inverse(m1 / g, n) % n;
                let m = m1 * n;
                let r = (r1 + m1 * t).rem_euclid(m);
                let start = s1.max(s2);
                let p = Prog::Every { r, m, start };
                if m <= WIDE {
                    return Some(p);
                }
                p.first_from(lo + 1).map(Prog::Point)
            }
        }
    }
}

/// Intervals alone: the union counted by inclusion-exclusion over every subset.
fn count_intervals(intervals: &[(i64, i64)], lo: i64, hi: i64) -> TimeCount {
    let progs: Vec<Prog> = intervals
        .iter()
        .map(|&(every, offset)| Prog::interval(every, offset))
        .collect();
    let (lo, hi) = (i128::from(lo), i128::from(hi));
    fn walk(progs: &[Prog], acc: Option<Prog>, sign: i128, lo: i128, hi: i128) -> i128 {
        let mut total = 0;
        for (i, &p) in progs.iter().enumerate() {
            let both = match acc {
                None => Some(p),
                Some(a) => a.and(p, lo),
            };
            // A subset with no common point empties every superset too.
            if let Some(both) = both {
                total +=
                    sign * both.count(lo, hi) + walk(&progs[i + 1..], Some(both), -sign, lo, hi);
            }
        }
        total
    }
    let count = walk(&progs, None, 1, lo, hi);
    let last_to = |to: i128| {
        progs
            .iter()
            .filter_map(|p| p.last_to(to))
            .filter(|&t| t > lo)
            .max()
    };
    let last = last_to(hi);
    let before_last = last.and_then(|l| last_to(l - 1));
    let seconds = |t: i128| i64::try_from(t).ok();
    TimeCount {
        count: u64::try_from(count).unwrap_or(u64::MAX),
        last: last.and_then(seconds),
        before_last: before_last.and_then(seconds),
    }
}

/// One segment's candidates, as the walk sees them. Positions are seconds of the wall day.
#[derive(Debug, Clone, Copy, Default)]
struct Summary {
    /// Candidates (skipped or not).
    raw: u64,
    /// Candidates not skipped: the times.
    taken: u64,
    /// Skipped candidates before the first time (all of them when there is none).
    before_first: u64,
    /// Skipped candidates after the last time.
    after_last: u64,
    last: i64,
    before_last: Option<i64>,
}

/// The walk across segments: the times so far and the skipped candidates since the last one.
struct Tally {
    out: TimeCount,
    skipped: u64,
    ended: bool,
}

impl Tally {
    /// Adds a segment whose second 0 is the instant `base`.
    fn add(&mut self, s: &Summary, base: i64) {
        let limit = u64::from(MAX_EXCLUSION_ITERATIONS);
        if s.taken == 0 {
            self.skipped = self.skipped.saturating_add(s.raw);
            self.ended = self.skipped >= limit;
            return;
        }
        if self.skipped.saturating_add(s.before_first) >= limit {
            self.ended = true;
            return;
        }
        let out = &mut self.out;
        out.count = out.count.saturating_add(s.taken);
        out.before_last = match s.before_last {
            Some(b) => Some(base + b),
            None => out.last,
        };
        out.last = Some(base + s.last);
        self.skipped = s.after_last;
    }
}

/// Counts segment by segment (see the module docs).
struct DayWalk<'a> {
    inner: &'a Inner,
    policy: Policy,
    raw: Box<[u64; WORDS]>,
    skip: Box<[u64; WORDS]>,
    memo: HashMap<Vec<u64>, Summary>,
    key: Vec<u64>,
}

/// The wall second of the first time of day a calendar matches, on any day it matches.
fn first_second(c: &Calendar) -> i64 {
    i64::from(c.hour.trailing_zeros()) * 3600
        + i64::from(c.minute.trailing_zeros()) * 60
        + i64::from(c.second.trailing_zeros())
}

/// Sets the calendar's seconds of the day (hour x minute x second) in `bits`.
fn set_times_of_day(bits: &mut [u64; WORDS], c: &Calendar) {
    for h in set_bits(u64::from(c.hour)) {
        for m in set_bits(c.minute) {
            let at = (h * 3600 + m * 60) as usize;
            let (w, sh) = (at / 64, at % 64);
            bits[w] |= c.second << sh;
            if sh > 4 {
                bits[w + 1] |= c.second >> (64 - sh);
            }
        }
    }
}

fn set_bits(mut mask: u64) -> impl Iterator<Item = u32> {
    std::iter::from_fn(move || {
        (mask != 0).then(|| {
            let b = mask.trailing_zeros();
            mask &= mask - 1;
            b
        })
    })
}

/// Bits `x..y` of word `w` as a mask.
fn range_mask(w: usize, x: usize, y: usize) -> u64 {
    let (lo, hi) = (w * 64, w * 64 + 64);
    if y <= lo || x >= hi {
        return 0;
    }
    let from = x.saturating_sub(lo);
    let to = (y - lo).min(64);
    (u64::MAX << from) & (u64::MAX >> (64 - to))
}

impl<'a> DayWalk<'a> {
    fn new(inner: &'a Inner) -> Self {
        DayWalk {
            inner,
            policy: Policy::of(inner),
            raw: Box::new([0; WORDS]),
            skip: Box::new([0; WORDS]),
            memo: HashMap::new(),
            key: Vec::new(),
        }
    }

    fn run(mut self, lo: i64, hi: i64) -> TimeCount {
        let inner = self.inner;
        let mut tally = Tally {
            out: TimeCount::default(),
            skipped: 0,
            ended: false,
        };
        let mut t = lo + 1;
        while t <= hi && !tally.ended {
            let stretch = inner.zone.stretch_around(t);
            let wall = t + stretch.offset;
            let day = wall.div_euclid(DAY);
            let base = t - wall.rem_euclid(DAY);
            let end = (base + DAY).min(stretch.end).min(hi + 1);
            let (x, y) = ((t - base) as usize, (end - base) as usize);
            let edits = self.policy.edits(inner, &stretch, t, day, (x, y));
            let any = self.key_of(day, base);
            // The instant after a gap is a time even when nothing matches its wall day.
            if !any && !edits.after_gap && inner.intervals.is_empty() {
                // Nothing matches this wall day: in a fixed zone, go straight to the next day
                // that a calendar matches (a zone with transitions may revisit earlier walls).
                t = match inner.zone {
                    Zone::Fixed(off) => match next_calendar_day(inner, day) {
                        Some(next) => end.max(next * DAY - i64::from(off)),
                        None => break,
                    },
                    Zone::Table(_) => end,
                };
                continue;
            }
            let whole = edits.is_empty()
                && x == 0
                && y == DAY as usize
                && inner
                    .intervals
                    .iter()
                    .all(|&(e, o)| o.saturating_add(e) <= base);
            let summary = if whole {
                match self.memo.get(&self.key[..]) {
                    Some(s) => *s,
                    None => {
                        let s = self.evaluate(day, base, x, y, edits);
                        if self.memo.len() >= MEMO_LIMIT {
                            self.memo.clear();
                        }
                        self.memo.insert(self.key.clone(), s);
                        s
                    }
                }
            } else {
                self.evaluate(day, base, x, y, edits)
            };
            tally.add(&summary, base);
            t = end;
        }
        tally.out
    }

    /// Fills `key` with what decides a whole day: the calendars and skip calendars that match
    /// wall day `day`, and each interval's phase against `base`. Returns whether a calendar
    /// matches.
    fn key_of(&mut self, day: i64, base: i64) -> bool {
        let inner = self.inner;
        self.key.clear();
        // Calendar searches never go past the wall year 2100 (skip calendars have no horizon).
        let calendars = push_matching(&mut self.key, &inner.calendars, day, day < WALL_HORIZON_DAY);
        push_matching(&mut self.key, &inner.skip, day, true);
        for &(every, offset) in inner.intervals.iter() {
            self.key.push((base - offset).rem_euclid(every) as u64);
        }
        calendars
    }

    /// Builds the segment's bitmaps (seconds `x..y` of wall day `day`, second 0 at instant
    /// `base`) with the policy's `edits`, and summarises them.
    fn evaluate(&mut self, day: i64, base: i64, x: usize, y: usize, edits: Edits) -> Summary {
        let inner = self.inner;
        self.raw.fill(0);
        self.skip.fill(0);
        let live = |c: &Calendar| day < WALL_HORIZON_DAY && c.matches(day * DAY + first_second(c));
        // With edits, the calendars the policy applies to go first: clearing the walls they
        // skip must leave the other calendars' times there.
        let apart = !edits.is_empty();
        if apart {
            edits.apply(inner, &mut self.raw, x, live);
        }
        for c in inner.calendars.iter() {
            if !(apart && edited(c)) && live(c) {
                set_times_of_day(&mut self.raw, c);
            }
        }
        for &(every, offset) in inner.intervals.iter() {
            let from = i128::from(base) + x as i128;
            let Some(first) = Prog::interval(every, offset).first_from(from) else {
                continue;
            };
            let mut at = first - i128::from(base);
            while at < y as i128 {
                let i = at as usize;
                self.raw[i / 64] |= 1 << (i % 64);
                at += i128::from(every);
            }
        }
        for c in inner.skip.iter() {
            if c.matches(day * DAY + first_second(c)) {
                set_times_of_day(&mut self.skip, c);
            }
        }
        self.summarise(x, y)
    }

    fn summarise(&self, x: usize, y: usize) -> Summary {
        let mut s = Summary::default();
        let mut first = false;
        let mut last_two: [Option<usize>; 2] = [None, None];
        for w in x / 64..y.div_ceil(64) {
            let mask = range_mask(w, x, y);
            let raw = self.raw[w] & mask;
            let taken = raw & !self.skip[w];
            s.raw += u64::from(raw.count_ones());
            s.taken += u64::from(taken.count_ones());
            if taken == 0 {
                continue;
            }
            if !first {
                first = true;
                let at = w * 64 + taken.trailing_zeros() as usize;
                s.before_first = self.raw_count(x, at);
            }
            let top = 63 - taken.leading_zeros() as usize;
            let below = taken & !(1u64 << top);
            last_two = if below != 0 {
                let next = 63 - below.leading_zeros() as usize;
                [Some(w * 64 + next), Some(w * 64 + top)]
            } else {
                [last_two[1], Some(w * 64 + top)]
            };
        }
        if let Some(last) = last_two[1] {
            s.last = last as i64;
            s.before_last = last_two[0].map(|b| b as i64);
            s.after_last = self.raw_count(last + 1, y);
        } else {
            s.before_first = s.raw;
        }
        s
    }

    /// Candidates among seconds `x..y`.
    fn raw_count(&self, x: usize, y: usize) -> u64 {
        if y <= x {
            return 0;
        }
        (x / 64..y.div_ceil(64))
            .map(|w| u64::from((self.raw[w] & range_mask(w, x, y)).count_ones()))
            .sum()
    }
}

/// Pushes one bit per calendar (set: it matches wall day `day`, and `live`), 64 to a word;
/// returns whether any matches.
fn push_matching(key: &mut Vec<u64>, calendars: &[Calendar], day: i64, live: bool) -> bool {
    let mut any = false;
    for chunk in calendars.chunks(64) {
        let mut word = 0u64;
        for (i, c) in chunk.iter().enumerate() {
            if live && c.matches(day * DAY + first_second(c)) {
                word |= 1 << i;
            }
        }
        any |= word != 0;
        key.push(word);
    }
    any
}

/// The first wall day after `day` that some calendar matches.
fn next_calendar_day(inner: &Inner, day: i64) -> Option<i64> {
    inner
        .calendars
        .iter()
        .filter_map(|c| c.next_after(day * DAY + DAY - 1))
        .min()
        .map(|w| w.div_euclid(DAY))
}

#[path = "count_dst.rs"]
mod policy;

#[cfg(test)]
#[path = "count_tests.rs"]
mod tests;
