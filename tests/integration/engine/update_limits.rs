//! Update, conflict token, limited actions and retention (docs/semantics.md#limited-actions,
//! #update-and-the-conflict-token, #retention).

use std::time::Duration;

use crate::util::engine::*;
use schedule_engine::{
    ScheduleError, ScheduleIntervalSpec, ScheduleOverlapPolicy as P, ScheduleUpdate, Scheduler,
    SchedulerConfig,
};

#[test]
fn limited_actions_stop_after_n() {
    // N=2 with a 3-minute interval: 00:03 and 00:06 run, and describe then shows remaining 0
    // and no future times.
    let mut s = Scheduler::default();
    let mut sch = interval(mins(3), mins(0), P::AllowAll);
    sch.state.remaining_actions = Some(2);
    s.create_schedule("sched", sch, t("2022-06-01T00:00:00Z"))
        .unwrap();
    let d = describe(&s, "sched", t("2022-06-01T00:00:00Z"));
    assert_eq!(
        d.info.next_action_times,
        vec![t("2022-06-01T00:03:00Z"), t("2022-06-01T00:06:00Z")]
    );
    let mut seen = Vec::new();
    for m in [3, 6, 9, 12] {
        seen.extend(started_ids(
            &s.poll(t(&format!("2022-06-01T00:{m:02}:00Z"))),
        ));
    }
    assert_eq!(seen, ids(&["2022-06-01T00:03:00Z", "2022-06-01T00:06:00Z"]));
    let d = describe(&s, "sched", t("2022-06-01T00:12:00Z"));
    assert_eq!(d.schedule.state.remaining_actions, Some(0));
    assert!(d.info.next_action_times.is_empty());
    // Each decrement bumped the token.
    assert_eq!(d.conflict_token, 3);
    assert_eq!(d.info.num_actions, 2);
}

#[test]
fn done_schedules_are_removed_after_retention() {
    let mut s = Scheduler::default();
    let mut sch = interval(mins(3), mins(0), P::AllowAll);
    sch.state.remaining_actions = Some(1);
    s.create_schedule("sched", sch, t("2022-06-01T00:00:00Z"))
        .unwrap();
    let _ = s.poll(t("2022-06-01T00:03:00Z"));
    // 7 days after the last action.
    assert_eq!(s.next_wakeup(), Some(t("2022-06-08T00:03:00Z")));
    assert!(s.describe("sched", t("2022-06-08T00:02:59Z")).is_ok());
    assert!(s.poll(t("2022-06-08T00:02:59Z")).is_empty());
    assert!(s.describe("sched", t("2022-06-08T00:02:59Z")).is_ok());
    assert!(s.poll(t("2022-06-08T00:03:00Z")).is_empty());
    assert!(matches!(
        s.describe("sched", t("2022-06-08T00:03:00Z")),
        Err(ScheduleError::NotFound { .. })
    ));
    assert!(s.list_schedules(t("2022-06-08T00:03:00Z")).is_empty());
    assert_eq!(s.next_wakeup(), None);
}

#[test]
fn a_schedule_past_its_end_is_removed_after_retention_from_creation() {
    let mut s = Scheduler::new(SchedulerConfig {
        retention: Duration::from_secs(3600),
        ..Default::default()
    });
    let mut sch = interval(mins(60), mins(0), P::Skip);
    sch.spec.end_at = Some(t("2022-05-01T00:00:00Z"));
    s.create_schedule("sched", sch, t("2022-06-01T00:00:00Z"))
        .unwrap();
    assert!(describe(&s, "sched", t("2022-06-01T00:00:00Z"))
        .info
        .next_action_times
        .is_empty());
    assert_eq!(s.next_wakeup(), Some(t("2022-06-01T01:00:00Z")));
    let _ = s.poll(t("2022-06-01T01:00:00Z"));
    assert!(s.describe("sched", t("2022-06-01T01:00:00Z")).is_err());
    // The id is free again.
    s.create_schedule(
        "sched",
        interval(mins(60), mins(0), P::Skip),
        t("2022-06-01T01:00:00Z"),
    )
    .unwrap();
}

#[test]
fn paused_schedules_never_expire() {
    let mut s = Scheduler::default();
    let mut sch = interval(mins(60), mins(0), P::Skip);
    sch.spec.end_at = Some(t("2022-05-01T00:00:00Z"));
    sch.state.paused = true;
    s.create_schedule("sched", sch, t("2022-06-01T00:00:00Z"))
        .unwrap();
    assert_eq!(s.next_wakeup(), None);
    assert!(s.describe("sched", t("2023-06-01T00:00:00Z")).is_ok());
}

#[test]
fn update_replaces_the_schedule_and_is_not_retroactive() {
    let mut s = scheduler_with("sched", interval(mins(60), mins(0), P::AllowAll));
    let _ = s.poll(t("2022-06-01T01:00:00Z"));
    // At 01:40 switch to every 15 minutes: 01:15 and 01:30 are before the update and never
    // run; 01:45 is the first.
    s.update(
        "sched",
        |input| {
            assert_eq!(input.description.conflict_token, 1);
            let mut sch = input.description.schedule;
            sch.spec.intervals = vec![ScheduleIntervalSpec::new(mins(15))];
            sch.action = interval(mins(1), mins(0), P::Skip).action;
            action_mut(&mut sch).id = "newid".into();
            Some(ScheduleUpdate { schedule: sch })
        },
        t("2022-06-01T01:40:00Z"),
    )
    .unwrap();
    let d = describe(&s, "sched", t("2022-06-01T01:40:00Z"));
    assert_eq!(d.conflict_token, 2);
    assert_eq!(d.info.last_updated_at, Some(t("2022-06-01T01:40:00Z")));
    assert_eq!(d.info.next_action_times[0], t("2022-06-01T01:45:00Z"));
    assert_eq!(d.info.next_action_times[1], t("2022-06-01T02:00:00Z"));
    assert_eq!(s.next_wakeup(), Some(t("2022-06-01T01:45:00Z")));
    let a = s.poll(t("2022-06-01T01:45:00Z"));
    assert_eq!(
        started_ids(&a),
        vec!["newid-2022-06-01T01:45:00Z".to_string()]
    );
    // Counters and recent actions survive an update.
    let d = describe(&s, "sched", t("2022-06-01T01:45:00Z"));
    assert_eq!(d.info.num_actions, 2);
    assert_eq!(
        d.info.recent_actions[0].action.workflow_id,
        "myid-2022-06-01T01:00:00Z"
    );
}

#[test]
fn update_returning_none_changes_nothing() {
    let mut s = hourly_skip("sched");
    let before = describe(&s, "sched", t("2022-06-01T00:30:00Z"));
    s.update("sched", |_| None, t("2022-06-01T00:30:00Z"))
        .unwrap();
    let after = describe(&s, "sched", t("2022-06-01T00:30:00Z"));
    assert_eq!(before, after);
    assert_eq!(after.info.last_updated_at, None);
    assert_eq!(after.conflict_token, 1);
}

#[test]
fn invalid_updates_leave_the_schedule_unchanged() {
    let mut s = hourly_skip("sched");
    let before = describe(&s, "sched", t("2022-06-01T00:30:00Z"));
    let bad_spec = |input: schedule_engine::ScheduleUpdateInput| {
        let mut sch = input.description.schedule;
        sch.spec.intervals = vec![ScheduleIntervalSpec::new(Duration::ZERO)];
        Some(ScheduleUpdate { schedule: sch })
    };
    assert!(matches!(
        s.update("sched", bad_spec, t("2022-06-01T00:30:00Z")),
        Err(ScheduleError::InvalidSpec(_))
    ));
    let empty_queue = |input: schedule_engine::ScheduleUpdateInput| {
        let mut sch = input.description.schedule;
        action_mut(&mut sch).task_queue.clear();
        Some(ScheduleUpdate { schedule: sch })
    };
    assert!(matches!(
        s.update("sched", empty_queue, t("2022-06-01T00:30:00Z")),
        Err(ScheduleError::InvalidArgument { .. })
    ));
    assert_eq!(describe(&s, "sched", t("2022-06-01T00:30:00Z")), before);
    assert!(matches!(
        s.update("nope", |_| None, t("2022-06-01T00:30:00Z")),
        Err(ScheduleError::NotFound { .. })
    ));
}

#[test]
fn update_can_pause_and_set_remaining_actions() {
    let mut s = hourly_skip("sched");
    s.update(
        "sched",
        |input| {
            let mut sch = input.description.schedule;
            sch.state.paused = true;
            sch.state.remaining_actions = Some(5);
            Some(ScheduleUpdate { schedule: sch })
        },
        t("2022-06-01T00:30:00Z"),
    )
    .unwrap();
    assert_eq!(s.next_wakeup(), None);
    let d = describe(&s, "sched", t("2022-06-01T00:30:00Z"));
    assert!(d.schedule.state.paused);
    assert_eq!(d.info.next_action_times.len(), 5);
}
