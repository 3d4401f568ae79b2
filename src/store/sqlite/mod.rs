//! [`SqliteStore`]: the durable [`Store`] in one SQLite file (feature `sqlite`).
//!
//! Layout: one table per [`RecordKind`] (`id TEXT PRIMARY KEY, record TEXT`, one row per entity,
//! the record as JSON) and a `meta` table. The file is recognised by `PRAGMA application_id`
//! ([`SqliteStore::APPLICATION_ID`]) and `PRAGMA user_version` (the schema version, also in `meta`).
//!
//! Invariants:
//! * A new store is built under a temporary name and linked into place only when its schema is
//!   complete, so a crash while creating leaves no half-made file at the path; an existing empty
//!   or foreign file is therefore never taken for a new store.
//! * Opening checks, in order: the SQLite header, the application id, the schema version (newer
//!   is refused), the `meta` table, the file length against the page count, and
//!   `PRAGMA quick_check`. Any failure is a [`StoreError`] naming the file.
//! * WAL journal, `synchronous=NORMAL` by default (a process crash loses nothing committed; a
//!   power cut may lose the last batches, which at restart are derived again),
//!   `locking_mode=EXCLUSIVE` (one owner: a second process opening the file gets
//!   [`StoreErrorKind::Locked`]). One transaction per batch.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, TransactionBehavior};
use serde::{Deserialize, Serialize};

mod file;

use file::{check_header, create, sql_error};

use super::{RecordKind, Store, StoreChange, StoreError, StoreErrorKind, StoredRecord};

pub(super) const APPLICATION_ID: i32 = SqliteStore::APPLICATION_ID;
pub(super) const SCHEMA_VERSION: u32 = SqliteStore::SCHEMA_VERSION;

/// How long opening waits for another owner of the file to let go.
const BUSY_TIMEOUT: Duration = Duration::from_millis(500);

/// Page cache, in KiB as a negative `cache_size` (SQLite's convention): 64 MiB.
const CACHE_KIB: i64 = -65_536;

/// Log pages (4 KiB) between automatic checkpoints.
const WAL_CHECKPOINT_PAGES: i64 = 16_384;

/// How hard SQLite works to make a committed batch survive a power cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub enum SqliteSynchronous {
    /// `synchronous=NORMAL`: committed batches survive a process crash; a power cut or OS crash
    /// may lose the last ones (times they covered are derived again at restart). Fast.
    #[default]
    Normal,
    /// `synchronous=FULL`: every committed batch survives a power cut too. One fsync per batch.
    Full,
}

/// A [`Store`] in one SQLite file. Open it with [`SqliteStore::open`] and give it to the client
/// builder's `.store(..)`.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
}

impl SqliteStore {
    /// `PRAGMA application_id` of a schedule-engine store: "SchE" in ASCII.
    pub const APPLICATION_ID: i32 = 0x5363_6845;

    /// The schema version (`PRAGMA user_version`) this code writes and the newest it reads.
    pub const SCHEMA_VERSION: u32 = 1;

    /// Opens the store at `path`, creating it if the file does not exist.
    ///
    /// An existing file must be a schedule-engine store of this or an older schema version and
    /// must pass SQLite's integrity check; otherwise the error says what is wrong with it.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        SqliteStore::open_with(path, SqliteSynchronous::Normal)
    }

    /// [`SqliteStore::open`] with a chosen durability level.
    pub fn open_with(
        path: impl AsRef<Path>,
        synchronous: SqliteSynchronous,
    ) -> Result<SqliteStore, StoreError> {
        let path = path.as_ref().to_path_buf();
        match fs::metadata(&path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(&path)?,
            Err(e) => return Err(StoreError::io(Some(&path), e.to_string())),
        }
        check_header(&path)?;
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| sql_error(&path, e))?;
        let store = SqliteStore { conn, path };
        store.configure(synchronous)?;
        store.check_contents()?;
        Ok(store)
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, e: rusqlite::Error) -> StoreError {
        sql_error(&self.path, e)
    }

    fn configure(&self, synchronous: SqliteSynchronous) -> Result<(), StoreError> {
        let conn = &self.conn;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| self.err(e))?;
        // Before anything reads the file, so WAL keeps its index in heap memory and the lock
        // taken by the first write is held until the store is dropped.
        conn.pragma_update(None, "locking_mode", "EXCLUSIVE")
            .map_err(|e| self.err(e))?;
        self.check_identity()?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))
            .map_err(|e| self.err(e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::io(
                Some(&self.path),
                format!("cannot switch to WAL journal mode (got {mode})"),
            ));
        }
        let level = match synchronous {
            SqliteSynchronous::Normal => "NORMAL",
            SqliteSynchronous::Full => "FULL",
        };
        conn.pragma_update(None, "synchronous", level)
            .map_err(|e| self.err(e))?;
        // Every record of a busy store is rewritten every few seconds; a cache that holds the
        // whole working set spares a read per page per batch.
        conn.pragma_update(None, "cache_size", CACHE_KIB)
            .map_err(|e| self.err(e))?;
        // A busy store rewrites the same pages batch after batch; checkpointing every 64 MiB of
        // log rather than every 4 MiB copies each page back once for several batches.
        conn.pragma_update(None, "wal_autocheckpoint", WAL_CHECKPOINT_PAGES)
            .map_err(|e| self.err(e))?;
        // Take the exclusive lock now rather than at the first batch, so a second owner is
        // refused at open and not later, at an arbitrary write.
        conn.execute_batch("BEGIN IMMEDIATE; COMMIT;")
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The application id and schema version: is this our file, of a version we understand?
    fn check_identity(&self) -> Result<(), StoreError> {
        let conn = &self.conn;
        let app_id: i32 = conn
            .pragma_query_value(None, "application_id", |row| row.get(0))
            .map_err(|e| self.err(e))?;
        if app_id != APPLICATION_ID {
            let tables = self.table_names()?;
            let found = format!(
                "application_id {app_id:#x}, expected {APPLICATION_ID:#x}; tables: {}",
                if tables.is_empty() {
                    "none".to_string()
                } else {
                    tables.join(", ")
                }
            );
            return Err(self.kind(StoreErrorKind::ForeignApplication { found }));
        }
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(|e| self.err(e))?;
        if version > i64::from(SCHEMA_VERSION) {
            return Err(self.kind(StoreErrorKind::NewerSchema {
                found: u32::try_from(version).unwrap_or(u32::MAX),
                supported: SCHEMA_VERSION,
            }));
        }
        if version < 1 {
            return Err(self.corrupt(format!("schema version {version} is not valid")));
        }
        Ok(())
    }

    /// Metadata, tables, length and page structure.
    fn check_contents(&self) -> Result<(), StoreError> {
        let conn = &self.conn;
        let meta_version: Option<String> = conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |row| row.get(0),
            )
            .map_err(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => self.corrupt("meta has no schema_version"),
                e => self.missing_table_or(e),
            })
            .map(Some)?;
        let user_version: i64 = conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(|e| self.err(e))?;
        if meta_version.as_deref() != Some(user_version.to_string().as_str()) {
            return Err(self.corrupt(format!(
                "meta schema_version {meta_version:?} differs from user_version {user_version}"
            )));
        }
        let tables = self.table_names()?;
        for kind in RecordKind::ALL {
            if !tables.iter().any(|t| t == kind.name()) {
                return Err(self.corrupt(format!("table {} is missing", kind.name())));
            }
        }
        let mut stmt = conn
            .prepare("PRAGMA quick_check(5)")
            .map_err(|e| self.err(e))?;
        let problems = stmt
            .query_map([], |row| row.get::<_, String>(0))
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        if problems.len() != 1 || problems[0] != "ok" {
            return Err(self.corrupt(format!("integrity check: {}", problems.join("; "))));
        }
        Ok(())
    }

    fn table_names(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .map_err(|e| self.err(e))?;
        let names = stmt
            .query_map([], |row| row.get::<_, String>(0))
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        Ok(names)
    }

    fn missing_table_or(&self, e: rusqlite::Error) -> StoreError {
        if e.to_string().contains("no such table") {
            self.corrupt(e.to_string())
        } else {
            self.err(e)
        }
    }

    fn kind(&self, kind: StoreErrorKind) -> StoreError {
        StoreError::new(Some(&self.path), kind)
    }

    fn corrupt(&self, detail: impl Into<String>) -> StoreError {
        self.kind(StoreErrorKind::Corrupt {
            detail: detail.into(),
        })
    }
}

impl Store for SqliteStore {
    fn load(&mut self) -> Result<Vec<StoredRecord>, StoreError> {
        let mut records = Vec::new();
        for kind in RecordKind::ALL {
            let mut stmt = self
                .conn
                .prepare(&format!(
                    "SELECT id, record FROM {} ORDER BY id",
                    kind.name()
                ))
                .map_err(|e| sql_error(&self.path, e))?;
            let rows = stmt
                .query_map([], |row| {
                    Ok(StoredRecord {
                        kind,
                        id: row.get(0)?,
                        data: row.get(1)?,
                    })
                })
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(|e| sql_error(&self.path, e))?;
            records.extend(rows);
        }
        Ok(records)
    }

    fn persist(&mut self, changes: &[StoreChange]) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        let path = &self.path;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sql_error(path, e))?;
        for change in changes {
            let result = match change {
                StoreChange::Put(record) => tx
                    .prepare_cached(put_sql(record.kind))
                    .and_then(|mut stmt| stmt.execute(params![record.id, record.data])),
                StoreChange::Delete { kind, id } => tx
                    .prepare_cached(delete_sql(*kind))
                    .and_then(|mut stmt| stmt.execute(params![id])),
            };
            // Dropping `tx` on the error path rolls the whole batch back.
            result.map_err(|e| sql_error(path, e))?;
        }
        tx.commit().map_err(|e| sql_error(path, e))
    }

    fn location(&self) -> Option<&Path> {
        Some(&self.path)
    }
}

fn put_sql(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Schedule => {
            "INSERT INTO schedules (id, record) VALUES (?1, ?2) \
             ON CONFLICT (id) DO UPDATE SET record = excluded.record"
        }
        RecordKind::Workflow => {
            "INSERT INTO workflows (id, record) VALUES (?1, ?2) \
             ON CONFLICT (id) DO UPDATE SET record = excluded.record"
        }
        RecordKind::PendingAction => {
            "INSERT INTO pending_actions (id, record) VALUES (?1, ?2) \
             ON CONFLICT (id) DO UPDATE SET record = excluded.record"
        }
    }
}

fn delete_sql(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Schedule => "DELETE FROM schedules WHERE id = ?1",
        RecordKind::Workflow => "DELETE FROM workflows WHERE id = ?1",
        RecordKind::PendingAction => "DELETE FROM pending_actions WHERE id = ?1",
    }
}
