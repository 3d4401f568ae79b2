//! Leases, fencing tokens and the fenced partition store, on nodes that place partitions by hand
//! (`acquire` / `renew` / `release`, no keeper).

use std::time::{Duration, Instant};

use chrono::Utc;
use schedule_engine::cluster::Lease;
use schedule_engine::store::{RecordKind, Store, StoreChange, StoreErrorKind, StoredRecord};
use schedule_engine::PostgresCluster;

use super::pg_util::PgServer;
use super::{config, connect};

fn put(id: &str, data: &str) -> StoreChange {
    StoreChange::Put(StoredRecord {
        kind: RecordKind::PendingAction,
        id: id.into(),
        data: data.into(),
    })
}

fn read(cluster: &PostgresCluster, partition: u32) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = cluster
        .read_records(RecordKind::PendingAction)
        .expect("read records")
        .into_iter()
        .filter(|r| cluster.partition_of(&r.id) == partition)
        .map(|r| (r.id, r.data))
        .collect();
    rows.sort();
    rows
}

/// An id that hashes to `partition`, found by trying `<prefix>-0`, `<prefix>-1`, ...
fn id_in(cluster: &PostgresCluster, partition: u32, prefix: &str) -> String {
    (0..)
        .map(|i| format!("{prefix}-{i}"))
        .find(|id| cluster.partition_of(id) == partition)
        .expect("some id hashes to every partition")
}

#[test]
fn leases_expire_by_the_database_clock_and_local_holders_let_go_first() {
    let url = PgServer::shared().create_database();
    let lease = 2_000;
    let a = connect(&url, "a", lease, 4);
    let b = connect(&url, "b", lease, 4);

    let first = a.acquire(0).unwrap().expect("a free partition is acquired");
    assert_eq!(
        first,
        Lease {
            partition: 0,
            fence: 1
        }
    );
    assert_eq!(a.lease(0), Some(first));
    assert_eq!(b.acquire(0).unwrap(), None, "held by a");

    std::thread::sleep(Duration::from_millis(1_200));
    let renewed_at = Instant::now();
    assert_eq!(a.renew().unwrap(), vec![], "renewed within the lease");
    // Past the first lease period, but the renewal extended it.
    std::thread::sleep(Duration::from_millis(1_000));
    assert_eq!(b.acquire(0).unwrap(), None, "the renewed lease still holds");
    assert_eq!(a.lease(0), Some(first));

    // Locally the lease ends at renewal + lease - margin (1.6 s), before the database's expiry
    // (2 s after the renewal reached the server): a paused or cut-off holder stops acting
    // before anyone else can take over.
    let local_end = renewed_at + Duration::from_millis(1_650);
    std::thread::sleep(local_end.saturating_duration_since(Instant::now()));
    assert_eq!(a.lease(0), None, "the local deadline has passed");
    if renewed_at.elapsed() < Duration::from_millis(1_950) {
        assert_eq!(
            b.acquire(0).unwrap(),
            None,
            "the database's lease still runs"
        );
    }

    std::thread::sleep(
        (renewed_at + Duration::from_millis(2_050)).saturating_duration_since(Instant::now()),
    );
    let second = b
        .acquire(0)
        .unwrap()
        .expect("an expired lease is taken over");
    assert_eq!(
        second,
        Lease {
            partition: 0,
            fence: 2
        },
        "the fence moved on"
    );
    assert_eq!(a.renew().unwrap(), vec![first], "a finds its lease lost");
    assert_eq!(a.leases(), vec![]);

    let owners = a.partition_owners().unwrap();
    assert_eq!(owners[0].owner.as_deref(), Some(b.member_id()));
    assert_eq!(owners[0].fence, 2);
    let remaining = owners[0].lease_remaining.expect("a live lease");
    assert!(remaining <= Duration::from_millis(2_000) && remaining > Duration::from_millis(1_000));
    assert_eq!(owners[1].owner, None);
}

#[test]
fn every_takeover_moves_the_fence_up_by_one() {
    let url = PgServer::shared().create_database();
    let a = connect(&url, "a", 5_000, 2);
    let b = connect(&url, "b", 5_000, 2);
    let mut fences = Vec::new();
    for round in 0..3 {
        let (taker, other) = if round % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let lease = taker
            .acquire(1)
            .unwrap()
            .expect("released partitions are free");
        assert_eq!(other.acquire(1).unwrap(), None);
        fences.push(lease.fence);
        taker.release(lease).unwrap();
        assert_eq!(taker.lease(1), None);
    }
    assert_eq!(fences, vec![1, 2, 3]);
    // Releasing a lease that is no longer held changes nothing.
    a.release(Lease {
        partition: 1,
        fence: 1,
    })
    .unwrap();
    let lease = b.acquire(1).unwrap().unwrap();
    assert_eq!(lease.fence, 4);
}

#[test]
fn a_write_under_a_lost_lease_is_fenced_and_writes_nothing() {
    let url = PgServer::shared().create_database();
    let lease_ms = 1_000;
    let a = connect(&url, "a", lease_ms, 4);
    let b = connect(&url, "b", lease_ms, 4);
    let lease = a.acquire(2).unwrap().unwrap();
    let mut store = a.partition_store(lease);
    let key = id_in(&a, 2, "counter");
    store
        .persist(&[put(&key, "a-1")])
        .expect("the holder writes");
    assert_eq!(read(&a, 2), vec![(key.clone(), "a-1".into())]);

    // Expired, nobody took it yet: the database's clock alone refuses the write.
    std::thread::sleep(Duration::from_millis(lease_ms + 100));
    let other = id_in(&a, 2, "other");
    let e = store
        .persist(&[put(&key, "a-2"), put(&other, "a-2")])
        .unwrap_err();
    assert!(
        matches!(e.kind, StoreErrorKind::Fenced { partition: 2, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("expired"), "{e}");

    // Taken over: the new owner sees the last committed state, the old one can write nothing.
    let taken = b.acquire(2).unwrap().expect("expired");
    assert_eq!(taken.fence, lease.fence + 1);
    let mut new_store = b.partition_store(taken);
    let loaded = new_store.load().unwrap();
    assert_eq!(loaded.len(), 1);
    assert_eq!(loaded[0].data, "a-1");
    let e = store.persist(&[put(&key, "a-3")]).unwrap_err();
    assert!(matches!(e.kind, StoreErrorKind::Fenced { .. }), "{e}");
    assert!(
        e.to_string().contains(b.member_id()),
        "names the holder: {e}"
    );
    let e = store.load().unwrap_err();
    assert!(matches!(e.kind, StoreErrorKind::Fenced { .. }), "{e}");
    new_store
        .persist(&[
            put(&key, "b-1"),
            StoreChange::Delete {
                kind: RecordKind::PendingAction,
                id: "absent".into(),
            },
        ])
        .unwrap();
    assert_eq!(read(&a, 2), vec![(key, "b-1".into())]);
}

#[test]
fn a_batch_is_written_whole_or_not_at_all() {
    let url = PgServer::shared().create_database();
    let a = connect(&url, "a", 5_000, 4);
    let lease = a.acquire(3).unwrap().unwrap();
    let mut store = a.partition_store(lease);
    let key = id_in(&a, 3, "k");
    let later = id_in(&a, 3, "later");
    // In order: a put then a delete of one record leaves it deleted; the last put wins.
    store
        .persist(&[
            put(&key, "1"),
            StoreChange::Delete {
                kind: RecordKind::PendingAction,
                id: key.clone(),
            },
            put(&later, "1"),
            put(&later, "2"),
        ])
        .unwrap();
    assert_eq!(read(&a, 3), vec![(later.clone(), "2".into())]);

    // A schedule whose id hashes elsewhere cannot be written here, and neither can the rest of
    // its batch.
    let stray = id_in(&a, 0, "schedule");
    let e = store
        .persist(&[
            put(&later, "3"),
            StoreChange::Put(StoredRecord {
                kind: RecordKind::Schedule,
                id: stray.clone(),
                data: "{}".into(),
            }),
        ])
        .unwrap_err();
    assert!(
        matches!(e.kind, StoreErrorKind::InvalidRecord { .. }),
        "{e}"
    );
    assert!(e.to_string().contains("partition 0"), "{e}");
    assert_eq!(read(&a, 3), vec![(later, "2".into())]);
    assert_eq!(a.read_record(RecordKind::Schedule, &stray).unwrap(), None);
}

#[test]
fn the_schema_is_made_once_and_the_partition_count_is_fixed() {
    let url = PgServer::shared().create_database();
    // Concurrent first connects: one creates, the others find it made.
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let url = url.clone();
            std::thread::spawn(move || {
                PostgresCluster::connect(&url, config(&format!("n{i}"), 5_000, 6))
            })
        })
        .collect();
    let clusters: Vec<PostgresCluster> = threads
        .into_iter()
        .map(|t| t.join().unwrap().expect("connect"))
        .collect();
    assert_eq!(clusters[0].partition_owners().unwrap().len(), 6);
    let ids: std::collections::BTreeSet<&str> = clusters.iter().map(|c| c.member_id()).collect();
    assert_eq!(ids.len(), 4, "member ids are unique per process handle");

    let e = PostgresCluster::connect(&url, config("n9", 5_000, 8)).unwrap_err();
    assert!(
        matches!(e.kind, StoreErrorKind::Misconfigured { .. }),
        "{e}"
    );
    assert!(e.to_string().contains("6 partitions"), "{e}");
    assert!(
        clusters[0].acquire(6).is_err(),
        "partition 6 does not exist"
    );

    let e = PostgresCluster::connect(
        "host=/nonexistent port=1 user=x connect_timeout=1",
        config("n", 5_000, 6),
    )
    .unwrap_err();
    assert!(matches!(e.kind, StoreErrorKind::Io { .. }), "{e}");
    let e = PostgresCluster::connect("not a url = = =", config("n", 5_000, 6)).unwrap_err();
    assert!(
        matches!(e.kind, StoreErrorKind::Misconfigured { .. }),
        "{e}"
    );
}

#[test]
fn the_database_clock_reads_the_server_time_on_every_node() {
    let server = PgServer::shared();
    let url = server.create_database();
    let a = connect(&url, "a", 5_000, 2);
    let mut direct = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let clock = a.clock();
    let mut previous = clock.now();
    for _ in 0..20 {
        let before = clock.now();
        let server_now: chrono::DateTime<Utc> = direct
            .query_one("SELECT clock_timestamp()", &[])
            .unwrap()
            .get(0);
        let after = clock.now();
        // The server read its clock between the two local readings (plus the sample's error).
        let slack = chrono::Duration::from_std(clock.uncertainty()).unwrap()
            + chrono::Duration::milliseconds(5);
        assert!(
            server_now >= before - slack && server_now <= after + slack,
            "{before} <= {server_now} <= {after}"
        );
        assert!(before >= previous, "never backwards");
        previous = after;
        std::thread::sleep(Duration::from_millis(5));
    }
}
