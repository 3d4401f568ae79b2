//! `Scheduler::snapshot` / `restore` for users who keep state themselves: a scheduler restored
//! from the JSON of a snapshot is indistinguishable from the one that never stopped (same
//! descriptions, same actions from then on), and the change feed applied to an earlier snapshot
//! gives the later one.

use std::time::Duration;

use crate::util::engine::t;
use crate::util::store::every_as;
use schedule_engine::snapshot::SchedulerSnapshot;
use schedule_engine::{
    Action, ScheduleOverlapPolicy, Scheduler, SchedulerConfig, StartWorkflowOptions,
    WorkflowOutcome,
};

fn ids(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .map(|a| match a {
            Action::StartWorkflow(s) => format!("start {}", s.workflow_id),
            Action::CancelWorkflow(c) => format!("cancel {}", c.workflow_id),
            Action::TerminateWorkflow(t) => format!("terminate {}", t.workflow_id),
            _ => "other".to_string(),
        })
        .collect()
}

/// A scheduler with a buffer, a running run, counters, a cron job and a delayed start.
fn busy_scheduler() -> Scheduler {
    let t0 = t("2022-06-01T00:00:00Z");
    let mut s = Scheduler::new(SchedulerConfig::default());
    s.create_schedule(
        "buffered",
        every_as(
            "b",
            Duration::from_secs(60),
            ScheduleOverlapPolicy::BufferAll,
            Duration::from_secs(600),
        ),
        t0,
    )
    .expect("create");
    s.create_schedule(
        "skipping",
        every_as(
            "k",
            Duration::from_secs(90),
            ScheduleOverlapPolicy::Skip,
            Duration::from_secs(600),
        ),
        t0,
    )
    .expect("create");
    s.start_workflow(
        StartWorkflowOptions {
            workflow: "cron".into(),
            id: "cron-job".into(),
            task_queue: "q".into(),
            cron_schedule: Some("*/5 * * * *".into()),
            ..Default::default()
        },
        t0,
    )
    .expect("cron job");
    s.start_workflow(
        StartWorkflowOptions {
            workflow: "later".into(),
            id: "delayed".into(),
            task_queue: "q".into(),
            start_delay: Some(Duration::from_secs(3600)),
            ..Default::default()
        },
        t0,
    )
    .expect("delayed start");
    // Nothing completes: runs pile up in the buffer and are skipped.
    let _ = s.poll(t("2022-06-01T00:04:00Z"));
    s
}

fn round_trip(s: &Scheduler) -> Scheduler {
    let json = serde_json::to_string(&s.snapshot()).expect("serialize snapshot");
    let snapshot: SchedulerSnapshot = serde_json::from_str(&json).expect("deserialize snapshot");
    Scheduler::restore(snapshot, SchedulerConfig::default())
}

#[test]
fn restored_scheduler_describes_the_same() {
    let original = busy_scheduler();
    let restored = round_trip(&original);
    let now = t("2022-06-01T00:04:30Z");
    assert_eq!(restored.list_schedules(now), original.list_schedules(now));
    for id in ["buffered", "skipping"] {
        let a = original.describe(id, now).expect("describe");
        assert_eq!(restored.describe(id, now).expect("describe"), a);
    }
    let info = original.describe("buffered", now).expect("describe").info;
    assert!(info.buffer_size > 0 && !info.running_actions.is_empty());
    assert_eq!(restored.snapshot(), original.snapshot());
}

#[test]
fn restored_scheduler_acts_the_same_from_then_on() {
    let mut original = busy_scheduler();
    let mut restored = round_trip(&original);
    let mut now = t("2022-06-01T00:04:00Z");
    for step in 0..90 {
        now += chrono::Duration::seconds(40);
        // Close the oldest running run of each side now and then, identically.
        if step % 3 == 0 {
            for s in [&mut original, &mut restored] {
                for id in ["buffered", "skipping"] {
                    let running = s.describe(id, now).expect("describe").info.running_actions;
                    if let Some(run) = running.first() {
                        let _ = s.workflow_closed(
                            &run.workflow_id,
                            WorkflowOutcome::Completed { result: None },
                            now,
                        );
                    }
                }
                let _ =
                    s.workflow_closed("cron-job", WorkflowOutcome::Completed { result: None }, now);
            }
        }
        let a = original.poll(now);
        let b = restored.poll(now);
        assert_eq!(ids(&b), ids(&a), "step {step} at {now}");
        assert_eq!(b, a);
    }
    assert_eq!(restored.snapshot(), original.snapshot());
}

#[test]
fn change_feed_applied_to_a_snapshot_gives_the_later_snapshot() {
    let mut s = busy_scheduler();
    let _ = s.take_changes();
    let mut records = s.snapshot();
    let now = t("2022-06-01T01:10:00Z");
    let _ = s.poll(now);
    let _ = s.workflow_closed("cron-job", WorkflowOutcome::Canceled, now);
    s.delete("skipping", now).expect("delete");
    for change in s.take_changes() {
        records.apply(change);
    }
    assert_eq!(records, s.snapshot());
}
