//! Describe a schedule (Temporal: `handle.describe()`): its definition, counters, running and
//! recent actions, and next times.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use schedule_engine::{
    Client, ManualClock, Schedule, ScheduleActionStartWorkflow, ScheduleIntervalSpec, ScheduleSpec,
    Worker, WorkflowRegistry,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap());
    let client = Client::builder().clock(clock.clone()).build()?;
    let registry = WorkflowRegistry::new()
        .threads(0)
        .register("cleanup", |_ctx| Ok("cleaned"));
    let worker = Worker::start(&client, registry);

    let handle = client.create_schedule(
        "nightly-cleanup",
        Schedule::new(
            ScheduleActionStartWorkflow::workflow("cleanup")
                .id("cleanup")
                .task_queue("maintenance"),
            ScheduleSpec {
                intervals: vec![ScheduleIntervalSpec::new(Duration::from_secs(6 * 3600))],
                ..Default::default()
            },
        ),
    )?;
    // Let 06:00 and 12:00 pass (stepping, as real time would), then look at 13:00.
    for hours in [6, 6, 1] {
        clock.advance(Duration::from_secs(hours * 3600));
        worker.settle();
    }

    let d = handle.describe()?;
    println!("schedule {}", d.id);
    println!(
        "  workflow:        {}",
        d.schedule.action.start_workflow().unwrap().workflow
    );
    println!(
        "  every:           {:?}",
        d.schedule.spec.intervals[0].every
    );
    println!("  overlap policy:  {:?}", d.schedule.policy.overlap);
    println!("  catch-up window: {:?}", d.schedule.policy.catchup_window);
    println!("  paused:          {}", d.schedule.state.paused);
    println!("  created at:      {}", d.info.created_at);
    println!("  actions taken:   {}", d.info.num_actions);
    println!("  running now:     {}", d.info.running_actions.len());
    for a in &d.info.recent_actions {
        println!(
            "  recent:          {} (scheduled {}, started {})",
            a.action.workflow_id, a.scheduled_at, a.started_at
        );
    }
    let next: Vec<String> = d
        .info
        .next_action_times
        .iter()
        .take(3)
        .map(|t| t.to_string())
        .collect();
    println!(
        "  next 3 of {}:    {}",
        d.info.next_action_times.len(),
        next.join(", ")
    );
    println!("  conflict token:  {}", d.conflict_token);
    worker.shutdown();
    Ok(())
}
