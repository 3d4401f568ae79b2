//! [`StartTemplate`]: what every start action of one schedule or standalone workflow shares,
//! built once (at create, update or restore) and handed out per fire by reference count.
//!
//! The schedule id, workflow type, action id and task queue live in one allocation, so a fired
//! start copies no string: its string fields are [`SharedStr`] handles into it, and its
//! arguments and memo are shared too. The one allocation of a fired start is its workflow id.
//!
//! Invariant: `ends` are increasing char boundaries of `strings`: `[..ends[0]]` is the schedule
//! id (empty for a standalone workflow), then the workflow type, the action id (a standalone
//! workflow's own workflow id) and the task queue.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::engine::action::StartWorkflowAction;
use crate::engine::shared_str::SharedStr;

/// The shared parts of one schedule's (or job's) start actions.
#[derive(Debug, Clone)]
pub(crate) struct StartTemplate {
    strings: Arc<str>,
    ends: [u32; 3],
    /// Whether the starts belong to a schedule (`schedule_id` is then set).
    scheduled: bool,
    /// Arguments, memo and timeouts, when any is set (most schedules have none).
    more: Option<Box<More>>,
}

/// The parts of a template that are usually empty.
#[derive(Debug, Clone)]
struct More {
    args: Arc<[serde_json::Value]>,
    memo: Arc<BTreeMap<String, serde_json::Value>>,
    /// Execution, run and task timeouts.
    timeouts: [Option<Duration>; 3],
}

/// The arguments and memo of every start that has none: one allocation per process, so a
/// schedule without them costs none and a fire only moves a reference count.
static EMPTY_ARGS: LazyLock<Arc<[serde_json::Value]>> = LazyLock::new(|| Arc::from(Vec::new()));
static EMPTY_MEMO: LazyLock<Arc<BTreeMap<String, serde_json::Value>>> =
    LazyLock::new(|| Arc::new(BTreeMap::new()));

/// The strings and options a template is made of.
pub(crate) struct TemplateParts<'a> {
    pub(crate) schedule_id: Option<&'a str>,
    pub(crate) workflow: &'a str,
    pub(crate) action_id: &'a str,
    pub(crate) task_queue: &'a str,
    pub(crate) args: Vec<serde_json::Value>,
    pub(crate) memo: BTreeMap<String, serde_json::Value>,
    pub(crate) timeouts: [Option<Duration>; 3],
}

/// What differs between two starts of one template.
pub(crate) struct Fire {
    pub(crate) workflow_id: String,
    pub(crate) nominal_ms: i64,
    pub(crate) scheduled_ms: i64,
    pub(crate) manual: bool,
    pub(crate) last_completion_result: Option<Arc<serde_json::Value>>,
    pub(crate) last_failure: Option<SharedStr>,
}

impl StartTemplate {
    /// A template of `parts`; ids longer than 4 GiB in total are cut there (no user sends
    /// them).
    pub(crate) fn new(parts: TemplateParts<'_>) -> Self {
        let id = parts.schedule_id.unwrap_or("");
        let mut text = String::with_capacity(
            id.len() + parts.workflow.len() + parts.action_id.len() + parts.task_queue.len(),
        );
        let mut ends = [0u32; 3];
        for (end, part) in ends.iter_mut().zip([id, parts.workflow, parts.action_id]) {
            text.push_str(part);
            *end = boundary(&text, text.len());
        }
        text.push_str(parts.task_queue);
        let empty = parts.args.is_empty() && parts.memo.is_empty() && parts.timeouts == [None; 3];
        StartTemplate {
            strings: Arc::from(text),
            ends,
            scheduled: parts.schedule_id.is_some(),
            more: (!empty).then(|| {
                Box::new(More {
                    args: Arc::from(parts.args),
                    memo: Arc::new(parts.memo),
                    timeouts: parts.timeouts,
                })
            }),
        }
    }

    /// Requests the shared strings a start reads and their reference count (which sits
    /// just before them, in the standard library's layout of an `Arc`; a hint either way).
    pub(crate) fn prefetch(&self) {
        const COUNTS: usize = 2 * size_of::<usize>();
        let read = self.ends[2] as usize;
        super::prefetch::prefetch_bytes(self.strings.as_ptr().wrapping_sub(COUNTS), COUNTS + read);
    }

    fn part(&self, from: u32, to: u32) -> &str {
        self.strings
            .get(from as usize..to as usize)
            .expect("invariant: a template's ends are char boundaries of its strings")
    }

    fn shared(&self, from: u32, to: u32) -> SharedStr {
        SharedStr::slice(&self.strings, from as usize..to as usize)
            .expect("invariant: a template's ends are char boundaries of its strings")
    }

    fn len(&self) -> u32 {
        boundary(&self.strings, self.strings.len())
    }

    /// The schedule id, shared (empty for a standalone workflow).
    pub(crate) fn schedule_id(&self) -> SharedStr {
        self.shared(0, self.ends[0])
    }

    /// Workflow type name.
    pub(crate) fn workflow(&self) -> &str {
        self.part(self.ends[0], self.ends[1])
    }

    /// The action id: a schedule's workflow id prefix, a job's workflow id.
    pub(crate) fn action_id(&self) -> &str {
        self.part(self.ends[1], self.ends[2])
    }

    /// Task queue.
    pub(crate) fn task_queue(&self) -> &str {
        self.part(self.ends[2], self.len())
    }

    /// Arguments.
    pub(crate) fn args(&self) -> &[serde_json::Value] {
        self.more.as_deref().map_or(&[], |m| &m.args)
    }

    /// Memo.
    pub(crate) fn memo(&self) -> &BTreeMap<String, serde_json::Value> {
        self.more.as_deref().map_or(&EMPTY_MEMO, |m| &m.memo)
    }

    /// Execution, run and task timeouts.
    pub(crate) fn timeouts(&self) -> [Option<Duration>; 3] {
        self.more.as_deref().map_or([None; 3], |m| m.timeouts)
    }

    /// One start: the template's shared parts and what is its own.
    pub(crate) fn start(&self, fire: Fire) -> StartWorkflowAction {
        let nominal_time = to_time(fire.nominal_ms);
        // Without jitter both times are equal: one conversion instead of two.
        let scheduled_at = if fire.scheduled_ms == fire.nominal_ms {
            nominal_time
        } else {
            to_time(fire.scheduled_ms)
        };
        let [execution_timeout, run_timeout, task_timeout] = self.timeouts();
        let (args, memo) = match self.more.as_deref() {
            Some(m) => (m.args.clone(), m.memo.clone()),
            None => (EMPTY_ARGS.clone(), EMPTY_MEMO.clone()),
        };
        StartWorkflowAction {
            schedule_id: self.scheduled.then(|| self.schedule_id()),
            workflow_id: fire.workflow_id,
            workflow: self.shared(self.ends[0], self.ends[1]),
            args,
            task_queue: self.shared(self.ends[2], self.len()),
            nominal_time,
            scheduled_at,
            manual: fire.manual,
            execution_timeout,
            run_timeout,
            task_timeout,
            memo,
            last_completion_result: fire.last_completion_result,
            last_failure: fire.last_failure,
        }
    }
}

fn to_time(ms: i64) -> DateTime<Utc> {
    super::millis::to_dt(ms)
}

/// `at` as a `u32`, rounded down to a char boundary of `text` (and to 4 GiB).
fn boundary(text: &str, at: usize) -> u32 {
    let mut at = at.min(u32::MAX as usize);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_start_shares_the_template_strings() {
        let t = StartTemplate::new(TemplateParts {
            schedule_id: Some("sched"),
            workflow: "wf",
            action_id: "myid",
            task_queue: "tq",
            args: vec![serde_json::json!(1)],
            memo: BTreeMap::new(),
            timeouts: [None, Some(Duration::from_secs(5)), None],
        });
        assert_eq!(
            (t.workflow(), t.action_id(), t.task_queue()),
            ("wf", "myid", "tq")
        );
        let a = t.start(Fire {
            workflow_id: "myid-1970-01-01T00:00:01Z".into(),
            nominal_ms: 1000,
            scheduled_ms: 1500,
            manual: false,
            last_completion_result: None,
            last_failure: None,
        });
        assert_eq!(a.schedule_id.as_deref(), Some("sched"));
        assert_eq!((&*a.workflow, &*a.task_queue), ("wf", "tq"));
        assert_eq!(*a.args, [serde_json::json!(1)]);
        assert_eq!(a.run_timeout, Some(Duration::from_secs(5)));
        assert_eq!(a.scheduled_at.timestamp_millis(), 1500);
        assert_eq!(Arc::strong_count(&t.strings), 4);
        let job = StartTemplate::new(TemplateParts {
            schedule_id: None,
            workflow: "wf",
            action_id: "job",
            task_queue: "tq",
            args: Vec::new(),
            memo: BTreeMap::new(),
            timeouts: [None; 3],
        });
        assert_eq!(job.action_id(), "job");
    }
}
