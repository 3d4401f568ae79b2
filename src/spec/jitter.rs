//! Temporal's deterministic jitter: farmhash `Fingerprint32` over Go's `MarshalBinary` bytes of
//! the nominal time followed by the seed, scaled into `[0, max)` milliseconds.
//!
//! Invariant: the delay is a pure function of (seed, nominal second, max) and is `< max` when
//! `max > 0` (0 otherwise). No heap allocation for seeds up to [`LONG_SEED`] bytes; longer
//! seeds use a per-thread buffer that only grows.

/// Seconds from 0001-01-01T00:00:00Z to the Unix epoch (Go's internal time base).
const GO_EPOCH_OFFSET: i64 = 62_135_596_800;
/// Longest seed hashed from the small stack buffer.
const INLINE_SEED: usize = 241;
/// Longest seed hashed from the large stack buffer: covers Temporal's 1000-byte ids (the
/// engine's seed is the schedule id).
const LONG_SEED: usize = 1024;

/// Go's `time.Time.MarshalBinary` of a whole-second UTC time (version 1, offset -1 = UTC).
pub(crate) fn marshal_binary(unix_seconds: i64) -> [u8; 15] {
    let mut out = [0u8; 15];
    out[0] = 1;
    out[1..9].copy_from_slice(&(unix_seconds.wrapping_add(GO_EPOCH_OFFSET)).to_be_bytes());
    // Bytes 9..13 are the nanoseconds, always 0 for a nominal time.
    out[13] = 0xff;
    out[14] = 0xff;
    out
}

/// The fingerprint Temporal hashes for a nominal time and seed.
pub(crate) fn fingerprint(unix_seconds: i64, seed: &[u8]) -> u32 {
    let head = marshal_binary(unix_seconds);
    if seed.len() <= INLINE_SEED {
        hash_on_stack::<{ 15 + INLINE_SEED }>(&head, seed)
    } else if seed.len() <= LONG_SEED {
        // A separate size, so the common short seeds do not pay for zeroing 1 KiB.
        hash_on_stack::<{ 15 + LONG_SEED }>(&head, seed)
    } else {
        // Longer than any id Temporal accepts: one buffer per thread, reserved once.
        thread_local! {
            static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        SCRATCH.with(|scratch| {
            let mut buf = scratch.borrow_mut();
            buf.clear();
            buf.reserve(head.len() + seed.len());
            buf.extend_from_slice(&head);
            buf.extend_from_slice(seed);
            farmhash::fingerprint32(&buf)
        })
    }
}

/// Hashes `head` then `seed` from a stack buffer of `N >= 15 + seed.len()` bytes.
#[inline]
fn hash_on_stack<const N: usize>(head: &[u8; 15], seed: &[u8]) -> u32 {
    let mut buf = [0u8; N];
    let len = head.len() + seed.len();
    buf[..15].copy_from_slice(head);
    buf[15..len].copy_from_slice(seed);
    farmhash::fingerprint32(&buf[..len])
}

/// The delay in milliseconds for `nominal` when the jitter may be at most `max_ms`.
pub(crate) fn delay_ms(unix_seconds: i64, seed: &[u8], max_ms: u64) -> u64 {
    let max_ms = max_ms.min(u64::from(u32::MAX));
    if max_ms == 0 {
        return 0;
    }
    (u64::from(fingerprint(unix_seconds, seed)) * max_ms) >> 32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2022-03-24T00:00:00Z.
    const T: i64 = 1_648_080_000;

    #[test]
    fn marshal_binary_matches_the_semantics_report() {
        let hex: String = marshal_binary(T)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(hex, "010000000ed9cdab8000000000ffff");
    }

    #[test]
    fn worked_values_of_section_5() {
        assert_eq!(fingerprint(T, b""), 2_534_360_270);
        assert_eq!(delay_ms(T, b"", 3_600_000), 2_124_276);
        // seed-1: 00:06:12.519, seed-2: 00:39:16.922.
        assert_eq!(delay_ms(T, b"seed-1", 3_600_000), 372_519);
        assert_eq!(delay_ms(T, b"seed-2", 3_600_000), 2_356_922);
    }

    #[test]
    fn long_seeds_hash_the_same_bytes() {
        // Each side of both buffer limits.
        for len in [241, 242, 500, 1000, 1024, 1025, 3000] {
            let seed = vec![b'x'; len];
            let mut bytes = marshal_binary(T).to_vec();
            bytes.extend_from_slice(&seed);
            assert_eq!(
                fingerprint(T, &seed),
                farmhash::fingerprint32(&bytes),
                "{len}"
            );
        }
    }
}
