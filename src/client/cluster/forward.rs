//! [`Forwarder`]: closed runs of partitions no longer hosted here, sent to their owners as
//! commands until an owner takes them. One short-lived thread per partition with closes to
//! send, so that a partition without an owner delays neither a worker nor the closes of other
//! partitions.
//!
//! Invariants:
//! - A close is sent again until the owner answers it (applied, or refused by its engine): a
//!   command withdrawn at its deadline (no owner in time) or whose fate is unknown (the
//!   database unreachable) goes back to the queue. The new owner may have adopted the run as
//!   running on this node (`docs/cluster.md` §7): without its close it would stay open there
//!   for as long as this node lives. A close whose fate was unknown may arrive twice; the
//!   second finds no such run.
//! - Sending stops when the node is dropped ([`Forwarder::stop`]); a graceful leave first
//!   waits, within a bound, for the queues to empty ([`Forwarder::wait_idle`]), so that the
//!   new owners hear of every run that closed here before they see this node gone.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::engine::WorkflowOutcome;
use crate::store::postgres::PostgresCluster;
use crate::store::{StoreError, StoreErrorKind};

use super::super::exchange::Report;
use super::super::verb::Verb;

/// The first wait before a close is sent again; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Closes waiting to be sent, by partition; a partition present has its thread running.
#[derive(Default)]
struct Queues {
    by_partition: HashMap<u32, Vec<(String, WorkflowOutcome)>>,
    stopped: bool,
}

#[derive(Default)]
struct State {
    queues: Mutex<Queues>,
    /// Signalled when a partition's queue is done, and on stop.
    changed: Condvar,
}

/// Sends closed runs to the owners of their partitions (see the module docs).
pub(super) struct Forwarder {
    cluster: PostgresCluster,
    state: Arc<State>,
}

impl Forwarder {
    pub(super) fn new(cluster: PostgresCluster) -> Forwarder {
        Forwarder {
            cluster,
            state: Arc::default(),
        }
    }

    /// Queues `reports`; starts a thread for each partition that has none.
    pub(super) fn send(&self, reports: Vec<Report>) -> Result<(), StoreError> {
        let mut queues = self.state.queues.lock();
        if queues.stopped {
            return Ok(());
        }
        let mut start = Vec::new();
        for (partition, workflow_id, outcome) in reports {
            let queue = queues.by_partition.entry(partition).or_insert_with(|| {
                start.push(partition);
                Vec::new()
            });
            queue.push((workflow_id, outcome));
        }
        drop(queues);
        for (k, &partition) in start.iter().enumerate() {
            let (cluster, state) = (self.cluster.clone(), self.state.clone());
            #[allow(clippy::disallowed_methods, reason = "the facade's threads")]
            let spawned = std::thread::Builder::new()
                .name("schedule-engine-forward".into())
                .spawn(move || drain(&cluster, &state, partition));
            if let Err(e) = spawned {
                // This partition and the ones after it have no thread: drop their queues, or
                // later closes would wait there with nobody to send them.
                let mut queues = self.state.queues.lock();
                for p in &start[k..] {
                    queues.by_partition.remove(p);
                }
                self.state.changed.notify_all();
                return Err(StoreError::io(None, format!("cannot start a thread: {e}")));
            }
        }
        Ok(())
    }

    /// Waits until every queued close has been answered, at most `timeout`; whether they were.
    #[allow(
        clippy::disallowed_methods,
        reason = "a real-time bound on a graceful leave"
    )]
    pub(super) fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut queues = self.state.queues.lock();
        while !queues.by_partition.is_empty() && !queues.stopped {
            if self
                .state
                .changed
                .wait_until(&mut queues, deadline)
                .timed_out()
            {
                break;
            }
        }
        queues.by_partition.is_empty()
    }

    /// Stops sending: the threads end at their next attempt.
    pub(super) fn stop(&self) {
        self.state.queues.lock().stopped = true;
        self.state.changed.notify_all();
    }
}

/// Sends `partition`'s queue until it is empty (or sending stops).
fn drain(cluster: &PostgresCluster, state: &State, partition: u32) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        let batch = {
            let mut queues = state.queues.lock();
            let queues = &mut *queues;
            let batch = match queues.by_partition.get_mut(&partition) {
                Some(queue) if !queues.stopped => std::mem::take(queue),
                _ => Vec::new(),
            };
            if batch.is_empty() {
                queues.by_partition.remove(&partition);
                state.changed.notify_all();
                return;
            }
            batch
        };
        // The first close with no answer ends the pass: no owner answers the partition's
        // others either, and each try waits out the command timeout.
        let mut rest = batch.into_iter();
        let mut unanswered = Vec::new();
        for (workflow_id, outcome) in rest.by_ref() {
            if state.queues.lock().stopped || !deliver(cluster, partition, &workflow_id, &outcome) {
                unanswered.push((workflow_id, outcome));
                break;
            }
        }
        unanswered.extend(rest);
        if unanswered.is_empty() {
            backoff = FIRST_BACKOFF;
            continue;
        }
        let mut queues = state.queues.lock();
        if let Some(queue) = queues.by_partition.get_mut(&partition) {
            queue.splice(0..0, unanswered);
        }
        // Woken early by a stop, or by another partition's thread ending: a retry sooner.
        let _ = state.changed.wait_for(&mut queues, backoff);
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Sends one close; whether it was answered (or can never be).
fn deliver(
    cluster: &PostgresCluster,
    partition: u32,
    workflow_id: &str,
    outcome: &WorkflowOutcome,
) -> bool {
    let verb = Verb::WorkflowClosed {
        workflow_id: workflow_id.to_string(),
        outcome: outcome.clone(),
    };
    let Ok(command) = verb.encode() else {
        return true;
    };
    match cluster.submit(partition, &command) {
        Ok(_) => true,
        Err(e) => !matches!(
            e.kind,
            StoreErrorKind::Unavailable { .. } | StoreErrorKind::Io { .. }
        ),
    }
}
