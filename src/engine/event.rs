//! What the engine decided, as events: [`ScheduleEvent`], and the [`EventLog`] the scheduler
//! records them in when asked to (`Scheduler::record_events`). Events are beyond Temporal,
//! whose users ask for them (temporalio/temporal#8087); they report, they never steer.
//!
//! Invariants:
//! - Off (the default), nothing is recorded and the fire path pays one predictable branch per
//!   decision; on, every decision is recorded once, in the order the engine made it, and stays
//!   until `take_events` drains it (the caller bounds the memory by draining).
//! - Every counter of `ScheduleInfo` that counts a scheduled time or a start is the sum of the
//!   `count`s of its event (one each for `Started`, `SkippedOverlap`, `DuplicateDropped`,
//!   `ReplacedOverlap`), from the moment recording was turned on; describe's
//!   `num_actions_dropped_paused` also counts times already due but not yet iterated, whose
//!   event comes with the next iteration.
//! - A stretch of times of one class that one pass over a schedule decides (missed, dropped
//!   while paused, dropped by a full buffer) is one event with its first and last nominal
//!   time and a count, however long the stretch.
//! - The same decisions go to `tracing` (target `schedule_engine::engine`): a start and a
//!   successful close at trace level, everything else at debug level, with the schedule id
//!   and the nominal time as fields. With no subscriber interested (none installed, or none
//!   at debug level), an event is never built: the decision costs one level check.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::action::WorkflowOutcome;

/// Something the engine decided, for observers (logs, metrics, dashboards): a schedule's
/// lifecycle, each scheduled time's fate, each run's start and close.
///
/// Every variant carries `at`, the engine's time when it decided (the `now` of the call);
/// schedule events carry the schedule id, and the nominal time where there is one. Standalone
/// workflows (cron jobs and delayed starts, from `start_workflow`) have no schedule: their runs
/// are [`WorkflowStarted`](Self::WorkflowStarted) and [`WorkflowClosed`](Self::WorkflowClosed),
/// keyed by workflow id (every run of a cron job keeps its id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ScheduleEvent {
    /// A schedule was created.
    Created {
        /// The schedule.
        schedule_id: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// A schedule's action, spec, policy or state was replaced by an update.
    Updated {
        /// The schedule.
        schedule_id: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// A schedule was deleted.
    Deleted {
        /// The schedule.
        schedule_id: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// A schedule with no more times was removed once its retention had passed.
    Expired {
        /// The schedule.
        schedule_id: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// A schedule was paused, by `pause` or by a failed run (`pause_on_failure`).
    Paused {
        /// The schedule.
        schedule_id: String,
        /// The note it was paused with.
        note: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// A schedule was unpaused.
    Unpaused {
        /// The schedule.
        schedule_id: String,
        /// The note it was unpaused with.
        note: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// A run was started (the `Action::StartWorkflow` that `poll` returns).
    Started {
        /// The schedule.
        schedule_id: String,
        /// The run's workflow id.
        workflow_id: String,
        /// The nominal time it is for.
        nominal_time: DateTime<Utc>,
        /// The actual (jittered) time it was due.
        scheduled_at: DateTime<Utc>,
        /// By trigger or backfill.
        manual: bool,
        /// When it started.
        at: DateTime<Utc>,
    },
    /// A run was reported closed.
    Closed {
        /// The schedule.
        schedule_id: String,
        /// The run's workflow id.
        workflow_id: String,
        /// How it ended.
        outcome: WorkflowOutcome,
        /// When it was reported.
        at: DateTime<Utc>,
    },
    /// The overlap policy (CANCEL_OTHER) asked for a running run to be cancelled.
    CancelRequested {
        /// The schedule.
        schedule_id: String,
        /// The run to cancel.
        workflow_id: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// The overlap policy (TERMINATE_OTHER) asked for a running run to be terminated.
    TerminateRequested {
        /// The schedule.
        schedule_id: String,
        /// The run to terminate.
        workflow_id: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// A start was skipped by the overlap policy (`num_actions_skipped_overlap`).
    SkippedOverlap {
        /// The schedule.
        schedule_id: String,
        /// The nominal time of the start.
        nominal_time: DateTime<Utc>,
        /// When.
        at: DateTime<Utc>,
    },
    /// Scheduled times older than the catch-up window when they were processed
    /// (`num_actions_missed_catchup_window`).
    MissedCatchup {
        /// The schedule.
        schedule_id: String,
        /// The first nominal time missed.
        nominal_time: DateTime<Utc>,
        /// The last nominal time missed (`nominal_time` when `count` is 1).
        last_nominal_time: DateTime<Utc>,
        /// How many, `nominal_time` to `last_nominal_time`.
        count: u64,
        /// When.
        at: DateTime<Utc>,
    },
    /// Starts dropped because the buffer was full (`num_actions_buffer_dropped`).
    BufferDropped {
        /// The schedule.
        schedule_id: String,
        /// The first nominal time dropped; `None` for a backfill request dropped because too
        /// many were ongoing.
        nominal_time: Option<DateTime<Utc>>,
        /// The last nominal time dropped.
        last_nominal_time: Option<DateTime<Utc>>,
        /// How many.
        count: u64,
        /// When.
        at: DateTime<Utc>,
    },
    /// Scheduled times dropped because the schedule was paused or out of remaining actions
    /// when they came due or were about to start (`num_actions_dropped_paused`).
    DroppedWhilePaused {
        /// The schedule.
        schedule_id: String,
        /// The first nominal time dropped.
        nominal_time: DateTime<Utc>,
        /// The last nominal time dropped (`nominal_time` when `count` is 1).
        last_nominal_time: DateTime<Utc>,
        /// How many.
        count: u64,
        /// When.
        at: DateTime<Utc>,
    },
    /// A start dropped because a run with its workflow id was still open
    /// (`num_actions_duplicate_dropped`).
    DuplicateDropped {
        /// The schedule.
        schedule_id: String,
        /// The workflow id already running.
        workflow_id: String,
        /// The nominal time of the start.
        nominal_time: DateTime<Utc>,
        /// When.
        at: DateTime<Utc>,
    },
    /// A start the overlap policy dropped without a skip (`num_actions_replaced_overlap`): a
    /// CANCEL_OTHER / TERMINATE_OTHER start replaced by a later one, or an ALLOW_ALL start
    /// not taken while running runs were being stopped.
    ReplacedOverlap {
        /// The schedule.
        schedule_id: String,
        /// The nominal time of the start.
        nominal_time: DateTime<Utc>,
        /// When.
        at: DateTime<Utc>,
    },
    /// A standalone workflow (cron job run or delayed start) was started.
    WorkflowStarted {
        /// Its workflow id.
        workflow_id: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// A standalone workflow's run was reported closed.
    WorkflowClosed {
        /// Its workflow id.
        workflow_id: String,
        /// How it ended.
        outcome: WorkflowOutcome,
        /// When it was reported.
        at: DateTime<Utc>,
    },
    /// Not from the engine: this many events were not delivered to this subscriber because
    /// its channel was full (see `Client::subscribe`). It comes before the next event that
    /// could be delivered.
    Lagged {
        /// Events lost since the last one delivered.
        dropped: u64,
    },
}

impl ScheduleEvent {
    /// The schedule it is about; `None` for standalone workflows and `Lagged`.
    #[must_use]
    pub fn schedule_id(&self) -> Option<&str> {
        use ScheduleEvent as E;
        match self {
            E::Created { schedule_id, .. }
            | E::Updated { schedule_id, .. }
            | E::Deleted { schedule_id, .. }
            | E::Expired { schedule_id, .. }
            | E::Paused { schedule_id, .. }
            | E::Unpaused { schedule_id, .. }
            | E::Started { schedule_id, .. }
            | E::Closed { schedule_id, .. }
            | E::CancelRequested { schedule_id, .. }
            | E::TerminateRequested { schedule_id, .. }
            | E::SkippedOverlap { schedule_id, .. }
            | E::MissedCatchup { schedule_id, .. }
            | E::BufferDropped { schedule_id, .. }
            | E::DroppedWhilePaused { schedule_id, .. }
            | E::DuplicateDropped { schedule_id, .. }
            | E::ReplacedOverlap { schedule_id, .. } => Some(schedule_id),
            E::WorkflowStarted { .. } | E::WorkflowClosed { .. } | E::Lagged { .. } => None,
        }
    }
}

impl ScheduleEvent {
    /// What happened, in a few words (the `tracing` message).
    fn what(&self) -> &'static str {
        use ScheduleEvent as E;
        match self {
            E::Created { .. } => "schedule created",
            E::Updated { .. } => "schedule updated",
            E::Deleted { .. } => "schedule deleted",
            E::Expired { .. } => "schedule expired",
            E::Paused { .. } => "schedule paused",
            E::Unpaused { .. } => "schedule unpaused",
            E::Started { .. } => "run started",
            E::Closed { outcome, .. } if outcome.is_failure() => "run failed",
            E::Closed { .. } => "run closed",
            E::CancelRequested { .. } => "cancel requested by overlap policy",
            E::TerminateRequested { .. } => "terminate requested by overlap policy",
            E::SkippedOverlap { .. } => "start skipped by overlap policy",
            E::ReplacedOverlap { .. } => "start replaced by a later one",
            E::MissedCatchup { .. } => "times missed the catch-up window",
            E::BufferDropped { .. } => "starts dropped: buffer full",
            E::DroppedWhilePaused { .. } => "times dropped while paused or out of actions",
            E::DuplicateDropped { .. } => "start dropped: workflow id already running",
            E::WorkflowStarted { .. } => "standalone workflow started",
            E::WorkflowClosed { outcome, .. } if outcome.is_failure() => {
                "standalone workflow failed"
            }
            E::WorkflowClosed { .. } => "standalone workflow closed",
            E::Lagged { .. } => "events lost by a slow subscriber",
        }
    }
}

/// Sends `e` to `tracing`: starts and successful closes at trace level, the rest at debug.
fn trace(e: &ScheduleEvent) {
    use tracing::{debug, trace};
    use ScheduleEvent as E;
    let what = e.what();
    match e {
        E::Created { schedule_id, at }
        | E::Updated { schedule_id, at }
        | E::Deleted { schedule_id, at }
        | E::Expired { schedule_id, at } => debug!(schedule_id, %at, "{what}"),
        E::Paused {
            schedule_id,
            note,
            at,
        }
        | E::Unpaused {
            schedule_id,
            note,
            at,
        } => debug!(schedule_id, note, %at, "{what}"),
        E::Started {
            schedule_id,
            workflow_id,
            nominal_time,
            manual,
            at,
            ..
        } => trace!(schedule_id, workflow_id, %nominal_time, manual, %at, "{what}"),
        E::Closed {
            schedule_id,
            workflow_id,
            outcome,
            at,
        } if outcome.is_failure() => debug!(schedule_id, workflow_id, ?outcome, %at, "{what}"),
        E::Closed {
            schedule_id,
            workflow_id,
            outcome,
            at,
        } => trace!(schedule_id, workflow_id, ?outcome, %at, "{what}"),
        E::CancelRequested {
            schedule_id,
            workflow_id,
            at,
        }
        | E::TerminateRequested {
            schedule_id,
            workflow_id,
            at,
        } => debug!(schedule_id, workflow_id, %at, "{what}"),
        E::SkippedOverlap {
            schedule_id,
            nominal_time,
            at,
        }
        | E::ReplacedOverlap {
            schedule_id,
            nominal_time,
            at,
        } => debug!(schedule_id, %nominal_time, %at, "{what}"),
        E::MissedCatchup {
            schedule_id,
            nominal_time,
            last_nominal_time,
            count,
            at,
        }
        | E::DroppedWhilePaused {
            schedule_id,
            nominal_time,
            last_nominal_time,
            count,
            at,
        } => debug!(schedule_id, %nominal_time, %last_nominal_time, count, %at, "{what}"),
        E::BufferDropped {
            schedule_id,
            nominal_time,
            last_nominal_time,
            count,
            at,
        } => debug!(schedule_id, ?nominal_time, ?last_nominal_time, count, %at, "{what}"),
        E::DuplicateDropped {
            schedule_id,
            workflow_id,
            nominal_time,
            at,
        } => debug!(schedule_id, workflow_id, %nominal_time, %at, "{what}"),
        E::WorkflowStarted { workflow_id, at } => trace!(workflow_id, %at, "{what}"),
        E::WorkflowClosed {
            workflow_id,
            outcome,
            at,
        } if outcome.is_failure() => debug!(workflow_id, ?outcome, %at, "{what}"),
        E::WorkflowClosed {
            workflow_id,
            outcome,
            at,
        } => trace!(workflow_id, ?outcome, %at, "{what}"),
        E::Lagged { .. } => {}
    }
}

/// The events a scheduler records: nothing unless turned on.
#[derive(Debug, Default)]
pub(crate) struct EventLog {
    on: bool,
    events: Vec<ScheduleEvent>,
}

impl EventLog {
    /// Whether events are recorded.
    #[inline(always)]
    pub(crate) fn on(&self) -> bool {
        self.on
    }

    /// Turns recording on or off; off drops what was not taken.
    pub(crate) fn set_on(&mut self, on: bool) {
        self.on = on;
        if !on {
            self.events = Vec::new();
        }
    }

    /// Whether an event would go anywhere: recorded, or traced.
    #[inline(always)]
    pub(crate) fn wanted(&self) -> bool {
        self.on || tracing::enabled!(tracing::Level::DEBUG)
    }

    /// Records and traces the event `make` builds, if anything wants it: the closure is not
    /// run otherwise, so an event costs the fire path a branch and a level check.
    #[inline(always)]
    pub(crate) fn record(&mut self, make: impl FnOnce() -> ScheduleEvent) {
        if self.wanted() {
            self.record_now(make);
        }
    }

    /// `record` for the events traced only at TRACE (a start, a run that closed well): with
    /// DEBUG on and recording off, a fire builds no event that the trace would drop.
    #[inline(always)]
    pub(crate) fn record_detail(&mut self, make: impl FnOnce() -> ScheduleEvent) {
        if self.detail_wanted() {
            self.record_now(make);
        }
    }

    /// Whether an event traced only at TRACE would go anywhere.
    #[inline(always)]
    pub(crate) fn detail_wanted(&self) -> bool {
        self.on || tracing::enabled!(tracing::Level::TRACE)
    }

    /// The out-of-line part of `record`: building the event stays out of the fire path's
    /// code (measured with callgrind: inlined, it cost the fire path about 40 instructions).
    #[cold]
    #[inline(never)]
    fn record_now(&mut self, make: impl FnOnce() -> ScheduleEvent) {
        let event = make();
        trace(&event);
        if self.on {
            self.events.push(event);
        }
    }

    /// Everything recorded since the last call, in order.
    pub(crate) fn take(&mut self) -> Vec<ScheduleEvent> {
        std::mem::take(&mut self.events)
    }
}
