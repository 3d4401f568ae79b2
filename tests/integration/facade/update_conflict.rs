//! `ScheduleHandle::update` under concurrent change: starts do not make it retry (and are not
//! given back), concurrent updates do, a bounded number of times.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::util::facade::{at, every, Recorder};
use schedule_engine::{Client, ManualClock, ScheduleError, ScheduleHandle, ScheduleUpdate, Worker};

fn setup(remaining: Option<u64>) -> (ManualClock, Client, Worker) {
    let clock = ManualClock::new(at(0));
    let client = Client::builder()
        .clock(clock.clone())
        .build()
        .expect("client");
    let mut schedule = every(Duration::from_secs(1));
    schedule.state.remaining_actions = remaining;
    client.create_schedule("s", schedule).expect("create");
    let worker = Worker::start(&client, Recorder::completing());
    worker.settle();
    (clock, client, worker)
}

/// Defect 3. On 375dddf every start of a schedule with `remaining_actions` moved the conflict
/// token, so a callback slower than the interval never won: here it ran 51 times (50, the cap this
/// test puts on it, then one more; uncapped it never returns: 1.77 M calls in 3 s were measured).
#[test]
fn a_callback_slower_than_the_schedule_wins_at_once() {
    let (clock, client, worker) = setup(Some(1000));
    let handle = client.get_schedule_handle("s");
    let calls = AtomicUsize::new(0);
    handle
        .update(|input| {
            // A slow decision: the schedule fires while it is being made (until the cap).
            if calls.fetch_add(1, Ordering::SeqCst) < 50 {
                clock.advance(Duration::from_secs(1));
                worker.settle();
            }
            let mut schedule = input.description.schedule;
            schedule.state.note = Some("slow".into());
            Some(ScheduleUpdate { schedule })
        })
        .expect("update");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let d = handle.describe().expect("describe");
    assert_eq!(d.schedule.state.note.as_deref(), Some("slow"));
    // The start taken meanwhile is not given back: 1000 - 1 remain, and one action ran.
    assert_eq!(d.info.num_actions, 1);
    assert_eq!(d.schedule.state.remaining_actions, Some(999));
    worker.shutdown();
}

fn pause_and_note(handle: &ScheduleHandle, calls: &AtomicUsize, cap: usize) -> ScheduleError {
    handle
        .update(|input| {
            // Another caller changes the schedule each time this one decides (until the cap).
            if calls.fetch_add(1, Ordering::SeqCst) < cap {
                handle.pause(Some("concurrent")).expect("pause");
            }
            let mut schedule = input.description.schedule;
            schedule.state.note = Some("lost?".into());
            Some(ScheduleUpdate { schedule })
        })
        .expect_err("every attempt conflicts")
}

/// Concurrent updates are never overwritten, and the loop gives up. On 375dddf it retried for
/// as long as the other caller kept changing the schedule (here it would make 101 calls, then
/// win; `Conflict` did not exist there, so this test does not compile against it).
#[test]
fn concurrent_changes_make_it_retry_then_give_up_with_conflict() {
    let (_clock, client, worker) = setup(None);
    let handle = client.get_schedule_handle("s");
    let calls = AtomicUsize::new(0);
    let err = pause_and_note(&handle, &calls, 100);
    assert!(
        matches!(err, ScheduleError::Conflict { ref id } if id == "s"),
        "{err}"
    );
    assert_eq!(
        calls.load(Ordering::SeqCst),
        ScheduleHandle::UPDATE_ATTEMPTS
    );
    // The other caller's change stands; this one's was never applied.
    let d = handle.describe().expect("describe");
    assert!(d.schedule.state.paused);
    assert_eq!(d.schedule.state.note.as_deref(), Some("concurrent"));
    worker.shutdown();
}

/// The engine's compare-and-swap directly: a token from before a pause conflicts; one older
/// only by limited starts is accepted, with those starts deducted.
#[test]
fn update_checked_conflicts_on_configuration_changes_only() {
    use schedule_engine::{Scheduler, SchedulerConfig};
    let mut s = Scheduler::new(SchedulerConfig::default());
    let mut schedule = every(Duration::from_secs(60));
    schedule.state.remaining_actions = Some(10);
    s.create_schedule("s", schedule, at(0)).expect("create");
    let seen = s.describe("s", at(0)).expect("describe");
    // Two starts, each closed: the token moved twice, by starts only.
    for minute in 1..=2 {
        let now = at(60 * minute);
        assert_eq!(s.poll(now).len(), 1);
        let id = s.describe("s", now).unwrap().info.running_actions[0]
            .workflow_id
            .clone();
        s.workflow_closed(&id, schedule_engine::WorkflowOutcome::Canceled, now)
            .unwrap();
    }
    let now = at(150);
    assert_eq!(
        s.describe("s", now).unwrap().conflict_token,
        seen.conflict_token + 2
    );
    let mut unchanged = seen.schedule.clone();
    unchanged.state.note = Some("edited".into());
    s.update_checked("s", unchanged.clone(), seen.conflict_token, now)
        .expect("starts do not conflict");
    let d = s.describe("s", now).unwrap();
    assert_eq!(d.schedule.state.remaining_actions, Some(8));
    // The update moved the token: the old one now conflicts, and nothing changes.
    unchanged.state.note = Some("stale".into());
    let stale = s.update_checked("s", unchanged, seen.conflict_token, now);
    assert!(
        matches!(stale, Err(ScheduleError::Conflict { .. })),
        "{stale:?}"
    );
    assert_eq!(
        s.describe("s", now).unwrap().schedule.state.note.as_deref(),
        Some("edited")
    );
}
