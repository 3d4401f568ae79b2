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

use super::overlap::{process_buffer, Dropped};
use super::{BufferedStart, ScheduleEntry};
use crate::engine::action::Action;
use crate::engine::compact::heap::NEVER;
use crate::engine::compact::millis::{from_ms, to_dt, EPOCH_FLOOR_MS};
use crate::engine::compact::workflow_map::WorkflowMap;
use crate::engine::event::{EventLog, ScheduleEvent};
use crate::engine::schedule::ScheduleOverlapPolicy;

/// Due times one call classifies one by one before it counts the rest of a stretch of one
/// class in one step (see `count_stretch`); the usual poll never gets there.
pub(super) const WALK_BEFORE_COUNTING: u32 = 8;

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
    /// Where the iteration's decisions are recorded (when recording is on).
    pub(crate) events: &'a mut EventLog,
}

/// A stretch of due times of one class that `advance` has classified but not yet recorded:
/// one pass records one event per stretch, however long.
#[derive(Clone, Copy)]
struct Tally {
    class: Class,
    first_ms: i64,
    last_ms: i64,
    count: u64,
}

impl ScheduleEntry {
    /// Adds `count` times of `class`, nominal `first_ms..=last_ms`, to the open stretch;
    /// records the open one first if it is of another class.
    fn tally(&self, open: &mut Option<Tally>, t: Tally, events: &mut EventLog, now_ms: i64) {
        if !events.wanted() || t.class == Class::Buffered {
            return;
        }
        match open {
            Some(o) if o.class == t.class => {
                o.last_ms = t.last_ms;
                o.count = o.count.saturating_add(t.count);
            }
            _ => {
                self.record_tally(open.take(), events, now_ms);
                *open = Some(t);
            }
        }
    }

    /// Records a stretch as its event.
    fn record_tally(&self, t: Option<Tally>, events: &mut EventLog, now_ms: i64) {
        let Some(t) = t else { return };
        let (first, last, at) = (to_dt(t.first_ms), to_dt(t.last_ms), to_dt(now_ms));
        let schedule_id = || self.id.to_string();
        events.record(|| match t.class {
            Class::Blocked => ScheduleEvent::DroppedWhilePaused {
                schedule_id: schedule_id(),
                nominal_time: first,
                last_nominal_time: last,
                count: t.count,
                at,
            },
            Class::Missed => ScheduleEvent::MissedCatchup {
                schedule_id: schedule_id(),
                nominal_time: first,
                last_nominal_time: last,
                count: t.count,
                at,
            },
            Class::Dropped | Class::Buffered => ScheduleEvent::BufferDropped {
                schedule_id: schedule_id(),
                nominal_time: Some(first),
                last_nominal_time: Some(last),
                count: t.count,
                at,
            },
        });
    }
}

impl ScheduleEntry {
    /// Buffers a manual start, or counts it dropped when the buffer is full.
    pub(crate) fn add_start(
        &mut self,
        start: BufferedStart,
        max_buffer: usize,
        events: &mut EventLog,
        now_ms: i64,
    ) {
        if self.buffer.len() >= max_buffer {
            self.counters.buffer_dropped = self.counters.buffer_dropped.saturating_add(1);
            let nominal = Some(to_dt(start.nominal_ms));
            events.record(|| ScheduleEvent::BufferDropped {
                schedule_id: self.id.to_string(),
                nominal_time: nominal,
                last_nominal_time: nominal,
                count: 1,
                at: to_dt(now_ms),
            });
        } else {
            self.buffer.push(start);
        }
    }

    /// Classifies every scheduled time whose actual time is `<= now_ms`. The first few are
    /// classified one by one; a longer stretch of one class (missed by the catch-up window,
    /// dropped while paused or out of actions, dropped by a full buffer) is counted in one
    /// step, so a clock jump of any size costs the same. Each stretch of one class is one
    /// event.
    pub(crate) fn advance(&mut self, now_ms: i64, max_buffer: usize, events: &mut EventLog) {
        let mut walked = 0;
        let mut open = None;
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
            if walked >= WALK_BEFORE_COUNTING && class != Class::Buffered {
                if let Some(t) = self.count_stretch(class, now_ms) {
                    self.tally(&mut open, t, events, now_ms);
                    continue;
                }
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
            let one = Tally {
                class,
                first_ms: nominal,
                last_ms: nominal,
                count: 1,
            };
            self.tally(&mut open, one, events, now_ms);
            self.next = self.next_after(nominal);
        }
        self.record_tally(open, events, now_ms);
    }

    /// Counts, in one step, the due times from the next one on that share its `class`, all
    /// but the last (classified one by one next, as its jitter may put it in another class).
    /// Returns the stretch counted, or `None`, having changed nothing, when fewer than two are
    /// left.
    ///
    /// Why all but the last share the class: a time's actual time is before the raw time after
    /// it, so before the next nominal time. A missed stretch ends at the last nominal time
    /// before `now - catchup_window`: every earlier one has its actual time before that one's
    /// nominal time, so before the window too. A blocked or dropped stretch ends at the last
    /// nominal time `<= now`: every earlier one is due, and a full buffer stays full.
    fn count_stretch(&mut self, class: Class, now_ms: i64) -> Option<Tally> {
        // Just after an update the walk leaves out times due before it; counting starts past.
        if self.updated().is_some_and(|u| self.hwm_ms < u) {
            return None;
        }
        let spec = self.compiled.as_ref()?;
        // The cached next time is the spec's next after the mark: the stretch's first.
        let first_ms = self.next?.0;
        let until_ms = match class {
            // Missed: actual < now - catchup; nominal times up to the last whole second below.
            Class::Missed => now_ms.saturating_sub(self.catchup_ms()).saturating_sub(1),
            _ => now_ms,
        };
        let after_s = self.hwm_ms.max(EPOCH_FLOOR_MS).div_euclid(1000);
        let c = spec.count_times(after_s, until_ms.div_euclid(1000));
        let before_last = c.before_last.filter(|_| c.count >= 2)?;
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
        Some(Tally {
            class,
            first_ms,
            last_ms: self.hwm_ms,
            count: n,
        })
    }

    /// One full iteration at `now_ms`: time range, backfills, buffer.
    pub(crate) fn process(&mut self, slot: u32, now_ms: i64, ctx: &mut Ctx<'_>) {
        if self.start_single_due(slot, now_ms, ctx) {
            return;
        }
        self.advance(now_ms, ctx.max_buffer, ctx.events);
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
                    // Backfills are not bounded by the buffer limit (they are taken while
                    // it is under half full instead).
                    self.buffer.push(start);
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
            let (id, events) = (&self.id, &mut *ctx.events);
            let d = process_buffer(
                &mut self.buffer,
                !self.running.is_empty(),
                self.schedule.policy.overlap,
                |s| s.overlap,
                |s, how| {
                    events.record(|| {
                        let (schedule_id, nominal_time) = (id.to_string(), to_dt(s.nominal_ms));
                        let at = to_dt(now_ms);
                        match how {
                            Dropped::Skipped => ScheduleEvent::SkippedOverlap {
                                schedule_id,
                                nominal_time,
                                at,
                            },
                            Dropped::Replaced => ScheduleEvent::ReplacedOverlap {
                                schedule_id,
                                nominal_time,
                                at,
                            },
                        }
                    });
                },
            );
            let c = &mut self.counters;
            c.skipped_overlap = c.skipped_overlap.saturating_add(d.overlap_skipped);
            c.replaced_overlap = c.replaced_overlap.saturating_add(d.silently_dropped);
            if d.need_terminate || d.need_cancel {
                self.request_stop(d.need_terminate, now_ms, ctx);
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
