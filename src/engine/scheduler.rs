//! The sans-IO [`Scheduler`]: the public verbs. Each checks its arguments, moves the
//! scheduler's clock, and calls the slot table (`table`) and the schedule entries (`entry`).
//!
//! Invariants:
//! - Every mutation first processes the elapsed time range of the schedule it touches (the
//!   scheduled times due by `now` are classified and buffered with the old state, as Temporal
//!   does before applying a signal), then changes state; actions only leave through `poll`.
//! - `now` never goes backwards: an earlier `now` is treated as the latest one seen, and time
//!   moves only once a call is known to succeed.
//! - After every `&mut self` method, the heap's top entry is live (see `compact::heap`), so
//!   `next_wakeup` is exact.

use chrono::{DateTime, Utc};

use super::action::{Action, StartWorkflowOptions, WorkflowOutcome};
use super::compact::millis::to_dt;
use super::compact::stored_schedule::StoredSchedule;
use super::config::SchedulerConfig;
use super::description::{ScheduleDescription, ScheduleListDescription};
use super::description::{ScheduleUpdate, ScheduleUpdateInput};
use super::entry::job::JobEntry;
use super::entry::{manual_start, Counters, ScheduleEntry, NEVER_UPDATED};
use super::event::{EventLog, ScheduleEvent};
use super::schedule::{
    check_backfills, check_note, prepare_schedule, CreateScheduleOptions, Schedule,
    ScheduleBackfill, ScheduleOverlapPolicy,
};
use super::shared_str::SharedStr;
use super::table::{Entity, SlotTable};
use crate::engine::compact::heap::NEVER;
use crate::error::ScheduleError;

/// Default note of `pause`.
const PAUSE_NOTE: &str = "Paused via schedule-engine";
/// Default note of `unpause`.
const UNPAUSE_NOTE: &str = "Unpaused via schedule-engine";

/// Temporal's schedules as a pure state machine: time enters only as `now`, actions leave only
/// through [`Scheduler::poll`], and [`Scheduler::next_wakeup`] says when `poll` next has work.
///
/// Its methods come in four families:
/// - **getters** (`&self`): [`describe`](Self::describe),
///   [`list_schedules`](Self::list_schedules), [`next_wakeup`](Self::next_wakeup),
///   [`snapshot`](Self::snapshot), [`config`](Self::config),
///   [`schedule_count`](Self::schedule_count);
/// - **the handler** of what the caller reports: [`workflow_closed`](Self::workflow_closed);
/// - **mutators**: [`create_schedule`](Self::create_schedule) (and `_with_options`),
///   [`pause`](Self::pause), [`unpause`](Self::unpause), [`trigger`](Self::trigger),
///   [`backfill`](Self::backfill), [`update`](Self::update),
///   [`update_checked`](Self::update_checked), [`delete`](Self::delete),
///   [`start_workflow`](Self::start_workflow); [`take_changes`](Self::take_changes) drains the
///   change feed;
/// - **the poll**: [`poll`](Self::poll), every action due at `now`.
///
/// Mutators and the handler change state only; their actions come out of the next `poll`.
/// `next_wakeup` may change after any mutator, after `workflow_closed` (a closed run releases
/// a buffered start, or plans a cron job's next run) and after `poll`: read it again after each
/// before sleeping. Every method that takes `now` treats an earlier `now` than one it has seen
/// as the latest one.
#[derive(Debug)]
pub struct Scheduler {
    config: SchedulerConfig,
    last_now_ms: i64,
    pub(crate) table: SlotTable,
}

impl Default for Scheduler {
    fn default() -> Self {
        Scheduler::new(SchedulerConfig::default())
    }
}

impl Scheduler {
    /// An empty scheduler.
    #[must_use]
    pub fn new(config: SchedulerConfig) -> Self {
        let retention_ms = i64::try_from(config.retention.as_millis()).unwrap_or(i64::MAX);
        let table = SlotTable::new(retention_ms, config.max_buffer_size);
        Scheduler {
            config,
            last_now_ms: i64::MIN,
            table,
        }
    }

    /// The limits it runs with.
    #[must_use]
    pub fn config(&self) -> &SchedulerConfig {
        &self.config
    }

    /// Number of schedules.
    #[must_use]
    pub fn schedule_count(&self) -> usize {
        self.table.ids.len()
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
        schedule: Schedule,
        options: CreateScheduleOptions,
        now: DateTime<Utc>,
    ) -> Result<(), ScheduleError> {
        check_backfills(&options.backfill)?;
        let (schedule, compiled) = prepare_schedule(id, schedule)?;
        let now_ms = self.peek_now(now);
        if let Some(&slot) = self.table.ids.get(id) {
            if !self.table.expire_if_due(slot, now_ms) {
                return Err(ScheduleError::AlreadyExists { id: id.to_owned() });
            }
        }
        self.clamp(now);
        let schedule = StoredSchedule::new(id, schedule);
        let id = schedule.id();
        let mut e = Box::new(ScheduleEntry {
            id: id.clone(),
            schedule,
            compiled: Some(compiled),
            conflict_token: 1,
            config_token: 1,
            created_ms: now_ms,
            updated_ms: NEVER_UPDATED,
            hwm_ms: now_ms,
            next: None,
            counters: Counters::default(),
            buffer: Default::default(),
            running: Default::default(),
            recent: Default::default(),
            kick_ms: NEVER,
            extra: None,
        });
        e.refresh_next();
        let events = &mut self.table.events;
        events.record(|| ScheduleEvent::Created {
            schedule_id: id.to_string(),
            at: to_dt(now_ms),
        });
        if options.trigger_immediately {
            let start = manual_start(now_ms, None);
            e.add_start(start, self.config.max_buffer_size, events, now_ms);
        }
        e.add_backfills(&options.backfill, events, now_ms);
        if !e.buffer.is_empty() || e.has_backfills() {
            e.kick_ms = now_ms;
        }
        let slot = self.table.alloc(Entity::Schedule(e));
        self.table.ids.insert(id, slot);
        self.table.settle(slot);
        Ok(())
    }

    /// Everything due at `now`: the actions to carry out, in order. Calling early or twice is
    /// harmless (nothing is returned twice); the actions are not kept, so dropping them loses
    /// them.
    #[must_use = "the actions due are returned once: a dropped start never runs"]
    pub fn poll(&mut self, now: DateTime<Utc>) -> Vec<Action> {
        let mut out = Vec::new();
        let now_ms = self.clamp(now);
        self.table.poll(now_ms, &mut out);
        out
    }

    /// When `poll` next has work; `None` when nothing is pending.
    #[must_use]
    pub fn next_wakeup(&self) -> Option<DateTime<Utc>> {
        self.table.heap.peek().map(|(due, _, _)| to_dt(due))
    }

    /// Reports that a started workflow closed. `WorkflowNotFound` if no tracked run has this
    /// id (e.g. its schedule was deleted).
    pub fn workflow_closed(
        &mut self,
        workflow_id: &str,
        outcome: WorkflowOutcome,
        now: DateTime<Utc>,
    ) -> Result<(), ScheduleError> {
        let now_ms = self.peek_now(now);
        if !self.table.workflow_closed(workflow_id, &outcome, now_ms) {
            return Err(ScheduleError::WorkflowNotFound {
                workflow_id: workflow_id.to_owned(),
            });
        }
        self.last_now_ms = now_ms;
        Ok(())
    }

    /// The schedule with its counters, running and recent actions and next times.
    pub fn describe(
        &self,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<ScheduleDescription, ScheduleError> {
        let now_ms = self.peek_now(now);
        let e = self.table.schedule_ref(id, now_ms)?;
        Ok(e.describe(now_ms))
    }

    /// All schedules, ordered by id.
    #[must_use]
    pub fn list_schedules(&self, now: DateTime<Utc>) -> Vec<ScheduleListDescription> {
        let now_ms = self.peek_now(now);
        let mut ids: Vec<&SharedStr> = self.table.ids.keys().collect();
        ids.sort_unstable();
        ids.into_iter()
            .filter_map(|id| self.table.schedule_ref(id, now_ms).ok())
            .map(|e| e.list_description(now_ms))
            .collect()
    }

    /// Pauses: scheduled times while paused are dropped for good. `note` defaults to
    /// `Paused via schedule-engine`.
    pub fn pause(
        &mut self,
        id: &str,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), ScheduleError> {
        self.set_paused(id, true, note, now)
    }

    /// Unpauses; no catch-up of the times passed while paused. `note` defaults to
    /// `Unpaused via schedule-engine`.
    pub fn unpause(
        &mut self,
        id: &str,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), ScheduleError> {
        self.set_paused(id, false, note, now)
    }

    fn set_paused(
        &mut self,
        id: &str,
        paused: bool,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), ScheduleError> {
        check_note(note)?;
        let default = if paused { PAUSE_NOTE } else { UNPAUSE_NOTE };
        let note = note.filter(|n| !n.is_empty()).unwrap_or(default).to_owned();
        self.mutate(id, now, move |e, events, now_ms| {
            e.set_paused(paused, note, now_ms, events)
        })
    }

    /// A manual start now (nominal time = `now` truncated to the second), even while paused
    /// or out of remaining actions, obeying the overlap policy (`overlap`, else the
    /// schedule's). It does not use up remaining actions.
    pub fn trigger(
        &mut self,
        id: &str,
        overlap: Option<ScheduleOverlapPolicy>,
        now: DateTime<Utc>,
    ) -> Result<(), ScheduleError> {
        let max_buffer = self.config.max_buffer_size;
        self.mutate(id, now, move |e, events, now_ms| {
            e.add_start(manual_start(now_ms, overlap), max_buffer, events, now_ms);
            e.kick_ms = now_ms;
        })
    }

    /// Takes every time of `[start_at, end_at]` (both inclusive) of each backfill as a manual
    /// start, with the backfill's overlap policy; pause, limits and the catch-up window do not
    /// apply.
    pub fn backfill(
        &mut self,
        id: &str,
        backfills: &[ScheduleBackfill],
        now: DateTime<Utc>,
    ) -> Result<(), ScheduleError> {
        if backfills.is_empty() {
            return Err(ScheduleError::invalid("at least one backfill required"));
        }
        check_backfills(backfills)?;
        self.mutate(id, now, |e, events, now_ms| {
            e.add_backfills(backfills, events, now_ms);
            e.kick_ms = now_ms;
        })
    }

    /// Replaces action, spec, policy and state with what `updater` returns (`None`: no change
    /// at all). Not retroactive: scheduled times whose actual time is before the update are
    /// not taken.
    pub fn update<F: FnOnce(ScheduleUpdateInput) -> Option<ScheduleUpdate>>(
        &mut self,
        id: &str,
        updater: F,
        now: DateTime<Utc>,
    ) -> Result<(), ScheduleError> {
        let now_ms = self.peek_now(now);
        let description = self.table.schedule_ref(id, now_ms)?.describe(now_ms);
        let Some(update) = updater(ScheduleUpdateInput { description }) else {
            return Ok(());
        };
        let (schedule, compiled) = prepare_schedule(id, update.schedule)?;
        self.mutate(id, now, move |e, events, now_ms| {
            e.apply_update(schedule, compiled, now_ms, events)
        })?;
        self.rekey(id);
        Ok(())
    }

    /// Compare-and-swap update: replaces action, spec, policy and state with `schedule` (as
    /// [`Scheduler::update`] does) if nothing a user could have overwritten changed since the
    /// description that `conflict_token` came from; `Conflict` otherwise.
    ///
    /// What moves the token, and what conflicts: every update, pause and unpause, a pause by a
    /// failed run (`pause_on_failure`), and each scheduled start that uses up one of the
    /// `remaining_actions`. The first four are changes of configuration that a replacement
    /// built from an older description would silently undo (Temporal's reason for the token):
    /// a token taken before one of them conflicts. Starts are not: an action count is not a
    /// concurrent update, and a schedule that fires faster than the caller decides would
    /// otherwise never accept one. A token older only by such starts is accepted, and the
    /// starts taken since are deducted from `schedule.state.remaining_actions` (if it is
    /// `Some`), as if the update had been applied at the moment of the description: an
    /// unchanged count then stays exactly the current one, and none of those starts is given
    /// back. A token newer than the current one (from another scheduler, or from before a
    /// restore that renumbered it) conflicts too.
    ///
    /// Errors: `NotFound`; `Conflict`; `InvalidSpec` or `InvalidArgument` for an invalid
    /// schedule. Nothing changes on error.
    pub fn update_checked(
        &mut self,
        id: &str,
        mut schedule: Schedule,
        conflict_token: u64,
        now: DateTime<Utc>,
    ) -> Result<(), ScheduleError> {
        let now_ms = self.peek_now(now);
        let e = self.table.schedule_ref(id, now_ms)?;
        let spent = e
            .starts_since(conflict_token)
            .ok_or_else(|| ScheduleError::Conflict { id: id.to_owned() })?;
        if let Some(r) = schedule.state.remaining_actions.as_mut() {
            *r = r.saturating_sub(spent);
        }
        let (schedule, compiled) = prepare_schedule(id, schedule)?;
        self.mutate(id, now, move |e, events, now_ms| {
            e.apply_update(schedule, compiled, now_ms, events)
        })?;
        self.rekey(id);
        Ok(())
    }

    /// Deletes a schedule; its started workflows keep running (and are no longer tracked),
    /// its buffered starts are dropped.
    pub fn delete(&mut self, id: &str, now: DateTime<Utc>) -> Result<(), ScheduleError> {
        let slot = self.table.lookup(id, self.peek_now(now))?;
        let now_ms = self.clamp(now);
        self.table.events.record(|| ScheduleEvent::Deleted {
            schedule_id: id.to_owned(),
            at: to_dt(now_ms),
        });
        self.table.remove(slot);
        self.table.clean_top();
        Ok(())
    }

    /// Starts a standalone workflow: a cron job (`cron_schedule`), a delayed start
    /// (`start_delay`), or with neither a start at the next poll. A workflow id already
    /// running (or pending) is `InvalidArgument`.
    pub fn start_workflow(
        &mut self,
        options: StartWorkflowOptions,
        now: DateTime<Utc>,
    ) -> Result<(), ScheduleError> {
        let now_ms = self.peek_now(now);
        if self.table.workflow_slot(&options.id).is_some() {
            return Err(ScheduleError::invalid(format!(
                "workflow id {:?} is already running",
                options.id
            )));
        }
        let job = JobEntry::new(options, now_ms)?;
        self.clamp(now);
        let id = job.id.clone();
        let slot = self.table.alloc(Entity::Job(Box::new(job)));
        self.table.track_workflow(&id, slot);
        self.table.settle(slot);
        Ok(())
    }

    /// Turns the recording of [`ScheduleEvent`]s on or off (off by default; off drops what
    /// was not taken). On, every decision of every verb and poll from then on is recorded, in
    /// the order the engine made it, until [`take_events`](Self::take_events) drains it: take
    /// them after each call, or they pile up. Off, recording costs one branch per decision.
    ///
    /// Within one call the order is the engine's: a verb's elapsed time range first (the times
    /// due are classified before the verb applies), then the verb's own event; in a poll, each
    /// schedule's iteration in turn: its due times by class (a stretch of one class is one
    /// event), then each pass over its buffer (skips and replacements in buffer order, then
    /// cancel or terminate requests, then starts).
    ///
    /// Events are not state: a snapshot does not hold them, and a restored scheduler starts
    /// with recording off.
    pub fn record_events(&mut self, on: bool) {
        self.table.events.set_on(on);
    }

    /// Whether events are being recorded.
    #[must_use]
    pub fn records_events(&self) -> bool {
        self.table.events.on()
    }

    /// Every event recorded since the last call, oldest first (empty when recording is off).
    pub fn take_events(&mut self) -> Vec<ScheduleEvent> {
        self.table.events.take()
    }

    /// Moves the scheduler's clock to `now` (never back) and returns it in millis.
    fn clamp(&mut self, now: DateTime<Utc>) -> i64 {
        self.last_now_ms = self.peek_now(now);
        self.last_now_ms
    }

    /// `now` in millis as the scheduler sees it (never before the latest seen), without
    /// moving its clock.
    fn peek_now(&self, now: DateTime<Utc>) -> i64 {
        self.last_now_ms.max(now.timestamp_millis())
    }

    /// Points the id map's key of schedule `id` at its current strings (after an update).
    fn rekey(&mut self, id: &str) {
        if let Some(&slot) = self.table.ids.get(id) {
            self.table.rekey(slot);
        }
    }

    /// Runs `f` on schedule `id` after processing its elapsed time range at `now`.
    fn mutate(
        &mut self,
        id: &str,
        now: DateTime<Utc>,
        f: impl FnOnce(&mut ScheduleEntry, &mut EventLog, i64),
    ) -> Result<(), ScheduleError> {
        let slot = self.table.lookup(id, self.peek_now(now))?;
        let now_ms = self.clamp(now);
        self.table
            .mutate(slot, now_ms, |e, events| f(e, events, now_ms));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheduler_can_move_between_threads() {
        // The client shares it as Arc<Mutex<Scheduler>> across its worker thread.
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Scheduler>();
    }
}
