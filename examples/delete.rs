//! Delete a schedule (Temporal: `handle.delete()`). Runs it already started are not affected.

use std::time::Duration;

use schedule_engine::{
    Client, Schedule, ScheduleActionStartWorkflow, ScheduleError, ScheduleIntervalSpec,
    ScheduleSpec, Worker, WorkflowContext, WorkflowRegistry,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = Client::new();
    let (started_tx, started) = std::sync::mpsc::channel();
    let started_tx = std::sync::Mutex::new(started_tx);
    let registry = WorkflowRegistry::new().register("export", move |ctx: WorkflowContext| {
        println!("  {} started", ctx.workflow_id());
        let _ = started_tx.lock().map(|tx| tx.send(()));
        std::thread::sleep(Duration::from_millis(300));
        println!(
            "  {} finished, after its schedule was deleted",
            ctx.workflow_id()
        );
        Ok(())
    });
    let worker = Worker::start(&client, registry);
    let handle = client.create_schedule(
        "export",
        Schedule::new(
            ScheduleActionStartWorkflow::workflow("export")
                .id("export")
                .task_queue("exports"),
            ScheduleSpec {
                intervals: vec![ScheduleIntervalSpec::new(Duration::from_secs(3600))],
                ..Default::default()
            },
        ),
    )?;
    handle.trigger(None)?;
    started.recv_timeout(Duration::from_secs(5))?;

    handle.delete()?;
    println!("deleted; schedules left: {}", client.list_schedules().len());
    match handle.describe() {
        Err(ScheduleError::NotFound { id }) => println!("describe({id:?}): not found"),
        other => return Err(format!("expected NotFound, got {other:?}").into()),
    }
    // Shutdown waits for the running closure; its completion is accepted and ignored.
    worker.shutdown();
    Ok(())
}
