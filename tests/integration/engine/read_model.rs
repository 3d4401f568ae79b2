//! The read model beyond Temporal's counters: each recent action's status (Temporal's
//! `start_workflow_status`), the failure counter, and the dropped-while-paused counter up to
//! date at every describe.

use std::time::Duration;

use chrono::Duration as Span;

use crate::util::engine::*;
use schedule_engine::{
    ScheduleOverlapPolicy as P, ScheduleSpec, Scheduler, WorkflowExecutionStatus as S,
    WorkflowOutcome,
};

fn statuses(s: &Scheduler, now: &str) -> Vec<S> {
    describe(s, "sched", t(now))
        .info
        .recent_actions
        .iter()
        .map(|r| r.start_workflow_status)
        .collect()
}

#[test]
fn recent_actions_show_each_run_running_then_its_outcome() {
    // ALLOW_ALL every 5 minutes: five runs open at once, each closed with another outcome.
    // Failed and TimedOut are failures; Canceled and Terminated are not (Temporal's
    // CanceledTerminatedCountAsFailures = false).
    let mut s = scheduler_with("sched", interval(mins(5), mins(0), P::AllowAll));
    let mut ids = Vec::new();
    for m in [5, 10, 15, 20, 25] {
        ids.extend(started_ids(
            &s.poll(t(&format!("2022-06-01T00:{m:02}:00Z"))),
        ));
    }
    assert_eq!(statuses(&s, "2022-06-01T00:26:00Z"), vec![S::Running; 5]);
    let outcomes = [
        WorkflowOutcome::TimedOut,
        WorkflowOutcome::Canceled,
        WorkflowOutcome::Failed {
            message: "boom".into(),
        },
        WorkflowOutcome::Terminated,
    ];
    for (id, outcome) in ids.iter().zip(outcomes) {
        s.workflow_closed(id, outcome, t("2022-06-01T00:27:00Z"))
            .unwrap();
    }
    let d = describe(&s, "sched", t("2022-06-01T00:27:00Z"));
    assert_eq!(
        statuses(&s, "2022-06-01T00:27:00Z"),
        vec![
            S::TimedOut,
            S::Canceled,
            S::Failed,
            S::Terminated,
            S::Running
        ]
    );
    assert_eq!(d.info.num_actions_failed, 2);
    s.workflow_closed(&ids[4], done(), t("2022-06-01T00:28:00Z"))
        .unwrap();
    assert_eq!(
        statuses(&s, "2022-06-01T00:28:00Z")[4],
        S::Completed,
        "the last one completed"
    );
}

#[test]
fn a_run_whose_recent_action_was_pushed_out_still_closes() {
    // Eleven runs open (ALLOW_ALL); the first one's recent action is gone (10 are kept).
    let mut s = scheduler_with("sched", interval(mins(1), mins(0), P::AllowAll));
    let mut ids = Vec::new();
    for m in 1..=11 {
        ids.extend(started_ids(
            &s.poll(t(&format!("2022-06-01T00:{m:02}:00Z"))),
        ));
    }
    s.workflow_closed(
        &ids[0],
        WorkflowOutcome::Failed {
            message: "x".into(),
        },
        t("2022-06-01T00:12:00Z"),
    )
    .unwrap();
    let d = describe(&s, "sched", t("2022-06-01T00:12:30Z"));
    assert_eq!(d.info.num_actions_failed, 1);
    assert!(d
        .info
        .recent_actions
        .iter()
        .all(|r| r.start_workflow_status == S::Running));
}

#[test]
fn dropped_while_paused_is_current_at_every_describe() {
    // Every minute, paused at 00:00:30: three hours later 180 times (00:01..03:00) have been
    // dropped, whether or not anything polled, and the unpause does not count them again.
    let mut s = scheduler_with("sched", interval(mins(1), mins(0), P::Skip));
    s.pause("sched", None, t("2022-06-01T00:00:30Z")).unwrap();
    let dropped =
        |s: &Scheduler, now: &str| describe(s, "sched", t(now)).info.num_actions_dropped_paused;
    assert_eq!(dropped(&s, "2022-06-01T00:00:59Z"), 0);
    assert_eq!(dropped(&s, "2022-06-01T00:01:00Z"), 1);
    assert_eq!(dropped(&s, "2022-06-01T01:00:00Z"), 60);
    let _ = s.poll(t("2022-06-01T02:00:00Z"));
    assert_eq!(dropped(&s, "2022-06-01T03:00:30Z"), 180);
    s.unpause("sched", None, t("2022-06-01T03:00:30Z")).unwrap();
    assert_eq!(dropped(&s, "2022-06-01T03:00:30Z"), 180);
    assert_eq!(dropped(&s, "2022-06-01T03:01:00Z"), 180, "running again");
}

#[test]
fn describe_counts_exactly_what_the_unpause_then_counts() {
    // A jittered spec (every 7 minutes, up to 5 minutes late) paused for a while: at each
    // instant, what describe reports while paused equals what the engine counts when the
    // unpause processes the same range (two different computations). The instants fall on
    // both sides of jittered actual times.
    for k in 0..40i64 {
        let mut sch = interval(mins(7), mins(0), P::Skip);
        sch.spec = ScheduleSpec {
            jitter: Some(Duration::from_secs(300)),
            ..sch.spec
        };
        let mut s = scheduler_with("sched", sch);
        s.pause("sched", None, t("2022-06-01T00:00:10Z")).unwrap();
        let now = t("2022-06-01T00:00:10Z") + Span::seconds(k * 617 + k * k * 31);
        let shown = describe(&s, "sched", now).info.num_actions_dropped_paused;
        s.unpause("sched", None, now).unwrap();
        let counted = describe(&s, "sched", now).info.num_actions_dropped_paused;
        assert_eq!(shown, counted, "at {now}");
    }
}

#[test]
fn out_of_remaining_actions_is_current_too() {
    // One remaining action: 01:00 runs, 02:00..05:00 are dropped (4), seen without a poll.
    let mut sch = interval(mins(60), mins(0), P::AllowAll);
    sch.state.remaining_actions = Some(1);
    let mut s = scheduler_with("sched", sch);
    let _ = s.poll(t("2022-06-01T01:00:00Z"));
    let d = describe(&s, "sched", t("2022-06-01T05:00:00Z"));
    assert_eq!(d.info.num_actions, 1);
    assert_eq!(d.info.num_actions_dropped_paused, 4);
}
