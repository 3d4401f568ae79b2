//! Two schedulers fed the same calls poll the same actions (their workflow maps hash with
//! different random seeds), and in the steady state of an interval schedule `poll` allocates
//! one string per fired start (its workflow id) and the `Vec` it returns, sized once however
//! many starts it holds, nothing else (a counting allocator, `tests/util/counting_alloc.rs`,
//! counts this thread's allocations).

use std::time::Duration;

use crate::counting_alloc::allocations;
use crate::util::engine::*;
use chrono::{DateTime, Utc};
use schedule_engine::{
    Action, ScheduleAction, ScheduleBackfill, ScheduleOverlapPolicy as P, Scheduler,
    SchedulerConfig, StartWorkflowOptions, WorkflowOutcome,
};

/// One scheduler of each kind of schedule that produces every kind of action: starts (with
/// and without jitter), cancels, terminates, cron job and delayed starts.
fn world(t0: DateTime<Utc>) -> Scheduler {
    let mut s = Scheduler::new(SchedulerConfig::default());
    let plans = [
        ("skip", 5, P::Skip),
        ("cancel", 4, P::CancelOther),
        ("terminate", 7, P::TerminateOther),
        ("allow", 3, P::AllowAll),
        ("buffer-all", 4, P::BufferAll),
        ("buffer-one", 6, P::BufferOne),
    ];
    for (id, every, overlap) in plans {
        let mut sch = interval(mins(every), Duration::ZERO, overlap);
        if id == "allow" {
            sch.spec.jitter = Some(Duration::from_secs(50));
        }
        s.create_schedule(id, sch, t0).unwrap();
    }
    s.start_workflow(
        StartWorkflowOptions {
            cron_schedule: Some("*/10 * * * *".into()),
            ..opts("cron-job")
        },
        t0,
    )
    .unwrap();
    s.start_workflow(
        StartWorkflowOptions {
            start_delay: Some(mins(17)),
            ..opts("delayed")
        },
        t0,
    )
    .unwrap();
    s
}

#[test]
fn equal_schedulers_poll_equal_actions() {
    let t0 = t("2022-06-01T00:00:00Z");
    let mut plain = world(t0);
    let mut reusing = world(t0);
    // Runs still open, with the minute they close at and how.
    let mut open: Vec<(String, i64, u8)> = Vec::new();
    let mut kinds = [0usize; 3];
    for minute in 1..=600i64 {
        let now = t0 + chrono::Duration::minutes(minute);
        if minute % 97 == 0 {
            for s in [&mut plain, &mut reusing] {
                s.trigger("skip", Some(P::AllowAll), now).unwrap();
                let backfill = ScheduleBackfill {
                    start_at: now - chrono::Duration::minutes(40),
                    end_at: now - chrono::Duration::minutes(20),
                    overlap: Some(P::BufferAll),
                };
                s.backfill("buffer-one", &[backfill], now).unwrap();
            }
        }
        let want = plain.poll(now);
        let got = reusing.poll(now);
        assert_eq!(got, want, "minute {minute}");
        for a in &want {
            match a {
                Action::StartWorkflow(st) => {
                    kinds[0] += 1;
                    // Deterministic run lengths of 0 to 12 minutes, and every outcome.
                    let h = st.workflow_id.bytes().map(u64::from).sum::<u64>();
                    open.push((
                        st.workflow_id.clone(),
                        minute + (h % 13) as i64,
                        (h % 5) as u8,
                    ));
                }
                Action::CancelWorkflow(_) => kinds[1] += 1,
                Action::TerminateWorkflow(_) => kinds[2] += 1,
                _ => {}
            }
        }
        let (due, rest): (Vec<_>, Vec<_>) = open.into_iter().partition(|(_, at, _)| *at <= minute);
        open = rest;
        for (id, _, how) in due {
            let outcome = || match how {
                0 => WorkflowOutcome::Completed {
                    result: Some(serde_json::json!(id.len())),
                },
                1 => WorkflowOutcome::Failed {
                    message: "boom".into(),
                },
                2 => WorkflowOutcome::TimedOut,
                3 => WorkflowOutcome::Canceled,
                _ => WorkflowOutcome::Terminated,
            };
            let a = plain.workflow_closed(&id, outcome(), now);
            let b = reusing.workflow_closed(&id, outcome(), now);
            assert_eq!(a.is_ok(), b.is_ok(), "{id}");
        }
    }
    // Every kind of action was exercised.
    assert!(kinds.iter().all(|&k| k > 0), "{kinds:?}");
    let end = t0 + chrono::Duration::minutes(601);
    assert_eq!(plain.list_schedules(end), reusing.list_schedules(end));
    for id in [
        "skip",
        "cancel",
        "terminate",
        "allow",
        "buffer-all",
        "buffer-one",
    ] {
        assert_eq!(
            plain.describe(id, end).unwrap(),
            reusing.describe(id, end).unwrap()
        );
    }
}

/// Drives the seconds `seconds` after `t0`, closing every start at once; returns the starts
/// and the polls that returned any.
fn fire(s: &mut Scheduler, t0: DateTime<Utc>, seconds: std::ops::Range<i64>) -> (u64, u64) {
    let (mut fired, mut polls) = (0, 0);
    for k in seconds {
        let now = t0 + chrono::Duration::seconds(k);
        let actions = s.poll(now);
        polls += u64::from(!actions.is_empty());
        for a in &actions {
            if let Action::StartWorkflow(st) = a {
                fired += 1;
                s.workflow_closed(
                    &st.workflow_id,
                    WorkflowOutcome::Completed { result: None },
                    now,
                )
                .unwrap();
            }
        }
    }
    (fired, polls)
}

#[test]
fn poll_allocates_only_the_workflow_id_and_its_vec_per_fired_start() {
    let t0 = t("2022-06-01T00:00:00Z");
    let n = 100;
    let mut s = Scheduler::new(SchedulerConfig::default());
    for i in 0..n {
        let sch = interval(Duration::from_secs(n), Duration::from_secs(i), P::Skip);
        s.create_schedule(&format!("schedule-{i:03}"), sch, t0)
            .unwrap();
    }
    let n = n as i64;
    // Two rounds to warm up: the workflow map, the buffers, the poll's list of due schedules.
    assert_eq!(fire(&mut s, t0, 1..2 * n + 1).0, 2 * n as u64);
    let before = allocations();
    let (fired, polls) = fire(&mut s, t0, 2 * n + 1..12 * n + 1);
    assert_eq!((fired, polls), (10 * n as u64, 10 * n as u64));
    // One start per second: its workflow id and the poll's `Vec`.
    assert_eq!(
        allocations() - before,
        fired + polls,
        "allocations over 1000 fired actions"
    );
}

#[test]
fn a_poll_of_many_starts_allocates_its_vec_once() {
    // 600 schedules every minute, ten due in each second (the benches' pattern, smaller).
    let t0 = t("2022-06-01T00:00:00Z");
    let n = 600u64;
    let mut s = Scheduler::new(SchedulerConfig::default());
    for i in 0..n {
        let mut sch = interval(mins(1), Duration::from_secs(i % 60), P::Skip);
        let ScheduleAction::StartWorkflow(a) = &mut sch.action else {
            panic!("interval() makes a start action")
        };
        a.id = format!("wf-{i}");
        s.create_schedule(&format!("schedule-{i:03}"), sch, t0)
            .unwrap();
    }
    // Two minutes to warm up (the workflow map, the poll's list of due schedules).
    assert_eq!(fire(&mut s, t0, 1..121), (2 * n, 120));
    let before = allocations();
    let (fired, polls) = fire(&mut s, t0, 121..721);
    assert_eq!((fired, polls), (10 * n, 600));
    // Ten starts a poll: ten workflow ids and one `Vec`, sized once.
    assert_eq!(
        allocations() - before,
        fired + polls,
        "allocations over {fired} starts in {polls} polls"
    );
}
