//! The workflow map: which slot (schedule or standalone job) tracks each running workflow id.
//!
//! It is keyed by a 64-bit seeded fingerprint of the id rather than by the id itself, so a
//! fired action allocates no shared copy of its workflow id: a schedule's run keeps only its
//! nominal time and rebuilds the id from the action id when it needs it.
//!
//! Invariants:
//! - every tracked id is in exactly one of `by_fingerprint` (keyed by its fingerprint) or
//!   `collided` (keyed by the id spelled out);
//! - an id goes to `collided` only when its fingerprint is already taken by a different
//!   tracked id, so `collided` is empty unless two live ids ever shared a fingerprint;
//! - a fingerprint hit proves nothing by itself: lookups and inserts confirm it with the
//!   owning slot (`owns`), which holds the real id.

use super::hash::{FingerprintMap, IdHashState, IdMap};

/// Workflow id -> slot, by fingerprint.
#[derive(Debug, Default)]
pub(crate) struct WorkflowMap {
    state: IdHashState,
    by_fingerprint: FingerprintMap<u32>,
    collided: IdMap<Box<str>, u32>,
}

impl WorkflowMap {
    /// The fingerprint of `id` under this map's seed.
    pub(crate) fn fingerprint(&self, id: &str) -> u64 {
        self.state.fingerprint(id)
    }

    /// The slot tracking `id` (fingerprint `fp`); `owns(slot, id)` confirms a fingerprint hit.
    pub(crate) fn get(&self, id: &str, fp: u64, owns: impl Fn(u32, &str) -> bool) -> Option<u32> {
        if let Some(&slot) = self.by_fingerprint.get(&fp) {
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

    /// The slot holding fingerprint `fp` outside the collided ids, unconfirmed: the caller
    /// must check that it tracks the id.
    pub(crate) fn candidate(&self, fp: u64) -> Option<u32> {
        self.by_fingerprint.get(&fp).copied()
    }

    /// Tracks `id` (fingerprint `fp`) for `slot`; `false` if `id` is already tracked.
    pub(crate) fn insert(
        &mut self,
        id: &str,
        fp: u64,
        slot: u32,
        owns: impl Fn(u32, &str) -> bool,
    ) -> bool {
        if !self.collided.is_empty() && self.collided.contains_key(id) {
            return false;
        }
        match self.by_fingerprint.entry(fp) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(slot);
                true
            }
            std::collections::hash_map::Entry::Occupied(o) => {
                if owns(*o.get(), id) {
                    return false;
                }
                // Two live ids share a fingerprint: keep the newcomer by its full id.
                self.collided.insert(id.into(), slot);
                true
            }
        }
    }

    /// Stops tracking `id` (fingerprint `fp`), which the caller knows is tracked.
    pub(crate) fn remove_tracked(&mut self, id: &str, fp: u64) {
        if !self.collided.is_empty() && self.collided.remove(id).is_some() {
            return;
        }
        self.by_fingerprint.remove(&fp);
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
        assert!(m.insert("a", 7, 1, owns));
        assert!(m.insert("b", 7, 2, owns));
        assert!(!m.insert("a", 7, 1, owns));
        assert!(!m.insert("b", 7, 2, owns));
        assert_eq!(m.get("a", 7, owns), Some(1));
        assert_eq!(m.get("b", 7, owns), Some(2));
        assert_eq!(m.get("c", 7, owns), None);
        m.remove_tracked("a", 7);
        assert_eq!(m.get("a", 7, owns), None);
        assert_eq!(m.get("b", 7, owns), Some(2));
        // "b" is still tracked (in the collided part): no second copy.
        assert!(!m.insert("b", 7, 2, owns));
        m.remove_tracked("b", 7);
        assert_eq!(m.get("b", 7, owns), None);
        assert!(m.insert("b", 7, 2, owns));
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
}
