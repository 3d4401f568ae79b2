//! 8 threads hammer one Client (create, update, pause, unpause, trigger, backfill, delete on
//! overlapping ids) for about 3 s while a Worker runs and a manual clock moves: no deadlock
//! (a watchdog fails the test), no panic, and no lost update — every successful update
//! increments a counter in the action's memo, and the final counter equals their number.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::util::facade::{at, every, trigger_only, Recorder};
use schedule_engine::{
    Client, ManualClock, ScheduleAction, ScheduleBackfill, ScheduleError, ScheduleOverlapPolicy,
    ScheduleUpdate, Worker,
};

const THREADS: u64 = 8;
const RUN_FOR: Duration = Duration::from_secs(3);
const WATCHDOG: Duration = Duration::from_secs(60);
const IDS: [&str; 4] = ["s0", "s1", "s2", "s3"];

/// xorshift64: a deterministic per-thread operation mix without a dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Runs of the update callbacks, successful or re-run after a conflict.
static CALLBACKS: AtomicU64 = AtomicU64::new(0);

fn increment(handle: &schedule_engine::ScheduleHandle) -> Result<(), ScheduleError> {
    handle.update(|input| {
        CALLBACKS.fetch_add(1, Ordering::Relaxed);
        let mut schedule = input.description.schedule;
        let ScheduleAction::StartWorkflow(action) = &mut schedule.action else {
            return None;
        };
        let count = action
            .memo
            .get("count")
            .and_then(|v| v.as_u64())
            .unwrap_or(0);
        action
            .memo
            .insert("count".into(), serde_json::json!(count + 1));
        Some(ScheduleUpdate { schedule })
    })
}

fn hammer(client: Client, clock: ManualClock, seed: u64, stop: Arc<AtomicBool>) -> u64 {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let counter = client.get_schedule_handle("counter");
    let mut counted = 0;
    while !stop.load(Ordering::Relaxed) {
        let id = IDS[rng.below(IDS.len() as u64) as usize];
        let handle = client.get_schedule_handle(id);
        // Errors are expected (NotFound after a delete, AlreadyExists on a racing create);
        // panics and deadlocks are not.
        let _ = match rng.below(10) {
            0 => client
                .create_schedule(id, every(Duration::from_secs(1)))
                .map(|_| ()),
            1 => handle.update(|input| {
                let mut schedule = input.description.schedule;
                schedule.policy.overlap = ScheduleOverlapPolicy::AllowAll;
                Some(ScheduleUpdate { schedule })
            }),
            2 => handle.pause(Some("pause")),
            3 => handle.unpause(None),
            4 => handle.trigger(None),
            5 => {
                let now = client.now();
                handle.backfill(&[ScheduleBackfill::new(
                    now - chrono::Duration::seconds(5),
                    now,
                )])
            }
            6 => handle.delete(),
            7 => {
                clock.advance(Duration::from_millis(250));
                Ok(())
            }
            8 => counter.pause(None).and_then(|_| counter.trigger(None)),
            _ => {
                let result = increment(&counter);
                assert!(result.is_ok(), "{result:?}");
                counted += 1;
                let _ = counter.unpause(None);
                Ok(())
            }
        };
        let _ = client.list_schedules();
    }
    counted
}

#[test]
fn eight_threads_no_deadlock_no_panic_no_lost_update() {
    let (done_tx, done_rx) = crossbeam_channel::bounded(1);
    std::thread::spawn(move || {
        let clock = ManualClock::new(at(0));
        let client = Client::builder().clock(clock.clone()).build().unwrap();
        let recorder = Recorder::completing();
        let worker = Worker::start(&client, recorder.clone());
        client.create_schedule("counter", trigger_only()).unwrap();

        let stop = Arc::new(AtomicBool::new(false));
        let threads: Vec<_> = (0..THREADS)
            .map(|seed| {
                let (client, clock, stop) = (client.clone(), clock.clone(), stop.clone());
                std::thread::spawn(move || hammer(client, clock, seed, stop))
            })
            .collect();
        let started = Instant::now();
        while started.elapsed() < RUN_FOR {
            std::thread::sleep(Duration::from_millis(50));
        }
        stop.store(true, Ordering::Relaxed);
        let total: u64 = threads
            .into_iter()
            .map(|t| t.join().expect("no panic"))
            .sum();
        worker.settle();
        worker.shutdown();

        let d = client.get_schedule_handle("counter").describe().unwrap();
        let ScheduleAction::StartWorkflow(action) = &d.schedule.action else {
            unreachable!()
        };
        let count = action
            .memo
            .get("count")
            .and_then(|v| v.as_u64())
            .unwrap_or(0);
        let runs = recorder.started().len();
        done_tx.send((total, count, runs)).unwrap();
    });
    let (total, count, runs) = match done_rx.recv_timeout(WATCHDOG) {
        Ok(results) => results,
        Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
            panic!("deadlock or hang: the hammering did not finish in {WATCHDOG:?}")
        }
        Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
            panic!("the hammering panicked (see above)")
        }
    };
    let callbacks = CALLBACKS.load(Ordering::Relaxed);
    println!(
        "{total} counted updates ({callbacks} callback runs: the rest were conflicts), {runs} runs"
    );
    assert!(total > 0, "some updates were made");
    assert_eq!(count, total, "every successful update is in the final memo");
    assert!(runs > 0, "the worker ran actions meanwhile");
}
