//! [`Worker`]: a thread that drives the scheduler for a [`Client`] and runs its actions through
//! a [`WorkflowExecutor`].
//!
//! The loop, in order: apply every reported completion (a closed run can release a buffered
//! start), poll, dispatch what came out, then sleep until the next wakeup, a report, or a wake
//! (a change that moved the next wakeup earlier, a jump of a manual clock, shutdown).
//!
//! Invariants: completions are applied before each poll (and, with a slow executor, during a
//! long dispatch); on shutdown the completion sink is
//! closed before the final drain, so every report is applied exactly once, by the worker or
//! (after it stopped) by the client directly.

use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TrySendError};

use crate::engine::Action;

use super::client::Client;
use super::exchange::Report;
use super::executor::{Completion, CompletionSink, WorkflowExecutor};
use super::latch::{Latch, OpenOnDrop};
use super::shared::Shared;

/// While the executor takes its time over one poll's actions, completions reported meanwhile
/// are applied at least this often (the fast path applies them once, after the batch).
const APPLY_DURING_DISPATCH: Duration = Duration::from_millis(2);

/// The longest the worker sleeps on a real-time clock before it reads the clock again, so that
/// a wall-clock jump (NTP, suspend) delays due work by at most this much.
const MAX_SLEEP: Duration = Duration::from_secs(1);

/// A background thread that polls a [`Client`]'s scheduler and dispatches its actions to a
/// [`WorkflowExecutor`], feeding completions back.
///
/// Start one per client. Several workers on one client are allowed and share the work (each
/// action goes to exactly one of them), but gain nothing over one.
///
/// ```
/// use schedule_engine::{Client, StartWorkflowOptions, Worker, WorkflowRegistry};
///
/// let client = Client::new();
/// let (done_tx, done_rx) = std::sync::mpsc::channel();
/// let done_tx = std::sync::Mutex::new(done_tx);
/// let registry = WorkflowRegistry::new().register("hello", move |ctx| {
///     done_tx.lock().unwrap().send(ctx.workflow_id().to_owned()).unwrap();
///     Ok(serde_json::json!("hi"))
/// });
/// let worker = Worker::start(&client, registry);
/// client.start_workflow(StartWorkflowOptions {
///     workflow: "hello".into(),
///     id: "hello-1".into(),
///     task_queue: "q".into(),
///     ..Default::default()
/// })?;
/// assert_eq!(done_rx.recv().unwrap(), "hello-1");
/// worker.shutdown();
/// # Ok::<(), schedule_engine::ScheduleError>(())
/// ```
pub struct Worker {
    stop: Arc<AtomicBool>,
    wake: Sender<()>,
    settle: Sender<OpenOnDrop>,
    /// Opens when the worker thread ends.
    exited: Arc<Latch>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// Starts a worker thread for `client` that runs actions through `executor`.
    ///
    /// # Panics
    /// If the operating system cannot spawn a thread.
    #[must_use = "dropping a Worker stops it"]
    pub fn start<E: WorkflowExecutor>(client: &Client, executor: E) -> Worker {
        let inner = client.inner().clone();
        inner.start_hosting();
        let (wake, wake_rx) = inner.register_worker();
        let clock_wake = wake.clone();
        inner.pace.on_jump(move || {
            !matches!(clock_wake.try_send(()), Err(TrySendError::Disconnected(())))
        });
        let stop = Arc::new(AtomicBool::new(false));
        let (settle, settle_rx) = crossbeam_channel::unbounded();
        let signals = Signals {
            wake: wake_rx,
            settle: settle_rx,
            stop: stop.clone(),
        };
        let exited = Arc::new(Latch::default());
        let on_exit = OpenOnDrop(exited.clone());
        #[allow(clippy::disallowed_methods, reason = "a Worker is a thread")]
        let thread = std::thread::Builder::new()
            .name("schedule-engine-worker".into())
            .spawn({
                let inner = inner.clone();
                move || {
                    let _on_exit = on_exit;
                    // Dropped before `_on_exit` (even on a panic): the node has left the cluster
                    // by the time `exited` opens, however the worker is stopped or awaited.
                    let _leave = StopHostingOnDrop(inner.clone());
                    run(inner, executor, signals);
                }
            })
            .expect("failed to spawn the worker thread");
        Worker {
            stop,
            wake,
            settle,
            exited,
            thread: Some(thread),
        }
    }

    /// Blocks until the worker has polled at (or after) the clock's current time, dispatched
    /// what was due and applied the completions reported so far. With a
    /// [`ManualClock`](crate::ManualClock), "advance, then settle" makes tests and simulations
    /// deterministic.
    ///
    /// It waits for the executor's calls, not for runs that complete later.
    pub fn settle(&self) {
        let on_worker_thread = self
            .thread
            .as_ref()
            .is_some_and(|t| t.thread().id() == std::thread::current().id());
        if on_worker_thread {
            // Called by the executor: waiting for this very thread would never end.
            return;
        }
        self.request_settle().wait();
    }

    /// [`settle`](Worker::settle) for async code: the returned future completes when the
    /// worker has settled, and waiting for it blocks no thread. It works on any runtime (or
    /// none) and needs no `Worker` borrow while pending.
    pub fn settle_async(&self) -> impl Future<Output = ()> + Send + 'static {
        self.request_settle().opened()
    }

    /// Asks the worker to settle; the latch opens once it has (or once its thread is gone).
    fn request_settle(&self) -> Arc<Latch> {
        let done = Arc::new(Latch::default());
        // On a send error the request is dropped at once, which opens the latch: the worker
        // thread is gone and there is nothing left to wait for.
        let _ = self.settle.send(OpenOnDrop(done.clone()));
        done
    }

    /// Stops the worker gracefully: actions already polled are dispatched, completions already
    /// reported are applied, and the executor is dropped (a
    /// [`WorkflowRegistry`](crate::WorkflowRegistry) waits for its running closures). Runs that
    /// complete later are applied to the client directly. Due actions not yet polled stay in
    /// the scheduler for the next worker.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    /// [`shutdown`](Worker::shutdown) for async code: the same steps, and the returned future
    /// completes when the worker thread has ended, without blocking a thread meanwhile (its
    /// last step, dropping the executor, must not wait on the awaiting runtime either: an
    /// [`AsyncWorkflowRegistry`](crate::AsyncWorkflowRegistry) does not). Works on any runtime.
    pub fn shutdown_async(mut self) -> impl Future<Output = ()> + Send + 'static {
        let thread = self.signal_stop();
        let exited = self.exited.clone().opened();
        async move {
            exited.await;
            // The thread has passed its last statement (in cluster mode, its leaving was
            // written before `exited` opened): this join returns at once.
            join(thread);
        }
    }

    fn stop_and_join(&mut self) {
        let thread = self.signal_stop();
        join(thread);
    }

    /// Tells the thread to stop; its handle, unless it was stopped before.
    fn signal_stop(&mut self) -> Option<JoinHandle<()>> {
        let thread = self.thread.take()?;
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.wake.try_send(());
        Some(thread)
    }
}

/// Waits for the worker thread to end (in cluster mode it has written every partition's state
/// and left on its way out, so that the other nodes take its partitions at once).
fn join(thread: Option<JoinHandle<()>>) {
    let Some(thread) = thread else {
        return;
    };
    let joined = thread.join();
    // A panic on the worker thread outside the executor is a bug in this crate; re-raising it
    // here would abort a caller that is already unwinding, so it is only reported.
    if joined.is_err() && !std::thread::panicking() {
        panic!("schedule-engine worker thread panicked");
    }
}

/// Leaves the cluster (when hosting one) as the worker thread ends: done by the thread itself,
/// so that a stop whose caller never waits for the end (a dropped `shutdown_async` future)
/// still leaves.
struct StopHostingOnDrop(Arc<Shared>);

impl Drop for StopHostingOnDrop {
    fn drop(&mut self) {
        self.0.stop_hosting();
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

impl fmt::Debug for Worker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worker")
            .field("running", &self.thread.is_some())
            .finish()
    }
}

/// What wakes or steers the worker thread besides completions.
struct Signals {
    wake: Receiver<()>,
    settle: Receiver<OpenOnDrop>,
    stop: Arc<AtomicBool>,
}

#[allow(
    clippy::disallowed_methods,
    reason = "completions are applied during a long dispatch every few milliseconds of real time"
)]
fn run<E: WorkflowExecutor>(inner: Arc<Shared>, mut executor: E, signals: Signals) {
    let Signals { wake, settle, stop } = signals;
    tracing::debug!("worker started");
    let (report_tx, reports) = crossbeam_channel::unbounded::<Report>();
    let sink = Arc::new(CompletionSink::new(report_tx, inner.clone()));
    let mut pending: Vec<Report> = Vec::new();
    // Settle requests received before this iteration's poll; answered once it has finished.
    let mut settling: Vec<OpenOnDrop> = Vec::new();
    loop {
        settling.extend(settle.try_iter());
        pending.extend(reports.try_iter());
        if !pending.is_empty() {
            contained(|| inner.workflows_closed(&mut pending));
        }
        if stop.load(Ordering::SeqCst) {
            break;
        }
        // User code (the clock) may panic in here: the worker then waits and tries again.
        let timeout = contained(|| {
            // The poll reads the clock again, at or after this.
            let poll_floor = inner.clock.now();
            let (polled, next_wakeup) = inner.poll();
            tracing::trace!(
                actions = polled.iter().map(|p| p.actions.len()).sum::<usize>(),
                next_wakeup = ?next_wakeup,
                "polled"
            );
            // A wakeup the poll had reached but that yielded nothing would make this loop spin;
            // the scheduler promises it does not happen, and this makes sure.
            let stalled = polled.iter().all(|p| p.actions.is_empty())
                && next_wakeup.is_some_and(|t| t <= poll_floor);
            let mut applied = Instant::now();
            let actions = polled
                .into_iter()
                .flat_map(|p| p.actions.into_iter().map(move |a| (p.origin, a)));
            for (origin, action) in actions {
                // In cluster mode, a partition whose lease ended locally, or that is being
                // handed over, dispatches nothing more: its next owner redelivers these.
                if !inner.may_dispatch(origin, &action) {
                    continue;
                }
                dispatch(&mut executor, action, origin.partition, &sink);
                // A slow executor: runs that closed meanwhile are applied (and, on an idle
                // store, written) now, not after the whole batch, so that a crash re-delivers
                // as few closed runs as possible.
                if applied.elapsed() >= APPLY_DURING_DISPATCH && !reports.is_empty() {
                    pending.extend(reports.try_iter());
                    inner.workflows_closed(&mut pending);
                    applied = Instant::now();
                }
            }
            if stalled {
                Some(MAX_SLEEP)
            } else {
                next_wakeup
                    .and_then(|t| inner.pace.real_time_until(&*inner.clock, t))
                    .map(|d| d.min(MAX_SLEEP))
            }
        })
        .unwrap_or(Some(MAX_SLEEP));
        if !reports.is_empty() {
            continue;
        }
        // Answered by dropping.
        settling.clear();
        match timeout {
            Some(timeout) => crossbeam_channel::select! {
                recv(reports) -> r => pending.extend(r),
                recv(wake) -> _ => {},
                recv(settle) -> done => settling.extend(done),
                default(timeout) => {},
            },
            None => crossbeam_channel::select! {
                recv(reports) -> r => pending.extend(r),
                recv(wake) -> _ => {},
                recv(settle) -> done => settling.extend(done),
            },
        }
    }
    sink.close();
    pending.extend(reports.try_iter());
    if !pending.is_empty() {
        contained(|| inner.workflows_closed(&mut pending));
    }
    // Dropping the executor here lets it finish its runs (a registry joins its pool); their
    // completions go straight to the client now that the sink is closed. Its panic is user code.
    let _ = catch_unwind(AssertUnwindSafe(move || drop(executor)));
    tracing::debug!("worker stopped");
}

/// Runs one step of the loop, containing a panic of user code reached from it (a `Clock`; the
/// store's and the executor's are contained where they are called): the panic is reported on
/// standard error and the worker goes on. `None` when it panicked.
fn contained<T>(step: impl FnOnce() -> T) -> Option<T> {
    match catch_unwind(AssertUnwindSafe(step)) {
        Ok(value) => Some(value),
        Err(panic) => {
            let panic = crate::store::panic_message(panic.as_ref());
            tracing::error!(panic, "a panic in user code reached the worker; retrying");
            eprintln!("schedule-engine worker: a panic in user code ({panic}); retrying");
            None
        }
    }
}

/// A cancel or terminate on its way to the executor, as a tracing event.
fn trace_stop(how: &'static str, workflow_id: &str, schedule_id: Option<&str>, reason: &str) {
    tracing::info!(how, workflow_id, schedule_id, reason, "stopping run");
}

/// Hands one action to the executor. A panic is contained: a start that panicked dropped its
/// completion while unwinding, which reported the run as failed.
fn dispatch<E: WorkflowExecutor>(
    executor: &mut E,
    action: Action,
    partition: u32,
    sink: &Arc<CompletionSink>,
) {
    let dispatched = catch_unwind(AssertUnwindSafe(|| match action {
        Action::StartWorkflow(start) => {
            tracing::debug!(
                workflow_id = start.workflow_id.as_str(),
                schedule_id = start.schedule_id.as_deref(),
                workflow = &*start.workflow,
                nominal_time = %start.nominal_time,
                manual = start.manual,
                "starting run"
            );
            let completion = Completion::new(start.workflow_id.clone(), partition, sink.clone());
            executor.start_workflow(start, completion);
        }
        Action::CancelWorkflow(c) => {
            trace_stop(
                "cancel",
                &c.workflow_id,
                c.schedule_id.as_deref(),
                &c.reason,
            );
            executor.cancel_workflow(c);
        }
        Action::TerminateWorkflow(t) => {
            trace_stop(
                "terminate",
                &t.workflow_id,
                t.schedule_id.as_deref(),
                &t.reason,
            );
            executor.terminate_workflow(t);
        }
    }));
    if let Err(panic) = dispatched {
        tracing::error!(
            panic = crate::store::panic_message(panic.as_ref()),
            "the executor panicked"
        );
    }
}
