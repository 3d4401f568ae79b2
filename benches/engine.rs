//! Engine benchmarks: creating 10 000 and 1 000 000 interval schedules, the cost per fired
//! action of `poll` + `workflow_closed` (schedules firing in creation order, and in a random
//! order: `-random`), the floor for the latter (a bare
//! `BinaryHeap<Reverse<(i64, u32)>>` pop + push per fire at the same sizes), what `poll` cannot
//! avoid on top of that floor (building and dropping the `Action` it returns: its `Vec`, its
//! workflow id and the shared handles), and the memory per schedule measured with a counting
//! global allocator.
//!
//! Run: `cargo bench --bench engine`. Figures go to BENCHMARKS.md.

#![allow(clippy::disallowed_methods)] // a bench times itself and drives real threads

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use schedule_engine::{
    Action, Schedule, Scheduler, SchedulerConfig, SharedStr, StartWorkflowAction, WorkflowOutcome,
};

mod common;
// The tests' counting allocator: per-thread counts (the bench builds and fires on one thread).
#[path = "../tests/util/counting_alloc.rs"]
mod counting_alloc;

const SIZES: [usize; 2] = [10_000, 1_000_000];

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_654_041_600, 0).unwrap() // 2022-06-01T00:00:00Z
}

fn schedule(i: usize, n: usize) -> Schedule {
    common::interval_schedule(i as u64, n as u64)
}

fn ids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("schedule-{i:07}")).collect()
}

fn populate(n: usize, ids: &[String]) -> Scheduler {
    populate_in_order(n, ids, &(0..n).collect::<Vec<_>>())
}

/// Schedule `k` (created `k`-th, so in slot `k`) gets the offset `offsets[k]`: with a shuffled
/// permutation the schedules fire in an order unrelated to where they live in memory.
fn populate_in_order(n: usize, ids: &[String], offsets: &[usize]) -> Scheduler {
    let mut s = Scheduler::new(SchedulerConfig::default());
    for (id, &i) in ids.iter().zip(offsets).take(n) {
        s.create_schedule(id, schedule(i, n), t0()).unwrap();
    }
    s
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

/// The instants of `count` consecutive seconds after `*second` (which moves past them),
/// built before a measurement starts: the driver's clock is not part of what is measured.
fn seconds(second: &mut i64, count: u64) -> Vec<DateTime<Utc>> {
    (0..count)
        .map(|_| {
            *second += 1;
            DateTime::from_timestamp(*second, 0).unwrap()
        })
        .collect()
}

/// Fires one action per instant of `times`, closing each run right away.
fn fire(s: &mut Scheduler, times: &[DateTime<Utc>]) -> u64 {
    let mut fired = 0;
    let closed = |s: &mut Scheduler, a: &Action, now| {
        if let Action::StartWorkflow(st) = a {
            s.workflow_closed(
                &st.workflow_id,
                WorkflowOutcome::Completed { result: None },
                now,
            )
            .unwrap();
            1
        } else {
            0
        }
    };
    for &now in times {
        for a in s.poll(now) {
            fired += closed(s, &a, now);
        }
    }
    fired
}

fn bench_create(c: &mut Criterion) {
    let mut g = c.benchmark_group("create");
    for n in SIZES {
        let names = ids(n);
        let templates: Vec<Schedule> = (0..n).map(|i| schedule(i, n)).collect();
        if n >= 1_000_000 {
            g.sample_size(10);
            g.measurement_time(Duration::from_secs(20));
        }
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(format!("{n}"), |b| {
            b.iter_batched(
                || {
                    (
                        Scheduler::new(SchedulerConfig::default()),
                        templates.clone(),
                    )
                },
                |(mut s, templates)| {
                    for (id, sch) in names.iter().zip(templates) {
                        s.create_schedule(id, sch, t0()).unwrap();
                    }
                    s
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

fn bench_fire(c: &mut Criterion) {
    let mut g = c.benchmark_group("fire");
    for n in SIZES {
        if n >= 1_000_000 {
            g.sample_size(20);
            g.measurement_time(Duration::from_secs(10));
        }
        g.throughput(Throughput::Elements(1));
        // Fired in creation order (each fire's slot next to the last one's), then in an order
        // unrelated to the slots (the general case: every fire's entry is a cache miss).
        for (row, random) in [("poll+closed", false), ("poll+closed-random", true)] {
            // Built on first use, so a filtered-out row costs nothing; dropped after its row.
            let mut state: Option<(Scheduler, i64)> = None;
            g.bench_function(format!("{row}/{n}"), |b| {
                let (s, second) = state.get_or_insert_with(|| {
                    let order = if random {
                        shuffled(n)
                    } else {
                        (0..n).collect()
                    };
                    (populate_in_order(n, &ids(n), &order), t0().timestamp())
                });
                b.iter_custom(|iters| {
                    let times = seconds(second, iters);
                    let start = Instant::now();
                    let fired = fire(s, &times);
                    let took = start.elapsed();
                    assert_eq!(fired, iters);
                    took
                })
            });
        }
        // The floor: the same fire pattern on a bare binary heap.
        let mut heap: Option<BinaryHeap<Reverse<(i64, u32)>>> = None;
        g.bench_function(format!("heap-floor/{n}"), |b| {
            let heap = heap
                .get_or_insert_with(|| (0..n).map(|i| Reverse((i as i64 + 1, i as u32))).collect());
            b.iter(|| {
                let Reverse((due, slot)) = heap.pop().unwrap();
                heap.push(Reverse((due + n as i64, slot)));
                black_box(slot)
            })
        });
        // What `poll` cannot avoid under the contract: the floor's pop + push, plus the one
        // `Action` it must hand over (a new `Vec`, the workflow id, and handles to the
        // schedule's shared strings, arguments and memo), built and dropped. No scheduling
        // work at all: no time arithmetic, no id map, no state, no `workflow_closed`.
        type Owned = (
            BinaryHeap<Reverse<(i64, u32)>>,
            Vec<(StartWorkflowAction, String)>,
        );
        let mut owned: Option<Owned> = None;
        g.bench_function(format!("owned-action-floor/{n}"), |b| {
            let (heap, names) = owned.get_or_insert_with(|| {
                let heap = (0..n).map(|i| Reverse((i as i64 + 1, i as u32))).collect();
                // The shared parts and action ids of `populate`'s schedules.
                let names = ids(n)
                    .into_iter()
                    .enumerate()
                    .map(|(i, id)| {
                        let shared = StartWorkflowAction {
                            schedule_id: Some(SharedStr::from(id)),
                            workflow: SharedStr::from("report"),
                            task_queue: SharedStr::from("queue"),
                            ..Default::default()
                        };
                        (shared, format!("wf-{i}"))
                    })
                    .collect();
                (heap, names)
            });
            b.iter(|| {
                let Reverse((due, slot)) = heap.pop().unwrap();
                heap.push(Reverse((due + n as i64, slot)));
                let (shared, action_id) = &names[slot as usize];
                black_box(owned_action(shared, action_id))
            })
        });
    }
    g.finish();
}

/// The action `poll` returns for one start, built as cheaply as its fields allow: its own
/// workflow id, handles to the shared rest.
fn owned_action(shared: &StartWorkflowAction, action_id: &str) -> Vec<Action> {
    let mut workflow_id = String::with_capacity(action_id.len() + 21);
    workflow_id.push_str(action_id);
    workflow_id.push_str("-2022-06-01T00:00:00Z");
    vec![Action::StartWorkflow(StartWorkflowAction {
        workflow_id,
        nominal_time: t0(),
        scheduled_at: t0(),
        ..shared.clone()
    })]
}

/// Bytes per schedule, all included (slot, entry, spec, strings, maps, heap), after creation
/// and after every schedule has fired and closed once.
fn report_memory(_c: &mut Criterion) {
    if std::env::var_os("ENGINE_BENCH_NO_MEMORY").is_some() {
        return;
    }
    for n in SIZES {
        let names = ids(n);
        // The bench's own inputs are made before counting starts.
        let times = seconds(&mut t0().timestamp(), n as u64);
        let before = counting_alloc::live_bytes();
        let mut s = populate(n, &names);
        let created = counting_alloc::live_bytes() - before;
        fire(&mut s, &times);
        let fired = counting_alloc::live_bytes() - before;
        println!(
            "memory/{n}: {:.0} B per schedule after create, {:.0} B after one fire + close each",
            created as f64 / n as f64,
            fired as f64 / n as f64
        );
        black_box(&s);
        drop(s);
        drop(times);
    }
}

criterion_group!(benches, report_memory, bench_create, bench_fire);
criterion_main!(benches);
