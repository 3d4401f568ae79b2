//! A plain fire loop for profilers (callgrind, perf): no criterion, no counting allocator.
//! It builds `SCHEDULES` interval schedules as `benches/engine.rs` does (one fires per
//! second), fires each once to reach the steady state, then fires `FIRES` more, closing each
//! run at once, and prints the time per fire (the driver's `DateTime::from_timestamp` per second included).
//!
//! Run: `SCHEDULES=100000 FIRES=100000 cargo bench --bench fire_loop`. Instruction counts and
//! simulated cache misses of the measured loop alone:
//! `valgrind --tool=callgrind --cache-sim=yes --LL=8388608,16,64 --toggle-collect='fire_loop::fire' <the binary cargo bench --bench fire_loop --no-run names>`
//! (the warm-up round runs in `warm_up`, outside the count: divide by `FIRES`).

#![allow(clippy::disallowed_methods)] // a bench times itself and drives real threads

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use schedule_engine::{Action, Scheduler, SchedulerConfig, WorkflowOutcome};

mod common;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The first round: each schedule fires once (and allocates its recent-actions ring), so
/// `fire` measures the steady state. A function of its own so profilers can leave it out.
#[inline(never)]
fn warm_up(s: &mut Scheduler, second: &mut i64, count: u64) -> u64 {
    fire_seconds(s, second, count)
}

/// The measured fires, and how long they took (timed in here, which also keeps the linker
/// from folding this function and `warm_up` into one).
#[inline(never)]
fn fire(s: &mut Scheduler, second: &mut i64, count: u64) -> (u64, Duration) {
    let start = Instant::now();
    let fired = fire_seconds(s, second, count);
    (fired, start.elapsed())
}

/// Fires one action per second for `count` seconds after `*second`, closing each run.
#[inline(always)]
fn fire_seconds(s: &mut Scheduler, second: &mut i64, count: u64) -> u64 {
    let mut fired = 0;
    for _ in 0..count {
        *second += 1;
        let Some(now) = DateTime::<Utc>::from_timestamp(*second, 0) else {
            break;
        };
        for a in &s.poll(now) {
            if let Action::StartWorkflow(st) = a {
                let closed = s.workflow_closed(
                    &st.workflow_id,
                    WorkflowOutcome::Completed { result: None },
                    now,
                );
                fired += u64::from(closed.is_ok());
            }
        }
    }
    fired
}

fn main() {
    let n = env_number("SCHEDULES", 100_000).max(1);
    let fires = env_number("FIRES", 1_000_000);
    let t0 = 1_654_041_600; // 2022-06-01T00:00:00Z
    let created = DateTime::from_timestamp(t0, 0).unwrap_or_default();
    let mut s = Scheduler::new(SchedulerConfig::default());
    for i in 0..n {
        let schedule = common::interval_schedule(i, n);
        if let Err(e) = s.create_schedule(&format!("schedule-{i:07}"), schedule, created) {
            eprintln!("create: {e}");
            return;
        }
    }
    let mut second = t0;
    let warm = warm_up(&mut s, &mut second, n);
    let (fired, took) = fire(&mut s, &mut second, fires);
    black_box(&s);
    println!(
        "{n} schedules: {warm} warm-up fires, then {fired} fires at {:.1} ns each",
        took.as_nanos() as f64 / fired.max(1) as f64
    );
}
