//! Workflow ids across schedules and jobs: a workflow id runs at most once at a time, as in
//! Temporal, where starting an id that is already running fails ("already started") and the
//! schedule drops that start (`num_actions_duplicate_dropped`). Covers schedules that share an
//! action id, an action id changed while its runs are open, jobs whose id a schedule would
//! use, and runs whose nominal time is after year 9999.

use crate::util::engine::*;
use schedule_engine::{
    ScheduleBackfill, ScheduleError, ScheduleOverlapPolicy as P, ScheduleUpdate, Scheduler,
};

fn dup(s: &Scheduler, id: &str, now: chrono::DateTime<chrono::Utc>) -> u64 {
    describe(s, id, now).info.num_actions_duplicate_dropped
}

#[test]
fn schedules_sharing_an_action_id_start_each_id_once() {
    let mut s = Scheduler::default();
    let t0 = t("2022-06-01T00:00:00Z");
    // Both start `myid-<time>` every 5 minutes.
    for id in ["a", "b"] {
        s.create_schedule(id, interval(mins(5), mins(0), P::AllowAll), t0)
            .unwrap();
    }
    let now = t("2022-06-01T00:05:00Z");
    let started = started_ids(&s.poll(now));
    assert_eq!(started, ids(&["2022-06-01T00:05:00Z"]));
    assert_eq!(dup(&s, "a", now) + dup(&s, "b", now), 1);
    let owner = if running(&describe(&s, "a", now)).is_empty() {
        "b"
    } else {
        "a"
    };
    assert_eq!(running(&describe(&s, owner, now)), started);

    // Closed once: the second report is for an id no longer running.
    s.workflow_closed(&started[0], done(), now).unwrap();
    assert!(matches!(
        s.workflow_closed(&started[0], done(), now),
        Err(ScheduleError::WorkflowNotFound { .. })
    ));

    // While 00:10 runs, the other schedule's 00:10 is a duplicate again.
    let now = t("2022-06-01T00:10:00Z");
    assert_eq!(started_ids(&s.poll(now)), ids(&["2022-06-01T00:10:00Z"]));
    assert_eq!(dup(&s, "a", now) + dup(&s, "b", now), 2);

    // With one of them deleted, the other starts every time, and closes by id.
    s.delete(owner, t("2022-06-01T00:11:00Z")).unwrap();
    let other = if owner == "a" { "b" } else { "a" };
    let now = t("2022-06-01T00:15:00Z");
    assert_eq!(started_ids(&s.poll(now)), ids(&["2022-06-01T00:15:00Z"]));
    s.workflow_closed(&ids(&["2022-06-01T00:15:00Z"])[0], done(), now)
        .unwrap();
    assert!(running(&describe(&s, other, now)).is_empty());
    // The deleted schedule's 00:10 run is no longer tracked.
    assert!(matches!(
        s.workflow_closed(&ids(&["2022-06-01T00:10:00Z"])[0], done(), now),
        Err(ScheduleError::WorkflowNotFound { .. })
    ));

    // A third schedule with the same action id joins: one start per time again.
    let before = dup(&s, other, now);
    s.create_schedule("c", interval(mins(5), mins(0), P::AllowAll), now)
        .unwrap();
    let now = t("2022-06-01T00:20:00Z");
    let started = started_ids(&s.poll(now));
    assert_eq!(started, ids(&["2022-06-01T00:20:00Z"]));
    assert_eq!(dup(&s, other, now) - before + dup(&s, "c", now), 1);
    s.workflow_closed(&started[0], done(), now).unwrap();
    assert!(running(&describe(&s, other, now)).is_empty());
    assert!(running(&describe(&s, "c", now)).is_empty());
}

#[test]
fn a_changed_action_id_keeps_its_open_runs() {
    let mut s = Scheduler::default();
    let t0 = t("2022-06-01T00:00:00Z");
    s.create_schedule("s", interval(mins(5), mins(0), P::AllowAll), t0)
        .unwrap();
    let old = ids(&["2022-06-01T00:05:00Z"]).remove(0);
    assert_eq!(
        started_ids(&s.poll(t("2022-06-01T00:05:00Z"))),
        std::slice::from_ref(&old)
    );
    s.update(
        "s",
        |input| {
            let mut sch = input.description.schedule;
            action_mut(&mut sch).id = "newid".into();
            Some(ScheduleUpdate { schedule: sch })
        },
        t("2022-06-01T00:06:00Z"),
    )
    .unwrap();
    let now = t("2022-06-01T00:10:00Z");
    assert_eq!(
        started_ids(&s.poll(now)),
        ["newid-2022-06-01T00:10:00Z".to_string()]
    );
    assert_eq!(
        running(&describe(&s, "s", now)),
        [old.clone(), "newid-2022-06-01T00:10:00Z".into()]
    );

    // Another schedule now takes the old action id; its backfill of 00:05 would start the
    // run that is still open: dropped as a duplicate.
    s.create_schedule("t", interval(mins(5), mins(0), P::AllowAll), now)
        .unwrap();
    let backfill = ScheduleBackfill {
        start_at: t("2022-06-01T00:05:00Z"),
        end_at: t("2022-06-01T00:05:00Z"),
        overlap: Some(P::AllowAll),
    };
    s.backfill("t", &[backfill], now).unwrap();
    assert!(started_ids(&s.poll(now)).is_empty());
    assert_eq!(dup(&s, "t", now), 1);

    // Both runs of "s" close by their ids, the old one included.
    s.workflow_closed(&old, done(), now).unwrap();
    s.workflow_closed("newid-2022-06-01T00:10:00Z", done(), now)
        .unwrap();
    assert!(running(&describe(&s, "s", now)).is_empty());
    // Once closed, the old id may run again: "t" backfills it now.
    let backfill = ScheduleBackfill {
        start_at: t("2022-06-01T00:05:00Z"),
        end_at: t("2022-06-01T00:05:00Z"),
        overlap: Some(P::AllowAll),
    };
    s.backfill("t", &[backfill], now).unwrap();
    assert_eq!(started_ids(&s.poll(now)), std::slice::from_ref(&old));
    assert_eq!(running(&describe(&s, "t", now)), [old]);
}

#[test]
fn a_job_and_a_schedule_never_run_the_same_id() {
    let mut s = Scheduler::default();
    let t0 = t("2022-06-01T00:00:00Z");
    let job_id = ids(&["2022-06-01T00:05:00Z"]).remove(0);
    s.start_workflow(opts(&job_id), t0).unwrap();
    s.create_schedule("s", interval(mins(5), mins(0), P::AllowAll), t0)
        .unwrap();
    assert_eq!(started_ids(&s.poll(t0)), std::slice::from_ref(&job_id));
    // The schedule's 00:05 has the job's id while the job runs: dropped.
    let now = t("2022-06-01T00:05:00Z");
    assert!(started_ids(&s.poll(now)).is_empty());
    assert_eq!(dup(&s, "s", now), 1);
    s.workflow_closed(&job_id, done(), now).unwrap();

    // And a job may not take the id of a schedule's open run.
    let now = t("2022-06-01T00:10:00Z");
    let run = ids(&["2022-06-01T00:10:00Z"]).remove(0);
    assert_eq!(started_ids(&s.poll(now)), std::slice::from_ref(&run));
    let taken = s.start_workflow(opts(&run), now);
    assert!(matches!(taken, Err(ScheduleError::InvalidArgument { .. })));
    s.workflow_closed(&run, done(), now).unwrap();
    assert!(running(&describe(&s, "s", now)).is_empty());
}

#[test]
fn runs_after_year_9999_close_by_their_id() {
    let mut s = Scheduler::default();
    // 10000-01-01T00:00:07Z
    let now = chrono::DateTime::from_timestamp(253_402_300_807, 0).unwrap();
    s.create_schedule("s", interval(mins(5), mins(0), P::AllowAll), now)
        .unwrap();
    s.trigger("s", None, now).unwrap();
    s.trigger("s", None, now + chrono::Duration::seconds(1))
        .unwrap();
    let later = now + chrono::Duration::seconds(1);
    let started = started_ids(&s.poll(later));
    // chrono writes years past 9999 with a sign; the id keeps whatever it writes.
    let want: Vec<String> = [now, later]
        .iter()
        .map(|t| {
            format!(
                "myid-{}",
                t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            )
        })
        .collect();
    assert_eq!(started, want);
    for id in &started {
        s.workflow_closed(id, done(), later).unwrap();
        assert!(matches!(
            s.workflow_closed(id, done(), later),
            Err(ScheduleError::WorkflowNotFound { .. })
        ));
    }
    assert!(running(&describe(&s, "s", later)).is_empty());
}
