//! Standalone workflows: immediate and delayed starts (cron jobs: engine_cron_jobs.rs).

use std::time::Duration;

use crate::util::engine::*;
use schedule_engine::{ScheduleError, Scheduler, StartWorkflowOptions, WorkflowOutcome};

#[test]
fn without_delay_or_cron_it_starts_at_the_next_poll() {
    let mut s = Scheduler::default();
    s.start_workflow(opts("job-1"), t("2022-06-01T00:00:00Z"))
        .unwrap();
    assert_eq!(s.next_wakeup(), Some(t("2022-06-01T00:00:00Z")));
    let a = s.poll(t("2022-06-01T00:00:00Z"));
    assert_eq!(started_ids(&a), vec!["job-1".to_string()]);
    let st = starts(&a)[0];
    assert_eq!(st.schedule_id, None);
    assert_eq!(st.workflow, "wf");
    assert_eq!(st.task_queue, "tq");
    assert_eq!(s.next_wakeup(), None);
    // Running: the id is taken until it closes.
    let err = s
        .start_workflow(opts("job-1"), t("2022-06-01T00:01:00Z"))
        .unwrap_err();
    assert!(matches!(err, ScheduleError::InvalidArgument { .. }));
    s.workflow_closed(
        "job-1",
        WorkflowOutcome::Completed { result: None },
        t("2022-06-01T00:02:00Z"),
    )
    .unwrap();
    assert!(matches!(
        s.workflow_closed(
            "job-1",
            WorkflowOutcome::Canceled,
            t("2022-06-01T00:02:00Z")
        ),
        Err(ScheduleError::WorkflowNotFound { .. })
    ));
    s.start_workflow(opts("job-1"), t("2022-06-01T00:03:00Z"))
        .unwrap();
}

#[test]
fn start_delay_starts_once_after_the_delay() {
    let mut s = Scheduler::default();
    let o = StartWorkflowOptions {
        start_delay: Some(Duration::from_secs(90)),
        ..opts("later")
    };
    s.start_workflow(o, t("2022-06-01T00:00:00Z")).unwrap();
    assert_eq!(s.next_wakeup(), Some(t("2022-06-01T00:01:30Z")));
    assert!(s.poll(t("2022-06-01T00:01:29Z")).is_empty());
    let a = s.poll(t("2022-06-01T00:01:30Z"));
    assert_eq!(started_ids(&a), vec!["later".to_string()]);
    assert_eq!(starts(&a)[0].scheduled_at, t("2022-06-01T00:01:30Z"));
    assert!(s.poll(t("2022-06-01T01:00:00Z")).is_empty());
    s.workflow_closed(
        "later",
        WorkflowOutcome::Failed {
            message: "x".into(),
        },
        t("2022-06-01T01:00:00Z"),
    )
    .unwrap();
    assert!(s.poll(t("2022-06-02T00:00:00Z")).is_empty());
    assert_eq!(s.next_wakeup(), None);
}

#[test]
fn a_pending_delayed_start_holds_its_id() {
    let mut s = Scheduler::default();
    let o = StartWorkflowOptions {
        start_delay: Some(Duration::from_secs(60)),
        ..opts("w")
    };
    s.start_workflow(o, t("2022-06-01T00:00:00Z")).unwrap();
    assert!(matches!(
        s.start_workflow(opts("w"), t("2022-06-01T00:00:10Z")),
        Err(ScheduleError::InvalidArgument { .. })
    ));
}

#[test]
fn bad_options_are_invalid_arguments() {
    let mut s = Scheduler::default();
    let now = t("2022-06-01T00:00:00Z");
    let both = StartWorkflowOptions {
        cron_schedule: Some("* * * * *".into()),
        start_delay: Some(Duration::from_secs(1)),
        ..opts("w")
    };
    let err = s.start_workflow(both, now).unwrap_err();
    match err {
        ScheduleError::InvalidArgument { message } => {
            assert!(message.contains("cron_schedule") && message.contains("start_delay"))
        }
        other => panic!("{other:?}"),
    }
    for o in [
        StartWorkflowOptions {
            workflow: String::new(),
            ..opts("w")
        },
        StartWorkflowOptions {
            task_queue: String::new(),
            ..opts("w")
        },
        opts(""),
    ] {
        assert!(matches!(
            s.start_workflow(o, now),
            Err(ScheduleError::InvalidArgument { .. })
        ));
    }
    assert_eq!(s.next_wakeup(), None);
}

#[test]
fn a_schedule_run_holds_its_workflow_id_against_standalone_starts() {
    let mut s = Scheduler::default();
    s.create_schedule(
        "sched",
        interval(
            mins(5),
            mins(0),
            schedule_engine::ScheduleOverlapPolicy::Skip,
        ),
        t("2022-06-01T00:00:00Z"),
    )
    .unwrap();
    let _ = s.poll(t("2022-06-01T00:05:00Z"));
    assert!(matches!(
        s.start_workflow(opts("myid-2022-06-01T00:05:00Z"), t("2022-06-01T00:06:00Z")),
        Err(ScheduleError::InvalidArgument { .. })
    ));
}
