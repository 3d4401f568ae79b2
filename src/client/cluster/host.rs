//! [`PartitionHost`]: the engine of one partition this node holds: a `Scheduler` restored from
//! the partition's records and its write-ahead journal over the partition's fenced store; and
//! who runs the partition's open starts ([`Runs`]).
//!
//! Invariants:
//! - Once closed (the lease lost, the partition handed over, the node leaving), a host polls
//!   nothing more; checked under its scheduler lock, so no poll can start after a close whose
//!   flush has been written.
//! - A start reaches this node's executor only once admitted ([`PartitionHost::admit`]), and
//!   none is admitted after [`PartitionHost::seal`]: the hand-over marks exactly the starts
//!   this node's executor was given, and the next owner redelivers every other pending one.
//! - A start whose record is marked as running on another member is withheld from dispatch
//!   until its close arrives (it is no longer pending) or that member is gone
//!   ([`PartitionHost::watch`]), and then redelivered under the same workflow id.
//! - A cancel or termination of such a run never reaches this node's executor while that
//!   member lives: it is relayed to the member ([`PartitionHost::admit`], sent by the event
//!   thread). If the member goes before the run closes, the stop is redelivered here right
//!   after the start, as a restart redelivers a pending start and then its pending stop.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::engine::{Action, SchedulerConfig};
use crate::store::postgres::{Lease, PostgresCluster, RunningMark};
use crate::store::{StoreError, StoreErrorHook};

use super::super::durable::{pending_key, start_key, Persistence};
use super::super::events::EventHub;
use super::super::hosted::HostedScheduler;

/// One hosted partition.
pub(crate) struct PartitionHost {
    pub(crate) lease: Lease,
    pub(crate) hosted: HostedScheduler,
    closed: AtomicBool,
    runs: Mutex<Runs>,
}

/// The partition's starts whose runs are open on an executor, by who runs them.
#[derive(Default)]
struct Runs {
    /// No start is admitted any more: the partition is being handed over.
    sealed: bool,
    /// Pending keys of the starts given to this node's executor and not reported closed here.
    started: HashSet<String>,
    /// Starts the partition's records mark as running on another member, with that member.
    adopted: Vec<(Action, String)>,
    /// Cancels and terminations of adopted runs, for the members running them.
    relays: Vec<Relay>,
}

/// A stop of a run open on another member's executor.
struct Relay {
    action: Action,
    member: String,
    /// Written to the database for that member (else still to send).
    sent: bool,
}

/// A stop to send: the member, the stop's pending key, the stop.
pub(crate) type Unsent = (String, String, Action);

/// What [`PartitionHost::watch`] did: whether it handed actions back for redelivery, and the
/// stops it had sent to members now gone, as (member, pending key), to delete.
#[derive(Default)]
pub(crate) struct Watched {
    pub(crate) redelivered: bool,
    pub(crate) forget: Vec<(String, String)>,
}

impl PartitionHost {
    /// Loads the partition's records under `lease` and restores its scheduler; pending actions
    /// become held actions, redelivered (same workflow ids) at the first poll, as after a
    /// restart, except the starts marked as running on a member: this node's own are counted
    /// as started here, another's are adopted (withheld until their close, or that member's
    /// end).
    pub(crate) fn open(
        cluster: &PostgresCluster,
        lease: Lease,
        config: &SchedulerConfig,
        on_error: Option<StoreErrorHook>,
        events: Arc<EventHub>,
    ) -> Result<PartitionHost, StoreError> {
        let mut store = cluster.partition_store(lease);
        let marks: HashMap<String, String> = store.running_marks()?.into_iter().collect();
        let (persistence, scheduler) =
            Persistence::open(Box::new(store), on_error, config.clone())?;
        // Closed runs are written at once: other nodes describe this partition from its
        // records, and a manual test clock would hold a deferral until it moved.
        let persistence = persistence.without_deferral();
        let mut runs = Runs::default();
        if !marks.is_empty() {
            for (action, member) in persistence.withhold(&marks) {
                if member == cluster.member_id() {
                    runs.started.insert(pending_key(&action));
                } else {
                    runs.adopted.push((action, member));
                }
            }
        }
        Ok(PartitionHost {
            lease,
            hosted: HostedScheduler::new(scheduler, Some(persistence), events),
            closed: AtomicBool::new(false),
            runs: Mutex::new(runs),
        })
    }

    /// No poll from now on.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Whether `action` may go to this node's executor now; a start that may is counted as
    /// running here until its close is applied here or the partition is handed over. A stop
    /// of a run adopted from another member may not: it is queued for that member instead.
    pub(crate) fn admit(&self, action: &Action) -> bool {
        let mut runs = self.runs.lock();
        if runs.sealed {
            return false;
        }
        let workflow_id = match action {
            Action::StartWorkflow(_) => {
                runs.started.insert(pending_key(action));
                return true;
            }
            Action::CancelWorkflow(c) => &c.workflow_id,
            Action::TerminateWorkflow(t) => &t.workflow_id,
        };
        let key = start_key(workflow_id);
        let Some(member) = runs
            .adopted
            .iter()
            .find(|(start, _)| pending_key(start) == key)
            .map(|(_, member)| member.clone())
        else {
            return true;
        };
        // Asked again (the policy's next time came before the close): once is enough.
        let key = pending_key(action);
        if runs.relays.iter().any(|r| pending_key(&r.action) == key) {
            return false;
        }
        let relay = Relay {
            action: action.clone(),
            member,
            sent: false,
        };
        runs.relays.push(relay);
        false
    }

    /// The stops queued for other members and not yet sent.
    pub(crate) fn unsent(&self) -> Vec<Unsent> {
        let runs = self.runs.lock();
        if runs.sealed {
            return Vec::new();
        }
        runs.relays
            .iter()
            .filter(|r| !r.sent)
            .map(|r| (r.member.clone(), pending_key(&r.action), r.action.clone()))
            .collect()
    }

    /// The stops `keys` were written for their members.
    pub(crate) fn sent(&self, keys: &[String]) {
        for relay in &mut self.runs.lock().relays {
            if keys.contains(&pending_key(&relay.action)) {
                relay.sent = true;
            }
        }
    }

    /// The run of `workflow_id`'s start was reported closed here.
    pub(crate) fn run_closed(&self, workflow_id: &str) {
        self.runs.lock().started.remove(&start_key(workflow_id));
    }

    /// Admits nothing more; returns where each open start runs, for the hand-over: here
    /// (`member`, this node), or on the member it was adopted from. Starts closed meanwhile
    /// are no longer stored, and the hand-over marks only stored ones.
    pub(crate) fn seal(&self, member: &str) -> Vec<RunningMark> {
        let mut runs = self.runs.lock();
        runs.sealed = true;
        let mut marks: Vec<RunningMark> = std::mem::take(&mut runs.started)
            .into_iter()
            .map(|key| (key, member.to_string()))
            .collect();
        marks.extend(
            std::mem::take(&mut runs.adopted)
                .into_iter()
                .map(|(action, member)| (pending_key(&action), member)),
        );
        marks
    }

    /// Admits nothing more; the pending keys of the starts admitted here, for the host that
    /// replaces this one after a reload (its adopted starts come back with the marks).
    pub(crate) fn seal_for_reload(&self) -> HashSet<String> {
        let mut runs = self.runs.lock();
        runs.sealed = true;
        std::mem::take(&mut runs.started)
    }

    /// Counts `started` (from the host this one replaces) as admitted here.
    pub(crate) fn carry(&self, started: HashSet<String>) {
        self.runs.lock().started.extend(started);
    }

    /// Forgets adopted starts whose close has arrived, and hands back for redelivery those
    /// whose member has left or stopped heartbeating, with their stops (after them: the
    /// redelivery puts starts first).
    pub(crate) fn watch(&self, cluster: &PostgresCluster) -> Watched {
        let mut watched = Watched::default();
        let Some(persistence) = self.hosted.persistence() else {
            return watched;
        };
        let gone: Vec<Action> = {
            let mut runs = self.runs.lock();
            if runs.sealed || (runs.adopted.is_empty() && runs.relays.is_empty()) {
                return watched;
            }
            let adopted = std::mem::take(&mut runs.adopted);
            let mut gone = Vec::new();
            for (action, member) in adopted {
                if !persistence.is_pending(&action) {
                    continue;
                }
                if cluster.is_live(&member) {
                    runs.adopted.push((action, member));
                } else {
                    gone.push(action);
                }
            }
            runs.relays.retain(|relay| {
                if !persistence.is_pending(&relay.action) {
                    return false;
                }
                if cluster.is_live(&relay.member) {
                    return true;
                }
                if relay.sent {
                    let key = pending_key(&relay.action);
                    watched.forget.push((relay.member.clone(), key));
                }
                gone.push(relay.action.clone());
                false
            });
            gone
        };
        watched.redelivered = !gone.is_empty() && persistence.redeliver(gone) > 0;
        watched
    }
}
