//! Schedule events of the sans-IO engine: the exact sequence for Temporal's timelines
//! (docs/semantics.md: the overlap table's SKIP row, the catch-up example, the buffer limit,
//! pause), and the counters as sums of the events.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::util::engine::*;
use schedule_engine::{
    ScheduleEvent as E, ScheduleOverlapPolicy as P, Scheduler, SchedulerConfig, WorkflowOutcome,
};

/// A recording scheduler with schedule "sched" every 5 minutes from 2022-06-01T00:00Z.
fn recording(policy: P, config: SchedulerConfig) -> Scheduler {
    let mut s = Scheduler::new(config);
    s.record_events(true);
    s.create_schedule(
        "sched",
        interval(mins(5), mins(0), policy),
        t("2022-06-01T00:00:00Z"),
    )
    .unwrap();
    s
}

fn created(at: &str) -> E {
    E::Created {
        schedule_id: "sched".into(),
        at: t(at),
    }
}

/// A scheduled start of nominal time `nominal` at `at` (no jitter).
fn started(nominal: &str, at: &str) -> E {
    E::Started {
        schedule_id: "sched".into(),
        workflow_id: format!("myid-{nominal}"),
        nominal_time: t(nominal),
        scheduled_at: t(nominal),
        manual: false,
        at: t(at),
    }
}

fn closed(nominal: &str, outcome: WorkflowOutcome, at: &str) -> E {
    E::Closed {
        schedule_id: "sched".into(),
        workflow_id: format!("myid-{nominal}"),
        outcome,
        at: t(at),
    }
}

#[test]
fn nothing_is_recorded_unless_asked() {
    let mut s = hourly_skip("sched");
    assert!(!s.records_events());
    let _ = s.poll(t("2022-06-01T01:00:00Z"));
    assert!(s.take_events().is_empty());
}

#[test]
fn skip_timeline_00_05_to_00_12() {
    // docs/semantics.md, overlap table, Skip row: the 00:05 run lasts until 00:12 here, so
    // 00:10 is skipped and 00:15 runs on time.
    let mut s = recording(P::Skip, SchedulerConfig::default());
    let _ = s.poll(t("2022-06-01T00:05:00Z"));
    let _ = s.poll(t("2022-06-01T00:10:00Z"));
    s.workflow_closed(
        "myid-2022-06-01T00:05:00Z",
        done(),
        t("2022-06-01T00:12:00Z"),
    )
    .unwrap();
    let _ = s.poll(t("2022-06-01T00:15:00Z"));
    assert_eq!(
        s.take_events(),
        vec![
            created("2022-06-01T00:00:00Z"),
            started("2022-06-01T00:05:00Z", "2022-06-01T00:05:00Z"),
            E::SkippedOverlap {
                schedule_id: "sched".into(),
                nominal_time: t("2022-06-01T00:10:00Z"),
                at: t("2022-06-01T00:10:00Z"),
            },
            closed("2022-06-01T00:05:00Z", done(), "2022-06-01T00:12:00Z"),
            started("2022-06-01T00:15:00Z", "2022-06-01T00:15:00Z"),
        ]
    );
    assert!(s.take_events().is_empty(), "take drains");
}

#[test]
fn catch_up_outage_is_one_missed_event_then_the_start() {
    // docs/semantics.md#catch-up-window: hourly at :17, window 1 h, created 18:00, next polled
    // at 00:00: 18:17..22:17 missed (5), 23:17 starts at 00:00, 00:17 on time.
    let mut s = Scheduler::default();
    s.record_events(true);
    let mut sch = interval(mins(60), mins(17), P::Skip);
    sch.policy.catchup_window = Duration::from_secs(3600);
    s.create_schedule("sched", sch, t("2022-05-31T18:00:00Z"))
        .unwrap();
    let _ = s.poll(t("2022-06-01T00:00:00Z"));
    s.workflow_closed(
        "myid-2022-05-31T23:17:00Z",
        done(),
        t("2022-06-01T00:01:00Z"),
    )
    .unwrap();
    let _ = s.poll(t("2022-06-01T00:17:00Z"));
    assert_eq!(
        s.take_events(),
        vec![
            created("2022-05-31T18:00:00Z"),
            E::MissedCatchup {
                schedule_id: "sched".into(),
                nominal_time: t("2022-05-31T18:17:00Z"),
                last_nominal_time: t("2022-05-31T22:17:00Z"),
                count: 5,
                at: t("2022-06-01T00:00:00Z"),
            },
            started("2022-05-31T23:17:00Z", "2022-06-01T00:00:00Z"),
            closed("2022-05-31T23:17:00Z", done(), "2022-06-01T00:01:00Z"),
            started("2022-06-01T00:17:00Z", "2022-06-01T00:17:00Z"),
        ]
    );
}

#[test]
fn a_year_long_outage_is_still_one_missed_event() {
    // Every minute, default window (365 days), an outage of 400 days: the times older than
    // the window are one event, counted in one step. Created 2022-06-01T00:00Z; polled at
    // 2023-07-06T00:00Z (400 days later). Missed: actual < now - 365 d = 2022-07-06T00:00Z,
    // i.e. 00:01 on 2022-06-01 through 23:59 on 2022-07-05: 35 days * 1440 - 1 times.
    let mut s = Scheduler::default();
    s.record_events(true);
    s.create_schedule(
        "sched",
        interval(mins(1), mins(0), P::Skip),
        t("2022-06-01T00:00:00Z"),
    )
    .unwrap();
    let _ = s.take_events();
    let _ = s.poll(t("2023-07-06T00:00:00Z"));
    let events = s.take_events();
    assert_eq!(
        events[0],
        E::MissedCatchup {
            schedule_id: "sched".into(),
            nominal_time: t("2022-06-01T00:01:00Z"),
            last_nominal_time: t("2022-07-05T23:59:00Z"),
            count: 35 * 1440 - 1,
            at: t("2023-07-06T00:00:00Z"),
        }
    );
    // The 365 days of minutes in the window (both ends included) go to the buffer until it
    // holds its 1000 (00:00 to 16:39 on 2022-07-06); the rest are dropped, as one event.
    let in_window: u64 = 365 * 1440 + 1;
    assert_eq!(
        events[1],
        E::BufferDropped {
            schedule_id: "sched".into(),
            nominal_time: Some(t("2022-07-06T16:40:00Z")),
            last_nominal_time: Some(t("2023-07-06T00:00:00Z")),
            count: in_window - 1000,
            at: t("2023-07-06T00:00:00Z"),
        }
    );
    // SKIP starts the first (exactly at the window's edge, which still runs) and skips the
    // other 999 one by one; a pass over the buffer records its skips, then its starts.
    assert_eq!(events.len(), 2 + 999 + 1);
    assert!(events[2..1001]
        .iter()
        .all(|e| matches!(e, E::SkippedOverlap { .. })));
    assert_eq!(
        events[1001],
        started("2022-07-06T00:00:00Z", "2023-07-06T00:00:00Z")
    );
}

#[test]
fn a_full_buffer_drops_the_rest_in_one_event() {
    // BUFFER_ALL with room for 2: the 00:05 run holds on until 01:02, the poll at 01:00 sees
    // 00:10..01:00 due (11 times): 00:10 and 00:15 wait, 00:20..01:00 (9) are dropped.
    let config = SchedulerConfig {
        max_buffer_size: 2,
        ..Default::default()
    };
    let mut s = recording(P::BufferAll, config);
    let _ = s.poll(t("2022-06-01T00:05:00Z"));
    let _ = s.poll(t("2022-06-01T01:00:00Z"));
    s.workflow_closed(
        "myid-2022-06-01T00:05:00Z",
        done(),
        t("2022-06-01T01:02:00Z"),
    )
    .unwrap();
    let _ = s.poll(t("2022-06-01T01:02:00Z"));
    assert_eq!(
        s.take_events(),
        vec![
            created("2022-06-01T00:00:00Z"),
            started("2022-06-01T00:05:00Z", "2022-06-01T00:05:00Z"),
            E::BufferDropped {
                schedule_id: "sched".into(),
                nominal_time: Some(t("2022-06-01T00:20:00Z")),
                last_nominal_time: Some(t("2022-06-01T01:00:00Z")),
                count: 9,
                at: t("2022-06-01T01:00:00Z"),
            },
            closed("2022-06-01T00:05:00Z", done(), "2022-06-01T01:02:00Z"),
            started("2022-06-01T00:10:00Z", "2022-06-01T01:02:00Z"),
        ]
    );
}

#[test]
fn pause_and_unpause_carry_their_notes_and_the_times_dropped_between() {
    // 00:05 runs and closes; paused at 00:07; 00:10 and 00:15 come due while paused and are
    // dropped (counted when the unpause at 00:17 processes the elapsed range, before it
    // applies); 00:20 runs.
    let mut s = recording(P::Skip, SchedulerConfig::default());
    let _ = s.poll(t("2022-06-01T00:05:00Z"));
    s.workflow_closed(
        "myid-2022-06-01T00:05:00Z",
        done(),
        t("2022-06-01T00:06:00Z"),
    )
    .unwrap();
    s.pause("sched", Some("maintenance"), t("2022-06-01T00:07:00Z"))
        .unwrap();
    let _ = s.poll(t("2022-06-01T00:16:00Z"));
    s.unpause("sched", Some("back"), t("2022-06-01T00:17:00Z"))
        .unwrap();
    let _ = s.poll(t("2022-06-01T00:20:00Z"));
    s.pause("sched", None, t("2022-06-01T00:21:00Z")).unwrap();
    assert_eq!(
        s.take_events(),
        vec![
            created("2022-06-01T00:00:00Z"),
            started("2022-06-01T00:05:00Z", "2022-06-01T00:05:00Z"),
            closed("2022-06-01T00:05:00Z", done(), "2022-06-01T00:06:00Z"),
            E::Paused {
                schedule_id: "sched".into(),
                note: "maintenance".into(),
                at: t("2022-06-01T00:07:00Z"),
            },
            E::DroppedWhilePaused {
                schedule_id: "sched".into(),
                nominal_time: t("2022-06-01T00:10:00Z"),
                last_nominal_time: t("2022-06-01T00:15:00Z"),
                count: 2,
                at: t("2022-06-01T00:17:00Z"),
            },
            E::Unpaused {
                schedule_id: "sched".into(),
                note: "back".into(),
                at: t("2022-06-01T00:17:00Z"),
            },
            started("2022-06-01T00:20:00Z", "2022-06-01T00:20:00Z"),
            E::Paused {
                schedule_id: "sched".into(),
                note: "Paused via schedule-engine".into(),
                at: t("2022-06-01T00:21:00Z"),
            },
        ]
    );
}

#[test]
fn a_failed_run_pauses_after_its_close() {
    // pause_on_failure: the note is Temporal's "paused due to workflow failure: <id>: <msg>".
    let mut s = Scheduler::default();
    s.record_events(true);
    let mut sch = interval(mins(5), mins(0), P::Skip);
    sch.policy.pause_on_failure = true;
    s.create_schedule("sched", sch, t("2022-06-01T00:00:00Z"))
        .unwrap();
    let _ = s.poll(t("2022-06-01T00:05:00Z"));
    let failed = WorkflowOutcome::Failed {
        message: "boom".into(),
    };
    s.workflow_closed(
        "myid-2022-06-01T00:05:00Z",
        failed.clone(),
        t("2022-06-01T00:06:00Z"),
    )
    .unwrap();
    let events = s.take_events();
    assert_eq!(
        events[2..],
        [
            closed("2022-06-01T00:05:00Z", failed, "2022-06-01T00:06:00Z"),
            E::Paused {
                schedule_id: "sched".into(),
                note: "paused due to workflow failure: myid-2022-06-01T00:05:00Z: boom".into(),
                at: t("2022-06-01T00:06:00Z"),
            },
        ]
    );
}

#[test]
fn lifecycle_and_standalone_workflows() {
    let mut s = recording(P::Skip, SchedulerConfig::default());
    s.update(
        "sched",
        |input| {
            Some(schedule_engine::ScheduleUpdate {
                schedule: input.description.schedule,
            })
        },
        t("2022-06-01T00:01:00Z"),
    )
    .unwrap();
    s.delete("sched", t("2022-06-01T00:02:00Z")).unwrap();
    s.start_workflow(opts("one-off"), t("2022-06-01T00:03:00Z"))
        .unwrap();
    let _ = s.poll(t("2022-06-01T00:03:00Z"));
    s.workflow_closed("one-off", done(), t("2022-06-01T00:04:00Z"))
        .unwrap();
    assert_eq!(
        s.take_events(),
        vec![
            created("2022-06-01T00:00:00Z"),
            E::Updated {
                schedule_id: "sched".into(),
                at: t("2022-06-01T00:01:00Z"),
            },
            E::Deleted {
                schedule_id: "sched".into(),
                at: t("2022-06-01T00:02:00Z"),
            },
            E::WorkflowStarted {
                workflow_id: "one-off".into(),
                at: t("2022-06-01T00:03:00Z"),
            },
            E::WorkflowClosed {
                workflow_id: "one-off".into(),
                outcome: done(),
                at: t("2022-06-01T00:04:00Z"),
            },
        ]
    );
}

/// The describe counter an event adds to, and how much.
fn counted(e: &E) -> Option<(&'static str, u64)> {
    Some(match e {
        E::Started { .. } => ("actions", 1),
        E::MissedCatchup { count, .. } => ("missed_catchup", *count),
        E::BufferDropped { count, .. } => ("buffer_dropped", *count),
        E::DroppedWhilePaused { count, .. } => ("dropped_paused", *count),
        E::SkippedOverlap { .. } => ("skipped_overlap", 1),
        E::DuplicateDropped { .. } => ("duplicate_dropped", 1),
        E::ReplacedOverlap { .. } => ("replaced_overlap", 1),
        _ => return None,
    })
}

#[test]
fn counters_are_the_sums_of_the_events() {
    // A run that touches every class: a stretch missed, buffer drops, skips, pauses, a
    // trigger and a duplicate; every counter equals what its events count.
    let config = SchedulerConfig {
        max_buffer_size: 3,
        ..Default::default()
    };
    let mut s = Scheduler::new(config);
    s.record_events(true);
    let mut sch = interval(mins(1), mins(0), P::BufferOne);
    sch.policy.catchup_window = Duration::from_secs(600);
    s.create_schedule("sched", sch, t("2022-06-01T00:00:00Z"))
        .unwrap();
    let mut events = Vec::new();
    let mut now = t("2022-06-01T00:00:00Z");
    for step in 0..40u32 {
        now += chrono::Duration::seconds(i64::from(37 + (step * 53) % 900));
        let actions = s.poll(now);
        if step % 3 == 0 {
            for id in started_ids(&actions) {
                s.workflow_closed(&id, done(), now).unwrap();
            }
        }
        match step % 10 {
            4 => s.pause("sched", None, now).unwrap(),
            7 => s.unpause("sched", None, now).unwrap(),
            8 => {
                // Two starts of one second: the second has the first's workflow id.
                s.trigger("sched", Some(P::AllowAll), now).unwrap();
                s.trigger("sched", Some(P::AllowAll), now).unwrap();
            }
            _ => {}
        }
        events.extend(s.take_events());
    }
    let mut from_events = BTreeMap::new();
    for e in &events {
        if let Some((counter, n)) = counted(e) {
            *from_events.entry(counter).or_insert(0) += n;
        }
    }
    let i = describe(&s, "sched", now).info;
    let from_describe = BTreeMap::from([
        ("actions", i.num_actions),
        ("missed_catchup", i.num_actions_missed_catchup_window),
        ("buffer_dropped", i.num_actions_buffer_dropped),
        ("dropped_paused", i.num_actions_dropped_paused),
        ("skipped_overlap", i.num_actions_skipped_overlap),
        ("duplicate_dropped", i.num_actions_duplicate_dropped),
        ("replaced_overlap", i.num_actions_replaced_overlap),
    ]);
    let nonzero = |m: BTreeMap<&'static str, u64>| -> BTreeMap<&'static str, u64> {
        m.into_iter().filter(|(_, n)| *n > 0).collect()
    };
    assert_eq!(nonzero(from_events), nonzero(from_describe));
    // The run covered the classes it claims to.
    assert!(i.num_actions_missed_catchup_window > 0 && i.num_actions_skipped_overlap > 0);
    assert!(i.num_actions_dropped_paused > 0 && i.num_actions_duplicate_dropped > 0);
}
