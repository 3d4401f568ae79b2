//! [`Shared`]: what a client's clones, handles, completions and workers share: the clock, the
//! hosted scheduler and the workers' wake channels.
//!
//! Invariants:
//! - A mutation that makes the next wakeup sooner wakes every worker, so a worker never
//!   oversleeps a change.
//! - Every verb goes to the hosted scheduler that owns its schedule or workflow id
//!   ([`Shared::hosting`]); the worker polls and reports to all of them ([`Shared::poll`],
//!   [`Shared::workflows_closed`]). Today a client hosts one scheduler.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use crossbeam_channel::{Receiver, Sender, TrySendError};
use parking_lot::Mutex;

use crate::engine::{Action, ScheduleEvent, Scheduler, WorkflowOutcome};

use super::clock::{Clock, Pace};
use super::durable::Durable;
use super::hosted::HostedScheduler;

/// What clients, handles, completions and workers share.
pub(crate) struct Shared {
    pub(crate) clock: Arc<dyn Clock>,
    /// How the workers wait on `clock`.
    pub(crate) pace: Pace,
    /// One wake channel per running worker (capacity 1: a pending wake is enough).
    wakers: Mutex<Vec<Sender<()>>>,
    hosted: HostedScheduler,
}

impl Shared {
    pub(crate) fn new(clock: Arc<dyn Clock>, pace: Pace, hosted: HostedScheduler) -> Self {
        Shared {
            clock,
            pace,
            wakers: Mutex::new(Vec::new()),
            hosted,
        }
    }

    /// The hosted scheduler that owns schedule or workflow id `_id`.
    fn hosting(&self, _id: &str) -> &HostedScheduler {
        &self.hosted
    }

    /// Runs a mutation of schedule or workflow `id` (see [`HostedScheduler::with_scheduler`]),
    /// then reports a failed batch and wakes the workers if the next wakeup moved earlier.
    pub(crate) fn with_scheduler<R: Durable>(
        &self,
        id: &str,
        f: impl FnOnce(&mut Scheduler, DateTime<Utc>) -> R,
    ) -> R {
        let hosted = self.hosting(id);
        let (result, after) = hosted.with_scheduler(&*self.clock, f);
        hosted.report(after.failure);
        if after.sooner {
            self.wake_workers();
        }
        result
    }

    /// Read-only access to the scheduler owning `id` (describe).
    pub(crate) fn read_scheduler<R>(
        &self,
        id: &str,
        f: impl FnOnce(&Scheduler, DateTime<Utc>) -> R,
    ) -> R {
        self.hosting(id).read_scheduler(&*self.clock, f)
    }

    /// Every schedule of every hosted scheduler, in the order `f` gives them.
    pub(crate) fn read_all<T>(&self, f: impl Fn(&Scheduler, DateTime<Utc>) -> Vec<T>) -> Vec<T> {
        self.hosted.read_scheduler(&*self.clock, f)
    }

    /// Everything due now in every hosted scheduler, and when to poll next.
    pub(crate) fn poll(&self) -> (Vec<Action>, Option<DateTime<Utc>>) {
        let hosted = &self.hosted;
        let (result, after) =
            hosted.with_scheduler(&*self.clock, |s, now| (s.poll(now), s.next_wakeup()));
        hosted.report(after.failure);
        if after.sooner {
            self.wake_workers();
        }
        result
    }

    /// Reports closed runs to their schedulers, all under one lock each, and empties `closed`.
    /// They are taken out only once the clock has been read, so a panicking clock loses none.
    pub(crate) fn workflows_closed(&self, closed: &mut Vec<(String, WorkflowOutcome)>) {
        self.with_scheduler("", |s, now| {
            for (workflow_id, outcome) in closed.drain(..) {
                // A run the scheduler does not know (deleted schedule, duplicate report) is
                // not an error worth surfacing to an executor.
                let _ = s.workflow_closed(&workflow_id, outcome, now);
            }
        });
    }

    /// A subscriber to the events of every hosted scheduler.
    pub(crate) fn subscribe(&self) -> Receiver<ScheduleEvent> {
        self.hosted.subscribe()
    }

    /// A new worker's wake channel.
    pub(crate) fn register_worker(&self) -> (Sender<()>, Receiver<()>) {
        let (tx, rx) = crossbeam_channel::bounded(1);
        self.wakers.lock().push(tx.clone());
        (tx, rx)
    }

    fn wake_workers(&self) {
        self.wakers
            .lock()
            .retain(|w| !matches!(w.try_send(()), Err(TrySendError::Disconnected(()))));
    }
}

impl Drop for Shared {
    /// The last client, handle, worker and completion are gone: write what is still deferred
    /// (outcomes reported after the last poll).
    fn drop(&mut self) {
        self.hosted.flush(&*self.clock);
    }
}
