//! The hasher of the engine's id maps (schedule ids, workflow ids): farmhash (already a
//! dependency for jitter) with a per-scheduler random seed. It is several times faster than
//! SipHash on ids of a few dozen bytes, which matters because every fired action inserts and
//! removes a workflow id; the random seed keeps colliding ids from being chosen in advance.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

/// Builds [`IdHasher`]s with one random seed.
#[derive(Debug, Clone)]
pub(crate) struct IdHashState {
    seed: u64,
}

impl Default for IdHashState {
    fn default() -> Self {
        IdHashState {
            seed: RandomState::new().hash_one(0x5eed_u64),
        }
    }
}

impl IdHashState {
    /// The 64-bit fingerprint of an id: farmhash with this state's seed.
    pub(crate) fn fingerprint(&self, id: &str) -> u64 {
        farmhash::hash64_with_seed(id.as_bytes(), self.seed)
    }
}

impl BuildHasher for IdHashState {
    type Hasher = IdHasher;

    fn build_hasher(&self) -> IdHasher {
        IdHasher { state: self.seed }
    }
}

/// Chains farmhash over the written bytes.
#[derive(Debug, Clone)]
pub(crate) struct IdHasher {
    state: u64,
}

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.state = farmhash::hash64_with_seed(bytes, self.state);
    }

    fn write_u8(&mut self, i: u8) {
        // `str` ends every key with 0xff; mixing one byte needs no full hash.
        self.state = (self.state ^ u64::from(i)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn finish(&self) -> u64 {
        self.state
    }
}

/// A map keyed by ids.
pub(crate) type IdMap<K, V> = std::collections::HashMap<K, V, IdHashState>;

/// Hashes a `u64` fingerprint as itself: it is already a seeded farmhash.
#[derive(Debug, Clone, Default)]
pub(crate) struct FingerprintHasher {
    state: u64,
}

impl Hasher for FingerprintHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used by `u64` keys; anything else still hashes correctly.
        for &b in bytes {
            self.write_u8(b);
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.state = (self.state ^ u64::from(i)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn write_u64(&mut self, i: u64) {
        self.state = i;
    }

    fn finish(&self) -> u64 {
        self.state
    }
}

/// A map keyed by fingerprints.
pub(crate) type FingerprintMap<V> =
    std::collections::HashMap<u64, V, std::hash::BuildHasherDefault<FingerprintHasher>>;

#[cfg(test)]
mod tests {
    use super::*;
    fn h(s: &IdHashState, v: &str) -> u64 {
        s.hash_one(v)
    }

    #[test]
    fn equal_keys_hash_equal_and_different_keys_differ() {
        let s = IdHashState::default();
        assert_eq!(
            h(&s, "myid-2022-06-01T00:05:00Z"),
            h(&s, "myid-2022-06-01T00:05:00Z")
        );
        assert_ne!(
            h(&s, "myid-2022-06-01T00:05:00Z"),
            h(&s, "myid-2022-06-01T00:10:00Z")
        );
        let mut m: IdMap<String, u32> = IdMap::default();
        for i in 0..1000 {
            m.insert(format!("k{i}"), i);
        }
        assert_eq!(m.get("k999"), Some(&999));
    }
}
