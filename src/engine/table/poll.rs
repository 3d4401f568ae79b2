//! `SlotTable::poll`: everything due by an instant, processed in wake order, with the memory
//! each fire will read requested ahead of it (see `compact::prefetch`).
//!
//! Invariant: a due heap entry is processed only if it is still its slot's live entry when
//! its turn comes. Processing one slot changes no other slot's wake time, so that is the set
//! of entries, in the same order, that checking each one as it leaves the heap would give.

use super::{slot_owns, Entity, SlotTable};
use crate::engine::action::Action;
use crate::engine::compact::heap::{WakeEntry, NEVER};
use crate::engine::compact::millis::to_dt;
use crate::engine::compact::prefetch::prefetch;
use crate::engine::entry::iterate::Ctx;
use crate::engine::entry::ScheduleEntry;
use crate::engine::event::ScheduleEvent;

/// How many due entries ahead of the one it processes `poll` requests a slot, the hot lines
/// of the slot's entry, and what those point to (each stage reads what the one before
/// requested). 16/8/3, 32/16/6 and 48/24/8 measured the same within the noise
/// (BENCHMARKS.md).
const AHEAD: [usize; 3] = [24, 12, 4];

/// Due entries whose room `poll` keeps between polls (16 bytes each) even after a poll that
/// used under a quarter of it.
const DUE_KEPT: usize = 4096;

impl SlotTable {
    /// Everything due by `now_ms`, written to `out`.
    ///
    /// The due heap entries are taken off the heap first, without reading their slots (a
    /// plain schedule gives one action each, so `out` is sized once). They are then processed
    /// in that order, stale ones skipped, with the memory each will read requested ahead of it
    /// in stages (see [`AHEAD`]).
    pub(crate) fn poll(&mut self, now_ms: i64, out: &mut Vec<Action>) {
        let mut due = std::mem::take(&mut self.due);
        due.clear();
        while let Some(e) = self.heap.pop_if(|(at, _, _)| at <= now_ms) {
            due.push(e);
        }
        out.reserve_exact(due.len());
        let mut again = Vec::new();
        for (i, &(at, slot, generation)) in due.iter().enumerate() {
            self.prefetch_ahead(&due, i);
            if !self.is_live(slot, generation, at) {
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
        // Kept for the next poll, but not the room of a rare huge one (after a clock jump).
        if due.capacity() > DUE_KEPT && due.len() < due.capacity() / 4 {
            due.clear();
            due.shrink_to(DUE_KEPT);
        }
        self.due = due;
        for slot in again {
            let w = self.wake_of(slot);
            self.set_wake(slot, w);
        }
        self.clean_top();
    }

    /// Requests, for the due entries ahead of entry `i`, what each will read: the slot
    /// (farthest ahead), the entry's hot lines (read from the slot requested earlier), then
    /// the shared strings and the recent item (read from the entry requested earlier).
    #[inline(always)]
    fn prefetch_ahead(&self, due: &[WakeEntry], i: usize) {
        let [slot_ahead, entry_ahead, second_ahead] = AHEAD;
        if let Some(&(_, s, _)) = due.get(i + slot_ahead) {
            prefetch(self.slots.as_ptr().wrapping_add(s as usize));
        }
        // A stale entry ahead (its slot changed since) only wastes a request.
        if let Some(e) = self.schedule_at(due, i + entry_ahead) {
            e.prefetch_hot();
        }
        if let Some(e) = self.schedule_at(due, i + second_ahead) {
            e.prefetch_second();
        }
    }

    /// The schedule in the slot of due entry `k`, if there is one.
    fn schedule_at(&self, due: &[WakeEntry], k: usize) -> Option<&ScheduleEntry> {
        let (_, slot, _) = due.get(k)?;
        match &self.slots.get(*slot as usize)?.entity {
            Entity::Schedule(e) => Some(e),
            _ => None,
        }
    }

    fn process_slot(&mut self, slot: u32, now_ms: i64, out: &mut Vec<Action>) {
        match &mut self.slots[slot as usize].entity {
            Entity::Schedule(e) => {
                if e.expired(now_ms, self.retention_ms) {
                    self.record_expired(slot, now_ms);
                    self.remove(slot);
                    return;
                }
            }
            Entity::Job(j) => {
                let before = out.len();
                j.poll(now_ms, out);
                if self.events.detail_wanted() {
                    for a in &out[before..] {
                        if let Action::StartWorkflow(a) = a {
                            self.events
                                .record_detail(|| ScheduleEvent::WorkflowStarted {
                                    workflow_id: a.workflow_id.clone(),
                                    at: to_dt(now_ms),
                                });
                        }
                    }
                }
            }
            Entity::Free => return,
        }
        // The schedule is taken out of its slot while it runs, so that a workflow id
        // fingerprint hit can be checked against every other slot.
        let entity = std::mem::replace(&mut self.slots[slot as usize].entity, Entity::Free);
        if let Entity::Schedule(mut e) = entity {
            let slots = &self.slots;
            let others = |other: u32, id: &str, fp: u64| slot_owns(slots, other, id, fp);
            let mut ctx = Ctx {
                workflows: &mut self.workflows,
                others: &others,
                out,
                max_buffer: self.max_buffer,
                events: &mut self.events,
            };
            e.process(slot, now_ms, &mut ctx);
            self.slots[slot as usize].entity = Entity::Schedule(e);
        } else {
            self.slots[slot as usize].entity = entity;
        }
        self.touch(slot);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::DateTime;

    use super::*;
    use crate::engine::action::WorkflowOutcome;
    use crate::engine::config::SchedulerConfig;
    use crate::engine::schedule::Schedule;
    use crate::engine::schedule_action::ScheduleAction;
    use crate::engine::scheduler::Scheduler;
    use crate::spec::ScheduleIntervalSpec;

    fn minute(action_id: &str, offset_s: u64) -> Schedule {
        let mut s = Schedule::default();
        let ScheduleAction::StartWorkflow(a) = &mut s.action;
        a.workflow = "w".into();
        a.task_queue = "q".into();
        a.id = action_id.into();
        s.spec.intervals = vec![ScheduleIntervalSpec::with_offset(
            Duration::from_secs(60),
            Duration::from_secs(offset_s),
        )];
        s
    }

    #[test]
    fn the_due_list_keeps_no_more_than_its_usual_room_after_a_huge_poll() {
        let t0 = DateTime::from_timestamp(1_700_000_040, 0).expect("a valid instant");
        let mut s = Scheduler::new(SchedulerConfig::default());
        let many = 2 * DUE_KEPT + 10;
        for i in 0..many {
            s.create_schedule(&format!("s{i}"), minute(&format!("wf-{i}"), 0), t0)
                .expect("a valid schedule");
        }
        s.create_schedule("lone", minute("wf-lone", 30), t0)
            .expect("a valid schedule");
        // 1_700_000_040 is a whole minute: every schedule at offset 0 is due 60 s later.
        let at = |secs| DateTime::from_timestamp(secs, 0).expect("a valid instant");
        // Due by then: all at offset 0 (at +60 s) and the lone one (at +30 s).
        let huge = s.poll(at(1_700_000_100));
        assert_eq!(huge.len(), many + 1);
        assert!(s.table.due.capacity() > many);
        for a in &huge {
            if let Action::StartWorkflow(a) = a {
                let done = WorkflowOutcome::Completed { result: None };
                s.workflow_closed(&a.workflow_id, done, at(1_700_000_100))
                    .expect("a run the poll started");
            }
        }
        let small = s.poll(at(1_700_000_130));
        assert_eq!(small.len(), 1, "the lone schedule at offset 30 s");
        assert!(
            s.table.due.capacity() <= DUE_KEPT,
            "{}",
            s.table.due.capacity()
        );
    }
}
