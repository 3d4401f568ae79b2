//! [`WorkflowRegistry`]: a ready [`WorkflowExecutor`] that runs Rust closures, registered by
//! workflow type name, on a small thread pool.
//!
//! Invariants: each run is reported exactly once — by its closure's return, its panic, an
//! unknown workflow name, or a terminate, whichever comes first (the completion is taken out of
//! the run's slot under a lock, so a late closure result after a terminate is discarded).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::Sender;
use parking_lot::Mutex;
use serde::Serialize;

use crate::engine::{
    CancelWorkflowAction, StartWorkflowAction, TerminateWorkflowAction, WorkflowOutcome,
};

use super::context::{
    outcome_of, to_json, unknown_workflow, RunSlot, WorkflowContext, WorkflowError,
};
use super::executor::{Completion, WorkflowExecutor};

type WorkflowFn = dyn Fn(WorkflowContext) -> Result<serde_json::Value, WorkflowError> + Send + Sync;

/// A [`WorkflowExecutor`] mapping workflow type names to Rust closures, each run on a small
/// pool of threads (4 by default; see [`threads`](WorkflowRegistry::threads)).
///
/// How a run is reported:
/// - `Ok(value)`: [`WorkflowOutcome::Completed`] with the value serialized to JSON (a value that
///   fails to serialize is a failed run);
/// - `Err(e)`: [`WorkflowOutcome::Failed`] with `e`'s message;
/// - a panic: [`WorkflowOutcome::Failed`] with "workflow panicked: ..." (the pool goes on);
/// - an unregistered workflow name: [`WorkflowOutcome::Failed`] at once, naming it;
/// - cancel (overlap policy `CancelOther`): [`WorkflowContext::is_cancel_requested`] turns
///   true; a run that then returns `Err` is [`WorkflowOutcome::Canceled`], one that returns
///   `Ok` completed normally (it ignored the request, which Temporal allows); a run still queued
///   is canceled without running;
/// - terminate (`TerminateOther`): reported [`WorkflowOutcome::Terminated`] at once, and the
///   cancellation flag is raised; a closure still running cannot be stopped from outside, so it
///   runs on and its result is discarded.
///
/// Dropping the registry (which [`Worker::shutdown`](crate::Worker::shutdown) does) waits for
/// the queued and running closures to finish.
///
/// ```
/// use schedule_engine::{WorkflowContext, WorkflowRegistry};
///
/// let registry = WorkflowRegistry::new()
///     .threads(2)
///     .register("add", |ctx: WorkflowContext| {
///         let a: i64 = ctx.arg(0)?;
///         let b: i64 = ctx.arg(1)?;
///         Ok(a + b)
///     })
///     .register("fail", |_ctx| -> Result<(), _> { Err("always fails".into()) });
/// assert_eq!(registry.workflow_names().collect::<Vec<_>>(), ["add", "fail"]);
/// ```
pub struct WorkflowRegistry {
    workflows: BTreeMap<String, Arc<WorkflowFn>>,
    threads: usize,
    pool: Option<Pool>,
    runs: Arc<Mutex<HashMap<String, Arc<RunSlot>>>>,
}

impl WorkflowRegistry {
    /// An empty registry with a pool of 4 threads, started at the first run.
    #[must_use]
    pub fn new() -> Self {
        WorkflowRegistry {
            workflows: BTreeMap::new(),
            threads: 4,
            pool: None,
            runs: Arc::default(),
        }
    }

    /// Registers `workflow` under the workflow type name `name` (replacing any earlier one).
    #[must_use]
    pub fn register<F, T>(mut self, name: impl Into<String>, workflow: F) -> Self
    where
        F: Fn(WorkflowContext) -> Result<T, WorkflowError> + Send + Sync + 'static,
        T: Serialize,
    {
        let f = move |ctx: WorkflowContext| to_json(workflow(ctx)?);
        self.workflows.insert(name.into(), Arc::new(f));
        self
    }

    /// Runs at most `threads` closures at once, on a pool started at the first run.
    ///
    /// `0` runs each closure inline, on the worker's thread: no concurrency, but
    /// [`Worker::settle`](crate::Worker::settle) then also waits for the closures, which makes
    /// tests and simulations on a [`ManualClock`](crate::ManualClock) fully deterministic. (A
    /// cancel or terminate can only reach a run that is still going, so inline runs never see
    /// one.)
    #[must_use]
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// The registered workflow type names, in order.
    pub fn workflow_names(&self) -> impl Iterator<Item = &str> {
        self.workflows.keys().map(String::as_str)
    }

    fn slot(&self, workflow_id: &str) -> Option<Arc<RunSlot>> {
        self.runs.lock().get(workflow_id).cloned()
    }
}

impl WorkflowExecutor for WorkflowRegistry {
    fn start_workflow(&mut self, action: StartWorkflowAction, completion: Completion) {
        let Some(workflow) = self.workflows.get(&*action.workflow).cloned() else {
            completion.complete(unknown_workflow(&action.workflow, self.workflow_names()));
            return;
        };
        let slot = RunSlot::new(Some(completion));
        let workflow_id = action.workflow_id.clone();
        self.runs.lock().insert(workflow_id.clone(), slot.clone());
        let runs = self.runs.clone();
        let ctx = WorkflowContext::new(action, slot.clone());
        let job = move || {
            run(workflow.as_ref(), ctx, &slot);
            let mut runs = runs.lock();
            if runs
                .get(&workflow_id)
                .is_some_and(|s| Arc::ptr_eq(s, &slot))
            {
                runs.remove(&workflow_id);
            }
        };
        if self.threads == 0 {
            job();
            return;
        }
        let threads = self.threads;
        let pool = self.pool.get_or_insert_with(|| Pool::start(threads));
        pool.run(Box::new(job));
    }

    fn cancel_workflow(&mut self, action: CancelWorkflowAction) {
        if let Some(slot) = self.slot(&action.workflow_id) {
            slot.request_cancel();
        }
    }

    fn terminate_workflow(&mut self, action: TerminateWorkflowAction) {
        if let Some(slot) = self.runs.lock().remove(&action.workflow_id) {
            slot.request_cancel();
            slot.report(WorkflowOutcome::Terminated);
        }
    }
}

impl Default for WorkflowRegistry {
    fn default() -> Self {
        WorkflowRegistry::new()
    }
}

impl fmt::Debug for WorkflowRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkflowRegistry")
            .field("workflows", &self.workflows.keys().collect::<Vec<_>>())
            .field("threads", &self.threads)
            .finish_non_exhaustive()
    }
}

/// Runs one closure and reports it (unless a terminate already did).
fn run(workflow: &WorkflowFn, ctx: WorkflowContext, slot: &RunSlot) {
    if slot.is_cancel_requested() {
        // Canceled or terminated while queued: it never starts.
        slot.report(WorkflowOutcome::Canceled);
        return;
    }
    let ended = catch_unwind(AssertUnwindSafe(|| workflow(ctx)));
    slot.report(outcome_of(ended, slot));
}

type Job = Box<dyn FnOnce() + Send>;

/// A fixed set of threads taking jobs from one channel; dropping it runs the queue dry and
/// joins them.
struct Pool {
    jobs: Option<Sender<Job>>,
    threads: Vec<JoinHandle<()>>,
}

impl Pool {
    fn start(n: usize) -> Self {
        let (tx, rx) = crossbeam_channel::unbounded::<Job>();
        let threads = (0..n)
            .map(|i| {
                let rx = rx.clone();
                #[allow(
                    clippy::disallowed_methods,
                    reason = "the registry's pool runs closures"
                )]
                std::thread::Builder::new()
                    .name(format!("schedule-engine-workflow-{i}"))
                    .spawn(move || rx.iter().for_each(|job| job()))
                    .expect("failed to spawn a workflow thread")
            })
            .collect();
        Pool {
            jobs: Some(tx),
            threads,
        }
    }

    fn run(&self, job: Job) {
        if let Some(jobs) = &self.jobs {
            // The receivers live as long as the threads, which outlive this sender.
            let _ = jobs.send(job);
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.jobs = None;
        for thread in self.threads.drain(..) {
            // Jobs contain their panics, so a thread only ends by the channel closing.
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::context::tests::ctx;
    use super::*;
    use crate::store::panic_message;

    #[test]
    fn panic_messages_of_both_payload_kinds() {
        let s = catch_unwind(|| panic!("static")).unwrap_err();
        assert_eq!(panic_message(s.as_ref()), "static");
        let n = 3;
        let f = catch_unwind(|| panic!("formatted {n}")).unwrap_err();
        assert_eq!(panic_message(f.as_ref()), "formatted 3");
        let other = catch_unwind(|| std::panic::panic_any(5u8)).unwrap_err();
        assert_eq!(panic_message(other.as_ref()), "(non-string panic payload)");
    }

    #[test]
    fn closures_results_become_outcomes() {
        let registry = WorkflowRegistry::new()
            .register("ok", |c: WorkflowContext| Ok(c.args().len()))
            .register("err", |_| -> Result<(), _> { Err("nope".into()) });
        let ok = registry.workflows["ok"].clone();
        assert_eq!(
            ok(ctx(vec![serde_json::json!(1)])).unwrap(),
            serde_json::json!(1)
        );
        let err = registry.workflows["err"].clone();
        assert_eq!(err(ctx(vec![])).unwrap_err().to_string(), "nope");
    }
}
