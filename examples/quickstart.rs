//! The main job, in about 10 seconds of real time: a schedule every 2 s runs a Rust closure,
//! then we describe, pause, trigger, backfill, update and delete it — the verbs of Temporal's
//! Schedules, embedded.
//!
//! Run it with `cargo run --example quickstart`.

#![allow(clippy::disallowed_methods)] // an example runs on the real clock

use std::time::{Duration, Instant};

use schedule_engine::{
    Client, Schedule, ScheduleAction, ScheduleActionStartWorkflow, ScheduleBackfill,
    ScheduleIntervalSpec, ScheduleOverlapPolicy, ScheduleSpec, ScheduleUpdate, Worker,
    WorkflowContext, WorkflowRegistry,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let began = Instant::now();
    let elapsed = move || format!("{:>5.1}s", began.elapsed().as_secs_f64());

    // 1. A client (in memory, system clock) and a worker running our closures.
    let client = Client::new();
    let registry = WorkflowRegistry::new().register("greet", move |ctx: WorkflowContext| {
        let name: String = ctx.arg(0)?;
        let how = if ctx.action().manual {
            "manual"
        } else {
            "scheduled"
        };
        println!(
            "{}   | hello, {name}! ({how} run {})",
            elapsed(),
            ctx.workflow_id()
        );
        Ok(format!("greeted {name}"))
    });
    let worker = Worker::start(&client, registry);

    // 2. A schedule: start the `greet` workflow every 2 seconds.
    let handle = client.create_schedule(
        "greeter",
        Schedule {
            action: ScheduleAction::StartWorkflow(ScheduleActionStartWorkflow {
                workflow: "greet".into(),
                args: vec![serde_json::json!("world")],
                id: "greeting".into(),
                task_queue: "demo".into(),
                ..Default::default()
            }),
            spec: ScheduleSpec {
                intervals: vec![ScheduleIntervalSpec::new(Duration::from_secs(2))],
                ..Default::default()
            },
            ..Default::default()
        },
    )?;
    let created_at = client.now();
    say(began, "created schedule \"greeter\": every 2 s");
    std::thread::sleep(Duration::from_millis(4500));

    // 3. Describe: counters, recent runs, next times.
    let d = handle.describe()?;
    say(
        began,
        &format!(
            "describe: {} actions so far, last {}, next at {}",
            d.info.num_actions,
            d.info
                .recent_actions
                .last()
                .map_or("-", |a| a.action.workflow_id.as_str()),
            d.info.next_action_times[0].format("%H:%M:%S"),
        ),
    );

    // 4. Pause: nothing runs; times that pass are skipped for good.
    handle.pause(Some("quiet time"))?;
    say(
        began,
        "paused (note: \"quiet time\"); waiting 2.5 s: no runs",
    );
    std::thread::sleep(Duration::from_millis(2500));

    // 5. Trigger: one manual run now, even while paused.
    say(began, "trigger");
    handle.trigger(None)?;
    std::thread::sleep(Duration::from_millis(300));

    // 6. Backfill: the runs the schedule would have taken in the 5 s before it existed, now,
    //    one after another.
    say(began, "backfill the 5 s before the schedule was created");
    handle.backfill(&[ScheduleBackfill {
        start_at: created_at - chrono::Duration::seconds(6),
        end_at: created_at - chrono::Duration::seconds(1),
        overlap: Some(ScheduleOverlapPolicy::BufferAll),
    }])?;
    std::thread::sleep(Duration::from_millis(300));

    // 7. Update: every second, a new argument, and unpaused (state is replaced too).
    handle.update(|input| {
        let mut schedule = input.description.schedule;
        schedule.spec.intervals = vec![ScheduleIntervalSpec::new(Duration::from_secs(1))];
        schedule.state.paused = false;
        schedule.state.note = Some("faster".into());
        if let ScheduleAction::StartWorkflow(action) = &mut schedule.action {
            action.args = vec![serde_json::json!("Rust")];
        }
        Some(ScheduleUpdate { schedule })
    })?;
    say(began, "updated: every 1 s, greeting Rust, unpaused");
    std::thread::sleep(Duration::from_millis(2200));

    // 8. Delete, and stop the worker (it waits for running closures).
    let taken = handle.describe()?.info.num_actions;
    handle.delete()?;
    say(
        began,
        &format!(
            "deleted after {taken} actions; schedules left: {}",
            client.list_schedules().len()
        ),
    );
    worker.shutdown();
    say(began, "worker stopped");
    Ok(())
}

fn say(began: Instant, what: &str) {
    println!("{:>5.1}s {what}", began.elapsed().as_secs_f64());
}
