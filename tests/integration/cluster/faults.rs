//! Faults: a holder paused (SIGSTOP) past its lease, and PostgreSQL restarting under a holder.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use schedule_engine::cluster::{ClusterEvent, Lease};
use schedule_engine::store::{RecordKind, Store, StoreChange, StoreErrorKind, StoredRecord};
use schedule_engine::{PostgresCluster, StoreError};

use super::host::spawn_child;
use super::pg_util::PgServer;
use super::{connect, wait_within};

const PARTITIONS: u32 = 4;

fn counters(cluster: &PostgresCluster) -> Vec<(String, String)> {
    cluster
        .read_records(RecordKind::PendingAction)
        .expect("read")
        .into_iter()
        .map(|r| (r.id, r.data))
        .collect()
}

#[test]
fn a_holder_paused_past_its_lease_neither_writes_nor_dispatches_after_it_resumes() {
    let url = PgServer::shared().create_database();
    let lease_ms = 1_000;
    let observer = connect(&url, "observer", lease_ms, PARTITIONS);
    let holder = spawn_child("holder", &url, lease_ms, PARTITIONS);
    wait_within(
        Duration::from_secs(10),
        "the holder writes every partition",
        || counters(&observer).len() == PARTITIONS as usize,
    );
    holder.signal("STOP");
    let stopped_at = std::time::Instant::now();

    // Another node takes the partitions once the paused holder's leases expire, and writes
    // its own value.
    let taker = connect(&url, "taker", lease_ms, PARTITIONS);
    let events = taker.join().unwrap();
    let mut taken = Vec::new();
    wait_within(
        Duration::from_secs(3),
        "the taker holds every partition",
        || {
            for event in events.try_iter() {
                if let ClusterEvent::Acquired(lease) = event {
                    let mut store = taker.partition_store(lease);
                    store.load().expect("load");
                    store
                        .persist(&[StoreChange::Put(StoredRecord {
                            kind: RecordKind::PendingAction,
                            id: format!("counter-{}", lease.partition),
                            data: "taker".into(),
                        })])
                        .expect("the new owner writes");
                    taken.push(lease);
                }
            }
            taken.len() == PARTITIONS as usize
        },
    );
    // Paused for three lease periods in all.
    let resume_at = stopped_at + Duration::from_millis(3 * lease_ms);
    std::thread::sleep(resume_at.saturating_duration_since(std::time::Instant::now()));
    holder.signal("CONT");
    let lines = holder.finish(Duration::from_secs(10));

    let resumed = lines
        .iter()
        .position(|l| l.starts_with("resumed"))
        .unwrap_or_else(|| panic!("the holder noticed its pause: {lines:?}"));
    let before = &lines[..resumed];
    let after = &lines[resumed + 1..];
    assert!(before.iter().any(|l| l.starts_with("wrote")), "{before:?}");
    assert!(
        after
            .iter()
            .all(|l| !l.starts_with("dispatch") && !l.starts_with("wrote")),
        "after resuming, the holder dispatched or wrote: {after:?}"
    );
    assert!(
        after.iter().filter(|l| l.starts_with("fenced")).count() >= PARTITIONS as usize,
        "its write attempts were refused: {after:?}"
    );
    for (id, data) in counters(&observer) {
        assert_eq!(
            data, "taker",
            "{id} was written by the paused holder after the takeover"
        );
    }
    assert!(taken.iter().all(|l| l.fence == 2), "{taken:?}");
}

/// A joined node with a hook counting its background errors, holding all its partitions.
struct Holder {
    node: PostgresCluster,
    events: crossbeam_channel::Receiver<ClusterEvent>,
    errors: Arc<AtomicUsize>,
    leases: Vec<Lease>,
}

impl Holder {
    fn start(url: &str, name: &str, lease_ms: u64) -> Holder {
        let node = connect(url, name, lease_ms, 2);
        let errors = Arc::new(AtomicUsize::new(0));
        {
            let errors = errors.clone();
            node.on_error(move |_| {
                errors.fetch_add(1, Ordering::SeqCst);
            });
        }
        let events = node.join().unwrap();
        wait_within(
            Duration::from_secs(5),
            "the node holds both partitions",
            || node.leases().len() == 2,
        );
        let leases = node.leases();
        let holder = Holder {
            node,
            events,
            errors,
            leases,
        };
        for lease in &holder.leases {
            holder.write(*lease, "before").unwrap();
        }
        holder
    }

    fn write(&self, lease: Lease, value: &str) -> Result<(), StoreError> {
        self.node
            .partition_store(lease)
            .persist(&[StoreChange::Put(StoredRecord {
                kind: RecordKind::PendingAction,
                id: format!("counter-{}", lease.partition),
                data: value.into(),
            })])
    }

    fn lost(&self) -> usize {
        self.events
            .try_iter()
            .filter(|e| matches!(e, ClusterEvent::Lost(_)))
            .count()
    }
}

#[test]
fn holders_survive_a_database_restart_and_lose_nothing() {
    let server = PgServer::start();
    // One node whose lease outlasts the outage, one whose lease does not.
    let long = Holder::start(&server.create_database(), "long", 6_000);
    let short = Holder::start(&server.create_database(), "short", 1_000);

    server.stop();
    let e = long.write(long.leases[0], "during").unwrap_err();
    assert!(matches!(e.kind, StoreErrorKind::Io { .. }), "{e}");
    wait_within(
        Duration::from_secs(5),
        "the short leases are lost locally",
        || short.node.leases().is_empty(),
    );
    std::thread::sleep(Duration::from_millis(500));
    server.start_again();

    // The long lease survived: same leases, same fences, writes go through again.
    wait_within(Duration::from_secs(5), "a write after the restart", || {
        long.write(long.leases[0], "after").is_ok()
    });
    assert!(
        long.errors.load(Ordering::SeqCst) >= 1,
        "the hook heard of the outage"
    );
    assert_eq!(long.node.leases(), long.leases, "same leases, same fences");
    assert_eq!(long.lost(), 0);
    let mut values = counters(&long.node);
    values.sort();
    assert_eq!(
        values,
        vec![
            ("counter-0".into(), "after".into()),
            ("counter-1".into(), "before".into())
        ]
    );

    // The short ones were lost, then taken again with new fences; the records are intact.
    wait_within(
        Duration::from_secs(5),
        "the partitions are held again",
        || short.node.leases().len() == 2,
    );
    assert!(short.errors.load(Ordering::SeqCst) >= 1);
    assert_eq!(short.lost(), 2);
    for lease in short.node.leases() {
        let old = short
            .leases
            .iter()
            .find(|l| l.partition == lease.partition)
            .unwrap();
        assert!(lease.fence > old.fence, "{lease:?} after {old:?}");
        let e = short.write(*old, "stale").unwrap_err();
        assert!(matches!(e.kind, StoreErrorKind::Fenced { .. }), "{e}");
        let records = short.node.partition_store(lease).load().unwrap();
        assert_eq!(records.len(), 1, "{records:?}");
        assert_eq!(records[0].data, "before");
    }
}
