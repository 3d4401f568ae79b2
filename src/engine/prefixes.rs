//! Which schedules start workflows under each action id, so that a workflow id
//! `<action id>-<nominal time>` leads back to its run without a map entry per run: a fired
//! action then costs no insert and no removal in any map, and closing it costs one lookup of
//! the action id.
//!
//! Invariants:
//! - every live schedule is in exactly one chain: the one under the key of its action id
//!   (the low 32 bits of its fingerprint); `heads` holds the first slot of each chain,
//!   `ScheduleEntry::prefix_next` the next one ([`END`] at the end);
//! - a chain may also hold schedules of other action ids (their keys collide), so users
//!   compare the action ids;
//! - `ScheduleEntry::prefix_shared` is true exactly when its chain holds another schedule.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use super::hash::FingerprintHasher;
use super::state::{Entity, ScheduleEntry, Slot};

/// The end of a chain.
pub(crate) const END: u32 = u32::MAX;

/// Action id key -> first slot of its chain.
#[derive(Debug, Default)]
pub(crate) struct PrefixIndex {
    heads: HashMap<u32, u32, BuildHasherDefault<FingerprintHasher>>,
}

/// The key of an action id whose fingerprint is `fingerprint`.
pub(crate) fn key(fingerprint: u64) -> u32 {
    fingerprint as u32
}

fn entry(slots: &[Slot], slot: u32) -> Option<&ScheduleEntry> {
    match slots.get(slot as usize).map(|s| &s.entity) {
        Some(Entity::Schedule(e)) => Some(e),
        _ => None,
    }
}

fn entry_mut(slots: &mut [Slot], slot: u32) -> Option<&mut ScheduleEntry> {
    match slots.get_mut(slot as usize).map(|s| &mut s.entity) {
        Some(Entity::Schedule(e)) => Some(e),
        _ => None,
    }
}

impl PrefixIndex {
    /// The first slot under `key`, or [`END`].
    pub(crate) fn head(&self, key: u32) -> u32 {
        self.heads.get(&key).copied().unwrap_or(END)
    }

    /// The slots under `key`, in chain order. `slots` must hold every one of them (the
    /// schedule being processed is put back in its slot before anyone walks its chain, or
    /// the caller skips it).
    pub(crate) fn chain<'a>(&self, slots: &'a [Slot], key: u32) -> Chain<'a> {
        Chain {
            slots,
            next: self.head(key),
            taken: None,
        }
    }

    /// [`PrefixIndex::chain`] while the schedule of slot `slot` is taken out of `slots` (it
    /// is being processed): `entry` stands in for it.
    pub(crate) fn chain_with<'a>(
        &self,
        slots: &'a [Slot],
        key: u32,
        slot: u32,
        entry: &'a ScheduleEntry,
    ) -> Chain<'a> {
        Chain {
            slots,
            next: self.head(key),
            taken: Some((slot, entry)),
        }
    }

    /// Adds the schedule in `slot` (in `slots`) under `key`.
    pub(crate) fn link(&mut self, slots: &mut [Slot], slot: u32, key: u32) {
        let old = self.heads.insert(key, slot).unwrap_or(END);
        let shared = old != END;
        if let Some(e) = entry_mut(slots, slot) {
            e.prefix_next = old;
            e.prefix_shared = shared;
        }
        if shared {
            self.mark(slots, key, true);
        }
    }

    /// Takes the schedule in `slot` (still in `slots`) out of the chain under `key`.
    pub(crate) fn unlink(&mut self, slots: &mut [Slot], slot: u32, key: u32) {
        let next = entry(slots, slot).map_or(END, |e| e.prefix_next);
        let head = self.head(key);
        if head == slot {
            if next == END {
                self.heads.remove(&key);
            } else {
                self.heads.insert(key, next);
            }
        } else {
            let mut at = head;
            while at != END {
                let Some(e) = entry_mut(slots, at) else {
                    break;
                };
                if e.prefix_next == slot {
                    e.prefix_next = next;
                    break;
                }
                at = e.prefix_next;
            }
        }
        if let Some(e) = entry_mut(slots, slot) {
            e.prefix_next = END;
            e.prefix_shared = false;
        }
        // A chain left with one schedule is no longer shared.
        let first = self.head(key);
        if let Some(e) = entry_mut(slots, first) {
            if e.prefix_next == END {
                e.prefix_shared = false;
            }
        }
    }

    /// Sets `prefix_shared` on every schedule of the chain under `key`.
    fn mark(&self, slots: &mut [Slot], key: u32, shared: bool) {
        let mut at = self.head(key);
        while let Some(e) = entry_mut(slots, at) {
            e.prefix_shared = shared;
            at = e.prefix_next;
        }
    }
}

/// The schedules of a chain.
pub(crate) struct Chain<'a> {
    slots: &'a [Slot],
    next: u32,
    taken: Option<(u32, &'a ScheduleEntry)>,
}

impl<'a> Iterator for Chain<'a> {
    type Item = (u32, &'a ScheduleEntry);

    fn next(&mut self) -> Option<Self::Item> {
        let slot = self.next;
        let e = match self.taken {
            Some((s, e)) if s == slot => e,
            _ => entry(self.slots, slot)?,
        };
        self.next = e.prefix_next;
        Some((slot, e))
    }
}
