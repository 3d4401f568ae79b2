//! [`Persistence`]: what a `Client` with a [`Store`] does around every scheduler call.
//!
//! After each mutation or poll the client calls [`Persistence::commit`] under its lock. It turns
//! the scheduler's change feed into store records, adds the actions the call produced as pending
//! actions, and writes everything not yet durable as one atomic batch. Only when that batch is
//! durable are actions released to the worker.
//!
//! Invariants:
//! * `dirty` holds, per record key, the latest value not yet durable (`None` = delete). A failed
//!   batch is put back, so nothing is lost and nothing is written twice in different versions.
//! * `held` holds actions whose batch is not durable yet, plus, after a restart, the pending
//!   actions found in the store. They leave only through a poll whose batch is durable.
//! * A pending action is deleted in the same batch that records its run as no longer running
//!   (the schedule's `running` list or the standalone workflow's `running` flag), so a restart
//!   re-delivers exactly the actions whose outcome was never recorded.

use std::collections::{HashMap, HashSet};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use serde::de::DeserializeOwned;

use crate::engine::{
    Action, ScheduleError, ScheduleRecord, Scheduler, SchedulerConfig, SchedulerSnapshot,
    StateChange, WorkflowRecord,
};

use super::{
    contain, panic_message, RecordKind, Store, StoreChange, StoreError, StoreErrorKind,
    StoredRecord,
};

/// How soon a poll whose batch failed is retried.
pub(crate) const STORE_RETRY: Duration = Duration::from_secs(1);

/// The longest that changes recording no action wait to share a batch with the next ones.
pub(crate) const MAX_DEFER: Duration = Duration::from_secs(1);

/// Changes that record no action wait at most this many times what a batch costs the store
/// (an average of recent batches, in real time), within [`MAX_DEFER`]: a busy store (big or
/// slow batches) folds a run's close into the next start's batch, which halves its writes, and
/// an idle one writes the close at once, which keeps the window in which a crash re-delivers a
/// run that already closed to a few batch times. Batch writes for these changes then take at
/// most a quarter of the store's time.
const DEFER_PER_BATCH_COST: u32 = 4;

/// Below this a wait is not worth a wake-up of the worker: the changes are written at once.
const MIN_DEFER: Duration = Duration::from_millis(1);

/// The user's `on_store_error` callback.
pub(crate) type StoreErrorHook = Arc<dyn Fn(&StoreError) + Send + Sync>;

/// A result of a scheduler call, as persistence sees it.
pub(crate) trait Durable: Sized {
    /// Actions this call produced; recorded as pending in the call's batch.
    fn actions(&self) -> &[Action] {
        &[]
    }

    /// Whether the call's changes may wait (a few batch costs, at most [`MAX_DEFER`]) for the
    /// next batch: true for changes that record no action and that no caller waits on
    /// (reported outcomes, a poll with nothing due). On a busy store a run then costs one
    /// record write per fire instead of two (its start and its close share a batch). A crash
    /// in between only delivers the closed runs again.
    fn may_defer(&self) -> bool {
        false
    }

    /// The result when its changes wait; `flush_at` is when they must be written.
    fn deferred(self, _flush_at: DateTime<Utc>) -> Self {
        self
    }

    /// The result when everything is durable; `held` are actions now safe to release.
    fn durable(self, _held: &mut Vec<Action>) -> Self {
        self
    }

    /// The result when the batch failed: actions move to `held`, to be retried at `retry_at`.
    fn not_durable(
        self,
        error: &StoreError,
        held: &mut Vec<Action>,
        retry_at: DateTime<Utc>,
    ) -> Self;
}

impl Durable for () {
    fn may_defer(&self) -> bool {
        true
    }

    fn not_durable(self, _: &StoreError, _: &mut Vec<Action>, _: DateTime<Utc>) -> Self {}
}

/// A mutation: `Ok` only once its change is durable.
impl<T> Durable for Result<T, ScheduleError> {
    fn not_durable(self, error: &StoreError, _: &mut Vec<Action>, _: DateTime<Utc>) -> Self {
        // A refused mutation changed nothing; its error says more than the store's.
        self.and_then(|_| Err(ScheduleError::Store(error.clone())))
    }
}

/// A poll: the actions due and the next wakeup.
impl Durable for (Vec<Action>, Option<DateTime<Utc>>) {
    fn actions(&self) -> &[Action] {
        &self.0
    }

    fn may_defer(&self) -> bool {
        self.0.is_empty()
    }

    fn deferred(self, flush_at: DateTime<Utc>) -> Self {
        let (actions, wakeup) = self;
        (actions, Some(wakeup.map_or(flush_at, |w| w.min(flush_at))))
    }

    fn durable(self, held: &mut Vec<Action>) -> Self {
        if held.is_empty() {
            return self;
        }
        let (actions, wakeup) = self;
        let mut released = std::mem::take(held);
        released.extend(actions);
        (released, wakeup)
    }

    fn not_durable(self, _: &StoreError, held: &mut Vec<Action>, retry_at: DateTime<Utc>) -> Self {
        let (actions, wakeup) = self;
        held.extend(actions);
        let wakeup = Some(wakeup.map_or(retry_at, |w| w.min(retry_at)));
        (Vec::new(), wakeup)
    }
}

/// A client's store with what is not yet durable.
pub(crate) struct Persistence {
    journal: Mutex<Journal>,
    on_error: Option<StoreErrorHook>,
    /// Whether the last batch failed (the default report prints transitions only).
    failing: Mutex<bool>,
}

struct Journal {
    store: Box<dyn Store>,
    dirty: HashMap<(RecordKind, String), Option<String>>,
    held: Vec<Action>,
    pending: PendingIndex,
    /// Since when changes have been left in the scheduler for a later batch.
    deferred_since: Option<DateTime<Utc>>,
    /// What a batch costs the store: a moving average of `persist` calls in real time.
    batch_cost: Duration,
}

impl Persistence {
    /// Loads `store` and rebuilds the scheduler from it.
    ///
    /// # Errors
    /// The store's own load error, or [`StoreErrorKind::InvalidRecord`] for a record that does
    /// not decode: a store is used completely or not at all.
    pub(crate) fn open(
        mut store: Box<dyn Store>,
        on_error: Option<StoreErrorHook>,
        config: SchedulerConfig,
    ) -> Result<(Persistence, Scheduler), StoreError> {
        let records = contain(None, || store.load()).map_err(|mut e| {
            if e.path.is_none() {
                e.path = store.location().map(Path::to_path_buf);
            }
            e
        })?;
        let location = store.location();
        let mut snapshot = SchedulerSnapshot::default();
        let mut actions = Vec::new();
        for record in &records {
            match record.kind {
                RecordKind::Schedule => {
                    let schedule: ScheduleRecord = decode(location, record)?;
                    check_key(location, record, &schedule.id)?;
                    snapshot.schedules.push(schedule);
                }
                RecordKind::Workflow => {
                    let workflow: WorkflowRecord = decode(location, record)?;
                    check_key(location, record, &workflow.workflow_id)?;
                    snapshot.workflows.push(workflow);
                }
                RecordKind::PendingAction => {
                    let action: Action = decode(location, record)?;
                    check_key(location, record, &pending_key(&action))?;
                    actions.push(action);
                }
            }
        }
        snapshot.schedules.sort_by(|a, b| a.id.cmp(&b.id));
        snapshot
            .workflows
            .sort_by(|a, b| a.workflow_id.cmp(&b.workflow_id));

        let mut journal = Journal {
            store,
            dirty: HashMap::new(),
            held: Vec::new(),
            pending: PendingIndex::default(),
            deferred_since: None,
            batch_cost: Duration::ZERO,
        };
        for action in &actions {
            journal.pending.insert(action);
        }
        // Drop pending actions the stored state says are finished (a store written by hand or
        // by another implementation may disagree with itself; the state wins).
        let finished: HashSet<String> = journal
            .pending
            .reconcile_all(&snapshot)
            .into_iter()
            .collect();
        actions.retain(|a| !finished.contains(&pending_key(a)));
        journal.drop_pending(finished);
        actions.sort_by_key(redelivery_order);
        journal.held = actions;

        let mut scheduler = Scheduler::restore(snapshot, config);
        // Restoring may normalise records; those versions are written with the first batch.
        journal.absorb(scheduler.take_changes())?;
        let persistence = Persistence {
            journal: Mutex::new(journal),
            on_error,
            failing: Mutex::new(false),
        };
        Ok((persistence, scheduler))
    }

    /// Makes everything `result`'s call changed durable, then returns what the caller may see:
    /// see [`Durable`]. A failure is returned too, to be [`report`](Persistence::report)ed once
    /// the client's lock is released.
    pub(crate) fn commit<R: Durable>(
        &self,
        scheduler: &mut Scheduler,
        now: DateTime<Utc>,
        result: R,
    ) -> (R, Option<StoreError>) {
        let mut journal = self.journal.lock();
        let journal = &mut *journal;
        let wait = (journal.batch_cost * DEFER_PER_BATCH_COST).min(MAX_DEFER);
        if result.may_defer()
            && wait >= MIN_DEFER
            && journal.held.is_empty()
            && journal.dirty.is_empty()
        {
            // A clock set back restarts the wait rather than stretching it.
            let since = match journal.deferred_since {
                Some(since) if since <= now => since,
                _ => *journal.deferred_since.insert(now),
            };
            let flush_at = since + chrono::Duration::from_std(wait).unwrap_or_default();
            if now < flush_at {
                return (result.deferred(flush_at), None);
            }
        }
        journal.deferred_since = None;
        // The actions are recorded as pending even if some record failed to encode: they are
        // held then, and must be redelivered after a crash once they go out.
        let absorbed = journal.absorb(scheduler.take_changes());
        let recorded = journal.add_pending(result.actions());
        let outcome = absorbed.and(recorded).and_then(|()| journal.flush());
        match outcome {
            Ok(()) => (result.durable(&mut journal.held), None),
            Err(e) => {
                let retry_at = now + chrono::Duration::from_std(STORE_RETRY).unwrap_or_default();
                let result = result.not_durable(&e, &mut journal.held, retry_at);
                (result, Some(e))
            }
        }
    }

    /// Writes everything not yet durable (deferred changes included), as when the client goes
    /// away.
    pub(crate) fn flush(
        &self,
        scheduler: &mut Scheduler,
        now: DateTime<Utc>,
    ) -> Option<StoreError> {
        let (_, failure) = self.commit(scheduler, now, Ok::<(), ScheduleError>(()));
        failure
    }

    /// Tells the user about a failed batch: their hook, or standard error on the first failure
    /// after a success.
    pub(crate) fn report(&self, error: Option<StoreError>) {
        let mut failing = self.failing.lock();
        let Some(error) = error else {
            *failing = false;
            return;
        };
        let first = !*failing;
        *failing = true;
        drop(failing);
        match &self.on_error {
            // The hook's panic must not stop a worker (nor a mutation that already happened).
            Some(hook) => {
                if let Err(panic) = catch_unwind(AssertUnwindSafe(|| hook(&error))) {
                    eprintln!(
                        "schedule-engine: the on_store_error hook panicked ({}) on: {error}",
                        panic_message(panic.as_ref())
                    );
                }
            }
            None if first => eprintln!(
                "schedule-engine: {error}; actions are held until the store accepts writes \
                 (set ClientBuilder::on_store_error to handle this)"
            ),
            None => {}
        }
    }
}

/// Marks record `id` of `kind` for writing with its encoding `data`, or keeps the first
/// encoding error.
fn put(
    dirty: &mut HashMap<(RecordKind, String), Option<String>>,
    kind: RecordKind,
    id: String,
    data: Result<String, StoreError>,
    first_error: &mut Option<StoreError>,
) {
    match data {
        Ok(data) => _ = dirty.insert((kind, id), Some(data)),
        Err(e) => _ = first_error.get_or_insert(e),
    }
}

impl Journal {
    /// Turns engine changes into dirty records, and drops pending actions they finish. A record
    /// that cannot be encoded does not stop the others (the feed is consumed): the first such
    /// error is returned after all the rest are taken.
    fn absorb(&mut self, changes: Vec<StateChange>) -> Result<(), StoreError> {
        let mut first_error = None;
        for change in changes {
            match change {
                StateChange::UpsertSchedule(record) => {
                    let finished = self.pending.finished_in_schedule(&record);
                    self.drop_pending(finished);
                    let data = self.encode(&record.id, &record);
                    put(
                        &mut self.dirty,
                        RecordKind::Schedule,
                        record.id,
                        data,
                        &mut first_error,
                    );
                }
                StateChange::RemoveSchedule(id) => {
                    let finished = self.pending.remove_schedule(&id);
                    self.drop_pending(finished);
                    self.dirty.insert((RecordKind::Schedule, id), None);
                }
                StateChange::UpsertWorkflow(record) => {
                    if !record.running {
                        let finished = self.pending.remove_workflow(&record.workflow_id);
                        self.drop_pending(finished);
                    }
                    let data = self.encode(&record.workflow_id, &record);
                    let id = record.workflow_id;
                    put(
                        &mut self.dirty,
                        RecordKind::Workflow,
                        id,
                        data,
                        &mut first_error,
                    );
                }
                StateChange::RemoveWorkflow(id) => {
                    let finished = self.pending.remove_workflow(&id);
                    self.drop_pending(finished);
                    self.dirty.insert((RecordKind::Workflow, id), None);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Marks the pending actions `keys` for deletion.
    fn drop_pending(&mut self, keys: impl IntoIterator<Item = String>) {
        for key in keys {
            self.dirty.insert((RecordKind::PendingAction, key), None);
        }
    }

    fn add_pending(&mut self, actions: &[Action]) -> Result<(), StoreError> {
        for action in actions {
            let key = self.pending.insert(action);
            let data = self.encode(&key, action)?;
            self.dirty
                .insert((RecordKind::PendingAction, key), Some(data));
        }
        Ok(())
    }

    /// Writes every dirty record in one batch; on failure they stay dirty.
    fn flush(&mut self) -> Result<(), StoreError> {
        if self.dirty.is_empty() {
            return Ok(());
        }
        let batch: Vec<StoreChange> = self
            .dirty
            .drain()
            .map(|((kind, id), data)| match data {
                Some(data) => StoreChange::Put(StoredRecord { kind, id, data }),
                None => StoreChange::Delete { kind, id },
            })
            .collect();
        // A panicking store is a failed batch: the batch goes back, as for an error, and the
        // panic stops here (it would otherwise lose the batch and unwind through the client).
        let store = &mut self.store;
        let started = Instant::now();
        let persisted = contain(None, || store.persist(&batch));
        // A moving average over about four batches.
        self.batch_cost = (self.batch_cost * 3 + started.elapsed()) / 4;
        match persisted {
            Ok(()) => Ok(()),
            Err(mut e) => {
                if e.path.is_none() {
                    e.path = self.store.location().map(Path::to_path_buf);
                }
                for change in batch {
                    match change {
                        StoreChange::Put(r) => self.dirty.insert((r.kind, r.id), Some(r.data)),
                        StoreChange::Delete { kind, id } => self.dirty.insert((kind, id), None),
                    };
                }
                Err(e)
            }
        }
    }

    fn encode<T: serde::Serialize>(&self, id: &str, value: &T) -> Result<String, StoreError> {
        serde_json::to_string(value).map_err(|e| {
            StoreError::new(
                self.store.location(),
                StoreErrorKind::InvalidRecord {
                    table: "(encoding)".into(),
                    id: id.to_string(),
                    detail: e.to_string(),
                },
            )
        })
    }
}

/// Pending actions by the owner whose state says when they are finished.
#[derive(Default)]
struct PendingIndex {
    /// Schedule id → (pending key, workflow id).
    by_schedule: HashMap<String, Vec<(String, String)>>,
    /// Standalone workflow id → pending keys.
    by_workflow: HashMap<String, Vec<String>>,
}

impl PendingIndex {
    /// Indexes `action`; returns its key.
    fn insert(&mut self, action: &Action) -> String {
        let key = pending_key(action);
        let (schedule_id, workflow_id) = owner(action);
        match schedule_id {
            Some(schedule_id) => {
                let entries = self.by_schedule.entry(schedule_id.to_string()).or_default();
                if !entries.iter().any(|(k, _)| *k == key) {
                    entries.push((key.clone(), workflow_id.to_string()));
                }
            }
            None => {
                let keys = self.by_workflow.entry(workflow_id.to_string()).or_default();
                if !keys.contains(&key) {
                    keys.push(key.clone());
                }
            }
        }
        key
    }

    /// Keys of the schedule's pending actions whose run `record` no longer lists as running.
    fn finished_in_schedule(&mut self, record: &ScheduleRecord) -> Vec<String> {
        let Some(entries) = self.by_schedule.get_mut(&record.id) else {
            return Vec::new();
        };
        let mut finished = Vec::new();
        entries.retain_mut(|(key, workflow_id)| {
            let running = record.running.iter().any(|r| r.workflow_id == *workflow_id);
            if !running {
                // The entry goes: its key moves out instead of being copied.
                finished.push(std::mem::take(key));
            }
            running
        });
        if entries.is_empty() {
            self.by_schedule.remove(&record.id);
        }
        finished
    }

    fn remove_schedule(&mut self, id: &str) -> Vec<String> {
        self.by_schedule
            .remove(id)
            .map(|v| v.into_iter().map(|(k, _)| k).collect())
            .unwrap_or_default()
    }

    fn remove_workflow(&mut self, id: &str) -> Vec<String> {
        self.by_workflow.remove(id).unwrap_or_default()
    }

    /// Drops every entry the snapshot says is finished; returns their keys.
    fn reconcile_all(&mut self, snapshot: &SchedulerSnapshot) -> Vec<String> {
        let mut finished = Vec::new();
        let schedule_ids: Vec<String> = self.by_schedule.keys().cloned().collect();
        for id in schedule_ids {
            match snapshot.schedules.binary_search_by(|s| s.id.cmp(&id)) {
                Ok(i) => finished.extend(self.finished_in_schedule(&snapshot.schedules[i])),
                Err(_) => finished.extend(self.remove_schedule(&id)),
            }
        }
        let workflow_ids: Vec<String> = self.by_workflow.keys().cloned().collect();
        for id in workflow_ids {
            let running = snapshot
                .workflows
                .binary_search_by(|w| w.workflow_id.cmp(&id))
                .is_ok_and(|i| snapshot.workflows[i].running);
            if !running {
                finished.extend(self.remove_workflow(&id));
            }
        }
        finished
    }
}

/// The store key of a pending action: `<start|cancel|terminate>:<workflow id>`.
fn pending_key(action: &Action) -> String {
    let (verb, workflow_id) = match action {
        Action::StartWorkflow(a) => ("start", &a.workflow_id),
        Action::CancelWorkflow(a) => ("cancel", &a.workflow_id),
        Action::TerminateWorkflow(a) => ("terminate", &a.workflow_id),
    };
    format!("{verb}:{workflow_id}")
}

/// The schedule (if any) and workflow an action is about.
fn owner(action: &Action) -> (Option<&str>, &str) {
    match action {
        Action::StartWorkflow(a) => (a.schedule_id.as_deref(), &a.workflow_id),
        Action::CancelWorkflow(a) => (a.schedule_id.as_deref(), &a.workflow_id),
        Action::TerminateWorkflow(a) => (a.schedule_id.as_deref(), &a.workflow_id),
    }
}

/// Starts first, oldest due first, then cancels and terminations: a run is started again before
/// anything asks it to stop.
fn redelivery_order(action: &Action) -> (u8, Option<DateTime<Utc>>, String) {
    match action {
        Action::StartWorkflow(a) => (0, Some(a.scheduled_at), a.workflow_id.clone()),
        Action::CancelWorkflow(a) => (1, None, a.workflow_id.clone()),
        Action::TerminateWorkflow(a) => (2, None, a.workflow_id.clone()),
    }
}

fn decode<T: DeserializeOwned>(
    location: Option<&Path>,
    record: &StoredRecord,
) -> Result<T, StoreError> {
    serde_json::from_str(&record.data).map_err(|e| invalid(location, record, e.to_string()))
}

fn check_key(location: Option<&Path>, record: &StoredRecord, id: &str) -> Result<(), StoreError> {
    if record.id == id {
        Ok(())
    } else {
        Err(invalid(
            location,
            record,
            format!("the record's own id is {id:?}"),
        ))
    }
}

fn invalid(location: Option<&Path>, record: &StoredRecord, detail: String) -> StoreError {
    StoreError::new(
        location,
        StoreErrorKind::InvalidRecord {
            table: record.kind.name().to_string(),
            id: record.id.clone(),
            detail,
        },
    )
}
