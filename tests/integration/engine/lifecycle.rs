//! Create, describe, list, delete and input validation.

use std::time::Duration;

use crate::util::engine::*;
use schedule_engine::{
    Schedule, ScheduleAction, ScheduleError, ScheduleIntervalSpec, ScheduleOverlapPolicy as P,
    Scheduler, WorkflowOutcome,
};

#[test]
fn create_twice_is_already_exists_and_changes_nothing() {
    let mut s = hourly_skip("a");
    let before = describe(&s, "a", t("2022-06-01T00:00:00Z"));
    let err = s
        .create_schedule(
            "a",
            interval(mins(5), mins(0), P::Skip),
            t("2022-06-01T00:00:00Z"),
        )
        .unwrap_err();
    assert_eq!(err, ScheduleError::AlreadyExists { id: "a".into() });
    assert_eq!(describe(&s, "a", t("2022-06-01T00:00:00Z")), before);
}

#[test]
fn bad_schedules_are_typed_errors() {
    let mut s = Scheduler::default();
    let now = t("2022-06-01T00:00:00Z");
    let edit = |f: &dyn Fn(&mut Schedule)| {
        let mut sch = interval(mins(60), mins(0), P::Skip);
        f(&mut sch);
        sch
    };
    let action = |f: &dyn Fn(&mut schedule_engine::ScheduleActionStartWorkflow)| {
        edit(&|sch: &mut Schedule| {
            let ScheduleAction::StartWorkflow(a) = &mut sch.action else {
                unreachable!()
            };
            f(a)
        })
    };
    let cases = [
        action(&|a| a.workflow.clear()),
        action(&|a| a.task_queue.clear()),
        action(&|a| a.id.clear()),
        edit(&|sch| sch.state.note = Some("n".repeat(1001))),
    ];
    for sch in cases {
        assert!(matches!(
            s.create_schedule("x", sch, now),
            Err(ScheduleError::InvalidArgument { .. })
        ));
    }
    let bad_spec =
        edit(&|sch| sch.spec.intervals = vec![ScheduleIntervalSpec::new(Duration::ZERO)]);
    assert!(matches!(
        s.create_schedule("x", bad_spec, now),
        Err(ScheduleError::InvalidSpec(_))
    ));
    assert!(matches!(
        s.create_schedule("", interval(mins(60), mins(0), P::Skip), now),
        Err(ScheduleError::InvalidArgument { .. })
    ));
    assert!(s.list_schedules(now).is_empty());
    assert_eq!(s.next_wakeup(), None);
    assert!(s.take_changes().is_empty());
}

#[test]
fn describe_reports_everything() {
    let mut s = scheduler_with("sched", interval(mins(60), mins(17), P::Skip));
    let d = describe(&s, "sched", t("2022-06-01T00:00:00Z"));
    assert_eq!(d.id, "sched");
    assert_eq!(d.conflict_token, 1);
    assert_eq!(d.info.created_at, t("2022-06-01T00:00:00Z"));
    assert_eq!(d.info.last_updated_at, None);
    assert_eq!(d.info.invalid_spec_error, None);
    let expected: Vec<_> = (0..10)
        .map(|h| t(&format!("2022-06-01T{h:02}:17:00Z")))
        .collect();
    assert_eq!(d.info.next_action_times, expected);
    for h in 0..12 {
        let now = t(&format!("2022-06-01T{h:02}:17:00Z"));
        let _ = s.poll(now);
        s.workflow_closed(
            &format!("myid-2022-06-01T{h:02}:17:00Z"),
            WorkflowOutcome::Completed { result: None },
            now,
        )
        .unwrap();
    }
    let d = describe(&s, "sched", t("2022-06-01T11:30:00Z"));
    assert_eq!(d.info.num_actions, 12);
    // The last 10, oldest first.
    assert_eq!(d.info.recent_actions.len(), 10);
    assert_eq!(
        d.info.recent_actions[0].action.workflow_id,
        "myid-2022-06-01T02:17:00Z"
    );
    assert_eq!(
        d.info.recent_actions[9].action.workflow_id,
        "myid-2022-06-01T11:17:00Z"
    );
    assert_eq!(d.info.next_action_times[0], t("2022-06-01T12:17:00Z"));
}

#[test]
fn list_is_ordered_by_id_with_five_recent_and_five_next() {
    let mut s = Scheduler::default();
    for id in ["c", "a", "b"] {
        let mut sch = interval(mins(60), mins(0), P::AllowAll);
        action_mut(&mut sch).id = format!("wf-{id}");
        s.create_schedule(id, sch, t("2022-06-01T00:00:00Z"))
            .unwrap();
    }
    s.pause("b", Some("hold"), t("2022-06-01T00:00:00Z"))
        .unwrap();
    for h in 1..=7 {
        let _ = s.poll(t(&format!("2022-06-01T{h:02}:00:00Z")));
    }
    let l = s.list_schedules(t("2022-06-01T07:00:00Z"));
    let names: Vec<_> = l.iter().map(|x| x.id.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!(l[0].workflow, "wf");
    assert_eq!(l[0].recent_actions.len(), 5);
    assert_eq!(
        l[0].recent_actions[0].action.workflow_id,
        "wf-a-2022-06-01T03:00:00Z"
    );
    assert_eq!(l[0].next_action_times.len(), 5);
    assert_eq!(l[0].next_action_times[0], t("2022-06-01T08:00:00Z"));
    assert!(l[1].paused);
    assert_eq!(l[1].note.as_deref(), Some("hold"));
    assert!(l[1].recent_actions.is_empty());
}

#[test]
fn delete_leaves_runs_running_and_drops_buffered_starts() {
    let mut s = scheduler_with("sched", interval(mins(5), mins(0), P::BufferAll));
    let _ = s.poll(t("2022-06-01T00:05:00Z"));
    let _ = s.poll(t("2022-06-01T00:10:00Z"));
    assert_eq!(
        describe(&s, "sched", t("2022-06-01T00:10:00Z"))
            .info
            .buffer_size,
        1
    );
    s.delete("sched", t("2022-06-01T00:11:00Z")).unwrap();
    // No cancel or terminate; nothing more starts.
    assert!(s.poll(t("2022-06-01T01:00:00Z")).is_empty());
    assert_eq!(s.next_wakeup(), None);
    assert!(matches!(
        s.workflow_closed(
            "myid-2022-06-01T00:05:00Z",
            WorkflowOutcome::Completed { result: None },
            t("2022-06-01T01:00:00Z")
        ),
        Err(ScheduleError::WorkflowNotFound { .. })
    ));
    assert!(matches!(
        s.delete("sched", t("2022-06-01T01:00:00Z")),
        Err(ScheduleError::NotFound { .. })
    ));
    assert!(matches!(
        s.describe("sched", t("2022-06-01T01:00:00Z")),
        Err(ScheduleError::NotFound { .. })
    ));
    // The id can be reused, with fresh state.
    s.create_schedule(
        "sched",
        interval(mins(5), mins(0), P::Skip),
        t("2022-06-01T01:00:00Z"),
    )
    .unwrap();
    let d = describe(&s, "sched", t("2022-06-01T01:00:00Z"));
    assert_eq!(d.info.num_actions, 0);
}

#[test]
fn unknown_ids_are_not_found() {
    let mut s = Scheduler::default();
    let now = t("2022-06-01T00:00:00Z");
    let nf = |r: Result<(), ScheduleError>| matches!(r, Err(ScheduleError::NotFound { .. }));
    assert!(nf(s.trigger("x", None, now)));
    assert!(nf(s.unpause("x", None, now)));
    assert!(nf(s.delete("x", now)));
    // A workflow id is not a schedule id: the error names what was looked for. (On 375dddf
    // it was `NotFound`, displayed as `schedule "wf-1" not found`.)
    let closed = s.workflow_closed("wf-1", WorkflowOutcome::TimedOut, now);
    assert_eq!(
        closed.unwrap_err().to_string(),
        r#"workflow "wf-1" is not running (no schedule or job tracks it)"#
    );
    assert!(s.describe("x", now).is_err());
}

#[test]
fn start_and_end_bound_the_times() {
    let mut s = Scheduler::default();
    let mut sch = interval(mins(60), mins(0), P::AllowAll);
    sch.spec.start_at = Some(t("2022-06-01T03:00:00Z"));
    sch.spec.end_at = Some(t("2022-06-01T05:00:00Z"));
    s.create_schedule("sched", sch, t("2022-06-01T00:00:00Z"))
        .unwrap();
    assert_eq!(
        describe(&s, "sched", t("2022-06-01T00:00:00Z"))
            .info
            .next_action_times,
        vec![
            t("2022-06-01T03:00:00Z"),
            t("2022-06-01T04:00:00Z"),
            t("2022-06-01T05:00:00Z")
        ]
    );
    let mut seen = Vec::new();
    for h in 1..=8 {
        seen.extend(started_ids(
            &s.poll(t(&format!("2022-06-01T{h:02}:00:00Z"))),
        ));
    }
    assert_eq!(
        seen,
        ids(&[
            "2022-06-01T03:00:00Z",
            "2022-06-01T04:00:00Z",
            "2022-06-01T05:00:00Z"
        ])
    );
}
