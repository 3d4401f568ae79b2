//! What a user creates: a [`Schedule`] (action, spec, policy, state) and the inputs of the
//! schedule operations (create options, backfill, update).

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::de::value::MapAccessDeserializer;
use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess, VariantAccess,
    Visitor,
};
use serde::{Deserialize, Serialize};

use crate::error::ScheduleError;
use crate::spec::{CompiledSpec, ScheduleSpec};

use super::description::ScheduleDescription;

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

/// What a schedule does at each of its times.
///
/// Written as `{"StartWorkflow": {...}}` (serde's tagged form). Read in that form, or, while
/// starting a workflow is the only kind, as the plain object `{"workflow": .., "id": ..,
/// "task_queue": ..}`, whose unknown keys are errors (so a misspelt tag is not taken for an
/// empty action):
///
/// ```
/// use schedule_engine::{ScheduleAction, ScheduleActionStartWorkflow};
///
/// let plain: ScheduleAction = serde_json::from_str(
///     r#"{"workflow": "report", "id": "daily-report", "task_queue": "reports", "run_timeout": "10m"}"#,
/// )?;
/// let tagged: ScheduleAction = serde_json::from_str(
///     r#"{"StartWorkflow": {"workflow": "report", "id": "daily-report", "task_queue": "reports", "run_timeout": 600}}"#,
/// )?;
/// assert_eq!(plain, tagged);
/// assert_eq!(plain.start_workflow().run_timeout, Some(std::time::Duration::from_secs(600)));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub enum ScheduleAction {
    /// Start a workflow run.
    StartWorkflow(ScheduleActionStartWorkflow),
}

/// The keys of the plain form (the fields of [`ScheduleActionStartWorkflow`]).
const START_WORKFLOW_FIELDS: &[&str] = &[
    "workflow",
    "args",
    "id",
    "task_queue",
    "execution_timeout",
    "run_timeout",
    "task_timeout",
    "memo",
];

impl<'de> Deserialize<'de> for ScheduleAction {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            d.deserialize_any(ActionVisitor)
        } else {
            Tagged::deserialize(d).map(|Tagged::StartWorkflow(a)| a.into())
        }
    }
}

/// Serde's tagged form, for formats that cannot say which form they hold.
#[derive(Deserialize)]
#[serde(rename = "ScheduleAction")]
enum Tagged {
    StartWorkflow(ScheduleActionStartWorkflow),
}

/// The tag of the tagged form.
#[derive(Deserialize)]
#[serde(variant_identifier)]
enum Kind {
    StartWorkflow,
}

struct ActionVisitor;

impl<'de> Visitor<'de> for ActionVisitor {
    type Value = ScheduleAction;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(
            "an action: {\"workflow\": .., \"id\": .., \"task_queue\": ..} or \
             {\"StartWorkflow\": {..}}",
        )
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ScheduleAction, A::Error> {
        let Some(first) = map.next_key::<String>()? else {
            return Ok(ScheduleAction::default());
        };
        if first == "StartWorkflow" {
            let action = map.next_value()?;
            if let Some(more) = map.next_key::<String>()? {
                return Err(de::Error::custom(format_args!(
                    "a tagged action has one key, \"StartWorkflow\"; found {more:?} too"
                )));
            }
            return Ok(ScheduleAction::StartWorkflow(action));
        }
        let plain = PlainFields {
            map,
            first: Some(first),
        };
        ScheduleActionStartWorkflow::deserialize(MapAccessDeserializer::new(plain))
            .map(ScheduleAction::StartWorkflow)
    }

    // Formats with their own enum syntax (YAML's `!StartWorkflow`).
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<ScheduleAction, A::Error> {
        let (Kind::StartWorkflow, variant) = data.variant::<Kind>()?;
        variant.newtype_variant().map(ScheduleAction::StartWorkflow)
    }
}

/// A map whose first key was already read, checking every key against the plain form's.
struct PlainFields<A> {
    map: A,
    first: Option<String>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for PlainFields<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        let key = match self.first.take() {
            Some(key) => key,
            None => match self.map.next_key::<String>()? {
                Some(key) => key,
                None => return Ok(None),
            },
        };
        if !START_WORKFLOW_FIELDS.contains(&key.as_str()) {
            return Err(de::Error::unknown_field(&key, START_WORKFLOW_FIELDS));
        }
        seed.deserialize(IntoDeserializer::<A::Error>::into_deserializer(key))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

impl Default for ScheduleAction {
    fn default() -> Self {
        ScheduleAction::StartWorkflow(ScheduleActionStartWorkflow::default())
    }
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
    ///     ScheduleActionStartWorkflow::new("report", "daily-report", "reports"),
    ///     ScheduleSpec {
    ///         intervals: vec![ScheduleIntervalSpec::new(Duration::from_secs(24 * 3600))],
    ///         ..Default::default()
    ///     },
    /// );
    /// assert_eq!(schedule.action.start_workflow().id, "daily-report");
    /// assert!(!schedule.state.paused);
    /// ```
    pub fn new(action: impl Into<ScheduleAction>, spec: ScheduleSpec) -> Self {
        Schedule {
            action: action.into(),
            spec,
            ..Default::default()
        }
    }
}

impl From<ScheduleActionStartWorkflow> for ScheduleAction {
    fn from(action: ScheduleActionStartWorkflow) -> Self {
        ScheduleAction::StartWorkflow(action)
    }
}

impl ScheduleAction {
    /// The start-workflow action.
    pub fn start_workflow(&self) -> &ScheduleActionStartWorkflow {
        match self {
            ScheduleAction::StartWorkflow(a) => a,
        }
    }
}

/// Start a workflow: its type name, arguments, id prefix, task queue and options.
///
/// Each run's workflow id is `<id>-<nominal time, UTC, RFC 3339, whole seconds>`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ScheduleActionStartWorkflow {
    /// Workflow type name.
    pub workflow: String,
    /// Arguments.
    pub args: Vec<serde_json::Value>,
    /// Workflow id prefix.
    pub id: String,
    /// Task queue.
    pub task_queue: String,
    /// Timeout of the whole workflow execution, retries included.
    #[serde(
        default,
        deserialize_with = "crate::spec::serde_duration::execution_timeout"
    )]
    pub execution_timeout: Option<Duration>,
    /// Timeout of one run.
    #[serde(default, deserialize_with = "crate::spec::serde_duration::run_timeout")]
    pub run_timeout: Option<Duration>,
    /// Timeout of one workflow task.
    #[serde(
        default,
        deserialize_with = "crate::spec::serde_duration::task_timeout"
    )]
    pub task_timeout: Option<Duration>,
    /// Memo passed to every run.
    pub memo: BTreeMap<String, serde_json::Value>,
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

/// Temporal's default catch-up window: 365 days.
pub const DEFAULT_CATCHUP_WINDOW: Duration = Duration::from_secs(365 * 24 * 3600);
/// Temporal's minimum catch-up window: shorter values become 10 s.
pub const MIN_CATCHUP_WINDOW: Duration = Duration::from_secs(10);

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

impl ScheduleActionStartWorkflow {
    /// Start `workflow` with runs named `<id>-<nominal time>` on `task_queue`, no arguments and
    /// no timeouts (set the other fields afterwards, or use struct update syntax).
    pub fn new(
        workflow: impl Into<String>,
        id: impl Into<String>,
        task_queue: impl Into<String>,
    ) -> Self {
        ScheduleActionStartWorkflow {
            workflow: workflow.into(),
            id: id.into(),
            task_queue: task_queue.into(),
            ..Default::default()
        }
    }
}

impl Default for SchedulePolicy {
    fn default() -> Self {
        SchedulePolicy {
            overlap: ScheduleOverlapPolicy::Skip,
            catchup_window: DEFAULT_CATCHUP_WINDOW,
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

/// What an update callback is given: the schedule as it is now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleUpdateInput {
    /// The current description.
    pub description: ScheduleDescription,
}

/// What an update callback returns: the schedule that replaces the current one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleUpdate {
    /// The new schedule (action, spec, policy and state are all replaced).
    pub schedule: Schedule,
}

/// Longest note accepted (bytes).
const MAX_NOTE_BYTES: usize = 1000;

fn invalid(message: impl Into<String>) -> ScheduleError {
    ScheduleError::InvalidArgument {
        message: message.into(),
    }
}

/// Checks a pause, unpause or state note.
pub(crate) fn check_note(note: Option<&str>) -> Result<(), ScheduleError> {
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

/// Checks that every backfill range ends at or after its start.
pub(crate) fn check_backfills(backfills: &[ScheduleBackfill]) -> Result<(), ScheduleError> {
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
