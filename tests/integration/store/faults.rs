//! Faulty stores: a store that panics loses nothing and stops nothing; a closed run is written
//! at once when the store is idle; SQLite's refusals say which file and why, and a failed
//! creation leaves no temporary file behind.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::util::engine::t;
use crate::util::store::{every_as, recv_ids, StartChannel};
use schedule_engine::snapshot::ScheduleRecord;
use schedule_engine::store::{MemoryStore, RecordKind, Store, StoreChange, StoredRecord};
use schedule_engine::{
    Client, ManualClock, ScheduleError, ScheduleOverlapPolicy, StoreError, Worker,
};

const MINUTE: Duration = Duration::from_secs(60);
const WINDOW: Duration = Duration::from_secs(600);

/// A `MemoryStore` whose next write panics while `panic_next` is set (once per setting).
#[derive(Clone, Default)]
struct PanickingStore {
    inner: MemoryStore,
    panic_next: Arc<AtomicBool>,
    panics: Arc<AtomicUsize>,
}

impl Store for PanickingStore {
    fn load(&mut self) -> Result<Vec<StoredRecord>, StoreError> {
        self.inner.load()
    }

    fn persist(&mut self, changes: &[StoreChange]) -> Result<(), StoreError> {
        if self.panic_next.swap(false, Ordering::SeqCst) {
            self.panics.fetch_add(1, Ordering::SeqCst);
            panic!("simulated store bug");
        }
        self.inner.persist(changes)
    }
}

fn stored_schedule_ids(store: &MemoryStore) -> Vec<String> {
    store
        .records()
        .into_iter()
        .filter(|r| r.kind == RecordKind::Schedule)
        .map(|r| r.id)
        .collect()
}

/// Defect 6, first half. On 375dddf the batch was taken out of the journal before `persist`
/// was called and lost when it panicked (and the panic unwound out of `create_schedule`):
/// memory held a, b and c, the store only a and c.
#[test]
fn a_panicking_batch_is_kept_and_written_with_the_next() {
    let store = PanickingStore::default();
    let clock = ManualClock::new(t("2022-06-01T00:00:00Z"));
    let client = Client::builder()
        .clock(clock.clone())
        .store(store.clone())
        .on_store_error(|_| {})
        .build()
        .expect("client");
    let schedule = || every_as("job", MINUTE, ScheduleOverlapPolicy::Skip, WINDOW);
    client.create_schedule("a", schedule()).expect("a");
    store.panic_next.store(true, Ordering::SeqCst);
    let b = catch_unwind(AssertUnwindSafe(|| client.create_schedule("b", schedule())));
    match b {
        Ok(Err(ScheduleError::Store(e))) => {
            assert_eq!(
                e.to_string(),
                "schedule store: the store panicked (simulated store bug)"
            );
        }
        Ok(other) => panic!("expected a store error, got {other:?}"),
        Err(_) => panic!("the store's panic unwound out of create_schedule"),
    }
    client.create_schedule("c", schedule()).expect("c");
    assert_eq!(store.panics.load(Ordering::SeqCst), 1);
    assert_eq!(stored_schedule_ids(&store.inner), ["a", "b", "c"]);
    let listed: Vec<String> = client.list_schedules().into_iter().map(|s| s.id).collect();
    assert_eq!(listed, ["a", "b", "c"]);
}

/// Defect 6, second half. On 375dddf a panic in the worker's own batch killed the worker
/// thread silently (seen only at shutdown), and the start of that batch, marked running but
/// never dispatched, was never delivered: this SKIP schedule never fired again (the first
/// `recv_ids` timed out).
#[test]
fn the_worker_survives_a_panicking_store_and_delivers_the_start_later() {
    let store = PanickingStore::default();
    let clock = ManualClock::new(t("2022-06-01T00:00:00Z"));
    let reported: Arc<Mutex<Vec<String>>> = Arc::default();
    let hook = reported.clone();
    let client = Client::builder()
        .clock(clock.clone())
        .store(store.clone())
        .on_store_error(move |e| hook.lock().unwrap().push(e.to_string()))
        .build()
        .expect("client");
    client
        .create_schedule(
            "s",
            every_as("job", MINUTE, ScheduleOverlapPolicy::Skip, WINDOW),
        )
        .expect("create");
    let (recorder, starts) = StartChannel::new(true);
    let worker = Worker::start(&client, recorder);
    worker.settle();

    // The batch recording the 00:01 start panics: the start is held, not lost, and goes out
    // with the next batch that succeeds (the worker's next poll), once it is durable.
    store.panic_next.store(true, Ordering::SeqCst);
    clock.set(t("2022-06-01T00:01:00Z"));
    worker.settle();
    clock.set(t("2022-06-01T00:01:01Z"));
    assert_eq!(recv_ids(&starts, 1), ["job-2022-06-01T00:01:00Z"]);
    assert_eq!(store.panics.load(Ordering::SeqCst), 1);
    assert_eq!(
        reported.lock().unwrap().as_slice(),
        ["schedule store: the store panicked (simulated store bug)"]
    );
    clock.set(t("2022-06-01T00:02:00Z"));
    assert_eq!(recv_ids(&starts, 1), ["job-2022-06-01T00:02:00Z"]);
    worker.shutdown();

    // Memory and store agree: both runs closed, nothing pending.
    drop(client);
    assert_eq!(store.inner.count(RecordKind::PendingAction), 0);
    let record = store
        .inner
        .records()
        .into_iter()
        .find(|r| r.kind == RecordKind::Schedule)
        .expect("schedule record");
    let record: ScheduleRecord = serde_json::from_str(&record.data).expect("decode");
    assert_eq!(record.num_actions, 2);
    assert!(record.running.is_empty());
}

/// A panicking load is an error of `build`, not a panic of the caller.
#[test]
fn a_panicking_load_fails_the_build() {
    struct PanicsOnLoad;
    impl Store for PanicsOnLoad {
        fn load(&mut self) -> Result<Vec<StoredRecord>, StoreError> {
            panic!("cannot read");
        }
        fn persist(&mut self, _: &[StoreChange]) -> Result<(), StoreError> {
            Ok(())
        }
    }
    let built = Client::builder().store(PanicsOnLoad).build();
    let Err(ScheduleError::Store(e)) = built else {
        panic!("expected a store error");
    };
    assert_eq!(
        e.to_string(),
        "schedule store: the store panicked (cannot read)"
    );
}

/// The re-delivery window. On 375dddf a run's close waited up to one second (of the client's
/// clock) for the next batch, even on an idle store, and a crash meanwhile delivered the run
/// again: here the close was still unwritten 500 ms after the run completed.
#[test]
fn a_close_is_written_at_once_when_the_store_is_idle() {
    let store = MemoryStore::new();
    let client = Client::builder()
        .store(store.clone())
        .build()
        .expect("client");
    let (recorder, starts) = StartChannel::new(true);
    let worker = Worker::start(&client, recorder);
    client
        .create_schedule_with_options(
            "s",
            every_as(
                "job",
                Duration::from_secs(3600),
                ScheduleOverlapPolicy::Skip,
                WINDOW,
            ),
            schedule_engine::CreateScheduleOptions {
                trigger_immediately: true,
                ..Default::default()
            },
        )
        .expect("create");
    let started = starts.recv_timeout(Duration::from_secs(20)).expect("start");
    let completed = Instant::now();
    let pending = |s: &MemoryStore| s.count(RecordKind::PendingAction);
    // The executor completed the run before `recv` returned; its close is written within a
    // few batch times (well under a millisecond each for a `MemoryStore`).
    while pending(&store) > 0 && completed.elapsed() < Duration::from_millis(500) {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(
        pending(&store),
        0,
        "the close of {} was not written within 500 ms",
        started.workflow_id
    );
    worker.shutdown();
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use std::path::{Path, PathBuf};
    use std::process::Command;

    use schedule_engine::SqliteStore;

    /// Runs `cmd` as given; `false` if it cannot run or fails (not root, no such tool).
    fn run(cmd: &[&str]) -> bool {
        Command::new(cmd[0])
            .args(&cmd[1..])
            .output()
            .is_ok_and(|o| o.status.success())
    }

    fn fresh_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("se-faults-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        dir
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .expect("read dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    /// Makes a directory refuse new files (`chattr +i`, which binds root too) and undoes it.
    struct Immutable(PathBuf);

    impl Drop for Immutable {
        fn drop(&mut self) {
            run(&["chattr", "-i", &self.0.to_string_lossy()]);
        }
    }

    /// On 375dddf the error was `I/O failure (unable to open database file)`: neither which
    /// file nor why.
    #[test]
    fn a_read_only_directory_is_named_with_its_cause() {
        let dir = fresh_dir("ro");
        let path = dir.join("store.db");
        drop(SqliteStore::open(&path).expect("create"));
        let _ = std::fs::remove_file(dir.join("store.db-wal"));
        let _ = std::fs::remove_file(dir.join("store.db-shm"));
        if !run(&["chattr", "+i", &dir.to_string_lossy()]) {
            eprintln!("skipped: chattr +i needs root on a filesystem that supports it");
            return;
        }
        let guard = Immutable(dir.clone());
        let err = SqliteStore::open(&path).expect_err("a read-only directory");
        drop(guard);
        let text = err.to_string();
        assert!(text.contains(&path.display().to_string()), "{text}");
        assert!(
            text.contains(&format!("cannot create files in {}", dir.display())),
            "{text}"
        );
        assert!(text.contains("-wal"), "{text}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// On 375dddf a creation that failed half-way (here: the disk is full) left
    /// `store.db.creating-<pid>` behind.
    #[test]
    fn a_failed_creation_leaves_no_temporary_file() {
        let dir = fresh_dir("full");
        let mount = dir.to_string_lossy().into_owned();
        if !run(&["mount", "-t", "tmpfs", "-o", "size=12k", "tmpfs", &mount]) {
            eprintln!("skipped: mounting a small tmpfs needs root");
            return;
        }
        struct Unmount(String);
        impl Drop for Unmount {
            fn drop(&mut self) {
                run(&["umount", &self.0]);
            }
        }
        let _unmount = Unmount(mount);
        std::fs::write(dir.join("fill"), vec![0u8; 8 * 1024]).expect("fill");
        let err = SqliteStore::open(dir.join("store.db")).expect_err("a full disk");
        assert!(err.to_string().contains("disk full"), "{err}");
        assert_eq!(names(&dir), ["fill"]);
    }
}
