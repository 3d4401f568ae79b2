//! Partition leases: acquire, renew (in one statement for all of a node's partitions), release;
//! and [`Held`], this node's view of the leases it holds.
//!
//! The database decides: a lease is valid while `lease_expires_at > now()` by the database's
//! clock, and the fencing token (`fence`) goes up by one at every acquisition, so a write
//! checked against (owner, fence, expiry) can never come from a former owner.
//!
//! Locally, a lease counts as held only until `renewal sent + lease - margin`, on the monotonic
//! clock and on the wall clock (whichever ends it first), so that a node paused (SIGSTOP,
//! machine suspend) or cut off from the database stops dispatching before the database can give
//! the partition to anyone else, without having to ask it. A lease whose local deadline has
//! passed is never extended again: it is reported lost, even if a late renewal succeeded.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

use parking_lot::Mutex;

use super::conn::Conn;

/// A partition held by this node, with the fencing token the database gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Lease {
    /// The partition, `0..partitions`.
    pub partition: u32,
    /// The fencing token: it increases at every acquisition of the partition, by any node.
    pub fence: u64,
}

const ACQUIRE: &str = "UPDATE se_partitions \
     SET owner = $1, fence = fence + 1, lease_expires_at = now() + $3::float8 * interval '1 millisecond' \
     WHERE partition = $2 AND (owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at <= now()) \
     RETURNING fence";

const RENEW: &str = "UPDATE se_partitions p \
     SET lease_expires_at = now() + $4::float8 * interval '1 millisecond' \
     FROM unnest($2::int4[], $3::int8[]) AS l(part, fence) \
     WHERE p.partition = l.part AND p.fence = l.fence AND p.owner = $1 \
       AND p.lease_expires_at > now() \
     RETURNING p.partition";

pub(super) const RELEASE: &str = "WITH released AS ( \
         UPDATE se_partitions SET owner = NULL, lease_expires_at = NULL \
         WHERE partition = $2 AND owner = $1 AND fence = $3 RETURNING partition) \
     SELECT pg_notify('se_partitions', partition::text) FROM released";

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn fence_of(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

pub(super) fn db_fence(fence: u64) -> i64 {
    i64::try_from(fence).unwrap_or(i64::MAX)
}

/// Takes `partition` if it is free or its lease expired; `None` if another node holds it.
pub(crate) fn acquire(
    conn: &mut Conn,
    member: &str,
    partition: u32,
    lease: Duration,
) -> Result<Option<Lease>, postgres::Error> {
    let statement = conn.prepared(ACQUIRE)?;
    let part = partition as i32;
    let row = conn
        .client
        .query_opt(&statement, &[&member, &part, &millis(lease)])?;
    Ok(row.map(|row| Lease {
        partition,
        fence: fence_of(row.get(0)),
    }))
}

/// Extends every lease in `leases` that this node still holds; returns the partitions renewed.
/// The others were lost: expired by the database's clock, or taken over.
pub(crate) fn renew(
    conn: &mut Conn,
    member: &str,
    leases: &[Lease],
    lease: Duration,
) -> Result<Vec<u32>, postgres::Error> {
    if leases.is_empty() {
        return Ok(Vec::new());
    }
    // Ascending partition order, so two renewals never wait on each other's rows in a cycle.
    let mut sorted = leases.to_vec();
    sorted.sort();
    let parts: Vec<i32> = sorted.iter().map(|l| l.partition as i32).collect();
    let fences: Vec<i64> = sorted.iter().map(|l| db_fence(l.fence)).collect();
    let statement = conn.prepared(RENEW)?;
    let rows = conn
        .client
        .query(&statement, &[&member, &parts, &fences, &millis(lease)])?;
    Ok(rows
        .iter()
        .map(|r| u32::try_from(r.get::<_, i32>(0)).unwrap_or(0))
        .collect())
}

/// Gives `lease` back at once (and tells the other nodes); `false` if it was no longer held.
pub(crate) fn release(
    conn: &mut Conn,
    member: &str,
    lease: Lease,
) -> Result<bool, postgres::Error> {
    let statement = conn.prepared(RELEASE)?;
    let rows = conn.client.query(
        &statement,
        &[&member, &(lease.partition as i32), &db_fence(lease.fence)],
    )?;
    Ok(!rows.is_empty())
}

/// When a lease stops counting as held locally.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    monotonic: Instant,
    wall: SystemTime,
}

impl Deadline {
    /// The deadline of a lease whose acquisition or renewal was sent at `sent` (wall: `wall`).
    pub fn after(sent: Instant, wall: SystemTime, valid_for: Duration) -> Deadline {
        Deadline {
            monotonic: sent + valid_for,
            wall: wall + valid_for,
        }
    }

    /// Whether the lease still counts as held. The monotonic clock covers a wall clock set back;
    /// the wall clock covers a suspended machine, during which the monotonic clock stands still.
    pub fn is_open(&self) -> bool {
        Instant::now() < self.monotonic && SystemTime::now() < self.wall
    }
}

/// One lease this node holds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HeldLease {
    pub lease: Lease,
    pub deadline: Deadline,
    /// The keeper asked the host to give this partition back (balancing); asked once.
    pub release_requested: bool,
}

/// The leases this node holds, by partition.
#[derive(Debug, Default)]
pub(crate) struct Held {
    leases: Mutex<BTreeMap<u32, HeldLease>>,
}

impl Held {
    /// The lease of `partition` if it is held and its local deadline has not passed.
    pub fn get(&self, partition: u32) -> Option<Lease> {
        self.leases
            .lock()
            .get(&partition)
            .filter(|h| h.deadline.is_open())
            .map(|h| h.lease)
    }

    /// Every lease held, open or not.
    pub fn all(&self) -> Vec<HeldLease> {
        self.leases.lock().values().copied().collect()
    }

    pub fn insert(&self, lease: Lease, deadline: Deadline) {
        self.leases.lock().insert(
            lease.partition,
            HeldLease {
                lease,
                deadline,
                release_requested: false,
            },
        );
    }

    /// Removes `lease` if it is the one held for its partition; whether it was.
    pub fn remove(&self, lease: Lease) -> bool {
        let mut leases = self.leases.lock();
        if leases
            .get(&lease.partition)
            .is_some_and(|h| h.lease == lease)
        {
            leases.remove(&lease.partition);
            true
        } else {
            false
        }
    }

    /// Moves the deadlines of `renewed` (partitions of `sent_with`) to `deadline`, except for
    /// leases whose deadline has already passed: once [`get`](Held::get) said a lease is gone,
    /// the host may have dropped the partition, so it stays gone (it is taken out by
    /// [`take_expired`](Held::take_expired) and reported lost).
    pub fn extend(&self, sent_with: &[Lease], renewed: &[u32], deadline: Deadline) {
        let mut leases = self.leases.lock();
        for lease in sent_with {
            if !renewed.contains(&lease.partition) {
                continue;
            }
            if let Some(held) = leases.get_mut(&lease.partition) {
                if held.lease == *lease && held.deadline.is_open() {
                    held.deadline = deadline;
                }
            }
        }
    }

    /// Marks `lease` as asked back; `false` if it already was (or is not held).
    pub fn request_release(&self, lease: Lease) -> bool {
        match self.leases.lock().get_mut(&lease.partition) {
            Some(held) if held.lease == lease && !held.release_requested => {
                held.release_requested = true;
                true
            }
            _ => false,
        }
    }

    /// The earliest monotonic deadline of the leases held.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.leases
            .lock()
            .values()
            .map(|h| h.deadline.monotonic)
            .min()
    }

    /// Removes and returns every lease whose local deadline has passed.
    pub fn take_expired(&self) -> Vec<Lease> {
        let mut leases = self.leases.lock();
        let expired: Vec<Lease> = leases
            .values()
            .filter(|h| !h.deadline.is_open())
            .map(|h| h.lease)
            .collect();
        for lease in &expired {
            leases.remove(&lease.partition);
        }
        expired
    }

    /// Removes and returns every lease.
    pub fn take_all(&self) -> Vec<Lease> {
        std::mem::take(&mut *self.leases.lock())
            .into_values()
            .map(|h| h.lease)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(partition: u32, fence: u64) -> Lease {
        Lease { partition, fence }
    }

    #[test]
    fn a_lease_counts_as_held_until_its_local_deadline() {
        let held = Held::default();
        let now = Instant::now();
        held.insert(
            lease(1, 3),
            Deadline::after(now, SystemTime::now(), Duration::from_secs(60)),
        );
        held.insert(
            lease(2, 1),
            Deadline::after(now, SystemTime::now(), Duration::ZERO),
        );
        assert_eq!(held.get(1), Some(lease(1, 3)));
        assert_eq!(held.get(2), None, "deadline passed");
        assert_eq!(held.take_expired(), vec![lease(2, 1)]);
        assert_eq!(held.all().len(), 1);
    }

    #[test]
    fn a_wall_clock_past_the_deadline_ends_the_lease() {
        let held = Held::default();
        // As after a suspend: the monotonic deadline is far, the wall-clock one has passed.
        let wall = SystemTime::now() - Duration::from_secs(120);
        held.insert(
            lease(0, 1),
            Deadline::after(Instant::now(), wall, Duration::from_secs(60)),
        );
        assert_eq!(held.get(0), None);
    }

    #[test]
    fn only_the_held_fence_is_removed_or_extended() {
        let held = Held::default();
        let short = Deadline::after(Instant::now(), SystemTime::now(), Duration::ZERO);
        held.insert(lease(4, 2), short);
        assert!(
            !held.remove(lease(4, 1)),
            "an older fence is not the held lease"
        );
        let long = Deadline::after(Instant::now(), SystemTime::now(), Duration::from_secs(60));
        held.extend(&[lease(4, 1)], &[4], long);
        assert_eq!(held.get(4), None, "renewing an older fence extends nothing");
        held.extend(&[lease(4, 2)], &[4], long);
        assert_eq!(
            held.get(4),
            None,
            "a lease past its deadline is not reopened"
        );
        assert_eq!(held.take_expired(), vec![lease(4, 2)]);
        held.insert(lease(4, 2), long);
        held.extend(&[lease(4, 2)], &[4], long);
        assert_eq!(held.get(4), Some(lease(4, 2)));
        assert!(held.request_release(lease(4, 2)));
        assert!(!held.request_release(lease(4, 2)), "asked once");
        assert!(held.remove(lease(4, 2)));
        assert!(held.take_all().is_empty());
    }
}
