//! What the engine asks the caller to do ([`Action`]), what the caller reports back
//! ([`WorkflowOutcome`]), and standalone workflow starts ([`StartWorkflowOptions`]).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::shared_str::SharedStr;

/// Something the caller must do, returned by `Scheduler::poll`.
// The contract fixes `Action::StartWorkflow(StartWorkflowAction)`; boxing it would break that
// pattern, and starts are by far the most frequent variant anyway.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Action {
    /// Start a workflow run.
    StartWorkflow(StartWorkflowAction),
    /// Request cancellation of a run (overlap policy CANCEL_OTHER).
    CancelWorkflow(CancelWorkflowAction),
    /// Terminate a run (overlap policy TERMINATE_OTHER).
    TerminateWorkflow(TerminateWorkflowAction),
}

/// Start a workflow run. Report its end with `Scheduler::workflow_closed(workflow_id, ..)`.
///
/// What every run of a schedule shares (its id, workflow type, task queue, arguments, memo, last
/// result) is shared, not copied: the string fields are [`SharedStr`]s (read them as
/// `&*action.workflow`, `action.schedule_id.as_deref()`), the rest `Arc`s. The workflow id is
/// the action's own. Serialized, it is the plain JSON object of its fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartWorkflowAction {
    /// The schedule that started it; `None` for cron jobs and delayed starts.
    pub schedule_id: Option<SharedStr>,
    /// Deterministic workflow id: `<action id>-<nominal time>` for schedules.
    pub workflow_id: String,
    /// Workflow type name.
    pub workflow: SharedStr,
    /// Arguments.
    pub args: Arc<[serde_json::Value]>,
    /// Task queue.
    pub task_queue: SharedStr,
    /// The nominal (un-jittered) time this run is for.
    pub nominal_time: DateTime<Utc>,
    /// The actual (jittered) time it was due.
    pub scheduled_at: DateTime<Utc>,
    /// Started by trigger or backfill rather than by the spec.
    pub manual: bool,
    /// Timeout of the whole workflow execution.
    #[serde(
        default,
        deserialize_with = "crate::spec::serde_duration::execution_timeout"
    )]
    pub execution_timeout: Option<Duration>,
    /// Timeout of one run.
    #[serde(default, deserialize_with = "crate::spec::serde_duration::run_timeout")]
    pub run_timeout: Option<Duration>,
    /// Timeout of one workflow task.
    #[serde(
        default,
        deserialize_with = "crate::spec::serde_duration::task_timeout"
    )]
    pub task_timeout: Option<Duration>,
    /// Memo.
    pub memo: Arc<BTreeMap<String, serde_json::Value>>,
    /// Result of the schedule's last successful run, if any.
    pub last_completion_result: Option<Arc<serde_json::Value>>,
    /// Failure message of the schedule's last run, if it failed after the last success.
    pub last_failure: Option<SharedStr>,
}

/// No strings, epoch times, nothing set.
impl Default for StartWorkflowAction {
    fn default() -> Self {
        StartWorkflowAction {
            schedule_id: None,
            workflow_id: String::new(),
            workflow: SharedStr::default(),
            args: Arc::from(Vec::new()),
            task_queue: SharedStr::default(),
            nominal_time: DateTime::<Utc>::UNIX_EPOCH,
            scheduled_at: DateTime::<Utc>::UNIX_EPOCH,
            manual: false,
            execution_timeout: None,
            run_timeout: None,
            task_timeout: None,
            memo: Arc::default(),
            last_completion_result: None,
            last_failure: None,
        }
    }
}

/// Appends `action` to a poll's output. Most polls yield one action; a fresh `Vec`'s default
/// first capacity (4 actions) would take malloc's slow path on every such poll.
pub(crate) fn push_action(out: &mut Vec<Action>, action: Action) {
    if out.capacity() == 0 {
        out.reserve_exact(1);
    }
    out.push(action);
}

/// Request cancellation of a running workflow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelWorkflowAction {
    /// The schedule asking.
    pub schedule_id: Option<String>,
    /// The run to cancel.
    pub workflow_id: String,
    /// Why.
    pub reason: String,
}

/// Terminate a running workflow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminateWorkflowAction {
    /// The schedule asking.
    pub schedule_id: Option<String>,
    /// The run to terminate.
    pub workflow_id: String,
    /// Why.
    pub reason: String,
}

/// How a workflow run ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum WorkflowOutcome {
    /// Finished successfully, with an optional result.
    Completed {
        /// The run's result.
        result: Option<serde_json::Value>,
    },
    /// Failed.
    Failed {
        /// Why.
        message: String,
    },
    /// Timed out.
    TimedOut,
    /// Was cancelled.
    Canceled,
    /// Was terminated.
    Terminated,
}

impl WorkflowOutcome {
    /// The run's status once closed with this outcome.
    #[must_use]
    pub fn status(&self) -> WorkflowExecutionStatus {
        match self {
            WorkflowOutcome::Completed { .. } => WorkflowExecutionStatus::Completed,
            WorkflowOutcome::Failed { .. } => WorkflowExecutionStatus::Failed,
            WorkflowOutcome::TimedOut => WorkflowExecutionStatus::TimedOut,
            WorkflowOutcome::Canceled => WorkflowExecutionStatus::Canceled,
            WorkflowOutcome::Terminated => WorkflowExecutionStatus::Terminated,
        }
    }

    /// Whether the run failed, as `pause_on_failure` and `num_actions_failed` see it: Failed
    /// or TimedOut (Temporal's CanceledTerminatedCountAsFailures is false).
    #[must_use]
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            WorkflowOutcome::Failed { .. } | WorkflowOutcome::TimedOut
        )
    }
}

/// Where a run a schedule started stands, as its recent action shows it (Temporal's
/// `ScheduleActionResult.start_workflow_status`, a `WorkflowExecutionStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub enum WorkflowExecutionStatus {
    /// Started and not reported closed.
    Running,
    /// Closed: [`WorkflowOutcome::Completed`].
    Completed,
    /// Closed: [`WorkflowOutcome::Failed`].
    Failed,
    /// Closed: [`WorkflowOutcome::TimedOut`].
    TimedOut,
    /// Closed: [`WorkflowOutcome::Canceled`].
    Canceled,
    /// Closed: [`WorkflowOutcome::Terminated`].
    Terminated,
    /// Not known: the action was restored from a record written before statuses were kept.
    #[default]
    Unknown,
}

impl WorkflowExecutionStatus {
    /// Whether it is `Unknown` (serde's `skip_serializing_if` takes a reference).
    #[allow(clippy::trivially_copy_pass_by_ref)]
    pub(crate) fn is_unknown(&self) -> bool {
        *self == WorkflowExecutionStatus::Unknown
    }
}

/// Start a workflow outside any schedule: a cron job (`cron_schedule`) or a delayed one-off
/// start (`start_delay`). With neither, the workflow starts at the next poll.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct StartWorkflowOptions {
    /// Workflow type name.
    pub workflow: String,
    /// Arguments.
    pub args: Vec<serde_json::Value>,
    /// Workflow id; every run of a cron job keeps it.
    pub id: String,
    /// Task queue.
    pub task_queue: String,
    /// Cron string in robfig/cron's standard dialect, as the Temporal server reads cron jobs
    /// (five fields, either day field matches, `@every` counts from the start; not the
    /// schedule dialect): run on this schedule, one run at a time. See
    /// [`StandardCron`](crate::standard_cron::StandardCron).
    pub cron_schedule: Option<String>,
    /// Start once, this long after the call.
    #[serde(default, deserialize_with = "crate::spec::serde_duration::start_delay")]
    pub start_delay: Option<Duration>,
    /// Timeout of the whole workflow execution.
    #[serde(
        default,
        deserialize_with = "crate::spec::serde_duration::execution_timeout"
    )]
    pub execution_timeout: Option<Duration>,
    /// Timeout of one run.
    #[serde(default, deserialize_with = "crate::spec::serde_duration::run_timeout")]
    pub run_timeout: Option<Duration>,
    /// Timeout of one workflow task.
    #[serde(
        default,
        deserialize_with = "crate::spec::serde_duration::task_timeout"
    )]
    pub task_timeout: Option<Duration>,
    /// Memo.
    pub memo: BTreeMap<String, serde_json::Value>,
}
