//! Cluster mode (feature `postgres`): a client that is one node of a [`PostgresCluster`]. It
//! hosts one engine `Scheduler` with its write-ahead journal per partition this node holds
//! ([`PartitionHost`]), routes every verb to the partition its id hashes to, and dispatches a
//! partition's actions only while its lease holds locally. `docs/cluster.md` §3 is the design.
//!
//! Invariants:
//! - A partition is hosted only under a lease this node holds; its journal writes through the
//!   partition's fenced store. A write refused as fenced is never retried: the partition's
//!   scheduler is dropped at once (its state lives on in the database, for the next owner).
//! - A verb is applied here when its partition is hosted here, committed before it returns;
//!   otherwise (or when the local commit is fenced) it is sent to the owner through the
//!   command queue, which applies it exactly once or not at all. Either way the change is
//!   durable before the verb returns, so describe and list, which read the owner's engine or
//!   the records it committed, reflect every verb that returned before them, on any node.
//! - Lock order: a partition's scheduler lock, then the database. A partition's events and
//!   commands are handled on one thread (`events`), the polls on the workers'.

mod events;
mod forward;
mod host;
mod reads;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use chrono::{DateTime, Utc};
use parking_lot::{Mutex, RwLock};

use crate::engine::{
    Action, ScheduleDescription, ScheduleEvent, ScheduleListDescription, SchedulerConfig,
};
use crate::error::ScheduleError;
use crate::store::postgres::{DbClock, Lease, PostgresCluster};
use crate::store::{StoreError, StoreErrorHook, StoreErrorKind};

use super::clock::Clock;
use super::events::EventHub;
use super::exchange::{Origin, Polled, PolledAll, Report, Wakers};
use super::verb::{decode_result, Verb};

use forward::Forwarder;
use host::PartitionHost;

/// The engines see the database's clock: one time line for every node.
impl Clock for DbClock {
    fn now(&self) -> DateTime<Utc> {
        DbClock::now(self)
    }
}

/// A client's side of a cluster node.
pub(crate) struct ClusterNode {
    cluster: PostgresCluster,
    config: SchedulerConfig,
    on_error: Option<StoreErrorHook>,
    /// The partitions hosted here, by partition.
    hosts: RwLock<BTreeMap<u32, Arc<PartitionHost>>>,
    membership: Mutex<Membership>,
    /// Whether the last failure reported without a hook is still the current one.
    failing: AtomicBool,
    /// The subscribers to the events of every partition hosted here.
    events: Arc<EventHub>,
    /// Closed runs on their way to the owners of partitions no longer hosted here.
    forwarder: Forwarder,
    /// Stops other nodes relayed here for runs this node's executor started, for the next poll.
    relayed: Mutex<Vec<Action>>,
    /// Stops were announced but could not be taken (the database unreachable): try again.
    stops_due: AtomicBool,
}

/// Whether the node takes part (while a worker runs), and its event thread.
#[derive(Default)]
struct Membership {
    workers: usize,
    events: Option<(Arc<AtomicBool>, JoinHandle<()>)>,
}

impl ClusterNode {
    pub(crate) fn new(
        cluster: PostgresCluster,
        config: SchedulerConfig,
        on_error: Option<StoreErrorHook>,
    ) -> ClusterNode {
        ClusterNode {
            forwarder: Forwarder::new(cluster.clone()),
            cluster,
            config,
            on_error,
            hosts: RwLock::new(BTreeMap::new()),
            membership: Mutex::new(Membership::default()),
            failing: AtomicBool::new(false),
            events: Arc::default(),
            relayed: Mutex::new(Vec::new()),
            stops_due: AtomicBool::new(false),
        }
    }

    /// A subscriber to the events of the partitions hosted here, from now on.
    pub(crate) fn subscribe(&self) -> crossbeam_channel::Receiver<ScheduleEvent> {
        self.events.subscribe()
    }

    /// The host of `partition`, if it is hosted here.
    fn host(&self, partition: u32) -> Option<Arc<PartitionHost>> {
        self.hosts.read().get(&partition).cloned()
    }

    fn all_hosts(&self) -> Vec<Arc<PartitionHost>> {
        self.hosts.read().values().cloned().collect()
    }

    /// Stops hosting the partition of `lease` (if that lease is the one hosted): its scheduler,
    /// its unwritten changes and its held actions are dropped; nothing is written.
    fn drop_host(&self, lease: Lease) {
        let mut hosts = self.hosts.write();
        if hosts
            .get(&lease.partition)
            .is_some_and(|h| h.lease == lease)
        {
            if let Some(host) = hosts.remove(&lease.partition) {
                host.close();
            }
        }
    }

    /// Applies `verb` where its id's partition is hosted: here, or on its owner.
    pub(crate) fn apply(
        &self,
        clock: &dyn Clock,
        wakers: &Wakers,
        verb: Verb,
    ) -> Result<(), ScheduleError> {
        let partition = self.cluster.partition_of(verb.key());
        self.apply_in(clock, wakers, partition, verb)
    }

    fn apply_in(
        &self,
        clock: &dyn Clock,
        wakers: &Wakers,
        partition: u32,
        verb: Verb,
    ) -> Result<(), ScheduleError> {
        if let Some(host) = self.host(partition) {
            let local = verb.clone();
            let (result, after) = host
                .hosted
                .with_scheduler(clock, |s, now| local.apply(s, now));
            if !is_fenced(after.failure.as_ref()) {
                host.hosted.report(after.failure);
                if after.sooner {
                    wakers.wake();
                }
                return result;
            }
            // Never durable: the partition has moved. Its new owner decides.
            self.drop_host(host.lease);
        }
        let answer = self.cluster.submit(partition, &verb.encode()?)?;
        decode_result(&answer)
    }

    /// The description of schedule `id`: from the engine hosting it here, or from the record
    /// its owner committed last.
    pub(crate) fn describe(
        &self,
        clock: &dyn Clock,
        id: &str,
    ) -> Result<ScheduleDescription, ScheduleError> {
        if let Some(host) = self.host(self.cluster.partition_of(id)) {
            return host
                .hosted
                .read_scheduler(clock, |s, now| s.describe(id, now));
        }
        reads::describe(&self.cluster, &self.config, id, clock.now())
    }

    /// Every schedule of the cluster, ordered by id: the partitions hosted here from their
    /// engines, the others from their committed records.
    pub(crate) fn list(&self, clock: &dyn Clock) -> Vec<ScheduleListDescription> {
        let mut listed = Vec::new();
        let mut here = std::collections::BTreeSet::new();
        for host in self.all_hosts() {
            here.insert(host.lease.partition);
            listed.extend(
                host.hosted
                    .read_scheduler(clock, |s, now| s.list_schedules(now)),
            );
        }
        let now = clock.now();
        match reads::list_others(&self.cluster, &self.config, &here, now) {
            Ok((others, bad)) => {
                listed.extend(others);
                if let Some(e) = bad {
                    self.report(&e);
                }
            }
            Err(e) => self.report(&e),
        }
        listed.sort_by(|a, b| a.id.cmp(&b.id));
        listed.dedup_by(|a, b| a.id == b.id);
        listed
    }

    /// Polls every partition hosted here whose lease still holds locally.
    /// Stops relayed here come first: they are for runs of partitions hosted elsewhere.
    pub(crate) fn poll(&self, clock: &dyn Clock) -> (PolledAll, Option<DateTime<Utc>>) {
        let mut polled = PolledAll::new();
        let relayed = std::mem::take(&mut *self.relayed.lock());
        if !relayed.is_empty() {
            polled.push(Polled {
                origin: Origin::RELAYED,
                actions: relayed,
            });
        }
        let mut wakeup: Option<DateTime<Utc>> = None;
        for host in self.all_hosts() {
            let lease = host.lease;
            if self.cluster.lease(lease.partition) != Some(lease) {
                self.drop_host(lease);
                continue;
            }
            let ((actions, next), after) = host.hosted.with_scheduler(clock, |s, now| {
                if host.is_closed() {
                    (Vec::new(), None)
                } else {
                    (s.poll(now), s.next_wakeup())
                }
            });
            if is_fenced(after.failure.as_ref()) {
                self.drop_host(lease);
                continue;
            }
            host.hosted.report(after.failure);
            wakeup = match (wakeup, next) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let origin = Origin {
                partition: lease.partition,
                fence: lease.fence,
            };
            polled.push(Polled { origin, actions });
        }
        (polled, wakeup)
    }

    /// Whether `action`, polled from `origin`, may go to the executor: the partition is still
    /// hosted here under the lease it was polled under, that lease still holds locally, and
    /// no hand-over has begun (a start that may is counted as running here, so that a
    /// hand-over tells the next owner). If the lease is gone, the partition is dropped here.
    /// A stop of a run adopted from another member goes to that member instead; a stop
    /// relayed here from another node always may.
    pub(crate) fn may_dispatch(&self, origin: Origin, action: &Action) -> bool {
        if origin == Origin::RELAYED {
            return true;
        }
        let lease = Lease {
            partition: origin.partition,
            fence: origin.fence,
        };
        if self.cluster.lease(origin.partition) != Some(lease) {
            self.drop_host(lease);
            return false;
        }
        // Not hosted (handed over, reloading): the next load redelivers it.
        self.host(origin.partition)
            .filter(|h| h.lease == lease)
            .is_some_and(|h| h.admit(action))
    }

    /// Applies closed runs on the partitions their starts came from; those no longer hosted
    /// here go to their new owners as commands (from a thread of their own, so that a
    /// partition without an owner yet delays no worker).
    pub(crate) fn workflows_closed(
        &self,
        clock: &dyn Clock,
        wakers: &Wakers,
        closed: &mut Vec<Report>,
    ) {
        closed.sort_by_key(|r| r.0);
        let mut forward: Vec<Report> = Vec::new();
        let mut reports = std::mem::take(closed).into_iter().peekable();
        while let Some(first) = reports.next() {
            let partition = first.0;
            let mut group = vec![first];
            while let Some(next) = reports.next_if(|r| r.0 == partition) {
                group.push(next);
            }
            let Some(host) = self.host(partition) else {
                forward.extend(group);
                continue;
            };
            let copy = group.clone();
            let ((), after) = host.hosted.with_scheduler(clock, |s, now| {
                for (_, workflow_id, outcome) in group {
                    // A run the scheduler does not know (deleted schedule, duplicate report)
                    // is not an error worth surfacing to an executor.
                    let _ = s.workflow_closed(&workflow_id, outcome, now);
                    // Under the scheduler's lock, after the close: a hand-over sealing in
                    // between either finds the start still counted here (and marks it as
                    // running here) or waits for this close to be in its batch.
                    host.run_closed(&workflow_id);
                }
            });
            if is_fenced(after.failure.as_ref()) {
                self.drop_host(host.lease);
                forward.extend(copy);
                continue;
            }
            host.hosted.report(after.failure);
            if after.sooner {
                wakers.wake();
            }
        }
        if !forward.is_empty() {
            self.forward(forward);
        }
    }

    /// Sends closed runs to the owners of their partitions, in the background, until each
    /// is answered (see `forward`).
    fn forward(&self, reports: Vec<Report>) {
        if let Err(e) = self.forwarder.send(reports) {
            self.report(&e);
        }
    }

    /// Tells the user about a failure of this node's own work (a read, an event): their hook,
    /// or standard error on the first of a series.
    fn report(&self, error: &StoreError) {
        match &self.on_error {
            Some(hook) => crate::store::call_hook(hook, error),
            None => {
                if !self.failing.swap(true, Ordering::Relaxed) {
                    eprintln!("schedule-engine cluster node: {error}");
                }
            }
        }
    }

    /// A success after failures: the next failure is printed again.
    fn recovered(&self) {
        self.failing.store(false, Ordering::Relaxed);
    }
}

impl Drop for ClusterNode {
    /// The client is gone: closes not yet sent are given up (their starts are redelivered by
    /// the owners once this node's heartbeat has ended).
    fn drop(&mut self) {
        self.forwarder.stop();
    }
}

/// Whether a batch failed because this node's lease is gone.
fn is_fenced(failure: Option<&StoreError>) -> bool {
    failure.is_some_and(|e| matches!(e.kind, StoreErrorKind::Fenced { .. }))
}
