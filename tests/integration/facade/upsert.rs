//! `Client::upsert_schedule`: create when absent; when present, replace action, spec and policy
//! keeping counters, recent actions and state, with the conflict token moved; a no-op when the
//! configuration is unchanged; the same across a restart on SQLite. Expected values follow
//! from the schedules themselves (every 5 minutes from Temporal's test epoch).

use crate::util::engine::{action_mut, mins};
use crate::util::facade::{at, every, wid, Recorder};
use schedule_engine::{
    Client, ManualClock, Schedule, ScheduleDescription, ScheduleError, ScheduleSpec, Worker,
};

/// Every 5 minutes, but from a config file: the JSON a service would ship.
fn config() -> Schedule {
    serde_json::from_str(
        r#"{
            "action": {"workflow": "wf", "id": "myid", "task_queue": "tq", "args": [1]},
            "spec": {"intervals": [{"every": "5m"}], "jitter": "0s"},
            "policy": {"catchup_window": "1h", "pause_on_failure": true}
        }"#,
    )
    .unwrap()
}

fn recent(d: &ScheduleDescription) -> Vec<String> {
    d.info
        .recent_actions
        .iter()
        .map(|r| r.action.workflow_id.clone())
        .collect()
}

#[test]
fn creates_then_updates_keeping_counters_and_state() {
    let clock = ManualClock::new(at(0));
    let client = Client::builder().clock(clock.clone()).build().unwrap();
    let worker = Worker::start(&client, Recorder::completing());

    let created = client
        .upsert_schedule("s", config())
        .unwrap()
        .describe()
        .unwrap();
    assert_eq!(created.schedule, config(), "described as configured");
    assert_eq!(created.info.created_at, at(0));
    assert_eq!(created.info.last_updated_at, None);

    for secs in [300, 600] {
        clock.set(at(secs));
        worker.settle();
    }
    let handle = client.get_schedule_handle("s");
    handle.pause(Some("operator: hold")).unwrap();
    let before = handle.describe().unwrap();
    assert_eq!(before.info.num_actions, 2);

    // Unchanged configuration: nothing moves, not even the token.
    clock.set(at(700));
    client.upsert_schedule("s", config()).unwrap();
    assert_eq!(handle.describe().unwrap(), before);

    // Changed spec and action: replaced; counters, recent actions and the pause are kept.
    let mut changed = config();
    changed.spec = ScheduleSpec {
        cron_expressions: vec!["0 * * * *".into()],
        ..Default::default()
    };
    action_mut(&mut changed).args = vec![serde_json::json!(2)];
    let after = client
        .upsert_schedule("s", changed.clone())
        .unwrap()
        .describe()
        .unwrap();
    assert_eq!(after.schedule.spec, changed.spec);
    assert_eq!(after.schedule.action, changed.action);
    assert_eq!(
        after.schedule.state, before.schedule.state,
        "the pause stays"
    );
    assert!(after.schedule.state.paused);
    assert_ne!(after.conflict_token, before.conflict_token);
    assert_eq!(after.info.num_actions, 2);
    assert_eq!(recent(&after), [wid(300), wid(600)]);
    assert_eq!(after.info.created_at, at(0));
    assert_eq!(after.info.last_updated_at, Some(at(700)));

    // Unpaused, it runs on the new spec: the top of the hour, not 00:15.
    handle.unpause(None).unwrap();
    assert_eq!(
        handle.describe().unwrap().info.next_action_times[0],
        at(3600)
    );
    worker.shutdown();
}

#[test]
fn an_invalid_configuration_changes_nothing() {
    let client = Client::builder()
        .clock(ManualClock::new(at(0)))
        .build()
        .unwrap();
    let mut bad = config();
    bad.spec.cron_expressions = vec!["0 24 * * *".into()];
    assert!(matches!(
        client.upsert_schedule("s", bad.clone()),
        Err(ScheduleError::InvalidSpec(_))
    ));
    assert!(client.list_schedules().is_empty(), "not created");
    let before = client
        .upsert_schedule("s", config())
        .unwrap()
        .describe()
        .unwrap();
    assert!(matches!(
        client.upsert_schedule("s", bad),
        Err(ScheduleError::InvalidSpec(_))
    ));
    assert_eq!(client.get_schedule_handle("s").describe().unwrap(), before);
}

#[test]
fn concurrent_upserts_and_deletes_of_one_id_never_fail_or_duplicate() {
    let client = Client::new();
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let client = client.clone();
            #[allow(clippy::disallowed_methods, reason = "concurrent callers")]
            std::thread::spawn(move || {
                for n in 0..200 {
                    let s = every(mins(1 + (i + n) % 3));
                    client.upsert_schedule("s", s).unwrap();
                    if n % 7 == i {
                        // Another caller may have deleted it first.
                        let _ = client.get_schedule_handle("s").delete();
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert!(client.list_schedules().len() <= 1);
    client.upsert_schedule("s", every(mins(2))).unwrap();
    let d = client.get_schedule_handle("s").describe().unwrap();
    assert_eq!(d.schedule.spec, every(mins(2)).spec);
}

#[cfg(feature = "sqlite")]
#[test]
fn upsert_at_every_start_keeps_counters_across_a_restart_on_sqlite() {
    use schedule_engine::SqliteStore;

    let dir = std::env::temp_dir().join(format!("se-upsert-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("schedules.db");
    let _ = std::fs::remove_file(&path);
    let clock = ManualClock::new(at(0));
    let start = |config: Schedule| {
        let client = Client::builder()
            .clock(clock.clone())
            .store(SqliteStore::open(&path).unwrap())
            .build()
            .unwrap();
        client.upsert_schedule("s", config).unwrap();
        let worker = Worker::start(&client, Recorder::completing());
        (client, worker)
    };

    let (client, worker) = start(config());
    for secs in [300, 600] {
        clock.set(at(secs));
        worker.settle();
    }
    let first_life = client.get_schedule_handle("s").describe().unwrap();
    worker.shutdown();
    drop(client);

    // Restarted with the same configuration: the schedule is exactly as it was.
    let (client, worker) = start(config());
    let second_life = client.get_schedule_handle("s").describe().unwrap();
    assert_eq!(second_life, first_life);
    worker.shutdown();
    drop(client);

    // Restarted with a new configuration: updated, counters and recent actions kept.
    clock.set(at(700));
    let mut changed = config();
    changed.spec.intervals[0].every = mins(10);
    let (client, worker) = start(changed.clone());
    let third_life = client.get_schedule_handle("s").describe().unwrap();
    assert_eq!(third_life.schedule.spec, changed.spec);
    assert_eq!(third_life.info.num_actions, 2);
    assert_eq!(recent(&third_life), [wid(300), wid(600)]);
    assert_ne!(third_life.conflict_token, first_life.conflict_token);
    clock.set(at(1200));
    worker.settle();
    let fourth = client.get_schedule_handle("s").describe().unwrap();
    assert_eq!(recent(&fourth), [wid(300), wid(600), wid(1200)]);
    worker.shutdown();
    drop(client);
    let _ = std::fs::remove_dir_all(&dir);
}
