//! The journal (a `Client` with a store, driven by a `Worker` on a `ManualClock`) over a store
//! that fails or panics at random batches: bytes decode into client verbs, clock moves (seconds
//! to years), run completions, store faults, and restarts on the same records.
//!
//! Must hold: no panic reaches the caller (verbs return errors); write-ahead: every start the
//! executor receives is recorded as pending in the store at that moment; once the store heals,
//! nothing is lost: every run the client counts as running reached an executor, the store's
//! pending starts are exactly the running runs, and a client rebuilt from the store describes
//! every schedule exactly as the one before it did.

#![no_main]

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;
use schedule_engine::{CancelWorkflowAction, Client, Completion, ManualClock, Schedule, ScheduleAction, ScheduleActionStartWorkflow, ScheduleIntervalSpec, ScheduleOverlapPolicy as P, SchedulePolicy, ScheduleSpec, ScheduleUpdate, SchedulerConfig, StartWorkflowAction, StoreError, TerminateWorkflowAction, Worker, WorkflowExecutor, WorkflowOutcome};
use schedule_engine::store::{MemoryStore, RecordKind, Store, StoreChange, StoredRecord};

#[path = "bytes.rs"]
mod bytes;
use bytes::Bytes;

/// What the next batches do: `Some(true)` fail, `Some(false)` panic; empty: succeed.
type Faults = Arc<Mutex<VecDeque<bool>>>;

#[derive(Clone)]
struct FaultyStore {
    inner: MemoryStore,
    faults: Faults,
}

impl Store for FaultyStore {
    fn load(&mut self) -> Result<Vec<StoredRecord>, StoreError> {
        self.inner.load()
    }

    fn persist(&mut self, changes: &[StoreChange]) -> Result<(), StoreError> {
        let fault = self.faults.lock().unwrap().pop_front();
        match fault {
            Some(true) => Err(StoreError::io(None, "simulated I/O failure")),
            Some(false) => panic!("simulated store panic"),
            None => self.inner.persist(changes),
        }
    }
}

/// Shared by every executor of one input: starts seen, runs held open, and completions of
/// earlier lives (a dead process cannot report them; they are dropped after the checks).
#[derive(Clone, Default)]
struct Runs {
    seen: Arc<Mutex<BTreeSet<String>>>,
    held: Arc<Mutex<HashMap<String, Completion>>>,
    graveyard: Arc<Mutex<Vec<Completion>>>,
}

struct Executor {
    store: MemoryStore,
    runs: Runs,
}

impl WorkflowExecutor for Executor {
    fn start_workflow(&mut self, action: StartWorkflowAction, completion: Completion) {
        // Write-ahead: the start is recorded as pending. Or its schedule's deletion is durable:
        // a start held back by a failed batch still goes out once a batch succeeds (the engine
        // took it before the delete), but a deleted schedule's pending starts are finished.
        let key = format!("start:{}", action.workflow_id);
        let schedule = action.schedule_id.as_deref().unwrap_or("");
        let records = self.store.records();
        let pending = records.iter().any(|r| r.kind == RecordKind::PendingAction && r.id == key);
        let deleted = !records.iter().any(|r| r.kind == RecordKind::Schedule && r.id == schedule);
        assert!(pending || deleted, "{key} dispatched before it was durable");
        self.runs.seen.lock().unwrap().insert(action.workflow_id.clone());
        // A re-delivered run replaces the completion of the earlier delivery.
        let old = self.runs.held.lock().unwrap().insert(action.workflow_id, completion);
        self.runs.graveyard.lock().unwrap().extend(old);
    }

    fn cancel_workflow(&mut self, _: CancelWorkflowAction) {}

    fn terminate_workflow(&mut self, _: TerminateWorkflowAction) {}
}

struct Life {
    client: Client,
    worker: Worker,
}

fn start(store: &FaultyStore, clock: &ManualClock, runs: &Runs) -> Option<Life> {
    let client = Client::builder()
        .clock(clock.clone())
        .store(store.clone())
        .config(config())
        .on_store_error(|_| {})
        .build()
        .ok()?;
    let worker = Worker::start(&client, Executor { store: store.inner.clone(), runs: runs.clone() });
    Some(Life { client, worker })
}

/// A small buffer: a jump of years with ALLOW_ALL starts that many runs at once, and the
/// executor's write-ahead check reads the whole store for each.
fn config() -> SchedulerConfig {
    SchedulerConfig {
        max_buffer_size: 20,
        ..Default::default()
    }
}

fn schedule(b: &mut Bytes, n: usize) -> Schedule {
    Schedule {
        action: ScheduleAction::StartWorkflow(ScheduleActionStartWorkflow {
            workflow: "wf".into(),
            id: format!("a{n}"),
            task_queue: "q".into(),
            ..Default::default()
        }),
        spec: ScheduleSpec {
            intervals: vec![ScheduleIntervalSpec::new(Duration::from_secs(
                [1, 60, 3600][usize::from(b.u8() % 3)],
            ))],
            ..Default::default()
        },
        policy: SchedulePolicy {
            overlap: [P::Skip, P::BufferAll, P::AllowAll, P::CancelOther][usize::from(b.u8() % 4)],
            ..Default::default()
        },
        ..Default::default()
    }
}

fn describe_all(client: &Client) -> Vec<schedule_engine::ScheduleDescription> {
    client
        .list_schedules()
        .into_iter()
        .map(|l| client.get_schedule_handle(&l.id).describe().expect("describe"))
        .collect()
}

/// libFuzzer's panic hook aborts at any panic, even one that is caught; the store's simulated
/// panics are caught by the client on purpose, so they pass the hook by.
fn let_simulated_panics_through() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let fuzzer_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<&str>() != Some(&"simulated store panic") {
                fuzzer_hook(info);
            }
        }));
    });
}

fuzz_target!(|data: &[u8]| {
    let_simulated_panics_through();
    let mut b = Bytes(data);
    let clock = ManualClock::new(DateTime::<Utc>::from_timestamp(1_654_041_600, 0).unwrap());
    let store = FaultyStore { inner: MemoryStore::new(), faults: Faults::default() };
    let runs = Runs::default();
    let mut life = start(&store, &clock, &runs).expect("an empty store loads");
    let mut created = 0;
    for _ in 0..32 {
        if b.0.is_empty() {
            break;
        }
        let id = format!("s{}", b.u8() % 3);
        let handle = life.client.get_schedule_handle(&id);
        // Errors (not found, store failures) are fine; panics are not.
        let op = b.u8() % 12;
        if std::env::var_os("JOURNAL_TRACE").is_some() {
            eprintln!("op {op} on {id}, faults {:?}", store.faults.lock().unwrap());
        }
        match op {
            0 | 1 => {
                created += 1;
                let _ = life.client.create_schedule(&id, schedule(&mut b, created));
            }
            2 => _ = handle.delete(),
            3 => _ = handle.pause(None),
            4 => _ = handle.unpause(None),
            5 => _ = handle.trigger(None),
            6 => {
                let _ = handle.update(|input| {
                    let mut schedule = input.description.schedule;
                    schedule.state.note = Some("updated".into());
                    Some(ScheduleUpdate { schedule })
                });
            }
            7 => {
                let mut faults = store.faults.lock().unwrap();
                for _ in 0..1 + b.u8() % 3 {
                    faults.push_back(b.u8() % 2 == 0);
                }
            }
            8 => {
                let pick = usize::from(b.u8());
                let mut held = runs.held.lock().unwrap();
                let keys: Vec<String> = held.keys().cloned().collect();
                if !keys.is_empty() {
                    let c = held.remove(&keys[pick % keys.len()]).expect("held");
                    drop(held);
                    c.complete(match pick % 3 {
                        0 => WorkflowOutcome::Completed { result: None },
                        1 => WorkflowOutcome::Failed { message: "f".into() },
                        _ => WorkflowOutcome::Canceled,
                    });
                }
            }
            9 => {
                // A restart on the same records (faults may make the first attempts fail). The
                // old client must be gone first (a store has one owner): its last handle too.
                drop(handle);
                life.worker.shutdown();
                drop(life.client);
                let dead: Vec<Completion> = runs.held.lock().unwrap().drain().map(|(_, c)| c).collect();
                runs.graveyard.lock().unwrap().extend(dead);
                life = loop {
                    if let Some(l) = start(&store, &clock, &runs) {
                        break l;
                    }
                };
            }
            _ => {
                let secs = match b.u8() % 4 {
                    0 => 1,
                    1 => 61,
                    2 => 3600,
                    _ => 3 * 365 * 86_400,
                };
                clock.advance(Duration::from_secs(secs));
            }
        }
        life.worker.settle();
        if std::env::var_os("JOURNAL_TRACE").is_some() {
            let listed: Vec<String> = life.client.list_schedules().into_iter().map(|l| l.id).collect();
            let stored: Vec<String> = store.inner.records().into_iter().map(|r| format!("{:?}:{}", r.kind, r.id)).collect();
            eprintln!("   memory {listed:?}, store {stored:?}, faults {:?}", store.faults.lock().unwrap());
        }
    }

    // Heal: no more faults; a poll after the retry delay writes what waited.
    store.faults.lock().unwrap().clear();
    clock.advance(Duration::from_secs(2));
    life.worker.settle();
    let before = describe_all(&life.client);
    let running: BTreeSet<String> = before
        .iter()
        .flat_map(|d| d.info.running_actions.iter().map(|r| r.workflow_id.clone()))
        .collect();
    let seen = runs.seen.lock().unwrap().clone();
    assert!(running.is_subset(&seen), "running but never delivered: {:?}", running.difference(&seen));
    // Changes that record no action may wait for the next batch (on a `ManualClock` until the
    // clock moves); a mutation is never deferred, so a refused one writes everything now.
    assert!(life.client.get_schedule_handle("none").pause(None).is_err());
    life.worker.shutdown();
    drop(life.client);
    let pending: BTreeSet<String> = store
        .inner
        .records()
        .into_iter()
        .filter(|r| r.kind == RecordKind::PendingAction)
        .filter_map(|r| r.id.strip_prefix("start:").map(str::to_owned))
        .collect();
    assert_eq!(pending, running, "the store's pending starts are not the running runs");
    let rebuilt = Client::builder()
        .clock(clock.clone())
        .store(store.inner.clone())
        .config(config())
        .build()
        .expect("the healed store loads");
    let after = describe_all(&rebuilt);
    if after != before {
        for (a, b) in after.iter().zip(&before) {
            if a != b {
                let (mut ai, mut bi) = (a.info.clone(), b.info.clone());
                ai.running_actions.truncate(3);
                bi.running_actions.truncate(3);
                ai.recent_actions.clear();
                bi.recent_actions.clear();
                eprintln!("rebuilt {}: {:?} token {}\nbefore  {}: {:?} token {}", a.id, ai, a.conflict_token, b.id, bi, b.conflict_token);
            }
        }
        panic!("the store lost or changed state ({} schedules rebuilt, {} before)", after.len(), before.len());
    }
    // Completions still held report to clients that are gone from the checks' point of view.
    drop(rebuilt);
    let held: Vec<Completion> = runs.held.lock().unwrap().drain().map(|(_, c)| c).collect();
    drop(held);
    let dead = std::mem::take(&mut *runs.graveyard.lock().unwrap());
    drop(dead);
});
