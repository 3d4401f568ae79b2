//! The node's event thread: it joins the cluster with the client's first worker, and acts on
//! the cluster's events (a partition acquired, lost, to be handed over, commands waiting) until
//! the last worker stops, when every partition's state is written and the node leaves.
//!
//! Invariants:
//! - `Acquired`: the partition is loaded and hosted, then its waiting commands are applied.
//!   A load that fails (the database unreachable) is tried again while the lease holds.
//! - `Lost`: the host is dropped at once, nothing written (any write would be fenced).
//! - `ReleaseRequested`: the host stops polling and admits no more starts; one fenced
//!   transaction writes its journal, marks the starts still running on this node's executor
//!   (and those it adopted) as running there, and releases the lease, so the next owner loads
//!   everything and starts none of those again (`docs/cluster.md` §7).
//! - Every [`TICK`], loads that failed are tried again, each host's adopted starts whose
//!   member has gone are handed back for redelivery, and the stops of adopted runs are sent
//!   to the members running them (`StopsPending` takes those sent here, for the workers).
//! - Commands are applied in one fenced transaction with the changes they make. If it fails
//!   other than fenced after they were applied in memory, the partition is loaded again: the
//!   database says which of them were applied.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};

use crate::engine::{Action, Scheduler};
use crate::store::postgres::{ClusterEvent, Lease, StopOrder, COMMAND_BATCH};
use crate::store::{StoreChange, StoreError};

use super::super::clock::Clock;
use super::super::durable::Persistence;
use super::super::exchange::Wakers;
use super::super::verb::Verb;
use super::host::PartitionHost;
use super::{is_fenced, ClusterNode};

/// How often the thread looks at its stop flag and retries loads that failed.
const TICK: Duration = Duration::from_millis(200);

impl ClusterNode {
    /// A worker starts; with the first one the node joins and its event thread starts.
    ///
    /// # Panics
    /// If the operating system cannot spawn a thread (as `Worker::start`).
    pub(crate) fn start_hosting(
        &self,
        node: &Arc<ClusterNode>,
        clock: &Arc<dyn Clock>,
        wakers: &Arc<Wakers>,
    ) {
        let mut membership = self.membership.lock();
        membership.workers += 1;
        if membership.workers > 1 {
            return;
        }
        let events = match self.cluster.join() {
            Ok(events) => events,
            Err(e) => {
                // Only "already joined" (by a host of the user's own): this client then hosts
                // nothing and sends every verb to the owners.
                self.report(&e);
                return;
            }
        };
        let stop = Arc::new(AtomicBool::new(false));
        let context = Context {
            node: node.clone(),
            clock: clock.clone(),
            wakers: wakers.clone(),
        };
        let flag = stop.clone();
        #[allow(clippy::disallowed_methods, reason = "the facade's threads")]
        let thread = std::thread::Builder::new()
            .name("schedule-engine-cluster-host".into())
            .spawn(move || run(&context, &events, &flag))
            .expect("failed to spawn the cluster host thread");
        membership.events = Some((stop, thread));
    }

    /// A worker stopped; with the last one the node writes every partition's state and leaves
    /// the cluster (its partitions are released at once, for the other nodes to take).
    pub(crate) fn stop_hosting(&self, clock: &dyn Clock) {
        let events = {
            let mut membership = self.membership.lock();
            membership.workers = membership.workers.saturating_sub(1);
            if membership.workers > 0 {
                return;
            }
            membership.events.take()
        };
        let Some((stop, thread)) = events else {
            return;
        };
        // Runs that closed here reach their owners before this node is seen gone (which
        // would have them redelivered); the event thread still applies commands meanwhile.
        let bound = self.cluster.config().lease.saturating_mul(2);
        if !self.forwarder.wait_idle(bound) {
            tracing::warn!("leaving with closed runs not yet taken by their owners");
        }
        stop.store(true, Ordering::SeqCst);
        let _ = thread.join();
        let hosts = std::mem::take(&mut *self.hosts.write());
        for host in hosts.values() {
            host.close();
            let failure = host.hosted.flush_locked(clock);
            if !is_fenced(failure.as_ref()) {
                host.hosted.report(failure);
            }
        }
        self.cluster.leave();
    }

    fn handle(&self, cx: &Context, event: ClusterEvent, loading: &mut Vec<Lease>) {
        match event {
            ClusterEvent::Acquired(lease) => {
                if !self.open(cx, lease) {
                    loading.push(lease);
                }
            }
            ClusterEvent::Lost(lease) => {
                loading.retain(|l| *l != lease);
                self.drop_host(lease);
            }
            ClusterEvent::ReleaseRequested(lease) => {
                loading.retain(|l| *l != lease);
                self.hand_over(cx, lease);
            }
            ClusterEvent::CommandsPending(lease) => {
                if let Some(host) = self.host(lease.partition).filter(|h| h.lease == lease) {
                    self.apply_commands(cx, &host);
                }
            }
            ClusterEvent::StopsPending => self.take_stops(cx),
        }
    }

    /// Takes the stops other nodes sent for runs this node's executor started, for the
    /// workers' next poll; if the database cannot be reached, they are taken at a later tick.
    fn take_stops(&self, cx: &Context) {
        self.stops_due.store(false, Ordering::SeqCst);
        match self.cluster.take_stops() {
            Ok(encoded) if encoded.is_empty() => {}
            Ok(encoded) => {
                // Only stops: a row that decodes to anything else was not written by a node.
                let stops = encoded
                    .iter()
                    .filter_map(|e| match serde_json::from_str::<Action>(e) {
                        Ok(a) => Some(a),
                        Err(err) => {
                            // Taken off the table already: traced, or it would vanish unseen.
                            tracing::error!(%err, row = %e, "a relayed stop that cannot be decoded");
                            None
                        }
                    })
                    .filter(|a| !matches!(a, Action::StartWorkflow(_)));
                self.relayed.lock().extend(stops);
                cx.wakers.wake();
            }
            Err(e) => {
                self.report(&e);
                self.stops_due.store(true, Ordering::SeqCst);
            }
        }
    }

    /// Writes each host's stops of adopted runs for the members running them.
    fn send_stops(&self) {
        for host in self.all_hosts() {
            let unsent = host.unsent();
            if unsent.is_empty() {
                continue;
            }
            let mut orders: Vec<StopOrder> = Vec::new();
            for (member, key, action) in &unsent {
                match serde_json::to_string(action) {
                    Ok(encoded) => orders.push((member.clone(), key.clone(), encoded)),
                    Err(e) => tracing::error!(%e, key, "a stop that cannot be encoded"),
                }
            }
            match self.cluster.send_stops(&orders) {
                Ok(()) => {
                    let keys: Vec<String> = orders.into_iter().map(|o| o.1).collect();
                    host.sent(&keys);
                }
                // Sent again at the next tick (a row already written is not doubled).
                Err(e) => self.report(&e),
            }
        }
    }

    /// Loads and hosts `lease`'s partition, then applies its waiting commands. `false` if the
    /// load failed for a reason other than a lost lease (to be tried again).
    fn open(&self, cx: &Context, lease: Lease) -> bool {
        if self.cluster.lease(lease.partition) != Some(lease) {
            return true;
        }
        match PartitionHost::open(
            &self.cluster,
            lease,
            &self.config,
            self.on_error.clone(),
            self.events.clone(),
        ) {
            Ok(host) => {
                let host = Arc::new(host);
                if let Some(old) = self.hosts.write().insert(lease.partition, host.clone()) {
                    old.close();
                }
                self.recovered();
                self.apply_commands(cx, &host);
                cx.wakers.wake();
                true
            }
            Err(e) if is_fenced(Some(&e)) => true,
            Err(e) => {
                self.report(&e);
                false
            }
        }
    }

    /// Balancing moves the partition away: stop polling and dispatching it, then write its
    /// state, mark the starts whose runs are open on an executor, and release it, in one
    /// fenced transaction.
    fn hand_over(&self, cx: &Context, lease: Lease) {
        let host = {
            let mut hosts = self.hosts.write();
            match hosts.get(&lease.partition) {
                Some(h) if h.lease == lease => hosts.remove(&lease.partition),
                _ => None,
            }
        };
        let Some(host) = host else {
            if let Err(e) = self.cluster.release(lease) {
                self.report(&e);
            }
            return;
        };
        host.close();
        let running = host.seal(self.cluster.member_id());
        let ((batch, unencoded), _) = host
            .hosted
            .with_journal(&*cx.clock, |s, persistence, _| take_batch(persistence, s));
        if let Some(e) = unencoded {
            self.report(&e);
        }
        tracing::debug!(
            partition = lease.partition,
            running = running.len(),
            "handing a partition over"
        );
        match self
            .cluster
            .partition_store(lease)
            .hand_over(&batch, &running)
        {
            Ok(()) => {}
            Err(e) if is_fenced(Some(&e)) => {}
            // Not written: the lease expires by itself, and the next owner redelivers the
            // starts (the crash case).
            Err(e) => self.report(&e),
        }
    }

    /// Hands back for redelivery the adopted starts whose member has gone (with their stops,
    /// whose rows for that member are deleted), then sends the stops of the others.
    fn watch(&self, cx: &Context) {
        for host in self.all_hosts() {
            let watched = host.watch(&self.cluster);
            if watched.redelivered {
                tracing::info!(
                    partition = host.lease.partition,
                    "redelivering starts whose node has gone"
                );
                cx.wakers.wake();
            }
            for (member, key) in watched.forget {
                // A row left behind is never taken (its member is gone): only clutter.
                if let Err(e) = self.cluster.forget_stops(&member, &[key]) {
                    self.report(&e);
                }
            }
        }
        if self.stops_due.load(Ordering::SeqCst) {
            self.take_stops(cx);
        }
        self.send_stops();
    }

    /// Applies the partition's waiting commands, a fenced transaction per batch.
    fn apply_commands(&self, cx: &Context, host: &PartitionHost) {
        loop {
            let mut store = self.cluster.partition_store(host.lease);
            let mut touched = false;
            let ((applied, unencoded), _) =
                host.hosted.with_journal(&*cx.clock, |s, persistence, now| {
                    let mut unencoded: Option<StoreError> = None;
                    let applied = store.apply_commands(|commands| {
                        touched = true;
                        let results = commands
                            .iter()
                            .map(|c| Verb::apply_encoded(&c.payload, s, now))
                            .collect();
                        let (batch, error) = take_batch(persistence, s);
                        unencoded = error;
                        (batch, results)
                    });
                    (applied, unencoded)
                });
            match applied {
                Ok(count) => {
                    if count > 0 {
                        cx.wakers.wake();
                    }
                    if let Some(e) = unencoded {
                        // A record left out of the batch: the database is the truth again.
                        self.report(&e);
                        self.reload(cx, host.lease);
                        return;
                    }
                    if count < COMMAND_BATCH {
                        return;
                    }
                }
                Err(e) if is_fenced(Some(&e)) => {
                    self.drop_host(host.lease);
                    return;
                }
                Err(e) => {
                    self.report(&e);
                    if touched {
                        self.reload(cx, host.lease);
                    }
                    return;
                }
            }
        }
    }

    /// Drops the partition's state and loads it again from the database.
    fn reload(&self, cx: &Context, lease: Lease) {
        // What this node's executor runs stays counted, for a later hand-over.
        let started = self
            .host(lease.partition)
            .filter(|h| h.lease == lease)
            .map(|h| h.seal_for_reload());
        self.drop_host(lease);
        // A failed load leaves the partition unhosted until the lease ends and another node
        // (or this one) acquires it again; the failure has been reported.
        let _ = self.open(cx, lease);
        if let Some((host, started)) = self.host(lease.partition).zip(started) {
            host.carry(started);
        }
    }
}

/// What the event thread works with.
struct Context {
    node: Arc<ClusterNode>,
    clock: Arc<dyn Clock>,
    wakers: Arc<Wakers>,
}

/// The event loop (see the module docs).
#[allow(clippy::disallowed_methods, reason = "the tick is real time")]
fn run(cx: &Context, events: &Receiver<ClusterEvent>, stop: &AtomicBool) {
    let node = &cx.node;
    let mut loading: Vec<Lease> = Vec::new();
    let mut ticked = Instant::now();
    while !stop.load(Ordering::SeqCst) {
        match events.recv_timeout(TICK) {
            Ok(event) => node.handle(cx, event, &mut loading),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        // Also between events: a busy command queue must not starve the retries.
        if ticked.elapsed() < TICK {
            continue;
        }
        ticked = Instant::now();
        let retry = std::mem::take(&mut loading);
        for lease in retry {
            if !node.open(cx, lease) {
                loading.push(lease);
            }
        }
        node.watch(cx);
    }
}

/// The journal's changes since its last batch (none without a journal).
fn take_batch(
    persistence: Option<&Persistence>,
    s: &mut Scheduler,
) -> (Vec<StoreChange>, Option<StoreError>) {
    match persistence {
        Some(p) => p.take_batch(s),
        None => (Vec::new(), None),
    }
}
