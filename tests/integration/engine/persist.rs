//! Snapshot, restore and the change feed.

use std::time::Duration;

use crate::util::engine::*;
use schedule_engine::snapshot::{SchedulerSnapshot, StateChange};
use schedule_engine::{
    Schedule, ScheduleBackfill, ScheduleIntervalSpec, ScheduleOverlapPolicy as P, Scheduler,
    SchedulerConfig, StartWorkflowOptions, WorkflowOutcome,
};

/// A scheduler with schedules "a" and "b" (action id `bid`), both created at 00:00.
fn a_and_b(a: Schedule, mut b: Schedule) -> Scheduler {
    let mut s = Scheduler::default();
    s.create_schedule("a", a, t("2022-06-01T00:00:00Z"))
        .unwrap();
    action_mut(&mut b).id = "bid".into();
    s.create_schedule("b", b, t("2022-06-01T00:00:00Z"))
        .unwrap();
    s
}

fn busy_scheduler() -> Scheduler {
    let mut s = a_and_b(
        interval(mins(5), mins(0), P::BufferAll),
        interval(mins(60), mins(17), P::Skip),
    );
    s.start_workflow(
        StartWorkflowOptions {
            workflow: "w".into(),
            id: "delayed".into(),
            task_queue: "q".into(),
            start_delay: Some(Duration::from_secs(3600)),
            ..Default::default()
        },
        t("2022-06-01T00:00:00Z"),
    )
    .unwrap();
    let _ = s.poll(t("2022-06-01T00:05:00Z"));
    let _ = s.poll(t("2022-06-01T00:10:00Z"));
    let _ = s.poll(t("2022-06-01T00:15:00Z"));
    s.pause("b", None, t("2022-06-01T00:16:00Z")).unwrap();
    s.backfill(
        "a",
        &[ScheduleBackfill::new(
            t("2022-05-31T00:00:00Z"),
            t("2022-05-31T00:10:00Z"),
        )],
        t("2022-06-01T00:16:00Z"),
    )
    .unwrap();
    s
}

/// Drives both schedulers through the same events and compares every action.
fn same_future(mut x: Scheduler, mut y: Scheduler) {
    let mut now = t("2022-06-01T00:16:00Z");
    for step in 0..40 {
        let ax = x.poll(now);
        let ay = y.poll(now);
        assert_eq!(ax, ay, "step {step}");
        for id in started_ids(&ax) {
            let outcome = WorkflowOutcome::Completed {
                result: Some(serde_json::json!(step)),
            };
            assert_eq!(
                x.workflow_closed(&id, outcome.clone(), now),
                y.workflow_closed(&id, outcome, now)
            );
        }
        assert_eq!(x.next_wakeup(), y.next_wakeup());
        assert_eq!(x.describe("a", now), y.describe("a", now));
        assert_eq!(x.describe("b", now), y.describe("b", now));
        now += chrono::Duration::minutes(7);
    }
}

#[test]
fn restore_of_a_snapshot_behaves_like_the_original() {
    let s = busy_scheduler();
    let snap = s.snapshot();
    // Round trip through JSON, as a store would.
    let json = serde_json::to_string(&snap).unwrap();
    let back: SchedulerSnapshot = serde_json::from_str(&json).unwrap();
    assert_eq!(back, snap);
    let r = Scheduler::restore(back, SchedulerConfig::default());
    assert_eq!(r.snapshot(), snap);
    same_future(s, r);
}

#[test]
fn the_change_feed_rebuilds_the_snapshot() {
    let mut s = Scheduler::default();
    let mut store = SchedulerSnapshot::default();
    let apply = |s: &mut Scheduler, store: &mut SchedulerSnapshot| {
        for c in s.take_changes() {
            store.apply(c);
        }
        assert_eq!(*store, s.snapshot());
    };
    s.create_schedule(
        "a",
        interval(mins(5), mins(0), P::AllowAll),
        t("2022-06-01T00:00:00Z"),
    )
    .unwrap();
    s.create_schedule(
        "b",
        interval(mins(10), mins(7), P::Skip),
        t("2022-06-01T00:00:00Z"),
    )
    .unwrap();
    apply(&mut s, &mut store);
    // Nothing changed: nothing emitted.
    assert!(s.take_changes().is_empty());
    let a = s.poll(t("2022-06-01T00:05:00Z"));
    assert_eq!(a.len(), 1);
    let changes = s.take_changes();
    assert_eq!(
        changes.len(),
        1,
        "only the schedule that fired: {changes:?}"
    );
    for c in changes {
        store.apply(c);
    }
    assert_eq!(store, s.snapshot());
    s.delete("b", t("2022-06-01T00:05:30Z")).unwrap();
    s.create_schedule(
        "b",
        interval(mins(5), mins(2), P::Skip),
        t("2022-06-01T00:05:40Z"),
    )
    .unwrap();
    let changes = s.take_changes();
    assert!(matches!(&changes[0], StateChange::RemoveSchedule(id) if id == "b"));
    for c in changes {
        store.apply(c);
    }
    assert_eq!(store, s.snapshot());
    s.start_workflow(
        StartWorkflowOptions {
            workflow: "w".into(),
            id: "now".into(),
            task_queue: "q".into(),
            ..Default::default()
        },
        t("2022-06-01T00:06:00Z"),
    )
    .unwrap();
    apply(&mut s, &mut store);
    let _ = s.poll(t("2022-06-01T00:06:00Z"));
    apply(&mut s, &mut store);
    s.workflow_closed("now", WorkflowOutcome::Canceled, t("2022-06-01T00:07:00Z"))
        .unwrap();
    apply(&mut s, &mut store);
    assert!(store.workflows.is_empty());
    s.workflow_closed(
        "myid-2022-06-01T00:05:00Z",
        WorkflowOutcome::Completed { result: None },
        t("2022-06-01T00:08:00Z"),
    )
    .unwrap();
    s.pause("a", None, t("2022-06-01T00:09:00Z")).unwrap();
    apply(&mut s, &mut store);
}

#[test]
fn a_spec_that_no_longer_compiles_keeps_its_schedule() {
    let s = busy_scheduler();
    let mut snap = s.snapshot();
    snap.schedules[0].schedule.spec.intervals = vec![ScheduleIntervalSpec::new(Duration::ZERO)];
    let mut r = Scheduler::restore(snap, SchedulerConfig::default());
    let d = describe(&r, "a", t("2022-06-01T00:16:00Z"));
    assert!(d.info.invalid_spec_error.is_some());
    assert!(d.info.next_action_times.is_empty());
    // Its buffered starts and running runs are kept.
    assert_eq!(d.info.running_actions.len(), 1);
    assert_eq!(d.info.buffer_size, 2);
    // It takes no scheduled action, is never removed, and a fixing update brings it back.
    let _ = r.poll(t("2022-07-01T00:00:00Z"));
    assert!(r.describe("a", t("2022-07-01T00:00:00Z")).is_ok());
    r.update(
        "a",
        |input| {
            let mut sch = input.description.schedule;
            sch.spec.intervals = vec![ScheduleIntervalSpec::new(mins(5))];
            Some(schedule_engine::ScheduleUpdate { schedule: sch })
        },
        t("2022-07-01T00:00:00Z"),
    )
    .unwrap();
    let d = describe(&r, "a", t("2022-07-01T00:00:00Z"));
    assert_eq!(d.info.invalid_spec_error, None);
    // Not before the update: 00:00 itself is taken.
    assert_eq!(d.info.next_action_times[0], t("2022-07-01T00:00:00Z"));
}

/// Schedule "a" (every 5 min, ALLOW_ALL): started `myid-..00:05`, then its action id
/// became `renamed`, then started `renamed-..00:10`; both runs still running.
fn renamed_between_two_starts() -> Scheduler {
    let mut s = Scheduler::default();
    s.create_schedule(
        "a",
        interval(mins(5), mins(0), P::AllowAll),
        t("2022-06-01T00:00:00Z"),
    )
    .unwrap();
    let _ = s.poll(t("2022-06-01T00:05:00Z"));
    s.update(
        "a",
        |input| {
            let mut sch = input.description.schedule;
            action_mut(&mut sch).id = "renamed".into();
            Some(schedule_engine::ScheduleUpdate { schedule: sch })
        },
        t("2022-06-01T00:06:00Z"),
    )
    .unwrap();
    let _ = s.poll(t("2022-06-01T00:10:00Z"));
    s
}

#[test]
fn recent_actions_keep_their_ids_across_an_action_id_change_and_a_restore() {
    let s = renamed_between_two_starts();
    let want = vec![
        "myid-2022-06-01T00:05:00Z".to_string(),
        "renamed-2022-06-01T00:10:00Z".to_string(),
    ];
    let recent = |s: &Scheduler| -> Vec<String> {
        describe(s, "a", t("2022-06-01T00:10:00Z"))
            .info
            .recent_actions
            .into_iter()
            .map(|r| r.action.workflow_id)
            .collect()
    };
    assert_eq!(recent(&s), want);
    let r = Scheduler::restore(s.snapshot(), SchedulerConfig::default());
    assert_eq!(recent(&r), want);
    assert_eq!(r.snapshot(), s.snapshot());
}

#[test]
fn running_runs_keep_their_ids_across_an_action_id_change_and_a_restore() {
    // A started run keeps the workflow id it started with; only later starts use the new
    // action id.
    let mut s = renamed_between_two_starts();
    let now = t("2022-06-01T00:11:00Z");
    let both = vec![
        "myid-2022-06-01T00:05:00Z".to_string(),
        "renamed-2022-06-01T00:10:00Z".to_string(),
    ];
    assert_eq!(running(&describe(&s, "a", now)), both);
    let mut r = Scheduler::restore(s.snapshot(), SchedulerConfig::default());
    assert_eq!(running(&describe(&r, "a", now)), both);
    for x in [&mut s, &mut r] {
        let done = WorkflowOutcome::Completed { result: None };
        x.workflow_closed("myid-2022-06-01T00:05:00Z", done.clone(), now)
            .unwrap();
        assert!(matches!(
            x.workflow_closed("myid-2022-06-01T00:05:00Z", done.clone(), now),
            Err(schedule_engine::ScheduleError::WorkflowNotFound { .. })
        ));
        assert_eq!(running(&describe(x, "a", now)), both[1..].to_vec());
        x.workflow_closed("renamed-2022-06-01T00:10:00Z", done, now)
            .unwrap();
        assert!(running(&describe(x, "a", now)).is_empty());
    }
}

/// Schedules "a" (action id `myid`) and "b" (action id `bid`), both every 5 minutes with
/// SKIP, each with the run it started at 00:05 still running.
fn two_running_schedules() -> Scheduler {
    let mut s = a_and_b(
        interval(mins(5), mins(0), P::Skip),
        interval(mins(5), mins(0), P::Skip),
    );
    let started = started_ids(&s.poll(t("2022-06-01T00:05:00Z")));
    assert_eq!(started.len(), 2, "{started:?}");
    s
}

const A_RUN: &str = "myid-2022-06-01T00:05:00Z";

/// The snapshot of [`two_running_schedules`] with b's running run renamed to a's (a corrupt or
/// hand-edited store): two schedules claim one workflow id.
fn a_run_claimed_by_b_too() -> SchedulerSnapshot {
    let mut snap = two_running_schedules().snapshot();
    assert_eq!(snap.schedules[1].id, "b");
    snap.schedules[1].running[0].workflow_id = A_RUN.into();
    snap
}

/// The change feed right after `r` was restored from `snap` turns `snap` into `r`'s snapshot
/// (which the restore repaired: they differ).
fn feed_repairs(mut snap: SchedulerSnapshot, r: &mut Scheduler) {
    assert_ne!(snap, r.snapshot(), "nothing was repaired");
    for c in r.take_changes() {
        snap.apply(c);
    }
    assert_eq!(snap, r.snapshot());
}

#[test]
fn a_workflow_id_two_schedules_claim_stays_with_the_first() {
    let snap = a_run_claimed_by_b_too();
    let mut r = Scheduler::restore(snap.clone(), SchedulerConfig::default());
    let now = t("2022-06-01T00:06:00Z");
    assert_eq!(running(&describe(&r, "a", now)), vec![A_RUN.to_string()]);
    // b never owned the id: its run counts as never started.
    assert!(running(&describe(&r, "b", now)).is_empty());
    // The repair is part of the change feed, so a store of the old snapshot converges.
    feed_repairs(snap, &mut r);
    // Nothing runs for b, so SKIP lets its next time start; a's run still blocks a.
    assert_eq!(
        started_ids(&r.poll(t("2022-06-01T00:10:00Z"))),
        vec!["bid-2022-06-01T00:10:00Z".to_string()]
    );
    let now = t("2022-06-01T00:11:00Z");
    r.workflow_closed(A_RUN, done(), now).unwrap();
    assert!(matches!(
        r.workflow_closed(A_RUN, done(), now),
        Err(schedule_engine::ScheduleError::WorkflowNotFound { .. })
    ));
    assert!(running(&describe(&r, "a", now)).is_empty());
    assert_eq!(
        running(&describe(&r, "b", now)),
        vec!["bid-2022-06-01T00:10:00Z".to_string()]
    );
}

#[test]
fn deleting_the_later_claimant_leaves_the_first_schedules_run_tracked() {
    let mut r = Scheduler::restore(a_run_claimed_by_b_too(), SchedulerConfig::default());
    let now = t("2022-06-01T00:06:00Z");
    r.delete("b", now).unwrap();
    assert_eq!(running(&describe(&r, "a", now)), vec![A_RUN.to_string()]);
    r.workflow_closed(A_RUN, done(), now).unwrap();
    assert!(running(&describe(&r, "a", now)).is_empty());
    assert!(matches!(
        r.workflow_closed(A_RUN, done(), now),
        Err(schedule_engine::ScheduleError::WorkflowNotFound { .. })
    ));
    // a's run closed, so SKIP takes its next time.
    assert_eq!(
        started_ids(&r.poll(t("2022-06-01T00:10:00Z"))),
        vec!["myid-2022-06-01T00:10:00Z".to_string()]
    );
}

#[test]
fn a_run_one_schedule_lists_twice_is_tracked_once() {
    let mut snap = two_running_schedules().snapshot();
    let twice = snap.schedules[0].running[0].clone();
    snap.schedules[0].running.push(twice);
    let mut r = Scheduler::restore(snap, SchedulerConfig::default());
    let now = t("2022-06-01T00:06:00Z");
    assert_eq!(running(&describe(&r, "a", now)), vec![A_RUN.to_string()]);
    r.workflow_closed(A_RUN, done(), now).unwrap();
    assert!(running(&describe(&r, "a", now)).is_empty());
    assert!(r.workflow_closed(A_RUN, done(), now).is_err());
}

#[test]
fn a_standalone_workflow_record_a_schedule_run_holds_waits_in_the_store() {
    // Schedules come first in a snapshot, so a's run keeps the id; the job record is not
    // restored while that run lives, and not deleted from the store either.
    let mut snap = two_running_schedules().snapshot();
    let mut other = Scheduler::default();
    other
        .start_workflow(opts(A_RUN), t("2022-06-01T00:05:00Z"))
        .unwrap();
    assert_eq!(
        started_ids(&other.poll(t("2022-06-01T00:05:00Z"))),
        vec![A_RUN.to_string()]
    );
    snap.workflows = other.snapshot().workflows;
    assert_eq!(snap.workflows.len(), 1);
    let mut r = Scheduler::restore(snap, SchedulerConfig::default());
    let now = t("2022-06-01T00:06:00Z");
    assert!(r.snapshot().workflows.is_empty());
    assert!(
        !r.take_changes()
            .iter()
            .any(|c| matches!(c, StateChange::RemoveWorkflow(id) if id == A_RUN)),
        "the job's record must stay in the store"
    );
    assert_eq!(running(&describe(&r, "a", now)), vec![A_RUN.to_string()]);
    let result = WorkflowOutcome::Completed {
        result: Some(serde_json::json!("a's")),
    };
    r.workflow_closed(A_RUN, result, now).unwrap();
    assert!(running(&describe(&r, "a", now)).is_empty());
    // It was a's run that closed: a keeps its result for the next start.
    assert_eq!(
        r.snapshot().schedules[0].last_completion_result,
        Some(serde_json::json!("a's"))
    );
    assert!(r.workflow_closed(A_RUN, done(), now).is_err());
}

/// Found by the `snapshot_restore` fuzz target: restore dropped a recent action whose workflow
/// id it cannot read (and the ones beyond the ten kept), but the change feed did not carry the
/// repaired record, so the store kept the old one for good.
#[test]
fn what_restore_normalises_goes_out_in_the_feed() {
    let now = t("2022-06-01T00:10:00Z");
    let mut s = scheduler_with("a", interval(mins(1), mins(0), P::AllowAll));
    let _ = s.poll(now);
    let mut store = s.snapshot();
    let recent = &mut store.schedules[0].recent_actions;
    recent[0].action.workflow_id = "x-245".into();
    recent[1].scheduled_at = chrono::DateTime::<chrono::Utc>::MIN_UTC;
    let mut r = Scheduler::restore(store.clone(), SchedulerConfig::default());
    for change in r.take_changes() {
        store.apply(change);
    }
    assert_eq!(store, r.snapshot());
}
