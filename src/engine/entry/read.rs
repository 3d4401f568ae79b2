//! Read models of a schedule: `describe` and `list`.
//!
//! Next action times are computed from the high-water mark (so due but not yet polled times
//! still show), capped by remaining actions, without times before the last update, and
//! without due times that will not run (paused, or older than the catch-up window).

use super::iterate::WALK_BEFORE_COUNTING;
use super::ScheduleEntry;
use crate::engine::compact::millis::to_dt;
use crate::engine::compact::recent::Recent;
use crate::engine::description::{
    ScheduleActionExecution, ScheduleActionResult, ScheduleDescription, ScheduleInfo,
    ScheduleListDescription,
};

/// Next times shown by describe / list.
const DESCRIBE_NEXT: usize = 10;
const LIST_NEXT: usize = 5;
const LIST_RECENT: usize = 5;

impl ScheduleEntry {
    /// A recent action as describe shows it.
    pub(crate) fn result_of(&self, r: &Recent) -> ScheduleActionResult {
        ScheduleActionResult {
            scheduled_at: to_dt(r.scheduled_ms()),
            started_at: to_dt(r.started_ms),
            action: ScheduleActionExecution {
                workflow_id: self.recent_id(r),
            },
            start_workflow_status: r.status,
        }
    }

    /// The next `n` actual times that will be taken as of `now_ms`.
    pub(crate) fn next_action_times(
        &self,
        now_ms: i64,
        n: usize,
    ) -> Vec<chrono::DateTime<chrono::Utc>> {
        let cap = self
            .schedule
            .state
            .remaining_actions
            .map_or(n, |r| n.min(usize::try_from(r).unwrap_or(usize::MAX)));
        let mut out = Vec::new();
        if cap == 0 || self.compiled.is_none() {
            return out;
        }
        // Actual times before `drop_before` will not run; nominal times this far back cannot
        // reach it, so the search may start there.
        let drop_before = if self.schedule.state.paused {
            now_ms.saturating_add(1)
        } else {
            now_ms.saturating_sub(self.catchup_ms())
        };
        let floor = drop_before
            .saturating_sub(self.max_jitter_ms())
            .saturating_sub(1000);
        let mut cur = if floor > self.hwm_ms {
            self.next_after(floor)
        } else {
            self.next
        };
        while let Some((nominal, actual)) = cur {
            if out.len() >= cap {
                break;
            }
            if actual >= drop_before {
                out.push(to_dt(actual));
            }
            cur = self.next_after(nominal);
        }
        out
    }

    /// How many scheduled times are due at `now_ms` that the next iteration will drop because
    /// the schedule is paused or out of actions: the times after the high-water mark whose
    /// actual time has come, counted without changing anything, so that describe is current
    /// while the schedule stays paused (the iteration counts the same times when it runs).
    pub(crate) fn blocked_due(&self, now_ms: i64) -> u64 {
        if !self.scheduled_blocked() {
            return 0;
        }
        let Some(spec) = self.compiled.as_ref() else {
            return 0;
        };
        let mut n: u64 = 0;
        let mut cur = self.next;
        while let Some((nominal, actual)) = cur {
            if actual > now_ms {
                return n;
            }
            // Past the last update the filter of `next_after` drops nothing: count the rest
            // in one step, as the iteration does.
            if n >= u64::from(WALK_BEFORE_COUNTING) && self.updated().is_none_or(|u| nominal >= u) {
                let c = spec.count_times(nominal.div_euclid(1000), now_ms.div_euclid(1000));
                // Every time up to the last nominal time <= now is due (its actual time is
                // before the next nominal time), but the last may be jittered past `now`.
                let last_due = c.last.is_some_and(|l| {
                    spec.next_time_unix(l - 1).is_some_and(|(t, delay)| {
                        t == l && l * 1000 + i64::try_from(delay).unwrap_or(i64::MAX) <= now_ms
                    })
                });
                let rest = c.count.saturating_sub(u64::from(!last_due && c.count > 0));
                return n.saturating_add(1).saturating_add(rest);
            }
            n = n.saturating_add(1);
            cur = self.next_after(nominal);
        }
        n
    }

    /// What `describe` reports.
    pub(crate) fn describe(&self, now_ms: i64) -> ScheduleDescription {
        let c = &self.counters;
        ScheduleDescription {
            id: self.id.to_string(),
            schedule: self.schedule.to_schedule(),
            info: ScheduleInfo {
                num_actions: c.actions,
                num_actions_missed_catchup_window: c.missed_catchup,
                num_actions_skipped_overlap: c.skipped_overlap,
                num_actions_buffer_dropped: c.buffer_dropped,
                num_actions_dropped_paused: c
                    .dropped_paused
                    .saturating_add(self.blocked_due(now_ms)),
                num_actions_duplicate_dropped: c.duplicate_dropped,
                num_actions_replaced_overlap: c.replaced_overlap,
                num_actions_failed: c.failed,
                buffer_size: self.buffer.len(),
                pending_backfills: self.extra.as_ref().map_or(0, |x| x.backfills.len()),
                running_actions: self
                    .running
                    .iter()
                    .map(|r| ScheduleActionExecution {
                        workflow_id: self.run_id(r),
                    })
                    .collect(),
                recent_actions: self.recent.iter().map(|r| self.result_of(r)).collect(),
                next_action_times: self.next_action_times(now_ms, DESCRIBE_NEXT),
                created_at: to_dt(self.created_ms),
                last_updated_at: self.updated().map(to_dt),
                invalid_spec_error: self
                    .extra
                    .as_ref()
                    .and_then(|x| x.invalid_spec_error.clone()),
            },
            conflict_token: self.conflict_token,
        }
    }

    /// What `list` reports.
    pub(crate) fn list_description(&self, now_ms: i64) -> ScheduleListDescription {
        let skip = self.recent.len().saturating_sub(LIST_RECENT);
        ScheduleListDescription {
            id: self.id.to_string(),
            workflow: self.schedule.workflow().to_owned(),
            spec: self.schedule.spec(),
            note: self.schedule.state.note.clone(),
            paused: self.schedule.state.paused,
            recent_actions: self
                .recent
                .iter()
                .skip(skip)
                .map(|r| self.result_of(r))
                .collect(),
            next_action_times: self.next_action_times(now_ms, LIST_NEXT),
        }
    }
}
