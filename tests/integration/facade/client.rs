//! The facade's verbs end to end: a Client on a ManualClock, a Worker, a recording executor.
//! Expected values are Temporal's (docs/semantics.md):
//! workflow ids `<action id>-<nominal time>`, manual starts for trigger and backfill, both
//! backfill ends inclusive, no catch-up after unpause, updates not retroactive.
//!
//! The same scenarios run against a 3-node cluster (`cluster::scenarios`), where `setup` gives
//! a client that hosts nothing, so that every verb is issued on a node other than the owner.

use std::time::Duration;

use super::setup;
use crate::util::engine::mins;
use crate::util::facade::{at, every, trigger_only, wid, Call, Recorder};
use schedule_engine::{
    Client, CreateScheduleOptions, ManualClock, ScheduleBackfill, ScheduleError,
    ScheduleIntervalSpec, ScheduleOverlapPolicy, ScheduleUpdate, StartWorkflowOptions, Worker,
    WorkflowOutcome,
};

fn start(workflow_id: &str, manual: bool) -> Call {
    Call::Start {
        workflow_id: workflow_id.into(),
        manual,
    }
}

#[test]
fn create_runs_each_scheduled_time_with_temporal_workflow_ids() {
    let rec = Recorder::completing();
    let (client, clock, worker) = setup(&rec);
    let handle = client.create_schedule("sched", every(mins(5))).unwrap();
    assert_eq!(handle.id(), "sched");

    clock.set(at(299));
    worker.settle();
    assert!(rec.calls().is_empty(), "nothing is due before 00:05");

    clock.set(at(300));
    worker.settle();
    clock.set(at(600));
    worker.settle();
    assert_eq!(
        rec.calls(),
        [start(&wid(300), false), start(&wid(600), false)]
    );

    let d = handle.describe().unwrap();
    assert_eq!(d.info.num_actions, 2);
    assert!(d.info.running_actions.is_empty(), "both runs completed");
    let recent: Vec<_> = d
        .info
        .recent_actions
        .iter()
        .map(|a| a.action.workflow_id.clone())
        .collect();
    assert_eq!(recent, [wid(300), wid(600)]);
    assert_eq!(d.info.recent_actions[0].scheduled_at, at(300));
    assert_eq!(d.info.next_action_times[0], at(900));
    assert_eq!(d.info.created_at, at(0));
    worker.shutdown();
}

#[test]
fn create_twice_is_already_exists_and_unknown_handles_are_not_found() {
    let (client, _clock, worker) = setup(&Recorder::completing());
    client.create_schedule("a", every(mins(5))).unwrap();
    assert!(matches!(
        client.create_schedule("a", every(mins(1))),
        Err(ScheduleError::AlreadyExists { .. })
    ));
    let ghost = client.get_schedule_handle("ghost");
    assert_eq!(ghost.id(), "ghost");
    for result in [
        ghost.describe().map(|_| ()),
        ghost.pause(None),
        ghost.unpause(None),
        ghost.trigger(None),
        ghost.delete(),
        ghost.update(|_| None),
        ghost.backfill(&[ScheduleBackfill::new(at(0), at(60))]),
    ] {
        assert!(
            matches!(result, Err(ScheduleError::NotFound { .. })),
            "{result:?}"
        );
    }
    worker.shutdown();
}

#[test]
fn create_with_trigger_immediately_runs_once_even_when_paused() {
    let rec = Recorder::completing();
    let (client, clock, worker) = setup(&rec);
    clock.set(at(42));
    let mut schedule = every(mins(5));
    schedule.state.paused = true;
    let options = CreateScheduleOptions {
        trigger_immediately: true,
        ..Default::default()
    };
    let handle = client
        .create_schedule_with_options("s", schedule, options)
        .unwrap();
    worker.settle();
    clock.set(at(600));
    worker.settle();
    // Only the manual start at creation; the paused spec takes nothing.
    assert_eq!(rec.calls(), [start(&wid(42), true)]);
    assert_eq!(handle.describe().unwrap().info.num_actions, 1);
    worker.shutdown();
}

#[test]
fn trigger_starts_now_while_paused_and_obeys_skip_overlap() {
    let rec = Recorder::holding();
    let (client, clock, worker) = setup(&rec);
    let handle = client.create_schedule("s", trigger_only()).unwrap();
    handle.pause(Some("held")).unwrap();

    clock.set(at(10));
    handle.trigger(None).unwrap();
    worker.settle();
    assert_eq!(rec.calls(), [start(&wid(10), true)]);

    // A second trigger while the first runs: the schedule's SKIP policy skips it.
    clock.set(at(20));
    handle.trigger(None).unwrap();
    worker.settle();
    let d = handle.describe().unwrap();
    assert_eq!(d.info.num_actions, 1);
    assert_eq!(d.info.num_actions_skipped_overlap, 1);
    assert_eq!(d.info.running_actions.len(), 1);
    assert_eq!(d.info.running_actions[0].workflow_id, wid(10));

    // ALLOW_ALL starts concurrently.
    clock.set(at(30));
    handle
        .trigger(Some(ScheduleOverlapPolicy::AllowAll))
        .unwrap();
    worker.settle();
    assert_eq!(rec.started(), [wid(10), wid(30)]);

    rec.complete(&wid(10), WorkflowOutcome::Completed { result: None });
    rec.complete(&wid(30), WorkflowOutcome::Completed { result: None });
    worker.settle();
    assert!(handle.describe().unwrap().info.running_actions.is_empty());
    worker.shutdown();
}

#[test]
fn pause_skips_times_for_good_and_unpause_does_not_catch_up() {
    let rec = Recorder::completing();
    let (client, clock, worker) = setup(&rec);
    let handle = client.create_schedule("s", every(mins(5))).unwrap();
    handle.pause(Some("maintenance")).unwrap();
    let d = handle.describe().unwrap();
    assert!(d.schedule.state.paused);
    assert_eq!(d.schedule.state.note.as_deref(), Some("maintenance"));

    clock.set(at(720)); // 00:05 and 00:10 pass while paused
    worker.settle();
    handle.unpause(Some("back")).unwrap();
    worker.settle();
    assert!(rec.calls().is_empty(), "no catch-up of paused times");
    let d = handle.describe().unwrap();
    assert!(!d.schedule.state.paused);
    assert_eq!(d.schedule.state.note.as_deref(), Some("back"));
    assert_eq!(d.info.num_actions_missed_catchup_window, 0);

    clock.set(at(900));
    worker.settle();
    assert_eq!(rec.calls(), [start(&wid(900), false)]);
    worker.shutdown();
}

#[test]
fn backfill_takes_both_ends_inclusive_in_order_as_manual_starts() {
    let rec = Recorder::completing();
    let (client, clock, worker) = setup(&rec);
    clock.set(at(3600));
    let handle = client.create_schedule("s", every(mins(5))).unwrap();
    handle.pause(None).unwrap(); // backfill ignores pause
    assert!(matches!(
        handle.backfill(&[]),
        Err(ScheduleError::InvalidArgument { .. })
    ));
    handle
        .backfill(&[ScheduleBackfill {
            start_at: at(0),
            end_at: at(1200),
            overlap: Some(ScheduleOverlapPolicy::BufferAll),
        }])
        .unwrap();
    worker.settle();
    let expected: Vec<Call> = [0, 300, 600, 900, 1200]
        .iter()
        .map(|&s| start(&wid(s), true))
        .collect();
    assert_eq!(rec.calls(), expected);
    assert_eq!(handle.describe().unwrap().info.num_actions, 5);
    worker.shutdown();
}

#[test]
fn update_replaces_the_schedule_and_is_not_retroactive() {
    let rec = Recorder::completing();
    let (client, clock, worker) = setup(&rec);
    let handle = client.create_schedule("s", every(mins(5))).unwrap();
    let token = handle.describe().unwrap().conflict_token;

    // An updater returning None changes nothing, not even last_updated_at.
    handle.update(|_| None).unwrap();
    let d = handle.describe().unwrap();
    assert_eq!(d.info.last_updated_at, None);
    assert_eq!(d.conflict_token, token);

    clock.set(at(150));
    handle
        .update(|input| {
            let mut schedule = input.description.schedule;
            schedule.spec.intervals = vec![ScheduleIntervalSpec::new(mins(1))];
            Some(ScheduleUpdate { schedule })
        })
        .unwrap();
    let d = handle.describe().unwrap();
    assert_eq!(d.info.last_updated_at, Some(at(150)));
    assert!(d.conflict_token > token);
    assert_eq!(d.info.next_action_times[0], at(180));

    for secs in [180, 240] {
        clock.set(at(secs));
        worker.settle();
    }
    assert_eq!(
        rec.calls(),
        [start(&wid(180), false), start(&wid(240), false)]
    );
    worker.shutdown();
}

#[test]
fn update_callback_may_call_back_into_the_client() {
    let (client, _clock, worker) = setup(&Recorder::completing());
    let handle = client.create_schedule("s", every(mins(5))).unwrap();
    client.create_schedule("other", every(mins(5))).unwrap();
    let mut calls = 0;
    handle
        .update(|input| {
            calls += 1;
            // Runs outside the lock: reading, even changing, the client from here is fine.
            assert_eq!(client.list_schedules().len(), 2);
            client
                .get_schedule_handle("other")
                .pause(Some("by s"))
                .unwrap();
            let mut schedule = input.description.schedule;
            schedule.state.note = Some("updated".into());
            Some(ScheduleUpdate { schedule })
        })
        .unwrap();
    assert_eq!(calls, 1);
    assert_eq!(
        handle.describe().unwrap().schedule.state.note.as_deref(),
        Some("updated")
    );
    assert!(
        client
            .get_schedule_handle("other")
            .describe()
            .unwrap()
            .schedule
            .state
            .paused
    );
    worker.shutdown();
}

#[test]
fn update_reruns_the_callback_when_the_schedule_changed_meanwhile() {
    let (client, _clock, worker) = setup(&Recorder::completing());
    let handle = client.create_schedule("s", every(mins(5))).unwrap();
    let mut calls = 0;
    handle
        .update(|input| {
            calls += 1;
            if calls == 1 {
                // A concurrent change between this callback's read and its write.
                handle.pause(Some("concurrent")).unwrap();
            }
            let mut schedule = input.description.schedule;
            schedule.policy.pause_on_failure = true;
            Some(ScheduleUpdate { schedule })
        })
        .unwrap();
    assert_eq!(
        calls, 2,
        "the stale first result is discarded, the callback re-run"
    );
    let d = handle.describe().unwrap();
    assert!(d.schedule.policy.pause_on_failure);
    assert!(d.schedule.state.paused, "the concurrent pause is not lost");
    assert_eq!(d.schedule.state.note.as_deref(), Some("concurrent"));
    worker.shutdown();
}

#[test]
fn update_with_an_invalid_schedule_changes_nothing() {
    let (client, _clock, worker) = setup(&Recorder::completing());
    let handle = client.create_schedule("s", every(mins(5))).unwrap();
    let before = handle.describe().unwrap();
    let result = handle.update(|input| {
        let mut schedule = input.description.schedule;
        schedule.spec.intervals = vec![ScheduleIntervalSpec::new(Duration::ZERO)];
        Some(ScheduleUpdate { schedule })
    });
    assert!(result.is_err(), "{result:?}");
    assert_eq!(handle.describe().unwrap().schedule, before.schedule);
    worker.shutdown();
}

#[test]
fn delete_removes_the_schedule_but_not_its_running_workflows() {
    let rec = Recorder::holding();
    let (client, clock, worker) = setup(&rec);
    let handle = client.create_schedule("s", every(mins(5))).unwrap();
    clock.set(at(300));
    worker.settle();
    assert_eq!(rec.started(), [wid(300)]);
    handle.delete().unwrap();
    assert!(client.list_schedules().is_empty());
    assert!(matches!(
        handle.describe(),
        Err(ScheduleError::NotFound { .. })
    ));
    // The run goes on; its completion is accepted quietly.
    rec.complete(&wid(300), WorkflowOutcome::Completed { result: None });
    clock.set(at(600));
    worker.settle();
    assert_eq!(rec.started(), [wid(300)]);
    // The id is free again.
    client.create_schedule("s", every(mins(5))).unwrap();
    worker.shutdown();
}

#[test]
fn list_is_ordered_by_id_with_state_and_next_times() {
    let (client, _clock, worker) = setup(&Recorder::completing());
    for id in ["charlie", "alpha", "bravo"] {
        client.create_schedule(id, every(mins(5))).unwrap();
    }
    client
        .get_schedule_handle("bravo")
        .pause(Some("quiet"))
        .unwrap();
    let list = client.list_schedules();
    let ids: Vec<_> = list.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["alpha", "bravo", "charlie"]);
    assert!(list[1].paused && !list[0].paused);
    assert_eq!(list[1].note.as_deref(), Some("quiet"));
    assert_eq!(list[0].workflow, "wf");
    assert_eq!(list[0].next_action_times.len(), 5);
    assert_eq!(list[0].next_action_times[0], at(300));
    worker.shutdown();
}

#[test]
fn start_workflow_with_start_delay_starts_once_after_the_delay() {
    let rec = Recorder::completing();
    let (client, clock, worker) = setup(&rec);
    client
        .start_workflow(StartWorkflowOptions {
            workflow: "wf".into(),
            id: "delayed".into(),
            task_queue: "tq".into(),
            start_delay: Some(Duration::from_secs(30)),
            ..Default::default()
        })
        .unwrap();
    clock.set(at(29));
    worker.settle();
    assert!(rec.calls().is_empty());
    clock.set(at(30));
    worker.settle();
    clock.set(at(3600));
    worker.settle();
    assert_eq!(rec.started(), ["delayed"]);
    let action = rec.actions.lock()[0].clone();
    assert_eq!(action.schedule_id, None);
    worker.shutdown();
}

#[test]
fn start_workflow_without_timing_starts_at_once() {
    let rec = Recorder::completing();
    let (client, _clock, worker) = setup(&rec);
    client
        .start_workflow(StartWorkflowOptions {
            workflow: "wf".into(),
            id: "now".into(),
            task_queue: "tq".into(),
            ..Default::default()
        })
        .unwrap();
    worker.settle();
    assert_eq!(rec.started(), ["now"]);
    worker.shutdown();
}

#[test]
fn start_workflow_with_cron_schedule_runs_at_each_cron_time_under_one_id() {
    let rec = Recorder::holding();
    let (client, clock, worker) = setup(&rec);
    clock.set(at(15 * 60)); // 00:15; "0 * * * *" first runs at 01:00, not now
    client
        .start_workflow(StartWorkflowOptions {
            workflow: "wf".into(),
            id: "cronjob".into(),
            task_queue: "tq".into(),
            cron_schedule: Some("0 * * * *".into()),
            ..Default::default()
        })
        .unwrap();
    worker.settle();
    assert!(rec.calls().is_empty());
    clock.set(at(3600));
    worker.settle();
    assert_eq!(rec.started(), ["cronjob"]);
    // Still running at 02:00 and 03:00: those slots are skipped, never queued.
    clock.set(at(3 * 3600 + 30));
    worker.settle();
    assert_eq!(rec.started(), ["cronjob"]);
    rec.complete("cronjob", WorkflowOutcome::Completed { result: None });
    worker.settle();
    clock.set(at(4 * 3600));
    worker.settle();
    assert_eq!(rec.started(), ["cronjob", "cronjob"]);
    worker.shutdown();
}

#[test]
fn facade_types_are_thread_safe() {
    fn clone_send_sync<T: Clone + Send + Sync>() {}
    fn send<T: Send>() {}
    clone_send_sync::<Client>();
    clone_send_sync::<schedule_engine::ScheduleHandle>();
    clone_send_sync::<ManualClock>();
    send::<schedule_engine::Completion>();
    send::<Worker>();
    send::<schedule_engine::WorkflowRegistry>();
}

#[test]
fn a_panicking_update_callback_propagates_and_changes_nothing() {
    let (client, _clock, worker) = setup(&Recorder::completing());
    let handle = client.create_schedule("s", every(mins(5))).unwrap();
    let before = handle.describe().unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        handle.update(|_| panic!("updater bug"))
    }));
    assert!(result.is_err(), "the callback's panic reaches the caller");
    // No lock was held while it ran: the client is fully usable, the schedule unchanged.
    let after = handle.describe().unwrap();
    assert_eq!(after.schedule, before.schedule);
    assert_eq!(after.conflict_token, before.conflict_token);
    handle.pause(None).unwrap();
    worker.shutdown();
}
