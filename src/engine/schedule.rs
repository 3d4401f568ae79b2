//! What a user creates: a [`Schedule`] (action, spec, policy, state) and the inputs of the
//! schedule operations (create options, backfill, update).

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::spec::ScheduleSpec;

use super::describe::ScheduleDescription;

/// A schedule: what to start, when, how overlapping runs are handled, and its state.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Schedule {
    /// What each action does.
    pub action: ScheduleAction,
    /// When actions happen.
    pub spec: ScheduleSpec,
    /// Overlap, catch-up and failure policies.
    pub policy: SchedulePolicy,
    /// Pause state, note and remaining actions.
    pub state: ScheduleState,
}

/// What a schedule does at each of its times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ScheduleAction {
    /// Start a workflow run.
    StartWorkflow(ScheduleActionStartWorkflow),
}

impl Default for ScheduleAction {
    fn default() -> Self {
        ScheduleAction::StartWorkflow(ScheduleActionStartWorkflow::default())
    }
}

impl Schedule {
    /// A schedule taking `action` at the times of `spec`, with the default policy (SKIP,
    /// 365-day catch-up window) and state (running, unlimited).
    ///
    /// ```
    /// use std::time::Duration;
    /// use schedule_engine::{Schedule, ScheduleActionStartWorkflow, ScheduleIntervalSpec, ScheduleSpec};
    ///
    /// let schedule = Schedule::new(
    ///     ScheduleActionStartWorkflow::new("report", "daily-report", "reports"),
    ///     ScheduleSpec {
    ///         intervals: vec![ScheduleIntervalSpec::new(Duration::from_secs(24 * 3600))],
    ///         ..Default::default()
    ///     },
    /// );
    /// assert_eq!(schedule.action.start_workflow().id, "daily-report");
    /// assert!(!schedule.state.paused);
    /// ```
    pub fn new(action: impl Into<ScheduleAction>, spec: ScheduleSpec) -> Self {
        Schedule {
            action: action.into(),
            spec,
            ..Default::default()
        }
    }
}

impl From<ScheduleActionStartWorkflow> for ScheduleAction {
    fn from(action: ScheduleActionStartWorkflow) -> Self {
        ScheduleAction::StartWorkflow(action)
    }
}

impl ScheduleAction {
    /// The start-workflow action.
    pub fn start_workflow(&self) -> &ScheduleActionStartWorkflow {
        match self {
            ScheduleAction::StartWorkflow(a) => a,
        }
    }
}

/// Start a workflow: its type name, arguments, id prefix, task queue and options.
///
/// Each run's workflow id is `<id>-<nominal time, UTC, RFC 3339, whole seconds>`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ScheduleActionStartWorkflow {
    /// Workflow type name.
    pub workflow: String,
    /// Arguments.
    pub args: Vec<serde_json::Value>,
    /// Workflow id prefix.
    pub id: String,
    /// Task queue.
    pub task_queue: String,
    /// Timeout of the whole workflow execution, retries included.
    pub execution_timeout: Option<Duration>,
    /// Timeout of one run.
    pub run_timeout: Option<Duration>,
    /// Timeout of one workflow task.
    pub task_timeout: Option<Duration>,
    /// Memo passed to every run.
    pub memo: BTreeMap<String, serde_json::Value>,
}

/// What to do when an action is due while an earlier run of the schedule is still running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ScheduleOverlapPolicy {
    /// Don't start; count the time as skipped. Several due and nothing running: the earliest runs.
    #[default]
    Skip,
    /// Keep one start waiting until the running one closes; skip the rest.
    BufferOne,
    /// Queue every start and run them one after another.
    BufferAll,
    /// Cancel the running runs, then start once they have closed.
    CancelOther,
    /// Terminate the running runs, then start once they have closed.
    TerminateOther,
    /// Start concurrently.
    AllowAll,
}

/// Temporal's default catch-up window: 365 days.
pub const DEFAULT_CATCHUP_WINDOW: Duration = Duration::from_secs(365 * 24 * 3600);
/// Temporal's minimum catch-up window: shorter values become 10 s.
pub const MIN_CATCHUP_WINDOW: Duration = Duration::from_secs(10);

/// How a schedule handles overlap, outages and failures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SchedulePolicy {
    /// Overlap policy for scheduled actions (and the default for trigger and backfill).
    pub overlap: ScheduleOverlapPolicy,
    /// How late an action may still be taken (after an outage); default 365 days, minimum 10 s.
    pub catchup_window: Duration,
    /// Pause the schedule when a run fails or times out.
    pub pause_on_failure: bool,
}

impl ScheduleActionStartWorkflow {
    /// Start `workflow` with runs named `<id>-<nominal time>` on `task_queue`, no arguments and
    /// no timeouts (set the other fields afterwards, or use struct update syntax).
    pub fn new(
        workflow: impl Into<String>,
        id: impl Into<String>,
        task_queue: impl Into<String>,
    ) -> Self {
        ScheduleActionStartWorkflow {
            workflow: workflow.into(),
            id: id.into(),
            task_queue: task_queue.into(),
            ..Default::default()
        }
    }
}

impl Default for SchedulePolicy {
    fn default() -> Self {
        SchedulePolicy {
            overlap: ScheduleOverlapPolicy::Skip,
            catchup_window: DEFAULT_CATCHUP_WINDOW,
            pause_on_failure: false,
        }
    }
}

/// A schedule's mutable state.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ScheduleState {
    /// Human-readable note, set by pause/unpause and pause-on-failure.
    pub note: Option<String>,
    /// No scheduled actions while paused (trigger and backfill still work).
    pub paused: bool,
    /// Scheduled actions left; `None` is unlimited.
    pub remaining_actions: Option<u64>,
}

/// Take the actions the spec would have taken in `[start_at, end_at]` (both inclusive), now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleBackfill {
    /// First time (inclusive).
    pub start_at: DateTime<Utc>,
    /// Last time (inclusive, compared with the actual, jittered time).
    pub end_at: DateTime<Utc>,
    /// Overlap policy of these starts; `None` uses the schedule's.
    pub overlap: Option<ScheduleOverlapPolicy>,
}

impl ScheduleBackfill {
    /// A backfill of `[start_at, end_at]` with the schedule's overlap policy.
    pub fn new(start_at: DateTime<Utc>, end_at: DateTime<Utc>) -> Self {
        ScheduleBackfill {
            start_at,
            end_at,
            overlap: None,
        }
    }
}

/// Options applied atomically with creation.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CreateScheduleOptions {
    /// Take one action at creation (with the schedule's overlap policy).
    pub trigger_immediately: bool,
    /// Backfills applied at creation.
    pub backfill: Vec<ScheduleBackfill>,
}

/// What an update callback is given: the schedule as it is now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleUpdateInput {
    /// The current description.
    pub description: ScheduleDescription,
}

/// What an update callback returns: the schedule that replaces the current one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleUpdate {
    /// The new schedule (action, spec, policy and state are all replaced).
    pub schedule: Schedule,
}
