//! [`HostedScheduler`]: one `Scheduler` with its lock and, with a store, its write-ahead
//! journal: the unit a process hosts. A client hosts one; a cluster node will host one per
//! partition it owns (`docs/cluster.md`).
//!
//! Invariants:
//! - The scheduler is only reached through [`HostedScheduler::with_scheduler`] (every mutation
//!   and every poll) and [`HostedScheduler::read_scheduler`] (describe, list). Both read the
//!   clock under the lock, so the `now` values the scheduler sees never go backwards because
//!   of thread interleaving.
//! - No user code runs under the lock but the clock and the store.
//! - With a store, a call's changes are durable before the lock is released, and actions only
//!   come out once they are (see [`Durable`]).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use parking_lot::Mutex;

use crate::engine::{ScheduleEvent, Scheduler};
use crate::store::StoreError;

use super::clock::Clock;
use super::durable::{Durable, Persistence};
use super::events::EventHub;

/// A scheduler, its lock and its journal.
pub(crate) struct HostedScheduler {
    scheduler: Mutex<Scheduler>,
    /// The store, if any, and what is not yet durable in it.
    persistence: Option<Persistence>,
    /// The subscribers to its events (shared by the partitions a cluster node hosts).
    events: Arc<EventHub>,
}

/// What a call through [`HostedScheduler::with_scheduler`] left behind besides its result.
pub(crate) struct Aftermath {
    /// The scheduler's next wakeup moved earlier: the workers must look again.
    pub(crate) sooner: bool,
    /// The batch that failed, to be reported once the lock is released.
    pub(crate) failure: Option<StoreError>,
}

impl HostedScheduler {
    pub(crate) fn new(
        scheduler: Scheduler,
        persistence: Option<Persistence>,
        events: Arc<EventHub>,
    ) -> Self {
        HostedScheduler {
            scheduler: Mutex::new(scheduler),
            persistence,
            events,
        }
    }

    /// Locks, reads `now` from `clock`, runs `f`, and (with a store) makes its changes durable.
    pub(crate) fn with_scheduler<R: Durable>(
        &self,
        clock: &dyn Clock,
        f: impl FnOnce(&mut Scheduler, DateTime<Utc>) -> R,
    ) -> (R, Aftermath) {
        let mut scheduler = self.scheduler.lock();
        self.events.prepare(&mut scheduler);
        let now = clock.now();
        let before = scheduler.next_wakeup();
        let mut result = f(&mut scheduler, now);
        let mut failure = None;
        if let Some(persistence) = &self.persistence {
            (result, failure) = persistence.commit(&mut scheduler, now, result);
        }
        self.events.publish(&mut scheduler);
        let sooner = is_sooner(scheduler.next_wakeup(), before);
        (result, Aftermath { sooner, failure })
    }

    /// A new subscriber to every event from now on (see `client::events`).
    pub(crate) fn subscribe(&self) -> crossbeam_channel::Receiver<ScheduleEvent> {
        self.events.subscribe()
    }

    /// Read-only access (describe, list).
    pub(crate) fn read_scheduler<R>(
        &self,
        clock: &dyn Clock,
        f: impl FnOnce(&Scheduler, DateTime<Utc>) -> R,
    ) -> R {
        let scheduler = self.scheduler.lock();
        let now = clock.now();
        f(&scheduler, now)
    }

    /// Locks, reads `now` from `clock` and runs `f` with the scheduler and its journal, leaving
    /// durability to `f` (a cluster node's command batch, written in its own transaction).
    /// Whether the next wakeup moved earlier is returned with `f`'s result.
    #[cfg(feature = "postgres")]
    pub(crate) fn with_journal<T>(
        &self,
        clock: &dyn Clock,
        f: impl FnOnce(&mut Scheduler, Option<&Persistence>, DateTime<Utc>) -> T,
    ) -> (T, bool) {
        let mut scheduler = self.scheduler.lock();
        self.events.prepare(&mut scheduler);
        let now = clock.now();
        let before = scheduler.next_wakeup();
        let result = f(&mut scheduler, self.persistence.as_ref(), now);
        self.events.publish(&mut scheduler);
        (result, is_sooner(scheduler.next_wakeup(), before))
    }

    /// Writes whatever is still deferred, under the lock: a cluster node hands a partition
    /// over. The failure, if any, is returned (and not reported).
    #[cfg(feature = "postgres")]
    pub(crate) fn flush_locked(&self, clock: &dyn Clock) -> Option<StoreError> {
        let persistence = self.persistence.as_ref()?;
        let mut scheduler = self.scheduler.lock();
        let now = clock.now();
        persistence.flush(&mut scheduler, now)
    }

    /// The journal, with a store.
    #[cfg(feature = "postgres")]
    pub(crate) fn persistence(&self) -> Option<&Persistence> {
        self.persistence.as_ref()
    }

    /// Tells the user about a failed batch (outside the lock).
    pub(crate) fn report(&self, failure: Option<StoreError>) {
        if let Some(persistence) = &self.persistence {
            persistence.report(failure);
        }
    }

    /// Writes whatever is still deferred, as when the last user goes away.
    pub(crate) fn flush(&mut self, clock: &dyn Clock) {
        if let Some(persistence) = &self.persistence {
            let now = clock.now();
            let failure = persistence.flush(self.scheduler.get_mut(), now);
            persistence.report(failure);
        }
    }
}

/// Whether a wakeup at `after` comes before one at `before` (`None` = never).
fn is_sooner(after: Option<DateTime<Utc>>, before: Option<DateTime<Utc>>) -> bool {
    match (after, before) {
        (Some(a), Some(b)) => a < b,
        (Some(_), None) => true,
        (None, _) => false,
    }
}
