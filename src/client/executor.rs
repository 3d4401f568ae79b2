//! The user's seam: a [`WorkflowExecutor`] runs the actions a [`Worker`](crate::Worker) polls,
//! and reports each run's end through its [`Completion`].
//!
//! Invariants: every started run is reported exactly once. A [`Completion`] reports on
//! [`complete`](Completion::complete) or, failing that, when dropped (as a failed run), so a
//! lost or panicking run never stays "running" forever. Reports go to the worker over a
//! channel; once the worker has shut down they are applied to the client directly, so none is
//! lost.

use std::fmt;
use std::sync::Arc;

use crossbeam_channel::Sender;
use parking_lot::RwLock;

use crate::engine::{
    CancelWorkflowAction, StartWorkflowAction, TerminateWorkflowAction, WorkflowOutcome,
};

use super::exchange::Report;
use super::shared::Shared;

/// Runs workflows for a [`Worker`](crate::Worker): the seam where the user's code starts.
///
/// Methods are called on the worker's thread, one at a time and never while a lock is held, so
/// they may call into the [`Client`](crate::Client). They should return quickly (hand the work
/// to a thread, pool or async runtime): while one runs, nothing else is dispatched. A panic is
/// caught and the worker goes on; a start that panics while it still holds its [`Completion`]
/// is recorded as a failed run (the completion is dropped by the unwinding).
///
/// For plain Rust closures, [`WorkflowRegistry`](crate::WorkflowRegistry) implements this trait.
pub trait WorkflowExecutor: Send + 'static {
    /// Starts a run. Report its end, from any thread and at any time, with
    /// [`Completion::complete`]; the schedule counts it as running until then.
    fn start_workflow(&mut self, action: StartWorkflowAction, completion: Completion);

    /// Requests cancellation of a running run (overlap policy `CancelOther`). The run should end
    /// and report [`WorkflowOutcome::Canceled`]; the next start waits for that report.
    fn cancel_workflow(&mut self, action: CancelWorkflowAction);

    /// Terminates a running run (overlap policy `TerminateOther`). Its completion should report
    /// [`WorkflowOutcome::Terminated`] promptly; the next start waits for that report.
    fn terminate_workflow(&mut self, action: TerminateWorkflowAction);
}

/// The pending report of one run's end, handed to [`WorkflowExecutor::start_workflow`].
///
/// `Send`, so it can travel with the work to another thread. Dropping it without calling
/// [`complete`](Completion::complete) reports the run as failed ("completion dropped", or
/// "executor panicked" when dropped by a panic).
#[must_use = "a dropped Completion reports the run as failed"]
pub struct Completion {
    workflow_id: String,
    /// The partition whose scheduler started the run (0 outside a cluster).
    partition: u32,
    sink: Option<Arc<CompletionSink>>,
}

impl Completion {
    pub(crate) fn new(workflow_id: String, partition: u32, sink: Arc<CompletionSink>) -> Self {
        Completion {
            workflow_id,
            partition,
            sink: Some(sink),
        }
    }

    /// The workflow id of the run this completion reports.
    pub fn workflow_id(&self) -> &str {
        &self.workflow_id
    }

    /// Reports how the run ended.
    pub fn complete(mut self, outcome: WorkflowOutcome) {
        self.report(outcome);
    }

    fn report(&mut self, outcome: WorkflowOutcome) {
        if let Some(sink) = self.sink.take() {
            sink.report((
                self.partition,
                std::mem::take(&mut self.workflow_id),
                outcome,
            ));
        }
    }
}

impl Drop for Completion {
    fn drop(&mut self) {
        if self.sink.is_some() {
            // The panic's own message has gone to stderr through the panic hook.
            let message = if std::thread::panicking() {
                "executor panicked"
            } else {
                "completion dropped"
            };
            self.report(WorkflowOutcome::Failed {
                message: message.into(),
            });
        }
    }
}

impl fmt::Debug for Completion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Completion")
            .field("workflow_id", &self.workflow_id)
            .field("reported", &self.sink.is_none())
            .finish()
    }
}

/// Where completions go: the worker's channel while it runs, the client itself after.
pub(crate) struct CompletionSink {
    /// `None` once the worker stopped taking reports. Senders hold the read lock while sending,
    /// so once the worker has taken the write lock to close it, the channel holds every report
    /// it will ever get.
    to_worker: RwLock<Option<Sender<Report>>>,
    client: Arc<Shared>,
}

impl CompletionSink {
    pub(crate) fn new(to_worker: Sender<Report>, client: Arc<Shared>) -> Self {
        CompletionSink {
            to_worker: RwLock::new(Some(to_worker)),
            client,
        }
    }

    /// Stops routing reports to the worker; later reports go straight to the client.
    pub(crate) fn close(&self) {
        *self.to_worker.write() = None;
    }

    fn report(&self, report: Report) {
        let report = {
            let to_worker = self.to_worker.read();
            match to_worker.as_ref() {
                Some(tx) => match tx.send(report) {
                    Ok(()) => return,
                    Err(returned) => returned.0,
                },
                None => report,
            }
        };
        self.client.workflows_closed(&mut vec![report]);
    }
}
