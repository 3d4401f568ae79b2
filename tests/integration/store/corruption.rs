//! Damaged, foreign and newer store files are refused with an error that names the file and says
//! what is wrong; a healthy store round-trips its records.
#![cfg(feature = "sqlite")]

use std::fs;
use std::path::PathBuf;

use schedule_engine::store::{RecordKind, Store, StoreChange, StoreErrorKind, StoredRecord};
use schedule_engine::SqliteStore;

/// A fresh path in the temp directory, removed (with its WAL files) on drop.
struct TempPath(PathBuf);

impl TempPath {
    fn new(name: &str) -> TempPath {
        let dir = std::env::temp_dir().join(format!(
            "schedule-engine-corruption-{}-{name}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("temp dir");
        TempPath(dir.join("store.db"))
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = fs::remove_dir_all(dir);
        }
    }
}

fn put(kind: RecordKind, id: &str, data: &str) -> StoreChange {
    StoreChange::Put(StoredRecord {
        kind,
        id: id.to_string(),
        data: data.to_string(),
    })
}

/// A store with enough rows to span many pages, closed cleanly.
fn populated(path: &PathBuf) {
    let mut store = SqliteStore::open(path).expect("open new store");
    let payload = format!("{{\"pad\":\"{}\"}}", "x".repeat(500));
    let batch: Vec<_> = (0..400)
        .map(|i| put(RecordKind::Schedule, &format!("s{i:04}"), &payload))
        .collect();
    store.persist(&batch).expect("persist");
}

fn open_err(path: &PathBuf) -> schedule_engine::StoreError {
    match SqliteStore::open(path) {
        Ok(_) => panic!("{} opened, expected an error", path.display()),
        Err(e) => {
            let text = e.to_string();
            assert!(
                text.contains(&path.display().to_string()),
                "error does not name the file: {text}"
            );
            e
        }
    }
}

#[test]
fn records_round_trip_across_reopen() {
    let tmp = TempPath::new("roundtrip");
    {
        let mut store = SqliteStore::open(&tmp.0).expect("open");
        store
            .persist(&[
                put(RecordKind::Schedule, "a", "{\"n\":1}"),
                put(RecordKind::Schedule, "b", "{\"n\":2}"),
                put(RecordKind::Workflow, "w", "{}"),
                put(RecordKind::PendingAction, "start:x", "[1]"),
            ])
            .expect("first batch");
        store
            .persist(&[
                put(RecordKind::Schedule, "a", "{\"n\":3}"),
                StoreChange::Delete {
                    kind: RecordKind::Schedule,
                    id: "b".into(),
                },
                StoreChange::Delete {
                    kind: RecordKind::Workflow,
                    id: "absent".into(),
                },
            ])
            .expect("second batch");
    }
    let mut store = SqliteStore::open(&tmp.0).expect("reopen");
    let records = store.load().expect("load");
    let got: Vec<_> = records
        .iter()
        .map(|r| (r.kind, r.id.as_str(), r.data.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (RecordKind::Schedule, "a", "{\"n\":3}"),
            (RecordKind::Workflow, "w", "{}"),
            (RecordKind::PendingAction, "start:x", "[1]"),
        ]
    );
}

#[test]
fn random_bytes_are_not_a_database() {
    let tmp = TempPath::new("random");
    // A fixed pseudo-random sequence (xorshift), so the test is reproducible.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let bytes: Vec<u8> = (0..8192)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    fs::write(&tmp.0, bytes).expect("write");
    let e = open_err(&tmp.0);
    assert!(matches!(e.kind, StoreErrorKind::NotADatabase { .. }), "{e}");
}

#[test]
fn text_file_is_not_a_database() {
    let tmp = TempPath::new("text");
    fs::write(&tmp.0, "schedules:\n  - id: a\n").expect("write");
    let e = open_err(&tmp.0);
    assert!(matches!(e.kind, StoreErrorKind::NotADatabase { .. }), "{e}");
}

#[test]
fn truncated_to_half_is_corrupt() {
    let tmp = TempPath::new("half");
    populated(&tmp.0);
    let len = fs::metadata(&tmp.0).expect("meta").len();
    assert!(
        len > 100_000,
        "store too small to truncate meaningfully: {len}"
    );
    let file = fs::OpenOptions::new()
        .write(true)
        .open(&tmp.0)
        .expect("open");
    file.set_len(len / 2).expect("truncate");
    drop(file);
    let e = open_err(&tmp.0);
    assert!(matches!(e.kind, StoreErrorKind::Corrupt { .. }), "{e}");
    assert!(e.to_string().contains("truncated"), "{e}");
}

#[test]
fn truncated_inside_the_header_is_corrupt() {
    let tmp = TempPath::new("header");
    populated(&tmp.0);
    let file = fs::OpenOptions::new()
        .write(true)
        .open(&tmp.0)
        .expect("open");
    file.set_len(40).expect("truncate");
    drop(file);
    let e = open_err(&tmp.0);
    assert!(matches!(e.kind, StoreErrorKind::Corrupt { .. }), "{e}");
}

#[test]
fn empty_file_is_refused_not_taken_for_a_new_store() {
    let tmp = TempPath::new("empty");
    populated(&tmp.0);
    fs::write(&tmp.0, b"").expect("empty it");
    let e = open_err(&tmp.0);
    assert!(matches!(e.kind, StoreErrorKind::Corrupt { .. }), "{e}");
    assert_eq!(
        fs::metadata(&tmp.0).expect("meta").len(),
        0,
        "file was modified"
    );
}

#[test]
fn damaged_pages_are_corrupt() {
    let tmp = TempPath::new("pages");
    populated(&tmp.0);
    let mut bytes = fs::read(&tmp.0).expect("read");
    // Overwrite pages after the first (header and schema) with garbage, keeping the length.
    for b in bytes.iter_mut().skip(4096 * 2).take(4096 * 3) {
        *b = 0xA5;
    }
    fs::write(&tmp.0, bytes).expect("write");
    let e = open_err(&tmp.0);
    assert!(matches!(e.kind, StoreErrorKind::Corrupt { .. }), "{e}");
}

#[test]
fn another_applications_database_is_refused() {
    let tmp = TempPath::new("foreign");
    {
        let conn = rusqlite::Connection::open(&tmp.0).expect("sqlite");
        conn.execute_batch(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);
             INSERT INTO customers (name) VALUES ('Ada');",
        )
        .expect("foreign schema");
    }
    let e = open_err(&tmp.0);
    assert!(
        matches!(e.kind, StoreErrorKind::ForeignApplication { .. }),
        "{e}"
    );
    assert!(e.to_string().contains("customers"), "{e}");
    // Refused, not modified: the other application's data is intact.
    let conn = rusqlite::Connection::open(&tmp.0).expect("sqlite");
    let n: i64 = conn
        .query_row("SELECT count(*) FROM customers", [], |r| r.get(0))
        .expect("count");
    assert_eq!(n, 1);
}

#[test]
fn another_application_id_is_refused_even_with_our_tables() {
    let tmp = TempPath::new("appid");
    populated(&tmp.0);
    {
        let conn = rusqlite::Connection::open(&tmp.0).expect("sqlite");
        conn.pragma_update(None, "application_id", 0x1234_5678)
            .expect("set id");
    }
    let e = open_err(&tmp.0);
    assert!(
        matches!(e.kind, StoreErrorKind::ForeignApplication { .. }),
        "{e}"
    );
}

#[test]
fn newer_schema_version_is_refused() {
    let tmp = TempPath::new("newer");
    populated(&tmp.0);
    let newer = SqliteStore::SCHEMA_VERSION + 1;
    {
        let conn = rusqlite::Connection::open(&tmp.0).expect("sqlite");
        conn.pragma_update(None, "user_version", newer)
            .expect("set version");
    }
    let e = open_err(&tmp.0);
    assert_eq!(
        e.kind,
        StoreErrorKind::NewerSchema {
            found: newer,
            supported: SqliteStore::SCHEMA_VERSION
        }
    );
    assert!(e.to_string().contains("newer"), "{e}");
}

#[test]
fn missing_table_is_corrupt() {
    let tmp = TempPath::new("table");
    populated(&tmp.0);
    {
        let conn = rusqlite::Connection::open(&tmp.0).expect("sqlite");
        conn.execute_batch("DROP TABLE workflows").expect("drop");
    }
    let e = open_err(&tmp.0);
    assert!(matches!(e.kind, StoreErrorKind::Corrupt { .. }), "{e}");
    assert!(e.to_string().contains("workflows"), "{e}");
}

#[test]
fn second_owner_is_refused_while_the_first_is_open() {
    let tmp = TempPath::new("locked");
    let _first = SqliteStore::open(&tmp.0).expect("first");
    let e = open_err(&tmp.0);
    assert!(matches!(e.kind, StoreErrorKind::Locked { .. }), "{e}");
}

#[test]
fn missing_directory_is_an_io_error() {
    let tmp = TempPath::new("nodir");
    let path = tmp.0.with_file_name("no-such-dir").join("store.db");
    let e = open_err(&path);
    assert!(matches!(e.kind, StoreErrorKind::Io { .. }), "{e}");
}

#[test]
fn undecodable_record_fails_the_client_build_naming_file_and_record() {
    let tmp = TempPath::new("record");
    {
        let mut store = SqliteStore::open(&tmp.0).expect("open");
        store
            .persist(&[put(RecordKind::Schedule, "nightly", "{\"id\":\"nightly\"}")])
            .expect("persist");
    }
    let store = SqliteStore::open(&tmp.0).expect("the file itself is sound");
    let err = schedule_engine::Client::builder()
        .store(store)
        .build()
        .expect_err("a record that does not decode must fail the build");
    let text = err.to_string();
    assert!(text.contains(&tmp.0.display().to_string()), "{text}");
    assert!(text.contains("nightly"), "{text}");
    match err {
        schedule_engine::ScheduleError::Store(e) => assert!(
            matches!(e.kind, StoreErrorKind::InvalidRecord { .. }),
            "{e}"
        ),
        other => panic!("expected a store error, got {other:?}"),
    }
}
