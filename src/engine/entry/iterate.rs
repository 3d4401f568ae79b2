//! One scheduler iteration for a schedule, as Temporal's V1 loop runs it: classify the
//! scheduled times that came due (catch-up window, pause, limits), buffer them, feed backfills,
//! then resolve the buffer with the overlap policies and start what may start.
//!
//! Invariants kept here:
//! - every nominal time passed over by [`ScheduleEntry::advance`] lands in exactly one of:
//!   the buffer, `buffer_dropped`, `missed_catchup`, `dropped_paused`;
//! - every buffered start leaves the buffer exactly once: started, skipped by overlap,
//!   dropped (paused/limits, duplicate workflow id, replaced by a later CANCEL/TERMINATE_OTHER
//!   start), or with the schedule when it is deleted;
//! - a started run is tracked in `running` and in the scheduler's workflow map until
//!   `workflow_closed` reports it.

use super::overlap::process_buffer;
use super::{BufferedStart, ScheduleEntry};
use crate::engine::action::Action;
use crate::engine::compact::heap::NEVER;
use crate::engine::compact::millis::{from_ms, EPOCH_FLOOR_MS};
use crate::engine::compact::workflow_map::WorkflowMap;
use crate::engine::schedule::ScheduleOverlapPolicy;

/// Due times one call classifies one by one before it counts the rest of a stretch of one
/// class in one step (see `count_stretch`); the usual poll never gets there.
const WALK_BEFORE_COUNTING: u32 = 8;

/// How a due scheduled time is classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Paused or out of remaining actions: dropped.
    Blocked,
    /// Older than the catch-up window.
    Missed,
    /// In the window, but the buffer is full.
    Dropped,
    /// Buffered, to be started by the overlap policy.
    Buffered,
}

/// Starts taken from backfills in one chunk (Temporal's BackfillsPerIteration).
const BACKFILL_CHUNK: usize = 10;

/// What an iteration may touch outside the schedule.
pub(crate) struct Ctx<'a> {
    /// Workflow id -> slot of the schedule or job that started it.
    pub(crate) workflows: &'a mut WorkflowMap,
    /// Whether another slot tracks a workflow id (its fingerprint given): confirms a hit of
    /// the workflow map that is not this schedule's.
    pub(crate) others: &'a dyn Fn(u32, &str, u64) -> bool,
    /// Actions for the caller.
    pub(crate) out: &'a mut Vec<Action>,
    /// Per-schedule buffer limit.
    pub(crate) max_buffer: usize,
}

impl ScheduleEntry {
    /// Buffers a start, or counts it dropped when the buffer is full.
    pub(crate) fn add_start(&mut self, start: BufferedStart, max_buffer: usize) {
        if self.buffer.len() >= max_buffer {
            self.counters.buffer_dropped = self.counters.buffer_dropped.saturating_add(1);
        } else {
            self.buffer.push(start);
        }
    }

    /// Classifies every scheduled time whose actual time is `<= now_ms`. The first few are
    /// classified one by one; a longer stretch of one class (missed by the catch-up window,
    /// dropped while paused or out of actions, dropped by a full buffer) is counted in one
    /// step, so a clock jump of any size costs the same.
    pub(crate) fn advance(&mut self, now_ms: i64, max_buffer: usize) {
        let mut walked = 0;
        while let Some((nominal, actual)) = self.next {
            if actual > now_ms {
                break;
            }
            let class = if self.scheduled_blocked() {
                Class::Blocked
            } else if now_ms.saturating_sub(actual) > self.catchup_ms() {
                Class::Missed
            } else if self.buffer.len() >= max_buffer {
                Class::Dropped
            } else {
                Class::Buffered
            };
            if walked >= WALK_BEFORE_COUNTING
                && class != Class::Buffered
                && self.count_stretch(class, now_ms)
            {
                continue;
            }
            walked += 1;
            self.hwm_ms = nominal;
            let c = &mut self.counters;
            match class {
                Class::Blocked => c.dropped_paused = c.dropped_paused.saturating_add(1),
                Class::Missed => c.missed_catchup = c.missed_catchup.saturating_add(1),
                Class::Dropped => c.buffer_dropped = c.buffer_dropped.saturating_add(1),
                Class::Buffered => self.buffer.push(BufferedStart {
                    nominal_ms: nominal,
                    actual_ms: actual,
                    overlap: None,
                    manual: false,
                }),
            }
            self.next = self.next_after(nominal);
        }
    }

    /// Counts, in one step, the due times from the next one on that share its `class`, all
    /// but the last (classified one by one next, as its jitter may put it in another class).
    /// Returns `false`, having changed nothing, when fewer than two are left.
    ///
    /// Why all but the last share the class: a time's actual time is before the raw time after
    /// it, so before the next nominal time. A missed stretch ends at the last nominal time
    /// before `now - catchup_window`: every earlier one has its actual time before that one's
    /// nominal time, so before the window too. A blocked or dropped stretch ends at the last
    /// nominal time `<= now`: every earlier one is due, and a full buffer stays full.
    fn count_stretch(&mut self, class: Class, now_ms: i64) -> bool {
        // Just after an update the walk leaves out times due before it; counting starts past.
        if self.updated_ms.is_some_and(|u| self.hwm_ms < u) {
            return false;
        }
        let Some(spec) = self.compiled.as_ref() else {
            return false;
        };
        let until_ms = match class {
            // Missed: actual < now - catchup; nominal times up to the last whole second below.
            Class::Missed => now_ms.saturating_sub(self.catchup_ms()).saturating_sub(1),
            _ => now_ms,
        };
        let after_s = self.hwm_ms.max(EPOCH_FLOOR_MS).div_euclid(1000);
        let c = spec.count_times(after_s, until_ms.div_euclid(1000));
        let Some(before_last) = c.before_last.filter(|_| c.count >= 2) else {
            return false;
        };
        let n = c.count - 1;
        let counters = &mut self.counters;
        let counter = match class {
            Class::Blocked => &mut counters.dropped_paused,
            Class::Missed => &mut counters.missed_catchup,
            Class::Dropped | Class::Buffered => &mut counters.buffer_dropped,
        };
        *counter = counter.saturating_add(n);
        self.hwm_ms = before_last.saturating_mul(1000);
        self.refresh_next();
        true
    }

    /// One full iteration at `now_ms`: time range, backfills, buffer.
    pub(crate) fn process(&mut self, slot: u32, now_ms: i64, ctx: &mut Ctx<'_>) {
        if self.start_single_due(slot, now_ms, ctx) {
            return;
        }
        self.advance(now_ms, ctx.max_buffer);
        let half = (ctx.max_buffer / 2).max(1);
        // More than Temporal's 10 per iteration, but scheduled times were buffered first and
        // the buffer stays under half full, so nothing is starved or dropped.
        let budget = ctx.max_buffer.max(BACKFILL_CHUNK);
        let mut taken = 0;
        loop {
            let n = if taken < budget {
                self.take_backfills(BACKFILL_CHUNK.min(budget - taken), half)
            } else {
                0
            };
            taken += n;
            let progressed = self.run_buffer(slot, now_ms, ctx);
            if n == 0 && !progressed {
                break;
            }
        }
        self.kick_ms = if self.has_backfills() && self.buffer.len() < half {
            now_ms
        } else {
            NEVER
        };
        self.shrink_extra();
    }

    /// The common iteration in one step: exactly one scheduled time is due, inside the
    /// catch-up window, the buffer limit is not 0 (which drops every start), and nothing is
    /// buffered, backfilling or (unless the policy is ALLOW_ALL) running. Buffering that time and processing the buffer would start it
    /// under every overlap policy, so it starts directly. Returns `false`, having changed
    /// nothing, when the case does not apply.
    fn start_single_due(&mut self, slot: u32, now_ms: i64, ctx: &mut Ctx<'_>) -> bool {
        let Some((nominal, actual)) = self.next else {
            return false;
        };
        if actual > now_ms
            || now_ms.saturating_sub(actual) > self.catchup_ms()
            || ctx.max_buffer == 0
            || !self.buffer.is_empty()
            || self.scheduled_blocked()
            || self.has_backfills()
            || (!self.running.is_empty()
                && self.schedule.policy.overlap != ScheduleOverlapPolicy::AllowAll)
        {
            return false;
        }
        let following = self.next_after(nominal);
        if following.is_some_and(|(_, a)| a <= now_ms) {
            // Several are due: the overlap policy decides among them.
            return false;
        }
        self.hwm_ms = nominal;
        self.next = following;
        let start = BufferedStart {
            nominal_ms: nominal,
            actual_ms: actual,
            overlap: None,
            manual: false,
        };
        self.start_run(slot, start, now_ms, ctx);
        self.kick_ms = NEVER;
        self.shrink_extra();
        true
    }

    /// Buffers up to `limit` backfill starts while the buffer is under `half`.
    fn take_backfills(&mut self, limit: usize, half: usize) -> usize {
        let mut n = 0;
        while n < limit && self.buffer.len() < half {
            let Some(extra) = self.extra.as_mut() else {
                break;
            };
            let Some(bf) = extra.backfills.front_mut() else {
                break;
            };
            let Some(spec) = self.compiled.as_ref() else {
                extra.backfills.clear();
                break;
            };
            // Both ends inclusive: search from 1 ms before the start.
            let after = bf
                .progress_ms
                .unwrap_or_else(|| bf.request.start_at.timestamp_millis() - 1);
            let next = from_ms(after).and_then(|a| spec.next_time(a));
            match next {
                Some(t) if t.actual <= bf.request.end_at => {
                    let nominal_ms = t.nominal.timestamp_millis();
                    bf.progress_ms = Some(nominal_ms);
                    let start = BufferedStart {
                        nominal_ms,
                        actual_ms: t.actual.timestamp_millis(),
                        overlap: bf.request.overlap,
                        manual: true,
                    };
                    self.add_start(start, usize::MAX);
                    n += 1;
                }
                _ => {
                    extra.backfills.pop_front();
                }
            }
        }
        n
    }

    /// Resolves the buffer with the overlap policies until nothing more can start now.
    /// Returns whether anything left the buffer.
    pub(crate) fn run_buffer(&mut self, slot: u32, now_ms: i64, ctx: &mut Ctx<'_>) -> bool {
        let mut progressed = false;
        while !self.buffer.is_empty() {
            let before = self.buffer.len();
            let d = process_buffer(
                &mut self.buffer,
                !self.running.is_empty(),
                self.schedule.policy.overlap,
                |s| s.overlap,
            );
            let c = &mut self.counters;
            c.skipped_overlap = c.skipped_overlap.saturating_add(d.overlap_skipped);
            c.replaced_overlap = c.replaced_overlap.saturating_add(d.silently_dropped);
            if d.need_terminate || d.need_cancel {
                self.request_stop(d.need_terminate, ctx);
            }
            for s in d.overlapping {
                self.start_run(slot, s, now_ms, ctx);
            }
            if let Some(s) = d.non_overlapping {
                self.start_run(slot, s, now_ms, ctx);
            }
            if self.buffer.len() == before {
                break;
            }
            progressed = true;
            // Another pass only matters when the start was dropped and nothing runs.
            if !self.running.is_empty() {
                break;
            }
        }
        progressed
    }
}
