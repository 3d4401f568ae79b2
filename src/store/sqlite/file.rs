//! Creating and checking the store's file: a new store is built under a temporary name and
//! linked into place once complete; an existing file is checked (SQLite header, length against
//! the page count) before SQLite opens it; SQLite's errors are turned into [`StoreError`]s
//! that name the file and, for a damaged one, say what is wrong.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, ErrorCode};

use super::{APPLICATION_ID, SCHEMA_VERSION};
use crate::store::{StoreError, StoreErrorKind};

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Builds a new store under a temporary name and links it into place when complete.
pub(super) fn create(path: &Path) -> Result<(), StoreError> {
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
pub(super) fn check_header(path: &Path) -> Result<(), StoreError> {
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

pub(super) fn sql_error(path: &Path, e: rusqlite::Error) -> StoreError {
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
