//! The engine's one hash of ids: a folded multiply over 16-byte blocks with a per-scheduler
//! random seed. It gives the 64-bit fingerprints of workflow ids (computed twice per fired
//! action, at the start and at the close: a third of farmhash's instructions on a 30-byte id)
//! and hashes the keys of the id maps (schedule ids, colliding workflow ids). Its users never
//! trust a fingerprint alone (see `workflows`), so its quality matters only for spreading keys
//! over a table; the random seed keeps colliding ids from being chosen in advance.

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
    /// The 64-bit fingerprint of an id under this state's seed.
    pub(crate) fn fingerprint(&self, id: &str) -> u64 {
        fold_hash(id.as_bytes(), self.seed)
    }
}

/// The folded-multiply hash of `bytes` under `seed`.
fn fold_hash(bytes: &[u8], seed: u64) -> u64 {
    let mut h = seed ^ (bytes.len() as u64).wrapping_mul(MIX_A);
    let mut blocks = bytes.chunks_exact(16);
    for b in &mut blocks {
        let (lo, hi) = b.split_at(8);
        h = fold(word(lo) ^ h, word(hi) ^ MIX_B);
    }
    let rest = blocks.remainder();
    if !rest.is_empty() {
        let (lo, hi) = tail_words(rest);
        h = fold(lo ^ h, hi ^ MIX_B);
    }
    fold(h, MIX_A)
}

/// Odd constants with well-spread bits (the fractional parts of the golden ratio and of pi).
const MIX_A: u64 = 0x9e37_79b9_7f4a_7c15;
const MIX_B: u64 = 0x243f_6a88_85a3_08d3;

/// The 128-bit product of `a` and `b`, its halves xor-ed: every input bit reaches many
/// output bits.
fn fold(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// Exactly 8 bytes as a little-endian word.
fn word(bytes: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(bytes);
    u64::from_le_bytes(w)
}

/// 1 to 15 bytes as two words, with overlapping reads instead of a padded copy. For a given
/// length every byte lands in a word at a fixed place, so different tails of one length give
/// different words (the length itself is mixed in by the caller).
fn tail_words(t: &[u8]) -> (u64, u64) {
    let n = t.len();
    if n >= 8 {
        (word(&t[..8]), word(&t[n - 8..]))
    } else if n >= 4 {
        let a = u32::from_le_bytes([t[0], t[1], t[2], t[3]]);
        let b = u32::from_le_bytes([t[n - 4], t[n - 3], t[n - 2], t[n - 1]]);
        (u64::from(a), u64::from(b))
    } else {
        // 1 to 3 bytes: first, middle and last (some the same byte).
        let v = u64::from(t[0]) | u64::from(t[n / 2]) << 8 | u64::from(t[n - 1]) << 16;
        (v, 0)
    }
}

impl BuildHasher for IdHashState {
    type Hasher = IdHasher;

    fn build_hasher(&self) -> IdHasher {
        IdHasher { state: self.seed }
    }
}

/// Chains [`fold_hash`] over the written bytes.
#[derive(Debug, Clone)]
pub(crate) struct IdHasher {
    state: u64,
}

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.state = fold_hash(bytes, self.state);
    }

    fn write_u8(&mut self, i: u8) {
        // `str` ends every key with 0xff; mixing one byte needs no full hash.
        self.state = (self.state ^ u64::from(i)).wrapping_mul(MIX_A);
    }

    fn finish(&self) -> u64 {
        self.state
    }
}

/// A map keyed by ids.
pub(crate) type IdMap<K, V> = std::collections::HashMap<K, V, IdHashState>;

/// Hashes a `u64` fingerprint as itself: it is already a seeded hash.
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
        self.state = (self.state ^ u64::from(i)).wrapping_mul(MIX_A);
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

    #[test]
    fn fingerprints_spread_and_differ() {
        // 200 000 workflow ids of one action id, one per second: no two share a fingerprint,
        // and the low bits (the table's bucket) and top bits (its tag) are evenly used.
        let s = IdHashState::default();
        let mut seen = std::collections::HashSet::new();
        let mut low = [0u32; 256];
        let mut top = [0u32; 128];
        for i in 0..200_000u32 {
            let f = s.fingerprint(&format!("wf-7-2022-06-{:02}T{:05}", i / 86_400, i % 86_400));
            assert!(seen.insert(f), "{i}");
            low[(f & 0xff) as usize] += 1;
            top[(f >> 57) as usize] += 1;
        }
        // Expected 781 and 1562 per bucket; a bad mix leaves buckets empty or doubled.
        assert!(low.iter().all(|&c| (600..1000).contains(&c)), "{low:?}");
        assert!(top.iter().all(|&c| (1300..1850).contains(&c)), "{top:?}");
        // Length is part of the key: a zero byte appended changes the fingerprint.
        assert_ne!(s.fingerprint("abc"), s.fingerprint("abc\0"));
        assert_ne!(s.fingerprint(""), s.fingerprint("\0"));
    }
}
