//! Trigger and backfill (docs/semantics.md#trigger, #backfill).

use crate::util::engine::*;
use schedule_engine::{
    CreateScheduleOptions, ScheduleBackfill, ScheduleError, ScheduleOverlapPolicy as P, Scheduler,
    SchedulerConfig,
};

#[test]
fn trigger_obeys_skip_while_running() {
    // TestTriggerImmediate: with the default SKIP and a run in progress, the trigger is
    // skipped and counted in overlap_skipped.
    let mut s = hourly_skip("sched");
    let _ = s.poll(t("2022-06-01T01:00:00Z"));
    s.trigger("sched", None, t("2022-06-01T01:10:00Z")).unwrap();
    assert!(s.poll(t("2022-06-01T01:10:00Z")).is_empty());
    assert_eq!(
        counters(&describe(&s, "sched", t("2022-06-01T01:10:00Z"))),
        Counts {
            actions: 1,
            missed_catchup: 0,
            skipped_overlap: 1,
            buffer_dropped: 0,
            buffered: 0
        }
    );
    // The trigger's own policy wins over the schedule's.
    s.trigger("sched", Some(P::AllowAll), t("2022-06-01T01:20:00Z"))
        .unwrap();
    let a = s.poll(t("2022-06-01T01:20:00Z"));
    assert_eq!(started_ids(&a), ids(&["2022-06-01T01:20:00Z"]));
    assert_eq!(
        counters(&describe(&s, "sched", t("2022-06-01T01:20:00Z"))),
        Counts {
            actions: 2,
            missed_catchup: 0,
            skipped_overlap: 1,
            buffer_dropped: 0,
            buffered: 0
        }
    );
}

#[test]
fn trigger_immediately_at_creation() {
    // The test got myid-2022-06-01T00:00:00Z at creation.
    let mut s = Scheduler::default();
    s.create_schedule_with_options(
        "sched",
        interval(mins(60), mins(0), P::Skip),
        CreateScheduleOptions {
            trigger_immediately: true,
            ..Default::default()
        },
        t("2022-06-01T00:00:00Z"),
    )
    .unwrap();
    assert_eq!(s.next_wakeup(), Some(t("2022-06-01T00:00:00Z")));
    let a = s.poll(t("2022-06-01T00:00:00Z"));
    assert_eq!(started_ids(&a), ids(&["2022-06-01T00:00:00Z"]));
    assert!(starts(&a)[0].manual);
}

#[test]
fn trigger_does_not_use_up_remaining_actions() {
    let mut s = Scheduler::default();
    let mut sch = interval(mins(60), mins(0), P::AllowAll);
    sch.state.remaining_actions = Some(1);
    s.create_schedule("sched", sch, t("2022-06-01T00:00:00Z"))
        .unwrap();
    s.trigger("sched", None, t("2022-06-01T00:10:00Z")).unwrap();
    assert_eq!(
        started_ids(&s.poll(t("2022-06-01T00:10:00Z"))),
        ids(&["2022-06-01T00:10:00Z"])
    );
    let d = describe(&s, "sched", t("2022-06-01T00:10:00Z"));
    assert_eq!(d.schedule.state.remaining_actions, Some(1));
    assert_eq!(d.conflict_token, 1);
    assert_eq!(
        started_ids(&s.poll(t("2022-06-01T01:00:00Z"))),
        ids(&["2022-06-01T01:00:00Z"])
    );
    let d = describe(&s, "sched", t("2022-06-01T01:00:00Z"));
    assert_eq!(d.schedule.state.remaining_actions, Some(0));
    // Out of actions: trigger still works.
    s.trigger("sched", None, t("2022-06-01T01:30:00Z")).unwrap();
    assert_eq!(
        started_ids(&s.poll(t("2022-06-01T01:30:00Z"))),
        ids(&["2022-06-01T01:30:00Z"])
    );
}

#[test]
fn backfill_is_inclusive_at_both_ends() {
    // start = end = 19:17:00 produces that one run; start = end = 19:17:00.5 produces nothing.
    let mut s = scheduler_with("sched", interval(mins(60), mins(17), P::AllowAll));
    s.backfill(
        "sched",
        &[ScheduleBackfill::new(
            t("2022-05-31T19:17:00Z"),
            t("2022-05-31T19:17:00Z"),
        )],
        t("2022-06-01T00:00:00Z"),
    )
    .unwrap();
    let a = s.poll(t("2022-06-01T00:00:00Z"));
    assert_eq!(started_ids(&a), ids(&["2022-05-31T19:17:00Z"]));
    assert!(starts(&a)[0].manual);
    assert_eq!(starts(&a)[0].scheduled_at, t("2022-05-31T19:17:00Z"));
    s.backfill(
        "sched",
        &[ScheduleBackfill::new(
            t("2022-05-31T19:17:00.5Z"),
            t("2022-05-31T19:17:00.5Z"),
        )],
        t("2022-06-01T00:00:01Z"),
    )
    .unwrap();
    assert!(s.poll(t("2022-06-01T00:00:01Z")).is_empty());
    assert_eq!(
        counters(&describe(&s, "sched", t("2022-06-01T00:00:01Z"))),
        Counts {
            actions: 1,
            missed_catchup: 0,
            skipped_overlap: 0,
            buffer_dropped: 0,
            buffered: 0
        }
    );
}

#[test]
fn buffer_all_backfill_runs_back_to_back() {
    // Like TestBackfill: the backfilled times run one after another as each finishes.
    let mut s = scheduler_with("sched", interval(mins(60), mins(17), P::Skip));
    let bf = ScheduleBackfill {
        start_at: t("2022-05-31T19:00:00Z"),
        end_at: t("2022-05-31T21:17:00Z"),
        overlap: Some(P::BufferAll),
    };
    s.backfill("sched", &[bf], t("2022-06-01T00:00:00Z"))
        .unwrap();
    let mut seen = started_ids(&s.poll(t("2022-06-01T00:00:00Z")));
    assert_eq!(seen, ids(&["2022-05-31T19:17:00Z"]));
    assert_eq!(
        describe(&s, "sched", t("2022-06-01T00:00:00Z"))
            .info
            .buffer_size,
        2
    );
    for (i, at) in ["2022-06-01T00:01:00Z", "2022-06-01T00:02:00Z"]
        .iter()
        .enumerate()
    {
        s.workflow_closed(&seen[i].clone(), done(), t(at)).unwrap();
        seen.extend(started_ids(&s.poll(t(at))));
    }
    assert_eq!(
        seen,
        ids(&[
            "2022-05-31T19:17:00Z",
            "2022-05-31T20:17:00Z",
            "2022-05-31T21:17:00Z"
        ])
    );
    assert_eq!(
        counters(&describe(&s, "sched", t("2022-06-01T00:02:00Z"))),
        Counts {
            actions: 3,
            missed_catchup: 0,
            skipped_overlap: 0,
            buffer_dropped: 0,
            buffered: 0
        }
    );
}

#[test]
fn backfills_ignore_pause_limits_and_catchup_window_and_run_in_order() {
    let mut s = Scheduler::default();
    let mut sch = interval(mins(60), mins(0), P::AllowAll);
    sch.state.paused = true;
    sch.state.remaining_actions = Some(0);
    sch.policy.catchup_window = std::time::Duration::from_secs(60);
    s.create_schedule("sched", sch, t("2022-06-02T00:00:00Z"))
        .unwrap();
    s.backfill(
        "sched",
        &[
            ScheduleBackfill::new(t("2022-06-01T05:00:00Z"), t("2022-06-01T06:00:00Z")),
            ScheduleBackfill::new(t("2022-06-01T01:00:00Z"), t("2022-06-01T01:59:59Z")),
        ],
        t("2022-06-02T00:00:00Z"),
    )
    .unwrap();
    let a = s.poll(t("2022-06-02T00:00:00Z"));
    assert_eq!(
        started_ids(&a),
        ids(&[
            "2022-06-01T05:00:00Z",
            "2022-06-01T06:00:00Z",
            "2022-06-01T01:00:00Z"
        ])
    );
    let d = describe(&s, "sched", t("2022-06-02T00:00:00Z"));
    assert_eq!(
        counters(&d),
        Counts {
            actions: 3,
            missed_catchup: 0,
            skipped_overlap: 0,
            buffer_dropped: 0,
            buffered: 0
        }
    );
    assert_eq!(d.schedule.state.remaining_actions, Some(0));
}

#[test]
fn a_long_backfill_respects_the_buffer_and_does_not_starve_scheduled_actions() {
    let config = SchedulerConfig {
        max_buffer_size: 20,
        ..Default::default()
    };
    let mut s = Scheduler::new(config);
    s.create_schedule(
        "sched",
        interval(mins(1), mins(0), P::AllowAll),
        t("2022-06-02T00:00:00Z"),
    )
    .unwrap();
    // 24 h of minutes = 1441 backfilled starts.
    s.backfill(
        "sched",
        &[ScheduleBackfill::new(
            t("2022-06-01T00:00:00Z"),
            t("2022-06-02T00:00:00Z"),
        )],
        t("2022-06-02T00:00:00Z"),
    )
    .unwrap();
    let mut total = 0;
    let mut scheduled = Vec::new();
    let mut now = t("2022-06-02T00:00:00Z");
    for _ in 0..200 {
        let a = s.poll(now);
        for st in starts(&a) {
            if st.manual {
                total += 1;
            } else {
                scheduled.push(st.workflow_id.clone());
            }
        }
        now += chrono::Duration::seconds(1);
    }
    assert_eq!(total, 1441);
    // The scheduled 00:01, 00:02, 00:03 ran on time alongside the backfill.
    assert_eq!(
        scheduled,
        ids(&[
            "2022-06-02T00:01:00Z",
            "2022-06-02T00:02:00Z",
            "2022-06-02T00:03:00Z"
        ])
    );
    let d = describe(&s, "sched", now);
    assert_eq!(d.info.num_actions_buffer_dropped, 0);
    assert_eq!(d.info.num_actions, 1444);
}

#[test]
fn bad_backfills_are_refused() {
    let mut s = hourly_skip("sched");
    let before = describe(&s, "sched", t("2022-06-01T00:00:00Z"));
    assert!(matches!(
        s.backfill("sched", &[], t("2022-06-01T00:00:00Z")),
        Err(ScheduleError::InvalidArgument { .. })
    ));
    assert!(matches!(
        s.backfill(
            "sched",
            &[ScheduleBackfill::new(
                t("2022-06-01T00:00:00Z"),
                t("2022-05-01T00:00:00Z")
            )],
            t("2022-06-01T00:00:00Z")
        ),
        Err(ScheduleError::InvalidArgument { .. })
    ));
    assert!(matches!(
        s.backfill(
            "missing",
            &[ScheduleBackfill::new(
                t("2022-05-01T00:00:00Z"),
                t("2022-06-01T00:00:00Z")
            )],
            t("2022-06-01T00:00:00Z")
        ),
        Err(ScheduleError::NotFound { .. })
    ));
    assert_eq!(describe(&s, "sched", t("2022-06-01T00:00:00Z")), before);
    assert_eq!(s.next_wakeup(), Some(t("2022-06-01T01:00:00Z")));
}
