//! The lease keeper: a thread per joined node that, every renew interval (or at once when another
//! node releases a partition or leaves), heartbeats, renews every lease in one statement, samples
//! the database clock, and rebalances; and the [`ClusterEvent`]s it tells the host.
//!
//! Invariants:
//! * A lease leaves [`Held`](super::lease::Held) (and the host hears [`ClusterEvent::Lost`])
//!   when a renewal finds it gone, or when its local deadline passes without a renewal: a
//!   keeper cut off from the database loses its partitions locally no later than the database
//!   could give them away.
//! * The keeper never releases a partition itself while it runs: it asks the host
//!   ([`ClusterEvent::ReleaseRequested`]), which flushes the partition's state and then calls
//!   [`PostgresCluster::release`](crate::PostgresCluster::release).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::Receiver;

use crate::store::StoreError;

use super::balance::{announce, heartbeat, plan, purge, read_view};
use super::commands::sweep;
use super::conn::{pg_error, Conn};
use super::lease::Lease;
use super::Shared;

/// Rounds between two clean-ups of dead members' rows and abandoned commands.
const SWEEP_EVERY: u64 = 100;

/// How soon a failed round is tried again.
const RETRY: Duration = Duration::from_millis(100);

/// What a joined node's host must act on (from [`PostgresCluster::join`]'s channel).
///
/// [`PostgresCluster::join`]: crate::PostgresCluster::join
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClusterEvent {
    /// This node now holds the partition: load its state
    /// ([`PostgresCluster::partition_store`](crate::PostgresCluster::partition_store), then
    /// `load`), serve it, and apply its pending commands.
    Acquired(Lease),
    /// The lease is gone (expired, taken over, or not renewed in time): stop dispatching the
    /// partition's actions at once and drop its state. Any write under it fails as fenced.
    Lost(Lease),
    /// Balancing wants the partition on another node: write its pending changes, drop its state,
    /// then [`release`](crate::PostgresCluster::release) it.
    ReleaseRequested(Lease),
    /// Commands are waiting for the partition: apply them
    /// ([`PartitionStore::apply_commands`](super::PartitionStore::apply_commands)).
    CommandsPending(Lease),
    /// Cancels or terminations were sent to this member for runs its executor started, on
    /// partitions it no longer holds: take them and hand them to the executor. (Also sent
    /// after every reconnection, in case one was missed meanwhile: there may be none.)
    StopsPending,
}

/// Runs the keeper until `stop` is set.
pub(crate) fn run(shared: Arc<Shared>, wake: Receiver<()>, stop: Arc<AtomicBool>) {
    let mut conn: Option<Conn> = None;
    let mut rounds: u64 = 0;
    while !stop.load(Ordering::SeqCst) {
        let result = round(&shared, &mut conn, rounds);
        let failed = result.is_err();
        if failed {
            conn = None;
        }
        shared.reporter.report("lease keeper", result.err());
        shared.drop_expired();
        rounds = rounds.wrapping_add(1);
        // A failed round is tried again soon (the connection backoff paces the attempts): every
        // renewal missed brings the leases closer to their local deadlines.
        let mut wait = if failed {
            shared.timing.renew_interval.min(RETRY)
        } else {
            shared.timing.renew_interval
        };
        if let Some(next) = shared.held.next_deadline() {
            let until = next.saturating_duration_since(Instant::now());
            wait = wait.min(until.max(Duration::from_millis(10)));
        }
        // Several wakes in a row make one round.
        if wake.recv_timeout(wait).is_ok() {
            while wake.try_recv().is_ok() {}
        }
    }
}

/// One round: heartbeat and clock, renewal, balancing.
fn round(shared: &Shared, conn: &mut Option<Conn>, rounds: u64) -> Result<(), StoreError> {
    let conn = match conn {
        Some(c) if !c.client.is_closed() => c,
        _ => conn.insert(shared.db.connect()?),
    };
    let sent = Instant::now();
    let server_now = heartbeat(conn, &shared.member, &shared.node_id, shared.timing.lease)
        .map_err(|e| pg_error("cannot record this node's heartbeat", &e))?;
    shared.clock.sample(sent, Instant::now(), server_now);
    if rounds == 0 {
        announce(conn).map_err(|e| pg_error("cannot announce this node", &e))?;
    }
    shared
        .renew_on(conn)
        .map_err(|e| pg_error("cannot renew the leases", &e))?;
    let view = read_view(conn).map_err(|e| pg_error("cannot read the partitions", &e))?;
    shared.set_members(&view.members);
    let held: Vec<Lease> = shared.held.all().iter().map(|h| h.lease).collect();
    let partitions: Vec<u32> = held.iter().map(|l| l.partition).collect();
    let plan = plan(&shared.member, &partitions, &view, shared.partitions);
    for partition in plan.give {
        if let Some(lease) = held.iter().find(|l| l.partition == partition) {
            if shared.held.request_release(*lease) {
                shared.emit(ClusterEvent::ReleaseRequested(*lease));
            }
        }
    }
    for partition in plan.take {
        let acquired = shared
            .acquire_on(conn, partition)
            .map_err(|e| pg_error("cannot acquire a partition", &e))?;
        if let Some(lease) = acquired {
            shared.emit(ClusterEvent::Acquired(lease));
        }
    }
    if rounds.is_multiple_of(SWEEP_EVERY) {
        purge(conn).map_err(|e| pg_error("cannot remove dead members", &e))?;
        sweep(conn).map_err(|e| pg_error("cannot remove abandoned commands", &e))?;
    }
    Ok(())
}

/// Sends the wall-clock and monotonic instants a lease request goes out at.
pub(crate) fn now_pair() -> (Instant, SystemTime) {
    (Instant::now(), SystemTime::now())
}
