//! A DST policy from two bits of fuzz input, shared by the targets.

use schedule_engine::{DstPolicy, NonexistentTime, RepeatedTime};

/// Bit 0: run after the gap (else skip); bit 1: the first of repeated times only (else both).
pub fn from_bits(bits: u8) -> DstPolicy {
    DstPolicy {
        nonexistent: if bits & 1 == 0 {
            NonexistentTime::Skip
        } else {
            NonexistentTime::RunAfterGap
        },
        repeated: if bits & 2 == 0 {
            RepeatedTime::Both
        } else {
            RepeatedTime::First
        },
    }
}
