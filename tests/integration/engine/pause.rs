//! Pause, unpause, notes, pause-on-failure and the conflict token
//! (docs/semantics.md#pause-and-unpause, #pause-on-failure, #update-and-the-conflict-token).

use crate::util::engine::*;
use schedule_engine::{ScheduleError, ScheduleOverlapPolicy as P, Scheduler, WorkflowOutcome};

fn hourly(s: &mut Scheduler) {
    s.create_schedule(
        "sched",
        interval(mins(60), mins(0), P::AllowAll),
        t("2022-06-01T00:00:00Z"),
    )
    .unwrap();
}

#[test]
fn times_while_paused_are_dropped_for_good() {
    let mut s = Scheduler::default();
    hourly(&mut s);
    s.pause("sched", None, t("2022-06-01T00:30:00Z")).unwrap();
    let d = describe(&s, "sched", t("2022-06-01T00:30:00Z"));
    assert!(d.schedule.state.paused);
    assert_eq!(
        d.schedule.state.note.as_deref(),
        Some("Paused via schedule-engine")
    );
    assert_eq!(d.conflict_token, 2);
    // No wake-up while paused (nothing else pending).
    assert_eq!(s.next_wakeup(), None);
    assert!(s.poll(t("2022-06-01T03:30:00Z")).is_empty());
    s.unpause("sched", None, t("2022-06-01T03:30:00Z")).unwrap();
    let d = describe(&s, "sched", t("2022-06-01T03:30:00Z"));
    assert!(!d.schedule.state.paused);
    assert_eq!(
        d.schedule.state.note.as_deref(),
        Some("Unpaused via schedule-engine")
    );
    assert_eq!(d.conflict_token, 3);
    // 01:00, 02:00, 03:00 are not caught up and not counted as missed.
    assert!(s.poll(t("2022-06-01T03:30:00Z")).is_empty());
    assert_eq!(
        counters(&d),
        Counts {
            actions: 0,
            missed_catchup: 0,
            skipped_overlap: 0,
            buffer_dropped: 0,
            buffered: 0
        }
    );
    assert_eq!(d.info.num_actions_dropped_paused, 3);
    assert_eq!(d.info.next_action_times[0], t("2022-06-01T04:00:00Z"));
    let a = s.poll(t("2022-06-01T04:00:00Z"));
    assert_eq!(started_ids(&a), ids(&["2022-06-01T04:00:00Z"]));
}

#[test]
fn custom_notes_and_their_limit() {
    let mut s = Scheduler::default();
    hourly(&mut s);
    s.pause("sched", Some("maintenance"), t("2022-06-01T00:10:00Z"))
        .unwrap();
    let d = describe(&s, "sched", t("2022-06-01T00:10:00Z"));
    assert_eq!(d.schedule.state.note.as_deref(), Some("maintenance"));
    let long = "x".repeat(1001);
    let err = s
        .unpause("sched", Some(&long), t("2022-06-01T00:11:00Z"))
        .unwrap_err();
    assert!(matches!(err, ScheduleError::InvalidArgument { .. }));
    // Unchanged.
    assert_eq!(describe(&s, "sched", t("2022-06-01T00:11:00Z")), d);
    let ok = "y".repeat(1000);
    s.unpause("sched", Some(&ok), t("2022-06-01T00:12:00Z"))
        .unwrap();
    assert_eq!(
        describe(&s, "sched", t("2022-06-01T00:12:00Z"))
            .schedule
            .state
            .note,
        Some(ok)
    );
    assert!(matches!(
        s.pause("nope", None, t("2022-06-01T00:12:00Z")),
        Err(ScheduleError::NotFound { .. })
    ));
}

#[test]
fn next_action_times_while_paused_are_still_shown_from_now() {
    let mut s = Scheduler::default();
    hourly(&mut s);
    s.pause("sched", None, t("2022-06-01T00:30:00Z")).unwrap();
    let d = describe(&s, "sched", t("2022-06-01T02:30:00Z"));
    assert_eq!(d.info.next_action_times.len(), 10);
    assert_eq!(d.info.next_action_times[0], t("2022-06-01T03:00:00Z"));
}

#[test]
fn trigger_and_backfill_work_while_paused() {
    let mut s = Scheduler::default();
    hourly(&mut s);
    s.pause("sched", None, t("2022-06-01T00:30:00Z")).unwrap();
    s.trigger("sched", None, t("2022-06-01T00:40:00.750Z"))
        .unwrap();
    assert_eq!(s.next_wakeup(), Some(t("2022-06-01T00:40:00.750Z")));
    let a = s.poll(t("2022-06-01T00:40:00.750Z"));
    assert_eq!(started_ids(&a), ids(&["2022-06-01T00:40:00Z"]));
    assert!(starts(&a)[0].manual);
    assert_eq!(starts(&a)[0].nominal_time, t("2022-06-01T00:40:00Z"));
}

fn pause_on_failure_schedule(s: &mut Scheduler) {
    let mut sch = interval(mins(5), mins(0), P::Skip);
    sch.policy.pause_on_failure = true;
    s.create_schedule("sched", sch, t("2022-06-01T00:00:00Z"))
        .unwrap();
    let _ = s.poll(t("2022-06-01T00:05:00Z"));
}

#[test]
fn failure_pauses_with_the_message() {
    let mut s = Scheduler::default();
    pause_on_failure_schedule(&mut s);
    s.workflow_closed(
        "myid-2022-06-01T00:05:00Z",
        WorkflowOutcome::Failed {
            message: "boom".into(),
        },
        t("2022-06-01T00:06:00Z"),
    )
    .unwrap();
    let d = describe(&s, "sched", t("2022-06-01T00:06:00Z"));
    assert!(d.schedule.state.paused);
    assert_eq!(
        d.schedule.state.note.as_deref(),
        Some("paused due to workflow failure: myid-2022-06-01T00:05:00Z: boom")
    );
    assert_eq!(d.conflict_token, 2);
    assert!(d.info.running_actions.is_empty());
    assert!(s.poll(t("2022-06-01T00:10:00Z")).is_empty());
    // The failure is passed to the next run.
    s.unpause("sched", None, t("2022-06-01T00:11:00Z")).unwrap();
    let a = s.poll(t("2022-06-01T00:15:00Z"));
    assert_eq!(starts(&a)[0].last_failure.as_deref(), Some("boom"));
}

#[test]
fn timeout_pauses_with_its_note() {
    let mut s = Scheduler::default();
    pause_on_failure_schedule(&mut s);
    s.workflow_closed(
        "myid-2022-06-01T00:05:00Z",
        WorkflowOutcome::TimedOut,
        t("2022-06-01T00:06:00Z"),
    )
    .unwrap();
    let d = describe(&s, "sched", t("2022-06-01T00:06:00Z"));
    assert!(d.schedule.state.paused);
    assert_eq!(
        d.schedule.state.note.as_deref(),
        Some("paused due to workflow timeout: myid-2022-06-01T00:05:00Z")
    );
}

#[test]
fn cancel_and_terminate_do_not_pause() {
    for outcome in [WorkflowOutcome::Canceled, WorkflowOutcome::Terminated] {
        let mut s = Scheduler::default();
        pause_on_failure_schedule(&mut s);
        s.workflow_closed(
            "myid-2022-06-01T00:05:00Z",
            outcome,
            t("2022-06-01T00:06:00Z"),
        )
        .unwrap();
        let d = describe(&s, "sched", t("2022-06-01T00:06:00Z"));
        assert!(!d.schedule.state.paused);
        assert_eq!(d.conflict_token, 1);
    }
}

#[test]
fn failure_without_the_policy_does_not_pause() {
    let mut s = scheduler_with("sched", interval(mins(5), mins(0), P::Skip));
    let _ = s.poll(t("2022-06-01T00:05:00Z"));
    s.workflow_closed(
        "myid-2022-06-01T00:05:00Z",
        WorkflowOutcome::Failed {
            message: "x".into(),
        },
        t("2022-06-01T00:06:00Z"),
    )
    .unwrap();
    assert!(
        !describe(&s, "sched", t("2022-06-01T00:06:00Z"))
            .schedule
            .state
            .paused
    );
}

#[test]
fn last_completion_result_goes_to_the_next_run() {
    let mut s = scheduler_with("sched", interval(mins(5), mins(0), P::Skip));
    let a = s.poll(t("2022-06-01T00:05:00Z"));
    assert_eq!(starts(&a)[0].last_completion_result, None);
    s.workflow_closed(
        "myid-2022-06-01T00:05:00Z",
        WorkflowOutcome::Completed {
            result: Some(serde_json::json!({"n": 1})),
        },
        t("2022-06-01T00:06:00Z"),
    )
    .unwrap();
    let a = s.poll(t("2022-06-01T00:10:00Z"));
    assert_eq!(
        starts(&a)[0].last_completion_result.as_deref(),
        Some(&serde_json::json!({"n": 1}))
    );
    assert_eq!(starts(&a)[0].last_failure, None);
    // A failure keeps the last result and adds the failure; a success clears the failure.
    s.workflow_closed(
        "myid-2022-06-01T00:10:00Z",
        WorkflowOutcome::Failed {
            message: "bad".into(),
        },
        t("2022-06-01T00:11:00Z"),
    )
    .unwrap();
    let a = s.poll(t("2022-06-01T00:15:00Z"));
    assert_eq!(
        starts(&a)[0].last_completion_result.as_deref(),
        Some(&serde_json::json!({"n": 1}))
    );
    assert_eq!(starts(&a)[0].last_failure.as_deref(), Some("bad"));
    s.workflow_closed(
        "myid-2022-06-01T00:15:00Z",
        WorkflowOutcome::Completed {
            result: Some(serde_json::json!(2)),
        },
        t("2022-06-01T00:16:00Z"),
    )
    .unwrap();
    let a = s.poll(t("2022-06-01T00:20:00Z"));
    assert_eq!(
        starts(&a)[0].last_completion_result.as_deref(),
        Some(&serde_json::json!(2))
    );
    assert_eq!(starts(&a)[0].last_failure, None);
}

#[test]
fn pausing_discards_buffered_scheduled_starts_but_not_manual_ones() {
    // Temporal: "If paused or out of actions, a scheduled start that was already buffered is
    // discarded"; trigger and backfill still work while paused.
    let mut s = scheduler_with("sched", interval(mins(5), mins(0), P::BufferAll));
    let _ = s.poll(t("2022-06-01T00:05:00Z"));
    let _ = s.poll(t("2022-06-01T00:10:00Z"));
    s.trigger("sched", None, t("2022-06-01T00:11:00Z")).unwrap();
    let _ = s.poll(t("2022-06-01T00:11:00Z"));
    assert_eq!(
        describe(&s, "sched", t("2022-06-01T00:11:00Z"))
            .info
            .buffer_size,
        2
    );
    s.pause("sched", None, t("2022-06-01T00:12:00Z")).unwrap();
    s.workflow_closed(
        "myid-2022-06-01T00:05:00Z",
        WorkflowOutcome::Completed { result: None },
        t("2022-06-01T00:13:00Z"),
    )
    .unwrap();
    let a = s.poll(t("2022-06-01T00:13:00Z"));
    // 00:10 (scheduled) is discarded; the 00:11 trigger runs.
    assert_eq!(started_ids(&a), ids(&["2022-06-01T00:11:00Z"]));
    let d = describe(&s, "sched", t("2022-06-01T00:13:00Z"));
    assert_eq!(d.info.num_actions_dropped_paused, 1);
    assert_eq!(d.info.buffer_size, 0);
}

#[test]
fn out_of_actions_discards_the_rest_of_a_buffered_burst() {
    let mut s = Scheduler::default();
    let mut sch = interval(mins(5), mins(0), P::BufferAll);
    sch.state.remaining_actions = Some(1);
    s.create_schedule("sched", sch, t("2022-06-01T00:00:00Z"))
        .unwrap();
    // 00:05, 00:10, 00:15 due at once: the first starts and uses the last action.
    let a = s.poll(t("2022-06-01T00:15:00Z"));
    assert_eq!(started_ids(&a), ids(&["2022-06-01T00:05:00Z"]));
    s.workflow_closed(
        "myid-2022-06-01T00:05:00Z",
        WorkflowOutcome::Completed { result: None },
        t("2022-06-01T00:16:00Z"),
    )
    .unwrap();
    assert!(s.poll(t("2022-06-01T00:16:00Z")).is_empty());
    let d = describe(&s, "sched", t("2022-06-01T00:16:00Z"));
    assert_eq!(d.schedule.state.remaining_actions, Some(0));
    assert_eq!(d.info.num_actions, 1);
    assert_eq!(d.info.num_actions_dropped_paused, 2);
    assert_eq!(d.info.buffer_size, 0);
}

#[test]
fn a_dense_schedule_paused_for_long_unpauses_quickly() {
    // Every second, paused for 30 days (2.6 million dropped times): unpause returns at once
    // and the next time is the first one after the unpause.
    let mut s = Scheduler::default();
    let mut sch = interval(std::time::Duration::from_secs(1), mins(0), P::Skip);
    sch.state.paused = true;
    s.create_schedule("sched", sch, t("2022-06-01T00:00:00Z"))
        .unwrap();
    s.unpause("sched", None, t("2022-07-01T00:00:00Z")).unwrap();
    let d = describe(&s, "sched", t("2022-07-01T00:00:00Z"));
    assert!(d.info.num_actions_dropped_paused >= 100_000);
    assert_eq!(d.info.next_action_times[0], t("2022-07-01T00:00:01Z"));
    let a = s.poll(t("2022-07-01T00:00:01Z"));
    assert_eq!(started_ids(&a), ids(&["2022-07-01T00:00:01Z"]));
}
