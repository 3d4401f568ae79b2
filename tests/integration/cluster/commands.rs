//! The command queue: a node that does not own a partition asks its owner to apply a command;
//! each command is applied exactly once, or withdrawn and never applied.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use schedule_engine::store::{RecordKind, StoreErrorKind};
use schedule_engine::PostgresCluster;

use super::host::Host;
use super::pg_util::PgServer;
use super::{connect, wait_within};

fn value(cluster: &PostgresCluster, key: &str) -> Option<i64> {
    cluster
        .read_record(RecordKind::PendingAction, key)
        .expect("read")
        .map(|r| r.data.parse().expect("a counter"))
}

/// The host counts a batch once `apply_commands` returned, a moment after its callers may have
/// seen the result: wait for the count, then check that it stays.
fn applied_exactly(owner: &Host, n: usize) {
    wait_within(
        Duration::from_secs(2),
        "the owner counts its batches",
        || owner.applied.load(Ordering::SeqCst) >= n,
    );
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(owner.applied.load(Ordering::SeqCst), n);
}

/// The owner joined and holds everything; the caller never joins.
fn owner_and_caller(lease_ms: u64, apply_delay: Duration) -> (Host, PostgresCluster) {
    let url = PgServer::shared().create_database();
    let owner = Host::start(connect(&url, "owner", lease_ms, 4), apply_delay);
    let caller = connect(&url, "caller", lease_ms, 4);
    let all = owner.cluster.clone();
    wait_within(
        Duration::from_secs(5),
        "the owner holds every partition",
        || all.leases().len() == 4,
    );
    (owner, caller)
}

#[test]
fn a_command_is_applied_by_the_owner_and_its_result_returned() {
    let (owner, caller) = owner_and_caller(5_000, Duration::ZERO);
    let p = caller.partition_of("apples");
    assert_eq!(caller.lease(p), None, "the caller holds nothing");
    assert_eq!(caller.submit(p, "add:apples:3").unwrap(), "3");
    // Visible on any node as soon as the call returned.
    assert_eq!(value(&caller, "apples"), Some(3));
    assert_eq!(caller.submit(p, "add:apples:4").unwrap(), "7");
    assert_eq!(value(&caller, "apples"), Some(7));
    applied_exactly(&owner, 2);
}

#[test]
fn concurrent_commands_are_each_applied_exactly_once() {
    let (owner, caller) = owner_and_caller(5_000, Duration::ZERO);
    let p = caller.partition_of("pears");
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let caller = caller.clone();
            std::thread::spawn(move || {
                (0..25)
                    .map(|_| {
                        caller
                            .submit(p, "add:pears:1")
                            .unwrap()
                            .parse::<i64>()
                            .unwrap()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let results: Vec<i64> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    // Every command saw a different counter value: each was applied once, in some order.
    let distinct: BTreeSet<i64> = results.iter().copied().collect();
    assert_eq!(distinct, (1..=100).collect::<BTreeSet<i64>>());
    assert_eq!(value(&caller, "pears"), Some(100));
    applied_exactly(&owner, 100);
}

#[test]
fn a_command_nobody_applies_is_withdrawn_and_never_applied() {
    let url = PgServer::shared().create_database();
    let caller = connect(&url, "caller", 1_000, 4);
    let p = caller.partition_of("plums");
    let start = Instant::now();
    let e = caller
        .submit_with_timeout(p, "add:plums:1", Duration::from_millis(300))
        .unwrap_err();
    assert!(matches!(e.kind, StoreErrorKind::Unavailable { .. }), "{e}");
    assert!(start.elapsed() >= Duration::from_millis(300));
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );

    // An owner that arrives later finds nothing to apply.
    let owner = Host::start(connect(&url, "owner", 1_000, 4), Duration::ZERO);
    wait_within(
        Duration::from_secs(5),
        "the owner holds every partition",
        || owner.cluster.leases().len() == 4,
    );
    assert_eq!(
        caller.submit(p, "add:plums:5").unwrap(),
        "5",
        "only the later command counts"
    );
    applied_exactly(&owner, 1);
    assert_eq!(value(&caller, "plums"), Some(5));
}

#[test]
fn a_command_applied_as_its_caller_times_out_is_reported_applied() {
    // The owner holds the command's row lock for 600 ms while applying it; the caller's deadline
    // passes meanwhile. Its withdrawal waits for the owner's transaction and then finds the
    // command applied: the caller gets the result, not a timeout.
    let (owner, caller) = owner_and_caller(5_000, Duration::from_millis(600));
    let p = caller.partition_of("quinces");
    let start = Instant::now();
    let result = caller.submit_with_timeout(p, "add:quinces:2", Duration::from_millis(200));
    assert_eq!(result.unwrap(), "2");
    assert!(
        start.elapsed() >= Duration::from_millis(600),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(value(&caller, "quinces"), Some(2));
    applied_exactly(&owner, 1);
}

#[test]
fn a_command_submitted_on_the_owner_itself_goes_through_the_queue_too() {
    let (owner, _caller) = owner_and_caller(5_000, Duration::ZERO);
    let p = owner.cluster.partition_of("figs");
    assert!(owner.cluster.lease(p).is_some());
    assert_eq!(owner.cluster.submit(p, "add:figs:9").unwrap(), "9");
}
