//! The AsyncWorkflowRegistry (feature `tokio`) on both runtime flavours: how async runs end
//! (completed, failed, panicked, unknown, canceled, terminated, timed out, dropped) as the
//! scheduler sees it, and shutting down while runs are in flight. Outcomes are observed through
//! Temporal's own effects: the next run's last completion result and last failure,
//! `pause_on_failure` (Failed and TimedOut pause, Canceled and Terminated do not), overlap
//! policies waiting for closes. Time is a ManualClock; the worker is settled with
//! `settle_async`, so nothing blocks the runtime (a current-thread test would hang if it did).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::util::engine::{action_mut, mins};
use crate::util::facade::{at, every, trigger_only, wid};
use schedule_engine::{
    AsyncWorkflowRegistry, Client, ManualClock, Schedule, ScheduleDescription,
    ScheduleOverlapPolicy, Worker, WorkflowContext, WorkflowError,
};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

/// Runs each scenario on a current-thread and on a multi-thread runtime.
macro_rules! on_both_runtimes {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[tokio::test(flavor = "current_thread")]
            async fn current_thread() {
                super::$scenario().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn multi_thread() {
                super::$scenario().await;
            }
        }
    )*};
}

on_both_runtimes!(
    panics_fail_the_run_and_the_schedule_keeps_firing,
    results_errors_and_unknown_names_become_outcomes,
    cancel_other_reaches_the_run_as_a_cancellation,
    terminate_other_aborts_the_task,
    timeouts_end_runs_as_timed_out,
    shutdown_waits_for_runs_in_flight,
);

/// Awaits `f`, failing the test instead of hanging if it takes over 10 seconds.
async fn within<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .expect("timed out")
}

/// What a run saw when it started.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    workflow_id: String,
    last_failure: Option<String>,
    last_result: Option<serde_json::Value>,
}

fn seen(ctx: &WorkflowContext) -> Seen {
    Seen {
        workflow_id: ctx.workflow_id().to_owned(),
        last_failure: ctx.action().last_failure.as_deref().map(str::to_owned),
        last_result: ctx.last_completion_result().cloned(),
    }
}

/// A channel of [`Seen`]s, and a sender that workflows clone.
fn recorder() -> (UnboundedSender<Seen>, UnboundedReceiver<Seen>) {
    unbounded_channel()
}

struct Setup {
    client: Client,
    clock: ManualClock,
    registry: AsyncWorkflowRegistry,
    worker: Worker,
}

fn start(registry: AsyncWorkflowRegistry) -> Setup {
    let clock = ManualClock::new(at(0));
    let client = Client::builder().clock(clock.clone()).build().unwrap();
    let worker = Worker::start(&client, registry.clone());
    Setup {
        client,
        clock,
        registry,
        worker,
    }
}

impl Setup {
    /// Moves the clock, lets the worker dispatch what became due, and (with `finish`) waits
    /// for every run to end and its report to be applied.
    async fn advance_to(&self, secs: i64, finish: bool) {
        self.clock.set(at(secs));
        self.settle(finish).await;
    }

    async fn settle(&self, finish: bool) {
        within(self.worker.settle_async()).await;
        if finish {
            within(self.registry.idle()).await;
            within(self.worker.settle_async()).await;
        }
    }

    fn describe(&self, id: &str) -> ScheduleDescription {
        self.client.get_schedule_handle(id).describe().unwrap()
    }

    async fn shutdown(self) {
        within(self.registry.shutdown(self.worker)).await;
    }
}

fn with_workflow(mut s: Schedule, workflow: &str) -> Schedule {
    action_mut(&mut s).workflow = workflow.into();
    s
}

fn pausing_on_failure(mut s: Schedule) -> Schedule {
    s.policy.pause_on_failure = true;
    s
}

async fn panics_fail_the_run_and_the_schedule_keeps_firing() {
    let (tx, mut rx) = recorder();
    let registry = AsyncWorkflowRegistry::new(tokio::runtime::Handle::current()).register(
        "wf",
        move |ctx: WorkflowContext| {
            let tx = tx.clone();
            async move {
                tx.send(seen(&ctx)).unwrap();
                tokio::task::yield_now().await;
                if ctx.nominal_time() == at(300) {
                    panic!("kaboom");
                }
                Ok("fine")
            }
        },
    );
    let setup = start(registry);
    setup.client.create_schedule("s", every(mins(5))).unwrap();
    setup.advance_to(300, true).await;
    setup.advance_to(600, true).await;
    setup.advance_to(900, true).await;
    let runs: Vec<Seen> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
    assert_eq!(
        runs,
        [
            Seen {
                workflow_id: wid(300),
                last_failure: None,
                last_result: None,
            },
            Seen {
                workflow_id: wid(600),
                last_failure: Some("workflow panicked: kaboom".into()),
                last_result: None,
            },
            Seen {
                workflow_id: wid(900),
                last_failure: None,
                last_result: Some(serde_json::json!("fine")),
            },
        ]
    );
    let d = setup.describe("s");
    assert_eq!(d.info.num_actions, 3);
    assert!(d.info.running_actions.is_empty());
    setup.shutdown().await;
}

async fn results_errors_and_unknown_names_become_outcomes() {
    let (tx, mut rx) = recorder();
    let registry = AsyncWorkflowRegistry::new(tokio::runtime::Handle::current())
        .register("double", move |ctx: WorkflowContext| {
            let tx = tx.clone();
            async move {
                tx.send(seen(&ctx)).unwrap();
                let n: u64 = ctx.arg(0)?;
                Ok(n * 2)
            }
        })
        .register("err", |_ctx| async { Err::<(), _>("no luck".into()) })
        .register("unserializable", |_ctx| async {
            // A map with non-string keys has no JSON form.
            Ok(std::collections::BTreeMap::from([((1, 2), 3)]))
        });
    assert_eq!(
        registry.workflow_names().collect::<Vec<_>>(),
        ["double", "err", "unserializable"]
    );
    let setup = start(registry);

    let mut double = with_workflow(trigger_only(), "double");
    action_mut(&mut double).args = vec![serde_json::json!(21)];
    let handle = setup.client.create_schedule("ok", double).unwrap();
    for _ in 0..2 {
        handle.trigger(None).unwrap();
        setup.settle(true).await;
    }
    assert_eq!(rx.try_recv().unwrap().last_result, None);
    assert_eq!(
        rx.try_recv().unwrap().last_result,
        Some(serde_json::json!(42))
    );

    for (id, workflow, expected) in [
        ("e", "err", "no luck"),
        ("n", "unserializable", "workflow result is not serializable"),
        (
            "u",
            "missing",
            "unknown workflow type \"missing\" (registered: [\"double\", \"err\", \"unserializable\"])",
        ),
    ] {
        let s = pausing_on_failure(with_workflow(trigger_only(), workflow));
        setup
            .client
            .create_schedule(id, s)
            .unwrap()
            .trigger(None)
            .unwrap();
        setup.settle(true).await;
        let d = setup.describe(id);
        assert!(d.schedule.state.paused, "{id} failed");
        let note = d.schedule.state.note.unwrap();
        assert!(note.contains(expected), "{id}: {note}");
        assert!(d.info.running_actions.is_empty());
    }
    assert!(!handle.describe().unwrap().schedule.state.paused);
    setup.shutdown().await;
}

/// Schedule "s" every 5 minutes with `overlap`, pausing on failure: its 00:05 run starts, then
/// 00:10 comes while it runs. What the 00:10 run saw when it started.
async fn overlapping_runs(
    registry: AsyncWorkflowRegistry,
    rx: &mut UnboundedReceiver<Seen>,
    overlap: ScheduleOverlapPolicy,
) -> (Setup, Seen) {
    let setup = start(registry);
    let mut s = pausing_on_failure(every(mins(5)));
    s.policy.overlap = overlap;
    setup.client.create_schedule("s", s).unwrap();
    setup.advance_to(300, false).await;
    assert_eq!(within(rx.recv()).await.unwrap().workflow_id, wid(300));
    assert_eq!(setup.registry.in_flight(), 1);
    setup.advance_to(600, false).await;
    let second = within(rx.recv()).await.unwrap();
    assert_eq!(second.workflow_id, wid(600));
    (setup, second)
}

/// A registry whose workflow "wf" reports each start, then runs `first` for the 00:05 run and
/// completes the others at once.
fn first_run_does<F, Fut>(first: F) -> (AsyncWorkflowRegistry, UnboundedReceiver<Seen>)
where
    F: Fn(WorkflowContext) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), WorkflowError>> + Send + 'static,
{
    let (tx, rx) = recorder();
    let first = Arc::new(first);
    let registry = AsyncWorkflowRegistry::new(tokio::runtime::Handle::current()).register(
        "wf",
        move |ctx: WorkflowContext| {
            let (tx, first) = (tx.clone(), first.clone());
            async move {
                tx.send(seen(&ctx)).unwrap();
                if ctx.nominal_time() == at(300) {
                    first(ctx).await
                } else {
                    Ok(())
                }
            }
        },
    );
    (registry, rx)
}

async fn cancel_other_reaches_the_run_as_a_cancellation() {
    let honoured = Arc::new(AtomicBool::new(false));
    let flag = honoured.clone();
    let (registry, mut rx) = first_run_does(move |ctx| {
        let flag = flag.clone();
        async move {
            // It waits for its cancellation and honours it.
            ctx.cancelled().await;
            assert!(ctx.is_cancel_requested());
            flag.store(true, Ordering::SeqCst);
            Err("canceled".into())
        }
    });
    // 00:10 cancels the 00:05 run; it starts once that run has closed.
    let (setup, second) =
        overlapping_runs(registry, &mut rx, ScheduleOverlapPolicy::CancelOther).await;
    assert!(honoured.load(Ordering::SeqCst));
    // Canceled is not a failure: no last failure, no pause.
    assert_eq!(second.last_failure, None);
    setup.settle(true).await;
    let d = setup.describe("s");
    assert!(!d.schedule.state.paused);
    assert_eq!(d.info.num_actions, 2);
    assert!(d.info.running_actions.is_empty());
    setup.shutdown().await;
}

/// Sets its flag when dropped: shows that an aborted future was dropped.
struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

async fn terminate_other_aborts_the_task() {
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = dropped.clone();
    let (registry, mut rx) = first_run_does(move |_ctx| {
        let flag = flag.clone();
        async move {
            // Ignores cancellation: only an abort ends it.
            let _on_drop = SetOnDrop(flag);
            std::future::pending::<()>().await;
            Ok(())
        }
    });
    let (setup, second) =
        overlapping_runs(registry, &mut rx, ScheduleOverlapPolicy::TerminateOther).await;
    assert_eq!(second.last_failure, None, "Terminated is not a failure");
    setup.settle(true).await;
    assert!(
        dropped.load(Ordering::SeqCst),
        "the aborted future was dropped"
    );
    assert_eq!(setup.registry.in_flight(), 0);
    let d = setup.describe("s");
    assert!(!d.schedule.state.paused);
    assert!(d.info.running_actions.is_empty());
    setup.shutdown().await;
}

async fn timeouts_end_runs_as_timed_out() {
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = dropped.clone();
    let registry = AsyncWorkflowRegistry::new(tokio::runtime::Handle::current()).register(
        "slow",
        move |_ctx| {
            let flag = flag.clone();
            async move {
                let _on_drop = SetOnDrop(flag);
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Ok(())
            }
        },
    );
    let setup = start(registry);
    let limit = Duration::from_millis(30);
    for (id, execution, run) in [
        ("execution", Some(limit), None),
        ("run", None, Some(limit)),
        // The shorter of the two.
        ("both", Some(Duration::from_secs(7200)), Some(limit)),
    ] {
        let mut s = pausing_on_failure(with_workflow(trigger_only(), "slow"));
        let a = action_mut(&mut s);
        a.execution_timeout = execution;
        a.run_timeout = run;
        let handle = setup.client.create_schedule(id, s).unwrap();
        handle.trigger(None).unwrap();
        setup.settle(true).await;
        let d = handle.describe().unwrap();
        assert!(d.schedule.state.paused, "{id} timed out");
        assert_eq!(
            d.schedule.state.note.as_deref(),
            Some(
                format!(
                    "paused due to workflow timeout: {}",
                    d.info.recent_actions[0].action.workflow_id
                )
                .as_str()
            ),
        );
        assert!(d.info.running_actions.is_empty());
        assert!(
            dropped.swap(false, Ordering::SeqCst),
            "{id}: future dropped"
        );
    }
    setup.shutdown().await;
}

async fn shutdown_waits_for_runs_in_flight() {
    let (tx, mut rx) = recorder();
    let release = Arc::new(tokio::sync::Notify::new());
    let gate = release.clone();
    let registry = AsyncWorkflowRegistry::new(tokio::runtime::Handle::current()).register(
        "wf",
        move |ctx: WorkflowContext| {
            let (tx, gate) = (tx.clone(), gate.clone());
            async move {
                tx.send(seen(&ctx)).unwrap();
                gate.notified().await;
                Ok("released")
            }
        },
    );
    let Setup {
        client,
        clock,
        registry,
        worker,
    } = start(registry);
    let handle = client.create_schedule("s", every(mins(5))).unwrap();
    clock.set(at(300));
    worker.settle_async().await;
    assert_eq!(within(rx.recv()).await.unwrap().workflow_id, wid(300));
    let shutting_down = tokio::spawn({
        let registry = registry.clone();
        async move { registry.shutdown(worker).await }
    });
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
    assert!(!shutting_down.is_finished(), "a run is still in flight");
    assert_eq!(registry.in_flight(), 1);
    assert_eq!(handle.describe().unwrap().info.running_actions.len(), 1);
    // A stored permit: the run may not have reached its `notified().await` yet.
    release.notify_one();
    within(shutting_down).await.unwrap();
    assert_eq!(registry.in_flight(), 0);
    // The run's report reached the client after the worker stopped.
    let d = handle.describe().unwrap();
    assert!(d.info.running_actions.is_empty());
    assert_eq!(d.info.num_actions, 1);
    // Nothing more is dispatched once the worker has stopped.
    clock.set(at(600));
    assert!(rx.try_recv().is_err());
}

#[test]
fn a_task_dropped_with_its_runtime_is_a_failed_run() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let registry = AsyncWorkflowRegistry::new(runtime.handle().clone())
        .register("forever", |_ctx| std::future::pending::<Result<(), _>>());
    let clock = ManualClock::new(at(0));
    let client = Client::builder().clock(clock.clone()).build().unwrap();
    let worker = Worker::start(&client, registry.clone());
    let handle = client
        .create_schedule(
            "s",
            pausing_on_failure(with_workflow(trigger_only(), "forever")),
        )
        .unwrap();
    handle.trigger(None).unwrap();
    worker.settle();
    // The task is spawned, and then its runtime goes away before it ever finishes.
    runtime.block_on(tokio::task::yield_now());
    assert_eq!(registry.in_flight(), 1);
    drop(runtime);
    assert_eq!(registry.in_flight(), 0);
    worker.settle();
    let d = handle.describe().unwrap();
    assert!(d.info.running_actions.is_empty());
    let note = d.schedule.state.note.unwrap();
    assert!(
        note.contains("workflow task dropped before it finished"),
        "{note}"
    );
    worker.shutdown();
}
