//! [`WorkflowRegistry`]: a ready [`WorkflowExecutor`] that runs Rust closures, registered by
//! workflow type name, on a small thread pool.
//!
//! Invariants: each run is reported exactly once — by its closure's return, its panic, an
//! unknown workflow name, or a terminate, whichever comes first (the completion is taken out of
//! the run's slot under a lock, so a late closure result after a terminate is discarded).

use std::collections::{BTreeMap, HashMap};
use std::error::Error;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use chrono::{DateTime, Utc};
use crossbeam_channel::Sender;
use parking_lot::Mutex;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::engine::{
    CancelWorkflowAction, StartWorkflowAction, TerminateWorkflowAction, WorkflowOutcome,
};

use super::executor::{Completion, WorkflowExecutor};
use crate::store::panic_message;

/// The error a workflow closure returns: anything that converts into a boxed error, so `?`
/// works on most errors and `Err("message".into())` on text.
pub type WorkflowError = Box<dyn Error + Send + Sync>;

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
        let f = move |ctx: WorkflowContext| -> Result<serde_json::Value, WorkflowError> {
            let value = workflow(ctx)?;
            serde_json::to_value(value)
                .map_err(|e| format!("workflow result is not serializable: {e}").into())
        };
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
            let names: Vec<&str> = self.workflow_names().collect();
            completion.complete(WorkflowOutcome::Failed {
                message: format!(
                    "unknown workflow type {:?} (registered: {names:?})",
                    action.workflow
                ),
            });
            return;
        };
        let slot = Arc::new(RunSlot {
            completion: Mutex::new(Some(completion)),
            cancel_requested: AtomicBool::new(false),
        });
        let workflow_id = action.workflow_id.clone();
        self.runs.lock().insert(workflow_id.clone(), slot.clone());
        let runs = self.runs.clone();
        let ctx = WorkflowContext {
            action,
            slot: slot.clone(),
        };
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
            slot.cancel_requested.store(true, Ordering::SeqCst);
        }
    }

    fn terminate_workflow(&mut self, action: TerminateWorkflowAction) {
        if let Some(slot) = self.runs.lock().remove(&action.workflow_id) {
            slot.cancel_requested.store(true, Ordering::SeqCst);
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
    let outcome = match catch_unwind(AssertUnwindSafe(|| workflow(ctx))) {
        Ok(Ok(result)) => WorkflowOutcome::Completed {
            result: Some(result),
        },
        Ok(Err(_)) if slot.is_cancel_requested() => WorkflowOutcome::Canceled,
        Ok(Err(e)) => WorkflowOutcome::Failed {
            message: e.to_string(),
        },
        Err(panic) => WorkflowOutcome::Failed {
            message: format!("workflow panicked: {}", panic_message(panic.as_ref())),
        },
    };
    slot.report(outcome);
}

/// One run's completion and cancellation flag, shared by the registry and the run's thread.
struct RunSlot {
    completion: Mutex<Option<Completion>>,
    cancel_requested: AtomicBool,
}

impl RunSlot {
    fn is_cancel_requested(&self) -> bool {
        self.cancel_requested.load(Ordering::SeqCst)
    }

    fn report(&self, outcome: WorkflowOutcome) {
        let completion = self.completion.lock().take();
        if let Some(completion) = completion {
            completion.complete(outcome);
        }
    }
}

/// What a registered closure gets: the run's action and its cancellation flag.
pub struct WorkflowContext {
    action: StartWorkflowAction,
    slot: Arc<RunSlot>,
}

impl WorkflowContext {
    /// This run's workflow id (`<action id>-<nominal time>` for scheduled runs).
    pub fn workflow_id(&self) -> &str {
        &self.action.workflow_id
    }

    /// The workflow type name.
    pub fn workflow(&self) -> &str {
        &self.action.workflow
    }

    /// The schedule that started the run; `None` for cron jobs and delayed starts.
    pub fn schedule_id(&self) -> Option<&str> {
        self.action.schedule_id.as_deref()
    }

    /// The arguments.
    pub fn args(&self) -> &[serde_json::Value] {
        &self.action.args
    }

    /// Argument `index`, deserialized.
    ///
    /// # Errors
    /// If there is no such argument or it does not deserialize into `T`.
    pub fn arg<T: DeserializeOwned>(&self, index: usize) -> Result<T, WorkflowError> {
        let value = self
            .action
            .args
            .get(index)
            .ok_or_else(|| format!("missing argument {index}"))?;
        serde_json::from_value(value.clone()).map_err(|e| format!("argument {index}: {e}").into())
    }

    /// The nominal (un-jittered) time this run is for.
    pub fn nominal_time(&self) -> DateTime<Utc> {
        self.action.nominal_time
    }

    /// The result of the schedule's last successful run, if any.
    pub fn last_completion_result(&self) -> Option<&serde_json::Value> {
        self.action.last_completion_result.as_deref()
    }

    /// The whole action: timeouts, memo, scheduled time, whether the start was manual, ...
    pub fn action(&self) -> &StartWorkflowAction {
        &self.action
    }

    /// Whether the run was asked to cancel (or was terminated): a long closure should check it
    /// and return an error soon after it turns true.
    pub fn is_cancel_requested(&self) -> bool {
        self.slot.is_cancel_requested()
    }
}

impl fmt::Debug for WorkflowContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkflowContext")
            .field("action", &self.action)
            .field("cancel_requested", &self.is_cancel_requested())
            .finish()
    }
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
    use super::*;

    /// A context around a real action, polled from a scheduler.
    fn ctx(args: Vec<serde_json::Value>) -> WorkflowContext {
        let mut scheduler =
            crate::engine::Scheduler::new(crate::engine::SchedulerConfig::default());
        let now = DateTime::<Utc>::UNIX_EPOCH;
        let options = crate::engine::StartWorkflowOptions {
            workflow: "wf".into(),
            id: "id".into(),
            task_queue: "q".into(),
            args,
            ..Default::default()
        };
        scheduler.start_workflow(options, now).unwrap();
        let Some(crate::engine::Action::StartWorkflow(action)) =
            scheduler.poll(now).into_iter().next()
        else {
            panic!("a start at once")
        };
        WorkflowContext {
            action,
            slot: Arc::new(RunSlot {
                completion: Mutex::new(None),
                cancel_requested: AtomicBool::new(false),
            }),
        }
    }

    #[test]
    fn arg_deserializes_or_explains() {
        let c = ctx(vec![serde_json::json!(7), serde_json::json!("x")]);
        assert_eq!(c.arg::<u8>(0).unwrap(), 7);
        assert_eq!(c.arg::<String>(1).unwrap(), "x");
        assert_eq!(
            c.arg::<u8>(2).unwrap_err().to_string(),
            "missing argument 2"
        );
        assert!(c
            .arg::<u8>(1)
            .unwrap_err()
            .to_string()
            .starts_with("argument 1: "));
    }

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
