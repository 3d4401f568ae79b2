//! A tokio service with async workflows: an `AsyncWorkflowRegistry` runs each start as a task
//! on the service's runtime, a `Worker` drives the schedules, and the state lives in SQLite
//! (feature `sqlite`; in memory without it). One workflow works, one fails now and then, one
//! panics; the service shuts down gracefully after a few seconds.
//!
//! ```sh
//! cargo run --example tokio_service --features tokio,sqlite
//! ```

#![allow(clippy::disallowed_methods)] // an example runs on the real clock

use std::time::Duration;

use schedule_engine::{
    AsyncWorkflowRegistry, Client, Schedule, ScheduleActionStartWorkflow, ScheduleIntervalSpec,
    SchedulePolicy, ScheduleSpec, Worker, WorkflowContext, WorkflowError,
};

async fn heartbeat(ctx: WorkflowContext) -> Result<String, WorkflowError> {
    // Async work: a timer here, an HTTP call or a database query in a real service. A
    // workflow that may be canceled selects on `ctx.cancelled()` beside its work.
    tokio::select! {
        _ = tokio::time::sleep(Duration::from_millis(100)) => {}
        _ = ctx.cancelled() => return Err("canceled".into()),
    }
    println!("heartbeat  {}", ctx.workflow_id());
    Ok(format!("alive at {}", ctx.nominal_time()))
}

async fn flaky(ctx: WorkflowContext) -> Result<(), WorkflowError> {
    if let Some(failure) = &ctx.action().last_failure {
        println!(
            "flaky      {} (the run before failed: {failure})",
            ctx.workflow_id()
        );
        return Ok(());
    }
    println!("flaky      {} fails", ctx.workflow_id());
    Err("upstream unavailable".into())
}

async fn crashy(ctx: WorkflowContext) -> Result<(), WorkflowError> {
    println!(
        "crashy     {} panics (a failed run; the service goes on)",
        ctx.workflow_id()
    );
    panic!("index out of bounds in crashy");
}

fn every(workflow: &str, period: Duration, policy: SchedulePolicy) -> Schedule {
    Schedule {
        policy,
        ..Schedule::new(
            ScheduleActionStartWorkflow::workflow(workflow)
                .id(workflow)
                .task_queue("service"),
            ScheduleSpec {
                intervals: vec![ScheduleIntervalSpec::new(period)],
                ..Default::default()
            },
        )
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // One line per panic (crashy panics on purpose) keeps the demo's output readable.
    std::panic::set_hook(Box::new(|info| eprintln!("(panic: {info})")));

    #[cfg(feature = "sqlite")]
    let (client, path) = {
        let path = std::env::temp_dir().join(format!("tokio-service-{}.db", std::process::id()));
        let store = schedule_engine::SqliteStore::open(&path)?;
        (Client::builder().store(store).build()?, Some(path))
    };
    #[cfg(not(feature = "sqlite"))]
    let (client, path) = (Client::new(), None::<std::path::PathBuf>);

    let registry = AsyncWorkflowRegistry::new(tokio::runtime::Handle::current())
        .register("heartbeat", heartbeat)
        .register("flaky", flaky)
        .register("crashy", crashy);
    // A clone stays here to await the runs at shutdown; the worker gets the other.
    let worker = Worker::start(&client, registry.clone());

    client.create_schedule(
        "heartbeat",
        every(
            "heartbeat",
            Duration::from_secs(1),
            SchedulePolicy::default(),
        ),
    )?;
    client.create_schedule(
        "flaky",
        every("flaky", Duration::from_secs(1), SchedulePolicy::default()),
    )?;
    let pause_on_failure = SchedulePolicy {
        pause_on_failure: true,
        ..Default::default()
    };
    client.create_schedule(
        "crashy",
        every("crashy", Duration::from_secs(1), pause_on_failure),
    )?;

    // The service's life; a real one awaits a shutdown signal here.
    tokio::time::sleep(Duration::from_millis(3500)).await;

    // Graceful shutdown, blocking no runtime thread: no more starts, then the runs in flight
    // finish and report; slow ones are given a bounded time.
    if tokio::time::timeout(Duration::from_secs(5), registry.shutdown(worker))
        .await
        .is_err()
    {
        println!("some runs did not finish in time; they report when they do");
    }

    for s in client.list_schedules() {
        let d = client.get_schedule_handle(&s.id).describe()?;
        println!(
            "{:<10} {} runs, paused: {}{}",
            s.id,
            d.info.num_actions,
            d.schedule.state.paused,
            d.schedule
                .state
                .note
                .map(|n| format!(" ({n})"))
                .unwrap_or_default(),
        );
    }
    let heartbeat = client.get_schedule_handle("heartbeat").describe()?;
    assert!(
        heartbeat.info.num_actions >= 2,
        "the heartbeat kept beating"
    );
    let crashy = client.get_schedule_handle("crashy").describe()?;
    assert!(crashy.schedule.state.paused, "the panic paused crashy");
    if let Some(path) = path {
        drop(client);
        std::fs::remove_file(path)?;
    }
    Ok(())
}
