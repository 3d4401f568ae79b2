//! Drive the sans-IO `Scheduler` directly from one tokio task, without `Client` or `Worker`:
//! poll at `now`, run what comes out, sleep until `next_wakeup` or until a run completes.
//!
//! This is the whole drive loop; any runtime (or a plain thread) can host it the same way.

#![allow(clippy::disallowed_methods)] // an example runs on the real clock

use std::time::Duration;

use chrono::{DateTime, Utc};
use schedule_engine::{
    Action, Schedule, ScheduleActionStartWorkflow, ScheduleIntervalSpec, ScheduleSpec, Scheduler,
    SchedulerConfig, StartWorkflowOptions, WorkflowOutcome,
};
use tokio::task::JoinSet;
use tokio::time::Instant;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let began = Instant::now();
    let mut scheduler = Scheduler::new(SchedulerConfig::default());
    scheduler.create_schedule(
        "heartbeat",
        Schedule::new(
            ScheduleActionStartWorkflow::workflow("heartbeat")
                .id("heartbeat")
                .task_queue("demo"),
            ScheduleSpec {
                intervals: vec![ScheduleIntervalSpec::new(Duration::from_secs(1))],
                ..Default::default()
            },
        ),
        Utc::now(),
    )?;
    scheduler.start_workflow(
        StartWorkflowOptions {
            workflow: "welcome".into(),
            id: "welcome-1".into(),
            task_queue: "demo".into(),
            start_delay: Some(Duration::from_millis(1500)),
            ..Default::default()
        },
        Utc::now(),
    )?;

    let mut runs: JoinSet<(String, WorkflowOutcome)> = JoinSet::new();
    let stop_at = began + Duration::from_millis(3500);
    loop {
        // 1. Everything due now. Polling early or twice is harmless, so the loop re-reads the
        //    clock itself rather than trusting that a timer fired exactly on time.
        for action in scheduler.poll(Utc::now()) {
            match action {
                Action::StartWorkflow(start) => {
                    println!(
                        "{:>6} ms start {}",
                        began.elapsed().as_millis(),
                        start.workflow_id
                    );
                    runs.spawn(async move {
                        tokio::time::sleep(Duration::from_millis(200)).await; // the "work"
                        (
                            start.workflow_id,
                            WorkflowOutcome::Completed { result: None },
                        )
                    });
                }
                other => println!("not needed with the default overlap policy: {other:?}"),
            }
        }
        // 2. Sleep until the next wakeup, a completion, or the end of the demo.
        let wake_at = scheduler
            .next_wakeup()
            .map_or(stop_at, to_instant)
            .min(stop_at);
        tokio::select! {
            _ = tokio::time::sleep_until(wake_at) => {
                if Instant::now() >= stop_at {
                    break;
                }
            }
            Some(Ok((workflow_id, outcome))) = runs.join_next(), if !runs.is_empty() => {
                // 3. Report closes: the schedule counts a run as running until then.
                println!("{:>6} ms done  {workflow_id}", began.elapsed().as_millis());
                let _ = scheduler.workflow_closed(&workflow_id, outcome, Utc::now());
            }
        }
    }
    let d = scheduler.describe("heartbeat", Utc::now())?;
    println!("heartbeat took {} actions", d.info.num_actions);
    Ok(())
}

/// The tokio instant at which the wall clock reads `deadline` (now, if it already has).
fn to_instant(deadline: DateTime<Utc>) -> Instant {
    Instant::now() + (deadline - Utc::now()).to_std().unwrap_or(Duration::ZERO)
}
