//! Trigger a schedule now (Temporal: `handle.trigger(overlap=...)`): one manual run, even while
//! paused, obeying the overlap policy.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use schedule_engine::{
    Client, ManualClock, Schedule, ScheduleActionStartWorkflow, ScheduleIntervalSpec,
    ScheduleOverlapPolicy, ScheduleSpec, ScheduleState, Worker, WorkflowContext, WorkflowRegistry,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2024, 1, 1, 12, 0, 0).unwrap());
    let client = Client::builder().clock(clock.clone()).build()?;
    let registry =
        WorkflowRegistry::new()
            .threads(0)
            .register("rebuild-index", |ctx: WorkflowContext| {
                println!(
                    "  ran {} (manual: {})",
                    ctx.workflow_id(),
                    ctx.action().manual
                );
                Ok(())
            });
    let worker = Worker::start(&client, registry);
    let handle = client.create_schedule(
        "index",
        Schedule {
            state: ScheduleState {
                paused: true,
                note: Some("only on demand for now".into()),
                ..Default::default()
            },
            ..Schedule::new(
                ScheduleActionStartWorkflow::workflow("rebuild-index")
                    .id("index")
                    .task_queue("search"),
                ScheduleSpec {
                    intervals: vec![ScheduleIntervalSpec::new(Duration::from_secs(24 * 3600))],
                    ..Default::default()
                },
            )
        },
    )?;

    println!("trigger while paused:");
    handle.trigger(None)?;
    worker.settle();
    clock.advance(Duration::from_secs(90));
    println!("trigger with an explicit overlap policy:");
    handle.trigger(Some(ScheduleOverlapPolicy::AllowAll))?;
    worker.settle();
    println!("actions taken: {}", handle.describe()?.info.num_actions);
    worker.shutdown();
    Ok(())
}
