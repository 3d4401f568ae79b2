//! End-to-end throughput of the facade: fires per second through Client + Worker + a no-op
//! executor, beside the bare engine's fires per second on the same workload in the same run.
//!
//! Workload: 100 000 schedules, each every 10 s with offset `i % 10` s (10 000 fires per
//! simulated second), on a manual clock advanced in 1 s steps. Every start is completed at
//! once, so every step fires all 10 000 (asserted). Run with:
//!
//! ```text
//! cargo bench --bench client
//! ```

#![allow(clippy::disallowed_methods)] // a bench times itself and drives real threads

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use schedule_engine::{
    Action, CancelWorkflowAction, Client, Completion, ManualClock, Schedule, ScheduleAction,
    ScheduleActionStartWorkflow, ScheduleIntervalSpec, ScheduleSpec, Scheduler, SchedulerConfig,
    StartWorkflowAction, TerminateWorkflowAction, Worker, WorkflowExecutor, WorkflowOutcome,
};

const SCHEDULES: u64 = 100_000;
const PERIOD: u64 = 10;
const STEPS: u64 = 40;
const FIRES_PER_STEP: u64 = SCHEDULES / PERIOD;
const ROUNDS: usize = 3;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap()
}

fn schedule(i: u64) -> Schedule {
    Schedule {
        action: ScheduleAction::StartWorkflow(ScheduleActionStartWorkflow {
            workflow: "noop".into(),
            id: format!("w{i}"),
            task_queue: "bench".into(),
            ..Default::default()
        }),
        spec: ScheduleSpec {
            intervals: vec![ScheduleIntervalSpec::with_offset(
                Duration::from_secs(PERIOD),
                Duration::from_secs(i % PERIOD),
            )],
            ..Default::default()
        },
        ..Default::default()
    }
}

/// Completes every run at once and counts the starts.
struct Noop(Arc<AtomicU64>);

impl WorkflowExecutor for Noop {
    fn start_workflow(&mut self, _: StartWorkflowAction, completion: Completion) {
        self.0.fetch_add(1, Ordering::Relaxed);
        completion.complete(WorkflowOutcome::Completed { result: None });
    }
    fn cancel_workflow(&mut self, _: CancelWorkflowAction) {}
    fn terminate_workflow(&mut self, _: TerminateWorkflowAction) {}
}

/// The bare engine: poll each step, close every run at once.
fn engine_round() -> Duration {
    let mut scheduler = Scheduler::new(SchedulerConfig::default());
    for i in 0..SCHEDULES {
        scheduler
            .create_schedule(&format!("s{i}"), schedule(i), t0())
            .unwrap();
    }
    let mut fires = 0;
    let began = Instant::now();
    for step in 1..=STEPS {
        let now = t0() + chrono::Duration::seconds(step as i64);
        for action in scheduler.poll(now) {
            if let Action::StartWorkflow(start) = action {
                fires += 1;
                let outcome = WorkflowOutcome::Completed { result: None };
                scheduler
                    .workflow_closed(&start.workflow_id, outcome, now)
                    .unwrap();
            }
        }
    }
    let elapsed = began.elapsed();
    assert_eq!(fires, STEPS * FIRES_PER_STEP, "engine: every time fired");
    elapsed
}

/// The facade: the same work through Client, Worker and the no-op executor.
fn client_round() -> Duration {
    let clock = ManualClock::new(t0());
    let client = Client::builder().clock(clock.clone()).build().unwrap();
    for i in 0..SCHEDULES {
        client
            .create_schedule(&format!("s{i}"), schedule(i))
            .unwrap();
    }
    let starts = Arc::new(AtomicU64::new(0));
    let worker = Worker::start(&client, Noop(starts.clone()));
    worker.settle();
    let began = Instant::now();
    for _ in 0..STEPS {
        clock.advance(Duration::from_secs(1));
        // Polled, dispatched, and every (synchronous) completion applied.
        worker.settle();
    }
    let elapsed = began.elapsed();
    worker.shutdown();
    assert_eq!(
        starts.load(Ordering::Relaxed),
        STEPS * FIRES_PER_STEP,
        "client: every time fired"
    );
    elapsed
}

fn rate(elapsed: Duration) -> f64 {
    (STEPS * FIRES_PER_STEP) as f64 / elapsed.as_secs_f64()
}

fn main() {
    // `cargo test --benches` runs bench targets with `--bench` absent; keep that quick.
    if !std::env::args().any(|a| a == "--bench") {
        println!("client bench: skipped (run with `cargo bench --bench client`)");
        return;
    }
    let engine = (0..ROUNDS).map(|_| engine_round()).min().unwrap();
    let client = (0..ROUNDS).map(|_| client_round()).min().unwrap();
    let fires = STEPS * FIRES_PER_STEP;
    println!(
        "workload: {SCHEDULES} schedules, {fires} fires ({STEPS} steps of 1 s), best of {ROUNDS}"
    );
    println!(
        "engine (Scheduler poll + workflow_closed): {:>10.0} fires/s  ({engine:?})",
        rate(engine)
    );
    println!(
        "client (Client + Worker + no-op executor): {:>10.0} fires/s  ({client:?})",
        rate(client)
    );
    println!("client / engine: {:.2}", rate(client) / rate(engine));
}
