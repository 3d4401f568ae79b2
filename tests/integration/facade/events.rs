//! `Client::subscribe`: every event from then on, in order, through a bounded channel that
//! never holds the scheduler back (src/client/events.rs).

use crate::util::facade::{at, every, wid, Recorder};
use schedule_engine::{
    Client, ManualClock, ScheduleEvent as E, ScheduleOverlapPolicy, SchedulerConfig, Worker,
};

#[test]
fn a_subscriber_that_never_reads_holds_nothing_back_and_learns_what_it_missed() {
    // Every second, ALLOW_ALL, room in the buffer for all: a jump of 5000 s starts 5000 runs
    // at once, and each closes at once. The events: 1 created + 5000 started + 5000 closed.
    let clock = ManualClock::new(at(0));
    let config = SchedulerConfig {
        max_buffer_size: 10_000,
        ..Default::default()
    };
    let client = Client::builder()
        .clock(clock.clone())
        .config(config)
        .build()
        .unwrap();
    let events = client.subscribe();
    let capacity = events.capacity().expect("a bounded channel");
    let mut schedule = every(std::time::Duration::from_secs(1));
    schedule.policy.overlap = ScheduleOverlapPolicy::AllowAll;
    let handle = client.create_schedule("s", schedule).unwrap();
    let worker = Worker::start(&client, Recorder::completing());
    clock.set(at(5000));
    worker.settle();
    // The engine went on: every run started and closed while nobody read.
    let info = handle.describe().unwrap().info;
    assert_eq!(info.num_actions, 5000);
    assert!(info.running_actions.is_empty());
    // Memory stayed bounded: the channel holds its capacity, oldest first.
    assert_eq!(events.len(), capacity);
    let held: Vec<E> = events.try_iter().collect();
    assert!(matches!(&held[0], E::Created { schedule_id, .. } if schedule_id == "s"));
    assert!(matches!(&held[1], E::Started { workflow_id, .. } if *workflow_id == wid(1)));
    // The next event that fits comes after the count of those lost.
    handle.pause(Some("enough")).unwrap();
    let total = 1 + 5000 + 5000;
    assert_eq!(
        events.try_iter().collect::<Vec<_>>(),
        vec![
            E::Lagged {
                dropped: (total - capacity) as u64,
            },
            E::Paused {
                schedule_id: "s".into(),
                note: "enough".into(),
                at: at(5000),
            },
        ]
    );
    worker.shutdown();
}

#[test]
fn dropped_subscribers_are_pruned_and_the_others_keep_receiving() {
    let clock = ManualClock::new(at(0));
    let client = Client::builder().clock(clock.clone()).build().unwrap();
    let gone = client.subscribe();
    let kept = client.subscribe();
    drop(gone);
    let handle = client
        .create_schedule("s", every(std::time::Duration::from_secs(60)))
        .unwrap();
    handle.delete().unwrap();
    assert_eq!(
        kept.try_iter().collect::<Vec<_>>(),
        vec![
            E::Created {
                schedule_id: "s".into(),
                at: at(0),
            },
            E::Deleted {
                schedule_id: "s".into(),
                at: at(0),
            },
        ]
    );
    // Events before a subscription are not replayed to it.
    let late = client.subscribe();
    assert!(late.try_recv().is_err());
}
