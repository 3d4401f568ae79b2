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
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, ErrorCode, OpenFlags, TransactionBehavior};
use serde::{Deserialize, Serialize};

use super::{RecordKind, Store, StoreChange, StoreError, StoreErrorKind, StoredRecord};

const APPLICATION_ID: i32 = SqliteStore::APPLICATION_ID;
const SCHEMA_VERSION: u32 = SqliteStore::SCHEMA_VERSION;

/// How long opening waits for another owner of the file to let go.
const BUSY_TIMEOUT: Duration = Duration::from_millis(500);

/// Page cache, in KiB as a negative `cache_size` (SQLite's convention): 64 MiB.
const CACHE_KIB: i64 = -65_536;

/// Log pages (4 KiB) between automatic checkpoints.
const WAL_CHECKPOINT_PAGES: i64 = 16_384;

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

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

/// Builds a new store under a temporary name and links it into place when complete.
fn create(path: &Path) -> Result<(), StoreError> {
    let io = |e: std::io::Error| StoreError::io(Some(path), e.to_string());
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(format!(".creating-{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    // A leftover of a crash of this very pid number; nothing else uses the name.
    let _ = fs::remove_file(&tmp);
    let built = build_schema(path, &tmp);
    if built.is_err() {
        // A failed build (disk full, read-only directory) leaves nothing behind.
        let _ = fs::remove_file(&tmp);
    }
    built?;
    // A hard link never replaces an existing file: if another process created the store in the
    // meantime, theirs wins and ours is discarded.
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io(e)),
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Make the new name itself durable; failure to sync a directory is not fatal everywhere
        // (some filesystems refuse to open directories), so it is best effort.
        if let Ok(dir) = fs::File::open(dir) {
            let _ = dir.sync_all();
        }
    }
    Ok(())
}

/// Writes an empty store's schema into the new file `tmp` (errors name the store's `path`).
fn build_schema(path: &Path, tmp: &Path) -> Result<(), StoreError> {
    {
        let conn = Connection::open(tmp).map_err(|e| sql_error(path, e))?;
        let schema = format!(
            "PRAGMA application_id = {APPLICATION_ID};
             PRAGMA user_version = {SCHEMA_VERSION};
             BEGIN;
             CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
             INSERT INTO meta (key, value) VALUES
                 ('application', 'schedule-engine'),
                 ('schema_version', '{SCHEMA_VERSION}'),
                 ('created_by', 'schedule-engine {}');
             CREATE TABLE schedules (id TEXT PRIMARY KEY, record TEXT NOT NULL);
             CREATE TABLE workflows (id TEXT PRIMARY KEY, record TEXT NOT NULL);
             CREATE TABLE pending_actions (id TEXT PRIMARY KEY, record TEXT NOT NULL);
             COMMIT;",
            env!("CARGO_PKG_VERSION")
        );
        conn.execute_batch(&schema)
            .map_err(|e| sql_error(path, e))?;
        conn.close().map_err(|(_, e)| sql_error(path, e))?;
    }
    Ok(())
}

/// Recognises files that are not SQLite at all, or whose header is cut short, before SQLite
/// reports them with a less specific message.
fn check_header(path: &Path) -> Result<(), StoreError> {
    let mut head = Vec::with_capacity(100);
    fs::File::open(path)
        .and_then(|f| f.take(100).read_to_end(&mut head))
        .map_err(|e| StoreError::io(Some(path), e.to_string()))?;
    let err = |kind| Err(StoreError::new(Some(path), kind));
    if head.is_empty() {
        return err(StoreErrorKind::Corrupt {
            detail: "the file is empty; a schedule-engine store never is (remove the file to \
                     start a new store)"
                .into(),
        });
    }
    let magic_len = head.len().min(SQLITE_MAGIC.len());
    if head[..magic_len] != SQLITE_MAGIC[..magic_len] {
        return err(StoreErrorKind::NotADatabase {
            detail: "the file does not start with the SQLite header".into(),
        });
    }
    if head.len() < 100 {
        return err(StoreErrorKind::Corrupt {
            detail: format!(
                "truncated: {} bytes, shorter than the 100-byte SQLite header",
                head.len()
            ),
        });
    }
    check_length(path, &head)
}

/// A file shorter than the page count its header records has lost its tail. Only meaningful
/// when no write-ahead log holds pages not yet copied back (after every clean close, none does),
/// and when the header's page count is marked valid (bytes 24..28 equal bytes 92..96).
fn check_length(path: &Path, head: &[u8]) -> Result<(), StoreError> {
    let mut wal = path.as_os_str().to_os_string();
    wal.push("-wal");
    if fs::metadata(PathBuf::from(wal)).is_ok_and(|m| m.len() > 0) {
        return Ok(());
    }
    let be32 = |at: usize| u32::from_be_bytes([head[at], head[at + 1], head[at + 2], head[at + 3]]);
    if be32(24) != be32(92) {
        return Ok(());
    }
    let page_size = match u16::from_be_bytes([head[16], head[17]]) {
        1 => 65_536,
        n => u64::from(n),
    };
    let page_count = u64::from(be32(28));
    let len = fs::metadata(path)
        .map_err(|e| StoreError::io(Some(path), e.to_string()))?
        .len();
    if len < page_size.saturating_mul(page_count) {
        return Err(StoreError::new(
            Some(path),
            StoreErrorKind::Corrupt {
                detail: format!(
                    "truncated: {len} bytes, but the header records {page_count} pages of \
                     {page_size} bytes"
                ),
            },
        ));
    }
    Ok(())
}

fn sql_error(path: &Path, e: rusqlite::Error) -> StoreError {
    let mut detail = e.to_string();
    let code = e.sqlite_error_code();
    if matches!(
        code,
        Some(ErrorCode::CannotOpen | ErrorCode::SystemIoFailure | ErrorCode::ReadOnly)
    ) {
        // SQLite's own words ("unable to open database file", "disk I/O error") say neither
        // which file nor why; find out what the operating system refuses.
        if let Some(cause) = diagnose(path) {
            detail = format!("{detail}; {cause}");
        }
    }
    let kind = match code {
        Some(ErrorCode::NotADatabase) => StoreErrorKind::NotADatabase { detail },
        Some(ErrorCode::DatabaseCorrupt) => StoreErrorKind::Corrupt { detail },
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            StoreErrorKind::Locked { detail }
        }
        Some(ErrorCode::DiskFull) => StoreErrorKind::Io {
            detail: format!("disk full: {detail}"),
        },
        Some(ErrorCode::ReadOnly) => StoreErrorKind::Io {
            detail: format!("read-only: {detail}"),
        },
        _ => StoreErrorKind::Io { detail },
    };
    StoreError::new(Some(path), kind)
}

/// Why the operating system refuses SQLite's files at `path`: the directory takes no new file
/// (SQLite creates the store, a `-wal` and a `-shm` file there), or the store file cannot be
/// written. `None` when both work.
fn diagnose(path: &Path) -> Option<String> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut probe_name = path.file_name().unwrap_or_default().to_os_string();
    probe_name.push(format!(".probe-{}", std::process::id()));
    let probe = dir.join(probe_name);
    match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = fs::remove_file(&probe);
        }
        Err(e) => {
            return Some(format!(
                "cannot create files in {} ({e}); SQLite needs to create the store's -wal and \
                 -shm files beside it",
                dir.display()
            ))
        }
    }
    match fs::OpenOptions::new().write(true).open(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Some(format!("cannot write {} ({e})", path.display()))
        }
        _ => None,
    }
}
