//! What the engine benches share: the interval schedules they fire.

use std::time::Duration;

use schedule_engine::{
    Schedule, ScheduleAction, ScheduleActionStartWorkflow, ScheduleIntervalSpec, ScheduleSpec,
};

/// Interval schedule `i` of `n`: every `n` seconds, offset `i`, so exactly one of the `n`
/// fires per second. Its action id is `wf-{i}`.
pub fn interval_schedule(i: u64, n: u64) -> Schedule {
    Schedule {
        action: ScheduleAction::StartWorkflow(ScheduleActionStartWorkflow {
            workflow: "report".into(),
            id: format!("wf-{i}"),
            task_queue: "queue".into(),
            ..Default::default()
        }),
        spec: ScheduleSpec {
            intervals: vec![ScheduleIntervalSpec::with_offset(
                Duration::from_secs(n),
                Duration::from_secs(i),
            )],
            ..Default::default()
        },
        ..Default::default()
    }
}
