//! A graceful hand-over of a partition, in one fenced transaction: the partition's last
//! changes, the marks of the pending starts whose runs are still open on some member's
//! executor, and the release of the lease.
//!
//! A mark is the `running_on` column of a pending start's record (`se_records`, kind pending
//! action): the member id whose executor runs it. The next owner restores a marked start as
//! running instead of dispatching it again, and waits for its close from that member
//! (`docs/cluster.md` §7).
//!
//! Invariants:
//! * A mark lives only on a record that exists: it is set on the records present when the
//!   hand-over commits (a run closed in the same batch takes its record, and no mark, along),
//!   a record written again (a new start under the same key, a redelivery) loses its mark,
//!   and a deleted record takes its mark with it.
//! * The changes, the marks and the release commit together, after the lease check: the next
//!   owner finds the partition released with its marks, or still held by this node, never
//!   the one without the other.

use crate::store::{RecordKind, StoreChange, StoreError};

use super::conn::{pg_error, Failure};
use super::lease::{db_fence, RELEASE};
use super::partition::{commit, kind_code, PartitionStore, Written};

const MARK: &str = "UPDATE se_records r SET running_on = m.member \
     FROM unnest($3::text[], $4::text[]) AS m(id, member) \
     WHERE r.partition = $1 AND r.kind = $2 AND r.id = m.id";

const MARKED: &str = "SELECT id, running_on FROM se_records \
     WHERE partition = $1 AND kind = $2 AND running_on IS NOT NULL";

/// A pending start whose run is open on a member's executor: the record's key, the member id.
pub(crate) type RunningMark = (String, String);

impl PartitionStore {
    /// Writes `changes`, marks the pending starts `running` as running on their members, and
    /// releases the lease, in one transaction under the lease check. The lease stops counting
    /// as held here first, whatever the outcome: after a failure it expires by itself.
    ///
    /// # Errors
    /// [`StoreErrorKind::Fenced`](crate::store::StoreErrorKind::Fenced) if the lease was gone;
    /// an I/O error if the database could not be reached (nothing written, or, when the
    /// `COMMIT` got no answer, unknown).
    pub(crate) fn hand_over(
        &mut self,
        changes: &[StoreChange],
        running: &[RunningMark],
    ) -> Result<(), StoreError> {
        self.shared.held.remove(self.lease);
        let written = self.shared.db.with(|conn| {
            let (client, mut statements) = conn.split();
            let mut tx = self.begin(client)?;
            let seq = self.check(&mut tx, &mut statements)?;
            self.write(&mut tx, &mut statements, changes)?;
            let err = |e: postgres::Error| Failure::Error(pg_error("cannot hand over", &e));
            let part = self.lease.partition as i32;
            if !running.is_empty() {
                let (ids, members): (Vec<&str>, Vec<&str>) = running
                    .iter()
                    .map(|(id, member)| (id.as_str(), member.as_str()))
                    .unzip();
                let mark = statements.get(&mut tx, MARK).map_err(err)?;
                let kind = kind_code(RecordKind::PendingAction);
                tx.execute(&mark, &[&part, &kind, &ids, &members])
                    .map_err(err)?;
            }
            let release = statements.get(&mut tx, RELEASE).map_err(err)?;
            let fence = db_fence(self.lease.fence);
            let member = self.shared.member.as_str();
            tx.query(&release, &[&member, &part, &fence]).map_err(err)?;
            Ok(commit(tx, seq))
        })?;
        match written {
            Written::Committed => Ok(()),
            Written::RolledBack(error) => Err(error),
            Written::Unknown { error, .. } => Err(StoreError::io(
                None,
                format!(
                    "the hand-over's commit got no answer; whether it was written is unknown \
                     (if not, the lease expires by itself) ({error})"
                ),
            )),
        }
    }

    /// The partition's pending starts marked as running on a member (see the module docs).
    ///
    /// # Errors
    /// An I/O error if the database could not be reached.
    pub(crate) fn running_marks(&mut self) -> Result<Vec<RunningMark>, StoreError> {
        let part = self.lease.partition as i32;
        let kind = kind_code(RecordKind::PendingAction);
        let rows = self.shared.db.with(|conn| {
            let (client, mut statements) = conn.split();
            let marked = statements
                .get(client, MARKED)
                .map_err(|e| Failure::first("cannot read the running marks", &e))?;
            client
                .query(&marked, &[&part, &kind])
                .map_err(|e| Failure::first("cannot read the running marks", &e))
        })?;
        Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
    }
}
