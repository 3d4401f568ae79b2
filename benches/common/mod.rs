//! What the engine benches share: the interval schedules they fire and the order they fire in.
//!
//! The pattern (the issue "Remodel"'s): `n` schedules, each every 60 s, their offsets spread
//! evenly over the minute, so `n / 60` fire in each second; the driver moves one second at a
//! time and closes every run at once.

#![allow(dead_code)] // each bench uses its own part

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use schedule_engine::{
    Schedule, ScheduleAction, ScheduleActionStartWorkflow, ScheduleIntervalSpec, ScheduleSpec,
};

/// The period of every schedule, in seconds.
pub const PERIOD_S: u64 = 60;

/// 2022-06-01T00:00:00Z, a whole minute: the creation time.
pub const T0_S: i64 = 1_654_041_600;

/// Schedule `i`: every 60 s at `offset_s` seconds past the minute. Its action id is `wf-{i}`.
pub fn minute_schedule(i: u64, offset_s: u64) -> Schedule {
    Schedule {
        action: ScheduleAction::StartWorkflow(ScheduleActionStartWorkflow {
            workflow: "report".into(),
            id: format!("wf-{i}"),
            task_queue: "queue".into(),
            ..Default::default()
        }),
        spec: ScheduleSpec {
            intervals: vec![ScheduleIntervalSpec::with_offset(
                Duration::from_secs(PERIOD_S),
                Duration::from_secs(offset_s),
            )],
            ..Default::default()
        },
        ..Default::default()
    }
}

/// The offset (seconds past the minute) of the `k`-th created of `n` schedules. In creation
/// order the schedules of one second were created one after another (their slots are
/// neighbours); in random order schedule `k` takes the place of a fixed random permutation of
/// `0..n`, so the schedules of one second are a random sixtieth of all.
pub fn offsets(n: usize, random: bool) -> Vec<u64> {
    let places: Vec<usize> = if random {
        shuffled(n)
    } else {
        (0..n).collect()
    };
    places
        .into_iter()
        .map(|p| (p as u64 * PERIOD_S) / n as u64)
        .collect()
}

/// When schedule with offset `offset_s` first fires after `T0_S` (strictly after), in millis.
pub fn first_due_ms(offset_s: u64) -> i64 {
    let first = if offset_s == 0 { PERIOD_S } else { offset_s };
    (T0_S + first as i64) * 1000
}

/// The floor: a bare `BinaryHeap<Reverse<(i64, u32)>>` of due times (millis) and slots, driven
/// on the engine's pattern.
pub struct Floor {
    heap: BinaryHeap<Reverse<(i64, u32)>>,
    second: i64,
    /// The entries popped in the last second, in order.
    pub due: Vec<(i64, u32)>,
}

impl Floor {
    /// Slot `k` first due at the `k`-th offset.
    pub fn new(offsets: &[u64]) -> Self {
        let heap = offsets
            .iter()
            .enumerate()
            .map(|(k, &o)| Reverse((first_due_ms(o), k as u32)))
            .collect();
        Floor {
            heap,
            second: T0_S,
            due: Vec::new(),
        }
    }

    /// One more second: pops every entry due by its end into `due`, then pushes each back
    /// one period later. Returns how many were due.
    pub fn next_second(&mut self) -> usize {
        self.second += 1;
        let now_ms = self.second * 1000;
        self.due.clear();
        while let Some(&Reverse((at, slot))) = self.heap.peek() {
            if at > now_ms {
                break;
            }
            self.heap.pop();
            self.due.push((at, slot));
        }
        for &(at, slot) in &self.due {
            self.heap.push(Reverse((at + PERIOD_S as i64 * 1000, slot)));
        }
        self.due.len()
    }
}

/// A fixed pseudo-random permutation of `0..n` (SplitMix64 driving Fisher-Yates).
fn shuffled(n: usize) -> Vec<usize> {
    let mut state = 0x5eed_u64;
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut v: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
    v
}
