//! Backfill a schedule (Temporal: `handle.backfill(ScheduleBackfill(start_at, end_at, overlap))`):
//! take, now, every action the spec would have taken in a past range, both ends inclusive.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use schedule_engine::{
    Client, ManualClock, Schedule, ScheduleActionStartWorkflow, ScheduleBackfill,
    ScheduleIntervalSpec, ScheduleOverlapPolicy, ScheduleSpec, Worker, WorkflowContext,
    WorkflowRegistry,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2024, 1, 1, 12, 0, 0).unwrap());
    let client = Client::builder().clock(clock.clone()).build()?;
    let registry =
        WorkflowRegistry::new()
            .threads(0)
            .register("aggregate", |ctx: WorkflowContext| {
                println!(
                    "  aggregated the hour ending {}",
                    ctx.nominal_time().format("%H:%M")
                );
                Ok(())
            });
    let worker = Worker::start(&client, registry);
    let handle = client.create_schedule(
        "hourly-aggregate",
        Schedule::new(
            ScheduleActionStartWorkflow::workflow("aggregate")
                .id("aggregate")
                .task_queue("analytics"),
            ScheduleSpec {
                intervals: vec![ScheduleIntervalSpec::new(Duration::from_secs(3600))],
                ..Default::default()
            },
        ),
    )?;

    println!("created at 12:00; backfilling 08:00..=11:00 (BUFFER_ALL: one after another):");
    handle.backfill(&[ScheduleBackfill {
        start_at: Utc.with_ymd_and_hms(2024, 1, 1, 8, 0, 0).unwrap(),
        end_at: Utc.with_ymd_and_hms(2024, 1, 1, 11, 0, 0).unwrap(),
        overlap: Some(ScheduleOverlapPolicy::BufferAll),
    }])?;
    worker.settle();
    let info = handle.describe()?.info;
    println!(
        "actions taken: {} (all manual); next scheduled: {}",
        info.num_actions, info.next_action_times[0]
    );
    worker.shutdown();
    Ok(())
}
