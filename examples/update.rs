//! Update a schedule (Temporal: `handle.update(lambda input: ScheduleUpdate(schedule=...))`).
//!
//! The callback gets the current description and returns the replacement schedule (or `None`
//! for no change). It runs without any lock held, and is re-run if the schedule changed between
//! its read and its write, so concurrent updates never lose each other's changes.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use schedule_engine::{
    Client, ManualClock, Schedule, ScheduleAction, ScheduleActionStartWorkflow,
    ScheduleIntervalSpec, ScheduleOverlapPolicy, ScheduleSpec, ScheduleUpdate,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap());
    let client = Client::builder().clock(clock.clone()).build()?;
    let handle = client.create_schedule(
        "digest",
        Schedule::new(
            ScheduleActionStartWorkflow::workflow("send-digest")
                .id("digest")
                .task_queue("mail"),
            ScheduleSpec {
                intervals: vec![ScheduleIntervalSpec::new(Duration::from_secs(3600))],
                ..Default::default()
            },
        ),
    )?;
    let before = handle.describe()?;
    println!(
        "before: every {:?}, overlap {:?}, next {}",
        before.schedule.spec.intervals[0].every,
        before.schedule.policy.overlap,
        before.info.next_action_times[0]
    );

    clock.advance(Duration::from_secs(10 * 60));
    handle.update(|input| {
        let mut schedule = input.description.schedule;
        schedule.spec.intervals = vec![ScheduleIntervalSpec::new(Duration::from_secs(15 * 60))];
        schedule.policy.overlap = ScheduleOverlapPolicy::BufferOne;
        if let ScheduleAction::StartWorkflow(action) = &mut schedule.action {
            action.args = vec![serde_json::json!({"format": "html"})];
        }
        Some(ScheduleUpdate { schedule })
    })?;
    let after = handle.describe()?;
    println!(
        "after:  every {:?}, overlap {:?}, next {}",
        after.schedule.spec.intervals[0].every,
        after.schedule.policy.overlap,
        after.info.next_action_times[0]
    );
    println!(
        "last updated at {:?}; conflict token {} -> {}",
        after.info.last_updated_at, before.conflict_token, after.conflict_token
    );

    // Returning None changes nothing.
    handle.update(|_| None)?;
    assert_eq!(handle.describe()?.conflict_token, after.conflict_token);
    println!("an update returning None changed nothing");
    Ok(())
}
