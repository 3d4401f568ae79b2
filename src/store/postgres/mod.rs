//! The cluster's storage on PostgreSQL (feature `postgres`): partition leases with fencing
//! tokens, balancing, the database clock, the per-partition [`Store`](crate::store::Store), and the
//! command queue.
//!
//! This module knows nothing of the engine: it stores [`StoredRecord`]s and carries commands as
//! opaque text. The host (the client and worker in cluster mode, `client/cluster/`) hosts one
//! engine per partition it holds; `docs/cluster.md` describes the whole design.
//!
//! Invariants:
//! * Every write of a partition's records runs in a transaction whose first statement checks
//!   this node's (owner, fence, unexpired lease) by the database's clock and locks the
//!   partition's row ([`PartitionStore`]). A node that lost a lease can never write.
//! * A lease counts as held locally only until a deadline that is earlier than the database's
//!   expiry (see `lease.rs`), so a node stops acting on a partition before anyone else can
//!   acquire it.
//! * Owners are member ids (`<node id>/<random>`), unique per process: two processes never
//!   share a lease, even under one node id, and a restarted process never inherits one.

mod balance;
mod clock;
mod commands;
mod config;
mod conn;
mod handover;
mod keeper;
mod lease;
mod listener;
mod partition;
mod placement;
mod schema;
mod shared;
mod stops;

pub use clock::DbClock;
pub use commands::Command;
pub use config::{ClusterConfig, MAX_PARTITIONS};
pub use keeper::ClusterEvent;
pub use lease::Lease;
pub use partition::PartitionStore;
pub use placement::partition_of;

pub(crate) use handover::RunningMark;
pub(crate) use partition::COMMAND_BATCH;
pub(crate) use shared::Shared;
pub(crate) use stops::StopOrder;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use parking_lot::Mutex;

use crate::store::{RecordKind, StoreError, StoreErrorKind, StoredRecord};

use conn::{pg_error, Database, Failure};
use partition::{kind_code, kind_from};

/// Who holds a partition, as the database says now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionOwner {
    /// The partition.
    pub partition: u32,
    /// The member id of its holder; `None` if it is free or its lease expired.
    pub owner: Option<String>,
    /// Its fencing token (the number of acquisitions so far).
    pub fence: u64,
    /// How long its lease lasts without renewal, by the database's clock (`None` if free).
    pub lease_remaining: Option<Duration>,
}

/// One set of schedules shared by many processes and machines on one PostgreSQL database.
///
/// Several processes (nodes) connect to the same database with the same [`ClusterConfig`]
/// partition count. The schedules and standalone workflows are hashed into partitions
/// ([`partition_of`]); each node leases partitions in the database and runs the schedules of
/// the partitions it holds; partitions spread evenly over the live nodes.
///
/// Give it to a client, `Client::builder().cluster(cluster).build()`: the client then hosts one
/// engine and write-ahead journal per partition this node holds (from when its first
/// [`Worker`](crate::Worker) starts until its last shuts down), and each of its verbs is
/// applied by the partition's owner: here, or on another node through the database's command
/// queue. The building blocks (leases, partition stores, commands) are public in
/// [`cluster`](crate::cluster) for hosts of your own.
///
/// # Guarantees
///
/// * **Each nominal time decided exactly once** cluster-wide (started, skipped, missed or
///   dropped), by the one fenced batch that records it: a partition's records are written only
///   under an unexpired lease with the current fencing token, checked in the same transaction
///   as the write, with expiry judged by the database's clock. A node that lost a lease (paused
///   past it, cut off, taken over) writes nothing: its writes fail with
///   [`StoreErrorKind::Fenced`], which is never retried (the node drops the partition's state).
/// * **Started at least once**, under the deterministic workflow id
///   `<action id>-<nominal time>`. A start is recorded as pending before it is dispatched and
///   stays so until its run is recorded closed; whoever holds the partition next dispatches
///   the pending ones again, except those a graceful hand-over marked as running on the node
///   that hands over: the new owner counts those as running (overlap policies apply) and waits
///   for their closes, which that node sends it, and dispatches them again only once that node
///   has left or its heartbeat has expired. So a duplicate start is possible only for a run
///   whose node stopped counting as alive (a crash, a pause past the lease, a leave or
///   shutdown while it ran) before its close was recorded. Executors that must never run a
///   workflow twice de-duplicate on its id.
/// * **Overlap policies reach adopted runs.** A cancel or termination the owner's overlap
///   policy issues for a run open on another node's executor is sent to that node through the
///   database and handed to its executor; the next run waits for the old one's close, as on
///   one node. If that node is gone first, the owner's own executor gets the run again, then
///   the stop (a restart's order). A stop can arrive twice: treat it as a request.
/// * **Shutdown with runs open.** A node leaves when its last worker's `shutdown` has dropped
///   the executor; the runs still open then are started again by the next owners. So an
///   executor whose runs outlive its calls waits for them (or cancels them and waits) when it
///   is dropped, as [`WorkflowRegistry`](crate::WorkflowRegistry) does: their closes are
///   written before the node leaves, and nothing runs twice.
/// * **Local loss before remote gain.** A node treats a lease as lost at a local deadline
///   earlier than the database's expiry (by a fifth of the lease), on its monotonic and its wall
///   clock, and dispatches a partition's actions only before it; so after a pause (SIGSTOP,
///   suspend) it stops before another node can have acquired the partition.
/// * **Takeover** of a crashed or paused node's partitions within `lease + renew interval`,
///   where the times that came due meanwhile follow each schedule's catch-up window and overlap
///   policy exactly as after a restart; a graceful shutdown (the last worker's, or
///   [`leave`](PostgresCluster::leave)) writes each partition's state and releases it at once.
/// * **Balance.** Partitions spread over the live nodes with max − min ≤ 1 within two lease
///   periods after a node joins or leaves.
/// * **Every verb from any node** with single-node semantics: `AlreadyExists`, `NotFound` and
///   `Conflict` come from the owner's engine; a command is applied by its owner exactly once,
///   in the transaction that writes what it changed, or withdrawn and never applied (then the
///   verb fails with [`StoreErrorKind::Unavailable`] after `command_timeout`). Every verb's
///   change is committed before it returns, and owners write every other change (starts, runs
///   closed) with the call that made it, so describe and list (from the owner's engine, or from
///   the records it committed) reflect every change made before the call returned, on whatever
///   node.
/// * **One time source.** The engines read [`clock`](PostgresCluster::clock), the database's
///   clock as sampled at each heartbeat, so a node whose own clock is off neither fires early
///   nor fires a time again. A clock of your own (`ClientBuilder::clock`) voids this: tests only.
/// * **Faults.** PostgreSQL restarting or unreachable: nodes keep running, hold actions whose
///   batch could not be written, reconnect with backoff, report through the client's
///   `on_store_error` hook and [`on_error`](PostgresCluster::on_error), and lose nothing; leases
///   outlive an outage shorter than about `lease − renew interval`, and after a longer one the
///   partitions are acquired and loaded again.
///
/// Shown against a real PostgreSQL by the tests under `tests/integration/cluster/`, among them
/// three node processes firing 40 schedules for a minute through SIGKILLs, a SIGSTOP for 3× the
/// lease and a database restart (`node_faults`).
///
/// ```no_run
/// use std::time::Duration;
/// use schedule_engine::{Client, ClusterConfig, PostgresCluster, Worker, WorkflowRegistry};
///
/// let cluster = PostgresCluster::connect(
///     "postgresql://scheduler@db.internal/app",
///     ClusterConfig { node_id: "web-1".into(), lease: Duration::from_secs(10), ..Default::default() },
/// )?;
/// let client = Client::builder().cluster(cluster).build()?;
/// let worker = Worker::start(&client, WorkflowRegistry::new());
/// # worker.shutdown();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct PostgresCluster {
    shared: Arc<Shared>,
    threads: Arc<Threads>,
}

// A handle is shared by the client, its workers and its users' threads.
const _: fn() = || {
    fn shared_across_threads<T: Clone + Send + Sync + 'static>() {}
    shared_across_threads::<PostgresCluster>();
    shared_across_threads::<DbClock>();
};

/// The node's background threads; stopping them (the last handle dropped) leaves the cluster.
struct Threads {
    shared: Arc<Shared>,
    listener_stop: Arc<AtomicBool>,
    keeper: Mutex<Option<(Arc<AtomicBool>, JoinHandle<()>)>>,
}

impl PostgresCluster {
    /// Connects to the database at `url` (a `postgresql://` URL or `key=value` pairs), creates
    /// the cluster's tables if they are missing, and starts listening for notifications. The node
    /// takes no partitions until it [`join`](PostgresCluster::join)s: a node that never joins
    /// can still issue commands and read records.
    ///
    /// # Errors
    /// [`StoreErrorKind::Misconfigured`] for an invalid configuration or URL, or a partition
    /// count other than the database's; [`StoreErrorKind::NewerSchema`] for tables written by a
    /// newer version of this crate; [`StoreErrorKind::Io`] if the database cannot be reached.
    pub fn connect(url: &str, config: ClusterConfig) -> Result<PostgresCluster, StoreError> {
        let timing = config.timing()?;
        let db = Database::new(url, timing.lease)?;
        let mut conn = db.connect()?;
        schema::ensure(&mut conn.client, config.partitions)?;
        let sent = Instant::now();
        let server_now = conn
            .client
            .query_one("SELECT clock_timestamp()", &[])
            .map_err(|e| pg_error("cannot read the database clock", &e))?
            .get(0);
        let clock = DbClock::new(sent, Instant::now(), server_now);
        db.put(conn);
        let member = format!("{}/{:012x}", config.node_id, config::random_u64() >> 16);
        let shared = Arc::new(Shared::new(db, member, config, timing, clock));
        let listener_stop = Arc::new(AtomicBool::new(false));
        {
            // Detached: it ends by itself once the flag is set (see `Drop for Threads`).
            let (shared, stop) = (shared.clone(), listener_stop.clone());
            std::thread::Builder::new()
                .name("schedule-engine-pg-listener".into())
                .spawn(move || listener::run(shared, stop))
                .map_err(|e| StoreError::io(None, format!("cannot start a thread: {e}")))?;
        }
        let threads = Arc::new(Threads {
            shared: shared.clone(),
            listener_stop,
            keeper: Mutex::new(None),
        });
        Ok(PostgresCluster { shared, threads })
    }

    /// The configuration this node runs with.
    pub fn config(&self) -> &ClusterConfig {
        &self.shared.config
    }

    /// This process's member id, `<node id>/<random>`: the owner name of its leases.
    pub fn member_id(&self) -> &str {
        &self.shared.member
    }

    /// The partition of schedule or workflow `id` in this cluster.
    pub fn partition_of(&self, id: &str) -> u32 {
        partition_of(id, self.shared.partitions)
    }

    /// The database's clock, read locally; the same time on every node of the cluster. It is
    /// sampled at connect and, once the node has joined, at every heartbeat.
    pub fn clock(&self) -> DbClock {
        self.shared.clock.clone()
    }

    /// Calls `hook` (from a background thread) for each failure of the node's background work:
    /// a lease renewal, a heartbeat, the notification connection. Replaces the previous hook.
    /// Without one, the first failure of a series is printed to standard error.
    pub fn on_error<F: Fn(&StoreError) + Send + Sync + 'static>(&self, hook: F) {
        self.shared.reporter.set_hook(Arc::new(hook));
    }

    /// Starts taking part: the node heartbeats, renews its leases, and takes and gives back
    /// partitions to keep the cluster balanced. The returned channel tells the host what to do
    /// ([`ClusterEvent`]); the host must consume it.
    ///
    /// # Errors
    /// [`StoreErrorKind::Misconfigured`] if this node has already joined.
    pub fn join(&self) -> Result<Receiver<ClusterEvent>, StoreError> {
        let mut keeper = self.threads.keeper.lock();
        if keeper.is_some() {
            return Err(StoreError::new(
                None,
                StoreErrorKind::Misconfigured {
                    detail: "this node has already joined the cluster".into(),
                },
            ));
        }
        let events = self.shared.open_events();
        let stop = Arc::new(AtomicBool::new(false));
        let (shared, flag, wake) = (
            self.shared.clone(),
            stop.clone(),
            self.shared.keeper_wakes(),
        );
        let handle = std::thread::Builder::new()
            .name("schedule-engine-pg-keeper".into())
            .spawn(move || keeper::run(shared, wake, flag))
            .map_err(|e| StoreError::io(None, format!("cannot start a thread: {e}")))?;
        *keeper = Some((stop, handle));
        Ok(events)
    }

    /// Leaves the cluster gracefully: stops balancing, releases every partition held (other
    /// nodes take them at once) and removes this node from the live members. The host must
    /// have written each partition's pending changes first. Dropping the last handle does the
    /// same.
    pub fn leave(&self) {
        self.threads.leave();
    }

    /// The lease of `partition` if this node holds it and its local deadline has not passed.
    /// Check it right before dispatching the partition's actions.
    pub fn lease(&self, partition: u32) -> Option<Lease> {
        self.shared.held.get(partition)
    }

    /// Whether `member` is alive as this node last read the members (its own keeper's latest
    /// round; this node itself always is). A member that left or whose heartbeat expired is
    /// not.
    pub(crate) fn is_live(&self, member: &str) -> bool {
        self.shared.is_live(member)
    }

    /// Every lease this node holds (whose local deadline has not passed), by partition.
    pub fn leases(&self) -> Vec<Lease> {
        let mut leases: Vec<Lease> = self
            .shared
            .held
            .all()
            .into_iter()
            .filter(|h| h.deadline.is_open())
            .map(|h| h.lease)
            .collect();
        leases.sort();
        leases
    }

    /// Takes `partition` now if it is free or its lease expired (by the database's clock); the
    /// lease is renewed with the others from then on. `None` if another node holds it. A joined
    /// node's keeper does this by itself; this is for hosts that place partitions themselves.
    ///
    /// # Errors
    /// [`StoreErrorKind::Misconfigured`] for a partition that does not exist,
    /// [`StoreErrorKind::Io`] if the database cannot be reached.
    pub fn acquire(&self, partition: u32) -> Result<Option<Lease>, StoreError> {
        self.check_partition(partition)?;
        // An acquisition whose answer was lost runs again and finds the partition held (by
        // this node, unknowingly): reported as held elsewhere, it expires unrenewed.
        self.shared.db.with(|conn| {
            self.shared
                .acquire_on(conn, partition)
                .map_err(|e| Failure::first("cannot acquire a partition", &e))
        })
    }

    /// Renews every lease held now (a joined node's keeper does this every renew interval);
    /// returns the leases found lost, which this node no longer holds.
    ///
    /// # Errors
    /// [`StoreErrorKind::Io`] if the database cannot be reached (the leases then end at their
    /// local deadlines unless a later renewal succeeds).
    pub fn renew(&self) -> Result<Vec<Lease>, StoreError> {
        self.shared.db.with(|conn| {
            self.shared
                .renew_on(conn)
                .map_err(|e| Failure::first("cannot renew the leases", &e))
        })
    }

    /// Gives `lease` back at once, so that another node can take the partition without waiting
    /// for it to expire. The host must have written the partition's pending changes and stopped
    /// dispatching it first. Releasing a lease no longer held does nothing.
    ///
    /// # Errors
    /// [`StoreErrorKind::Io`] if the database cannot be reached (the lease then simply expires).
    pub fn release(&self, lease: Lease) -> Result<(), StoreError> {
        self.shared.release(lease)
    }

    /// The store of `lease`'s partition: its records, written only under this lease.
    pub fn partition_store(&self, lease: Lease) -> PartitionStore {
        PartitionStore::new(self.shared.clone(), lease)
    }

    /// Queues `command` for `partition`'s owner and waits for its result (the text the owner's
    /// `apply` returned for it), at most the configured `command_timeout`.
    ///
    /// # Errors
    /// [`StoreErrorKind::Misconfigured`] for a partition that does not exist.
    /// [`StoreErrorKind::Unavailable`] if no node applied it in time: it was withdrawn and will
    /// never be applied. [`StoreErrorKind::Io`] if the database could not be reached; the error
    /// says whether the command may still have been applied (never after its deadline).
    pub fn submit(&self, partition: u32, command: &str) -> Result<String, StoreError> {
        self.submit_with_timeout(partition, command, self.shared.timing.command_timeout)
    }

    /// [`submit`](PostgresCluster::submit) with its own timeout.
    ///
    /// # Errors
    /// As [`submit`](PostgresCluster::submit).
    pub fn submit_with_timeout(
        &self,
        partition: u32,
        command: &str,
        timeout: Duration,
    ) -> Result<String, StoreError> {
        self.check_partition(partition)?;
        let shared = &self.shared;
        commands::submit(&shared.db, &shared.waiters, partition, command, timeout)
    }

    /// The stored record `id` of `kind` (a schedule or standalone workflow: it is looked up in
    /// the partition its id hashes to), as last committed by any node. Any node may read.
    ///
    /// # Errors
    /// [`StoreErrorKind::Io`] if the database cannot be reached.
    pub fn read_record(
        &self,
        kind: RecordKind,
        id: &str,
    ) -> Result<Option<StoredRecord>, StoreError> {
        let part = self.partition_of(id) as i32;
        let code = kind_code(kind);
        let data = self.shared.db.with(|conn| {
            conn.client
                .query_opt(
                    "SELECT data FROM se_records WHERE partition = $1 AND kind = $2 AND id = $3",
                    &[&part, &code, &id],
                )
                .map_err(|e| Failure::first("cannot read a record", &e))
        })?;
        Ok(data.map(|row| StoredRecord {
            kind,
            id: id.to_string(),
            data: row.get(0),
        }))
    }

    /// Every stored record of `kind` in every partition, ordered by id, as last committed.
    ///
    /// # Errors
    /// [`StoreErrorKind::Io`] if the database cannot be reached.
    pub fn read_records(&self, kind: RecordKind) -> Result<Vec<StoredRecord>, StoreError> {
        let code = kind_code(kind);
        let rows = self.shared.db.with(|conn| {
            conn.client
                .query(
                    "SELECT kind, id, data FROM se_records WHERE kind = $1 ORDER BY id",
                    &[&code],
                )
                .map_err(|e| Failure::first("cannot read records", &e))
        })?;
        Ok(rows
            .iter()
            .filter_map(|row| {
                Some(StoredRecord {
                    kind: kind_from(row.get(0))?,
                    id: row.get(1),
                    data: row.get(2),
                })
            })
            .collect())
    }

    /// Who holds each partition now, by the database's clock.
    ///
    /// # Errors
    /// [`StoreErrorKind::Io`] if the database cannot be reached.
    pub fn partition_owners(&self) -> Result<Vec<PartitionOwner>, StoreError> {
        let rows = self.shared.db.with(|conn| {
            conn.client
                .query(
                    "SELECT partition, owner, fence, CASE WHEN lease_expires_at > now() \
                     THEN extract(epoch FROM lease_expires_at - now())::float8 END \
                     FROM se_partitions ORDER BY partition",
                    &[],
                )
                .map_err(|e| Failure::first("cannot read the partitions", &e))
        })?;
        Ok(rows
            .iter()
            .map(|row| {
                let remaining: Option<f64> = row.get(3);
                PartitionOwner {
                    partition: u32::try_from(row.get::<_, i32>(0)).unwrap_or(0),
                    owner: remaining.and(row.get(1)),
                    fence: u64::try_from(row.get::<_, i64>(2)).unwrap_or(0),
                    lease_remaining: remaining.map(|s| Duration::from_secs_f64(s.max(0.0))),
                }
            })
            .collect())
    }
}

impl PostgresCluster {
    fn check_partition(&self, partition: u32) -> Result<(), StoreError> {
        if partition < self.shared.partitions {
            return Ok(());
        }
        Err(StoreError::new(
            None,
            StoreErrorKind::Misconfigured {
                detail: format!(
                    "partition {partition} does not exist (the cluster has {})",
                    self.shared.partitions
                ),
            },
        ))
    }
}

impl Threads {
    fn leave(&self) {
        if let Some((stop, handle)) = self.keeper.lock().take() {
            stop.store(true, Ordering::SeqCst);
            self.shared.wake_keeper();
            let _ = handle.join();
        }
        self.shared.close_events();
        // Out of the members first, so that the others count without this node when the
        // releases wake them.
        let member = self.shared.member.clone();
        let _ = self.shared.db.with(|conn| {
            balance::leave(conn, &member).map_err(|e| Failure::first("cannot leave", &e))
        });
        for lease in self.shared.held.take_all() {
            // One that cannot be released expires by itself.
            let _ = self.shared.release_held(lease);
        }
    }
}

impl Drop for Threads {
    fn drop(&mut self) {
        self.leave();
        // The listener sees the flag within one poll (200 ms) and ends with its connection;
        // nothing waits for it, so that dropping the last handle is quick.
        self.listener_stop.store(true, Ordering::SeqCst);
    }
}

impl std::fmt::Debug for PostgresCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresCluster")
            .field("member", &self.shared.member)
            .field("partitions", &self.shared.partitions)
            .field("held", &self.leases().len())
            .finish_non_exhaustive()
    }
}
