//! The sans-IO [`Scheduler`]: the public verbs. (First cut: the API; bodies land next.)

use chrono::{DateTime, Utc};

use super::action::{Action, StartWorkflowOptions, WorkflowOutcome};
use super::config::SchedulerConfig;
use super::describe::{ScheduleDescription, ScheduleListDescription};
use super::error::ScheduleError;
use super::schedule::{
    CreateScheduleOptions, Schedule, ScheduleBackfill, ScheduleOverlapPolicy, ScheduleUpdate,
    ScheduleUpdateInput,
};
use super::snapshot::{SchedulerSnapshot, StateChange};

/// Temporal's schedules as a pure state machine: time enters only as `now`, actions leave only
/// through [`Scheduler::poll`], and [`Scheduler::next_wakeup`] says when `poll` next has work.
#[derive(Debug, Default)]
pub struct Scheduler {
    config: SchedulerConfig,
}

impl Scheduler {
    /// An empty scheduler.
    pub fn new(config: SchedulerConfig) -> Self {
        Scheduler { config }
    }

    /// The limits it runs with.
    pub fn config(&self) -> &SchedulerConfig {
        &self.config
    }

    /// Creates a schedule. `AlreadyExists` if the id is taken.
    pub fn create_schedule(
        &mut self,
        id: &str,
        schedule: Schedule,
        now: DateTime<Utc>,
    ) -> Result<(), ScheduleError> {
        self.create_schedule_with_options(id, schedule, CreateScheduleOptions::default(), now)
    }

    /// Creates a schedule, then triggers it and applies backfills as `options` say.
    pub fn create_schedule_with_options(
        &mut self,
        id: &str,
        _schedule: Schedule,
        _options: CreateScheduleOptions,
        _now: DateTime<Utc>,
    ) -> Result<(), ScheduleError> {
        Err(not_found(id))
    }

    /// Everything due at `now`. Calling early or twice is harmless.
    pub fn poll(&mut self, _now: DateTime<Utc>) -> Vec<Action> {
        Vec::new()
    }

    /// When `poll` next has work; `None` when nothing is pending.
    pub fn next_wakeup(&self) -> Option<DateTime<Utc>> {
        None
    }

    /// Reports that a started workflow closed. `NotFound` if no tracked run has this id.
    pub fn workflow_closed(
        &mut self,
        workflow_id: &str,
        _outcome: WorkflowOutcome,
        _now: DateTime<Utc>,
    ) -> Result<(), ScheduleError> {
        Err(not_found(workflow_id))
    }

    /// The schedule with its counters, running and recent actions and next times.
    pub fn describe(
        &self,
        id: &str,
        _now: DateTime<Utc>,
    ) -> Result<ScheduleDescription, ScheduleError> {
        Err(not_found(id))
    }

    /// All schedules, ordered by id.
    pub fn list_schedules(&self, _now: DateTime<Utc>) -> Vec<ScheduleListDescription> {
        Vec::new()
    }

    /// Pauses: scheduled times while paused are dropped for good.
    pub fn pause(
        &mut self,
        id: &str,
        _note: Option<&str>,
        _now: DateTime<Utc>,
    ) -> Result<(), ScheduleError> {
        Err(not_found(id))
    }

    /// Unpauses; no catch-up of the times passed while paused.
    pub fn unpause(
        &mut self,
        id: &str,
        _note: Option<&str>,
        _now: DateTime<Utc>,
    ) -> Result<(), ScheduleError> {
        Err(not_found(id))
    }

    /// A manual start now, obeying the overlap policy (`overlap`, else the schedule's).
    pub fn trigger(
        &mut self,
        id: &str,
        _overlap: Option<ScheduleOverlapPolicy>,
        _now: DateTime<Utc>,
    ) -> Result<(), ScheduleError> {
        Err(not_found(id))
    }

    /// Takes every time of `[start_at, end_at]` of each backfill as a manual start.
    pub fn backfill(
        &mut self,
        id: &str,
        _backfills: &[ScheduleBackfill],
        _now: DateTime<Utc>,
    ) -> Result<(), ScheduleError> {
        Err(not_found(id))
    }

    /// Replaces action, spec, policy and state with what `updater` returns (`None`: no change).
    pub fn update<F: FnOnce(ScheduleUpdateInput) -> Option<ScheduleUpdate>>(
        &mut self,
        id: &str,
        _updater: F,
        _now: DateTime<Utc>,
    ) -> Result<(), ScheduleError> {
        Err(not_found(id))
    }

    /// Deletes a schedule; its started workflows keep running, its buffered starts are dropped.
    pub fn delete(&mut self, id: &str, _now: DateTime<Utc>) -> Result<(), ScheduleError> {
        Err(not_found(id))
    }

    /// Starts a standalone workflow: a cron job, a delayed start, or a start at the next poll.
    pub fn start_workflow(
        &mut self,
        _options: StartWorkflowOptions,
        _now: DateTime<Utc>,
    ) -> Result<(), ScheduleError> {
        Err(ScheduleError::InvalidArgument {
            message: "not yet".into(),
        })
    }

    /// All state as self-contained records.
    pub fn snapshot(&self) -> SchedulerSnapshot {
        SchedulerSnapshot::default()
    }

    /// Rebuilds a scheduler from a snapshot.
    pub fn restore(_snapshot: SchedulerSnapshot, config: SchedulerConfig) -> Self {
        Scheduler::new(config)
    }

    /// The changes since the last call, for incremental persistence.
    pub fn take_changes(&mut self) -> Vec<StateChange> {
        Vec::new()
    }
}

fn not_found(id: &str) -> ScheduleError {
    ScheduleError::NotFound { id: id.to_owned() }
}
