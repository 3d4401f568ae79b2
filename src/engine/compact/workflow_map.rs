//! The workflow map: which slot (schedule or standalone job) tracks each running workflow id.
//!
//! It is keyed by a 64-bit seeded fingerprint of the id rather than by the id itself, so a
//! fired action allocates no shared copy of its workflow id: a schedule's run keeps only its
//! nominal time and rebuilds the id from the action id when it needs it.
//!
//! Invariants:
//! - every tracked id is in exactly one of `front` (at its fingerprint's place), `by_fingerprint`
//!   (keyed by its fingerprint) or `collided` (keyed by the id spelled out);
//! - a fingerprint is in `front` or in `by_fingerprint`, never in both;
//! - an id goes to `collided` only when its fingerprint is already taken by a different
//!   tracked id, so `collided` is empty unless two live ids ever shared a fingerprint;
//! - a fingerprint hit proves nothing by itself: lookups and inserts confirm it with the
//!   owning slot (`owns`), which holds the real id.
//!
//! Beside each slot the map keeps an address its owner gave (`near`, the schedule's entry),
//! which a close uses to request the entry's memory while it reads the slot that leads there:
//! two cache misses that would follow each other overlap instead. The map never reads
//! through it, so a stale one costs a wasted request and nothing else.
//!
//! `front` is a small direct-mapped table in front of the hash map: most runs close before
//! many others start, so a run's fingerprint usually finds its place free, and tracking it,
//! finding it and dropping it are one array access each, with no probing and nothing to
//! rehash. Runs whose place is taken go to `by_fingerprint`.

use super::id_hash::{FingerprintMap, IdHashState, IdMap};

/// Places in `front` (a power of two): 16 KiB.
const FRONT: usize = 1024;

/// A free place in `front`.
const VACANT: u32 = u32::MAX;

/// Workflow id -> slot, by fingerprint.
#[derive(Debug)]
pub(crate) struct WorkflowMap {
    state: IdHashState,
    /// `(fingerprint, slot, near)`, slot [`VACANT`] when free; a fingerprint `f` lives at
    /// `f % FRONT`.
    front: Box<[(u64, u32, usize)]>,
    by_fingerprint: FingerprintMap<(u32, usize)>,
    collided: IdMap<Box<str>, u32>,
}

impl Default for WorkflowMap {
    fn default() -> Self {
        WorkflowMap {
            state: IdHashState::default(),
            front: vec![(0, VACANT, 0); FRONT].into_boxed_slice(),
            // Room for a few runs whose place in `front` is taken, made at once: otherwise the
            // first such run, whenever its fingerprint happens to land on a taken place, would
            // allocate in the middle of a poll (tests/alloc counts a poll's allocations).
            by_fingerprint: FingerprintMap::with_capacity_and_hasher(16, Default::default()),
            collided: IdMap::default(),
        }
    }
}

/// The place of fingerprint `fp` in `front`.
fn place(fp: u64) -> usize {
    (fp % FRONT as u64) as usize
}

impl WorkflowMap {
    /// The fingerprint of `id` under this map's seed.
    pub(crate) fn fingerprint(&self, id: &str) -> u64 {
        self.state.fingerprint(id)
    }

    /// The slot holding fingerprint `fp` (in `front` or `by_fingerprint`) and the address
    /// given with it (see [`WorkflowMap::insert`]), unconfirmed: the caller must check that it
    /// tracks the id.
    pub(crate) fn candidate(&self, fp: u64) -> Option<(u32, usize)> {
        match self.front.get(place(fp)) {
            Some(&(f, slot, near)) if slot != VACANT && f == fp => Some((slot, near)),
            _ if self.by_fingerprint.is_empty() => None,
            _ => self.by_fingerprint.get(&fp).copied(),
        }
    }

    /// The slot tracking `id` (fingerprint `fp`); `owns(slot, id)` confirms a fingerprint hit.
    pub(crate) fn get(&self, id: &str, fp: u64, owns: impl Fn(u32, &str) -> bool) -> Option<u32> {
        if let Some((slot, _)) = self.candidate(fp) {
            if owns(slot, id) {
                return Some(slot);
            }
        }
        if self.collided.is_empty() {
            None
        } else {
            self.collided.get(id).copied()
        }
    }

    /// Tracks `id` (fingerprint `fp`) for `slot`; `false` if `id` is already tracked. `near`
    /// is an address that [`WorkflowMap::candidate`] hands back with the slot, for the caller
    /// to request the slot's memory before it reads the slot (0: none); it is never read
    /// through, so it may go stale.
    pub(crate) fn insert(
        &mut self,
        id: &str,
        fp: u64,
        slot: u32,
        near: usize,
        owns: impl Fn(u32, &str) -> bool,
    ) -> bool {
        if !self.collided.is_empty() && self.collided.contains_key(id) {
            return false;
        }
        if let Some((other, _)) = self.candidate(fp) {
            if owns(other, id) {
                return false;
            }
            // Two live ids share a fingerprint: keep the newcomer by its full id.
            self.collided.insert(id.into(), slot);
            return true;
        }
        match self.front.get_mut(place(fp)) {
            Some(free) if free.1 == VACANT => *free = (fp, slot, near),
            _ => {
                self.by_fingerprint.insert(fp, (slot, near));
            }
        }
        true
    }

    /// Stops tracking `id` (fingerprint `fp`), which the caller knows its slot tracks: the
    /// entry is dropped whichever slot holds it.
    pub(crate) fn remove_tracked(&mut self, id: &str, fp: u64) {
        if !self.collided.is_empty() && self.collided.remove(id).is_some() {
            return;
        }
        match self.front.get_mut(place(fp)) {
            Some(held) if held.1 != VACANT && held.0 == fp => *held = (0, VACANT, 0),
            _ => {
                self.by_fingerprint.remove(&fp);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colliding_fingerprints_keep_both_ids_apart() {
        // Force a collision: both ids under the same fingerprint, slots 1 and 2 own them.
        let owns = |slot: u32, id: &str| matches!((slot, id), (1, "a") | (2, "b"));
        let mut m = WorkflowMap::default();
        assert!(m.insert("a", 7, 1, 0, owns));
        assert!(m.insert("b", 7, 2, 0, owns));
        assert!(!m.insert("a", 7, 1, 0, owns));
        assert!(!m.insert("b", 7, 2, 0, owns));
        assert_eq!(m.get("a", 7, owns), Some(1));
        assert_eq!(m.get("b", 7, owns), Some(2));
        assert_eq!(m.get("c", 7, owns), None);
        m.remove_tracked("a", 7);
        assert_eq!(m.get("a", 7, owns), None);
        assert_eq!(m.get("b", 7, owns), Some(2));
        // "b" is still tracked (in the collided part): no second copy.
        assert!(!m.insert("b", 7, 2, 0, owns));
        m.remove_tracked("b", 7);
        assert_eq!(m.get("b", 7, owns), None);
        assert!(m.insert("b", 7, 2, 0, owns));
        assert_eq!(m.get("b", 7, owns), Some(2));
    }

    #[test]
    fn fingerprints_are_stable_per_map() {
        let m = WorkflowMap::default();
        assert_eq!(
            m.fingerprint("x-2022-06-01T00:00:00Z"),
            m.fingerprint("x-2022-06-01T00:00:00Z")
        );
        assert_ne!(
            m.fingerprint("x-2022-06-01T00:00:00Z"),
            m.fingerprint("x-2022-06-01T00:00:01Z")
        );
    }

    #[test]
    fn fingerprints_sharing_a_front_place_overflow_into_the_map() {
        // Three ids whose fingerprints share one place of `front` (and a fourth that collides
        // in full with the first): all tracked, found and dropped independently.
        let owns =
            |slot: u32, id: &str| matches!((slot, id), (1, "a") | (2, "b") | (3, "c") | (4, "d"));
        let f = |k: u64| 5 + k * FRONT as u64;
        let mut m = WorkflowMap::default();
        assert!(m.insert("a", f(0), 1, 0, owns));
        assert!(m.insert("b", f(1), 2, 0, owns));
        assert!(m.insert("c", f(2), 3, 0, owns));
        assert!(m.insert("d", f(0), 4, 0, owns));
        for (id, fp, slot) in [
            ("a", f(0), 1),
            ("b", f(1), 2),
            ("c", f(2), 3),
            ("d", f(0), 4),
        ] {
            assert!(!m.insert(id, fp, slot, 0, owns), "{id} twice");
            assert_eq!(m.get(id, fp, owns), Some(slot), "{id}");
        }
        // Dropping the one in front frees its place; the others stay where they are.
        m.remove_tracked("a", f(0));
        assert_eq!(m.get("a", f(0), owns), None);
        assert_eq!(m.get("b", f(1), owns), Some(2));
        assert_eq!(m.get("d", f(0), owns), Some(4));
        m.remove_tracked("b", f(1));
        m.remove_tracked("c", f(2));
        m.remove_tracked("d", f(0));
        for (id, fp) in [("a", f(0)), ("b", f(1)), ("c", f(2)), ("d", f(0))] {
            assert_eq!(m.get(id, fp, owns), None, "{id}");
        }
        assert!(m.by_fingerprint.is_empty() && m.collided.is_empty());
        assert!(m.front.iter().all(|e| e.1 == VACANT));
        // And the place is usable again.
        assert!(m.insert("c", f(2), 3, 0, owns));
        assert_eq!(m.get("c", f(2), owns), Some(3));
    }
}
