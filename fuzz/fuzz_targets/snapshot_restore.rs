//! Snapshot restore from hostile input: arbitrary bytes read as a JSON `SchedulerSnapshot`, and
//! valid snapshots (of a small scenario) mutated field by field with values a damaged or
//! hand-edited store may hold (counters and tokens at `u64::MAX`, times at the ends of chrono's
//! range, high-water marks and update times decades away, duplicate and foreign workflow ids,
//! huge backfills, overfull buffers). Each is restored, then operated on a little.
//!
//! Must hold: no panic and no step that takes long (libFuzzer's `-timeout`); restore is stable
//! (restoring its own snapshot gives that snapshot back); every listed schedule describes; for a
//! mutated store, the change feed after the restore turns its schedule records into the
//! snapshot's (the repairs reach the store).

#![no_main]

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use libfuzzer_sys::fuzz_target;
use schedule_engine::{Schedule, ScheduleAction, ScheduleActionStartWorkflow, ScheduleBackfill, ScheduleIntervalSpec, ScheduleOverlapPolicy, SchedulePolicy, ScheduleSpec, Scheduler, SchedulerConfig, StartWorkflowOptions, WorkflowOutcome};
use schedule_engine::snapshot::{BackfillRecord, BufferedStartRecord, RunningRecord, SchedulerSnapshot};

#[path = "bytes.rs"]
mod bytes;
use bytes::Bytes;

fn at(s: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(s, 0).expect("in range")
}

const T0: i64 = 1_654_041_600; // 2022-06-01

/// A time a damaged record may hold.
fn instant(b: &mut Bytes) -> DateTime<Utc> {
    let near = TimeDelta::seconds(i64::from(b.u8()));
    match b.u8() % 8 {
        0 => DateTime::<Utc>::MIN_UTC + near,
        1 => DateTime::<Utc>::MAX_UTC - near,
        2 => at(0) + near,
        3 => at(4_133_980_800) - near, // 2101
        _ => at(T0 + i64::from(b.u32() as i32) * 8),
    }
}

fn counter(b: &mut Bytes) -> u64 {
    match b.u8() % 4 {
        0 => u64::MAX - u64::from(b.u8() % 3),
        1 => u64::from(b.u32()),
        _ => u64::from(b.u8()),
    }
}

/// A valid snapshot of a small scenario: schedules with runs, a buffer, a backfill, a cron job.
fn scenario(b: &mut Bytes) -> SchedulerSnapshot {
    let mut s = Scheduler::default();
    for i in 0..3 {
        let every = [1, 60, 3600][usize::from(b.u8()) % 3];
        let schedule = Schedule {
            action: ScheduleAction::StartWorkflow(ScheduleActionStartWorkflow {
                workflow: "wf".into(),
                id: format!("a{}", b.u8() % 3),
                task_queue: "q".into(),
                ..Default::default()
            }),
            spec: ScheduleSpec {
                intervals: vec![ScheduleIntervalSpec::new(Duration::from_secs(every))],
                ..Default::default()
            },
            policy: SchedulePolicy {
                overlap: [ScheduleOverlapPolicy::BufferAll, ScheduleOverlapPolicy::AllowAll]
                    [usize::from(b.u8() % 2)],
                ..Default::default()
            },
            ..Default::default()
        };
        let _ = s.create_schedule(&format!("s{i}"), schedule, at(T0));
    }
    let _ = s.backfill(
        "s0",
        &[ScheduleBackfill {
            start_at: at(T0 - 7200),
            end_at: at(T0),
            overlap: None,
        }],
        at(T0),
    );
    let _ = s.start_workflow(
        StartWorkflowOptions {
            workflow: "wf".into(),
            id: "job".into(),
            task_queue: "q".into(),
            cron_schedule: Some("*/5 * * * *".into()),
            ..Default::default()
        },
        at(T0),
    );
    let _ = s.poll(at(T0 + i64::from(b.u8()) * 60));
    s.snapshot()
}

/// Mutates one field of one record.
fn mutate(b: &mut Bytes, snap: &mut SchedulerSnapshot) {
    if snap.schedules.is_empty() {
        return;
    }
    let n = snap.schedules.len();
    let other_run = snap.schedules[usize::from(b.u8()) % n].running.first().cloned();
    let r = &mut snap.schedules[usize::from(b.u8()) % n];
    match b.u8() % 14 {
        0 => r.conflict_token = counter(b),
        1 => r.num_actions = counter(b),
        2 => {
            r.num_actions_missed_catchup_window = counter(b);
            r.num_actions_dropped_paused = counter(b);
        }
        3 => r.high_water_mark = instant(b),
        4 => r.created_at = instant(b),
        5 => r.last_updated_at = Some(instant(b)),
        6 => r.buffer.push(BufferedStartRecord {
            nominal_time: instant(b),
            actual_time: instant(b),
            overlap: None,
            manual: b.u8() % 2 == 0,
        }),
        7 => r.backfills.push(BackfillRecord {
            backfill: ScheduleBackfill {
                start_at: instant(b),
                end_at: instant(b),
                overlap: None,
            },
            progress: (b.u8() % 2 == 0).then(|| instant(b)),
        }),
        8 => {
            if let Some(run) = other_run {
                r.running.push(run);
            }
        }
        9 => r.running.push(RunningRecord {
            workflow_id: format!("foreign-{}", b.u8()),
            cancel_requested: b.u8() % 2 == 0,
            terminate_requested: false,
        }),
        10 => r.schedule.state.paused = !r.schedule.state.paused,
        11 => r.schedule.state.remaining_actions = Some(counter(b)),
        12 => r.schedule.policy.catchup_window = Duration::from_secs(u64::from(b.u32())),
        _ => {
            if let Some(a) = r.recent_actions.first_mut() {
                a.action.workflow_id = format!("x-{}", b.u32());
                a.scheduled_at = instant(b);
            }
        }
    }
}

/// Restores `snapshot` and operates on it. `stored`: the input is a store's content (records
/// sorted and unique by id), so the feed's repairs must turn its schedules into the snapshot's.
fn exercise(b: &mut Bytes, snapshot: SchedulerSnapshot, stored: bool) {
    let config = SchedulerConfig::default();
    let mut s = Scheduler::restore(snapshot.clone(), config.clone());
    let mut store = snapshot;
    for c in s.take_changes() {
        store.apply(c);
    }
    if stored {
        assert_eq!(store.schedules, s.snapshot().schedules, "the repairs do not reach the store");
    }
    let again = Scheduler::restore(s.snapshot(), config);
    assert_eq!(again.snapshot(), s.snapshot(), "restore is not stable");
    let mut now = T0;
    for _ in 0..4 {
        now += match b.u8() % 4 {
            0 => 60,
            1 => 86_400,
            2 => 40 * 365 * 86_400,
            _ => -3600,
        };
        now = now.clamp(0, 4_102_444_800);
        let actions = s.poll(at(now));
        for a in &actions {
            if let schedule_engine::Action::StartWorkflow(st) = a {
                let _ = s.workflow_closed(&st.workflow_id, WorkflowOutcome::Completed { result: None }, at(now));
            }
        }
        for l in s.list_schedules(at(now)) {
            s.describe(&l.id, at(now)).expect("a listed schedule describes");
            if b.u8() % 4 == 0 {
                let _ = s.pause(&l.id, None, at(now));
            }
        }
        // A long backfill takes many polls; each is bounded.
        for _ in 0..64 {
            if !s.next_wakeup().is_some_and(|w| w <= at(now)) {
                break;
            }
            let _ = s.poll(at(now));
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    if b.u8() % 4 == 0 {
        // Arbitrary bytes as JSON: most fail to decode, which is the store's concern.
        if let Ok(snapshot) = serde_json::from_slice::<SchedulerSnapshot>(b.0) {
            exercise(&mut Bytes(&[]), snapshot, false);
        }
        return;
    }
    let mut snapshot = scenario(&mut b);
    for _ in 0..1 + b.u8() % 4 {
        mutate(&mut b, &mut snapshot);
    }
    exercise(&mut b, snapshot, true);
});
