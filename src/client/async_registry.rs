//! [`AsyncWorkflowRegistry`] (feature `tokio`): a ready [`WorkflowExecutor`] that runs async
//! closures, registered by workflow type name, as tasks on the user's tokio runtime.
//!
//! Invariants:
//! - Each run is reported exactly once, by whichever comes first: its future's output, its
//!   panic, its timeout, a terminate, or the task being dropped unfinished (runtime shut down,
//!   aborted); the completion is taken out of the run's slot under a lock.
//! - Nothing here blocks a thread: the worker's thread only spawns onto the runtime, and the
//!   tasks only take short locks (the run table; the completion channel).
//! - `in_flight` counts tasks from their spawn until their future is dropped, so [`idle`]
//!   (and [`shutdown`]) wait for terminated runs too, until the abort has reached them.
//!
//! [`idle`]: AsyncWorkflowRegistry::idle
//! [`shutdown`]: AsyncWorkflowRegistry::shutdown

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use parking_lot::Mutex;
use serde::Serialize;
use tokio::runtime::Handle;
use tokio::sync::Notify;
use tokio::task::AbortHandle;

use crate::engine::{
    CancelWorkflowAction, StartWorkflowAction, TerminateWorkflowAction, WorkflowOutcome,
};

use super::context::{
    outcome_of, to_json, unknown_workflow, RunSlot, WorkflowContext, WorkflowError,
};
use super::executor::{Completion, WorkflowExecutor};
use super::worker::Worker;

type RunFuture = Pin<Box<dyn Future<Output = Result<serde_json::Value, WorkflowError>> + Send>>;
type AsyncWorkflowFn = dyn Fn(WorkflowContext) -> RunFuture + Send + Sync;

/// A [`WorkflowExecutor`] mapping workflow type names to async closures, each run spawned as a
/// task on a tokio runtime (feature `tokio`). It works on a current-thread runtime as on a
/// multi-thread one: the [`Worker`]'s thread only spawns, and never waits on the runtime.
///
/// How a run is reported:
/// - `Ok(value)`: [`WorkflowOutcome::Completed`] with the value serialized to JSON (a value that
///   fails to serialize is a failed run);
/// - `Err(e)`: [`WorkflowOutcome::Failed`] with `e`'s message;
/// - a panic (in the closure or its future): [`WorkflowOutcome::Failed`] with
///   "workflow panicked: ...", and the schedule goes on;
/// - the task dropped unfinished (its runtime shut down, say): [`WorkflowOutcome::Failed`];
/// - an unregistered workflow name: [`WorkflowOutcome::Failed`] at once, naming it;
/// - cancel (overlap policy `CancelOther`): [`WorkflowContext::cancelled`] completes and
///   [`WorkflowContext::is_cancel_requested`] turns true; the workflow decides. One that then
///   returns `Err` is [`WorkflowOutcome::Canceled`] (Temporal's outcome for a run that honours
///   the request), one that returns `Ok` completed normally;
/// - terminate (`TerminateOther`): reported [`WorkflowOutcome::Terminated`] at once and the
///   task is aborted (its future is dropped at its next `.await`);
/// - the action's `execution_timeout` or `run_timeout` (the shorter; zero means none, as in
///   Temporal) elapsing first: [`WorkflowOutcome::TimedOut`], and the future is dropped. Timeouts
///   run on tokio's clock, so the runtime needs its time driver (`enable_time`, or
///   `enable_all` as `#[tokio::main]` does); without it a run with a timeout fails.
///
/// Clones share their runs. Dropping the registry (as [`Worker::shutdown`] does) leaves its
/// runs going; they report to the client when they end. To wait for them without blocking the
/// runtime, keep a clone and await [`idle`](AsyncWorkflowRegistry::idle), or
/// [`shutdown`](AsyncWorkflowRegistry::shutdown) the worker through it.
///
/// ```
/// use schedule_engine::{AsyncWorkflowRegistry, Client, Worker, WorkflowContext};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let registry = AsyncWorkflowRegistry::new(tokio::runtime::Handle::current())
///     .register("add", |ctx: WorkflowContext| async move {
///         let a: i64 = ctx.arg(0)?;
///         let b: i64 = ctx.arg(1)?;
///         Ok(a + b)
///     });
/// let worker = Worker::start(&Client::new(), registry.clone());
/// // ... create schedules; then, to stop without blocking the runtime:
/// registry.shutdown(worker).await;
/// # }
/// ```
#[derive(Clone)]
pub struct AsyncWorkflowRegistry {
    runtime: Handle,
    workflows: Arc<BTreeMap<String, Arc<AsyncWorkflowFn>>>,
    runs: Arc<Runs>,
}

impl AsyncWorkflowRegistry {
    /// An empty registry whose runs are spawned on `runtime`
    /// (`tokio::runtime::Handle::current()` inside async code).
    #[must_use]
    pub fn new(runtime: Handle) -> Self {
        AsyncWorkflowRegistry {
            runtime,
            workflows: Arc::default(),
            runs: Arc::default(),
        }
    }

    /// Registers `workflow` under the workflow type name `name` (replacing any earlier one):
    /// a closure taking the run's [`WorkflowContext`] and returning its future, typically
    /// `|ctx| async move { .. }`.
    #[must_use]
    pub fn register<F, Fut, T>(mut self, name: impl Into<String>, workflow: F) -> Self
    where
        F: Fn(WorkflowContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, WorkflowError>> + Send + 'static,
        T: Serialize,
    {
        let f = move |ctx: WorkflowContext| -> RunFuture {
            let run = workflow(ctx);
            Box::pin(async move { to_json(run.await?) })
        };
        Arc::make_mut(&mut self.workflows).insert(name.into(), Arc::new(f));
        self
    }

    /// The registered workflow type names, in order.
    pub fn workflow_names(&self) -> impl Iterator<Item = &str> {
        self.workflows.keys().map(String::as_str)
    }

    /// How many runs are in flight: spawned, and their task not yet finished or dropped.
    #[must_use]
    pub fn in_flight(&self) -> usize {
        self.runs.table.lock().alive
    }

    /// Completes when no run is in flight (at once if none is). Runs started meanwhile are
    /// waited for too.
    pub async fn idle(&self) {
        loop {
            let notified = self.runs.idle.notified();
            let mut notified = std::pin::pin!(notified);
            // Registered before the count is read, so a run ending between the two wakes it.
            notified.as_mut().enable();
            if self.in_flight() == 0 {
                return;
            }
            notified.await;
        }
    }

    /// Shuts `worker` down and waits for the runs in flight, blocking no thread: first no more
    /// actions are polled (those already polled are dispatched, see [`Worker::shutdown`]), then
    /// the running workflows finish and report to the client. Bound it with
    /// `tokio::time::timeout` to give up on slow runs (they go on, and report when they end).
    pub async fn shutdown(&self, worker: Worker) {
        worker.shutdown_async().await;
        self.idle().await;
    }

    fn spawn(
        &self,
        workflow: Arc<AsyncWorkflowFn>,
        action: StartWorkflowAction,
        slot: Arc<RunSlot>,
    ) {
        let workflow_id = action.workflow_id.clone();
        let limit = timeout_of(&action);
        self.runs.table.lock().insert(&workflow_id, slot.clone());
        // Built outside the task, so that a task dropped before its first poll still reports.
        let guard = RunGuard {
            runs: self.runs.clone(),
            workflow_id: workflow_id.clone(),
            slot: slot.clone(),
        };
        let ctx = WorkflowContext::new(action, slot.clone());
        let task = async move {
            let guard = guard;
            // The closure is called inside the task, so that its panic is caught here too.
            let run = CatchUnwind(Box::pin(async move { workflow(ctx).await }));
            let outcome = match limit {
                None => outcome_of(run.await, &guard.slot),
                Some(limit) => match tokio::time::timeout(limit, run).await {
                    Ok(ended) => outcome_of(ended, &guard.slot),
                    Err(_elapsed) => WorkflowOutcome::TimedOut,
                },
            };
            guard.slot.report(outcome);
        };
        let abort = self.runtime.spawn(task).abort_handle();
        self.runs.table.lock().set_abort(&workflow_id, &slot, abort);
    }
}

impl WorkflowExecutor for AsyncWorkflowRegistry {
    fn start_workflow(&mut self, action: StartWorkflowAction, completion: Completion) {
        let Some(workflow) = self.workflows.get(&*action.workflow).cloned() else {
            completion.complete(unknown_workflow(&action.workflow, self.workflow_names()));
            return;
        };
        self.spawn(workflow, action, RunSlot::new(Some(completion)));
    }

    fn cancel_workflow(&mut self, action: CancelWorkflowAction) {
        let slot = self.runs.table.lock().slot(&action.workflow_id);
        if let Some(slot) = slot {
            slot.request_cancel();
        }
    }

    fn terminate_workflow(&mut self, action: TerminateWorkflowAction) {
        let run = self.runs.table.lock().by_id.remove(&action.workflow_id);
        if let Some(run) = run {
            run.slot.request_cancel();
            run.slot.report(WorkflowOutcome::Terminated);
            if let Some(abort) = run.abort {
                abort.abort();
            }
        }
    }
}

impl fmt::Debug for AsyncWorkflowRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncWorkflowRegistry")
            .field("workflows", &self.workflows.keys().collect::<Vec<_>>())
            .field("in_flight", &self.in_flight())
            .finish_non_exhaustive()
    }
}

/// The shorter of the action's execution and run timeouts; zero means none, as in Temporal.
fn timeout_of(action: &StartWorkflowAction) -> Option<Duration> {
    [action.execution_timeout, action.run_timeout]
        .into_iter()
        .flatten()
        .filter(|d| !d.is_zero())
        .min()
}

/// The runs of a registry and its clones.
#[derive(Default)]
struct Runs {
    table: Mutex<RunTable>,
    /// Notified when `alive` drops to zero.
    idle: Notify,
}

#[derive(Default)]
struct RunTable {
    /// Runs that a cancel or terminate can still reach, by workflow id.
    by_id: HashMap<String, Run>,
    /// Tasks spawned and not yet dropped.
    alive: usize,
}

struct Run {
    slot: Arc<RunSlot>,
    /// Set just after the spawn.
    abort: Option<AbortHandle>,
}

impl RunTable {
    fn insert(&mut self, workflow_id: &str, slot: Arc<RunSlot>) {
        self.alive = self.alive.saturating_add(1);
        self.by_id
            .insert(workflow_id.to_owned(), Run { slot, abort: None });
    }

    fn slot(&self, workflow_id: &str) -> Option<Arc<RunSlot>> {
        self.by_id.get(workflow_id).map(|run| run.slot.clone())
    }

    /// The run's entry, if it is still this run's (a quick task may be gone already).
    fn entry(&mut self, workflow_id: &str, slot: &Arc<RunSlot>) -> Option<&mut Run> {
        self.by_id
            .get_mut(workflow_id)
            .filter(|run| Arc::ptr_eq(&run.slot, slot))
    }

    fn set_abort(&mut self, workflow_id: &str, slot: &Arc<RunSlot>, abort: AbortHandle) {
        if let Some(run) = self.entry(workflow_id, slot) {
            run.abort = Some(abort);
        }
    }
}

/// Owned by a run's task: when the task ends or is dropped, it reports the run if nothing did
/// and takes it out of the table.
struct RunGuard {
    runs: Arc<Runs>,
    workflow_id: String,
    slot: Arc<RunSlot>,
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        self.slot.report(WorkflowOutcome::Failed {
            message: "workflow task dropped before it finished (its tokio runtime shut down?)"
                .into(),
        });
        let idle = {
            let mut table = self.runs.table.lock();
            if table.entry(&self.workflow_id, &self.slot).is_some() {
                table.by_id.remove(&self.workflow_id);
            }
            table.alive = table.alive.saturating_sub(1);
            table.alive == 0
        };
        if idle {
            self.runs.idle.notify_waiters();
        }
    }
}

/// A run's future with its panic caught: `Err(payload)` once it panicked.
struct CatchUnwind(RunFuture);

impl Future for CatchUnwind {
    type Output = Result<Result<serde_json::Value, WorkflowError>, Box<dyn Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match catch_unwind(AssertUnwindSafe(|| self.0.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(result)) => Poll::Ready(Ok(result)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::context::tests::ctx;
    use super::*;

    #[test]
    fn the_shorter_timeout_counts_and_zero_means_none() {
        let mut action = ctx(vec![]).action().clone();
        assert_eq!(timeout_of(&action), None);
        let (short, long) = (Duration::from_secs(5), Duration::from_secs(60));
        for (execution, run, expected) in [
            (Some(short), None, Some(short)),
            (None, Some(short), Some(short)),
            (Some(long), Some(short), Some(short)),
            (Some(short), Some(long), Some(short)),
            (Some(Duration::ZERO), Some(long), Some(long)),
            (Some(Duration::ZERO), None, None),
        ] {
            action.execution_timeout = execution;
            action.run_timeout = run;
            assert_eq!(timeout_of(&action), expected, "{execution:?} {run:?}");
        }
    }
}
