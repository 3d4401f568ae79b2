//! Snapshot, restore and the change feed: engine state <-> self-contained records.
//!
//! Invariants: `take_changes` emits removals first (in the order they happened), then one
//! upsert per entity changed since the last call (each entity at most once, tracked by its
//! slot's `changed` flag and the scheduler's list of dirty slots), so a store applying them
//! in order holds exactly `snapshot()`. Restore recompiles every spec; a spec that no longer
//! compiles keeps its schedule, reports the error in describe and takes no scheduled action.
//!
//! Restore keeps the workflow map's one-owner invariant even for a snapshot that breaks it
//! (hand-edited, corrupt, or two schedules sharing an action id): a workflow id goes to the
//! first record in snapshot order (schedules before standalone workflows), and every run left
//! in a schedule's `running` is tracked by that schedule. The removal paths (`workflow_closed`,
//! `delete`, expiry) untrack a slot's runs without asking who owns them, so an untracked run
//! would take its owner's entry with it. What restore repairs goes out in the next
//! `take_changes`, so the store the snapshot came from converges.

use std::sync::Arc;

use super::records::{
    BackfillRecord, BufferedStartRecord, RunningRecord, ScheduleRecord, SchedulerSnapshot,
    StateChange,
};
use crate::engine::compact::heap::NEVER;
use crate::engine::compact::millis::to_dt;
use crate::engine::compact::recent::{Recent, RECENT_KEPT};
use crate::engine::compact::stored_schedule::StoredSchedule;
use crate::engine::config::SchedulerConfig;
use crate::engine::description::ScheduleActionResult;
use crate::engine::entry::job::JobEntry;
use crate::engine::entry::{
    BufferedStart, Counters, Extra, PendingBackfill, ScheduleEntry, NEVER_UPDATED,
};
use crate::engine::scheduler::Scheduler;
use crate::engine::shared_str::SharedStr;
use crate::engine::table::{slot_owns, Entity};

impl ScheduleEntry {
    /// The self-contained record of this schedule.
    pub(crate) fn record(&self) -> ScheduleRecord {
        let c = &self.counters;
        let extra = self.extra.as_deref();
        ScheduleRecord {
            id: self.id.to_string(),
            schedule: self.schedule.to_schedule(),
            conflict_token: self.conflict_token,
            created_at: to_dt(self.created_ms),
            last_updated_at: self.updated().map(to_dt),
            high_water_mark: to_dt(self.hwm_ms),
            num_actions: c.actions,
            num_actions_missed_catchup_window: c.missed_catchup,
            num_actions_skipped_overlap: c.skipped_overlap,
            num_actions_buffer_dropped: c.buffer_dropped,
            num_actions_dropped_paused: c.dropped_paused,
            num_actions_duplicate_dropped: c.duplicate_dropped,
            num_actions_replaced_overlap: c.replaced_overlap,
            num_actions_failed: c.failed,
            buffer: self
                .buffer
                .iter()
                .map(|b| BufferedStartRecord {
                    nominal_time: to_dt(b.nominal_ms),
                    actual_time: to_dt(b.actual_ms),
                    overlap: b.overlap,
                    manual: b.manual,
                })
                .collect(),
            backfills: extra
                .map(|x| {
                    x.backfills
                        .iter()
                        .map(|b| BackfillRecord {
                            backfill: b.request.clone(),
                            progress: b.progress_ms.map(to_dt),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            running: self
                .running
                .iter()
                .map(|r| RunningRecord {
                    workflow_id: self.run_id(r),
                    cancel_requested: r.cancel_requested,
                    terminate_requested: r.terminate_requested,
                })
                .collect(),
            recent_actions: self.recent.iter().map(|r| self.result_of(r)).collect(),
            last_completion_result: extra
                .and_then(|x| x.last_completion_result.as_deref().cloned()),
            last_failure: extra.and_then(|x| x.last_failure.as_deref().map(String::from)),
        }
    }

    /// Rebuilds a schedule from its record; the spec is recompiled (seed = schedule id).
    pub(crate) fn from_record(r: ScheduleRecord) -> Self {
        let (compiled, invalid_spec_error) = match r.schedule.spec.compile_with_jitter_seed(&r.id) {
            Ok(c) => (Some(c), None),
            Err(err) => (None, Some(err.to_string())),
        };
        let extra = Extra {
            backfills: r
                .backfills
                .into_iter()
                .map(|b| PendingBackfill {
                    request: b.backfill,
                    progress_ms: b.progress.map(|t| t.timestamp_millis()),
                })
                .collect(),
            last_completion_result: r.last_completion_result.map(Arc::new),
            last_failure: r.last_failure.map(SharedStr::from),
            invalid_spec_error,
            old_prefixes: Vec::new(),
            spelled_runs: Vec::new(),
        };
        let skip = r.recent_actions.len().saturating_sub(RECENT_KEPT);
        let schedule = StoredSchedule::new(&r.id, r.schedule);
        let mut e = ScheduleEntry {
            id: schedule.id(),
            schedule,
            compiled,
            conflict_token: r.conflict_token,
            config_token: r.conflict_token,
            created_ms: r.created_at.timestamp_millis(),
            updated_ms: r
                .last_updated_at
                .map_or(NEVER_UPDATED, |t| t.timestamp_millis()),
            hwm_ms: r.high_water_mark.timestamp_millis(),
            next: None,
            counters: Counters {
                actions: r.num_actions,
                missed_catchup: r.num_actions_missed_catchup_window,
                skipped_overlap: r.num_actions_skipped_overlap,
                buffer_dropped: r.num_actions_buffer_dropped,
                dropped_paused: r.num_actions_dropped_paused,
                duplicate_dropped: r.num_actions_duplicate_dropped,
                replaced_overlap: r.num_actions_replaced_overlap,
                failed: r.num_actions_failed,
            },
            buffer: r
                .buffer
                .into_iter()
                .map(|b| BufferedStart {
                    nominal_ms: b.nominal_time.timestamp_millis(),
                    actual_ms: b.actual_time.timestamp_millis(),
                    overlap: b.overlap,
                    manual: b.manual,
                })
                .collect(),
            running: Default::default(),
            recent: Default::default(),
            kick_ms: NEVER,
            extra: Some(Box::new(extra)),
        };
        for a in r.recent_actions.into_iter().skip(skip) {
            e.restore_recent(&a);
        }
        for x in r.running {
            // The fingerprint is set by `restore`, which knows the workflow map's seed.
            let run = e.push_spelled_run(x.workflow_id.into(), 0);
            run.cancel_requested = x.cancel_requested;
            run.terminate_requested = x.terminate_requested;
        }
        e.shrink_extra();
        e.refresh_next();
        if !e.buffer.is_empty() || e.has_backfills() {
            // Process what waits at the first poll after the restore.
            e.kick_ms = e.hwm_ms;
        }
        e
    }
}

/// Conflict tokens above this come from no real history (it takes 2^63 changes to get
/// there): restore renumbers them, so the token can still move and a compare-and-swap update
/// still sees a change.
const MAX_RESTORED_TOKEN: u64 = 1 << 63;

impl ScheduleEntry {
    /// Renumbers a conflict token too close to `u64::MAX` to keep moving (a hand-made or damaged
    /// record); returns whether it did. A description taken before the restore then conflicts.
    fn repair_token(&mut self) -> bool {
        if self.conflict_token <= MAX_RESTORED_TOKEN {
            return false;
        }
        self.conflict_token = 1;
        self.config_token = 1;
        true
    }

    /// Re-adds a recent action from its record. Its workflow id must be
    /// `<prefix>-<RFC 3339 whole seconds>` (as the engine writes it); anything else is dropped.
    fn restore_recent(&mut self, a: &ScheduleActionResult) {
        let id = a.action.workflow_id.as_str();
        let Some(split) = id.len().checked_sub(21) else {
            return;
        };
        let (Some(prefix), Some(suffix)) = (id.get(..split), id.get(split + 1..)) else {
            return;
        };
        let Ok(nominal) = chrono::DateTime::parse_from_rfc3339(suffix) else {
            return;
        };
        let nominal_s = nominal.timestamp();
        let jitter = a.scheduled_at.timestamp_millis() - nominal_s * 1000;
        let p = if prefix == self.schedule.action_id() {
            0
        } else {
            let x = self.extra_mut();
            let i = match x.old_prefixes.iter().position(|p| &**p == prefix) {
                Some(i) => i,
                None => {
                    x.old_prefixes.push(prefix.into());
                    x.old_prefixes.len() - 1
                }
            };
            u8::try_from(i + 1).unwrap_or(u8::MAX)
        };
        self.push_recent(Recent {
            nominal_s,
            started_ms: a.started_at.timestamp_millis(),
            jitter_ms: u32::try_from(jitter).unwrap_or(0),
            prefix: p,
            status: a.start_workflow_status,
        });
    }
}

impl Scheduler {
    /// All state as self-contained records (schedules by id, workflows by workflow id).
    #[must_use]
    pub fn snapshot(&self) -> SchedulerSnapshot {
        let mut snap = SchedulerSnapshot::default();
        for s in &self.table.slots {
            match &s.entity {
                Entity::Schedule(e) => snap.schedules.push(e.record()),
                Entity::Job(j) => snap.workflows.push(j.record()),
                Entity::Free => {}
            }
        }
        snap.schedules.sort_by(|a, b| a.id.cmp(&b.id));
        snap.workflows
            .sort_by(|a, b| a.workflow_id.cmp(&b.workflow_id));
        snap
    }

    /// Rebuilds a scheduler from a snapshot. Never panics: a spec that no longer compiles
    /// keeps its schedule (describe reports `invalid_spec_error`); a duplicated id keeps the
    /// first record.
    #[must_use]
    pub fn restore(snapshot: SchedulerSnapshot, config: SchedulerConfig) -> Self {
        let mut s = Scheduler::new(config);
        for r in snapshot.schedules {
            if s.table.ids.contains_key(r.id.as_str()) {
                continue;
            }
            let original = r.clone();
            let mut e = ScheduleEntry::from_record(r);
            // Whatever restore normalises (a token renumbered, recent actions it cannot read
            // or beyond the ten kept) goes out in the feed, so the store converges.
            let repaired = e.repair_token() | (e.record() != original);
            let id = e.id.clone();
            let ids: Vec<String> = e.running.iter().map(|r| e.run_id(r)).collect();
            let mut runs = Vec::new();
            for (r, w) in e.running.iter_mut().zip(ids) {
                r.fingerprint = s.table.workflows.fingerprint(&w);
                runs.push((w, r.fingerprint));
            }
            let slot = s.table.alloc(Entity::Schedule(Box::new(e)));
            // The snapshot's owner holds this record: its removal must go out.
            s.table.slots[slot as usize].emitted = true;
            s.table.ids.insert(id, slot);
            s.track_restored_runs(slot, runs);
            if repaired {
                s.table.touch(slot);
            }
            s.table.reschedule(slot);
        }
        for r in snapshot.workflows {
            if s.table.workflow_slot(&r.workflow_id).is_some() {
                // Skipped here but left in the store: deleting it would lose a cron job's
                // definition for good, while kept it comes back at a restore after the run
                // holding its id has closed.
                continue;
            }
            let j = JobEntry::from_record(r);
            let id = j.id.clone();
            let slot = s.table.alloc(Entity::Job(Box::new(j)));
            s.table.slots[slot as usize].emitted = true;
            s.table.track_workflow(&id, slot);
            s.table.reschedule(slot);
        }
        s.table.clean_top();
        s
    }

    /// Tracks the restored runs `(workflow id, fingerprint)` of the schedule in `slot`, in
    /// order. A run whose id is already tracked (by an earlier schedule or by an earlier run of
    /// this one) is dropped from `running`, as a start Temporal refuses as a duplicate: left
    /// untracked it could never close, would hold back its schedule's overlap policy forever,
    /// and deleting its schedule would untrack the owner's run. Its counters stay as recorded;
    /// the repaired record goes out in the change feed.
    fn track_restored_runs(&mut self, slot: u32, runs: Vec<(String, u64)>) {
        let mut unowned = Vec::new();
        for (i, (w, fp)) in runs.into_iter().enumerate() {
            let slots = &self.table.slots;
            if !self
                .table
                .workflows
                .insert(&w, fp, slot, 0, |o, id| slot_owns(slots, o, id, fp))
            {
                unowned.push(i);
            }
        }
        if unowned.is_empty() {
            return;
        }
        if let Entity::Schedule(e) = &mut self.table.slots[slot as usize].entity {
            // From the back, so the indices still ahead stay valid.
            for &i in unowned.iter().rev() {
                e.remove_run(i);
            }
            e.shrink_extra();
        }
        self.table.touch(slot);
    }

    /// The changes since the last call, for incremental persistence: removals first, then
    /// one upsert per changed entity. Cheap when nothing changed.
    #[must_use]
    pub fn take_changes(&mut self) -> Vec<StateChange> {
        let mut out = std::mem::take(&mut self.table.removed);
        let dirty = std::mem::take(&mut self.table.dirty);
        for slot in &dirty {
            let s = &mut self.table.slots[*slot as usize];
            s.listed = false;
            if !std::mem::replace(&mut s.changed, false) {
                continue;
            }
            match &s.entity {
                Entity::Schedule(e) => {
                    s.emitted = true;
                    out.push(StateChange::UpsertSchedule(e.record()));
                }
                Entity::Job(j) => {
                    s.emitted = true;
                    out.push(StateChange::UpsertWorkflow(j.record()));
                }
                Entity::Free => {}
            }
        }
        // Keep the allocation for the next round.
        self.table.dirty = dirty;
        self.table.dirty.clear();
        out
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::engine::schedule::Schedule;
    use crate::engine::schedule_action::ScheduleActionStartWorkflow;
    use crate::spec::{ScheduleIntervalSpec, ScheduleSpec};

    /// Schedules `s0`, `s1`, `s2` (action ids `a0`, `a1`, `a2`), each with one run started.
    fn three_running() -> Scheduler {
        let t0 = to_dt(1_654_041_600_000);
        let mut s = Scheduler::default();
        for k in 0..3 {
            let spec = ScheduleSpec {
                intervals: vec![ScheduleIntervalSpec::new(Duration::from_secs(60))],
                ..Default::default()
            };
            let action = ScheduleActionStartWorkflow::workflow("wf")
                .id(format!("a{k}"))
                .task_queue("q");
            s.create_schedule(&format!("s{k}"), Schedule::new(action, spec), t0)
                .unwrap();
        }
        assert_eq!(s.poll(to_dt(1_654_041_660_000)).len(), 3);
        s
    }

    #[test]
    fn every_restored_run_is_tracked_by_its_own_schedule() {
        let mut snap = three_running().snapshot();
        let first = snap.schedules[0].running[0].clone();
        snap.schedules[1].running[0] = first.clone();
        // s2 lists its own run twice and s0's after them.
        let own = snap.schedules[2].running[0].clone();
        snap.schedules[2].running.extend([own, first]);
        let s = Scheduler::restore(snap, SchedulerConfig::default());
        let mut tracked = Vec::new();
        for (slot, x) in s.table.slots.iter().enumerate() {
            let Entity::Schedule(e) = &x.entity else {
                continue;
            };
            for r in &e.running {
                let id = e.run_id(r);
                assert_eq!(s.table.workflow_slot(&id), Some(slot as u32), "{id}");
                tracked.push(id);
            }
        }
        tracked.sort();
        let want = ["a0-2022-06-01T00:01:00Z", "a2-2022-06-01T00:01:00Z"];
        assert_eq!(tracked, want);
    }
}
