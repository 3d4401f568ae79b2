//! Fires per second through the whole client path (poll, persist, dispatch, completion,
//! persist), 10 000 schedules every second, with no store, a `MemoryStore` and a `SqliteStore`
//! (WAL, synchronous=NORMAL, one transaction per batch), measured in the same run.
//!
//! One iteration moves a `ManualClock` one second and settles the worker: every schedule fires
//! once, its run completes at once, and both state changes are written. Throughput is reported
//! in fires (elements) per second.
//!
//! `cargo bench --bench store --features sqlite`

#![allow(clippy::disallowed_methods)] // a bench times itself and drives real threads

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use schedule_engine::store::{MemoryStore, Store};
use schedule_engine::{
    CancelWorkflowAction, Client, Completion, ManualClock, Schedule, ScheduleAction,
    ScheduleActionStartWorkflow, ScheduleIntervalSpec, ScheduleSpec, SqliteStore,
    StartWorkflowAction, TerminateWorkflowAction, Worker, WorkflowExecutor, WorkflowOutcome,
};

const SCHEDULES: usize = 10_000;

struct CompleteAtOnce;

impl WorkflowExecutor for CompleteAtOnce {
    fn start_workflow(&mut self, _: StartWorkflowAction, completion: Completion) {
        completion.complete(WorkflowOutcome::Completed { result: None });
    }
    fn cancel_workflow(&mut self, _: CancelWorkflowAction) {}
    fn terminate_workflow(&mut self, _: TerminateWorkflowAction) {}
}

fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .expect("time")
        .with_timezone(&Utc)
}

fn every_second(i: usize) -> Schedule {
    Schedule {
        action: ScheduleAction::StartWorkflow(ScheduleActionStartWorkflow {
            workflow: "tick".into(),
            id: format!("s{i:05}"),
            task_queue: "q".into(),
            ..Default::default()
        }),
        spec: ScheduleSpec {
            intervals: vec![ScheduleIntervalSpec::new(Duration::from_secs(1))],
            ..Default::default()
        },
        ..Default::default()
    }
}

/// Builds the store of one case in the bench directory.
type MakeStore = fn(&std::path::Path) -> Option<Box<dyn Store>>;

/// A client with 10 000 schedules and a settled worker.
fn setup(store: Option<Box<dyn Store>>) -> (ManualClock, Client, Worker) {
    let clock = ManualClock::new(start());
    let mut builder = Client::builder().clock(clock.clone());
    if let Some(store) = store {
        builder = builder.store(store);
    }
    let client = builder.build().expect("client");
    for i in 0..SCHEDULES {
        client
            .create_schedule(&format!("s{i:05}"), every_second(i))
            .expect("create");
    }
    let worker = Worker::start(&client, CompleteAtOnce);
    worker.settle();
    (clock, client, worker)
}

fn fires(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("se-bench-store-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("bench dir");
    let mut group = c.benchmark_group("store_fires");
    group.throughput(Throughput::Elements(SCHEDULES as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    let cases: [(&str, MakeStore); 3] = [
        ("in_memory_no_store", |_| None),
        ("memory_store", |_| Some(Box::new(MemoryStore::new()))),
        ("sqlite_normal", |dir| {
            Some(Box::new(
                SqliteStore::open(dir.join("bench.db")).expect("sqlite store"),
            ))
        }),
    ];
    for (name, make) in cases {
        let (clock, client, worker) = setup(make(&dir));
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let t = Instant::now();
                for _ in 0..iters {
                    clock.advance(Duration::from_secs(1));
                    worker.settle();
                }
                t.elapsed()
            })
        });
        let info = client
            .get_schedule_handle("s00000")
            .describe()
            .expect("describe")
            .info;
        assert!(info.num_actions > 0 && info.num_actions_skipped_overlap == 0);
        worker.shutdown();
    }
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, fires);
criterion_main!(benches);
