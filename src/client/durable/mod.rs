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

mod journal;
mod load;
mod outcome;
mod pending;

pub(crate) use outcome::Durable;
pub(crate) use pending::pending_key;
#[cfg(feature = "postgres")]
pub(crate) use pending::start_key;

use std::collections::{HashMap, HashSet};

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use parking_lot::Mutex;

use crate::engine::{
    Action, ScheduleRecord, Scheduler, SchedulerConfig, SchedulerSnapshot, WorkflowRecord,
};
use crate::error::ScheduleError;
use crate::store::{call_hook, contain, RecordKind, Store, StoreError, StoreErrorHook};

use journal::Journal;
use load::{check_key, decode};
use pending::{redelivery_order, PendingIndex};

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

/// A client's store with what is not yet durable.
pub(crate) struct Persistence {
    journal: Mutex<Journal>,
    on_error: Option<StoreErrorHook>,
    /// Whether the last batch failed (the default report prints transitions only).
    failing: Mutex<bool>,
    /// Whether changes that record no action may wait for a later batch (see [`Durable`]).
    defer: bool,
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
            defer: true,
        };
        Ok((persistence, scheduler))
    }

    /// Writes every change with the call that made it, closed runs included: a cluster node's
    /// partitions are read by other nodes from their records, which must not lag.
    #[cfg(feature = "postgres")]
    pub(crate) fn without_deferral(mut self) -> Self {
        self.defer = false;
        self
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
        if self.defer
            && result.may_defer()
            && wait >= MIN_DEFER
            && journal.held.is_empty()
            && journal.dirty.is_empty()
        {
            // A clock set back restarts the wait rather than stretching it.
            let since = match journal.deferred_since {
                Some(since) if since <= now => since,
                _ => *journal.deferred_since.insert(now),
            };
            let wait = chrono::Duration::from_std(wait)
                .expect("invariant: a deferral is at most MAX_DEFER");
            let flush_at = since + wait;
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
                let retry = chrono::Duration::from_std(STORE_RETRY)
                    .expect("invariant: STORE_RETRY is a second");
                let retry_at = now + retry;
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

    /// Everything not yet durable (the scheduler's changes and the deferred ones) as one batch,
    /// for a transaction of the caller's: a cluster node writes its command batches this way,
    /// in the transaction that marks the commands applied. The batch leaves the journal, so if
    /// that transaction fails the caller must drop this state and load it again from the
    /// store (where it is the truth). The first record that could not be encoded is returned
    /// beside the others.
    #[cfg(feature = "postgres")]
    pub(crate) fn take_batch(
        &self,
        scheduler: &mut Scheduler,
    ) -> (Vec<crate::store::StoreChange>, Option<StoreError>) {
        let mut journal = self.journal.lock();
        journal.deferred_since = None;
        let absorbed = journal.absorb(scheduler.take_changes()).err();
        (journal.take_dirty(), absorbed)
    }

    /// Takes out of the held actions those whose pending key `marks` names, each with its mark
    /// (a cluster node: starts whose runs the partition's records say are open on another
    /// member's executor), so that no poll redelivers them. They stay pending: a close of
    /// their run finishes them as any other.
    #[cfg(feature = "postgres")]
    pub(crate) fn withhold(&self, marks: &HashMap<String, String>) -> Vec<(Action, String)> {
        let mut journal = self.journal.lock();
        let mut withheld = Vec::new();
        journal
            .held
            .retain(|action| match marks.get(&pending_key(action)) {
                Some(member) => {
                    withheld.push((action.clone(), member.clone()));
                    false
                }
                None => true,
            });
        withheld
    }

    /// Hands withheld actions back, to be redelivered by the next poll: those still pending
    /// (a run closed meanwhile is not started again). Each is written again with that poll's
    /// batch, which clears the partition's mark of where it ran. Returns how many.
    #[cfg(feature = "postgres")]
    pub(crate) fn redeliver(&self, actions: Vec<Action>) -> usize {
        let mut journal = self.journal.lock();
        let mut again: Vec<Action> = actions
            .into_iter()
            .filter(|a| journal.pending.contains(a))
            .collect();
        // An action that cannot be encoded again keeps its stored form (and its mark): a
        // later owner finds that member gone too.
        let _ = journal.add_pending(&again);
        let count = again.len();
        journal.held.append(&mut again);
        journal.held.sort_by_key(redelivery_order);
        count
    }

    /// Whether `action` is still pending (its run not recorded closed).
    #[cfg(feature = "postgres")]
    pub(crate) fn is_pending(&self, action: &Action) -> bool {
        self.journal.lock().pending.contains(action)
    }

    /// Tells the user about a failed batch: their hook, or standard error on the first failure
    /// after a success.
    pub(crate) fn report(&self, error: Option<StoreError>) {
        let mut failing = self.failing.lock();
        let Some(error) = error else {
            if std::mem::take(&mut *failing) {
                tracing::info!("the store accepts writes again");
            }
            return;
        };
        let first = !*failing;
        *failing = true;
        drop(failing);
        if first {
            tracing::error!(%error, "the store refused a batch; actions are held until it accepts one");
        } else {
            tracing::debug!(%error, "the store still refuses writes");
        }
        match &self.on_error {
            Some(hook) => call_hook(hook, &error),
            None if first => eprintln!(
                "schedule-engine: {error}; actions are held until the store accepts writes \
                 (set ClientBuilder::on_store_error to handle this)"
            ),
            None => {}
        }
    }
}
