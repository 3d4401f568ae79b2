//! Pause and unpause a schedule (Temporal: `handle.pause(note=...)`, `handle.unpause(...)`).
//!
//! Times that pass while paused are skipped for good: unpausing does not catch them up (a
//! backfill would).

use std::time::Duration;

use chrono::{TimeZone, Utc};
use schedule_engine::{
    Client, ManualClock, Schedule, ScheduleActionStartWorkflow, ScheduleIntervalSpec, ScheduleSpec,
    Worker, WorkflowContext, WorkflowRegistry,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap());
    let client = Client::builder().clock(clock.clone()).build()?;
    let registry =
        WorkflowRegistry::new()
            .threads(0)
            .register("poll-feed", |ctx: WorkflowContext| {
                println!("  ran {}", ctx.workflow_id());
                Ok(())
            });
    let worker = Worker::start(&client, registry);
    let handle = client.create_schedule(
        "feed",
        Schedule::new(
            ScheduleActionStartWorkflow::workflow("poll-feed")
                .id("feed")
                .task_queue("feeds"),
            ScheduleSpec {
                intervals: vec![ScheduleIntervalSpec::new(Duration::from_secs(60))],
                ..Default::default()
            },
        ),
    )?;

    let step = |label: &str| {
        clock.advance(Duration::from_secs(60));
        println!("{} {label}", client.now().format("%H:%M"));
        worker.settle();
    };
    step("running");
    handle.pause(Some("feed provider is down"))?;
    let state = handle.describe()?.schedule.state;
    println!("paused: {} (note: {:?})", state.paused, state.note);
    step("paused: nothing runs");
    step("paused: nothing runs");
    handle.unpause(Some("feed provider is back"))?;
    println!("unpaused; the two skipped minutes are not caught up");
    step("running again");
    println!("actions taken: {}", handle.describe()?.info.num_actions);
    worker.shutdown();
    Ok(())
}
