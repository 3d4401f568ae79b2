//! A plain fire loop for profilers (callgrind, perf): no criterion, no counting allocator.
//! It builds `SCHEDULES` interval schedules on the pattern of `benches/engine.rs` (every 60 s,
//! offsets spread over the minute, in a random order unless `ORDER=created`), fires one
//! period so every schedule reaches its steady state, then drives `SECONDS` more seconds,
//! closing each run at once, and prints the time per fire (the driver's
//! `DateTime::from_timestamp` per second included). Between two seconds of the engine it
//! drives one second of the floor (`benches/engine.rs`'s `heap-floor`, same offsets), so the
//! ratio it prints compares the two under the same load of the machine (`FLOOR=0` leaves the
//! floor out, for cache simulations of the engine alone).
//!
//! Run: `SCHEDULES=1000000 SECONDS=60 cargo bench --bench fire_loop`. Instruction counts and
//! simulated cache misses of the engine's measured loop alone (BENCHMARKS.md's figures):
//! `FLOOR=0 SCHEDULES=200000 SECONDS=30 valgrind --tool=callgrind --cache-sim=yes --LL=8388608,16,64 --toggle-collect='fire_loop::fire' <the binary cargo bench --bench fire_loop --no-run names>`
//! (the warm-up period runs in `warm_up`, outside the count: divide by the fires printed; an
//! 8 MiB last level keeps 200 000 schedules far out of it, as 1 000 000 are out of 32 MiB).

#![allow(clippy::disallowed_methods)] // a bench times itself and drives real threads

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use common::{minute_schedule, offsets, Floor, PERIOD_S, T0_S};
use schedule_engine::{Action, Scheduler, SchedulerConfig, WorkflowOutcome};

mod common;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The first period: each schedule fires once (and allocates its recent-actions ring), so
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

/// One second of the floor; returns its pops and how long it took.
#[inline(never)]
fn floor_second(floor: &mut Floor) -> (u64, Duration) {
    let start = Instant::now();
    let popped = floor.next_second();
    (popped as u64, start.elapsed())
}

/// Drives `count` seconds after `*second`, closing each run; returns the starts.
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
    let n = env_number("SCHEDULES", 1_000_000).max(1);
    let seconds = env_number("SECONDS", PERIOD_S);
    let random = std::env::var("ORDER").map_or(true, |o| o != "created");
    let with_floor = env_number("FLOOR", 1) != 0;
    let created = DateTime::from_timestamp(T0_S, 0).unwrap_or_default();
    let mut s = Scheduler::new(SchedulerConfig::default());
    for (i, offset) in offsets(n as usize, random).into_iter().enumerate() {
        let schedule = minute_schedule(i as u64, offset);
        if let Err(e) = s.create_schedule(&format!("schedule-{i:07}"), schedule, created) {
            eprintln!("create: {e}");
            return;
        }
    }
    let mut second = T0_S;
    let warm = warm_up(&mut s, &mut second, PERIOD_S);
    let mut floor = Floor::new(&offsets(n as usize, random));
    for _ in 0..PERIOD_S {
        floor.next_second();
    }
    let (mut fired, mut took) = (0, Duration::ZERO);
    let (mut popped, mut floor_took) = (0, Duration::ZERO);
    for _ in 0..seconds {
        let (f, t) = fire(&mut s, &mut second, 1);
        fired += f;
        took += t;
        if with_floor {
            let (p, t) = floor_second(&mut floor);
            popped += p;
            floor_took += t;
        }
    }
    black_box(&s);
    let per_fire = took.as_nanos() as f64 / fired.max(1) as f64;
    let order = if random { "random" } else { "creation" };
    print!("{n} schedules ({order} order): {warm} warm-up fires, then {fired} fires at {per_fire:.1} ns each");
    if with_floor {
        let per_pop = floor_took.as_nanos() as f64 / popped.max(1) as f64;
        let ratio = per_fire / per_pop;
        print!("; floor {per_pop:.1} ns per pop + push; ratio {ratio:.2}");
    }
    println!();
}
