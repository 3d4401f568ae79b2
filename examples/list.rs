//! List schedules (Temporal: `client.list_schedules()`): every schedule, ordered by id, with its
//! state, its 5 most recent and its 5 next actions.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use schedule_engine::{
    Client, ManualClock, Schedule, ScheduleAction, ScheduleActionStartWorkflow,
    ScheduleIntervalSpec, ScheduleSpec,
};

fn schedule(workflow: &str, every: Duration) -> Schedule {
    Schedule {
        action: ScheduleAction::StartWorkflow(ScheduleActionStartWorkflow {
            workflow: workflow.into(),
            id: workflow.into(),
            task_queue: "jobs".into(),
            ..Default::default()
        }),
        spec: ScheduleSpec {
            intervals: vec![ScheduleIntervalSpec::new(every)],
            ..Default::default()
        },
        ..Default::default()
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap());
    let client = Client::builder().clock(clock).build()?;
    client.create_schedule(
        "sync-inventory",
        schedule("sync", Duration::from_secs(15 * 60)),
    )?;
    client.create_schedule(
        "bill-customers",
        schedule("billing", Duration::from_secs(24 * 3600)),
    )?;
    let audit =
        client.create_schedule("audit-logs", schedule("audit", Duration::from_secs(3600)))?;
    audit.pause(Some("waiting for the new log format"))?;

    for s in client.list_schedules() {
        let state = if s.paused { "paused" } else { "active" };
        println!(
            "{:<16} {:<8} {:<7} next: {}",
            s.id, s.workflow, state, s.next_action_times[0]
        );
        if let Some(note) = &s.note {
            println!("{:<16} note: {note}", "");
        }
    }
    Ok(())
}
