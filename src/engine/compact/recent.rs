//! The last [`RECENT_KEPT`] actions of a schedule: a fixed ring inside the schedule's entry,
//! oldest first. Inline rather than boxed: a fire writes it, and a box would be one more
//! unrelated place in memory (and one more allocation) per schedule.
//!
//! Invariant: `len <= RECENT_KEPT`; the oldest entry is at `head`, the newest at
//! `(head + len - 1) % RECENT_KEPT`.

/// One recent action, 24 bytes: its workflow id is rebuilt from the action id prefix and the
/// nominal time, so no string is kept per action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Recent {
    /// Nominal time (Unix seconds): the workflow id suffix.
    pub(crate) nominal_s: i64,
    /// When it started (millis).
    pub(crate) started_ms: i64,
    /// Actual (due) time minus nominal time, in millis (jitter, or the sub-second part of a
    /// trigger time).
    pub(crate) jitter_ms: u32,
    /// Workflow id prefix: 0 = the current action id, k = `Extra::old_prefixes[k - 1]`.
    pub(crate) prefix: u8,
    /// Where its run stands (it fits in the padding: still 24 bytes).
    pub(crate) status: WorkflowExecutionStatus,
}

impl Recent {
    /// The actual time it was due (millis).
    pub(crate) fn scheduled_ms(&self) -> i64 {
        self.nominal_s * 1000 + i64::from(self.jitter_ms)
    }
}

use super::prefetch::prefetch;
use crate::engine::action::WorkflowExecutionStatus;

/// How many recent actions are kept (describe shows 10, list 5).
pub(crate) const RECENT_KEPT: usize = 10;

/// The recent actions of one schedule (`head` and `len` first, next to the entry's hot fields).
#[derive(Debug, Clone)]
#[repr(C)]
pub(crate) struct RecentRing {
    head: u8,
    len: u8,
    items: [Recent; RECENT_KEPT],
}

const EMPTY: Recent = Recent {
    nominal_s: 0,
    started_ms: 0,
    jitter_ms: 0,
    prefix: 0,
    status: WorkflowExecutionStatus::Running,
};

impl Default for RecentRing {
    fn default() -> Self {
        RecentRing {
            items: [EMPTY; RECENT_KEPT],
            head: 0,
            len: 0,
        }
    }
}

impl RecentRing {
    /// Number of entries.
    pub(crate) fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Appends, dropping the oldest when full.
    pub(crate) fn push(&mut self, item: Recent) {
        let len = usize::from(self.len);
        let head = usize::from(self.head);
        if len < RECENT_KEPT {
            self.items[(head + len) % RECENT_KEPT] = item;
            self.len += 1;
        } else {
            self.items[head] = item;
            self.head = ((head + 1) % RECENT_KEPT) as u8;
        }
    }

    /// Bytes of the ring before its items (`head` and `len`).
    pub(crate) const HEAD_BYTES: usize = std::mem::offset_of!(RecentRing, items);

    /// Requests the line of the item the next push writes.
    pub(crate) fn prefetch_push(&self) {
        let (head, len) = (usize::from(self.head), usize::from(self.len));
        let i = if len < RECENT_KEPT { head + len } else { head };
        let i = if i >= RECENT_KEPT { i - RECENT_KEPT } else { i };
        if let Some(r) = self.items.get(i) {
            prefetch(r);
        }
    }

    /// The newest entry.
    pub(crate) fn back(&self) -> Option<&Recent> {
        let len = usize::from(self.len);
        (len > 0).then(|| &self.items[(usize::from(self.head) + len - 1) % RECENT_KEPT])
    }

    /// Entries, oldest first.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = &Recent> + '_ {
        let head = usize::from(self.head);
        (0..self.len()).map(move |i| &self.items[(head + i) % RECENT_KEPT])
    }

    /// The newest entry for which `pred` holds.
    pub(crate) fn find_newest_mut(
        &mut self,
        mut pred: impl FnMut(&Recent) -> bool,
    ) -> Option<&mut Recent> {
        let (head, len) = (usize::from(self.head), usize::from(self.len));
        // Newest first, wrapping at the end of the ring (no division: it is on the close path).
        let i = (head..head + len)
            .rev()
            .map(|k| if k >= RECENT_KEPT { k - RECENT_KEPT } else { k })
            .find(|&i| pred(&self.items[i]))?;
        Some(&mut self.items[i])
    }

    /// Entries in storage order (for updates that do not care about order).
    pub(crate) fn iter_mut_unordered(&mut self) -> impl Iterator<Item = &mut Recent> + '_ {
        let len = self.len();
        self.items[..len].iter_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(n: i64) -> Recent {
        Recent {
            nominal_s: n,
            ..EMPTY
        }
    }

    #[test]
    fn keeps_the_last_ten_oldest_first() {
        let mut r = RecentRing::default();
        assert_eq!(r.len(), 0);
        assert!(r.back().is_none());
        for n in 0..13 {
            r.push(at(n));
        }
        let got: Vec<i64> = r.iter().map(|x| x.nominal_s).collect();
        assert_eq!(got, (3..13).collect::<Vec<_>>());
        assert_eq!(r.back().map(|x| x.nominal_s), Some(12));
        assert_eq!(r.iter_mut_unordered().count(), 10);
        // Newest first: the last pushed of two matches is found.
        r.push(Recent {
            started_ms: 99,
            ..at(5)
        });
        let found = r.find_newest_mut(|x| x.nominal_s == 5 || x.nominal_s == 8);
        assert_eq!(found.map(|x| x.started_ms), Some(99));
        assert_eq!(r.iter().filter(|x| x.nominal_s == 5).count(), 2);
        assert!(
            r.find_newest_mut(|x| x.nominal_s == 3).is_none(),
            "3 was pushed out"
        );
        assert!(RecentRing::default().find_newest_mut(|_| true).is_none());
        assert_eq!(size_of::<Recent>(), 24);
    }
}
