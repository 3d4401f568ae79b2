//! Shared helpers of the facade tests: a recording executor and schedule builders.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use parking_lot::Mutex;
use schedule_engine::{
    CancelWorkflowAction, Completion, Schedule, ScheduleAction, ScheduleActionStartWorkflow,
    ScheduleIntervalSpec, ScheduleSpec, StartWorkflowAction, TerminateWorkflowAction,
    WorkflowExecutor, WorkflowOutcome,
};

/// What the executor was asked to do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    Start { workflow_id: String, manual: bool },
    Cancel(String),
    Terminate(String),
}

/// A [`WorkflowExecutor`] that records every call. With `hold`, runs stay running until the
/// test completes them; otherwise each completes at once with its workflow id as result.
#[derive(Clone, Default)]
pub struct Recorder {
    pub calls: Arc<Mutex<Vec<Call>>>,
    pub held: Arc<Mutex<HashMap<String, Completion>>>,
    pub actions: Arc<Mutex<Vec<StartWorkflowAction>>>,
    hold: bool,
}

impl Recorder {
    pub fn completing() -> Self {
        Recorder::default()
    }

    pub fn holding() -> Self {
        Recorder {
            hold: true,
            ..Recorder::default()
        }
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().clone()
    }

    pub fn started(&self) -> Vec<String> {
        self.calls
            .lock()
            .iter()
            .filter_map(|c| match c {
                Call::Start { workflow_id, .. } => Some(workflow_id.clone()),
                _ => None,
            })
            .collect()
    }

    /// Completes a held run; panics if it is not held.
    pub fn complete(&self, workflow_id: &str, outcome: WorkflowOutcome) {
        let completion = self
            .held
            .lock()
            .remove(workflow_id)
            .unwrap_or_else(|| panic!("{workflow_id} is not running"));
        completion.complete(outcome);
    }
}

impl WorkflowExecutor for Recorder {
    fn start_workflow(&mut self, action: StartWorkflowAction, completion: Completion) {
        self.calls.lock().push(Call::Start {
            workflow_id: action.workflow_id.clone(),
            manual: action.manual,
        });
        self.actions.lock().push(action.clone());
        if self.hold {
            self.held.lock().insert(action.workflow_id, completion);
        } else {
            completion.complete(WorkflowOutcome::Completed {
                result: Some(serde_json::json!(action.workflow_id)),
            });
        }
    }

    fn cancel_workflow(&mut self, action: CancelWorkflowAction) {
        self.calls.lock().push(Call::Cancel(action.workflow_id));
    }

    fn terminate_workflow(&mut self, action: TerminateWorkflowAction) {
        self.calls.lock().push(Call::Terminate(action.workflow_id));
    }
}

/// 2022-06-01T00:00:00Z plus `secs`: the epoch of Temporal's own schedule tests.
pub fn at(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2022, 6, 1, 0, 0, 0).unwrap() + chrono::Duration::seconds(secs)
}

/// A schedule starting workflow type `wf` with action id `myid` every `every`.
pub fn every(every: Duration) -> Schedule {
    Schedule {
        action: ScheduleAction::StartWorkflow(ScheduleActionStartWorkflow {
            workflow: "wf".into(),
            id: "myid".into(),
            task_queue: "tq".into(),
            ..Default::default()
        }),
        spec: ScheduleSpec {
            intervals: vec![ScheduleIntervalSpec::new(every)],
            ..Default::default()
        },
        ..Default::default()
    }
}

/// A schedule with no times of its own: it only acts when triggered or backfilled.
pub fn trigger_only() -> Schedule {
    let mut s = every(super::engine::mins(5));
    s.spec.intervals.clear();
    s
}

/// The workflow id of a scheduled run of action id `myid` at nominal time `at(secs)`.
pub fn wid(secs: i64) -> String {
    format!("myid-{}", at(secs).format("%Y-%m-%dT%H:%M:%SZ"))
}
