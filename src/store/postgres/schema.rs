//! The cluster's tables, created idempotently, and the checks that a database fits this code and
//! this configuration.
//!
//! Tables (all prefixed `se_`, in the connection's `search_path` schema):
//! * `se_schema`: one row: schema version, partition count, creation time.
//! * `se_partitions`: one row per partition: owner (a member id), fencing token, lease expiry
//!   (database clock), and `batch_seq`, bumped by every batch written under the lease so that
//!   a batch whose commit was cut off can be told apart from one that was never committed.
//! * `se_nodes`: the live members, for balancing (an expiry renewed with the leases).
//! * `se_records`: the [`Store`](crate::store::Store) records, keyed by (partition, kind, id);
//!   `running_on` names the member whose executor runs a pending start that was handed over
//!   with its partition (see `PartitionStore::hand_over`). Added to tables created before it
//!   (nullable, so older nodes neither see nor need it).
//! * `se_commands`: verbs for a partition, queued by nodes that do not own it.
//! * `se_stops`: cancels and terminations addressed to the member whose executor runs the
//!   run, sent by the owner that adopted it (see `stops.rs`). Created by `CREATE TABLE IF NOT
//!   EXISTS` on a database made before it, like every table here.
//!
//! Invariants: every statement here runs in one transaction under a transaction-scoped advisory
//! lock, so concurrent first connects neither race on `CREATE TABLE` nor insert the partitions
//! twice; the partition count, once stored, never changes.

use postgres::Client;

use crate::store::{StoreError, StoreErrorKind};

use super::conn::pg_error;

/// The schema version this code writes and the newest it understands.
pub(crate) const SCHEMA_VERSION: i32 = 1;

/// Key of the advisory lock that serialises schema creation ("se-schema" in ASCII).
const SCHEMA_LOCK: i64 = 0x7365_2d73_6368_656d;

const CREATE: &str = "
CREATE TABLE IF NOT EXISTS se_schema (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version integer NOT NULL,
    partitions integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS se_partitions (
    partition integer PRIMARY KEY,
    owner text,
    fence bigint NOT NULL DEFAULT 0,
    lease_expires_at timestamptz,
    batch_seq bigint NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS se_nodes (
    member text PRIMARY KEY,
    node_id text NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS se_records (
    partition integer NOT NULL,
    kind smallint NOT NULL,
    id text NOT NULL,
    data text NOT NULL,
    running_on text,
    PRIMARY KEY (partition, kind, id)
);
CREATE TABLE IF NOT EXISTS se_commands (
    id bigserial PRIMARY KEY,
    partition integer NOT NULL,
    command text NOT NULL,
    state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'applied')),
    result text,
    submitted_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    done_at timestamptz
);
CREATE INDEX IF NOT EXISTS se_commands_pending ON se_commands (partition, id)
    WHERE state = 'pending';
CREATE TABLE IF NOT EXISTS se_stops (
    member text NOT NULL,
    id text NOT NULL,
    action text NOT NULL,
    sent_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (member, id)
);
";

/// Whether `se_records` has the `running_on` column (tables created by earlier versions do not).
const HAS_RUNNING_ON: &str = "SELECT 1 FROM information_schema.columns \
     WHERE table_schema = current_schema() AND table_name = 'se_records' \
     AND column_name = 'running_on'";

/// Added only when missing: `ALTER TABLE` locks the table even when it has nothing to do.
const ADD_RUNNING_ON: &str = "ALTER TABLE se_records ADD COLUMN IF NOT EXISTS running_on text";

/// Creates what is missing and checks what exists against `partitions`.
///
/// # Errors
/// [`StoreErrorKind::NewerSchema`] for a database written by a newer version of this crate,
/// [`StoreErrorKind::Misconfigured`] for a partition count other than the stored one,
/// [`StoreErrorKind::Corrupt`] for a partitions table that disagrees with the stored count.
pub(crate) fn ensure(client: &mut Client, partitions: u32) -> Result<(), StoreError> {
    let err = |e: postgres::Error| pg_error("cannot create the cluster's tables", &e);
    let mut tx = client.transaction().map_err(err)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
        .map_err(err)?;
    tx.batch_execute(CREATE).map_err(err)?;
    if tx.query_opt(HAS_RUNNING_ON, &[]).map_err(err)?.is_none() {
        tx.batch_execute(ADD_RUNNING_ON).map_err(err)?;
    }
    let row = tx
        .query_opt("SELECT version, partitions FROM se_schema", &[])
        .map_err(err)?;
    let wanted = i32::try_from(partitions).unwrap_or(i32::MAX);
    match row {
        None => {
            tx.execute(
                "INSERT INTO se_schema (version, partitions) VALUES ($1, $2)",
                &[&SCHEMA_VERSION, &wanted],
            )
            .map_err(err)?;
            tx.execute(
                "INSERT INTO se_partitions (partition) SELECT generate_series(0, $1 - 1) \
                 ON CONFLICT DO NOTHING",
                &[&wanted],
            )
            .map_err(err)?;
        }
        Some(row) => {
            let version: i32 = row.get(0);
            let stored: i32 = row.get(1);
            if version > SCHEMA_VERSION {
                return Err(StoreError::new(
                    None,
                    StoreErrorKind::NewerSchema {
                        found: u32::try_from(version).unwrap_or(u32::MAX),
                        supported: SCHEMA_VERSION as u32,
                    },
                ));
            }
            if stored != wanted {
                return Err(StoreError::new(
                    None,
                    StoreErrorKind::Misconfigured {
                        detail: format!(
                            "this database's cluster has {stored} partitions, but this node is \
                             configured with {partitions}; every node must use the same count \
                             (it cannot change once schedules are stored)"
                        ),
                    },
                ));
            }
        }
    }
    let count: i64 = tx
        .query_one(
            "SELECT count(*) FROM se_partitions WHERE partition >= 0 AND partition < $1",
            &[&wanted],
        )
        .map_err(err)?
        .get(0);
    if count != i64::from(wanted) {
        return Err(StoreError::new(
            None,
            StoreErrorKind::Corrupt {
                detail: format!("se_partitions has {count} of its {wanted} partition rows"),
            },
        ));
    }
    tx.commit().map_err(err)
}
