//! What a user creates: a [`Schedule`] (action, spec, policy, state) and the inputs of the
//! schedule operations (create options, backfill), and their validation.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::ScheduleError;
use crate::spec::{CompiledSpec, ScheduleSpec};

use super::schedule_action::ScheduleAction;

/// A schedule: what to start, when, how overlapping runs are handled, and its state.
///
/// From a config file: absent fields take their defaults, durations read whole seconds
/// (`600`), a duration string (`"90s"`, `"10m"`, `"1h30m"`, `"1.5h"`, `"2d"`: Go's grammar
/// plus `d`, as `@every`) or serde's `{"secs": 600, "nanos": 0}`, and the action may leave out
/// its tag (see [`ScheduleAction`]). Schedules are written with serde's forms.
///
/// ```
/// use std::time::Duration;
/// use schedule_engine::Schedule;
///
/// let schedule: Schedule = serde_json::from_str(r#"{
///     "action": {"workflow": "report", "id": "daily-report", "task_queue": "reports",
///                "run_timeout": "10m"},
///     "spec": {"cron_expressions": ["0 9 * * MON-FRI"], "jitter": 30},
///     "policy": {"catchup_window": "1h30m"}
/// }"#)?;
/// assert_eq!(schedule.policy.catchup_window, Duration::from_secs(5400));
/// assert_eq!(schedule.spec.jitter, Some(Duration::from_secs(30)));
///
/// let bad = serde_json::from_str::<Schedule>(r#"{"policy": {"catchup_window": "10 mins"}}"#);
/// assert!(bad.unwrap_err().to_string().starts_with(
///     r#"invalid duration for `catchup_window`: unknown unit " mins" in duration "10 mins""#));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Schedule {
    /// What each action does.
    pub action: ScheduleAction,
    /// When actions happen.
    pub spec: ScheduleSpec,
    /// Overlap, catch-up and failure policies.
    pub policy: SchedulePolicy,
    /// Pause state, note and remaining actions.
    pub state: ScheduleState,
}

impl Schedule {
    /// A schedule taking `action` at the times of `spec`, with the default policy (SKIP,
    /// 365-day catch-up window) and state (running, unlimited).
    ///
    /// ```
    /// use std::time::Duration;
    /// use schedule_engine::{Schedule, ScheduleActionStartWorkflow, ScheduleIntervalSpec, ScheduleSpec};
    ///
    /// let schedule = Schedule::new(
    ///     ScheduleActionStartWorkflow::workflow("report").id("daily-report").task_queue("reports"),
    ///     ScheduleSpec {
    ///         intervals: vec![ScheduleIntervalSpec::new(Duration::from_secs(24 * 3600))],
    ///         ..Default::default()
    ///     },
    /// );
    /// assert_eq!(schedule.action.start_workflow().unwrap().id, "daily-report");
    /// assert!(!schedule.state.paused);
    /// ```
    #[must_use]
    pub fn new(action: impl Into<ScheduleAction>, spec: ScheduleSpec) -> Self {
        Schedule {
            action: action.into(),
            spec,
            ..Default::default()
        }
    }
}

/// What to do when an action is due while an earlier run of the schedule is still running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ScheduleOverlapPolicy {
    /// Don't start; count the time as skipped. Several due and nothing running: the earliest runs.
    #[default]
    Skip,
    /// Keep one start waiting until the running one closes; skip the rest.
    BufferOne,
    /// Queue every start and run them one after another.
    BufferAll,
    /// Cancel the running runs, then start once they have closed.
    CancelOther,
    /// Terminate the running runs, then start once they have closed.
    TerminateOther,
    /// Start concurrently.
    AllowAll,
}

/// How a schedule handles overlap, outages and failures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SchedulePolicy {
    /// Overlap policy for scheduled actions (and the default for trigger and backfill).
    pub overlap: ScheduleOverlapPolicy,
    /// How late an action may still be taken (after an outage); default 365 days, minimum 10 s.
    #[serde(deserialize_with = "crate::spec::serde_duration::catchup_window")]
    pub catchup_window: Duration,
    /// Pause the schedule when a run fails or times out.
    pub pause_on_failure: bool,
}

impl SchedulePolicy {
    /// Temporal's default catch-up window: 365 days.
    pub const DEFAULT_CATCHUP_WINDOW: Duration = Duration::from_secs(365 * 24 * 3600);
    /// Temporal's minimum catch-up window: shorter values become 10 s.
    pub const MIN_CATCHUP_WINDOW: Duration = Duration::from_secs(10);
}

impl Default for SchedulePolicy {
    fn default() -> Self {
        SchedulePolicy {
            overlap: ScheduleOverlapPolicy::Skip,
            catchup_window: SchedulePolicy::DEFAULT_CATCHUP_WINDOW,
            pause_on_failure: false,
        }
    }
}

/// A schedule's mutable state.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ScheduleState {
    /// Human-readable note, set by pause/unpause and pause-on-failure.
    pub note: Option<String>,
    /// No scheduled actions while paused (trigger and backfill still work).
    pub paused: bool,
    /// Scheduled actions left; `None` is unlimited.
    pub remaining_actions: Option<u64>,
}

/// Take the actions the spec would have taken in `[start_at, end_at]` (both inclusive), now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleBackfill {
    /// First time (inclusive).
    pub start_at: DateTime<Utc>,
    /// Last time (inclusive, compared with the actual, jittered time).
    pub end_at: DateTime<Utc>,
    /// Overlap policy of these starts; `None` uses the schedule's.
    pub overlap: Option<ScheduleOverlapPolicy>,
}

impl ScheduleBackfill {
    /// A backfill of `[start_at, end_at]` with the schedule's overlap policy.
    #[must_use]
    pub fn new(start_at: DateTime<Utc>, end_at: DateTime<Utc>) -> Self {
        ScheduleBackfill {
            start_at,
            end_at,
            overlap: None,
        }
    }
}

/// Options applied atomically with creation.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CreateScheduleOptions {
    /// Take one action at creation (with the schedule's overlap policy).
    pub trigger_immediately: bool,
    /// Backfills applied at creation.
    pub backfill: Vec<ScheduleBackfill>,
}

/// Longest note accepted (bytes).
const MAX_NOTE_BYTES: usize = 1000;

/// Checks a pause, unpause or state note.
pub(crate) fn check_note(note: Option<&str>) -> Result<(), ScheduleError> {
    match note {
        Some(n) if n.len() > MAX_NOTE_BYTES => Err(ScheduleError::invalid(format!(
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
        return Err(ScheduleError::invalid("schedule id is empty"));
    }
    let ScheduleAction::StartWorkflow(action) = &schedule.action;
    if action.workflow.is_empty() {
        return Err(ScheduleError::invalid("workflow type name is empty"));
    }
    if action.task_queue.is_empty() {
        return Err(ScheduleError::invalid("task queue is empty"));
    }
    if action.id.is_empty() {
        return Err(ScheduleError::invalid("action workflow id is empty"));
    }
    check_note(schedule.state.note.as_deref())?;
    let compiled = schedule.spec.compile_with_jitter_seed(id)?;
    if schedule.policy.catchup_window < SchedulePolicy::MIN_CATCHUP_WINDOW {
        schedule.policy.catchup_window = SchedulePolicy::MIN_CATCHUP_WINDOW;
    }
    Ok((schedule, compiled))
}

/// Checks that every backfill range ends at or after its start.
pub(crate) fn check_backfills(backfills: &[ScheduleBackfill]) -> Result<(), ScheduleError> {
    for (i, b) in backfills.iter().enumerate() {
        if b.end_at < b.start_at {
            return Err(ScheduleError::invalid(format!(
                "backfill[{i}]: end_at {} is before start_at {}",
                b.end_at, b.start_at
            )));
        }
    }
    Ok(())
}
