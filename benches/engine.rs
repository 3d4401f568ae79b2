//! Engine benchmarks on the issue "Remodel"'s pattern (see `common`): `n` interval schedules
//! (10 000 and 1 000 000), each every 60 s with offsets spread over the minute, driven one
//! second at a time, every `StartWorkflow` closed at once with `workflow_closed`.
//!
//! - `create/N`: creating the N schedules into an empty `Scheduler`.
//! - `fire/poll+closed/N` (creation order: one second's schedules are neighbours in memory)
//!   and `fire/poll+closed-random/N` (a random permutation of the offsets: one second's
//!   schedules are a random sixtieth of all): one iteration is one driven second, `poll(now)`
//!   and `workflow_closed` for each start it returned.
//! - `fire/heap-floor/N`: the floor on the same pattern: a bare
//!   `BinaryHeap<Reverse<(i64, u32)>>` of N entries with the random order's due times; one
//!   iteration pops every entry due in the second and pushes each back 60 s later.
//! - `fire/owned-action-floor/N`: the floor plus building and dropping the `Vec<Action>` that
//!   `poll` must return (one workflow id each, handles to shared strings, arguments, memo).
//! - memory per schedule (a counting global allocator), printed first.
//!
//! Each iteration fires N / 60 starts: time per fire = median / (N / 60); ratios of medians
//! of one run need no division. Run: `cargo bench --bench engine`. Figures go to BENCHMARKS.md.

#![allow(clippy::disallowed_methods)] // a bench times itself and drives real threads

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use common::{minute_schedule, offsets, Floor, PERIOD_S, T0_S};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, SamplingMode, Throughput};
use schedule_engine::{
    Action, Schedule, Scheduler, SchedulerConfig, SharedStr, StartWorkflowAction, WorkflowOutcome,
};

mod common;
// The tests' counting allocator: per-thread counts (the bench builds and fires on one thread).
#[path = "../tests/util/counting_alloc.rs"]
mod counting_alloc;

const SIZES: [usize; 2] = [10_000, 1_000_000];

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(T0_S, 0).unwrap()
}

fn ids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("schedule-{i:07}")).collect()
}

fn schedules(offsets: &[u64]) -> Vec<Schedule> {
    (0..offsets.len())
        .map(|k| minute_schedule(k as u64, offsets[k]))
        .collect()
}

/// Schedule `k` is created `k`-th (so it lives in slot `k`) with offset `offsets[k]`.
fn populate(ids: &[String], offsets: &[u64]) -> Scheduler {
    let mut s = Scheduler::new(SchedulerConfig::default());
    for (id, sch) in ids.iter().zip(schedules(offsets)) {
        s.create_schedule(id, sch, t0()).unwrap();
    }
    s
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

/// Drives the seconds of `times`, closing each run at once; returns the starts.
fn fire(s: &mut Scheduler, times: &[DateTime<Utc>]) -> u64 {
    let mut fired = 0;
    for &now in times {
        for a in &s.poll(now) {
            if let Action::StartWorkflow(st) = a {
                s.workflow_closed(
                    &st.workflow_id,
                    WorkflowOutcome::Completed { result: None },
                    now,
                )
                .unwrap();
                fired += 1;
            }
        }
    }
    fired
}

/// A scheduler of `n` schedules after one whole period (every schedule fired once, so its
/// recent-actions ring exists: the steady state), and the last second driven.
fn fired_once(n: usize, random: bool) -> (Scheduler, i64) {
    let mut s = populate(&ids(n), &offsets(n, random));
    let mut second = T0_S;
    let fired = fire(&mut s, &seconds(&mut second, PERIOD_S));
    assert_eq!(fired, n as u64);
    (s, second)
}

fn bench_create(c: &mut Criterion) {
    let mut g = c.benchmark_group("create");
    for n in SIZES {
        let names = ids(n);
        let templates = schedules(&offsets(n, true));
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
    g.sampling_mode(SamplingMode::Flat);
    for n in SIZES {
        let per_second = n as u64 / PERIOD_S;
        g.throughput(Throughput::Elements(per_second));
        for (row, random) in [("poll+closed", false), ("poll+closed-random", true)] {
            // Built on first use, so a filtered-out row costs nothing; dropped after its row.
            let mut state: Option<(Scheduler, i64)> = None;
            g.bench_function(format!("{row}/{n}"), |b| {
                let (s, second) = state.get_or_insert_with(|| fired_once(n, random));
                b.iter_custom(|iters| {
                    let times = seconds(second, iters);
                    let start = Instant::now();
                    let fired = fire(s, &times);
                    let took = start.elapsed();
                    // Each second fires n / 60 (rounded either way: over a period exactly n).
                    assert!(fired.abs_diff(iters * per_second) <= iters);
                    took
                })
            });
        }
        let mut floor: Option<Floor> = None;
        g.bench_function(format!("heap-floor/{n}"), |b| {
            let floor = floor.get_or_insert_with(|| Floor::new(&offsets(n, true)));
            b.iter(|| black_box(floor.next_second()))
        });
        // What `poll` cannot avoid under the contract: the floor, plus the `Vec<Action>` it
        // must hand over (each action's own workflow id, handles to the schedule's shared
        // strings, arguments and memo), built and dropped. No scheduling work at all.
        let mut owned: Option<(Floor, Vec<(StartWorkflowAction, String)>)> = None;
        g.bench_function(format!("owned-action-floor/{n}"), |b| {
            let (floor, names) = owned.get_or_insert_with(|| {
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
                (Floor::new(&offsets(n, true)), names)
            });
            b.iter(|| {
                floor.next_second();
                let mut out = Vec::with_capacity(floor.due.len());
                for &(at, slot) in &floor.due {
                    let (shared, action_id) = &names[slot as usize];
                    out.push(owned_action(shared, action_id, at));
                }
                black_box(out)
            })
        });
    }
    g.finish();
}

/// The action `poll` returns for one start, built as cheaply as its fields allow: its own
/// workflow id, handles to the shared rest.
fn owned_action(shared: &StartWorkflowAction, action_id: &str, at_ms: i64) -> Action {
    let mut workflow_id = String::with_capacity(action_id.len() + 21);
    workflow_id.push_str(action_id);
    workflow_id.push_str("-2022-06-01T00:00:00Z");
    let at = DateTime::from_timestamp_millis(at_ms).unwrap();
    Action::StartWorkflow(StartWorkflowAction {
        workflow_id,
        nominal_time: at,
        scheduled_at: at,
        ..shared.clone()
    })
}

/// Bytes per schedule, all included (slot, entry, spec, strings, maps, heap), after creation
/// and after every schedule has fired and closed once.
fn report_memory(_c: &mut Criterion) {
    if std::env::var_os("ENGINE_BENCH_NO_MEMORY").is_some() {
        return;
    }
    for n in SIZES {
        let names = ids(n);
        let offsets = offsets(n, true);
        // The bench's own inputs are made before counting starts.
        let times = seconds(&mut T0_S.clone(), PERIOD_S);
        let before = counting_alloc::live_bytes();
        let mut s = populate(&names, &offsets);
        let created = counting_alloc::live_bytes() - before;
        assert_eq!(fire(&mut s, &times), n as u64);
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
