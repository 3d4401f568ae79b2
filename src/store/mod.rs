//! Durability: schedules, their runs and cron jobs survive restarts and crashes.
//!
//! A [`Store`] is a small key/value interface: records are JSON text keyed by
//! ([`RecordKind`], id), one record per schedule, per standalone workflow (cron job chain or
//! delayed start) and per dispatched-but-unfinished action. The engine reports every state change
//! it makes; the client turns each call's changes into one batch (the client's write-ahead journal) and hands it to
//! [`Store::persist`], which applies it atomically. The user-facing guarantees are documented on
//! [`Store`].
//!
//! Invariant: the store holds exactly `Scheduler::snapshot()` as of the last durable batch, plus
//! the actions that batch (or an earlier one) recorded and whose runs are not yet closed.

mod error;
mod memory;
// The cluster's leases are real time by nature (a lease is held until a deadline of the
// database's clock and of this host's monotonic clock), and a keeper thread renews them.
#[cfg(feature = "postgres")]
#[allow(
    clippy::disallowed_methods,
    reason = "leases need the host's clocks, and their keeper its own thread"
)]
pub(crate) mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

pub(crate) use error::{call_hook, contain, panic_message, StoreErrorHook};
pub use error::{StoreError, StoreErrorKind};
pub use memory::MemoryStore;
#[cfg(feature = "sqlite")]
pub use sqlite::{SqliteStore, SqliteSynchronous};

use std::path::Path;

use serde::{Deserialize, Serialize};

/// The kinds of record a [`Store`] keeps; each kind is its own key space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum RecordKind {
    /// One schedule with all its state: definition, high-water mark, buffer, counters, running
    /// runs, recent actions, conflict token. Keyed by schedule id.
    Schedule,
    /// One standalone workflow: a cron job chain or a delayed start. Keyed by workflow id.
    Workflow,
    /// An action recorded as dispatched whose workflow has not been reported closed. Keyed by
    /// `<kind>:<workflow id>`.
    PendingAction,
}

impl RecordKind {
    /// Every kind, in load order.
    pub const ALL: [RecordKind; 3] = [
        RecordKind::Schedule,
        RecordKind::Workflow,
        RecordKind::PendingAction,
    ];

    /// A stable lower-case name (also the SQLite table name).
    pub fn name(self) -> &'static str {
        match self {
            RecordKind::Schedule => "schedules",
            RecordKind::Workflow => "workflows",
            RecordKind::PendingAction => "pending_actions",
        }
    }
}

/// One stored record: JSON text keyed by kind and id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRecord {
    /// Which key space.
    pub kind: RecordKind,
    /// The key.
    pub id: String,
    /// The record, as JSON.
    pub data: String,
}

/// One change in a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StoreChange {
    /// Insert or replace a record.
    Put(StoredRecord),
    /// Remove a record (no error if it is absent).
    Delete {
        /// Which key space.
        kind: RecordKind,
        /// The key.
        id: String,
    },
}

/// Durable storage for a `Client`'s state: give one to `Client::builder().store(..)`.
/// `SqliteStore` (feature `sqlite`) keeps it in a file; [`MemoryStore`] in memory (tests);
/// implement the trait to keep schedules in your own database.
///
/// A store has one owner: the client that loaded it. It is called with the client's lock held,
/// so calls never overlap.
///
/// # Guarantees of a client with a store
///
/// * **Write-ahead.** The batch that records an action (the advanced high-water mark, the
///   counters, the run now tracked as running, the recent action) is durable before the action
///   is handed to the `WorkflowExecutor`. The action itself is stored in the same batch as a
///   pending action, and stays stored until its run is reported closed.
/// * **At-least-once per nominal time.** A crash after the batch is durable but before (or
///   while) the executor received the action is repaired at restart: pending actions are handed
///   to the executor again, with the same deterministic workflow id (`<action id>-<nominal
///   time>`), so an executor can recognise a run it already has. A crash before the batch is
///   durable loses nothing either: the store still has the old high-water mark, and the times
///   after it are derived again at restart. An executor may therefore see a workflow id twice;
///   de-duplicate on it if a run must not happen twice.
/// * **Reported outcomes** (a run closed) and polls with nothing due are written at once when
///   the store is idle, and on a busy store with the next batch, at most four times what a
///   batch costs later and never more than one second (the worker wakes for it), so that a
///   run's close and the next start share one write; a crash in between delivers those runs
///   again. Dropping the last `Client` (and its workers) writes them at once.
/// * **Nothing counted twice.** Each nominal time is started, skipped (overlap policy), missed
///   (catch-up window) or dropped (full buffer) by exactly one durable batch.
/// * **Downtime** is handled as Temporal handles a scheduler that was asleep: on restart, each
///   schedule's catch-up window decides which of the times that came due are missed, and its
///   overlap policy which of the rest start (the earliest under SKIP, all in turn under
///   BUFFER_ALL, all at once under ALLOW_ALL).
/// * **Runs that were running when the process died** are still recorded as running, and their
///   start actions are still pending, so the restarted worker hands them to the executor again
///   (same workflow id) with a fresh `Completion`. An executor that runs workflows in-process
///   simply runs them again; one that drives an external system should attach the completion to
///   the run it already has and report that run's outcome. Until an outcome is reported the run
///   counts as running for the overlap policy (with SKIP, later times are skipped meanwhile).
/// * **Runtime store failures** (disk full, read-only file) go to the builder's
///   `on_store_error` hook (by default the first of a series is printed to standard error).
///   Actions whose state cannot be recorded are held, not dispatched, and go out with the first
///   later batch that succeeds (the worker retries every second); their changes stay queued, the
///   latest version of each record, until then. A mutation (create, pause, ...) whose batch
///   fails returns `ScheduleError::Store`: the change is applied in memory and is written with
///   the next successful batch, but it is not durable yet.
/// * **Damaged storage** is an error naming the file and what is wrong, never a panic, and never
///   a silent fresh start: a store that cannot be read completely is not used.
pub trait Store: Send + 'static {
    /// Every stored record, read once when the client is built. A record that cannot be read is
    /// an error, never skipped.
    fn load(&mut self) -> Result<Vec<StoredRecord>, StoreError>;

    /// Apply `changes` in order, atomically: when this returns `Ok` all of them are durable, when
    /// it returns `Err` none of them may be (they are offered again with the next batch).
    fn persist(&mut self, changes: &[StoreChange]) -> Result<(), StoreError>;

    /// The file the store lives in, if any; named in errors about its records.
    fn location(&self) -> Option<&Path> {
        None
    }
}

impl Store for Box<dyn Store> {
    fn load(&mut self) -> Result<Vec<StoredRecord>, StoreError> {
        (**self).load()
    }

    fn persist(&mut self, changes: &[StoreChange]) -> Result<(), StoreError> {
        (**self).persist(changes)
    }

    fn location(&self) -> Option<&Path> {
        (**self).location()
    }
}
