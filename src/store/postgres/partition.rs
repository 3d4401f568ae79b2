//! [`PartitionStore`]: the [`Store`] of one partition, written only under this node's lease.
//!
//! Every transaction that writes a partition's records starts with one statement that checks
//! the lease and locks the partition's row:
//!
//! ```sql
//! UPDATE se_partitions SET batch_seq = batch_seq + 1
//! WHERE partition = $1 AND owner = $me AND fence = $fence AND lease_expires_at > now()
//! ```
//!
//! No row means the lease is gone (expired by the database's clock, or taken over): the
//! transaction is rolled back and the call fails with [`StoreErrorKind::Fenced`]. A row means
//! the lease was valid when the transaction began, and the row lock makes a takeover (which
//! updates the same row) wait for this transaction: the batch commits before the new owner's
//! acquisition, so the new owner loads it. This is Temporal's shard `range_id` check, in one
//! statement.
//!
//! `batch_seq` tells whether a batch whose `COMMIT` got no answer was committed: once the
//! connection is back, the row shows the batch's number or the one before.

use std::collections::HashMap;
use std::sync::Arc;

use postgres::Transaction;

use crate::store::{RecordKind, Store, StoreChange, StoreError, StoreErrorKind, StoredRecord};

use super::commands::{Command, LOCK_PENDING, MARK_APPLIED};
use super::conn::{is_connection_error, pg_error, Failure, Statements};
use super::lease::db_fence;
use super::{partition_of, Lease, Shared};

const CHECK: &str = "UPDATE se_partitions SET batch_seq = batch_seq + 1 \
     WHERE partition = $1 AND owner = $2 AND fence = $3 AND lease_expires_at > now() \
     RETURNING batch_seq";
const LOCK_FOR_LOAD: &str = "SELECT 1 FROM se_partitions \
     WHERE partition = $1 AND owner = $2 AND fence = $3 AND lease_expires_at > now() FOR SHARE";
const HOLDER: &str = "SELECT owner, fence, batch_seq, lease_expires_at > now() \
     FROM se_partitions WHERE partition = $1";
const LOAD: &str = "SELECT kind, id, data FROM se_records WHERE partition = $1 ORDER BY kind, id";
const PUT: &str = "INSERT INTO se_records (partition, kind, id, data) \
     SELECT $1, k, i, d FROM unnest($2::int2[], $3::text[], $4::text[]) AS r(k, i, d) \
     ON CONFLICT (partition, kind, id) DO UPDATE SET data = excluded.data, running_on = NULL";
const DELETE: &str = "DELETE FROM se_records r USING unnest($2::int2[], $3::text[]) AS d(k, i) \
     WHERE r.partition = $1 AND r.kind = d.k AND r.id = d.i";

/// The most commands one [`PartitionStore::apply_commands`] call takes (a caller that gets
/// this many knows more may be waiting).
pub(crate) const COMMAND_BATCH: usize = 1_000;

/// The records of one partition, read and written under one lease. Get one from
/// [`PostgresCluster::partition_store`](crate::PostgresCluster::partition_store) after acquiring
/// the partition; give it to the engine that serves the partition.
///
/// A write refused with [`StoreErrorKind::Fenced`] must never be retried (see there): the store
/// is dead, drop it with the partition's state. Other errors (the database unreachable) leave
/// the batch unwritten, to be offered again, as with any [`Store`].
pub struct PartitionStore {
    pub(super) shared: Arc<Shared>,
    pub(super) lease: Lease,
}

impl std::fmt::Debug for PartitionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartitionStore")
            .field("lease", &self.lease)
            .finish_non_exhaustive()
    }
}

/// What one transaction did.
pub(super) enum Written {
    Committed,
    /// The server refused the `COMMIT`: nothing is durable.
    RolledBack(StoreError),
    /// `COMMIT` failed at the connection level: batch `seq` may or may not be durable.
    Unknown {
        seq: i64,
        error: StoreError,
    },
}

impl PartitionStore {
    pub(crate) fn new(shared: Arc<Shared>, lease: Lease) -> PartitionStore {
        PartitionStore { shared, lease }
    }

    /// The lease this store writes under.
    pub fn lease(&self) -> Lease {
        self.lease
    }

    /// Applies the partition's pending commands (see the command queue on
    /// [`PostgresCluster::submit`](crate::PostgresCluster::submit)): in one fenced transaction,
    /// locks up to 1 000 pending commands, hands them to `apply` in submission order, writes the
    /// changes `apply` returns and marks each command applied with its result (`apply` returns
    /// one result per command, in order). Returns how many commands were applied; call again
    /// while it returns 1 000.
    ///
    /// `apply` runs inside the transaction: it should only change the partition's state in
    /// memory and return the records to write. Call this with the partition's state locked, as
    /// for [`Store::persist`], and never while waiting for anything else from the database.
    ///
    /// # Errors
    /// [`StoreErrorKind::Fenced`]: drop the partition, as for a fenced persist. Any other error:
    /// the effects `apply` made in memory may or may not be durable, so the partition's state
    /// must be dropped and loaded again ([`Store::load`]) before it is served again: the
    /// database is the truth, and there a command is still pending exactly when its effects
    /// were not written.
    pub fn apply_commands<F>(&mut self, apply: F) -> Result<usize, StoreError>
    where
        F: FnOnce(&[Command]) -> (Vec<StoreChange>, Vec<String>),
    {
        let mut apply = Some(apply);
        let mut applied = 0;
        let written = self.shared.db.with(|conn| {
            let (client, mut statements) = conn.split();
            let mut tx = self.begin(client)?;
            let seq = self.check(&mut tx, &mut statements)?;
            let err = |e: postgres::Error| Failure::Error(pg_error("cannot apply commands", &e));
            let lock = statements.get(&mut tx, LOCK_PENDING).map_err(err)?;
            let part = self.lease.partition as i32;
            let commands: Vec<Command> = tx
                .query(&lock, &[&part, &(COMMAND_BATCH as i64)])
                .map_err(err)?
                .iter()
                .map(|row| Command {
                    id: row.get(0),
                    payload: row.get(1),
                })
                .collect();
            if commands.is_empty() {
                return Ok(Written::Committed);
            }
            let Some(apply) = apply.take() else {
                return Err(Failure::Error(StoreError::io(
                    None,
                    "commands applied twice",
                )));
            };
            let (changes, results) = apply(&commands);
            if results.len() != commands.len() {
                return Err(Failure::Error(StoreError::io(
                    None,
                    format!(
                        "{} results for {} commands; the batch was not written",
                        results.len(),
                        commands.len()
                    ),
                )));
            }
            self.write(&mut tx, &mut statements, &changes)?;
            let mark = statements.get(&mut tx, MARK_APPLIED).map_err(err)?;
            let ids: Vec<i64> = commands.iter().map(|c| c.id).collect();
            tx.query(&mark, &[&ids, &results]).map_err(err)?;
            applied = commands.len();
            Ok(commit(tx, seq))
        })?;
        self.settle(written).map(|()| applied)
    }

    pub(super) fn begin<'c>(
        &self,
        client: &'c mut postgres::Client,
    ) -> Result<Transaction<'c>, Failure> {
        client
            .transaction()
            .map_err(|e| Failure::first("cannot begin a transaction", &e))
    }

    /// The lease check that opens every writing transaction; the batch's number.
    pub(super) fn check(
        &self,
        tx: &mut Transaction<'_>,
        statements: &mut Statements<'_>,
    ) -> Result<i64, Failure> {
        let err = |e: postgres::Error| Failure::Error(pg_error("cannot check the lease", &e));
        let check = statements.get(tx, CHECK).map_err(err)?;
        let part = self.lease.partition as i32;
        let fence = db_fence(self.lease.fence);
        let member = self.shared.member.as_str();
        let row = tx
            .query_opt(&check, &[&part, &member, &fence])
            .map_err(err)?;
        match row {
            Some(row) => Ok(row.get(0)),
            None => Err(Failure::Error(self.fenced(tx))),
        }
    }

    /// The error for a lost lease, saying who holds the partition now.
    fn fenced(&self, tx: &mut Transaction<'_>) -> StoreError {
        let part = self.lease.partition as i32;
        let detail =
            match tx.query_opt(HOLDER, &[&part]) {
                Ok(Some(row)) => {
                    let owner: Option<String> = row.get(0);
                    let fence: i64 = row.get(1);
                    let live: Option<bool> = row.get(3);
                    format!(
                    "this node's fence is {}; the database has owner {}, fence {fence}, lease {}",
                    self.lease.fence,
                    owner.as_deref().unwrap_or("none"),
                    if live == Some(true) { "valid" } else { "expired" }
                )
                }
                Ok(None) => "the partition does not exist".to_string(),
                Err(e) => format!("and its holder cannot be read: {e}"),
            };
        StoreError::new(
            None,
            StoreErrorKind::Fenced {
                partition: self.lease.partition,
                detail,
            },
        )
    }

    /// Writes `changes` (the last change of each record wins, as if applied in order).
    pub(super) fn write(
        &self,
        tx: &mut Transaction<'_>,
        statements: &mut Statements<'_>,
        changes: &[StoreChange],
    ) -> Result<(), Failure> {
        let mut last: HashMap<(RecordKind, &str), Option<&str>> = HashMap::new();
        for change in changes {
            match change {
                StoreChange::Put(r) => last.insert((r.kind, &r.id), Some(&r.data)),
                StoreChange::Delete { kind, id } => last.insert((*kind, id), None),
            };
        }
        let (mut put_kinds, mut put_ids, mut put_data) = (Vec::new(), Vec::new(), Vec::new());
        let (mut del_kinds, mut del_ids) = (Vec::new(), Vec::new());
        for ((kind, id), data) in last {
            self.check_owner(kind, id)?;
            match data {
                Some(data) => {
                    put_kinds.push(kind_code(kind));
                    put_ids.push(id);
                    put_data.push(data);
                }
                None => {
                    del_kinds.push(kind_code(kind));
                    del_ids.push(id);
                }
            }
        }
        let err = |e: postgres::Error| Failure::Error(pg_error("cannot write records", &e));
        let part = self.lease.partition as i32;
        if !del_ids.is_empty() {
            let delete = statements.get(tx, DELETE).map_err(err)?;
            tx.execute(&delete, &[&part, &del_kinds, &del_ids])
                .map_err(err)?;
        }
        if !put_ids.is_empty() {
            let put = statements.get(tx, PUT).map_err(err)?;
            tx.execute(&put, &[&part, &put_kinds, &put_ids, &put_data])
                .map_err(err)?;
        }
        Ok(())
    }

    /// Schedules and standalone workflows live in the partition their id hashes to; a record
    /// written elsewhere would be invisible to the node that owns it.
    fn check_owner(&self, kind: RecordKind, id: &str) -> Result<(), Failure> {
        if kind == RecordKind::PendingAction {
            return Ok(());
        }
        let home = partition_of(id, self.shared.partitions);
        if home == self.lease.partition {
            return Ok(());
        }
        Err(Failure::Error(StoreError::new(
            None,
            StoreErrorKind::InvalidRecord {
                table: kind.name().to_string(),
                id: id.to_string(),
                detail: format!(
                    "belongs to partition {home}, not {}; the batch was not written",
                    self.lease.partition
                ),
            },
        )))
    }

    /// Turns an unanswered `COMMIT` into a definite answer when the database can tell.
    fn settle(&self, written: Written) -> Result<(), StoreError> {
        let (seq, error) = match written {
            Written::Committed => return Ok(()),
            Written::RolledBack(error) => return Err(error),
            Written::Unknown { seq, error } => (seq, error),
        };
        let part = self.lease.partition as i32;
        let holder = self.shared.db.with(|conn| {
            conn.client
                .query_opt(HOLDER, &[&part])
                .map_err(|e| Failure::first("cannot read the partition", &e))
        });
        match holder {
            Ok(Some(row)) => {
                let owner: Option<String> = row.get(0);
                let fence: i64 = row.get(1);
                let batch: i64 = row.get(2);
                let ours = owner.as_deref() == Some(self.shared.member.as_str())
                    && u64::try_from(fence).ok() == Some(self.lease.fence);
                if ours && batch >= seq {
                    Ok(())
                } else if ours {
                    Err(StoreError::io(
                        None,
                        format!("the batch was not committed ({error})"),
                    ))
                } else {
                    Err(StoreError::io(
                        None,
                        format!(
                            "the batch's commit got no answer and the partition has changed \
                             hands since; whether it was written is unknown ({error})"
                        ),
                    ))
                }
            }
            _ => Err(StoreError::io(
                None,
                format!(
                    "the batch's commit got no answer; whether it was written is unknown ({error})"
                ),
            )),
        }
    }
}

/// Commits; a connection-level failure leaves the outcome to be settled.
pub(super) fn commit(tx: Transaction<'_>, seq: i64) -> Written {
    match tx.commit() {
        Ok(()) => Written::Committed,
        Err(e) if is_connection_error(&e) => Written::Unknown {
            seq,
            error: pg_error("cannot commit", &e),
        },
        Err(e) => Written::RolledBack(pg_error("cannot commit", &e)),
    }
}

impl Store for PartitionStore {
    /// The partition's records, read under the lease (a lost lease is
    /// [`StoreErrorKind::Fenced`]).
    fn load(&mut self) -> Result<Vec<StoredRecord>, StoreError> {
        self.shared.db.with(|conn| {
            let (client, mut statements) = conn.split();
            let mut tx = self.begin(client)?;
            let err = |e: postgres::Error| Failure::Error(pg_error("cannot load records", &e));
            let lock = statements.get(&mut tx, LOCK_FOR_LOAD).map_err(err)?;
            let part = self.lease.partition as i32;
            let fence = db_fence(self.lease.fence);
            let member = self.shared.member.as_str();
            if tx
                .query_opt(&lock, &[&part, &member, &fence])
                .map_err(err)?
                .is_none()
            {
                return Err(Failure::Error(self.fenced(&mut tx)));
            }
            let load = statements.get(&mut tx, LOAD).map_err(err)?;
            let mut records = Vec::new();
            for row in tx.query(&load, &[&part]).map_err(err)? {
                let code: i16 = row.get(0);
                let id: String = row.get(1);
                let Some(kind) = kind_from(code) else {
                    return Err(Failure::Error(StoreError::new(
                        None,
                        StoreErrorKind::InvalidRecord {
                            table: "se_records".into(),
                            id,
                            detail: format!("unknown record kind {code}"),
                        },
                    )));
                };
                records.push(StoredRecord {
                    kind,
                    id,
                    data: row.get(2),
                });
            }
            tx.commit().map_err(err)?;
            Ok(records)
        })
    }

    /// Writes `changes` in one transaction that first checks the lease (see the module docs).
    fn persist(&mut self, changes: &[StoreChange]) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        let written = self.shared.db.with(|conn| {
            let (client, mut statements) = conn.split();
            let mut tx = self.begin(client)?;
            let seq = self.check(&mut tx, &mut statements)?;
            self.write(&mut tx, &mut statements, changes)?;
            Ok(commit(tx, seq))
        })?;
        self.settle(written)
    }
}

/// The stored code of a record kind.
pub(crate) fn kind_code(kind: RecordKind) -> i16 {
    match kind {
        RecordKind::Schedule => 1,
        RecordKind::Workflow => 2,
        RecordKind::PendingAction => 3,
    }
}

/// The record kind of a stored code.
pub(crate) fn kind_from(code: i16) -> Option<RecordKind> {
    RecordKind::ALL.into_iter().find(|k| kind_code(*k) == code)
}
