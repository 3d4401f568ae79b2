//! Helpers of the engine scenario tests (and the instants and durations every test uses).

use std::time::Duration;

use chrono::{DateTime, Utc};
use schedule_engine::{
    Action, Schedule, ScheduleAction, ScheduleActionStartWorkflow, ScheduleDescription,
    ScheduleIntervalSpec, ScheduleOverlapPolicy, SchedulePolicy, ScheduleSpec, Scheduler,
    StartWorkflowAction, StartWorkflowOptions, WorkflowOutcome,
};

/// An RFC 3339 instant.
pub fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("test timestamp")
        .with_timezone(&Utc)
}

/// Minutes as a Duration.
pub fn mins(m: u64) -> Duration {
    Duration::from_secs(60 * m)
}

/// A schedule starting workflow `wf` with id prefix `myid` every `every`, offset `offset`.
pub fn interval(every: Duration, offset: Duration, overlap: ScheduleOverlapPolicy) -> Schedule {
    Schedule {
        action: ScheduleAction::StartWorkflow(ScheduleActionStartWorkflow {
            workflow: "wf".into(),
            id: "myid".into(),
            task_queue: "tq".into(),
            ..Default::default()
        }),
        spec: ScheduleSpec {
            intervals: vec![ScheduleIntervalSpec::with_offset(every, offset)],
            ..Default::default()
        },
        policy: SchedulePolicy {
            overlap,
            ..Default::default()
        },
        ..Default::default()
    }
}

/// The start actions among `actions`.
pub fn starts(actions: &[Action]) -> Vec<&StartWorkflowAction> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::StartWorkflow(s) => Some(s),
            _ => None,
        })
        .collect()
}

/// Workflow ids of the start actions.
pub fn started_ids(actions: &[Action]) -> Vec<String> {
    starts(actions)
        .into_iter()
        .map(|s| s.workflow_id.clone())
        .collect()
}

/// Workflow ids of cancel actions.
pub fn cancel_ids(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::CancelWorkflow(c) => Some(c.workflow_id.clone()),
            _ => None,
        })
        .collect()
}

/// Workflow ids of terminate actions.
pub fn terminate_ids(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::TerminateWorkflow(c) => Some(c.workflow_id.clone()),
            _ => None,
        })
        .collect()
}

/// `myid-<time>` ids.
pub fn ids(times: &[&str]) -> Vec<String> {
    times.iter().map(|s| format!("myid-{s}")).collect()
}

/// Describe, expecting success.
pub fn describe(s: &Scheduler, id: &str, now: DateTime<Utc>) -> ScheduleDescription {
    s.describe(id, now).expect("describe")
}

/// Sum of the counters that classify scheduled times, plus what waits in the buffer.
pub fn accounted(s: &Scheduler, id: &str, now: DateTime<Utc>) -> u64 {
    let i = describe(s, id, now).info;
    i.num_actions
        + i.num_actions_skipped_overlap
        + i.num_actions_replaced_overlap
        + i.num_actions_missed_catchup_window
        + i.num_actions_buffer_dropped
        + i.num_actions_dropped_paused
        + i.num_actions_duplicate_dropped
        + i.buffer_size as u64
}

/// The counters a scenario checks, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// `num_actions`.
    pub actions: u64,
    /// `num_actions_missed_catchup_window`.
    pub missed_catchup: u64,
    /// `num_actions_skipped_overlap`.
    pub skipped_overlap: u64,
    /// `num_actions_buffer_dropped`.
    pub buffer_dropped: u64,
    /// `buffer_size`.
    pub buffered: usize,
}

/// The counters of a description.
pub fn counters(d: &ScheduleDescription) -> Counts {
    let i = &d.info;
    Counts {
        actions: i.num_actions,
        missed_catchup: i.num_actions_missed_catchup_window,
        skipped_overlap: i.num_actions_skipped_overlap,
        buffer_dropped: i.num_actions_buffer_dropped,
        buffered: i.buffer_size,
    }
}

/// Running workflow ids.
pub fn running(d: &ScheduleDescription) -> Vec<String> {
    d.info
        .running_actions
        .iter()
        .map(|r| r.workflow_id.clone())
        .collect()
}

/// A default `Scheduler` holding one schedule `id`: hourly on the hour, SKIP, created at
/// 2022-06-01T00:00Z (the setup most single-schedule tests share).
pub fn hourly_skip(id: &str) -> Scheduler {
    scheduler_with(id, interval(mins(60), mins(0), ScheduleOverlapPolicy::Skip))
}

/// A default `Scheduler` holding `schedule` as `id`, created at 2022-06-01T00:00Z.
pub fn scheduler_with(id: &str, schedule: Schedule) -> Scheduler {
    let mut s = Scheduler::default();
    s.create_schedule(id, schedule, t("2022-06-01T00:00:00Z"))
        .unwrap();
    s
}

/// The schedule's start-workflow action, to edit.
pub fn action_mut(schedule: &mut Schedule) -> &mut ScheduleActionStartWorkflow {
    let ScheduleAction::StartWorkflow(a) = &mut schedule.action else {
        unreachable!("a start-workflow action")
    };
    a
}

/// A run that completed with no result.
pub fn done() -> WorkflowOutcome {
    WorkflowOutcome::Completed { result: None }
}

/// Options for a standalone run of workflow `wf` on queue `tq` with id `id`.
pub fn opts(id: &str) -> StartWorkflowOptions {
    StartWorkflowOptions {
        workflow: "wf".into(),
        id: id.into(),
        task_queue: "tq".into(),
        ..Default::default()
    }
}
