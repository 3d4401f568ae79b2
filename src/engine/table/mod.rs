//! The slot table the [`Scheduler`](super::scheduler::Scheduler)'s verbs work on: every
//! schedule and standalone workflow in a slot, the wake-up heap kept in step with the slots,
//! the schedule-id and workflow-id maps, and the list of slots changed since the last
//! `take_changes`. `poll` (what is due, fired in wake order) is in `poll.rs`.
//!
//! Invariants:
//! - `ids` maps every live schedule id to its slot; `workflows` maps the workflow id of every
//!   run in a schedule's `running` (and of every live standalone job) to that slot, and to no
//!   other: `remove` and `close_run` untrack ids without checking who holds them.
//! - A slot has at most one live heap entry, keyed by its wake time (see `compact::heap`);
//!   after every mutation `clean_top` leaves the heap's top entry live, so it is exact.
//! - `dirty` lists every slot changed since the last `take_changes` once (`Slot::listed`), so
//!   it never outgrows the slot table.

mod poll;

use super::compact::heap::{WakeEntry, WakeHeap, NEVER};
use super::compact::id_hash::IdMap;
use super::compact::prefetch::prefetch_address;
use super::compact::workflow_map::WorkflowMap;
use super::entry::job::JobEntry;
use super::entry::ScheduleEntry;
use super::event::{EventLog, ScheduleEvent};
use super::persist::records::StateChange;
use crate::engine::action::WorkflowOutcome;
use crate::engine::compact::millis::to_dt;
use crate::engine::shared_str::SharedStr;
use crate::error::ScheduleError;

/// Schedules and standalone workflows share one slot space (and the heap).
#[derive(Debug)]
pub(crate) enum Entity {
    /// A free slot.
    Free,
    /// A schedule.
    Schedule(Box<ScheduleEntry>),
    /// A cron job or one-off start.
    Job(Box<JobEntry>),
}

/// A slot: the entity, its wake time and the generation of its live heap entry.
#[derive(Debug)]
pub(crate) struct Slot {
    /// Live heap key (`NEVER`: none).
    pub(crate) wake: i64,
    /// Generation of the live heap entry.
    pub(crate) generation: u32,
    /// The slot is in the dirty list (so it is listed once, whichever entities come and go in
    /// it before the next `take_changes`).
    pub(crate) listed: bool,
    /// The entity here changed since the last `take_changes`: its record is due in the feed.
    /// Kept here rather than in the entity, where it would cost a schedule 8 bytes.
    pub(crate) changed: bool,
    /// The entity here has gone out in the change feed (or came from a restored snapshot), so
    /// a consumer of the feed may hold its record: its removal must go out too.
    pub(crate) emitted: bool,
    /// What lives here.
    pub(crate) entity: Entity,
}

/// Every schedule and standalone workflow of a scheduler, and the indexes over them.
#[derive(Debug)]
pub(crate) struct SlotTable {
    /// How long a done schedule stays (millis).
    pub(crate) retention_ms: i64,
    /// Per-schedule buffer limit.
    pub(crate) max_buffer: usize,
    pub(crate) slots: Vec<Slot>,
    free: Vec<u32>,
    live: usize,
    /// Schedule id -> slot; each key shares its schedule's strings (`ScheduleEntry::id`).
    pub(crate) ids: IdMap<SharedStr, u32>,
    pub(crate) workflows: WorkflowMap,
    pub(crate) heap: WakeHeap,
    pub(crate) dirty: Vec<u32>,
    pub(crate) removed: Vec<StateChange>,
    /// What the verbs and polls decided, when recording is on.
    pub(crate) events: EventLog,
    /// The heap entries one poll found due (kept between polls so it is not allocated each
    /// time).
    due: Vec<WakeEntry>,
}

/// Whether the entity in `slot` tracks workflow id `id` (fingerprint `fingerprint`): a run of
/// a schedule, or a job.
pub(crate) fn slot_owns(slots: &[Slot], slot: u32, id: &str, fingerprint: u64) -> bool {
    match slots.get(slot as usize).map(|s| &s.entity) {
        Some(Entity::Schedule(e)) => e.runs(id, fingerprint),
        Some(Entity::Job(j)) => *j.id == *id,
        _ => false,
    }
}

/// Whether a heap entry `(due, slot, generation)` is the slot's live one (see `compact::heap`).
fn is_live_in(slots: &[Slot], slot: u32, generation: u32, due: i64) -> bool {
    slots
        .get(slot as usize)
        .is_some_and(|s| s.generation == generation && s.wake == due)
}

fn not_found(id: &str) -> ScheduleError {
    ScheduleError::NotFound { id: id.to_owned() }
}

impl SlotTable {
    /// An empty table.
    pub(crate) fn new(retention_ms: i64, max_buffer: usize) -> Self {
        SlotTable {
            retention_ms,
            max_buffer,
            slots: Vec::new(),
            free: Vec::new(),
            live: 0,
            ids: IdMap::default(),
            workflows: WorkflowMap::default(),
            heap: WakeHeap::default(),
            dirty: Vec::new(),
            removed: Vec::new(),
            events: EventLog::default(),
            due: Vec::new(),
        }
    }

    /// The live schedule `id` at `now_ms`.
    pub(crate) fn schedule_ref(
        &self,
        id: &str,
        now_ms: i64,
    ) -> Result<&ScheduleEntry, ScheduleError> {
        let slot = *self.ids.get(id).ok_or_else(|| not_found(id))?;
        match &self.slots[slot as usize].entity {
            Entity::Schedule(e) if !e.expired(now_ms, self.retention_ms) => Ok(e),
            _ => Err(not_found(id)),
        }
    }

    /// The slot of schedule `id`, removing it first if it expired.
    pub(crate) fn lookup(&mut self, id: &str, now_ms: i64) -> Result<u32, ScheduleError> {
        let slot = *self.ids.get(id).ok_or_else(|| not_found(id))?;
        if self.expire_if_due(slot, now_ms) {
            return Err(not_found(id));
        }
        Ok(slot)
    }

    /// Removes the schedule in `slot` if its retention has passed; returns whether it did.
    pub(crate) fn expire_if_due(&mut self, slot: u32, now_ms: i64) -> bool {
        let expired = matches!(&self.slots[slot as usize].entity,
            Entity::Schedule(e) if e.expired(now_ms, self.retention_ms));
        if expired {
            self.record_expired(slot, now_ms);
            self.remove(slot);
            self.clean_top();
        }
        expired
    }

    /// Runs `f` on the schedule in `slot` after processing its elapsed time range at `now_ms`
    /// (the times due are classified with the old state, as Temporal does before it applies a
    /// signal), then keeps the heap and the change list in step.
    pub(crate) fn mutate(
        &mut self,
        slot: u32,
        now_ms: i64,
        f: impl FnOnce(&mut ScheduleEntry, &mut EventLog),
    ) {
        let max_buffer = self.max_buffer;
        if let Entity::Schedule(e) = &mut self.slots[slot as usize].entity {
            e.advance(now_ms, max_buffer, &mut self.events);
            f(e, &mut self.events);
        }
        self.settle(slot);
    }

    /// Re-keys the id map after the schedule in `slot` got new strings (an update), so that
    /// the key shares them and the old ones are freed.
    pub(crate) fn rekey(&mut self, slot: u32) {
        if let Entity::Schedule(e) = &self.slots[slot as usize].entity {
            self.ids.remove(&*e.id);
            self.ids.insert(e.id.clone(), slot);
        }
    }

    /// After a change of `slot`: listed for the feed, heap entry updated, top cleaned.
    pub(crate) fn settle(&mut self, slot: u32) {
        self.touch(slot);
        // An unchanged wake time leaves every heap entry as live or stale as it was, so the
        // top stays live (a run's close usually changes nothing here).
        if self.reschedule(slot) {
            self.clean_top();
        }
        debug_assert!(
            self.heap
                .peek()
                .is_none_or(|(due, slot, generation)| self.is_live(slot, generation, due)),
            "invariant: the heap's top entry is live after a mutation"
        );
    }

    /// Reports that the tracked run `workflow_id` closed at `now_ms`; `false` if no schedule or
    /// running job tracks it.
    pub(crate) fn workflow_closed(
        &mut self,
        workflow_id: &str,
        outcome: &WorkflowOutcome,
        now_ms: i64,
    ) -> bool {
        // One hash of the id: its fingerprint finds the slot and the run.
        let fingerprint = self.workflows.fingerprint(workflow_id);
        // The usual case: the fingerprint's slot is a schedule with a run of this id (one
        // scan of its runs, where `get` below confirms and then `run_index` finds again).
        let hit = self
            .workflows
            .candidate(fingerprint)
            .and_then(|(slot, near)| {
                // The entry's lines are requested before the slot that leads to them is read, so
                // the two misses overlap instead of following each other.
                prefetch_address(near, ScheduleEntry::CLOSE_BYTES);
                match &self.slots[slot as usize].entity {
                    Entity::Schedule(e) => e.run_index(workflow_id, fingerprint).map(|i| (slot, i)),
                    _ => None,
                }
            });
        let (slot, index) = match hit {
            Some((slot, i)) => (slot, Some(i)),
            None => {
                let slots = &self.slots;
                let Some(slot) = self.workflows.get(workflow_id, fingerprint, |o, id| {
                    slot_owns(slots, o, id, fingerprint)
                }) else {
                    return false;
                };
                (slot, None)
            }
        };
        // A schedule past its retention is gone for every verb (list and describe no longer
        // show it), even before a poll removes it; its runs go untracked with it.
        if self.expire_if_due(slot, now_ms) {
            return false;
        }
        match &mut self.slots[slot as usize].entity {
            Entity::Schedule(e) => {
                let i = index.or_else(|| e.run_index(workflow_id, fingerprint));
                self.close_run(slot, i, workflow_id, fingerprint, outcome, now_ms);
            }
            Entity::Job(j) => {
                // A job keeps its id tracked while it lives.
                if !j.running {
                    return false;
                }
                self.events.record(|| ScheduleEvent::WorkflowClosed {
                    workflow_id: workflow_id.to_owned(),
                    outcome: outcome.clone(),
                    at: to_dt(now_ms),
                });
                if j.closed(outcome, now_ms) {
                    self.settle(slot);
                } else {
                    self.remove(slot);
                    self.clean_top();
                }
            }
            Entity::Free => return false,
        }
        true
    }

    /// Closes run `index` (workflow id `workflow_id`) of the schedule in `slot`: the times due
    /// by `now_ms` are processed first, with the run still counted as running.
    // Inlined: as a call it cost about 45 instructions per close (measured with callgrind),
    // 2% of a fire.
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
        self.workflows.remove_tracked(workflow_id, fingerprint);
        let max_buffer = self.max_buffer;
        if let Entity::Schedule(e) = &mut self.slots[slot as usize].entity {
            // `advance` leaves `running` alone, so `index` stays valid.
            e.advance(now_ms, max_buffer, &mut self.events);
            if let Some(i) = index {
                e.run_closed(i, workflow_id, outcome, now_ms, &mut self.events);
            }
        }
        self.settle(slot);
    }

    /// Records that the schedule in `slot` expired (before it is removed).
    fn record_expired(&mut self, slot: u32, now_ms: i64) {
        if let Entity::Schedule(e) = &self.slots[slot as usize].entity {
            self.events.record(|| ScheduleEvent::Expired {
                schedule_id: e.id.to_string(),
                at: to_dt(now_ms),
            });
        }
    }

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
            .insert(id, fp, slot, 0, |o, id| slot_owns(slots, o, id, fp));
    }

    /// Puts `entity` in a free slot.
    pub(crate) fn alloc(&mut self, entity: Entity) -> u32 {
        self.live += 1;
        if let Some(slot) = self.free.pop() {
            let s = &mut self.slots[slot as usize];
            s.entity = entity;
            s.emitted = false;
            s.changed = false;
            return slot;
        }
        self.slots.push(Slot {
            wake: NEVER,
            generation: 0,
            listed: false,
            changed: false,
            emitted: false,
            entity,
        });
        u32::try_from(self.slots.len() - 1).expect("invariant: fewer than 2^32 slots")
    }

    /// Removes the entity in `slot`, its ids and its tracked runs. The removal is recorded for
    /// `take_changes` only if the entity's record went out in the change feed before (or was
    /// restored): nobody can hold the record of one that did not, so a scheduler whose feed is
    /// never read keeps no trace of what it removed.
    pub(crate) fn remove(&mut self, slot: u32) {
        let s = &mut self.slots[slot as usize];
        let entity = std::mem::replace(&mut s.entity, Entity::Free);
        s.generation = s.generation.wrapping_add(1);
        s.wake = NEVER;
        let emitted = std::mem::replace(&mut s.emitted, false);
        s.changed = false;
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
        if matches!(s.entity, Entity::Free) {
            return;
        }
        s.changed = true;
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
    /// Returns whether the wake time changed.
    pub(crate) fn reschedule(&mut self, slot: u32) -> bool {
        let w = self.wake_of(slot);
        self.set_wake(slot, w)
    }

    /// Returns whether the wake time changed.
    fn set_wake(&mut self, slot: u32, wake: i64) -> bool {
        let s = &mut self.slots[slot as usize];
        if s.wake == wake {
            return false;
        }
        s.generation = s.generation.wrapping_add(1);
        s.wake = wake;
        if wake != NEVER {
            self.heap.push(wake, slot, s.generation);
        }
        true
    }

    fn is_live(&self, slot: u32, generation: u32, due: i64) -> bool {
        is_live_in(&self.slots, slot, generation, due)
    }

    /// Drops stale entries off the top; rebuilds the heap when mostly stale.
    pub(crate) fn clean_top(&mut self) {
        self.heap.flush();
        if self.heap.len() > 2 * self.live + 1024 {
            let slots = &self.slots;
            self.heap
                .retain(|(due, slot, generation)| is_live_in(slots, slot, generation, due));
        }
        let slots = &self.slots;
        let stale = |(due, slot, generation)| !is_live_in(slots, slot, generation, due);
        while self.heap.pop_if(stale).is_some() {}
    }
}
