//! Cancels and terminations for runs open on another member's executor: the owner of a
//! partition that adopted a run at a hand-over (`handover.rs`) addresses the stop to the member
//! running it, through the database (`se_stops`, one row per member and stop, with `NOTIFY
//! se_stops` carrying the member id); that member takes its rows and hands them to its
//! executor.
//!
//! Invariants:
//! * A row is keyed by (member, the stop's pending key): sending a stop again while its row
//!   waits adds nothing, so a resend after an unknown commit is harmless.
//! * A member takes its rows with one `DELETE … RETURNING`: each row reaches at most one
//!   taker, once. A stop sent again after it was taken (the partition moved on, its next owner
//!   redelivered the pending stop) reaches the executor again: stops are idempotent requests.
//! * Rows addressed to a member that is gone are never taken; the sender deletes them when it
//!   redelivers the run and its stops itself ([`PostgresCluster::forget_stops`]).

use super::conn::{pg_error, Failure};
use super::PostgresCluster;
use crate::store::StoreError;

const SEND: &str = "INSERT INTO se_stops (member, id, action) \
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING";
const NOTIFY: &str = "SELECT pg_notify('se_stops', m) FROM unnest($1::text[]) AS m";
const TAKE: &str = "DELETE FROM se_stops WHERE member = $1 RETURNING action";
const FORGET: &str = "DELETE FROM se_stops WHERE member = $1 AND id = ANY($2::text[])";

/// A stop on its way: the member running the run, the stop's key, the encoded action.
pub(crate) type StopOrder = (String, String, String);

impl PostgresCluster {
    /// Addresses `stops` to their members and notifies them, in one transaction.
    ///
    /// # Errors
    /// An I/O error if the database could not be reached (then nothing, or everything, was
    /// sent: sending again is harmless).
    pub(crate) fn send_stops(&self, stops: &[StopOrder]) -> Result<(), StoreError> {
        if stops.is_empty() {
            return Ok(());
        }
        let mut members: Vec<&str> = stops.iter().map(|s| s.0.as_str()).collect();
        members.sort_unstable();
        members.dedup();
        let column = |f: fn(&StopOrder) -> &str| stops.iter().map(f).collect::<Vec<&str>>();
        let (to, ids, actions) = (column(|s| &s.0), column(|s| &s.1), column(|s| &s.2));
        self.shared.db.with(|conn| {
            let err = |e: postgres::Error| Failure::Error(pg_error("cannot send a stop", &e));
            let mut tx = conn
                .client
                .transaction()
                .map_err(|e| Failure::first("cannot send a stop", &e))?;
            tx.execute(SEND, &[&to, &ids, &actions]).map_err(err)?;
            tx.execute(NOTIFY, &[&members]).map_err(err)?;
            tx.commit().map_err(err)
        })
    }

    /// Takes the stops addressed to this member (each is taken once).
    ///
    /// # Errors
    /// An I/O error if the database could not be reached.
    pub(crate) fn take_stops(&self) -> Result<Vec<String>, StoreError> {
        let member = self.shared.member.as_str();
        let rows = self.shared.db.with(|conn| {
            conn.client
                .query(TAKE, &[&member])
                .map_err(|e| Failure::first("cannot take the stops sent here", &e))
        })?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    /// Deletes the stops `ids` addressed to `member`, which is gone and will never take them.
    ///
    /// # Errors
    /// An I/O error if the database could not be reached.
    pub(crate) fn forget_stops(&self, member: &str, ids: &[String]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        self.shared.db.with(|conn| {
            conn.client
                .execute(FORGET, &[&member, &ids])
                .map(|_| ())
                .map_err(|e| Failure::first("cannot forget the stops of a gone member", &e))
        })
    }
}
