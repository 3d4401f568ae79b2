//! The wake-up queue: a min-queue of `(due millis, slot, generation)` with lazy invalidation.
//!
//! It pops in the order of a binary min-heap of those triples, but keeps them in two forms. A
//! poll reschedules every schedule it fired, often thousands at once; those pushes arrive
//! together (`push`, then `flush`), are sorted once and kept as one *run*, a sorted `Vec` whose
//! earliest entry is popped from its end. The queue pops the least of the runs' heads (a small
//! heap of heads) and of a binary heap holding the pushes that came alone (creates, updates,
//! pauses). A fire then reads its wake-up from a sequential array rather than sifting through a
//! heap of a million entries, whose every level is a cache miss at that size.
//!
//! Invariants:
//! - An entity (schedule or standalone workflow) in slot `s` has at most one *live* entry: the
//!   one whose generation equals the slot's current generation. Its key is the entity's wake
//!   time. Every other entry for `s` is stale and is dropped when it reaches the top.
//! - Rescheduling bumps the slot's generation and pushes one entry; rescheduling to the time of
//!   the live entry pushes nothing.
//! - The owner ([`Scheduler`](super::Scheduler)) pops stale entries off the top after every
//!   mutation, so `peek` is exact for `next_wakeup`; it flushes the pushes first.
//! - Every run is sorted in descending order and not empty; `heads` holds exactly one entry per
//!   run, its last (least) element; `len` counts the entries of the heap, the runs and `pending`.
//! - When stale entries outnumber live ones by far, the queue is rebuilt from the live ones.

use std::cmp::Reverse;
use std::collections::binary_heap::PeekMut;
use std::collections::BinaryHeap;

/// No wake-up.
pub(crate) const NEVER: i64 = i64::MAX;

/// One entry: due time (Unix millis), slot, generation.
pub(crate) type WakeEntry = (i64, u32, u32);

/// Pushes of one flush that become a run; fewer go to the heap one by one (a run costs an
/// allocation and a head, which only pays when it holds many entries).
const RUN_MIN: usize = 64;

/// Emptied runs kept for reuse, so a steady poll loop allocates none.
const SPARE_RUNS: usize = 4;

/// Min-queue of wake-ups.
#[derive(Debug, Default)]
pub(crate) struct WakeHeap {
    /// Entries pushed in small batches.
    heap: BinaryHeap<Reverse<WakeEntry>>,
    /// Sorted runs by id (descending: the earliest entry last); an empty `Vec` is a free id.
    runs: Vec<Vec<WakeEntry>>,
    free_runs: Vec<u32>,
    /// `(least entry, run id)` of every run.
    heads: BinaryHeap<Reverse<(WakeEntry, u32)>>,
    /// Pushed since the last `flush`.
    pending: Vec<WakeEntry>,
    /// Emptied run buffers, kept for the next runs.
    spare: Vec<Vec<WakeEntry>>,
    len: usize,
}

impl WakeHeap {
    /// Adds an entry; it is ordered at the next `flush` (or `pop`).
    pub(crate) fn push(&mut self, due: i64, slot: u32, generation: u32) {
        self.pending.push((due, slot, generation));
        self.len += 1;
    }

    /// Orders the entries pushed since the last flush: many become a run, few go to the heap.
    pub(crate) fn flush(&mut self) {
        if self.pending.len() < RUN_MIN {
            for e in self.pending.drain(..) {
                self.heap.push(Reverse(e));
            }
            return;
        }
        let next = self.spare.pop().unwrap_or_default();
        let mut run = std::mem::replace(&mut self.pending, next);
        run.sort_unstable_by(|a, b| b.cmp(a));
        if run.capacity() > run.len() + run.len() / 8 {
            // A batch that outgrew its buffer doubled it: a run lives as long as the
            // schedules' period, so its slack would count against every schedule.
            run.shrink_to_fit();
        }
        let head = *run.last().expect("invariant: a run is not empty");
        let id = match self.free_runs.pop() {
            Some(id) => {
                self.runs[id as usize] = run;
                id
            }
            None => {
                self.runs.push(run);
                u32::try_from(self.runs.len() - 1).expect("invariant: runs fewer than slots")
            }
        };
        self.heads.push(Reverse((head, id)));
    }

    /// The earliest entry.
    pub(crate) fn peek(&self) -> Option<WakeEntry> {
        let ordered = match (self.heap.peek(), self.heads.peek()) {
            (Some(h), Some(r)) => Some(h.0.min(r.0 .0)),
            (h, r) => h.map(|h| h.0).or(r.map(|r| r.0 .0)),
        };
        // The owner flushes after every mutation; this keeps `peek` exact if it did not.
        match self.pending.iter().min() {
            Some(&p) => Some(ordered.map_or(p, |o| o.min(p))),
            None => ordered,
        }
    }

    /// Removes the earliest entry.
    #[cfg(test)]
    pub(crate) fn pop(&mut self) -> Option<WakeEntry> {
        self.pop_if(|_| true)
    }

    /// Removes the earliest entry if `take` accepts it (one look at the top, where `peek` then
    /// `pop` would take two).
    pub(crate) fn pop_if(&mut self, take: impl FnOnce(WakeEntry) -> bool) -> Option<WakeEntry> {
        if !self.pending.is_empty() {
            self.flush();
        }
        let (least, from_runs) = match (self.heap.peek(), self.heads.peek()) {
            (None, None) => return None,
            (Some(h), None) => (h.0, false),
            (None, Some(r)) => (r.0 .0, true),
            (Some(h), Some(r)) if r.0 .0 < h.0 => (r.0 .0, true),
            (Some(h), Some(_)) => (h.0, false),
        };
        if !take(least) {
            return None;
        }
        let e = if from_runs {
            self.pop_run()
        } else {
            let e = self.heap.pop().map(|r| r.0);
            if self.heap.capacity() > 4 * self.heap.len() + 1024 {
                // The entries of the creates have moved to runs as the schedules fired: give
                // their room back (amortized: the length halves between two shrinks).
                self.heap.shrink_to(2 * self.heap.len());
            }
            e
        };
        if e.is_some() {
            self.len -= 1;
        }
        e
    }

    /// Pops the least head's entry and moves its run's head on.
    fn pop_run(&mut self) -> Option<WakeEntry> {
        let mut head = self.heads.peek_mut()?;
        let id = head.0 .1;
        let run = &mut self.runs[id as usize];
        let e = run.pop();
        match run.last() {
            Some(&next) => head.0 .0 = next,
            None => {
                PeekMut::pop(head);
                let emptied = std::mem::take(run);
                if self.spare.len() < SPARE_RUNS {
                    self.spare.push(emptied);
                }
                self.free_runs.push(id);
            }
        }
        e
    }

    /// Number of entries, stale included.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Keeps only the entries `live` accepts (a rebuild in linear time).
    pub(crate) fn retain(&mut self, mut live: impl FnMut(WakeEntry) -> bool) {
        self.heap.retain(|r| live(r.0));
        self.pending.retain(|&e| live(e));
        self.heads.clear();
        self.free_runs.clear();
        for (id, run) in self.runs.iter_mut().enumerate() {
            run.retain(|&e| live(e));
            match run.last() {
                Some(&head) => self.heads.push(Reverse((
                    head,
                    u32::try_from(id).expect("invariant: runs fewer than slots"),
                ))),
                None => {
                    *run = Vec::new();
                    self.free_runs.push(id as u32);
                }
            }
        }
        self.len =
            self.heap.len() + self.pending.len() + self.runs.iter().map(Vec::len).sum::<usize>();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn pops_in_due_order() {
        let mut h = WakeHeap::default();
        h.push(30, 1, 0);
        h.push(10, 2, 0);
        h.push(20, 3, 0);
        assert_eq!(h.peek(), Some((10, 2, 0)));
        h.flush();
        assert_eq!(h.peek(), Some((10, 2, 0)));
        assert_eq!(h.pop(), Some((10, 2, 0)));
        assert_eq!(h.pop(), Some((20, 3, 0)));
        h.retain(|e| e.1 != 1);
        assert_eq!(h.len(), 0);
        assert_eq!(h.pop(), None);
    }

    #[derive(Debug, Clone)]
    enum Op {
        /// Push these entries, then flush or not (`pop` flushes; `peek` must see them
        /// anyway): large batches become runs.
        Push(Vec<(i64, u32, u32)>, bool),
        Pop(u8),
        /// Pop while the earliest is due before this.
        PopBefore(i64),
        Retain(u32),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (
                prop::collection::vec((0i64..100, 0u32..50, 0u32..4), 0..200),
                any::<bool>()
            )
                .prop_map(|(batch, flush)| Op::Push(batch, flush)),
            any::<u8>().prop_map(Op::Pop),
            (0i64..100).prop_map(Op::PopBefore),
            (2u32..5).prop_map(Op::Retain),
        ]
    }

    proptest! {
        /// The queue pops exactly what `std`'s binary heap of the same triples pops, in the same
        /// order, whatever mix of batch sizes, pops and rebuilds.
        #[test]
        fn pops_what_a_binary_heap_pops(ops in prop::collection::vec(op(), 1..40)) {
            let mut q = WakeHeap::default();
            let mut oracle: BinaryHeap<Reverse<WakeEntry>> = BinaryHeap::new();
            for op in ops {
                match op {
                    Op::Push(batch, flush) => {
                        for (due, slot, generation) in batch {
                            q.push(due, slot, generation);
                            oracle.push(Reverse((due, slot, generation)));
                        }
                        if flush {
                            q.flush();
                        }
                    }
                    Op::Pop(n) => {
                        for _ in 0..n {
                            prop_assert_eq!(q.peek(), oracle.peek().map(|r| r.0));
                            prop_assert_eq!(q.pop(), oracle.pop().map(|r| r.0));
                        }
                    }
                    Op::PopBefore(limit) => loop {
                        let want = oracle.peek().map(|r| r.0).filter(|e| e.0 < limit);
                        prop_assert_eq!(q.pop_if(|e| e.0 < limit), want);
                        if want.is_none() {
                            break;
                        }
                        oracle.pop();
                    },
                    Op::Retain(m) => {
                        q.retain(|e| e.1 % m != 0);
                        oracle.retain(|r| r.0 .1 % m != 0);
                    }
                }
                prop_assert_eq!(q.len(), oracle.len());
            }
            while let Some(r) = oracle.pop() {
                prop_assert_eq!(q.pop(), Some(r.0));
            }
            prop_assert_eq!(q.pop(), None);
        }
    }
}
