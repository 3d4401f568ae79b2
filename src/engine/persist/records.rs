//! Durability hooks: the self-contained records a store persists ([`ScheduleRecord`],
//! [`WorkflowRecord`]), the change feed ([`StateChange`]) and the whole-state
//! [`SchedulerSnapshot`].
//!
//! Invariant: applying every `StateChange` returned by `Scheduler::take_changes`, in order, to
//! the records of an earlier snapshot yields the records of `Scheduler::snapshot` at that point.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::engine::description::ScheduleActionResult;
use crate::engine::schedule::{Schedule, ScheduleBackfill, ScheduleOverlapPolicy};

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Everything the engine knows of one schedule; enough to rebuild it exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleRecord {
    /// Schedule id.
    pub id: String,
    /// The schedule as last created or updated (policy holds the effective catch-up window).
    pub schedule: Schedule,
    /// Bumped by update, pause, unpause, pause-on-failure and remaining-actions decrement.
    pub conflict_token: u64,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last updated, if ever; scheduled times before it are not taken.
    pub last_updated_at: Option<DateTime<Utc>>,
    /// High-water mark: the last processed nominal time (the creation time before any).
    pub high_water_mark: DateTime<Utc>,
    /// Workflows started, manual starts included.
    pub num_actions: u64,
    /// Times older than the catch-up window.
    pub num_actions_missed_catchup_window: u64,
    /// Times skipped by the overlap policy.
    pub num_actions_skipped_overlap: u64,
    /// Starts dropped because the buffer was full.
    pub num_actions_buffer_dropped: u64,
    /// Scheduled times dropped while paused or out of remaining actions.
    #[serde(default)]
    pub num_actions_dropped_paused: u64,
    /// Starts dropped because their workflow id was still running.
    #[serde(default)]
    pub num_actions_duplicate_dropped: u64,
    /// CANCEL/TERMINATE_OTHER starts superseded, ALLOW_ALL starts dropped for a stop.
    #[serde(default)]
    pub num_actions_replaced_overlap: u64,
    /// Runs that closed Failed or TimedOut (not written while 0, so records of schedules
    /// without failures are written as earlier versions wrote them).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub num_actions_failed: u64,
    /// Starts waiting in the overlap buffer, in order.
    pub buffer: Vec<BufferedStartRecord>,
    /// Backfills not yet fully buffered, in order.
    pub backfills: Vec<BackfillRecord>,
    /// Runs started and not yet reported closed, in start order.
    pub running: Vec<RunningRecord>,
    /// The last actions taken, oldest first.
    pub recent_actions: Vec<ScheduleActionResult>,
    /// Result of the last successful run.
    pub last_completion_result: Option<serde_json::Value>,
    /// Failure message of the last failed run since the last success.
    pub last_failure: Option<String>,
}

/// A start waiting in a schedule's overlap buffer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BufferedStartRecord {
    /// Nominal time (whole seconds); the workflow id suffix.
    pub nominal_time: DateTime<Utc>,
    /// Actual (jittered) time it was due.
    pub actual_time: DateTime<Utc>,
    /// Its own overlap policy; `None` resolves to the schedule's when processed.
    pub overlap: Option<ScheduleOverlapPolicy>,
    /// Trigger or backfill rather than the spec.
    pub manual: bool,
}

/// A backfill still being buffered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackfillRecord {
    /// The request.
    pub backfill: ScheduleBackfill,
    /// Nominal times up to and including this one have been buffered (`None`: none yet).
    pub progress: Option<DateTime<Utc>>,
}

/// A run started by a schedule and not yet closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunningRecord {
    /// Its workflow id.
    pub workflow_id: String,
    /// Cancellation already requested by the overlap policy.
    #[serde(default)]
    pub cancel_requested: bool,
    /// Termination already requested by the overlap policy.
    #[serde(default)]
    pub terminate_requested: bool,
}

/// A standalone workflow: a cron job or a delayed (or immediate) one-off start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowRecord {
    /// Workflow id (every run of a cron job keeps it).
    pub workflow_id: String,
    /// Workflow type name.
    pub workflow: String,
    /// Arguments.
    pub args: Vec<serde_json::Value>,
    /// Task queue.
    pub task_queue: String,
    /// Cron string, for cron jobs.
    pub cron_schedule: Option<String>,
    /// Timeout of the whole workflow execution.
    #[serde(
        default,
        deserialize_with = "crate::spec::serde_duration::execution_timeout"
    )]
    pub execution_timeout: Option<std::time::Duration>,
    /// Timeout of one run.
    #[serde(default, deserialize_with = "crate::spec::serde_duration::run_timeout")]
    pub run_timeout: Option<std::time::Duration>,
    /// Timeout of one workflow task.
    #[serde(
        default,
        deserialize_with = "crate::spec::serde_duration::task_timeout"
    )]
    pub task_timeout: Option<std::time::Duration>,
    /// Memo.
    pub memo: BTreeMap<String, serde_json::Value>,
    /// When the next run starts (nominal time: a cron job's cron time); `None` while a run is
    /// running.
    pub next_start: Option<DateTime<Utc>>,
    /// When the next run's first task is due (a cron job's wait is rounded up to whole seconds
    /// from when it was planned). Absent in records written before cron jobs followed the
    /// server: then `next_start`.
    #[serde(default)]
    pub next_scheduled_at: Option<DateTime<Utc>>,
    /// The nominal time of the running or last run.
    pub last_nominal: Option<DateTime<Utc>>,
    /// When the running or last run's first task was due: a cron job plans its next run from
    /// it. Absent in older records: then `last_nominal`.
    #[serde(default)]
    pub last_scheduled_at: Option<DateTime<Utc>>,
    /// A run is running.
    pub running: bool,
    /// Result of the last successful run.
    pub last_completion_result: Option<serde_json::Value>,
    /// Failure message of the last failed run since the last success.
    pub last_failure: Option<String>,
}

/// One change of engine state, for incremental persistence.
// Upserts dominate the feed; boxing them would cost an allocation per change for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum StateChange {
    /// Create or replace the schedule with this record's id.
    UpsertSchedule(ScheduleRecord),
    /// The schedule with this id is gone.
    RemoveSchedule(String),
    /// Create or replace the standalone workflow with this record's workflow id.
    UpsertWorkflow(WorkflowRecord),
    /// The standalone workflow with this id is gone.
    RemoveWorkflow(String),
}

/// The whole state of a `Scheduler`: all records.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SchedulerSnapshot {
    /// Every schedule, ordered by id.
    pub schedules: Vec<ScheduleRecord>,
    /// Every cron job and pending or running standalone start, ordered by workflow id.
    pub workflows: Vec<WorkflowRecord>,
}

impl SchedulerSnapshot {
    /// Applies one change to these records (what a store does with the change feed).
    pub fn apply(&mut self, change: StateChange) {
        match change {
            StateChange::UpsertSchedule(r) => {
                match self.schedules.binary_search_by(|s| s.id.cmp(&r.id)) {
                    Ok(i) => self.schedules[i] = r,
                    Err(i) => self.schedules.insert(i, r),
                }
            }
            StateChange::RemoveSchedule(id) => {
                if let Ok(i) = self.schedules.binary_search_by(|s| s.id.cmp(&id)) {
                    self.schedules.remove(i);
                }
            }
            StateChange::UpsertWorkflow(r) => {
                match self
                    .workflows
                    .binary_search_by(|w| w.workflow_id.cmp(&r.workflow_id))
                {
                    Ok(i) => self.workflows[i] = r,
                    Err(i) => self.workflows.insert(i, r),
                }
            }
            StateChange::RemoveWorkflow(id) => {
                if let Ok(i) = self.workflows.binary_search_by(|w| w.workflow_id.cmp(&id)) {
                    self.workflows.remove(i);
                }
            }
        }
    }
}
