//! What a schedule does at each of its times: [`ScheduleAction`] (today: start a workflow,
//! [`ScheduleActionStartWorkflow`]), and how it is read from config files (tagged or plain).

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::de::value::MapAccessDeserializer;
use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess, VariantAccess,
    Visitor,
};
use serde::{Deserialize, Serialize};

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
/// assert_eq!(plain.start_workflow().unwrap().run_timeout, Some(std::time::Duration::from_secs(600)));
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

impl From<ScheduleActionStartWorkflow> for ScheduleAction {
    fn from(action: ScheduleActionStartWorkflow) -> Self {
        ScheduleAction::StartWorkflow(action)
    }
}

impl ScheduleAction {
    /// The start-workflow action, if this is one (today every action is; the enum may grow).
    pub fn start_workflow(&self) -> Option<&ScheduleActionStartWorkflow> {
        match self {
            ScheduleAction::StartWorkflow(a) => Some(a),
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

impl ScheduleActionStartWorkflow {
    /// Starts of workflow type `workflow`; name their runs with [`id`](Self::id) and give
    /// their [`task_queue`](Self::task_queue), which are required:
    ///
    /// ```
    /// use std::time::Duration;
    /// use schedule_engine::ScheduleActionStartWorkflow;
    ///
    /// let action = ScheduleActionStartWorkflow::workflow("report")
    ///     .id("daily-report")
    ///     .task_queue("reports")
    ///     .run_timeout(Duration::from_secs(600));
    /// assert_eq!(action.id, "daily-report");
    /// ```
    #[must_use]
    pub fn workflow(workflow: impl Into<String>) -> Self {
        ScheduleActionStartWorkflow {
            workflow: workflow.into(),
            ..Default::default()
        }
    }

    /// Names each run `<id>-<nominal time>`.
    #[must_use]
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// The task queue the runs go to.
    #[must_use]
    pub fn task_queue(mut self, task_queue: impl Into<String>) -> Self {
        self.task_queue = task_queue.into();
        self
    }

    /// The runs' arguments.
    #[must_use]
    pub fn args(mut self, args: Vec<serde_json::Value>) -> Self {
        self.args = args;
        self
    }

    /// The timeout of one run.
    #[must_use]
    pub fn run_timeout(mut self, timeout: Duration) -> Self {
        self.run_timeout = Some(timeout);
        self
    }

    /// The timeout of the whole workflow execution, retries included.
    #[must_use]
    pub fn execution_timeout(mut self, timeout: Duration) -> Self {
        self.execution_timeout = Some(timeout);
        self
    }

    /// The memo passed to every run.
    #[must_use]
    pub fn memo(mut self, memo: BTreeMap<String, serde_json::Value>) -> Self {
        self.memo = memo;
        self
    }
}
