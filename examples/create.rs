//! Create a schedule (Temporal: `client.create_schedule(id, Schedule(...))`) and watch it run.
//!
//! A schedule that starts the `send-report` workflow every 10 minutes; a manual clock stands in
//! for half an hour of real time, so the example finishes at once.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use schedule_engine::{
    Client, ManualClock, Schedule, ScheduleAction, ScheduleActionStartWorkflow,
    ScheduleIntervalSpec, ScheduleSpec, Worker, WorkflowContext, WorkflowRegistry,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2024, 1, 1, 9, 0, 0).unwrap());
    let client = Client::builder().clock(clock.clone()).build()?;
    // threads(0): closures run on the worker thread, so `settle` also waits for them.
    let registry =
        WorkflowRegistry::new()
            .threads(0)
            .register("send-report", |ctx: WorkflowContext| {
                println!("  ran {}", ctx.workflow_id());
                Ok(())
            });
    let worker = Worker::start(&client, registry);

    let handle = client.create_schedule(
        "report-schedule",
        Schedule {
            action: ScheduleAction::StartWorkflow(ScheduleActionStartWorkflow {
                workflow: "send-report".into(),
                args: vec![serde_json::json!("weekly")],
                id: "report".into(),
                task_queue: "reports".into(),
                ..Default::default()
            }),
            spec: ScheduleSpec {
                intervals: vec![ScheduleIntervalSpec::new(Duration::from_secs(10 * 60))],
                ..Default::default()
            },
            ..Default::default()
        },
    )?;
    println!("created schedule {:?} at {}", handle.id(), client.now());

    for _ in 0..3 {
        clock.advance(Duration::from_secs(10 * 60));
        println!("clock: {}", client.now());
        worker.settle();
    }
    let info = handle.describe()?.info;
    println!(
        "actions taken: {}; next at {}",
        info.num_actions, info.next_action_times[0]
    );
    worker.shutdown();
    Ok(())
}
