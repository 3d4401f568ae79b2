//! The command queue: how a node asks a partition's owner to apply a verb.
//!
//! A caller inserts the command (opaque text: the host encodes its verbs) with `NOTIFY
//! se_commands`, and waits for `NOTIFY se_results` carrying the command's id. The owner applies
//! pending commands in the same fenced transaction that writes the state they change and marks
//! them applied with their results ([`PartitionStore::apply_commands`]). The caller reads the
//! result, then deletes the row.
//!
//! Exactly once: a command's effect is durable if and only if its row says `applied`, because both
//! are written by one transaction, and that transaction holds the command's row lock from before
//! the host applies it until it commits. At its deadline the caller withdraws the command by
//! deleting it while it is still pending; the delete waits for an owner's transaction that holds
//! the row, then finds it `applied`, and the caller takes the result instead. An owner never
//! takes a withdrawn (deleted) or expired command. So the caller's answer (result, or "not
//! applied") is always the truth, and a command is never applied twice: an owner whose
//! transaction failed reloads its partition from the database, where the command is still
//! pending.
//!
//! [`PartitionStore::apply_commands`]: super::PartitionStore::apply_commands

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use parking_lot::Mutex;

use crate::store::{StoreError, StoreErrorKind};

use super::conn::{pg_error, Conn, Database, Failure};

/// How often a waiting caller reads its command's row even without a notification (they can
/// be missed while the listener reconnects).
const RECHECK: Duration = Duration::from_millis(200);

const SUBMIT: &str = "WITH submitted AS ( \
         INSERT INTO se_commands (partition, command, expires_at) \
         VALUES ($1, $2, now() + $3::float8 * interval '1 millisecond') RETURNING id, partition) \
     SELECT id, pg_notify('se_commands', partition::text)::text FROM submitted";
const READ_RESULT: &str = "SELECT result FROM se_commands WHERE id = $1 AND state = 'applied'";
const FORGET: &str = "DELETE FROM se_commands WHERE id = $1";
const WITHDRAW: &str = "DELETE FROM se_commands WHERE id = $1 AND state = 'pending' RETURNING id";
/// Rows whose caller went away, an hour after they were done or expired.
const SWEEP: &str = "DELETE FROM se_commands WHERE \
     (state = 'applied' AND done_at < now() - interval '1 hour') \
     OR (state = 'pending' AND expires_at < now() - interval '1 hour')";

/// A command for a partition, as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The queue's id for it (increasing in submission order).
    pub id: i64,
    /// What the caller submitted.
    pub payload: String,
}

/// Callers waiting for their command's result, by command id.
#[derive(Default)]
pub(crate) struct Waiters {
    waiting: Mutex<HashMap<i64, Sender<()>>>,
}

impl Waiters {
    /// Wakes the caller of command `id` (a notification said it is done).
    pub fn wake(&self, id: i64) {
        if let Some(waiter) = self.waiting.lock().get(&id) {
            let _ = waiter.try_send(());
        }
    }

    /// Wakes every caller (notifications may have been missed).
    pub fn wake_all(&self) {
        for waiter in self.waiting.lock().values() {
            let _ = waiter.try_send(());
        }
    }

    fn add(&self, id: i64) -> Receiver<()> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        self.waiting.lock().insert(id, tx);
        rx
    }

    fn remove(&self, id: i64) {
        self.waiting.lock().remove(&id);
    }
}

/// Submits `command` for `partition` and waits up to `timeout` for its owner's result.
pub(crate) fn submit(
    db: &Database,
    waiters: &Waiters,
    partition: u32,
    command: &str,
    timeout: Duration,
) -> Result<String, StoreError> {
    let deadline = Instant::now() + timeout;
    let mut inserted: Option<(i64, Receiver<()>)> = None;
    let submitted = db.with(|conn| {
        let (client, mut statements) = conn.split();
        let first = |e: postgres::Error| Failure::first("cannot submit a command", &e);
        let mut tx = client.transaction().map_err(first)?;
        let err = |e: postgres::Error| Failure::Error(pg_error("cannot submit a command", &e));
        let submit = statements.get(&mut tx, SUBMIT).map_err(err)?;
        let part = partition as i32;
        let millis = timeout.as_secs_f64() * 1000.0;
        let id: i64 = tx
            .query_one(&submit, &[&part, &command, &millis])
            .map_err(err)?
            .get(0);
        // Registered before the commit: the owner cannot see the command, let alone answer it,
        // before then.
        inserted = Some((id, waiters.add(id)));
        tx.commit().map_err(err)
    });
    let Some((id, wake)) = inserted else {
        // Failed before the commit: nothing was submitted.
        return Err(submitted
            .err()
            .unwrap_or_else(|| StoreError::io(None, "the command was not submitted")));
    };
    if let Err(e) = submitted {
        // The commit failed: it may or may not have happened. Settle it now.
        waiters.remove(id);
        return match settle(db, id) {
            Ok(Some(result)) => Ok(result),
            Ok(None) => Err(e),
            Err(_) => Err(unknown(partition, &e)),
        };
    }
    let applied = wait(db, id, &wake, deadline);
    waiters.remove(id);
    let settled = match applied {
        Some(result) => Ok(Some(result)),
        None => settle(db, id),
    };
    match settled {
        Ok(Some(result)) => Ok(result),
        Ok(None) => Err(StoreError::new(
            None,
            StoreErrorKind::Unavailable {
                detail: format!(
                    "no node applied the command for partition {partition} within {timeout:?}; \
                     it was withdrawn and will not be applied"
                ),
            },
        )),
        Err(e) => Err(unknown(partition, &e)),
    }
}

fn unknown(partition: u32, e: &StoreError) -> StoreError {
    StoreError::io(
        None,
        format!(
            "the outcome of the command for partition {partition} is unknown (it may have been \
             applied before its deadline, never after): {e}"
        ),
    )
}

/// Waits for command `id` to be applied; `None` at the deadline.
fn wait(db: &Database, id: i64, wake: &Receiver<()>, deadline: Instant) -> Option<String> {
    loop {
        let now = Instant::now();
        if now >= deadline {
            return None;
        }
        let _ = wake.recv_timeout((deadline - now).min(RECHECK));
        // A failed read is not an answer: keep waiting, the deadline settles it.
        if let Ok(Some(result)) = db.with(|conn| take_result(conn, id)) {
            return Some(result);
        }
    }
}

/// Withdraws command `id` unless it was applied: `Some(result)` if it was, `None` if it never
/// will be.
fn settle(db: &Database, id: i64) -> Result<Option<String>, StoreError> {
    let withdrawn = db.with(|conn| {
        let first = |e: postgres::Error| Failure::first("cannot withdraw a command", &e);
        let statement = conn.prepared(WITHDRAW).map_err(first)?;
        let rows = conn.client.query(&statement, &[&id]).map_err(first)?;
        Ok(!rows.is_empty())
    })?;
    if withdrawn {
        return Ok(None);
    }
    db.with(|conn| take_result(conn, id))
}

/// The result of command `id` if it was applied (its row is removed then), else `None`.
///
/// Read first, removed after: a call whose first statement fails at the connection level runs
/// again, and a removal whose answer was lost would then find nothing to return.
fn take_result(conn: &mut Conn, id: i64) -> Result<Option<String>, Failure> {
    let first = |e: postgres::Error| Failure::first("cannot read a command", &e);
    let read = conn.prepared(READ_RESULT).map_err(first)?;
    let Some(row) = conn.client.query_opt(&read, &[&id]).map_err(first)? else {
        return Ok(None);
    };
    let result = row.get::<_, Option<String>>(0).unwrap_or_default();
    // A row left behind is swept an hour later.
    if let Ok(forget) = conn.prepared(FORGET) {
        let _ = conn.client.execute(&forget, &[&id]);
    }
    Ok(Some(result))
}

/// Removes the rows of commands whose callers went away.
pub(crate) fn sweep(conn: &mut Conn) -> Result<(), postgres::Error> {
    let statement = conn.prepared(SWEEP)?;
    conn.client.execute(&statement, &[])?;
    Ok(())
}

/// Owner side, inside a partition's fenced transaction: the pending commands, locked until the
/// transaction ends.
pub(crate) const LOCK_PENDING: &str = "SELECT id, command FROM se_commands \
     WHERE partition = $1 AND state = 'pending' AND expires_at > now() \
     ORDER BY id LIMIT $2 FOR UPDATE";

/// Owner side: marks commands applied with their results, and tells their callers.
pub(crate) const MARK_APPLIED: &str = "WITH applied AS ( \
         UPDATE se_commands c SET state = 'applied', result = r.result, done_at = now() \
         FROM unnest($1::int8[], $2::text[]) AS r(id, result) \
         WHERE c.id = r.id AND c.state = 'pending' RETURNING c.id) \
     SELECT pg_notify('se_results', id::text) FROM applied";
