//! The wake-up heap: a min-heap of `(due millis, slot, generation)` with lazy invalidation.
//!
//! Invariants:
//! - An entity (schedule or standalone workflow) in slot `s` has at most one *live* entry: the
//!   one whose generation equals the slot's current generation. Its key is the entity's wake
//!   time. Every other entry for `s` is stale and is dropped when it reaches the top.
//! - Rescheduling bumps the slot's generation and pushes one entry; rescheduling to the time of
//!   the live entry pushes nothing.
//! - The owner ([`Scheduler`](super::Scheduler)) pops stale entries off the top after every
//!   mutation, so `peek` is exact for `next_wakeup`.
//! - When stale entries outnumber live ones by far, the heap is rebuilt from the live ones.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// No wake-up.
pub(crate) const NEVER: i64 = i64::MAX;

/// One heap entry: due time (Unix millis), slot, generation.
pub(crate) type WakeEntry = (i64, u32, u32);

/// Min-heap of wake-ups.
#[derive(Debug, Default)]
pub(crate) struct WakeHeap {
    heap: BinaryHeap<Reverse<WakeEntry>>,
}

impl WakeHeap {
    /// Adds an entry.
    pub(crate) fn push(&mut self, due: i64, slot: u32, generation: u32) {
        self.heap.push(Reverse((due, slot, generation)));
    }

    /// The earliest entry.
    pub(crate) fn peek(&self) -> Option<WakeEntry> {
        self.heap.peek().map(|r| r.0)
    }

    /// Removes the earliest entry.
    pub(crate) fn pop(&mut self) -> Option<WakeEntry> {
        self.heap.pop().map(|r| r.0)
    }

    /// Number of entries, stale included.
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }

    /// Keeps only the entries `live` accepts (a rebuild in linear time).
    pub(crate) fn retain(&mut self, mut live: impl FnMut(WakeEntry) -> bool) {
        self.heap.retain(|r| live(r.0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_due_order() {
        let mut h = WakeHeap::default();
        h.push(30, 1, 0);
        h.push(10, 2, 0);
        h.push(20, 3, 0);
        assert_eq!(h.peek(), Some((10, 2, 0)));
        assert_eq!(h.pop(), Some((10, 2, 0)));
        assert_eq!(h.pop(), Some((20, 3, 0)));
        h.retain(|e| e.1 != 1);
        assert_eq!(h.len(), 0);
    }
}
