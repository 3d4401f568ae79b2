//! [`StoreError`]: what went wrong with durable storage, and in which file.
//!
//! Every error names the store (a file path for file-backed stores) and says what is wrong in
//! words a user can act on; nothing in this module panics.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// A failure of durable storage: opening, loading, or writing a batch of changes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub struct StoreError {
    /// The file the store lives in, when it has one.
    pub path: Option<PathBuf>,
    /// What is wrong.
    pub kind: StoreErrorKind,
}

/// What is wrong with a store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// The file is not a SQLite database at all (random bytes, a text file, a damaged header).
    NotADatabase {
        /// The storage engine's own message.
        detail: String,
    },
    /// The file is a database of some other application, not a schedule-engine store.
    ForeignApplication {
        /// What was found instead (application id, tables).
        found: String,
    },
    /// The store was written by a newer version of this crate; this version refuses to touch it.
    NewerSchema {
        /// The schema version in the file.
        found: u32,
        /// The newest schema version this code understands.
        supported: u32,
    },
    /// The file is one of ours but damaged: truncated, malformed pages, inconsistent metadata.
    Corrupt {
        /// What the check found.
        detail: String,
    },
    /// A stored record cannot be decoded. Nothing is dropped: loading fails instead.
    InvalidRecord {
        /// The table or kind of record.
        table: String,
        /// The record's id.
        id: String,
        /// Why it does not decode.
        detail: String,
    },
    /// Another process (or another `Client` in this one) has the store open.
    Locked {
        /// The storage engine's own message.
        detail: String,
    },
    /// Reading or writing failed: disk full, read-only file or directory, I/O error, a database
    /// that cannot be reached.
    Io {
        /// The storage engine's or operating system's message.
        detail: String,
    },
    /// A cluster write was refused because this node no longer holds the partition's lease: the
    /// lease expired (judged by the database's clock) or another node took the partition over
    /// (its fencing token moved on). Nothing of the batch was written.
    ///
    /// **Never retry a fenced write.** The partition's state now belongs to another node (or to
    /// nobody until one acquires it): drop this node's state for the partition, stop
    /// dispatching its actions, and load it again only after acquiring a new lease.
    Fenced {
        /// The partition whose lease was lost.
        partition: u32,
        /// What the database holds instead (owner, fencing token, expiry).
        detail: String,
    },
    /// The configuration does not fit the store: a cluster configured with a partition count
    /// other than the one its database was created with, or an invalid setting.
    Misconfigured {
        /// What does not match, and how to fix it.
        detail: String,
    },
    /// The cluster could not serve a request in time: no node applied a command to a partition
    /// within its timeout (the command was withdrawn and will never be applied).
    Unavailable {
        /// What timed out.
        detail: String,
    },
    /// The store's code panicked. Handled as a failed call: a batch is kept and offered again,
    /// a load fails.
    Panicked {
        /// The panic's message.
        message: String,
    },
}

impl StoreError {
    /// An error about the store at `path`.
    pub fn new(path: Option<&Path>, kind: StoreErrorKind) -> Self {
        StoreError {
            path: path.map(Path::to_path_buf),
            kind,
        }
    }

    /// An I/O failure (disk full, read-only, ...) of the store at `path`.
    pub fn io(path: Option<&Path>, detail: impl Into<String>) -> Self {
        StoreError::new(
            path,
            StoreErrorKind::Io {
                detail: detail.into(),
            },
        )
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(path) => write!(f, "schedule store {}: {}", path.display(), self.kind),
            None => write!(f, "schedule store: {}", self.kind),
        }
    }
}

impl fmt::Display for StoreErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreErrorKind::NotADatabase { detail } => {
                write!(f, "not a SQLite database ({detail})")
            }
            StoreErrorKind::ForeignApplication { found } => write!(
                f,
                "a SQLite database of another application, not a schedule-engine store ({found})"
            ),
            StoreErrorKind::NewerSchema { found, supported } => write!(
                f,
                "written by a newer schedule-engine (schema version {found}; this version \
                 understands up to {supported}); upgrade schedule-engine to open it"
            ),
            StoreErrorKind::Corrupt { detail } => write!(f, "damaged store ({detail})"),
            StoreErrorKind::InvalidRecord { table, id, detail } => {
                write!(f, "record {id:?} in {table} cannot be decoded ({detail})")
            }
            StoreErrorKind::Locked { detail } => write!(
                f,
                "in use by another process or client ({detail}); a store has one owner at a time"
            ),
            StoreErrorKind::Io { detail } => write!(f, "I/O failure ({detail})"),
            StoreErrorKind::Fenced { partition, detail } => write!(
                f,
                "partition {partition} is no longer held by this node ({detail}); the write was \
                 refused and must not be retried"
            ),
            StoreErrorKind::Misconfigured { detail } => write!(f, "misconfigured ({detail})"),
            StoreErrorKind::Unavailable { detail } => write!(f, "unavailable ({detail})"),
            StoreErrorKind::Panicked { message } => write!(f, "the store panicked ({message})"),
        }
    }
}

/// The user's `on_store_error` callback.
pub(crate) type StoreErrorHook = std::sync::Arc<dyn Fn(&StoreError) + Send + Sync>;

/// Calls the user's `on_store_error` hook with `error`; a panic in it is printed to standard
/// error and goes no further (it must stop neither a worker nor a cluster node's threads).
pub(crate) fn call_hook(hook: &StoreErrorHook, error: &StoreError) {
    if let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| hook(error))) {
        eprintln!(
            "schedule-engine: the on_store_error hook panicked ({}) on: {error}",
            panic_message(panic.as_ref())
        );
    }
}

/// The message of a panic payload (`&str` or `String`; anything else has none).
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    if let Some(s) = panic.downcast_ref::<&str>() {
        s
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s
    } else {
        "(non-string panic payload)"
    }
}

/// Runs user code of a store, turning a panic into [`StoreErrorKind::Panicked`].
pub(crate) fn contain<T>(
    path: Option<&Path>,
    f: impl FnOnce() -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        Err(StoreError::new(
            path,
            StoreErrorKind::Panicked {
                message: panic_message(panic.as_ref()).to_owned(),
            },
        ))
    })
}
