//! One schedule's state and semantics. This file: the state, kept compact (one boxed
//! [`ScheduleEntry`] per schedule, times as Unix milliseconds, the schedule in its compact
//! stored form, running runs as fingerprint + nominal time, rarely used parts in a boxed
//! [`Extra`]), its tokens, next time, wake time and expiry. Beside it: `iterate` (one
//! iteration), `start` (starting runs), `overlap` (the buffer), `events` (a run closing, pause,
//! update), `read` (describe and list), `run_ids` (workflow ids of runs and recent actions),
//! `job` (cron jobs and delayed starts).
//!
//! High-water mark invariant: `hwm_ms` is the last *processed nominal* time (the creation time
//! before any). Every nominal time `<= hwm_ms` has been classified exactly once (buffered,
//! missed by the catch-up window, dropped while paused, or discarded as before an update); no
//! nominal time `> hwm_ms` has. A long stretch of times of one class is counted in one step
//! (`advance`), exactly, so the counters are exact after a clock jump of any size. Scheduled
//! times start after the epoch (`EPOCH_FLOOR_MS`). `next` caches `spec.next_time(hwm)` (with
//! times before the last update dropped), so a jittered action whose actual time is still
//! ahead is never lost and a missed time is never counted twice.

mod events;
pub(crate) mod iterate;
pub(crate) mod job;
mod overlap;
mod read;
mod run_ids;
mod start;

use std::collections::VecDeque;
use std::sync::Arc;

use smallvec::SmallVec;

use crate::engine::compact::millis::{to_dt, EPOCH_FLOOR_MS, MAX_MS, MIN_MS};
use crate::engine::compact::prefetch::prefetch_bytes;
use crate::engine::compact::recent::RecentRing;
use crate::engine::compact::stored_schedule::StoredSchedule;
use crate::engine::event::{EventLog, ScheduleEvent};
use crate::engine::schedule::{ScheduleBackfill, ScheduleOverlapPolicy};
use crate::engine::shared_str::SharedStr;
use crate::spec::CompiledSpec;

/// One start waiting in the overlap buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BufferedStart {
    /// Nominal time (millis, whole seconds for scheduled starts).
    pub(crate) nominal_ms: i64,
    /// Actual (jittered) time (millis).
    pub(crate) actual_ms: i64,
    /// Own policy; `None` resolves to the schedule's at processing.
    pub(crate) overlap: Option<ScheduleOverlapPolicy>,
    /// Trigger or backfill.
    pub(crate) manual: bool,
}

/// A run started by the schedule and not reported closed, 24 bytes. Its workflow id is not
/// stored: it is `<current action id>-<nominal time>`, unless `spelled` says that it is kept
/// in `Extra::spelled_runs` (restored runs, and runs whose schedule's action id changed since
/// they started).
#[derive(Debug, Clone)]
pub(crate) struct Running {
    /// Fingerprint of the workflow id (the workflow map's key).
    pub(crate) fingerprint: u64,
    /// Nominal time (Unix seconds), the workflow id suffix; when `spelled`, the key of the id
    /// in `Extra::spelled_runs` instead.
    pub(crate) nominal_s: i64,
    /// The workflow id is kept spelled out in `Extra::spelled_runs`.
    pub(crate) spelled: bool,
    /// Cancellation requested by the overlap policy.
    pub(crate) cancel_requested: bool,
    /// Termination requested by the overlap policy.
    pub(crate) terminate_requested: bool,
}

/// A backfill still being buffered.
#[derive(Debug, Clone)]
pub(crate) struct PendingBackfill {
    /// The request.
    pub(crate) request: ScheduleBackfill,
    /// Last nominal time buffered (millis); `None`: none yet.
    pub(crate) progress_ms: Option<i64>,
}

/// Counters reported by describe (`actions` first: every fire moves it, see [`ScheduleEntry`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[repr(C)]
pub(crate) struct Counters {
    pub(crate) actions: u64,
    pub(crate) missed_catchup: u64,
    pub(crate) skipped_overlap: u64,
    pub(crate) buffer_dropped: u64,
    pub(crate) dropped_paused: u64,
    pub(crate) duplicate_dropped: u64,
    pub(crate) replaced_overlap: u64,
    pub(crate) failed: u64,
}

/// The rarely used parts of a schedule.
#[derive(Debug, Clone, Default)]
pub(crate) struct Extra {
    pub(crate) backfills: VecDeque<PendingBackfill>,
    pub(crate) last_completion_result: Option<Arc<serde_json::Value>>,
    pub(crate) last_failure: Option<SharedStr>,
    pub(crate) invalid_spec_error: Option<String>,
    /// Action ids replaced by updates that recent actions still name.
    pub(crate) old_prefixes: Vec<Box<str>>,
    /// Workflow ids of running runs that are not `<action id>-<nominal time>`, by key.
    pub(crate) spelled_runs: Vec<(i64, Box<str>)>,
}

/// Everything the engine keeps for one schedule.
///
/// Laid out in declaration order (`repr(C)`), what every fire reads and writes first (times,
/// spec, runs, buffer, counters, the action and its policies and state, the recent ring's
/// head), what only describe, updates and the feed read last: a fire of a schedule that has
/// nothing unusual touches the first few cache lines of the entry and one line of the ring.
#[derive(Debug)]
#[repr(C)]
pub(crate) struct ScheduleEntry {
    /// Cached next scheduled time after the high-water mark: (nominal, actual) millis.
    pub(crate) next: Option<(i64, i64)>,
    /// High-water mark: last processed nominal time (millis).
    pub(crate) hwm_ms: i64,
    /// Process the buffer/backfills at the next poll at or after this time (`NEVER`: no).
    pub(crate) kick_ms: i64,
    /// Last update ([`NEVER_UPDATED`]: never; a sentinel rather than an `Option`, which would
    /// cost 8 bytes per schedule).
    pub(crate) updated_ms: i64,
    /// `None` when the spec no longer compiles (see `Extra::invalid_spec_error`).
    pub(crate) compiled: Option<CompiledSpec>,
    pub(crate) running: SmallVec<[Running; 1]>,
    pub(crate) buffer: SmallVec<[BufferedStart; 1]>,
    pub(crate) extra: Option<Box<Extra>>,
    pub(crate) counters: Counters,
    /// As created/updated; `policy.catchup_window` holds the effective window.
    pub(crate) schedule: StoredSchedule,
    pub(crate) recent: RecentRing,
    /// The schedule id: a handle into the action's shared strings (`StoredSchedule::id`), as
    /// is the key of the scheduler's id map.
    pub(crate) id: SharedStr,
    /// Moves (saturating) with every change a compare-and-swap update must see: update,
    /// pause, unpause, pause-on-failure, and each start that uses up a remaining action.
    pub(crate) conflict_token: u64,
    /// The conflict token as of the last change of configuration (update, pause, unpause,
    /// pause-on-failure). Tokens in `config_token..=conflict_token` differ from the current one
    /// only by starts that used up remaining actions (see `Scheduler::update_checked`).
    pub(crate) config_token: u64,
    pub(crate) created_ms: i64,
}

/// `ScheduleEntry::updated_ms` of a schedule never updated (no instant chrono can hold is
/// this far back).
pub(crate) const NEVER_UPDATED: i64 = i64::MIN;

/// Ongoing backfill requests per schedule (Temporal: beyond it they are dropped and counted).
const MAX_ONGOING_BACKFILLS: usize = 1000;

/// A manual start at `now_ms`: nominal = `now` truncated to the second.
pub(crate) fn manual_start(now_ms: i64, overlap: Option<ScheduleOverlapPolicy>) -> BufferedStart {
    BufferedStart {
        nominal_ms: now_ms.div_euclid(1000) * 1000,
        actual_ms: now_ms,
        overlap,
        manual: true,
    }
}

impl ScheduleEntry {
    /// Bytes from the start of an entry that a close may read (up to the end of the recent
    /// ring).
    pub(crate) const CLOSE_BYTES: usize = std::mem::offset_of!(ScheduleEntry, id);

    /// Requests the lines a fire reads first: the fields up to the recent ring's head (see
    /// `SlotTable::poll`).
    pub(crate) fn prefetch_hot(&self) {
        let hot = std::mem::offset_of!(ScheduleEntry, recent) + RecentRing::HEAD_BYTES;
        prefetch_bytes(std::ptr::from_ref(self), hot);
    }

    /// Requests what the hot lines point to: the shared strings and the recent item the fire
    /// writes. Reads the hot lines.
    pub(crate) fn prefetch_second(&self) {
        self.schedule.template().prefetch();
        self.recent.prefetch_push();
    }

    /// When the schedule was last updated, if ever.
    pub(crate) fn updated(&self) -> Option<i64> {
        (self.updated_ms != NEVER_UPDATED).then_some(self.updated_ms)
    }

    /// How many starts used up remaining actions since the description that `token` came
    /// from; `None` if a change of configuration came since (or the token is not one of this
    /// schedule's): see `Scheduler::update_checked`.
    pub(crate) fn starts_since(&self, token: u64) -> Option<u64> {
        (self.config_token..=self.conflict_token)
            .contains(&token)
            .then(|| self.conflict_token - token)
    }

    /// Queues backfill requests (beyond the ongoing limit they are dropped and counted).
    pub(crate) fn add_backfills(
        &mut self,
        backfills: &[ScheduleBackfill],
        events: &mut EventLog,
        now_ms: i64,
    ) {
        for b in backfills {
            if self.extra.as_ref().map_or(0, |x| x.backfills.len()) >= MAX_ONGOING_BACKFILLS {
                self.counters.buffer_dropped = self.counters.buffer_dropped.saturating_add(1);
                events.record(|| ScheduleEvent::BufferDropped {
                    schedule_id: self.id.to_string(),
                    nominal_time: None,
                    last_nominal_time: None,
                    count: 1,
                    at: to_dt(now_ms),
                });
                continue;
            }
            self.extra_mut().backfills.push_back(PendingBackfill {
                request: b.clone(),
                progress_ms: None,
            });
        }
    }

    /// A change of configuration: moves both tokens (saturating: a token at `u64::MAX` stays).
    pub(crate) fn bump_config_token(&mut self) {
        self.conflict_token = self.conflict_token.saturating_add(1);
        self.config_token = self.conflict_token;
    }

    /// A start that used up a remaining action: moves the conflict token only.
    pub(crate) fn bump_action_token(&mut self) {
        self.conflict_token = self.conflict_token.saturating_add(1);
    }

    /// Rarely used parts, created on first use.
    pub(crate) fn extra_mut(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Box::default)
    }

    /// Drops the extra part when it holds nothing.
    pub(crate) fn shrink_extra(&mut self) {
        if let Some(e) = &self.extra {
            if e.backfills.is_empty()
                && e.last_completion_result.is_none()
                && e.last_failure.is_none()
                && e.invalid_spec_error.is_none()
                && e.old_prefixes.is_empty()
                && e.spelled_runs.is_empty()
            {
                self.extra = None;
            }
        }
    }

    /// Pending backfills.
    pub(crate) fn has_backfills(&self) -> bool {
        self.extra.as_ref().is_some_and(|e| !e.backfills.is_empty())
    }

    /// Scheduled actions are not taken (paused or out of remaining actions).
    pub(crate) fn scheduled_blocked(&self) -> bool {
        self.schedule.state.paused || self.schedule.state.remaining_actions == Some(0)
    }

    /// The catch-up window in millis.
    pub(crate) fn catchup_ms(&self) -> i64 {
        i64::try_from(self.schedule.policy.catchup_window.as_millis()).unwrap_or(i64::MAX)
    }

    /// The spec's maximum jitter in millis.
    pub(crate) fn max_jitter_ms(&self) -> i64 {
        self.schedule
            .jitter()
            .map_or(0, |j| i64::try_from(j.as_millis()).unwrap_or(i64::MAX))
    }

    /// The first scheduled time with nominal strictly after `after_ms` whose actual time is not
    /// before the last update.
    pub(crate) fn next_after(&self, after_ms: i64) -> Option<(i64, i64)> {
        let spec = self.compiled.as_ref()?;
        // In integers (no chrono conversion per fire), within chrono's range as before.
        if !(MIN_MS..=MAX_MS).contains(&after_ms) {
            return None;
        }
        let after_ms = after_ms.max(EPOCH_FLOOR_MS);
        let mut after_s = after_ms.div_euclid(1000);
        loop {
            let (nominal_s, delay) = spec.next_time_unix(after_s)?;
            let n = nominal_s.checked_mul(1000)?;
            let a = n.checked_add(i64::try_from(delay).ok()?)?;
            if a > MAX_MS {
                return None;
            }
            if let Some(u) = self.updated().filter(|&u| a < u) {
                // Before the last update: not taken. Every nominal time more than the jitter
                // before the update has its actual time before it too, so the search jumps
                // there instead of walking each time (a restored record may put the update
                // decades after its high-water mark).
                let floor = u
                    .saturating_sub(self.max_jitter_ms())
                    .saturating_sub(1000)
                    .div_euclid(1000);
                after_s = nominal_s.max(floor);
                continue;
            }
            return Some((n, a));
        }
    }

    /// Recomputes the cached next time from the high-water mark.
    pub(crate) fn refresh_next(&mut self) {
        self.next = self.next_after(self.hwm_ms);
    }

    /// No more scheduled times and nothing pending: the schedule idles toward removal.
    /// Paused schedules and schedules whose spec no longer compiles never expire.
    pub(crate) fn is_done(&self) -> bool {
        !self.schedule.state.paused
            && self.compiled.is_some()
            && (self.next.is_none() || self.schedule.state.remaining_actions == Some(0))
            && self.buffer.is_empty()
            && !self.has_backfills()
    }

    /// When a done schedule is removed: retention after its last event.
    pub(crate) fn expiry_ms(&self, retention_ms: i64) -> i64 {
        let last_action = self.recent.back().map_or(i64::MIN, |r| r.started_ms);
        let last = self.created_ms.max(self.updated_ms).max(last_action);
        last.saturating_add(retention_ms)
    }

    /// When `poll` next has work for this schedule.
    pub(crate) fn wake_ms(&self, retention_ms: i64) -> i64 {
        let mut w = self.kick_ms;
        if !self.scheduled_blocked() {
            if let Some((_, a)) = self.next {
                w = w.min(a);
            }
        }
        if self.is_done() {
            w = w.min(self.expiry_ms(retention_ms));
        }
        w
    }

    /// Whether the schedule has expired at `now_ms`.
    pub(crate) fn expired(&self, now_ms: i64, retention_ms: i64) -> bool {
        self.is_done() && now_ms >= self.expiry_ms(retention_ms)
    }
}
