//! Schedules from a configuration file, applied with `upsert_schedule` at every start: the first
//! start creates them, later starts leave unchanged ones exactly as they are (counters, recent
//! actions, a pause) and update changed ones in place. Two "starts" of a service on one store,
//! on a manual clock so that a morning passes in milliseconds.
//!
//! ```sh
//! cargo run --example from_config                       # examples/schedules.json
//! cargo run --example from_config -- path/to/schedules.json
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use schedule_engine::store::MemoryStore;
use schedule_engine::{Client, ManualClock, Schedule, Worker, WorkflowRegistry};

/// What the file holds: schedules by id, each in the config-friendly serde form (durations as
/// `"15m"`, the action without its tag).
type Config = BTreeMap<String, Schedule>;

/// One start of the service: open the store, apply the configuration, run until `until`.
fn run_service(
    config: &Config,
    store: &MemoryStore, // a SqliteStore in a real service: SqliteStore::open("schedules.db")?
    clock: &ManualClock,
    until: chrono::DateTime<Utc>,
) -> Result<(), Box<dyn std::error::Error>> {
    let client = Client::builder()
        .clock(clock.clone())
        .store(store.clone())
        .build()?;
    for (id, schedule) in config {
        let before = client.get_schedule_handle(id).describe().ok();
        let after = client.upsert_schedule(id, schedule.clone())?.describe()?;
        let what = match before {
            None => "created",
            Some(b) if b.conflict_token == after.conflict_token => "unchanged",
            Some(_) => "updated",
        };
        println!(
            "  {id:<15} {what:<9} ({} runs so far)",
            after.info.num_actions
        );
    }
    // Each workflow succeeds; threads(0) runs them inline, so the demo is deterministic.
    let registry = ["report", "refresh", "sync"]
        .into_iter()
        .fold(WorkflowRegistry::new().threads(0), |r, name| {
            r.register(name, |_ctx| Ok(()))
        });
    let worker = Worker::start(&client, registry);
    while client.now() < until {
        clock.advance(Duration::from_secs(300));
        worker.settle();
    }
    worker.shutdown();
    for s in client.list_schedules() {
        let d = client.get_schedule_handle(&s.id).describe()?;
        println!(
            "  {:<15} {} runs by {}, next {}",
            s.id,
            d.info.num_actions,
            client.now().format("%a %H:%M"),
            d.info.next_action_times[0].format("%a %H:%M"),
        );
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/examples/schedules.json").to_owned()
    });
    let text = std::fs::read_to_string(&path)?;
    let mut config: Config = serde_json::from_str(&text)?;

    let store = MemoryStore::new();
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2025, 3, 3, 0, 0, 0).unwrap());
    let at = |h| Utc.with_ymd_and_hms(2025, 3, 3, h, 0, 0).unwrap();

    println!("first start, {path}:");
    run_service(&config, &store, &clock, at(3))?;

    println!("second start, same file: counters carry on");
    run_service(&config, &store, &clock, at(6))?;
    let client = Client::builder()
        .clock(clock.clone())
        .store(store.clone())
        .build()?;
    let refreshes = client
        .get_schedule_handle("cache-refresh")
        .describe()?
        .info
        .num_actions;
    assert_eq!(
        refreshes, 24,
        "every 15 minutes for six hours, across both starts"
    );
    drop(client);

    println!("third start, the file changed (cache-refresh every 30m): updated in place");
    config
        .get_mut("cache-refresh")
        .ok_or("cache-refresh is in the file")?
        .spec
        .intervals[0]
        .every = Duration::from_secs(1800);
    run_service(&config, &store, &clock, at(9))?;
    Ok(())
}
