//! The sans-IO [`Scheduler`]: the public verbs over the slot table, the wake-up heap and the
//! workflow map.
//!
//! Invariants:
//! - `ids` maps every live schedule id to its slot; `workflows` maps the workflow id of every
//!   run in a schedule's `running` (and of every live standalone job) to that slot, and to no
//!   other: `remove` and `close_run` untrack ids without checking who holds them.
//! - Every mutation first processes the elapsed time range of the schedule it touches (the
//!   scheduled times due by `now` are classified and buffered with the old state, as Temporal
//!   does before applying a signal), then changes state; actions only leave through `poll`.
//! - `now` never goes backwards: an earlier `now` is treated as the latest one seen.
//! - After every `&mut self` method, the heap's top entry is live (see `heap`), so
//!   `next_wakeup` is exact.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::action::{Action, StartWorkflowOptions, WorkflowOutcome};
use super::config::SchedulerConfig;
use super::cron_job::JobEntry;
use super::describe::{ScheduleDescription, ScheduleListDescription};
use super::error::ScheduleError;
use super::hash::IdMap;
use super::heap::{WakeHeap, NEVER};
use super::process::Ctx;
use super::schedule::{
    CreateScheduleOptions, Schedule, ScheduleBackfill, ScheduleOverlapPolicy, ScheduleUpdate,
    ScheduleUpdateInput, MIN_CATCHUP_WINDOW,
};
use super::sink::ActionSink;
use super::snapshot::StateChange;
use super::state::{to_dt, BufferedStart, Counters, Entity, PendingBackfill, ScheduleEntry, Slot};
use super::workflows::WorkflowMap;
use crate::spec::CompiledSpec;

/// Longest note accepted (bytes).
const MAX_NOTE_BYTES: usize = 1000;
/// Ongoing backfill requests per schedule (Temporal: beyond it they are dropped and counted).
const MAX_ONGOING_BACKFILLS: usize = 1000;
/// Default note of `pause`.
const PAUSE_NOTE: &str = "Paused via schedule-engine";
/// Default note of `unpause`.
const UNPAUSE_NOTE: &str = "Unpaused via schedule-engine";

/// Temporal's schedules as a pure state machine: time enters only as `now`, actions leave only
/// through [`Scheduler::poll`], and [`Scheduler::next_wakeup`] says when `poll` next has work.
#[derive(Debug)]
pub struct Scheduler {
    pub(crate) config: SchedulerConfig,
    pub(crate) retention_ms: i64,
    pub(crate) slots: Vec<Slot>,
    free: Vec<u32>,
    pub(crate) live: usize,
    pub(crate) ids: IdMap<Arc<str>, u32>,
    pub(crate) workflows: WorkflowMap,
    pub(crate) heap: WakeHeap,
    last_now_ms: i64,
    pub(crate) dirty: Vec<u32>,
    pub(crate) removed: Vec<StateChange>,
}

impl Default for Scheduler {
    fn default() -> Self {
        Scheduler::new(SchedulerConfig::default())
    }
}

fn not_found(id: &str) -> ScheduleError {
    ScheduleError::NotFound { id: id.to_owned() }
}

fn workflow_not_found(workflow_id: &str) -> ScheduleError {
    ScheduleError::WorkflowNotFound {
        workflow_id: workflow_id.to_owned(),
    }
}

fn invalid(message: impl Into<String>) -> ScheduleError {
    ScheduleError::InvalidArgument {
        message: message.into(),
    }
}

fn check_note(note: Option<&str>) -> Result<(), ScheduleError> {
    match note {
        Some(n) if n.len() > MAX_NOTE_BYTES => Err(invalid(format!(
            "note is {} bytes, at most {MAX_NOTE_BYTES} are allowed",
            n.len()
        ))),
        _ => Ok(()),
    }
}

/// Validates a schedule for `id` and compiles its spec; the policy gets its effective
/// catch-up window.
pub(crate) fn prepare_schedule(
    id: &str,
    mut schedule: Schedule,
) -> Result<(Schedule, CompiledSpec), ScheduleError> {
    if id.is_empty() {
        return Err(invalid("schedule id is empty"));
    }
    let action = schedule.action.start_workflow();
    if action.workflow.is_empty() {
        return Err(invalid("workflow type name is empty"));
    }
    if action.task_queue.is_empty() {
        return Err(invalid("task queue is empty"));
    }
    if action.id.is_empty() {
        return Err(invalid("action workflow id is empty"));
    }
    check_note(schedule.state.note.as_deref())?;
    let compiled = schedule.spec.compile_with_jitter_seed(id)?;
    if schedule.policy.catchup_window < MIN_CATCHUP_WINDOW {
        schedule.policy.catchup_window = MIN_CATCHUP_WINDOW;
    }
    Ok((schedule, compiled))
}

fn check_backfills(backfills: &[ScheduleBackfill]) -> Result<(), ScheduleError> {
    for (i, b) in backfills.iter().enumerate() {
        if b.end_at < b.start_at {
            return Err(invalid(format!(
                "backfill[{i}]: end_at {} is before start_at {}",
                b.end_at, b.start_at
            )));
        }
    }
    Ok(())
}

impl Scheduler {
    /// An empty scheduler.
    pub fn new(config: SchedulerConfig) -> Self {
        let retention_ms = i64::try_from(config.retention.as_millis()).unwrap_or(i64::MAX);
        Scheduler {
            config,
            retention_ms,
            slots: Vec::new(),
            free: Vec::new(),
            live: 0,
            ids: IdMap::default(),
            workflows: WorkflowMap::default(),
            heap: WakeHeap::default(),
            last_now_ms: i64::MIN,
            dirty: Vec::new(),
            removed: Vec::new(),
        }
    }

    /// The limits it runs with.
    pub fn config(&self) -> &SchedulerConfig {
        &self.config
    }

    /// Number of schedules.
    pub fn schedule_count(&self) -> usize {
        self.ids.len()
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
        if let Some(&slot) = self.ids.get(id) {
            if !self.expire_if_due(slot, now_ms) {
                return Err(ScheduleError::AlreadyExists { id: id.to_owned() });
            }
        }
        self.clamp(now);
        let id: Arc<str> = Arc::from(id);
        let mut e = Box::new(ScheduleEntry {
            id: id.clone(),
            schedule: schedule.into(),
            compiled: Some(compiled),
            conflict_token: 1,
            config_token: 1,
            created_ms: now_ms,
            updated_ms: None,
            hwm_ms: now_ms,
            next: None,
            counters: Counters::default(),
            buffer: Default::default(),
            running: Default::default(),
            recent: Default::default(),
            kick_ms: NEVER,
            extra: None,
            dirty: false,
        });
        e.refresh_next();
        if options.trigger_immediately {
            e.add_start(manual_start(now_ms, None), self.config.max_buffer_size);
        }
        add_backfills(&mut e, &options.backfill);
        if !e.buffer.is_empty() || e.has_backfills() {
            e.kick_ms = now_ms;
        }
        let slot = self.alloc(Entity::Schedule(e));
        self.ids.insert(id, slot);
        self.touch(slot);
        self.reschedule(slot);
        self.clean_top();
        Ok(())
    }

    /// Everything due at `now`. Calling early or twice is harmless.
    pub fn poll(&mut self, now: DateTime<Utc>) -> Vec<Action> {
        let mut out = Vec::new();
        self.poll_into(now, &mut out);
        out
    }

    /// [`Scheduler::poll`], appending to `out` (lets a driver loop reuse one buffer).
    pub fn poll_into(&mut self, now: DateTime<Utc>, out: &mut Vec<Action>) {
        let mut sink = ActionSink::appending(out);
        self.poll_sink(now, &mut sink);
        sink.finish();
    }

    /// [`Scheduler::poll`], replacing the contents of `actions` with the actions due at
    /// `now`. A start action written where the previous poll left a start action reuses that
    /// action's strings, so a driver that keeps one `Vec`, reads the actions in place and
    /// polls again allocates nothing per fired action.
    ///
    /// ```
    /// # use schedule_engine::*;
    /// # use std::time::Duration;
    /// # let t0 = chrono::DateTime::from_timestamp(1_654_041_600, 0).unwrap();
    /// let mut scheduler = Scheduler::default();
    /// let spec = ScheduleSpec {
    ///     intervals: vec![ScheduleIntervalSpec::new(Duration::from_secs(60))],
    ///     ..Default::default()
    /// };
    /// let action = ScheduleActionStartWorkflow::new("report", "daily-report", "reports");
    /// scheduler.create_schedule("report", Schedule::new(action, spec), t0)?;
    ///
    /// let mut actions = Vec::new();
    /// for minute in 1..=3 {
    ///     let now = t0 + chrono::Duration::minutes(minute);
    ///     scheduler.poll_reuse(now, &mut actions);
    ///     assert_eq!(actions.len(), 1);
    ///     for action in &actions {
    ///         if let Action::StartWorkflow(start) = action {
    ///             // ... start the workflow, then later:
    ///             scheduler.workflow_closed(
    ///                 &start.workflow_id,
    ///                 WorkflowOutcome::Completed { result: None },
    ///                 now,
    ///             )?;
    ///         }
    ///     }
    /// }
    /// # Ok::<(), ScheduleError>(())
    /// ```
    pub fn poll_reuse(&mut self, now: DateTime<Utc>, actions: &mut Vec<Action>) {
        let mut sink = ActionSink::reusing(actions);
        self.poll_sink(now, &mut sink);
        sink.finish();
    }

    fn poll_sink(&mut self, now: DateTime<Utc>, out: &mut ActionSink<'_>) {
        let now_ms = self.clamp(now);
        let mut again = Vec::new();
        while let Some((due, slot, generation)) = self.heap.peek() {
            if due > now_ms {
                break;
            }
            self.heap.pop();
            if !self.is_live(slot, generation, due) {
                continue;
            }
            self.slots[slot as usize].wake = NEVER;
            self.process_slot(slot, now_ms, out);
            let w = self.wake_of(slot);
            if w <= now_ms {
                // More work right away (a long backfill): at the next poll, not in this one.
                again.push(slot);
            } else {
                self.set_wake(slot, w);
            }
        }
        for slot in again {
            let w = self.wake_of(slot);
            self.set_wake(slot, w);
        }
        self.clean_top();
    }

    /// When `poll` next has work; `None` when nothing is pending.
    pub fn next_wakeup(&self) -> Option<DateTime<Utc>> {
        self.heap.peek().map(|(due, _, _)| to_dt(due))
    }

    /// Reports that a started workflow closed. `WorkflowNotFound` if no tracked run has this
    /// id (e.g. its schedule was deleted).
    pub fn workflow_closed(
        &mut self,
        workflow_id: &str,
        outcome: WorkflowOutcome,
        now: DateTime<Utc>,
    ) -> Result<(), ScheduleError> {
        // One hash of the id: its fingerprint finds the slot and the run.
        let fingerprint = self.workflows.fingerprint(workflow_id);
        // Time moves only once the call is known to succeed.
        let now_ms = self.peek_now(now);
        // The usual case: the fingerprint's slot is a schedule with a run of this id (one
        // scan of its runs, where `get` below confirms and then `run_index` finds again).
        if let Some(slot) = self.workflows.candidate(fingerprint) {
            if let Entity::Schedule(e) = &self.slots[slot as usize].entity {
                if let Some(i) = e.run_index(workflow_id, fingerprint) {
                    // A schedule past its retention is gone for every verb (list and
                    // describe no longer show it), even before a poll removes it; its
                    // runs go untracked with it.
                    if self.expire_if_due(slot, now_ms) {
                        return Err(workflow_not_found(workflow_id));
                    }
                    self.close_run(slot, Some(i), workflow_id, fingerprint, &outcome, now_ms);
                    return Ok(());
                }
            }
        }
        let slots = &self.slots;
        let Some(slot) = self.workflows.get(workflow_id, fingerprint, |o, id| {
            slot_owns(slots, o, id, fingerprint)
        }) else {
            return Err(workflow_not_found(workflow_id));
        };
        if self.expire_if_due(slot, now_ms) {
            return Err(workflow_not_found(workflow_id));
        }
        match &mut self.slots[slot as usize].entity {
            Entity::Schedule(e) => {
                let i = e.run_index(workflow_id, fingerprint);
                self.close_run(slot, i, workflow_id, fingerprint, &outcome, now_ms);
                return Ok(());
            }
            Entity::Job(j) => {
                // A job keeps its id tracked while it lives.
                if !j.running {
                    return Err(workflow_not_found(workflow_id));
                }
                self.last_now_ms = now_ms;
                if !j.closed(&outcome, now_ms) {
                    self.remove(slot);
                    self.clean_top();
                    return Ok(());
                }
            }
            Entity::Free => return Err(workflow_not_found(workflow_id)),
        }
        self.touch(slot);
        self.reschedule(slot);
        self.clean_top();
        Ok(())
    }

    /// Closes run `index` (workflow id `workflow_id`) of the schedule in `slot`: the times due
    /// by `now_ms` are processed first, with the run still counted as running.
    // Inlined into both callers: as a call it cost about 45 instructions per close (measured
    // with callgrind), 2% of a fire.
    #[inline(always)]
    fn close_run(
        &mut self,
        slot: u32,
        index: Option<usize>,
        workflow_id: &str,
        fingerprint: u64,
        outcome: &WorkflowOutcome,
        now_ms: i64,
    ) {
        self.last_now_ms = now_ms;
        self.workflows.remove_tracked(workflow_id, fingerprint);
        let max_buffer = self.config.max_buffer_size;
        if let Entity::Schedule(e) = &mut self.slots[slot as usize].entity {
            // `advance` leaves `running` alone, so `index` stays valid.
            e.advance(now_ms, max_buffer);
            if let Some(i) = index {
                e.run_closed(i, workflow_id, outcome, now_ms);
            }
        }
        self.touch(slot);
        self.reschedule(slot);
        self.clean_top();
    }

    /// The schedule with its counters, running and recent actions and next times.
    pub fn describe(
        &self,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<ScheduleDescription, ScheduleError> {
        let now_ms = self.peek_now(now);
        let e = self.schedule_ref(id, now_ms)?;
        Ok(e.describe(now_ms))
    }

    /// All schedules, ordered by id.
    pub fn list_schedules(&self, now: DateTime<Utc>) -> Vec<ScheduleListDescription> {
        let now_ms = self.peek_now(now);
        let mut ids: Vec<(&Arc<str>, u32)> = self.ids.iter().map(|(k, v)| (k, *v)).collect();
        ids.sort_unstable();
        ids.into_iter()
            .filter_map(|(_, slot)| match &self.slots[slot as usize].entity {
                Entity::Schedule(e) if !e.expired(now_ms, self.retention_ms) => {
                    Some(e.list_description(now_ms))
                }
                _ => None,
            })
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
        self.mutate(id, now, move |e, now_ms| {
            e.schedule.state.paused = paused;
            e.schedule.state.note = Some(note);
            e.bump_config_token();
            e.kick_if_buffered(now_ms);
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
        self.mutate(id, now, move |e, now_ms| {
            e.add_start(manual_start(now_ms, overlap), max_buffer);
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
            return Err(invalid("at least one backfill required"));
        }
        check_backfills(backfills)?;
        self.mutate(id, now, |e, now_ms| {
            add_backfills(e, backfills);
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
        let description = self.schedule_ref(id, now_ms)?.describe(now_ms);
        let Some(update) = updater(ScheduleUpdateInput { description }) else {
            return Ok(());
        };
        let (schedule, compiled) = prepare_schedule(id, update.schedule)?;
        self.mutate(id, now, move |e, now_ms| {
            e.apply_update(schedule, compiled, now_ms)
        })
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
        let e = self.schedule_ref(id, now_ms)?;
        if conflict_token < e.config_token || conflict_token > e.conflict_token {
            return Err(ScheduleError::Conflict { id: id.to_owned() });
        }
        let spent = e.conflict_token - conflict_token;
        if let Some(r) = schedule.state.remaining_actions.as_mut() {
            *r = r.saturating_sub(spent);
        }
        let (schedule, compiled) = prepare_schedule(id, schedule)?;
        self.mutate(id, now, move |e, now_ms| {
            e.apply_update(schedule, compiled, now_ms)
        })
    }

    /// Deletes a schedule; its started workflows keep running (and are no longer tracked),
    /// its buffered starts are dropped.
    pub fn delete(&mut self, id: &str, now: DateTime<Utc>) -> Result<(), ScheduleError> {
        let slot = self.lookup(id, self.peek_now(now))?;
        self.clamp(now);
        self.remove(slot);
        self.clean_top();
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
        if self.workflow_slot(&options.id).is_some() {
            return Err(invalid(format!(
                "workflow id {:?} is already running",
                options.id
            )));
        }
        let job = JobEntry::new(options, now_ms)?;
        self.clamp(now);
        let id = job.id.clone();
        let slot = self.alloc(Entity::Job(Box::new(job)));
        self.track_workflow(&id, slot);
        self.touch(slot);
        self.reschedule(slot);
        self.clean_top();
        Ok(())
    }

    // ---- internals ----

    /// The slot tracking workflow id `id`.
    pub(crate) fn workflow_slot(&self, id: &str) -> Option<u32> {
        let fp = self.workflows.fingerprint(id);
        let slots = &self.slots;
        self.workflows
            .get(id, fp, |o, id| slot_owns(slots, o, id, fp))
    }

    /// Tracks workflow id `id` for `slot` (which must already own it).
    pub(crate) fn track_workflow(&mut self, id: &str, slot: u32) {
        let fp = self.workflows.fingerprint(id);
        let slots = &self.slots;
        self.workflows
            .insert(id, fp, slot, |o, id| slot_owns(slots, o, id, fp));
    }

    fn clamp(&mut self, now: DateTime<Utc>) -> i64 {
        self.last_now_ms = self.last_now_ms.max(now.timestamp_millis());
        self.last_now_ms
    }

    fn peek_now(&self, now: DateTime<Utc>) -> i64 {
        self.last_now_ms.max(now.timestamp_millis())
    }

    /// Runs `f` on schedule `id` after processing its elapsed time range at `now`.
    fn mutate(
        &mut self,
        id: &str,
        now: DateTime<Utc>,
        f: impl FnOnce(&mut ScheduleEntry, i64),
    ) -> Result<(), ScheduleError> {
        let slot = self.lookup(id, self.peek_now(now))?;
        let now_ms = self.clamp(now);
        let max_buffer = self.config.max_buffer_size;
        if let Entity::Schedule(e) = &mut self.slots[slot as usize].entity {
            e.advance(now_ms, max_buffer);
            f(e, now_ms);
        }
        self.touch(slot);
        self.reschedule(slot);
        self.clean_top();
        Ok(())
    }

    fn schedule_ref(&self, id: &str, now_ms: i64) -> Result<&ScheduleEntry, ScheduleError> {
        let slot = *self.ids.get(id).ok_or_else(|| not_found(id))?;
        match &self.slots[slot as usize].entity {
            Entity::Schedule(e) if !e.expired(now_ms, self.retention_ms) => Ok(e),
            _ => Err(not_found(id)),
        }
    }

    /// The slot of schedule `id`, removing it first if it expired.
    fn lookup(&mut self, id: &str, now_ms: i64) -> Result<u32, ScheduleError> {
        let slot = *self.ids.get(id).ok_or_else(|| not_found(id))?;
        if self.expire_if_due(slot, now_ms) {
            return Err(not_found(id));
        }
        Ok(slot)
    }

    /// Removes the schedule in `slot` if its retention has passed; returns whether it did.
    fn expire_if_due(&mut self, slot: u32, now_ms: i64) -> bool {
        let expired = matches!(&self.slots[slot as usize].entity,
            Entity::Schedule(e) if e.expired(now_ms, self.retention_ms));
        if expired {
            self.remove(slot);
            self.clean_top();
        }
        expired
    }

    fn process_slot(&mut self, slot: u32, now_ms: i64, out: &mut ActionSink<'_>) {
        let max_buffer = self.config.max_buffer_size;
        match &mut self.slots[slot as usize].entity {
            Entity::Schedule(e) => {
                if e.expired(now_ms, self.retention_ms) {
                    self.remove(slot);
                    return;
                }
            }
            Entity::Job(j) => j.poll(now_ms, out),
            Entity::Free => return,
        }
        // The schedule is taken out of its slot while it runs, so that a workflow id
        // fingerprint hit can be checked against every other slot.
        let entity = std::mem::replace(&mut self.slots[slot as usize].entity, Entity::Free);
        if let Entity::Schedule(mut e) = entity {
            let mut ctx = Ctx {
                workflows: &mut self.workflows,
                slots: &self.slots,
                out,
                max_buffer,
            };
            e.process(slot, now_ms, &mut ctx);
            self.slots[slot as usize].entity = Entity::Schedule(e);
        } else {
            self.slots[slot as usize].entity = entity;
        }
        self.touch(slot);
    }

    pub(crate) fn alloc(&mut self, entity: Entity) -> u32 {
        self.live += 1;
        if let Some(slot) = self.free.pop() {
            let s = &mut self.slots[slot as usize];
            s.entity = entity;
            s.emitted = false;
            return slot;
        }
        self.slots.push(Slot {
            wake: NEVER,
            generation: 0,
            listed: false,
            emitted: false,
            entity,
        });
        (self.slots.len() - 1) as u32
    }

    /// Removes the entity in `slot`, its ids and its tracked runs. The removal is recorded for
    /// `take_changes` only if the entity's record went out in the change feed before (or was
    /// restored): nobody can hold the record of one that did not, so a scheduler whose feed is
    /// never read keeps no trace of what it removed.
    fn remove(&mut self, slot: u32) {
        let s = &mut self.slots[slot as usize];
        let entity = std::mem::replace(&mut s.entity, Entity::Free);
        s.generation = s.generation.wrapping_add(1);
        s.wake = NEVER;
        let emitted = std::mem::replace(&mut s.emitted, false);
        let removal = match entity {
            Entity::Schedule(e) => {
                for r in &e.running {
                    self.workflows.remove_tracked(&e.run_id(r), r.fingerprint);
                }
                self.ids.remove(&e.id);
                emitted.then(|| StateChange::RemoveSchedule(e.id.to_string()))
            }
            Entity::Job(j) => {
                self.workflows
                    .remove_tracked(&j.id, self.workflows.fingerprint(&j.id));
                emitted.then(|| StateChange::RemoveWorkflow(j.id.to_string()))
            }
            Entity::Free => return,
        };
        self.removed.extend(removal);
        self.live -= 1;
        self.free.push(slot);
    }

    /// Marks `slot` changed for `take_changes`. A slot is listed once until then, whatever
    /// entities come and go in it, so the list never outgrows the slot table.
    pub(crate) fn touch(&mut self, slot: u32) {
        let s = &mut self.slots[slot as usize];
        let flag = match &mut s.entity {
            Entity::Schedule(e) => &mut e.dirty,
            Entity::Job(j) => &mut j.dirty,
            Entity::Free => return,
        };
        *flag = true;
        if !s.listed {
            s.listed = true;
            self.dirty.push(slot);
        }
    }

    fn wake_of(&self, slot: u32) -> i64 {
        match &self.slots[slot as usize].entity {
            Entity::Schedule(e) => e.wake_ms(self.retention_ms),
            Entity::Job(j) => j.wake_ms(),
            Entity::Free => NEVER,
        }
    }

    /// Recomputes the wake time of `slot` and keeps its heap entry in step.
    pub(crate) fn reschedule(&mut self, slot: u32) {
        let w = self.wake_of(slot);
        self.set_wake(slot, w);
    }

    fn set_wake(&mut self, slot: u32, wake: i64) {
        let s = &mut self.slots[slot as usize];
        if s.wake == wake {
            return;
        }
        s.generation = s.generation.wrapping_add(1);
        s.wake = wake;
        if wake != NEVER {
            self.heap.push(wake, slot, s.generation);
        }
    }

    fn is_live(&self, slot: u32, generation: u32, due: i64) -> bool {
        self.slots
            .get(slot as usize)
            .is_some_and(|s| s.generation == generation && s.wake == due)
    }

    /// Drops stale entries off the top; rebuilds the heap when mostly stale.
    pub(crate) fn clean_top(&mut self) {
        if self.heap.len() > 2 * self.live + 1024 {
            let slots = &self.slots;
            self.heap.retain(|(due, slot, generation)| {
                slots
                    .get(slot as usize)
                    .is_some_and(|s| s.generation == generation && s.wake == due)
            });
        }
        while let Some((due, slot, generation)) = self.heap.peek() {
            if self.is_live(slot, generation, due) {
                break;
            }
            self.heap.pop();
        }
    }
}

/// Whether the entity in `slot` tracks workflow id `id` (fingerprint `fingerprint`; a run of a schedule, or a job).
pub(crate) fn slot_owns(slots: &[Slot], slot: u32, id: &str, fingerprint: u64) -> bool {
    match slots.get(slot as usize).map(|s| &s.entity) {
        Some(Entity::Schedule(e)) => e.runs(id, fingerprint),
        Some(Entity::Job(j)) => *j.id == *id,
        _ => false,
    }
}

/// A manual start at `now_ms`: nominal = `now` truncated to the second.
fn manual_start(now_ms: i64, overlap: Option<ScheduleOverlapPolicy>) -> BufferedStart {
    BufferedStart {
        nominal_ms: now_ms.div_euclid(1000) * 1000,
        actual_ms: now_ms,
        overlap,
        manual: true,
    }
}

/// Queues backfill requests (beyond the ongoing limit they are dropped and counted).
fn add_backfills(e: &mut ScheduleEntry, backfills: &[ScheduleBackfill]) {
    for b in backfills {
        if e.extra.as_ref().map_or(0, |x| x.backfills.len()) >= MAX_ONGOING_BACKFILLS {
            e.counters.buffer_dropped = e.counters.buffer_dropped.saturating_add(1);
            continue;
        }
        e.extra_mut().backfills.push_back(PendingBackfill {
            request: b.clone(),
            progress_ms: None,
        });
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
