//! Tracing: the client's verbs run in a span naming the verb and the id, with an event for
//! their result; the worker reports each dispatch and each run's end (failures warn) and the
//! store's failures. Captured by the hand-written subscriber of `util::trace`.

use std::sync::atomic::Ordering;

use crate::util::engine::{action_mut, mins};
use crate::util::facade::{at, every};
use crate::util::store::FlakyStore;
use crate::util::trace::{capture, captured, Captured};
use schedule_engine::{Client, ManualClock, Worker, WorkflowRegistry};
use tracing::Level;

/// The (level, message) pairs of `events`.
fn messages(events: &[Captured]) -> Vec<(Level, &str)> {
    events.iter().map(|e| (e.level, e.message())).collect()
}

#[test]
fn verbs_dispatches_outcomes_and_store_failures_are_traced() {
    capture();
    let clock = ManualClock::new(at(0));
    let store = FlakyStore::default();
    let client = Client::builder()
        .clock(clock.clone())
        .store(store.clone())
        .on_store_error(|_| {})
        .build()
        .unwrap();
    let registry = WorkflowRegistry::new()
        .threads(0)
        .register("wf", |_ctx| -> Result<(), _> { Err("no luck".into()) });
    let worker = Worker::start(&client, registry);

    let mut s = every(mins(5));
    action_mut(&mut s).id = "traced-run".into();
    client.create_schedule("traced-verbs", s).unwrap();
    let verb = captured("traced-verbs");
    assert_eq!(messages(&verb), [(Level::DEBUG, "applied")]);
    assert_eq!(verb[0].field("verb"), Some("create_schedule"));

    let missing = client.get_schedule_handle("traced-missing").pause(None);
    assert!(missing.is_err());
    let refused = captured("traced-missing");
    assert_eq!(messages(&refused), [(Level::DEBUG, "refused")]);
    assert_eq!(refused[0].field("verb"), Some("pause"));
    let error = refused[0].field("error").unwrap();
    assert!(error.contains("traced-missing"), "{error}");

    clock.set(at(300));
    worker.settle();
    let run = captured("traced-run");
    assert_eq!(
        messages(&run),
        [(Level::DEBUG, "starting run"), (Level::WARN, "run failed")]
    );
    assert_eq!(run[0].field("schedule_id"), Some("traced-verbs"));
    assert_eq!(run[0].field("workflow"), Some("wf"));
    assert_eq!(run[1].field("failure"), Some("no luck"));

    // The store refuses a batch: the journal reports the failure (once) and later the recovery,
    // inside the span of the verb that met them; the refused verb still applied in memory.
    store.failing.store(true, Ordering::SeqCst);
    let paused = client
        .get_schedule_handle("traced-verbs")
        .pause(Some("traced-note"));
    assert!(paused.is_err());
    store.failing.store(false, Ordering::SeqCst);
    client
        .get_schedule_handle("traced-verbs")
        .unpause(None)
        .unwrap();
    let verbs: Vec<(Level, String)> = captured("traced-verbs")
        .iter()
        .filter(|e| e.field("verb").is_some())
        .map(|e| {
            (
                e.level,
                format!("{} {}", e.field("verb").unwrap(), e.message()),
            )
        })
        .collect();
    assert_eq!(
        verbs,
        [
            (Level::DEBUG, "create_schedule applied".to_owned()),
            (
                Level::ERROR,
                "pause the store refused a batch; actions are held until it accepts one".to_owned()
            ),
            (
                Level::WARN,
                "pause applied in memory, not stored".to_owned()
            ),
            (
                Level::INFO,
                "unpause the store accepts writes again".to_owned()
            ),
            (Level::DEBUG, "unpause applied".to_owned()),
        ]
    );
    worker.shutdown();
}
