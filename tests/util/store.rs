//! Helpers of the store tests: an executor that sends every start to a channel, a store that
//! can be made to fail, a schedule builder and a bounded wait.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use schedule_engine::store::{MemoryStore, Store, StoreChange, StoredRecord};
use schedule_engine::{
    CancelWorkflowAction, Completion, Schedule, ScheduleAction, ScheduleActionStartWorkflow,
    ScheduleIntervalSpec, ScheduleOverlapPolicy, SchedulePolicy, ScheduleSpec, StartWorkflowAction,
    StoreError, TerminateWorkflowAction, WorkflowOutcome,
};

/// A schedule starting workflow `w` with id prefix `action_id` every `every`.
pub fn every_as(
    action_id: &str,
    every: Duration,
    overlap: ScheduleOverlapPolicy,
    catchup_window: Duration,
) -> Schedule {
    Schedule {
        action: ScheduleAction::StartWorkflow(ScheduleActionStartWorkflow {
            workflow: "w".into(),
            id: action_id.into(),
            task_queue: "q".into(),
            ..Default::default()
        }),
        spec: ScheduleSpec {
            intervals: vec![ScheduleIntervalSpec::new(every)],
            ..Default::default()
        },
        policy: SchedulePolicy {
            overlap,
            catchup_window,
            ..Default::default()
        },
        ..Default::default()
    }
}

/// Sends every start's workflow id to a channel; completes each run at once, or keeps its
/// completion unreported (as a run that is still going, or that a crash interrupted).
pub struct StartChannel {
    pub starts: mpsc::Sender<StartWorkflowAction>,
    pub complete: bool,
}

impl StartChannel {
    pub fn new(complete: bool) -> (StartChannel, mpsc::Receiver<StartWorkflowAction>) {
        let (tx, rx) = mpsc::channel();
        (
            StartChannel {
                starts: tx,
                complete,
            },
            rx,
        )
    }
}

impl schedule_engine::WorkflowExecutor for StartChannel {
    fn start_workflow(&mut self, action: StartWorkflowAction, completion: Completion) {
        let _ = self.starts.send(action);
        if self.complete {
            completion.complete(WorkflowOutcome::Completed { result: None });
        } else {
            // Never reported: the run stays running, as if the process died under it.
            std::mem::forget(completion);
        }
    }

    fn cancel_workflow(&mut self, _action: CancelWorkflowAction) {}

    fn terminate_workflow(&mut self, _action: TerminateWorkflowAction) {}
}

/// A `MemoryStore` whose writes fail while `failing` is set, counting the failures.
#[derive(Clone, Default)]
pub struct FlakyStore {
    pub inner: MemoryStore,
    pub failing: Arc<AtomicBool>,
    pub failures: Arc<AtomicUsize>,
    pub batches: Arc<AtomicUsize>,
}

impl Store for FlakyStore {
    fn load(&mut self) -> Result<Vec<StoredRecord>, StoreError> {
        self.inner.load()
    }

    fn persist(&mut self, changes: &[StoreChange]) -> Result<(), StoreError> {
        if self.failing.load(Ordering::SeqCst) {
            self.failures.fetch_add(1, Ordering::SeqCst);
            return Err(StoreError::io(None, "disk full (simulated)"));
        }
        self.batches.fetch_add(1, Ordering::SeqCst);
        self.inner.persist(changes)
    }
}

/// Waits up to 20 s for `cond`; panics with `what` otherwise.
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Receives `n` starts (20 s at most each); returns their workflow ids in arrival order.
pub fn recv_ids(rx: &mpsc::Receiver<StartWorkflowAction>, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            rx.recv_timeout(Duration::from_secs(20))
                .unwrap_or_else(|_| panic!("start {} of {n} did not arrive", i + 1))
                .workflow_id
        })
        .collect()
}

/// Asserts nothing more arrives within a short while.
pub fn assert_no_more(rx: &mpsc::Receiver<StartWorkflowAction>) {
    if let Ok(a) = rx.recv_timeout(Duration::from_millis(300)) {
        panic!("unexpected start {}", a.workflow_id);
    }
}
