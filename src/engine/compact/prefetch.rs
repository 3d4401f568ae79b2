//! A prefetch hint: the crate's one use of `unsafe`, allowed here alone because a benchmark
//! showed the need.
//!
//! With a million schedules due in random order, the fire path spends most of its time waiting
//! for memory: a fire reads its slot, then its entry, then the strings the entry points to,
//! each a cache miss that depends on the one before, and a close reads the workflow map, then
//! the slot, then the entry. `poll` knows which slots come next, so it requests their memory a
//! few fires ahead (see `SlotTable::poll`); the workflow map keeps each run's entry address
//! beside its slot, so a close requests the entry while it reads the slot (see
//! `SlotTable::workflow_closed`). Plain loads cannot do the first: the CPU retires
//! instructions in order, so a load that misses holds up everything after it, and the same
//! read-ahead written with loads made the fire loop slower than none at all (BENCHMARKS.md,
//! section "Engine", "Why a prefetch and not a load": 2.78x the heap floor against 2.615x
//! without read-ahead and 2.33x with this hint). A prefetch retires at once, and the stable
//! way to issue one is the `_mm_prefetch` intrinsic, which Rust marks `unsafe` (as it does
//! every function that needs a target feature).
//!
//! Invariant: nothing here reads or writes memory as far as the program can tell: a prefetch
//! only warms the cache, whatever the address.

/// Asks the CPU to bring the cache line holding `p` into its caches, without waiting for it.
/// Any address will do (a prefetch never faults), so callers compute them with
/// `wrapping_add` and need not check them. A no-op off x86-64.
#[inline(always)]
#[allow(unsafe_code)]
pub(crate) fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the intrinsic is `unsafe` only because it needs the `sse` target feature, which
    // every x86-64 CPU has (it is in the x86-64 baseline the compiler targets). PREFETCHT0
    // reads nothing architecturally and never faults, for any address, so `p` need not be
    // valid.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Prefetches the `len` bytes from address `address` (0: none), an address kept as a number
/// because nothing ever reads through it.
#[inline(always)]
pub(crate) fn prefetch_address(address: usize, len: usize) {
    if address != 0 {
        prefetch_bytes(std::ptr::without_provenance::<u8>(address), len);
    }
}

/// Prefetches the `len` bytes from `p`, one request per cache line they touch.
#[inline(always)]
pub(crate) fn prefetch_bytes<T>(p: *const T, len: usize) {
    const LINE: usize = 64;
    let first = p.cast::<u8>();
    // From the start of the first line, so that a range that starts inside a line requests
    // each line once and the last one too.
    let skew = first.addr() % LINE;
    let mut offset = 0;
    while offset < skew + len {
        prefetch(first.wrapping_add(offset).wrapping_sub(skew));
        offset += LINE;
    }
}
