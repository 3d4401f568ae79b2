//! What the two registries share about one run: its [`WorkflowContext`], the [`RunSlot`] that
//! holds its completion and cancellation, and the rule turning a closure's result into a
//! [`WorkflowOutcome`].
//!
//! Invariants: a run is reported at most once — the completion is taken out of its slot under
//! a lock, so whichever of result, panic, terminate or timeout comes first wins and the others
//! are discarded. Cancellation only ever goes from "not requested" to "requested".

use std::any::Any;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::engine::{StartWorkflowAction, WorkflowOutcome};
use crate::store::panic_message;

use super::executor::Completion;

/// The error a workflow closure returns: anything that converts into a boxed error, so `?`
/// works on most errors and `Err("message".into())` on text.
pub type WorkflowError = Box<dyn std::error::Error + Send + Sync>;

/// One run's completion and cancellation, shared by its registry and the code running it.
pub(crate) struct RunSlot {
    completion: Mutex<Option<Completion>>,
    cancel_requested: AtomicBool,
    /// Wakes the async waiters of [`WorkflowContext::cancelled`].
    #[cfg(feature = "tokio")]
    cancel_notify: tokio::sync::Notify,
}

impl RunSlot {
    pub(crate) fn new(completion: Option<Completion>) -> Arc<Self> {
        Arc::new(RunSlot {
            completion: Mutex::new(completion),
            cancel_requested: AtomicBool::new(false),
            #[cfg(feature = "tokio")]
            cancel_notify: tokio::sync::Notify::new(),
        })
    }

    pub(crate) fn is_cancel_requested(&self) -> bool {
        self.cancel_requested.load(Ordering::SeqCst)
    }

    /// Asks the run to cancel (overlap policy `CancelOther`, or on the way to a terminate).
    pub(crate) fn request_cancel(&self) {
        self.cancel_requested.store(true, Ordering::SeqCst);
        #[cfg(feature = "tokio")]
        self.cancel_notify.notify_waiters();
    }

    /// Reports the run's end, unless something reported it already.
    pub(crate) fn report(&self, outcome: WorkflowOutcome) {
        let completion = self.completion.lock().take();
        if let Some(completion) = completion {
            completion.complete(outcome);
        }
    }
}

/// How a run ended, from what its closure (or future) gave: its value, its error or its panic.
/// An error after a cancel request is the run honouring the cancel.
pub(crate) fn outcome_of(
    ended: Result<Result<serde_json::Value, WorkflowError>, Box<dyn Any + Send>>,
    slot: &RunSlot,
) -> WorkflowOutcome {
    match ended {
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
    }
}

/// A workflow's result as JSON; a value that does not serialize fails the run.
pub(crate) fn to_json<T: Serialize>(value: T) -> Result<serde_json::Value, WorkflowError> {
    serde_json::to_value(value)
        .map_err(|e| format!("workflow result is not serializable: {e}").into())
}

/// The failure of a start whose workflow type no closure was registered for.
pub(crate) fn unknown_workflow<'a>(
    workflow: &str,
    registered: impl Iterator<Item = &'a str>,
) -> WorkflowOutcome {
    let names: Vec<&str> = registered.collect();
    WorkflowOutcome::Failed {
        message: format!("unknown workflow type {workflow:?} (registered: {names:?})"),
    }
}

/// What a registered workflow gets: the run's action and its cancellation.
pub struct WorkflowContext {
    action: StartWorkflowAction,
    slot: Arc<RunSlot>,
}

impl WorkflowContext {
    pub(crate) fn new(action: StartWorkflowAction, slot: Arc<RunSlot>) -> Self {
        WorkflowContext { action, slot }
    }

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

    /// Whether the run was asked to cancel (or was terminated): a long workflow should check it
    /// and return an error soon after it turns true.
    pub fn is_cancel_requested(&self) -> bool {
        self.slot.is_cancel_requested()
    }

    /// Completes once the run is asked to cancel (overlap policy `CancelOther`) or is
    /// terminated; at once if it already was. An async workflow selects on it beside its work
    /// and returns an error to end as [`WorkflowOutcome::Canceled`] (feature `tokio`).
    ///
    /// ```
    /// # use schedule_engine::WorkflowContext;
    /// async fn patient(ctx: WorkflowContext) -> Result<&'static str, schedule_engine::WorkflowError> {
    ///     tokio::select! {
    ///         _ = ctx.cancelled() => Err("canceled".into()),
    ///         _ = tokio::time::sleep(std::time::Duration::from_secs(60)) => Ok("done"),
    ///     }
    /// }
    /// ```
    #[cfg(feature = "tokio")]
    pub async fn cancelled(&self) {
        loop {
            let notified = self.slot.cancel_notify.notified();
            let mut notified = std::pin::pin!(notified);
            // Registered before the flag is read, so a request between the two still wakes it.
            notified.as_mut().enable();
            if self.slot.is_cancel_requested() {
                return;
            }
            notified.await;
        }
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A context around a real action, polled from a scheduler.
    pub(crate) fn ctx(args: Vec<serde_json::Value>) -> WorkflowContext {
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
        WorkflowContext::new(action, RunSlot::new(None))
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
    fn an_error_after_a_cancel_request_is_canceled() {
        let slot = RunSlot::new(None);
        let failed = outcome_of(Ok(Err("boom".into())), &slot);
        assert_eq!(
            failed,
            WorkflowOutcome::Failed {
                message: "boom".into()
            }
        );
        slot.request_cancel();
        assert_eq!(
            outcome_of(Ok(Err("boom".into())), &slot),
            WorkflowOutcome::Canceled
        );
        let ignored = outcome_of(Ok(Ok(serde_json::json!(1))), &slot);
        assert_eq!(
            ignored,
            WorkflowOutcome::Completed {
                result: Some(serde_json::json!(1))
            }
        );
    }
}
