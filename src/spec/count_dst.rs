//! What a spec's [`DstPolicy`](crate::DstPolicy) changes in the count's segments (`count`).
//!
//! The policies change a calendar's times only where the zone's offset changes, and only for
//! calendars that name their hours (those that fire every hour stay literal, as in `dst`):
//! - `RunAfterGap`: a stretch that begins with a jump forward has its first instant as a time
//!   when such a calendar matches a wall time the jump skipped. That instant is second `x` of
//!   the segment that starts the stretch, whatever wall day the skipped walls were on.
//! - `First`: in a stretch that begins with a jump back, such calendars do not fire at the wall
//!   times the jump repeats (`[start + offset, start + before)`). Those walls lie in the
//!   stretch's first segment and, when they cross wall midnight, in the next one(s).
//!
//! Invariant: [`Policy::edits`] is empty for every other segment (and for every segment in a
//! zone whose offset never changes), so those read their wall day literally and may share an
//! evaluation; a segment with edits is evaluated on its own.

use crate::spec::calendar::Calendar;
use crate::spec::civil::DAY;
use crate::spec::dst::fires_in_gap;
use crate::spec::zone::Stretch;
use crate::spec::{NonexistentTime, RepeatedTime};

use super::super::Inner;
use super::{range_mask, set_times_of_day, WORDS};

/// Which of the policies' changes can happen in a spec.
#[derive(Debug, Clone, Copy)]
pub(super) struct Policy {
    /// `RunAfterGap`, and some calendar names its hours.
    after_gap: bool,
    /// `First`, and some calendar names its hours.
    first: bool,
}

/// The policy's changes in one segment.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Edits {
    /// The segment's first second is a time (the instant after a gap).
    pub(super) after_gap: bool,
    /// Seconds `.0..(.1)` of the wall day where calendars that name their hours do not fire.
    pub(super) repeated: (usize, usize),
}

impl Edits {
    pub(super) fn is_empty(&self) -> bool {
        !self.after_gap && self.repeated.0 >= self.repeated.1
    }

    /// Sets in `raw` (a segment from second `x` of its wall day) the times of the calendars
    /// the policy applies to that are `live` that day, with these edits made.
    pub(super) fn apply(
        &self,
        inner: &Inner,
        raw: &mut [u64; WORDS],
        x: usize,
        live: impl Fn(&Calendar) -> bool,
    ) {
        for c in inner.calendars.iter().filter(|c| edited(c) && live(c)) {
            set_times_of_day(raw, c);
        }
        let (from, to) = self.repeated;
        let words = from / 64..to.div_ceil(64);
        for (word, w) in raw[words.clone()].iter_mut().zip(words) {
            *word &= !range_mask(w, from, to);
        }
        if self.after_gap {
            raw[x / 64] |= 1 << (x % 64);
        }
    }
}

/// Whether the policies apply to the calendar (see `dst`).
pub(super) fn edited(c: &Calendar) -> bool {
    !c.every_hour()
}

impl Policy {
    pub(super) fn of(inner: &Inner) -> Policy {
        let named = inner.calendars.iter().any(edited) && inner.zone.fixed_offset().is_none();
        Policy {
            after_gap: named && inner.dst.nonexistent == NonexistentTime::RunAfterGap,
            first: named && inner.dst.repeated == RepeatedTime::First,
        }
    }

    /// The changes in the segment of stretch `s` from instant `t` on: seconds `x..y` of wall
    /// day `day`.
    pub(super) fn edits(
        self,
        inner: &Inner,
        s: &Stretch,
        t: i64,
        day: i64,
        (x, y): (usize, usize),
    ) -> Edits {
        let mut out = Edits::default();
        if self.after_gap && s.start == t && s.offset > s.before {
            out.after_gap = inner
                .calendars
                .iter()
                .filter(|c| edited(c))
                .any(|c| fires_in_gap(c, s));
        }
        if self.first && s.before > s.offset {
            // The repeated walls, as seconds of this wall day, cut to the segment.
            let (x, y) = (x as i64, y as i64);
            let from = (s.start + s.offset - day * DAY).clamp(x, y);
            let to = (s.start + s.before - day * DAY).clamp(from, y);
            out.repeated = (from as usize, to as usize);
        }
        out
    }
}
