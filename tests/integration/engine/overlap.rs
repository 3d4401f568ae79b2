//! Overlap policies (docs/semantics.md#overlap-policies-and-the-buffer), driven through timelines
//! (Temporal's workflow tests: 5-minute interval from 2022-06-01T00:00Z).

use crate::util::engine::*;
use schedule_engine::{ScheduleOverlapPolicy as P, Scheduler, SchedulerConfig, WorkflowOutcome};

fn five_minutes(policy: P, config: SchedulerConfig) -> Scheduler {
    let mut s = Scheduler::new(config);
    s.create_schedule(
        "sched",
        interval(mins(5), mins(0), policy),
        t("2022-06-01T00:00:00Z"),
    )
    .unwrap();
    s
}

#[test]
fn skip_drops_the_time_that_overlaps() {
    // 00:05 runs until 00:12, 00:10 is skipped, 00:15 runs.
    let mut s = five_minutes(P::Skip, SchedulerConfig::default());
    assert_eq!(s.next_wakeup(), Some(t("2022-06-01T00:05:00Z")));
    let a = s.poll(t("2022-06-01T00:05:00Z"));
    assert_eq!(started_ids(&a), ids(&["2022-06-01T00:05:00Z"]));
    let st = starts(&a)[0];
    assert_eq!(st.nominal_time, t("2022-06-01T00:05:00Z"));
    assert_eq!(st.scheduled_at, t("2022-06-01T00:05:00Z"));
    assert!(!st.manual);
    assert_eq!(st.schedule_id.as_deref(), Some("sched"));
    assert!(s.poll(t("2022-06-01T00:10:00Z")).is_empty());
    let d = describe(&s, "sched", t("2022-06-01T00:10:00Z"));
    assert_eq!(
        counters(&d),
        Counts {
            actions: 1,
            missed_catchup: 0,
            skipped_overlap: 1,
            buffer_dropped: 0,
            buffered: 0
        }
    );
    assert_eq!(running(&d), ids(&["2022-06-01T00:05:00Z"]));
    s.workflow_closed(
        "myid-2022-06-01T00:05:00Z",
        done(),
        t("2022-06-01T00:12:00Z"),
    )
    .unwrap();
    assert!(s.poll(t("2022-06-01T00:12:00Z")).is_empty());
    let a = s.poll(t("2022-06-01T00:15:00Z"));
    assert_eq!(started_ids(&a), ids(&["2022-06-01T00:15:00Z"]));
    let d = describe(&s, "sched", t("2022-06-01T00:15:00Z"));
    assert_eq!(
        counters(&d),
        Counts {
            actions: 2,
            missed_catchup: 0,
            skipped_overlap: 1,
            buffer_dropped: 0,
            buffered: 0
        }
    );
    assert_eq!(d.info.recent_actions.len(), 2);
    assert_eq!(
        d.info.recent_actions[1].action.workflow_id,
        "myid-2022-06-01T00:15:00Z"
    );
}

#[test]
fn buffer_one_keeps_the_first_waiting_start() {
    // 00:05 runs until 00:27. 00:10 is buffered; 00:15, 00:20, 00:25 are skipped. At 00:27 the
    // 00:10 start runs (id suffix still 00:10:00Z), then 00:30 runs on time.
    let mut s = five_minutes(P::BufferOne, SchedulerConfig::default());
    let mut seen = Vec::new();
    for m in [5, 10, 15, 20, 25] {
        seen.extend(started_ids(
            &s.poll(t(&format!("2022-06-01T00:{m:02}:00Z"))),
        ));
    }
    assert_eq!(seen, ids(&["2022-06-01T00:05:00Z"]));
    let d = describe(&s, "sched", t("2022-06-01T00:25:00Z"));
    assert_eq!(
        counters(&d),
        Counts {
            actions: 1,
            missed_catchup: 0,
            skipped_overlap: 3,
            buffer_dropped: 0,
            buffered: 1
        }
    );
    s.workflow_closed(
        "myid-2022-06-01T00:05:00Z",
        done(),
        t("2022-06-01T00:27:00Z"),
    )
    .unwrap();
    assert_eq!(s.next_wakeup(), Some(t("2022-06-01T00:27:00Z")));
    let a = s.poll(t("2022-06-01T00:27:00Z"));
    assert_eq!(started_ids(&a), ids(&["2022-06-01T00:10:00Z"]));
    assert_eq!(starts(&a)[0].scheduled_at, t("2022-06-01T00:10:00Z"));
    s.workflow_closed(
        "myid-2022-06-01T00:10:00Z",
        done(),
        t("2022-06-01T00:29:00Z"),
    )
    .unwrap();
    let a = s.poll(t("2022-06-01T00:30:00Z"));
    assert_eq!(started_ids(&a), ids(&["2022-06-01T00:30:00Z"]));
    assert_eq!(
        counters(&describe(&s, "sched", t("2022-06-01T00:30:00Z"))),
        Counts {
            actions: 3,
            missed_catchup: 0,
            skipped_overlap: 3,
            buffer_dropped: 0,
            buffered: 0
        }
    );
}

#[test]
fn buffer_one_with_three_due_and_nothing_running() {
    // Not running, 3 due: the 1st starts, the 2nd is buffered, the 3rd is skipped.
    let mut s = five_minutes(P::BufferOne, SchedulerConfig::default());
    let a = s.poll(t("2022-06-01T00:15:00Z"));
    assert_eq!(started_ids(&a), ids(&["2022-06-01T00:05:00Z"]));
    assert_eq!(
        counters(&describe(&s, "sched", t("2022-06-01T00:15:00Z"))),
        Counts {
            actions: 1,
            missed_catchup: 0,
            skipped_overlap: 1,
            buffer_dropped: 0,
            buffered: 1
        }
    );
}

#[test]
fn a_buffer_of_zero_drops_every_scheduled_start() {
    // Every due time goes through the buffer (Temporal's processing), so a limit of 0 drops
    // each one and counts it, whether one is due at a time or several at once.
    let config = SchedulerConfig {
        max_buffer_size: 0,
        ..Default::default()
    };
    for overlap in [P::Skip, P::AllowAll] {
        let mut s = five_minutes(overlap, config.clone());
        assert!(s.poll(t("2022-06-01T00:05:00Z")).is_empty());
        assert!(s.poll(t("2022-06-01T00:20:00Z")).is_empty());
        assert_eq!(
            counters(&describe(&s, "sched", t("2022-06-01T00:20:00Z"))),
            Counts {
                actions: 0,
                missed_catchup: 0,
                skipped_overlap: 0,
                buffer_dropped: 4,
                buffered: 0
            }
        );
    }
}

#[test]
fn buffer_all_with_a_buffer_of_two_drops_the_third() {
    // With a size-2 buffer, 00:10 and 00:15 were queued and 00:20 was dropped.
    let config = SchedulerConfig {
        max_buffer_size: 2,
        ..Default::default()
    };
    let mut s = five_minutes(P::BufferAll, config);
    let mut seen = Vec::new();
    for m in [5, 10, 15, 20] {
        seen.extend(started_ids(
            &s.poll(t(&format!("2022-06-01T00:{m:02}:00Z"))),
        ));
    }
    assert_eq!(seen, ids(&["2022-06-01T00:05:00Z"]));
    assert_eq!(
        counters(&describe(&s, "sched", t("2022-06-01T00:20:00Z"))),
        Counts {
            actions: 1,
            missed_catchup: 0,
            skipped_overlap: 0,
            buffer_dropped: 1,
            buffered: 2
        }
    );
    // They then run one after another as each closes.
    s.workflow_closed(
        "myid-2022-06-01T00:05:00Z",
        done(),
        t("2022-06-01T00:21:00Z"),
    )
    .unwrap();
    assert_eq!(
        started_ids(&s.poll(t("2022-06-01T00:21:00Z"))),
        ids(&["2022-06-01T00:10:00Z"])
    );
    s.workflow_closed(
        "myid-2022-06-01T00:10:00Z",
        done(),
        t("2022-06-01T00:22:00Z"),
    )
    .unwrap();
    assert_eq!(
        started_ids(&s.poll(t("2022-06-01T00:22:00Z"))),
        ids(&["2022-06-01T00:15:00Z"])
    );
    assert_eq!(
        counters(&describe(&s, "sched", t("2022-06-01T00:22:00Z"))),
        Counts {
            actions: 3,
            missed_catchup: 0,
            skipped_overlap: 0,
            buffer_dropped: 1,
            buffered: 0
        }
    );
}

#[test]
fn cancel_other_waits_for_the_close_then_starts() {
    // 55m interval: 00:15 still running at 01:10, so cancel; it closed at 01:10:15, and
    // myid-...T01:10:00Z started at 01:10:15.
    let mut s = scheduler_with("sched", interval(mins(55), mins(0), P::CancelOther));
    assert_eq!(s.next_wakeup(), Some(t("2022-06-01T00:15:00Z")));
    let a = s.poll(t("2022-06-01T00:15:00Z"));
    assert_eq!(started_ids(&a), ids(&["2022-06-01T00:15:00Z"]));
    let a = s.poll(t("2022-06-01T01:10:00Z"));
    assert!(started_ids(&a).is_empty());
    assert_eq!(cancel_ids(&a), ids(&["2022-06-01T00:15:00Z"]));
    assert_eq!(
        counters(&describe(&s, "sched", t("2022-06-01T01:10:00Z"))),
        Counts {
            actions: 1,
            missed_catchup: 0,
            skipped_overlap: 0,
            buffer_dropped: 0,
            buffered: 1
        }
    );
    s.workflow_closed(
        "myid-2022-06-01T00:15:00Z",
        WorkflowOutcome::Canceled,
        t("2022-06-01T01:10:15Z"),
    )
    .unwrap();
    let a = s.poll(t("2022-06-01T01:10:15Z"));
    assert_eq!(started_ids(&a), ids(&["2022-06-01T01:10:00Z"]));
    let d = describe(&s, "sched", t("2022-06-01T01:10:15Z"));
    assert_eq!(
        counters(&d),
        Counts {
            actions: 2,
            missed_catchup: 0,
            skipped_overlap: 0,
            buffer_dropped: 0,
            buffered: 0
        }
    );
    assert_eq!(
        d.info.recent_actions[1].started_at,
        t("2022-06-01T01:10:15Z")
    );
    assert_eq!(
        d.info.recent_actions[1].scheduled_at,
        t("2022-06-01T01:10:00Z")
    );
}

#[test]
fn terminate_other_terminates_then_starts_after_the_close() {
    let mut s = five_minutes(P::TerminateOther, SchedulerConfig::default());
    let _ = s.poll(t("2022-06-01T00:05:00Z"));
    let a = s.poll(t("2022-06-01T00:10:00Z"));
    assert_eq!(terminate_ids(&a), ids(&["2022-06-01T00:05:00Z"]));
    assert!(started_ids(&a).is_empty());
    // Asked once only, even when another start comes due while waiting.
    let a = s.poll(t("2022-06-01T00:15:00Z"));
    assert!(a.is_empty());
    s.workflow_closed(
        "myid-2022-06-01T00:05:00Z",
        WorkflowOutcome::Terminated,
        t("2022-06-01T00:16:00Z"),
    )
    .unwrap();
    // Buffer [00:10, 00:15], nothing running: 00:10 is replaced by 00:15 (the latest runs).
    let a = s.poll(t("2022-06-01T00:16:00Z"));
    assert_eq!(started_ids(&a), ids(&["2022-06-01T00:15:00Z"]));
    let d = describe(&s, "sched", t("2022-06-01T00:16:00Z"));
    assert_eq!(d.info.num_actions_replaced_overlap, 1);
    assert_eq!(
        counters(&describe(&s, "sched", t("2022-06-01T00:16:00Z"))),
        Counts {
            actions: 2,
            missed_catchup: 0,
            skipped_overlap: 0,
            buffer_dropped: 0,
            buffered: 0
        }
    );
}

#[test]
fn cancel_other_with_nothing_running_starts_only_the_latest() {
    let mut s = five_minutes(P::CancelOther, SchedulerConfig::default());
    let a = s.poll(t("2022-06-01T00:15:00Z"));
    assert_eq!(started_ids(&a), ids(&["2022-06-01T00:15:00Z"]));
    assert_eq!(
        counters(&describe(&s, "sched", t("2022-06-01T00:15:00Z"))),
        Counts {
            actions: 1,
            missed_catchup: 0,
            skipped_overlap: 0,
            buffer_dropped: 0,
            buffered: 0
        }
    );
    // 00:05 and 00:10 were replaced silently (Temporal counts them nowhere).
    assert_eq!(
        describe(&s, "sched", t("2022-06-01T00:15:00Z"))
            .info
            .num_actions_replaced_overlap,
        2
    );
}

#[test]
fn skip_with_several_due_runs_the_earliest() {
    let mut s = five_minutes(P::Skip, SchedulerConfig::default());
    let a = s.poll(t("2022-06-01T00:15:00Z"));
    assert_eq!(started_ids(&a), ids(&["2022-06-01T00:05:00Z"]));
    assert_eq!(
        counters(&describe(&s, "sched", t("2022-06-01T00:15:00Z"))),
        Counts {
            actions: 1,
            missed_catchup: 0,
            skipped_overlap: 2,
            buffer_dropped: 0,
            buffered: 0
        }
    );
}

#[test]
fn allow_all_runs_concurrently_and_tracks_every_run() {
    let mut s = five_minutes(P::AllowAll, SchedulerConfig::default());
    let a = s.poll(t("2022-06-01T00:15:00Z"));
    assert_eq!(
        started_ids(&a),
        ids(&[
            "2022-06-01T00:05:00Z",
            "2022-06-01T00:10:00Z",
            "2022-06-01T00:15:00Z"
        ])
    );
    let a = s.poll(t("2022-06-01T00:20:00Z"));
    assert_eq!(started_ids(&a), ids(&["2022-06-01T00:20:00Z"]));
    let d = describe(&s, "sched", t("2022-06-01T00:20:00Z"));
    assert_eq!(
        counters(&d),
        Counts {
            actions: 4,
            missed_catchup: 0,
            skipped_overlap: 0,
            buffer_dropped: 0,
            buffered: 0
        }
    );
    assert_eq!(d.info.running_actions.len(), 4);
    s.workflow_closed(
        "myid-2022-06-01T00:10:00Z",
        done(),
        t("2022-06-01T00:21:00Z"),
    )
    .unwrap();
    assert_eq!(
        running(&describe(&s, "sched", t("2022-06-01T00:21:00Z"))),
        ids(&[
            "2022-06-01T00:05:00Z",
            "2022-06-01T00:15:00Z",
            "2022-06-01T00:20:00Z"
        ])
    );
}

#[test]
fn an_update_of_the_policy_applies_to_starts_already_buffered() {
    let mut s = five_minutes(P::BufferAll, SchedulerConfig::default());
    let _ = s.poll(t("2022-06-01T00:05:00Z"));
    let _ = s.poll(t("2022-06-01T00:10:00Z"));
    let _ = s.poll(t("2022-06-01T00:15:00Z"));
    assert_eq!(
        describe(&s, "sched", t("2022-06-01T00:15:00Z"))
            .info
            .buffer_size,
        2
    );
    s.update(
        "sched",
        |input| {
            let mut sch = input.description.schedule;
            sch.policy.overlap = P::Skip;
            Some(schedule_engine::ScheduleUpdate { schedule: sch })
        },
        t("2022-06-01T00:16:00Z"),
    )
    .unwrap();
    let a = s.poll(t("2022-06-01T00:16:00Z"));
    assert!(a.is_empty());
    // Resolved with SKIP while 00:05 runs: both buffered starts are skipped.
    assert_eq!(
        counters(&describe(&s, "sched", t("2022-06-01T00:16:00Z"))),
        Counts {
            actions: 1,
            missed_catchup: 0,
            skipped_overlap: 2,
            buffer_dropped: 0,
            buffered: 0
        }
    );
}

#[test]
fn terminate_wins_when_cancel_and_terminate_are_both_needed() {
    // docs/semantics.md#overlap-policies-and-the-buffer: terminate wins over cancel.
    let mut s = five_minutes(P::CancelOther, SchedulerConfig::default());
    let _ = s.poll(t("2022-06-01T00:05:00Z"));
    s.trigger("sched", Some(P::TerminateOther), t("2022-06-01T00:06:00Z"))
        .unwrap();
    // Buffer: [00:06 TERMINATE_OTHER]; then 00:10 CANCEL_OTHER joins it.
    let a = s.poll(t("2022-06-01T00:10:00Z"));
    assert_eq!(terminate_ids(&a), ids(&["2022-06-01T00:05:00Z"]));
    assert!(cancel_ids(&a).is_empty());
    assert!(started_ids(&a).is_empty());
}
