//! The last [`RECENT_KEPT`] actions of a schedule: a fixed ring allocated on the first action
//! (8 bytes until then), oldest first.
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

use crate::engine::action::WorkflowExecutionStatus;

/// How many recent actions are kept (describe shows 10, list 5).
pub(crate) const RECENT_KEPT: usize = 10;

#[derive(Debug, Clone)]
struct Ring {
    items: [Recent; RECENT_KEPT],
    head: u8,
    len: u8,
}

/// The recent actions of one schedule.
#[derive(Debug, Clone, Default)]
pub(crate) struct RecentRing(Option<Box<Ring>>);

const EMPTY: Recent = Recent {
    nominal_s: 0,
    started_ms: 0,
    jitter_ms: 0,
    prefix: 0,
    status: WorkflowExecutionStatus::Running,
};

impl RecentRing {
    /// Number of entries.
    pub(crate) fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |r| usize::from(r.len))
    }

    /// Appends, dropping the oldest when full.
    pub(crate) fn push(&mut self, item: Recent) {
        let r = self.0.get_or_insert_with(|| {
            Box::new(Ring {
                items: [EMPTY; RECENT_KEPT],
                head: 0,
                len: 0,
            })
        });
        let len = usize::from(r.len);
        let head = usize::from(r.head);
        if len < RECENT_KEPT {
            r.items[(head + len) % RECENT_KEPT] = item;
            r.len += 1;
        } else {
            r.items[head] = item;
            r.head = ((head + 1) % RECENT_KEPT) as u8;
        }
    }

    /// The newest entry.
    pub(crate) fn back(&self) -> Option<&Recent> {
        let r = self.0.as_ref()?;
        let len = usize::from(r.len);
        (len > 0).then(|| &r.items[(usize::from(r.head) + len - 1) % RECENT_KEPT])
    }

    /// Entries, oldest first.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = &Recent> + '_ {
        let (items, head, len) = match &self.0 {
            Some(r) => (&r.items[..], usize::from(r.head), usize::from(r.len)),
            None => (&[][..], 0, 0),
        };
        (0..len).map(move |i| &items[(head + i) % RECENT_KEPT])
    }

    /// The newest entry for which `pred` holds.
    pub(crate) fn find_newest_mut(
        &mut self,
        mut pred: impl FnMut(&Recent) -> bool,
    ) -> Option<&mut Recent> {
        let r = self.0.as_mut()?;
        let (head, len) = (usize::from(r.head), usize::from(r.len));
        // Newest first, wrapping at the end of the ring (no division: it is on the close path).
        let i = (head..head + len)
            .rev()
            .map(|k| if k >= RECENT_KEPT { k - RECENT_KEPT } else { k })
            .find(|&i| pred(&r.items[i]))?;
        Some(&mut r.items[i])
    }

    /// Entries in storage order (for updates that do not care about order).
    pub(crate) fn iter_mut_unordered(&mut self) -> impl Iterator<Item = &mut Recent> + '_ {
        let len = self.len();
        self.0
            .as_mut()
            .map(|r| &mut r.items[..len])
            .into_iter()
            .flatten()
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
