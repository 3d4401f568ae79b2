//! The facade: the client's verbs, the worker, concurrent callers and the update loop.

#[cfg(feature = "tokio")]
mod async_registry;
mod client;
mod concurrency;
mod events;
mod tracing;
mod update_conflict;
mod upsert;
mod worker;

use crate::util::facade::{at, Recorder};
use schedule_engine::{Client, ManualClock, Worker};

/// A client on a manual clock at `at(0)` with a worker running `recorder`.
pub fn setup(recorder: &Recorder) -> (Client, ManualClock, Worker) {
    let clock = ManualClock::new(at(0));
    let client = Client::builder().clock(clock.clone()).build().unwrap();
    let worker = Worker::start(&client, recorder.clone());
    (client, clock, worker)
}
