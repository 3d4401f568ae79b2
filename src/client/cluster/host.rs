//! [`PartitionHost`]: the engine of one partition this node holds: a `Scheduler` restored from
//! the partition's records and its write-ahead journal over the partition's fenced store.
//!
//! Invariant: once closed (the lease lost, the partition handed over, the node leaving), a host
//! polls nothing more; checked under its scheduler lock, so no poll can start after a close
//! whose flush has been written.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::engine::SchedulerConfig;
use crate::store::postgres::{Lease, PostgresCluster};
use crate::store::{StoreError, StoreErrorHook};

use super::super::durable::Persistence;
use super::super::events::EventHub;
use super::super::hosted::HostedScheduler;

/// One hosted partition.
pub(crate) struct PartitionHost {
    pub(crate) lease: Lease,
    pub(crate) hosted: HostedScheduler,
    closed: AtomicBool,
}

impl PartitionHost {
    /// Loads the partition's records under `lease` and restores its scheduler; pending actions
    /// become held actions, redelivered (same workflow ids) at the first poll, as after a
    /// restart.
    pub(crate) fn open(
        cluster: &PostgresCluster,
        lease: Lease,
        config: &SchedulerConfig,
        on_error: Option<StoreErrorHook>,
        events: Arc<EventHub>,
    ) -> Result<PartitionHost, StoreError> {
        let store = cluster.partition_store(lease);
        let (persistence, scheduler) =
            Persistence::open(Box::new(store), on_error, config.clone())?;
        // Closed runs are written at once: other nodes describe this partition from its
        // records, and a manual test clock would hold a deferral until it moved.
        let persistence = persistence.without_deferral();
        Ok(PartitionHost {
            lease,
            hosted: HostedScheduler::new(scheduler, Some(persistence), events),
            closed: AtomicBool::new(false),
        })
    }

    /// No poll from now on.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }
}
