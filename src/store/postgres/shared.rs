//! [`Shared`]: what a node's handles, partition stores, keeper and listener share; and how the
//! node's leases change (acquire, renew, release), in one place for the keeper and the host.

use std::collections::HashSet;

use crossbeam_channel::{Receiver, Sender};
use parking_lot::{Mutex, RwLock};

use crate::store::{StoreError, StoreErrorHook};

use super::clock::DbClock;
use super::commands::Waiters;
use super::config::{ClusterConfig, Timing};
use super::conn::{Conn, Database, Failure};
use super::keeper::{now_pair, ClusterEvent};
use super::lease::{self, Deadline, Held, Lease};

/// A node's state, shared by its handles and threads.
pub(crate) struct Shared {
    pub db: Database,
    pub member: String,
    pub node_id: String,
    pub partitions: u32,
    pub config: ClusterConfig,
    pub timing: Timing,
    pub clock: DbClock,
    pub held: Held,
    pub waiters: Waiters,
    pub reporter: Reporter,
    /// The live members as the keeper's latest round read them.
    members: RwLock<Vec<String>>,
    /// The host's event channel while the node is joined.
    events: Mutex<Option<Sender<ClusterEvent>>>,
    keeper_wake: (Sender<()>, Receiver<()>),
}

impl Shared {
    pub fn new(
        db: Database,
        member: String,
        config: ClusterConfig,
        timing: Timing,
        clock: DbClock,
    ) -> Shared {
        Shared {
            db,
            member,
            node_id: config.node_id.clone(),
            partitions: config.partitions,
            config,
            timing,
            clock,
            held: Held::default(),
            waiters: Waiters::default(),
            reporter: Reporter::default(),
            members: RwLock::new(Vec::new()),
            events: Mutex::new(None),
            keeper_wake: crossbeam_channel::bounded(1),
        }
    }

    /// Records the live members a keeper round read.
    pub fn set_members(&self, members: &[String]) {
        let mut known = self.members.write();
        known.clear();
        known.extend_from_slice(members);
    }

    /// Whether `member` is this node or was live at the keeper's latest round.
    pub fn is_live(&self, member: &str) -> bool {
        // A scan, not a binary search: the list is short, and nothing here needs its order.
        member == self.member || self.members.read().iter().any(|m| m == member)
    }

    /// Tells the host, if the node is joined.
    pub fn emit(&self, event: ClusterEvent) {
        if let Some(events) = &*self.events.lock() {
            let _ = events.send(event);
        }
    }

    pub fn open_events(&self) -> Receiver<ClusterEvent> {
        let (tx, rx) = crossbeam_channel::unbounded();
        *self.events.lock() = Some(tx);
        rx
    }

    pub fn close_events(&self) {
        *self.events.lock() = None;
    }

    pub fn keeper_wakes(&self) -> Receiver<()> {
        self.keeper_wake.1.clone()
    }

    /// Makes the keeper run a round now (a partition was released, a node left).
    pub fn wake_keeper(&self) {
        let _ = self.keeper_wake.0.try_send(());
    }

    /// How long a lease counts as held locally after its request was sent.
    fn valid_for(&self) -> std::time::Duration {
        self.timing.lease.saturating_sub(self.timing.margin)
    }

    /// Acquires `partition` on `conn` and holds it.
    pub fn acquire_on(
        &self,
        conn: &mut Conn,
        partition: u32,
    ) -> Result<Option<Lease>, postgres::Error> {
        let (sent, wall) = now_pair();
        let acquired = lease::acquire(conn, &self.member, partition, self.timing.lease)?;
        if let Some(lease) = acquired {
            self.held
                .insert(lease, Deadline::after(sent, wall, self.valid_for()));
        }
        Ok(acquired)
    }

    /// Renews every held lease on `conn`; the lost ones leave `held`, are told to the host, and
    /// are returned.
    pub fn renew_on(&self, conn: &mut Conn) -> Result<Vec<Lease>, postgres::Error> {
        let mut lost = self.drop_expired();
        let leases: Vec<Lease> = self.held.all().iter().map(|h| h.lease).collect();
        let (sent, wall) = now_pair();
        let renewed = lease::renew(conn, &self.member, &leases, self.timing.lease)?;
        self.held.extend(
            &leases,
            &renewed,
            Deadline::after(sent, wall, self.valid_for()),
        );
        lost.extend(self.drop_expired());
        for lease in leases {
            if !renewed.contains(&lease.partition) && self.held.remove(lease) {
                self.emit(ClusterEvent::Lost(lease));
                lost.push(lease);
            }
        }
        Ok(lost)
    }

    /// Stops holding the leases whose local deadline has passed; tells the host; returns them.
    pub fn drop_expired(&self) -> Vec<Lease> {
        let expired = self.held.take_expired();
        for lease in &expired {
            self.emit(ClusterEvent::Lost(*lease));
        }
        expired
    }

    /// Stops holding `lease` and gives it back in the database.
    pub fn release(&self, lease: Lease) -> Result<(), StoreError> {
        self.held.remove(lease);
        self.release_held(lease)
    }

    /// Gives `lease` back in the database (it has already left `held`).
    pub fn release_held(&self, lease: Lease) -> Result<(), StoreError> {
        self.db.with(|conn| {
            lease::release(conn, &self.member, lease)
                .map(|_| ())
                .map_err(|e| Failure::first("cannot release a partition", &e))
        })
    }
}

/// Reports background failures to the user's hook, or prints the first of each series.
#[derive(Default)]
pub(crate) struct Reporter {
    hook: RwLock<Option<StoreErrorHook>>,
    /// The sources whose last attempt failed.
    failing: Mutex<HashSet<&'static str>>,
}

impl Reporter {
    pub fn set_hook(&self, hook: StoreErrorHook) {
        *self.hook.write() = Some(hook);
    }

    /// Records the outcome of `source`'s latest attempt: `None` for a success.
    pub fn report(&self, source: &'static str, error: Option<StoreError>) {
        let Some(error) = error else {
            self.failing.lock().remove(source);
            return;
        };
        let first = self.failing.lock().insert(source);
        match &*self.hook.read() {
            Some(hook) => hook(&error),
            None if first => eprintln!(
                "schedule-engine cluster: {source}: {error} (retrying; set \
                 PostgresCluster::on_error to handle this)"
            ),
            None => {}
        }
    }
}
