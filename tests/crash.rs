//! Crash test: a worker process with a `SqliteStore` and schedules firing every second or two
//! is killed with SIGKILL at random moments, many times, restarting each time, then run once
//! more and stopped cleanly. Afterwards, from the store and the executor's own log:
//! * no schedule is lost: every schedule whose creation returned `Ok` exists, none was created
//!   twice, and all of them exist;
//! * write-ahead: every start the executor saw is for a nominal time the store has processed;
//! * at-least-once: every nominal time the store counts as started reached the executor;
//! * exact accounting: each nominal time from creation to the high-water mark is started,
//!   skipped, missed, dropped or still buffered, exactly one of these (so none is both missed
//!   and started, and none vanished);
//! * nothing dangles: after the clean stop no run is recorded as running and no action pending.
//!
//! Three runs: the default one (12 kills, about 15 s) runs with `cargo test`; the long ones are
//! ignored and run with
//! `cargo test --release --features sqlite --test crash -- --ignored --test-threads=1`:
//! 50 kills of the same workload, and the re-delivery run (50 kills 0.2-2.5 s apart, 20
//! ALLOW_ALL schedules every one or two seconds, an executor taking 10 ms per start), which
//! also asserts that at most 5 % of the starts are delivered twice.
//!
//! The child is this test binary itself, re-invoked on the ignored test `crash_child` with
//! `SE_CRASH_DIR` and `SE_CRASH_WORKLOAD` set. Set `SE_CRASH_SEED` to replay a sequence of
//! kill delays.

#![allow(clippy::disallowed_methods)] // tests time themselves and run real threads
#![cfg(feature = "sqlite")]

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use schedule_engine::snapshot::ScheduleRecord;
use schedule_engine::{
    CancelWorkflowAction, Client, Completion, Schedule, ScheduleAction,
    ScheduleActionStartWorkflow, ScheduleError, ScheduleIntervalSpec, ScheduleOverlapPolicy,
    SchedulePolicy, ScheduleSpec, SqliteStore, StartWorkflowAction, TerminateWorkflowAction,
    Worker, WorkflowExecutor, WorkflowOutcome,
};

const FINAL_RUN: Duration = Duration::from_secs(3);

/// What the child runs and how the parent kills it.
#[derive(Debug, Clone, Copy)]
struct Workload {
    name: &'static str,
    schedules: usize,
    kills: usize,
    /// Milliseconds before a kill: `min + rand(spread)`.
    kill_after: (u64, u64),
    /// Now and then the parent stays down for a few seconds before the restart.
    downtime: bool,
    /// What each start costs the executor.
    executor_ms: u64,
}

/// 50 schedules every second, SKIP, BUFFER_ALL and ALLOW_ALL in turn.
const MIXED: Workload = Workload {
    name: "mixed",
    schedules: 50,
    kills: 50,
    kill_after: (50, 1000),
    downtime: true,
    executor_ms: 0,
};

/// The re-delivery run of issue 10: 20 ALLOW_ALL schedules every one or two seconds.
const REDELIVERY: Workload = Workload {
    name: "redelivery",
    schedules: 20,
    kills: 50,
    kill_after: (200, 2300),
    downtime: false,
    executor_ms: 10,
};

fn workload(name: &str) -> Workload {
    [MIXED, REDELIVERY]
        .into_iter()
        .find(|w| w.name == name)
        .expect("known workload")
}

fn schedule_id(i: usize) -> String {
    format!("c{i:02}")
}

fn every(w: &Workload, i: usize) -> u64 {
    match w.name {
        "redelivery" => 1 + (i % 2) as u64,
        _ => 1,
    }
}

fn policy(w: &Workload, i: usize) -> ScheduleOverlapPolicy {
    match (w.name, i % 3) {
        ("redelivery", _) => ScheduleOverlapPolicy::AllowAll,
        (_, 0) => ScheduleOverlapPolicy::Skip,
        (_, 1) => ScheduleOverlapPolicy::BufferAll,
        _ => ScheduleOverlapPolicy::AllowAll,
    }
}

fn schedule(w: &Workload, i: usize) -> Schedule {
    Schedule {
        action: ScheduleAction::StartWorkflow(ScheduleActionStartWorkflow {
            workflow: "tick".into(),
            id: schedule_id(i),
            task_queue: "q".into(),
            ..Default::default()
        }),
        spec: ScheduleSpec {
            intervals: vec![ScheduleIntervalSpec::new(Duration::from_secs(every(w, i)))],
            ..Default::default()
        },
        policy: SchedulePolicy {
            overlap: policy(w, i),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// Appends one line and makes it durable before returning.
fn append_line(path: &Path, line: &str) {
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open log");
    file.write_all(format!("{line}\n").as_bytes())
        .expect("append");
    file.sync_data().expect("fsync");
}

/// The child's executor: logs each start's workflow id durably, works `delay`, then completes
/// the run.
struct FileLog {
    file: File,
    delay: Duration,
}

impl WorkflowExecutor for FileLog {
    fn start_workflow(&mut self, action: StartWorkflowAction, completion: Completion) {
        std::thread::sleep(self.delay);
        self.file
            .write_all(format!("{}\n", action.workflow_id).as_bytes())
            .expect("append start");
        self.file.sync_data().expect("fsync start");
        completion.complete(WorkflowOutcome::Completed { result: None });
    }

    fn cancel_workflow(&mut self, _: CancelWorkflowAction) {}

    fn terminate_workflow(&mut self, _: TerminateWorkflowAction) {}
}

/// The worker process. Does nothing unless started by the parent test.
#[test]
#[ignore = "child process of crash_and_restart_lose_nothing"]
fn crash_child() {
    let Some(dir) = std::env::var_os("SE_CRASH_DIR").map(PathBuf::from) else {
        return;
    };
    let w = workload(&std::env::var("SE_CRASH_WORKLOAD").expect("workload"));
    let store = SqliteStore::open(dir.join("store.db")).expect("open store");
    let client = Client::builder().store(store).build().expect("load store");
    for i in 0..w.schedules {
        let id = schedule_id(i);
        match client.get_schedule_handle(&id).describe() {
            Ok(_) => {}
            Err(ScheduleError::NotFound { .. }) => {
                client
                    .create_schedule(&id, schedule(&w, i))
                    .expect("create");
                append_line(&dir.join("creates.log"), &id);
            }
            Err(e) => panic!("describe {id}: {e}"),
        }
    }
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("starts.log"))
        .expect("open starts log");
    let delay = Duration::from_millis(w.executor_ms);
    let worker = Worker::start(&client, FileLog { file, delay });
    if std::env::var_os("SE_CRASH_FINAL").is_some() {
        std::thread::sleep(FINAL_RUN);
        worker.shutdown();
        append_line(&dir.join("end.log"), &Utc::now().to_rfc3339());
        return;
    }
    loop {
        std::thread::sleep(Duration::from_secs(60));
    }
}

/// Kills the child if the parent panics before it does.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_child(w: &Workload, dir: &Path, last: bool) -> ChildGuard {
    let mut cmd = Command::new(std::env::current_exe().expect("test binary"));
    cmd.args(["crash_child", "--exact", "--ignored", "--test-threads=1"])
        .env("SE_CRASH_DIR", dir)
        .env("SE_CRASH_WORKLOAD", w.name)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    if last {
        cmd.env("SE_CRASH_FINAL", "1");
    }
    ChildGuard(cmd.spawn().expect("spawn child"))
}

/// xorshift64: reproducible kill delays from a printed seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn read_lines(path: &Path) -> Vec<String> {
    let text = fs::read_to_string(path).unwrap_or_default();
    // A line cut short by a kill has no newline yet; the executor wrote it before completing, so
    // such a run was not reported and is delivered again: the partial line is not evidence.
    let complete = match text.rfind('\n') {
        Some(end) => &text[..=end],
        None => "",
    };
    complete.lines().map(str::to_owned).collect()
}

/// The default run: 12 kills.
#[test]
fn crash_and_restart_lose_nothing() {
    let stats = crash_run(Workload { kills: 12, ..MIXED });
    assert!(stats.starts > 0);
}

/// The same with 50 kills (about a minute).
#[test]
#[ignore = "long: run with --ignored (see the module docs)"]
fn crash_and_restart_lose_nothing_50_kills() {
    let stats = crash_run(MIXED);
    assert!(stats.starts > 0);
}

/// Issue 10's re-delivery run. On 375dddf it saw 747 starts delivered twice among 1,957
/// (38 %): runs that had closed, but whose close was still waiting for the next batch.
#[test]
#[ignore = "long: run with --ignored (see the module docs)"]
fn crash_run_redelivers_little() {
    let stats = crash_run(REDELIVERY);
    let share = stats.redelivered as f64 / stats.starts as f64;
    assert!(
        share <= 0.05,
        "{} of {} starts delivered again ({:.1} %)",
        stats.redelivered,
        stats.starts,
        share * 100.0
    );
}

/// What a run saw: distinct nominal times started, and deliveries beyond the first.
struct Stats {
    starts: usize,
    redelivered: usize,
}

fn crash_run(w: Workload) -> Stats {
    let dir = std::env::temp_dir().join(format!("se-crash-{}-{}", w.name, std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("temp dir");
    let seed = std::env::var("SE_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| u64::from(Utc::now().timestamp_subsec_nanos()) | 1);
    eprintln!(
        "crash test {}: seed {seed}, directory {}",
        w.name,
        dir.display()
    );
    let mut rng = Rng(seed);
    let started = Instant::now();

    for _ in 0..w.kills {
        let mut child = spawn_child(&w, &dir, false);
        std::thread::sleep(Duration::from_millis(
            w.kill_after.0 + rng.below(w.kill_after.1),
        ));
        if let Ok(Some(status)) = child.0.try_wait() {
            panic!("child exited before it was killed: {status}");
        }
        child.0.kill().expect("SIGKILL");
        child.0.wait().expect("reap");
        // Now and then stay down for a few seconds, so that several times come due meanwhile and
        // the overlap policies have something to skip, buffer or run together at the restart.
        if w.downtime && rng.below(4) == 0 {
            std::thread::sleep(Duration::from_millis(1000 + rng.below(1500)));
        }
    }
    let mut last = spawn_child(&w, &dir, true);
    let status = last.0.wait().expect("final child");
    assert!(status.success(), "final child failed: {status}");
    eprintln!(
        "crash test {}: {} kills in {:?}",
        w.name,
        w.kills,
        started.elapsed()
    );

    let stats = verify(&w, &dir);
    let _ = fs::remove_dir_all(&dir);
    stats
}

fn verify(w: &Workload, dir: &Path) -> Stats {
    // No schedule lost, none created twice.
    let creates = read_lines(&dir.join("creates.log"));
    let unique: BTreeSet<&String> = creates.iter().collect();
    assert_eq!(unique.len(), creates.len(), "a schedule was created twice");
    let records = stored_schedules(&dir.join("store.db"));
    let expected: BTreeSet<String> = (0..w.schedules).map(schedule_id).collect();
    let found: BTreeSet<String> = records.keys().cloned().collect();
    assert_eq!(found, expected, "schedules lost or invented");
    assert_eq!(
        pending_actions(&dir.join("store.db")),
        0,
        "actions left pending"
    );

    // Starts seen by the executor, by schedule: nominal time -> deliveries.
    let mut delivered: BTreeMap<String, BTreeMap<i64, u32>> = BTreeMap::new();
    for line in read_lines(&dir.join("starts.log")) {
        let (id, time) = line.split_once('-').expect("workflow id <action>-<time>");
        let nominal = DateTime::parse_from_rfc3339(time)
            .unwrap_or_else(|e| panic!("workflow id {line}: {e}"))
            .timestamp();
        *delivered
            .entry(id.to_owned())
            .or_default()
            .entry(nominal)
            .or_default() += 1;
    }
    let end = read_lines(&dir.join("end.log"));
    let end = DateTime::parse_from_rfc3339(end.last().expect("final run finished"))
        .expect("end time")
        .timestamp();

    let (mut starts, mut redelivered, mut skipped) = (0, 0, 0);
    for (id, record) in &records {
        let times = delivered.remove(id).unwrap_or_default();
        // Interval every `every` s: nominal times are its multiples, strictly after creation.
        let every = record.schedule.spec.intervals[0].every.as_secs() as i64;
        let first = (record.created_at.timestamp().div_euclid(every) + 1) * every;
        let hwm = record.high_water_mark.timestamp();
        assert!(
            hwm >= end - FINAL_RUN.as_secs() as i64,
            "{id}: high-water mark {} far behind the end of the run",
            record.high_water_mark
        );
        let processed =
            u64::try_from(hwm.div_euclid(every) - first.div_euclid(every) + 1).unwrap_or(0);
        for &t in times.keys() {
            assert!(
                (first..=hwm).contains(&t) && t % every == 0,
                "{id}: started {t}, outside the processed span {first}..={hwm} (write-ahead)"
            );
        }
        assert!(record.running.is_empty(), "{id}: runs left running");
        assert_eq!(
            times.len() as u64,
            record.num_actions,
            "{id}: distinct starts delivered vs. recorded"
        );
        let accounted = record.num_actions
            + record.num_actions_missed_catchup_window
            + record.num_actions_skipped_overlap
            + record.num_actions_buffer_dropped
            + record.num_actions_dropped_paused
            + record.num_actions_duplicate_dropped
            + record.buffer.len() as u64;
        assert_eq!(
            accounted, processed,
            "{id}: started + missed + skipped + dropped + buffered vs. nominal times processed"
        );
        starts += times.len();
        redelivered += times.values().map(|&n| n as usize - 1).sum::<usize>();
        skipped += record.num_actions_skipped_overlap;
    }
    assert!(
        delivered.is_empty(),
        "starts of unknown schedules: {:?}",
        delivered.keys()
    );
    eprintln!(
        "crash test {}: {starts} nominal times started, {redelivered} delivered again after a \
         crash ({:.1} %), {skipped} skipped by overlap policy",
        w.name,
        redelivered as f64 * 100.0 / starts.max(1) as f64
    );
    Stats {
        starts,
        redelivered,
    }
}

fn stored_schedules(path: &Path) -> BTreeMap<String, ScheduleRecord> {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open store read-only");
    let mut stmt = conn
        .prepare("SELECT id, record FROM schedules")
        .expect("query");
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .expect("rows");
    rows.map(|row| {
        let (id, json) = row.expect("row");
        let record: ScheduleRecord = serde_json::from_str(&json).expect("schedule record");
        (id, record)
    })
    .collect()
}

fn pending_actions(path: &Path) -> i64 {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open store read-only");
    conn.query_row("SELECT count(*) FROM pending_actions", [], |r| r.get(0))
        .expect("count")
}
