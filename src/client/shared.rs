//! [`Shared`]: what a client's clones, handles, completions and workers share: the clock, what
//! the client hosts (one scheduler, or in cluster mode one per partition held) and the
//! workers' wake channels.
//!
//! Invariants:
//! - A mutation that makes the next wakeup sooner wakes every worker, so a worker never
//!   oversleeps a change.
//! - Every mutation is a [`Verb`] applied by the scheduler that owns its schedule or workflow
//!   id: the client's own, or in cluster mode the one of the partition the id hashes to, here
//!   or on the node that holds it. Completions go back to the scheduler their start came from
//!   ([`Origin`]).
//! - An action is dispatched only while its origin may dispatch ([`Shared::may_dispatch`]):
//!   always for a client's own scheduler; in cluster mode while this node's lease on the
//!   partition holds locally.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use crossbeam_channel::{Receiver, Sender};

use crate::engine::{
    Action, ScheduleDescription, ScheduleEvent, ScheduleListDescription, WorkflowOutcome,
};
use crate::error::ScheduleError;

use super::clock::{Clock, Pace};
use super::exchange::{Origin, Polled, PolledAll, Report, Wakers};
use super::hosted::HostedScheduler;
use super::verb::Verb;

#[cfg(feature = "postgres")]
use super::cluster::ClusterNode;

/// What a client hosts.
#[allow(clippy::large_enum_variant, reason = "one per client, never moved")]
pub(crate) enum Hosting {
    /// One scheduler, with or without a store.
    Local(HostedScheduler),
    /// A node of a cluster: one scheduler per partition this node holds.
    #[cfg(feature = "postgres")]
    Cluster(Arc<ClusterNode>),
}

/// What clients, handles, completions and workers share.
pub(crate) struct Shared {
    pub(crate) clock: Arc<dyn Clock>,
    /// How the workers wait on `clock`.
    pub(crate) pace: Pace,
    wakers: Arc<Wakers>,
    pub(crate) hosting: Hosting,
}

impl Shared {
    pub(crate) fn new(clock: Arc<dyn Clock>, pace: Pace, hosting: Hosting) -> Self {
        Shared {
            clock,
            pace,
            wakers: Arc::new(Wakers::default()),
            hosting,
        }
    }

    /// Applies a mutation on the scheduler owning its id (see [`HostedScheduler::with_scheduler`]
    /// for the local case), reports a failed batch and wakes the workers if the next wakeup
    /// moved earlier.
    pub(crate) fn apply(&self, verb: Verb) -> Result<(), ScheduleError> {
        let _span =
            tracing::debug_span!("schedule_engine.verb", verb = verb.name(), id = verb.key())
                .entered();
        let result = self.route(verb);
        match &result {
            Ok(()) => tracing::debug!("applied"),
            Err(ScheduleError::Store(error)) => {
                tracing::warn!(%error, "applied in memory, not stored");
            }
            Err(error) => tracing::debug!(%error, "refused"),
        }
        result
    }

    /// [`Shared::apply`] without its tracing: the local scheduler or the owner.
    fn route(&self, verb: Verb) -> Result<(), ScheduleError> {
        match &self.hosting {
            Hosting::Local(hosted) => {
                let (result, after) =
                    hosted.with_scheduler(&*self.clock, |s, now| verb.apply(s, now));
                hosted.report(after.failure);
                if after.sooner {
                    self.wake_workers();
                }
                result
            }
            #[cfg(feature = "postgres")]
            Hosting::Cluster(node) => node.apply(&*self.clock, &self.wakers, verb),
        }
    }

    /// The description of schedule `id`.
    pub(crate) fn describe(&self, id: &str) -> Result<ScheduleDescription, ScheduleError> {
        match &self.hosting {
            Hosting::Local(hosted) => {
                hosted.read_scheduler(&*self.clock, |s, now| s.describe(id, now))
            }
            #[cfg(feature = "postgres")]
            Hosting::Cluster(node) => node.describe(&*self.clock, id),
        }
    }

    /// Every schedule, ordered by id.
    pub(crate) fn list(&self) -> Vec<ScheduleListDescription> {
        match &self.hosting {
            Hosting::Local(hosted) => {
                hosted.read_scheduler(&*self.clock, |s, now| s.list_schedules(now))
            }
            #[cfg(feature = "postgres")]
            Hosting::Cluster(node) => node.list(&*self.clock),
        }
    }

    /// Everything due now in every hosted scheduler, and when to poll next.
    pub(crate) fn poll(&self) -> (PolledAll, Option<DateTime<Utc>>) {
        match &self.hosting {
            Hosting::Local(hosted) => {
                let (result, after) =
                    hosted.with_scheduler(&*self.clock, |s, now| (s.poll(now), s.next_wakeup()));
                hosted.report(after.failure);
                if after.sooner {
                    self.wake_workers();
                }
                let (actions, wakeup) = result;
                let polled = Polled {
                    origin: Origin::LOCAL,
                    actions,
                };
                (smallvec::smallvec![polled], wakeup)
            }
            #[cfg(feature = "postgres")]
            Hosting::Cluster(node) => node.poll(&*self.clock),
        }
    }

    /// Whether `action`, from `origin`, may be dispatched now. In cluster mode, `false` once
    /// this node's lease on the partition has ended locally (the partition's scheduler is
    /// dropped then, and its next owner redelivers the actions: they are durable) or its
    /// hand-over has begun.
    pub(crate) fn may_dispatch(&self, origin: Origin, action: &Action) -> bool {
        let _ = (origin, action);
        match &self.hosting {
            Hosting::Local(_) => true,
            #[cfg(feature = "postgres")]
            Hosting::Cluster(node) => node.may_dispatch(origin, action),
        }
    }

    /// Reports closed runs to their schedulers, all under one lock each, and empties `closed`.
    /// They are taken out only once the clock has been read, so a panicking clock loses none.
    pub(crate) fn workflows_closed(&self, closed: &mut Vec<Report>) {
        match &self.hosting {
            Hosting::Local(hosted) => {
                let (_, after) = hosted.with_scheduler(&*self.clock, |s, now| {
                    for (_, workflow_id, outcome) in closed.drain(..) {
                        // Traced as it is taken out: a retry after a panicking clock traces
                        // each run once.
                        trace_closed(&workflow_id, &outcome);
                        // A run the scheduler does not know (deleted schedule, duplicate
                        // report) is not an error worth surfacing to an executor.
                        let _ = s.workflow_closed(&workflow_id, outcome, now);
                    }
                });
                hosted.report(after.failure);
                if after.sooner {
                    self.wake_workers();
                }
            }
            #[cfg(feature = "postgres")]
            Hosting::Cluster(node) => {
                for (_, workflow_id, outcome) in closed.iter() {
                    trace_closed(workflow_id, outcome);
                }
                node.workflows_closed(&*self.clock, &self.wakers, closed);
            }
        }
    }

    /// A worker starts: in cluster mode the node joins (with its first worker).
    pub(crate) fn start_hosting(&self) {
        #[cfg(feature = "postgres")]
        if let Hosting::Cluster(node) = &self.hosting {
            node.start_hosting(node, &self.clock, &self.wakers);
        }
    }

    /// A worker stopped: in cluster mode the node writes every partition's state and leaves
    /// (with its last worker).
    pub(crate) fn stop_hosting(&self) {
        #[cfg(feature = "postgres")]
        if let Hosting::Cluster(node) = &self.hosting {
            node.stop_hosting(&*self.clock);
        }
    }

    /// A subscriber to the events of every hosted scheduler.
    pub(crate) fn subscribe(&self) -> Receiver<ScheduleEvent> {
        match &self.hosting {
            Hosting::Local(hosted) => hosted.subscribe(),
            #[cfg(feature = "postgres")]
            Hosting::Cluster(node) => node.subscribe(),
        }
    }

    /// A new worker's wake channel.
    pub(crate) fn register_worker(&self) -> (Sender<()>, Receiver<()>) {
        self.wakers.register()
    }

    fn wake_workers(&self) {
        self.wakers.wake();
    }
}

/// A run's end as a tracing event: failures and timeouts warn, the rest is detail.
fn trace_closed(workflow_id: &str, outcome: &WorkflowOutcome) {
    match outcome {
        WorkflowOutcome::Completed { .. } => tracing::debug!(workflow_id, "run completed"),
        WorkflowOutcome::Failed { message } => {
            tracing::warn!(workflow_id, failure = message.as_str(), "run failed");
        }
        WorkflowOutcome::TimedOut => tracing::warn!(workflow_id, "run timed out"),
        WorkflowOutcome::Canceled => tracing::info!(workflow_id, "run canceled"),
        WorkflowOutcome::Terminated => tracing::info!(workflow_id, "run terminated"),
    }
}

impl Drop for Shared {
    /// The last client, handle, worker and completion are gone: write what is still deferred
    /// (outcomes reported after the last poll).
    fn drop(&mut self) {
        match &mut self.hosting {
            Hosting::Local(hosted) => hosted.flush(&*self.clock),
            #[cfg(feature = "postgres")]
            Hosting::Cluster(_) => {}
        }
    }
}
