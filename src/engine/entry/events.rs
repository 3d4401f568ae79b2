//! What happens to a schedule between iterations: a run closing (completion effects,
//! pause-on-failure) and a full update. Both only change state; resulting starts come out of
//! the next `poll`.

use super::ScheduleEntry;
use crate::engine::action::{WorkflowExecutionStatus, WorkflowOutcome};
use crate::engine::compact::millis::to_dt;
use crate::engine::compact::recent::Recent;
use crate::engine::compact::stored_schedule::StoredSchedule;
use crate::engine::compact::workflow_id::is_workflow_id;
use crate::engine::event::{EventLog, ScheduleEvent};
use crate::engine::schedule::Schedule;
use crate::engine::schedule_action::ScheduleAction;
use crate::engine::shared_str::SharedStr;
use crate::spec::CompiledSpec;
use std::sync::Arc;

/// Whether a recent action's run may still close (not yet marked with an outcome).
fn is_open(r: &Recent) -> bool {
    matches!(
        r.status,
        WorkflowExecutionStatus::Running | WorkflowExecutionStatus::Unknown
    )
}

impl ScheduleEntry {
    /// Processes the buffer at the next poll if anything waits in it.
    pub(crate) fn kick_if_buffered(&mut self, now_ms: i64) {
        if !self.buffer.is_empty() || self.has_backfills() {
            self.kick_ms = self.kick_ms.min(now_ms);
        }
    }

    /// Pauses or unpauses with `note`.
    pub(crate) fn set_paused(
        &mut self,
        paused: bool,
        note: String,
        now_ms: i64,
        events: &mut EventLog,
    ) {
        events.record(|| {
            let (schedule_id, note, at) = (self.id.to_string(), note.clone(), to_dt(now_ms));
            if paused {
                ScheduleEvent::Paused {
                    schedule_id,
                    note,
                    at,
                }
            } else {
                ScheduleEvent::Unpaused {
                    schedule_id,
                    note,
                    at,
                }
            }
        });
        self.schedule.state.paused = paused;
        self.schedule.state.note = Some(note);
        self.bump_config_token();
        self.kick_if_buffered(now_ms);
    }

    /// Tracked run `index` (workflow id `workflow_id`) closed: stop tracking it, keep its
    /// result or failure for the next start, pause on failure if the policy says so, and let
    /// waiting starts go.
    pub(crate) fn run_closed(
        &mut self,
        index: usize,
        workflow_id: &str,
        outcome: &WorkflowOutcome,
        now_ms: i64,
        events: &mut EventLog,
    ) {
        let closed = || ScheduleEvent::Closed {
            schedule_id: self.id.to_string(),
            workflow_id: workflow_id.to_owned(),
            outcome: outcome.clone(),
            at: to_dt(now_ms),
        };
        // Traced at DEBUG when the run failed, at TRACE otherwise (see `event::trace`).
        if outcome.is_failure() {
            events.record(closed);
        } else {
            events.record_detail(closed);
        }
        self.mark_recent_closed(index, workflow_id, outcome.status());
        self.remove_run(index);
        let failure_note = match outcome {
            WorkflowOutcome::Completed { result } => {
                if result.is_some() || self.extra.is_some() {
                    let x = self.extra_mut();
                    x.last_completion_result = result.clone().map(Arc::new);
                    x.last_failure = None;
                }
                None
            }
            WorkflowOutcome::Failed { message } => {
                self.extra_mut().last_failure = Some(SharedStr::from(message.as_str()));
                Some(format!(
                    "paused due to workflow failure: {workflow_id}: {message}"
                ))
            }
            WorkflowOutcome::TimedOut => {
                self.extra_mut().last_failure = Some(SharedStr::from("workflow timed out"));
                Some(format!("paused due to workflow timeout: {workflow_id}"))
            }
            // Canceled and Terminated neither count as failures nor pause (Temporal's
            // CanceledTerminatedCountAsFailures = false).
            _ => None,
        };
        if let Some(note) = failure_note {
            // Failed and timed out, exactly the outcomes that count as failures.
            self.counters.failed = self.counters.failed.saturating_add(1);
            if self.schedule.policy.pause_on_failure && !self.schedule.state.paused {
                events.record(|| ScheduleEvent::Paused {
                    schedule_id: self.id.to_string(),
                    note: note.clone(),
                    at: to_dt(now_ms),
                });
                self.schedule.state.paused = true;
                self.schedule.state.note = Some(note);
                self.bump_config_token();
            }
        }
        self.kick_if_buffered(now_ms);
        self.shrink_extra();
    }

    /// Shows the outcome of run `index` (workflow id `workflow_id`) on its recent action, if
    /// that is still among the recent ones: the newest one of its id not yet closed.
    #[inline]
    fn mark_recent_closed(
        &mut self,
        index: usize,
        workflow_id: &str,
        status: WorkflowExecutionStatus,
    ) {
        let run = &self.running[index];
        // The usual case, checked first: the run is the newest action. A run not spelled out
        // is `<current action id>-<nominal>`, as is a recent action with prefix 0 and its
        // nominal time, so no id is rebuilt.
        let (nominal_s, spelled) = (run.nominal_s, run.spelled);
        if !spelled {
            if let Some(r) = self.recent.find_newest_mut(|_| true) {
                if r.nominal_s == nominal_s && r.prefix == 0 && is_open(r) {
                    r.status = status;
                    return;
                }
            }
        }
        self.mark_older_recent_closed(nominal_s, spelled, workflow_id, status);
    }

    /// `mark_recent_closed` for a run that is not the newest action.
    #[cold]
    fn mark_older_recent_closed(
        &mut self,
        nominal_s: i64,
        spelled: bool,
        workflow_id: &str,
        status: WorkflowExecutionStatus,
    ) {
        let target = if spelled {
            let id = |r: &Recent| is_workflow_id(workflow_id, self.prefix(r.prefix), r.nominal_s);
            self.recent
                .iter()
                .rev()
                .find(|r| is_open(r) && id(r))
                .map(|r| (r.nominal_s, r.prefix))
        } else {
            Some((nominal_s, 0))
        };
        if let Some((nominal_s, prefix)) = target {
            let found = self
                .recent
                .find_newest_mut(|r| is_open(r) && r.nominal_s == nominal_s && r.prefix == prefix);
            if let Some(r) = found {
                r.status = status;
            }
        }
    }

    /// Replaces action, spec, policy and state (already validated and compiled).
    pub(crate) fn apply_update(
        &mut self,
        schedule: Schedule,
        compiled: CompiledSpec,
        now_ms: i64,
        events: &mut EventLog,
    ) {
        events.record(|| ScheduleEvent::Updated {
            schedule_id: self.id.to_string(),
            at: to_dt(now_ms),
        });
        let ScheduleAction::StartWorkflow(action) = &schedule.action;
        if action.id != self.schedule.action_id() {
            self.retire_prefix();
        }
        self.schedule = StoredSchedule::new(&self.id, schedule);
        // The id now points into the new strings (the id map's key is moved by the table).
        self.id = self.schedule.id();
        self.compiled = Some(compiled);
        if let Some(x) = self.extra.as_mut() {
            x.invalid_spec_error = None;
        }
        self.updated_ms = now_ms;
        self.bump_config_token();
        // Not retroactive: a nominal time more than the jitter before now has its actual time
        // before the update, so the search may start there (bounded work for dense specs).
        let floor = now_ms
            .saturating_sub(self.max_jitter_ms())
            .saturating_sub(1000);
        self.hwm_ms = self.hwm_ms.max(floor);
        self.refresh_next();
        // Buffered starts resolve their policy with the new one at the next poll.
        self.kick_if_buffered(now_ms);
        self.shrink_extra();
    }
}
