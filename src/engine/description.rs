//! Read models: what `describe` and `list` report.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::spec::ScheduleSpec;

use super::action::WorkflowExecutionStatus;
use super::schedule::Schedule;

/// A schedule as `describe` reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleDescription {
    /// Schedule id.
    pub id: String,
    /// The schedule (policy shows the effective catch-up window).
    pub schedule: Schedule,
    /// Counters, running and recent actions, next times.
    pub info: ScheduleInfo,
    /// Bumped by every change of the schedule (update, pause, unpause, pause-on-failure,
    /// remaining-actions decrement); starts at 1. Give it to `Scheduler::update_checked`: only
    /// the first four make it conflict (see there).
    pub conflict_token: u64,
}

/// Counters and activity of a schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleInfo {
    /// Workflows started, manual starts included.
    pub num_actions: u64,
    /// Times not taken because they were older than the catch-up window.
    pub num_actions_missed_catchup_window: u64,
    /// Times skipped by the overlap policy.
    pub num_actions_skipped_overlap: u64,
    /// Starts dropped because the buffer was full.
    pub num_actions_buffer_dropped: u64,
    /// Scheduled times dropped because the schedule was paused or out of remaining actions
    /// when they came due or were about to start, up to date at `now` (not a Temporal
    /// counter).
    #[serde(default)]
    pub num_actions_dropped_paused: u64,
    /// Starts dropped because a run with the same workflow id was still running (Temporal's
    /// "already started"; not a Temporal counter).
    #[serde(default)]
    pub num_actions_duplicate_dropped: u64,
    /// CANCEL_OTHER / TERMINATE_OTHER starts superseded by a later one while nothing ran, and
    /// ALLOW_ALL starts not taken because the running runs were being stopped (Temporal drops
    /// both without counting them; not a Temporal counter).
    #[serde(default)]
    pub num_actions_replaced_overlap: u64,
    /// Runs started by this schedule that closed Failed or TimedOut (what `pause_on_failure`
    /// reacts to; Canceled and Terminated are not failures, as in Temporal; not a Temporal
    /// counter).
    #[serde(default)]
    pub num_actions_failed: u64,
    /// Starts waiting in the buffer.
    pub buffer_size: usize,
    /// Backfill requests not yet fully taken into the buffer.
    #[serde(default)]
    pub pending_backfills: usize,
    /// Runs started by this schedule that have not closed.
    pub running_actions: Vec<ScheduleActionExecution>,
    /// The last 10 actions, oldest first.
    pub recent_actions: Vec<ScheduleActionResult>,
    /// The next 10 actual times.
    pub next_action_times: Vec<DateTime<Utc>>,
    /// When the schedule was created.
    pub created_at: DateTime<Utc>,
    /// When it was last updated, if ever.
    pub last_updated_at: Option<DateTime<Utc>>,
    /// Why the stored spec no longer compiles (e.g. after a restore with another time-zone
    /// database); the schedule then takes no scheduled actions until updated.
    #[serde(default)]
    pub invalid_spec_error: Option<String>,
}

/// A workflow run started by a schedule.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ScheduleActionExecution {
    /// Its workflow id.
    pub workflow_id: String,
}

/// One action a schedule took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleActionResult {
    /// The time it was scheduled for (actual, jittered; the trigger time for manual starts).
    pub scheduled_at: DateTime<Utc>,
    /// When it was started.
    pub started_at: DateTime<Utc>,
    /// The run.
    pub action: ScheduleActionExecution,
    /// Where the run stands: `Running` until it is reported closed, then its outcome's status
    /// (Temporal's `start_workflow_status`). Records written before it existed read as
    /// `Unknown`, and `Unknown` is not written, so they are written back the same.
    #[serde(default, skip_serializing_if = "WorkflowExecutionStatus::is_unknown")]
    pub start_workflow_status: WorkflowExecutionStatus,
}

/// A schedule as `list` reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleListDescription {
    /// Schedule id.
    pub id: String,
    /// Workflow type the schedule starts.
    pub workflow: String,
    /// Its spec.
    pub spec: ScheduleSpec,
    /// Its note.
    pub note: Option<String>,
    /// Whether it is paused.
    pub paused: bool,
    /// The last 5 actions, oldest first.
    pub recent_actions: Vec<ScheduleActionResult>,
    /// The next 5 actual times.
    pub next_action_times: Vec<DateTime<Utc>>,
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
