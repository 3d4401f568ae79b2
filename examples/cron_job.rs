//! A Temporal cron job (`client.start_workflow(..., cron_schedule="...")`): one workflow id, one
//! run at a time, each at the next cron time; times that pass while a run is still going are
//! skipped, not queued. The string is read as the Temporal server reads it (robfig/cron's
//! five fields; see "Cron jobs speak another dialect" in the crate docs): the first run waits
//! for the first cron time after the start, and each next run for the first cron time not
//! before the previous run closed. A manual clock stands in for a few hours.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use schedule_engine::{
    Client, ManualClock, StartWorkflowOptions, Worker, WorkflowContext, WorkflowRegistry,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2024, 1, 1, 10, 15, 0).unwrap());
    let client = Client::builder().clock(clock.clone()).build()?;
    let registry =
        WorkflowRegistry::new()
            .threads(0)
            .register("rotate-keys", |ctx: WorkflowContext| {
                let previous = ctx.last_completion_result().cloned();
                println!(
                    "  {} run for {} (previous result: {previous:?})",
                    ctx.workflow_id(),
                    ctx.nominal_time().format("%H:%M")
                );
                Ok(ctx.nominal_time().format("%H:%M").to_string())
            });
    let worker = Worker::start(&client, registry);

    client.start_workflow(StartWorkflowOptions {
        workflow: "rotate-keys".into(),
        id: "key-rotation".into(),
        task_queue: "security".into(),
        cron_schedule: Some("0 * * * *".into()),
        ..Default::default()
    })?;
    println!("10:15 started the cron job \"0 * * * *\": the first run is at 11:00, not now");
    for _ in 0..12 {
        clock.advance(Duration::from_secs(15 * 60));
        worker.settle();
    }
    println!("{} done", client.now().format("%H:%M"));
    worker.shutdown();
    Ok(())
}
