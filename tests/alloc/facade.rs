//! Memory stays bounded by live state under churn: schedules deleted and created again, or left
//! to expire, with and without a store. Measured with a counting allocator (bytes allocated and
//! not freed by the test's thread, which does all the work: no worker runs).

use std::time::Duration;

use crate::counting_alloc::live_bytes;
use crate::util::facade::{at, every};
use schedule_engine::store::MemoryStore;
use schedule_engine::{Client, ManualClock, Scheduler, SchedulerConfig};

const IDS: usize = 1000;
/// Growth allowed over the measured stretch: hash maps and vectors settle at their peak size
/// during the warm-up; anything kept per cycle would show as megabytes.
const SLACK: i64 = 256 * 1024;

fn churn(client: &Client, from: usize, cycles: usize) {
    for i in from..from + cycles {
        let id = format!("s{}", i % IDS);
        client.get_schedule_handle(&id).delete().expect("delete");
        client
            .create_schedule(&id, every(Duration::from_secs(60)))
            .expect("create");
    }
}

/// Live bytes grown over `cycles` delete+create cycles, after a warm-up.
fn growth(client: &Client, cycles: usize) -> i64 {
    for i in 0..IDS {
        client
            .create_schedule(&format!("s{i}"), every(Duration::from_secs(60)))
            .expect("create");
    }
    churn(client, 0, 5 * IDS);
    let before = live_bytes();
    churn(client, 5 * IDS, cycles);
    live_bytes() - before
}

/// Defect 2. On 375dddf each delete kept a removal record (about 700 B) that only a store's
/// `take_changes` drained: 20,000 cycles grew this client by 16,969,984 bytes (1,000,000 cycles:
/// 688 MiB).
#[test]
fn churn_without_a_store_keeps_memory_bounded() {
    let client = Client::builder()
        .clock(ManualClock::new(at(0)))
        .build()
        .expect("client");
    let grown = growth(&client, 20_000);
    assert!(grown < SLACK, "grew {grown} bytes over 20,000 cycles");
}

/// The same with a store: the change feed is drained at every call, and the store keeps one
/// record per live schedule.
#[test]
fn churn_with_a_store_keeps_memory_bounded() {
    let store = MemoryStore::new();
    let client = Client::builder()
        .clock(ManualClock::new(at(0)))
        .store(store.clone())
        .build()
        .expect("client");
    let grown = growth(&client, 10_000);
    assert!(grown < SLACK, "grew {grown} bytes over 10,000 cycles");
    assert_eq!(
        store.count(schedule_engine::store::RecordKind::Schedule),
        IDS
    );
}

/// Defect 2, expiry. On 375dddf every schedule removed at the end of its retention left the
/// same removal record behind: 16,969,984 bytes over these 20,000.
#[test]
fn expired_schedules_leave_nothing_behind() {
    let config = SchedulerConfig {
        retention: Duration::from_secs(1),
        ..Default::default()
    };
    let mut s = Scheduler::new(config);
    // A schedule whose spec has ended: done at once, removed a second later.
    let ended = || {
        let mut schedule = every(Duration::from_secs(60));
        schedule.spec.end_at = Some(at(0));
        schedule
    };
    let mut now = 0;
    let round = |s: &mut Scheduler, now: &mut i64| {
        for i in 0..IDS {
            s.create_schedule(&format!("e{i}"), ended(), at(*now))
                .expect("create");
        }
        *now += 2;
        assert!(s.poll(at(*now)).is_empty());
        assert_eq!(s.schedule_count(), 0);
    };
    for _ in 0..5 {
        round(&mut s, &mut now);
    }
    let before = live_bytes();
    for _ in 0..20 {
        round(&mut s, &mut now);
    }
    let grown = live_bytes() - before;
    assert!(grown < SLACK, "grew {grown} bytes over 20,000 expiries");
}
