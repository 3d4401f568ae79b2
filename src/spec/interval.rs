//! Temporal's interval arithmetic: times `offset + n * every` in whole seconds, found with
//! Go's truncating division exactly as the server does, and intervals counted from an anchor
//! other than the epoch.
//!
//! Invariant: with the epoch as anchor, offsets are untouched, so Temporal's answers (its
//! one-interval-late quirk in 1970 included) are kept bit for bit.

/// The offset from the epoch of an interval counted from `anchor` (whole seconds); the offset
/// itself when the anchor is the epoch, so Temporal's arithmetic is untouched.
pub(crate) fn anchored_offset(anchor: i64, every: i64, offset: i64) -> i64 {
    if anchor == 0 || every <= 0 {
        return offset;
    }
    let phase = (i128::from(anchor) + i128::from(offset)).rem_euclid(i128::from(every));
    // The remainder is below `every`, an i64.
    i64::try_from(phase).unwrap_or(offset)
}

/// The first `offset + n * every` strictly after `ts` (Go's truncating division, as Temporal).
#[inline]
pub(crate) fn interval_next(ts: i64, every: i64, offset: i64) -> i64 {
    // In i64 when nothing overflows (always, for times of this era): a 128-bit division is a
    // library call and costs more than the rest of an interval search.
    let fast = ts
        .checked_sub(offset)
        .and_then(|d| d.checked_div(every))
        .and_then(|q| q.checked_add(1))
        .and_then(|q| q.checked_mul(every))
        .and_then(|n| n.checked_add(offset));
    match fast {
        Some(next) => next,
        None => interval_next_wide(ts, every, offset),
    }
}

/// [`interval_next`] in 128 bits, for times near the ends of `i64`.
#[cold]
#[inline(never)]
pub(crate) fn interval_next_wide(ts: i64, every: i64, offset: i64) -> i64 {
    let (ts, every, offset) = (i128::from(ts), i128::from(every), i128::from(offset));
    let next = ((ts - offset) / every + 1) * every + offset;
    i64::try_from(next).unwrap_or(i64::MAX)
}
