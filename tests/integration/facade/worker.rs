//! The Worker and the WorkflowRegistry: how runs end (completed, failed, panicked, dropped,
//! canceled, terminated) as the scheduler sees it. Observed through Temporal's own effects:
//! `pause_on_failure` pauses on Failed (not on Canceled/Terminated), overlap policies wait for
//! closes, and the next run gets the last completion result.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::util::engine::mins;
use crate::util::facade::{at, every, trigger_only, wid, Recorder};
use crossbeam_channel::{bounded, unbounded};
use schedule_engine::{
    CancelWorkflowAction, Client, Completion, ManualClock, Schedule, ScheduleDescription,
    ScheduleOverlapPolicy, StartWorkflowAction, TerminateWorkflowAction, Worker, WorkflowContext,
    WorkflowExecutor, WorkflowOutcome, WorkflowRegistry,
};

const WAIT: Duration = Duration::from_secs(10);

fn client_at_zero() -> (Client, ManualClock) {
    let clock = ManualClock::new(at(0));
    (
        Client::builder().clock(clock.clone()).build().unwrap(),
        clock,
    )
}

fn pausing_on_failure(mut s: Schedule) -> Schedule {
    s.policy.pause_on_failure = true;
    s
}

/// Waits (bounded) until `cond` holds on the schedule's description.
fn wait_for(
    client: &Client,
    id: &str,
    cond: impl Fn(&ScheduleDescription) -> bool,
) -> ScheduleDescription {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let d = client.get_schedule_handle(id).describe().unwrap();
        if cond(&d) {
            return d;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out; last: {d:#?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

struct Panicking;

impl WorkflowExecutor for Panicking {
    fn start_workflow(&mut self, action: StartWorkflowAction, _completion: Completion) {
        panic!("executor bug on {}", action.workflow_id);
    }
    fn cancel_workflow(&mut self, _: CancelWorkflowAction) {}
    fn terminate_workflow(&mut self, _: TerminateWorkflowAction) {}
}

#[test]
fn a_panicking_executor_is_a_failed_run_and_the_worker_goes_on() {
    let (client, clock) = client_at_zero();
    let worker = Worker::start(&client, Panicking);
    let handle = client
        .create_schedule("s", pausing_on_failure(every(mins(5))))
        .unwrap();
    clock.set(at(300));
    worker.settle();
    let d = handle.describe().unwrap();
    assert_eq!(d.info.num_actions, 1);
    assert!(
        d.info.running_actions.is_empty(),
        "the panicked run is closed"
    );
    assert!(
        d.schedule.state.paused,
        "failed, so pause_on_failure paused it"
    );
    let note = d.schedule.state.note.unwrap();
    assert!(
        note.contains(&wid(300)) && note.contains("panicked"),
        "{note}"
    );
    // The worker survived: a trigger is still dispatched (and fails the same way).
    handle.trigger(None).unwrap();
    worker.settle();
    assert_eq!(handle.describe().unwrap().info.num_actions, 2);
    worker.shutdown();
}

struct Dropping;

impl WorkflowExecutor for Dropping {
    fn start_workflow(&mut self, _: StartWorkflowAction, completion: Completion) {
        drop(completion);
    }
    fn cancel_workflow(&mut self, _: CancelWorkflowAction) {}
    fn terminate_workflow(&mut self, _: TerminateWorkflowAction) {}
}

#[test]
fn a_dropped_completion_is_a_failed_run() {
    let (client, _clock) = client_at_zero();
    let worker = Worker::start(&client, Dropping);
    let handle = client
        .create_schedule("s", pausing_on_failure(trigger_only()))
        .unwrap();
    handle.trigger(None).unwrap();
    worker.settle();
    let d = handle.describe().unwrap();
    assert!(d.info.running_actions.is_empty());
    assert!(d.schedule.state.paused);
    assert!(d
        .schedule
        .state
        .note
        .unwrap()
        .contains("completion dropped"));
    worker.shutdown();
}

#[test]
fn completions_reported_after_shutdown_are_still_applied() {
    let (client, _clock) = client_at_zero();
    let rec = Recorder::holding();
    let worker = Worker::start(&client, rec.clone());
    let handle = client.create_schedule("s", trigger_only()).unwrap();
    handle.trigger(None).unwrap();
    worker.settle();
    assert_eq!(handle.describe().unwrap().info.running_actions.len(), 1);
    worker.shutdown();
    rec.complete(&wid(0), WorkflowOutcome::Completed { result: None });
    assert!(handle.describe().unwrap().info.running_actions.is_empty());
}

#[test]
fn a_worker_started_later_takes_what_became_due_meanwhile() {
    let (client, clock) = client_at_zero();
    let handle = client.create_schedule("s", every(mins(5))).unwrap();
    clock.set(at(300));
    let rec = Recorder::completing();
    let worker = Worker::start(&client, rec.clone());
    worker.settle();
    assert_eq!(rec.started(), [wid(300)]);
    assert_eq!(handle.describe().unwrap().info.num_actions, 1);
    worker.shutdown();
}

#[test]
fn the_worker_wakes_for_changes_that_make_work_due_sooner() {
    // A real clock: no settle, the worker must wake by itself for the trigger.
    let client = Client::new();
    let (tx, rx) = unbounded();
    let tx = parking_lot::Mutex::new(tx);
    let registry = WorkflowRegistry::new().register("wf", move |ctx: WorkflowContext| {
        tx.lock().send(ctx.workflow_id().to_owned()).unwrap();
        Ok(())
    });
    let worker = Worker::start(&client, registry);
    let handle = client
        .create_schedule("s", every(Duration::from_secs(3600)))
        .unwrap();
    handle.trigger(None).unwrap();
    let id = rx.recv_timeout(WAIT).expect("the trigger ran");
    assert!(id.starts_with("myid-"), "{id}");
    worker.shutdown();
}

#[test]
fn registry_reports_results_errors_panics_and_unknown_names() {
    let (client, _clock) = client_at_zero();
    let (seen_tx, seen_rx) = unbounded();
    let seen_tx = parking_lot::Mutex::new(seen_tx);
    let registry = WorkflowRegistry::new()
        .register("wf", move |ctx: WorkflowContext| {
            seen_tx
                .lock()
                .send(ctx.last_completion_result().cloned())
                .unwrap();
            let n: u64 = ctx.arg(0)?;
            Ok(n * 2)
        })
        .register("err", |_ctx| -> Result<(), _> { Err("no luck".into()) })
        .register("boom", |_ctx| -> Result<(), _> { panic!("kaboom") });
    let worker = Worker::start(&client, registry);

    // Completed: the second run sees the first run's result (Temporal's last completion result).
    let mut ok = trigger_only();
    let schedule_engine::ScheduleAction::StartWorkflow(a) = &mut ok.action else {
        unreachable!()
    };
    a.args = vec![serde_json::json!(21)];
    let handle = client
        .create_schedule("ok", pausing_on_failure(ok))
        .unwrap();
    handle.trigger(None).unwrap();
    assert_eq!(seen_rx.recv_timeout(WAIT).unwrap(), None);
    wait_for(&client, "ok", |d| d.info.running_actions.is_empty());
    handle.trigger(None).unwrap();
    assert_eq!(
        seen_rx.recv_timeout(WAIT).unwrap(),
        Some(serde_json::json!(42))
    );

    for (id, workflow, expected) in [
        ("e", "err", "no luck"),
        ("p", "boom", "kaboom"),
        ("u", "missing", "unknown workflow type \"missing\""),
    ] {
        let mut s = pausing_on_failure(trigger_only());
        let schedule_engine::ScheduleAction::StartWorkflow(a) = &mut s.action else {
            unreachable!()
        };
        a.workflow = workflow.into();
        client
            .create_schedule(id, s)
            .unwrap()
            .trigger(None)
            .unwrap();
        let d = wait_for(&client, id, |d| d.schedule.state.paused);
        let note = d.schedule.state.note.unwrap();
        assert!(note.contains(expected), "{id}: {note}");
        assert!(d.info.running_actions.is_empty());
    }
    assert!(
        !handle.describe().unwrap().schedule.state.paused,
        "successes do not pause"
    );
    worker.shutdown();
}

#[test]
fn registry_cancel_other_lets_the_closure_observe_cancellation() {
    let (client, clock) = client_at_zero();
    let observed = Arc::new(AtomicBool::new(false));
    let seen = observed.clone();
    let (started_tx, started_rx) = unbounded();
    let started_tx = parking_lot::Mutex::new(started_tx);
    let registry = WorkflowRegistry::new().register("wf", move |ctx: WorkflowContext| {
        started_tx
            .lock()
            .send(ctx.workflow_id().to_owned())
            .unwrap();
        if ctx.nominal_time() == at(300) {
            while !ctx.is_cancel_requested() {
                std::thread::sleep(Duration::from_millis(1));
            }
            seen.store(true, Ordering::SeqCst);
            return Err("canceled".into());
        }
        Ok(())
    });
    let worker = Worker::start(&client, registry);
    let mut s = pausing_on_failure(every(mins(5)));
    s.policy.overlap = ScheduleOverlapPolicy::CancelOther;
    let handle = client.create_schedule("s", s).unwrap();
    clock.set(at(300));
    assert_eq!(started_rx.recv_timeout(WAIT).unwrap(), wid(300));
    clock.set(at(600));
    // The 00:10 run starts only once the 00:05 run has closed as Canceled.
    assert_eq!(started_rx.recv_timeout(WAIT).unwrap(), wid(600));
    assert!(observed.load(Ordering::SeqCst));
    let d = wait_for(&client, "s", |d| d.info.running_actions.is_empty());
    assert!(
        !d.schedule.state.paused,
        "Canceled does not count as a failure"
    );
    assert_eq!(handle.describe().unwrap().info.num_actions, 2);
    worker.shutdown();
}

#[test]
fn registry_terminate_other_reports_terminated_without_waiting_for_the_closure() {
    let (client, clock) = client_at_zero();
    let (release_tx, release_rx) = bounded::<()>(1);
    let release_rx = parking_lot::Mutex::new(release_rx);
    let (started_tx, started_rx) = unbounded();
    let started_tx = parking_lot::Mutex::new(started_tx);
    let registry = WorkflowRegistry::new().register("wf", move |ctx: WorkflowContext| {
        started_tx
            .lock()
            .send(ctx.workflow_id().to_owned())
            .unwrap();
        if ctx.nominal_time() == at(300) {
            // Ignores cancellation: only terminate can end it for the scheduler.
            let _ = release_rx.lock().recv_timeout(WAIT);
        }
        Ok(())
    });
    let worker = Worker::start(&client, registry);
    let mut s = pausing_on_failure(every(mins(5)));
    s.policy.overlap = ScheduleOverlapPolicy::TerminateOther;
    client.create_schedule("s", s).unwrap();
    clock.set(at(300));
    assert_eq!(started_rx.recv_timeout(WAIT).unwrap(), wid(300));
    clock.set(at(600));
    assert_eq!(started_rx.recv_timeout(WAIT).unwrap(), wid(600));
    let d = wait_for(&client, "s", |d| d.info.running_actions.is_empty());
    assert!(
        !d.schedule.state.paused,
        "Terminated does not count as a failure"
    );
    release_tx.send(()).unwrap();
    worker.shutdown();
}

#[test]
fn a_manual_clock_jump_wakes_the_worker_without_settle() {
    let (client, clock) = client_at_zero();
    let (tx, rx) = unbounded();
    let tx = parking_lot::Mutex::new(tx);
    let registry = WorkflowRegistry::new().register("wf", move |ctx: WorkflowContext| {
        tx.lock().send(ctx.workflow_id().to_owned()).unwrap();
        Ok(())
    });
    let worker = Worker::start(&client, registry);
    client.create_schedule("s", every(mins(5))).unwrap();
    worker.settle(); // the worker now sleeps with no real-time deadline
    clock.set(at(300));
    assert_eq!(rx.recv_timeout(WAIT).unwrap(), wid(300));
    worker.shutdown();
}

#[test]
fn two_workers_share_the_work_and_each_action_runs_once() {
    let (client, clock) = client_at_zero();
    let (a, b) = (Recorder::completing(), Recorder::completing());
    let workers = [
        Worker::start(&client, a.clone()),
        Worker::start(&client, b.clone()),
    ];
    let mut s = trigger_only();
    s.policy.overlap = ScheduleOverlapPolicy::AllowAll;
    let handle = client.create_schedule("s", s).unwrap();
    let mut expected = Vec::new();
    for secs in 1..=20 {
        clock.set(at(secs));
        handle.trigger(None).unwrap();
        expected.push(wid(secs));
    }
    workers.iter().for_each(Worker::settle);
    let mut started = a.started();
    started.extend(b.started());
    started.sort();
    assert_eq!(started, expected);
    assert_eq!(handle.describe().unwrap().info.num_actions, 20);
    for w in workers {
        w.shutdown();
    }
}
