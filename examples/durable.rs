//! Durability: schedules live in a SQLite file and survive a restart. The first "life" creates a
//! schedule that runs every second; the process's client is then dropped (as if it stopped), the
//! schedule is down for 2.5 s, and a second life opens the same file and carries on: the times
//! that came due while it was down are handled by the catch-up window and the overlap policy
//! (SKIP: the earliest missed time runs at once, the others count as skipped).
//!
//! ```text
//! cargo run --example durable --features sqlite                 # a temporary file, removed after
//! cargo run --example durable --features sqlite -- --db my.db   # keep the file: run it again
//! ```

#![allow(clippy::disallowed_methods)] // an example runs on the real clock

use std::path::PathBuf;
use std::time::{Duration, Instant};

use schedule_engine::{
    Client, Schedule, ScheduleActionStartWorkflow, ScheduleError, ScheduleIntervalSpec,
    ScheduleSpec, SqliteStore, Worker, WorkflowContext, WorkflowRegistry,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (path, keep) = match (args.next().as_deref(), args.next()) {
        (Some("--db"), Some(path)) => (PathBuf::from(path), true),
        (None, _) => {
            let name = format!("schedule-engine-durable-{}.db", std::process::id());
            (std::env::temp_dir().join(name), false)
        }
        _ => {
            eprintln!("usage: durable [--db PATH]");
            std::process::exit(2);
        }
    };
    let began = Instant::now();

    for life in 1..=2 {
        println!(
            "{:>5.1}s life {life}: opening {}",
            began.elapsed().as_secs_f64(),
            path.display()
        );
        let client = Client::builder().store(SqliteStore::open(&path)?).build()?;
        let registry = WorkflowRegistry::new().register("beat", move |ctx: WorkflowContext| {
            println!(
                "{:>5.1}s   | beat {}",
                began.elapsed().as_secs_f64(),
                ctx.workflow_id()
            );
            Ok(())
        });
        let worker = Worker::start(&client, registry);

        let handle = client.get_schedule_handle("heartbeat");
        match handle.describe() {
            Ok(d) => println!(
                "        found schedule \"heartbeat\" from an earlier life: {} actions, {} skipped",
                d.info.num_actions, d.info.num_actions_skipped_overlap
            ),
            Err(ScheduleError::NotFound { .. }) => {
                client.create_schedule("heartbeat", heartbeat())?;
                println!("        created schedule \"heartbeat\": every 1 s");
            }
            Err(e) => return Err(e.into()),
        }
        std::thread::sleep(Duration::from_millis(3200));

        let info = handle.describe()?.info;
        println!(
            "{:>5.1}s life {life} ends: {} actions, {} skipped by overlap, {} missed catch-up",
            began.elapsed().as_secs_f64(),
            info.num_actions,
            info.num_actions_skipped_overlap,
            info.num_actions_missed_catchup_window
        );
        if life == 2 && !keep {
            handle.delete()?;
        }
        worker.shutdown();
        drop(client); // closes the file: the "process" is gone
        if life == 1 {
            println!("        down for 2.5 s");
            std::thread::sleep(Duration::from_millis(2500));
        }
    }
    if !keep {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = path.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
    Ok(())
}

fn heartbeat() -> Schedule {
    Schedule::new(
        ScheduleActionStartWorkflow::workflow("beat")
            .id("heartbeat")
            .task_queue("demo"),
        ScheduleSpec {
            intervals: vec![ScheduleIntervalSpec::new(Duration::from_secs(1))],
            ..Default::default()
        },
    )
}
