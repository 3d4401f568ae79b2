//! Catch-up window and the clock (docs/semantics.md#catch-up-window, #schedule-state-machine).

use std::time::Duration;

use crate::util::engine::*;
use schedule_engine::{ScheduleOverlapPolicy as P, Scheduler, WorkflowOutcome};

#[test]
fn outage_misses_times_older_than_the_window() {
    // Upstream test: LPT=2022-05-31T18:00, now=2022-06-01T00:00, window 1h, hourly at :17.
    // Times 18:17-22:17 were missed (5); 23:17 started at 00:00; 00:17 started on time.
    let mut s = Scheduler::default();
    let mut sch = interval(mins(60), mins(17), P::Skip);
    sch.policy.catchup_window = Duration::from_secs(3600);
    s.create_schedule("sched", sch, t("2022-05-31T18:00:00Z"))
        .unwrap();
    assert_eq!(s.next_wakeup(), Some(t("2022-05-31T18:17:00Z")));
    let a = s.poll(t("2022-06-01T00:00:00Z"));
    assert_eq!(started_ids(&a), ids(&["2022-05-31T23:17:00Z"]));
    let st = starts(&a)[0];
    assert_eq!(st.scheduled_at, t("2022-05-31T23:17:00Z"));
    let d = describe(&s, "sched", t("2022-06-01T00:00:00Z"));
    assert_eq!(
        counters(&d),
        Counts {
            actions: 1,
            missed_catchup: 5,
            skipped_overlap: 0,
            buffer_dropped: 0,
            buffered: 0
        }
    );
    assert_eq!(
        d.info.recent_actions[0].started_at,
        t("2022-06-01T00:00:00Z")
    );
    s.workflow_closed(
        "myid-2022-05-31T23:17:00Z",
        WorkflowOutcome::Completed { result: None },
        t("2022-06-01T00:01:00Z"),
    )
    .unwrap();
    assert_eq!(s.next_wakeup(), Some(t("2022-06-01T00:17:00Z")));
    let a = s.poll(t("2022-06-01T00:17:00Z"));
    assert_eq!(started_ids(&a), ids(&["2022-06-01T00:17:00Z"]));
    // A missed time is never counted twice.
    assert_eq!(
        counters(&describe(&s, "sched", t("2022-06-01T00:17:00Z"))),
        Counts {
            actions: 2,
            missed_catchup: 5,
            skipped_overlap: 0,
            buffer_dropped: 0,
            buffered: 0
        }
    );
}

#[test]
fn a_time_exactly_at_the_window_edge_still_runs() {
    // `now - actual > window` misses; equality runs.
    let mut s = Scheduler::default();
    let mut sch = interval(mins(60), mins(0), P::Skip);
    sch.policy.catchup_window = Duration::from_secs(600);
    s.create_schedule("sched", sch, t("2022-06-01T00:30:00Z"))
        .unwrap();
    let a = s.poll(t("2022-06-01T01:10:00Z"));
    assert_eq!(started_ids(&a), ids(&["2022-06-01T01:00:00Z"]));
    let mut s = Scheduler::default();
    let mut sch = interval(mins(60), mins(0), P::Skip);
    sch.policy.catchup_window = Duration::from_secs(600);
    s.create_schedule("sched", sch, t("2022-06-01T00:30:00Z"))
        .unwrap();
    assert!(s.poll(t("2022-06-01T01:10:01Z")).is_empty());
    assert_eq!(
        counters(&describe(&s, "sched", t("2022-06-01T01:10:01Z"))),
        Counts {
            actions: 0,
            missed_catchup: 1,
            skipped_overlap: 0,
            buffer_dropped: 0,
            buffered: 0
        }
    );
}

#[test]
fn windows_under_ten_seconds_become_ten_seconds() {
    let mut s = Scheduler::default();
    let mut sch = interval(mins(1), mins(0), P::Skip);
    sch.policy.catchup_window = Duration::from_secs(3);
    s.create_schedule("sched", sch, t("2022-06-01T00:00:00Z"))
        .unwrap();
    let d = describe(&s, "sched", t("2022-06-01T00:00:00Z"));
    assert_eq!(d.schedule.policy.catchup_window, Duration::from_secs(10));
    // 10 s late still runs (3 s would have missed it).
    let a = s.poll(t("2022-06-01T00:01:10Z"));
    assert_eq!(started_ids(&a), ids(&["2022-06-01T00:01:00Z"]));
    let mut s = Scheduler::default();
    let mut sch = interval(mins(1), mins(0), P::Skip);
    sch.policy.catchup_window = Duration::ZERO;
    s.create_schedule("sched", sch, t("2022-06-01T00:00:00Z"))
        .unwrap();
    assert_eq!(
        describe(&s, "sched", t("2022-06-01T00:00:00Z"))
            .schedule
            .policy
            .catchup_window,
        Duration::from_secs(10)
    );
    assert!(s.poll(t("2022-06-01T00:01:11Z")).is_empty());
    assert_eq!(
        counters(&describe(&s, "sched", t("2022-06-01T00:01:11Z"))),
        Counts {
            actions: 0,
            missed_catchup: 1,
            skipped_overlap: 0,
            buffer_dropped: 0,
            buffered: 0
        }
    );
}

#[test]
fn default_window_is_365_days() {
    let s = scheduler_with("sched", interval(mins(60 * 24), mins(0), P::Skip));
    let d = describe(&s, "sched", t("2022-06-01T00:00:00Z"));
    assert_eq!(
        d.schedule.policy.catchup_window,
        Duration::from_secs(365 * 86_400)
    );
}

#[test]
fn time_going_backwards_is_treated_as_the_latest_now() {
    let mut s = scheduler_with("sched", interval(mins(5), mins(0), P::AllowAll));
    let a = s.poll(t("2022-06-01T00:05:00Z"));
    assert_eq!(started_ids(&a), ids(&["2022-06-01T00:05:00Z"]));
    // The clock jumps back: nothing fires twice, nothing fires early.
    assert!(s.poll(t("2022-06-01T00:01:00Z")).is_empty());
    assert!(s.poll(t("2022-06-01T00:05:00Z")).is_empty());
    assert!(s.poll(t("2022-06-01T00:09:59Z")).is_empty());
    let a = s.poll(t("2022-06-01T00:10:00Z"));
    assert_eq!(started_ids(&a), ids(&["2022-06-01T00:10:00Z"]));
    // A trigger with an earlier `now` uses the latest now seen: its id is the running
    // 00:10 run's, so the start is dropped as a duplicate (Temporal: "already started").
    s.trigger("sched", None, t("2022-06-01T00:00:00Z")).unwrap();
    assert!(s.poll(t("2022-06-01T00:00:00Z")).is_empty());
    let d = describe(&s, "sched", t("2022-06-01T00:00:00Z"));
    assert_eq!(d.info.num_actions_duplicate_dropped, 1);
    s.workflow_closed(
        "myid-2022-06-01T00:10:00Z",
        WorkflowOutcome::Completed { result: None },
        t("2022-06-01T00:00:00Z"),
    )
    .unwrap();
    s.trigger("sched", None, t("2022-06-01T00:00:00Z")).unwrap();
    let a = s.poll(t("2022-06-01T00:00:00Z"));
    assert_eq!(started_ids(&a), ids(&["2022-06-01T00:10:00Z"]));
    assert!(starts(&a)[0].manual);
    assert_eq!(starts(&a)[0].scheduled_at, t("2022-06-01T00:10:00Z"));
}

#[test]
fn polling_early_or_twice_is_harmless() {
    let mut s = scheduler_with("sched", interval(mins(5), mins(0), P::Skip));
    assert!(s.poll(t("2022-06-01T00:04:59Z")).is_empty());
    assert_eq!(s.poll(t("2022-06-01T00:05:00Z")).len(), 1);
    assert!(s.poll(t("2022-06-01T00:05:00Z")).is_empty());
    assert_eq!(s.next_wakeup(), Some(t("2022-06-01T00:10:00Z")));
}
