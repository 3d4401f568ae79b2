//! Restarts with a `ManualClock`: a client built on an existing store resumes, and the times
//! that came due while it was down are handled by the catch-up window and overlap policy as
//! Temporal handles a scheduler that slept (docs/semantics.md#catch-up-window).
//!
//! The scenario (expected values worked out by hand from those rules): a schedule every minute,
//! created at 00:00 with a 10-minute catch-up window. It runs 00:01 and 00:02, the process stops,
//! and it comes back at 01:02, one hour later. The times after the high-water mark 00:02 up to
//! now are 00:03 ..= 01:02 (60). A time is missed when `now - time > window`: 00:03 ..= 00:51
//! (49); 00:52 is exactly 10 minutes old and still taken, so 00:52 ..= 01:02 (11) are buffered.
//! * SKIP, nothing running: the earliest (00:52) starts, the other 10 are skipped.
//! * BUFFER_ALL: all 11 start, one after another, oldest first.
//! * ALLOW_ALL: all 11 start at once.

use std::time::Duration;

use crate::util::engine::t;
use crate::util::store::{
    assert_no_more, every_as, recv_ids, wait_until, FlakyStore, StartChannel,
};
use schedule_engine::store::{MemoryStore, Store};
use schedule_engine::{Client, ManualClock, ScheduleError, ScheduleOverlapPolicy, Worker};

const MINUTE: Duration = Duration::from_secs(60);
const WINDOW: Duration = Duration::from_secs(600);

fn client_on<S: Store>(store: S, clock: &ManualClock) -> Client {
    Client::builder()
        .clock(clock.clone())
        .store(store)
        .build()
        .expect("client on store")
}

/// The ids `job-<time>` for whole minutes `from ..= to` of 2022-06-01 (given as "HH:MM").
fn ids(times: &[&str]) -> Vec<String> {
    times
        .iter()
        .map(|t| format!("job-2022-06-01T{t}:00Z"))
        .collect()
}

fn minutes(from: u32, to: u32) -> Vec<String> {
    (from..=to)
        .map(|m| format!("job-2022-06-01T{:02}:{:02}:00Z", m / 60, m % 60))
        .collect()
}

/// Runs 00:01 and 00:02 on `store`, then stops (dropping the client and the store).
fn first_life<S: Store>(store: S, overlap: ScheduleOverlapPolicy) -> ManualClock {
    let clock = ManualClock::new(t("2022-06-01T00:00:00Z"));
    let client = client_on(store, &clock);
    client
        .create_schedule("s", every_as("job", MINUTE, overlap, WINDOW))
        .expect("create");
    let (recorder, starts) = StartChannel::new(true);
    let worker = Worker::start(&client, recorder);
    clock.set(t("2022-06-01T00:01:00Z"));
    assert_eq!(recv_ids(&starts, 1), ids(&["00:01"]));
    clock.set(t("2022-06-01T00:02:00Z"));
    assert_eq!(recv_ids(&starts, 1), ids(&["00:02"]));
    let handle = client.get_schedule_handle("s");
    wait_until("00:02 to close", || {
        handle
            .describe()
            .is_ok_and(|d| d.info.running_actions.is_empty())
    });
    worker.shutdown();
    clock
}

/// Comes back at 01:02 on the same store; returns the starts of the second life.
fn second_life<S: Store>(
    store: S,
    clock: &ManualClock,
    expected_starts: usize,
) -> (Client, Vec<String>) {
    clock.set(t("2022-06-01T01:02:00Z"));
    let client = client_on(store, clock);
    let (recorder, starts) = StartChannel::new(true);
    let worker = Worker::start(&client, recorder);
    let got = recv_ids(&starts, expected_starts);
    assert_no_more(&starts);
    let handle = client.get_schedule_handle("s");
    wait_until("the restarted runs to close", || {
        handle
            .describe()
            .is_ok_and(|d| d.info.running_actions.is_empty() && d.info.buffer_size == 0)
    });
    worker.shutdown();
    (client, got)
}

fn counters(client: &Client) -> (u64, u64, u64, u64) {
    let info = client
        .get_schedule_handle("s")
        .describe()
        .expect("schedule survived the restart")
        .info;
    (
        info.num_actions,
        info.num_actions_missed_catchup_window,
        info.num_actions_skipped_overlap,
        info.num_actions_buffer_dropped,
    )
}

#[test]
fn skip_after_an_hour_down_runs_the_earliest_in_the_window() {
    let store = MemoryStore::new();
    let clock = first_life(store.clone(), ScheduleOverlapPolicy::Skip);
    let (client, started) = second_life(store, &clock, 1);
    assert_eq!(started, ids(&["00:52"]));
    // (actions, missed, skipped, dropped)
    assert_eq!(counters(&client), (3, 49, 10, 0));
}

#[test]
fn buffer_all_after_an_hour_down_runs_every_time_in_the_window_in_order() {
    let store = MemoryStore::new();
    let clock = first_life(store.clone(), ScheduleOverlapPolicy::BufferAll);
    let (client, started) = second_life(store, &clock, 11);
    assert_eq!(started, minutes(52, 62));
    assert_eq!(counters(&client), (13, 49, 0, 0));
}

#[test]
fn allow_all_after_an_hour_down_runs_every_time_in_the_window() {
    let store = MemoryStore::new();
    let clock = first_life(store.clone(), ScheduleOverlapPolicy::AllowAll);
    let (client, mut started) = second_life(store, &clock, 11);
    started.sort();
    assert_eq!(started, minutes(52, 62));
    assert_eq!(counters(&client), (13, 49, 0, 0));
}

#[test]
fn next_times_continue_on_schedule_after_the_restart() {
    let store = MemoryStore::new();
    let clock = first_life(store.clone(), ScheduleOverlapPolicy::Skip);
    let (client, _) = second_life(store, &clock, 1);
    let next = client
        .get_schedule_handle("s")
        .describe()
        .expect("describe")
        .info
        .next_action_times;
    assert_eq!(next.first(), Some(&t("2022-06-01T01:03:00Z")));
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::*;
    use schedule_engine::SqliteStore;

    /// The SKIP scenario on a real file, reopened by path as a new process would.
    #[test]
    fn skip_after_an_hour_down_on_sqlite() {
        let dir = std::env::temp_dir().join(format!("se-restart-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("store.db");
        let clock = first_life(
            SqliteStore::open(&path).expect("open"),
            ScheduleOverlapPolicy::Skip,
        );
        let (client, started) = second_life(SqliteStore::open(&path).expect("reopen"), &clock, 1);
        assert_eq!(started, ids(&["00:52"]));
        assert_eq!(counters(&client), (3, 49, 10, 0));
        drop(client);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// A run recorded as running when the process stopped is handed to the executor again after the
/// restart, with the same workflow id, and counts as running until it is reported.
#[test]
fn a_run_interrupted_by_the_stop_is_delivered_again() {
    let store = MemoryStore::new();
    let clock = ManualClock::new(t("2022-06-01T00:00:00Z"));
    {
        let client = client_on(store.clone(), &clock);
        client
            .create_schedule(
                "s",
                every_as("job", MINUTE, ScheduleOverlapPolicy::Skip, WINDOW),
            )
            .expect("create");
        let (recorder, starts) = StartChannel::new(false);
        let worker = Worker::start(&client, recorder);
        clock.set(t("2022-06-01T00:01:00Z"));
        assert_eq!(recv_ids(&starts, 1), ids(&["00:01"]));
        worker.shutdown();
    }
    clock.set(t("2022-06-01T00:01:30Z"));
    let client = client_on(store, &clock);
    let handle = client.get_schedule_handle("s");
    let running = handle.describe().expect("describe").info.running_actions;
    assert_eq!(running.len(), 1);
    assert_eq!(running[0].workflow_id, "job-2022-06-01T00:01:00Z");
    let (recorder, starts) = StartChannel::new(true);
    let worker = Worker::start(&client, recorder);
    assert_eq!(recv_ids(&starts, 1), ids(&["00:01"]));
    wait_until("the redelivered run to close", || {
        handle
            .describe()
            .is_ok_and(|d| d.info.running_actions.is_empty())
    });
    // Delivered again, not started again: the count is still one.
    assert_eq!(handle.describe().expect("describe").info.num_actions, 1);
    clock.set(t("2022-06-01T00:02:00Z"));
    assert_eq!(recv_ids(&starts, 1), ids(&["00:02"]));
    worker.shutdown();
}

/// While the store refuses writes, the action that came due is held (not dispatched), the hook
/// hears of it, and a mutation reports the failure; once writes succeed again the held action
/// goes out exactly once and the mutation's change is in the store.
#[test]
fn actions_wait_while_the_store_fails_and_go_out_once_after() {
    let store = FlakyStore::default();
    let clock = ManualClock::new(t("2022-06-01T00:00:00Z"));
    let hook_calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let hook_count = hook_calls.clone();
    let client = Client::builder()
        .clock(clock.clone())
        .store(store.clone())
        .on_store_error(move |e| {
            assert!(e.to_string().contains("disk full"), "{e}");
            hook_count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        })
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

    store
        .failing
        .store(true, std::sync::atomic::Ordering::SeqCst);
    clock.set(t("2022-06-01T00:01:00Z"));
    wait_until("a failed batch", || {
        store.failures.load(std::sync::atomic::Ordering::SeqCst) > 0
    });
    assert_no_more(&starts);
    assert!(hook_calls.load(std::sync::atomic::Ordering::SeqCst) > 0);
    let created = client.create_schedule(
        "t",
        every_as("other", MINUTE, ScheduleOverlapPolicy::Skip, WINDOW),
    );
    assert!(
        matches!(created, Err(ScheduleError::Store(_))),
        "{created:?}"
    );

    store
        .failing
        .store(false, std::sync::atomic::Ordering::SeqCst);
    // The worker retries one second (of the client's clock) after the failure.
    clock.set(t("2022-06-01T00:01:01Z"));
    assert_eq!(recv_ids(&starts, 1), ids(&["00:01"]));
    assert_no_more(&starts);
    worker.shutdown();
    let info = client
        .get_schedule_handle("s")
        .describe()
        .expect("describe")
        .info;
    assert_eq!(info.num_actions, 1);
    assert_eq!(info.num_actions_skipped_overlap, 0);
    drop(client);

    // Both schedules, with the first one's start, are in the store.
    let client = client_on(store.inner.clone(), &clock);
    let names: Vec<String> = client.list_schedules().into_iter().map(|s| s.id).collect();
    assert_eq!(names, vec!["s".to_string(), "t".to_string()]);
    let info = client
        .get_schedule_handle("s")
        .describe()
        .expect("describe")
        .info;
    assert_eq!(info.num_actions, 1);
}

/// A record that does not decode fails the build with an error naming it; nothing is skipped.
#[test]
fn an_undecodable_record_fails_the_build() {
    let mut store = MemoryStore::new();
    store
        .persist(&[schedule_engine::store::StoreChange::Put(
            schedule_engine::store::StoredRecord {
                kind: schedule_engine::store::RecordKind::Schedule,
                id: "broken".into(),
                data: "{\"id\":\"broken\",\"schedule\":".into(),
            },
        )])
        .expect("memory");
    let err = Client::builder()
        .store(store)
        .build()
        .expect_err("must not build");
    assert!(err.to_string().contains("broken"), "{err}");
    assert!(matches!(err, ScheduleError::Store(_)), "{err:?}");
}

/// Cron jobs and delayed starts are stored too: after a restart the cron job goes on at its
/// next times and the delayed start happens when its delay ends, not before.
#[test]
fn cron_jobs_and_delayed_starts_survive_a_restart() {
    let store = MemoryStore::new();
    let clock = ManualClock::new(t("2022-06-01T00:00:00Z"));
    {
        let client = client_on(store.clone(), &clock);
        client
            .start_workflow(schedule_engine::StartWorkflowOptions {
                workflow: "cron".into(),
                id: "cron-job".into(),
                task_queue: "q".into(),
                cron_schedule: Some("*/5 * * * *".into()),
                ..Default::default()
            })
            .expect("cron job");
        client
            .start_workflow(schedule_engine::StartWorkflowOptions {
                workflow: "later".into(),
                id: "delayed".into(),
                task_queue: "q".into(),
                start_delay: Some(Duration::from_secs(7 * 60)),
                ..Default::default()
            })
            .expect("delayed start");
    }
    clock.set(t("2022-06-01T00:01:00Z"));
    let client = client_on(store, &clock);
    let (recorder, starts) = StartChannel::new(true);
    let worker = Worker::start(&client, recorder);
    let next = |expected_id: &str| {
        let a = starts
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("{expected_id} did not start"));
        assert_eq!(a.workflow_id, expected_id);
        a
    };
    assert_no_more(&starts);
    clock.set(t("2022-06-01T00:05:00Z"));
    let run = next("cron-job");
    assert_eq!(run.nominal_time, t("2022-06-01T00:05:00Z"));
    assert_eq!(run.workflow, "cron");
    clock.set(t("2022-06-01T00:06:59Z"));
    assert_no_more(&starts);
    clock.set(t("2022-06-01T00:07:00Z"));
    assert_eq!(next("delayed").workflow, "later");
    clock.set(t("2022-06-01T00:10:00Z"));
    assert_eq!(next("cron-job").nominal_time, t("2022-06-01T00:10:00Z"));
    worker.shutdown();
}
