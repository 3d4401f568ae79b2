//! The cluster's first figures, against a throwaway PostgreSQL on this machine (`tests/util/pg.rs`:
//! unix socket, `fsync=off`), with the test host of `tests/integration/cluster/host.rs` as the owner
//! (one record written per command, in the command's fenced transaction).
//!
//! * `cluster/fenced_persist` (anchor): the owner writes one record of a random key through its
//!   `PartitionStore` (lease check, upsert, commit).
//! * `cluster/command_round_trip`: a node that holds no partition submits a command for a random
//!   key; the owner applies it and answers. p50 and p99 over every round trip are printed.
//! * `cluster/takeover_after_kill`: a node process holding half of 4 partitions is SIGKILLed; the
//!   time until the surviving node holds all 4. Lease 2 s, renew interval 0.67 s: the design
//!   bound is lease + renew interval.
//! * `cluster/handover_on_leave`: the same, with a graceful `leave()` instead of a kill (from the
//!   call until the other node holds all 4).
//!
//! `cargo bench --bench cluster --features postgres`

#![allow(clippy::disallowed_methods)] // a bench times itself and drives real threads

#[path = "../tests/integration/cluster/host.rs"]
mod host;
#[path = "../tests/util/pg.rs"]
mod pg_util;

use std::cell::RefCell;
use std::time::{Duration, Instant};

use criterion::Criterion;
use schedule_engine::store::{RecordKind, Store, StoreChange, StoredRecord};

use host::{connect, spawn_child, wait_within, Host};

const PARTITIONS: u32 = 4;
const KEYS: u64 = 1_000;
const TAKEOVER_LEASE_MS: u64 = 2_000;

/// xorshift64: the random key sequence, the same in every run.
struct Keys(u64);

impl Keys {
    fn next(&mut self) -> String {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        format!("key-{}", self.0 % KEYS)
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn commands(c: &mut Criterion, server: &pg_util::PgServer) {
    let url = server.create_database();
    let owner = Host::start(connect(&url, "owner", 10_000, PARTITIONS), Duration::ZERO);
    let caller = connect(&url, "caller", 10_000, PARTITIONS);
    wait_within(
        Duration::from_secs(10),
        "the owner holds every partition",
        || owner.cluster.leases().len() == PARTITIONS as usize,
    );
    let mut group = c.benchmark_group("cluster");

    let mut stores: Vec<_> = owner
        .cluster
        .leases()
        .into_iter()
        .map(|l| owner.cluster.partition_store(l))
        .collect();
    let mut keys = Keys(0x9E37_79B9_7F4A_7C15);
    group.bench_function("fenced_persist", |b| {
        b.iter(|| {
            let key = keys.next();
            let partition = owner.cluster.partition_of(&key) as usize;
            let change = StoreChange::Put(StoredRecord {
                kind: RecordKind::PendingAction,
                id: key,
                data: "1".into(),
            });
            stores[partition].persist(&[change]).expect("persist");
        })
    });

    let samples = RefCell::new(Vec::new());
    group.bench_function("command_round_trip", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let key = keys.next();
                let partition = caller.partition_of(&key);
                let start = Instant::now();
                caller
                    .submit(partition, &format!("add:{key}:1"))
                    .expect("command");
                let took = start.elapsed();
                samples.borrow_mut().push(took);
                total += took;
            }
            total
        })
    });
    group.finish();
    let mut samples = samples.into_inner();
    samples.sort();
    if samples.is_empty() {
        return owner.shutdown();
    }
    println!(
        "cluster/command_round_trip over {} round trips: p50 {:?}, p99 {:?}, max {:?}",
        samples.len(),
        percentile(&samples, 0.50),
        percentile(&samples, 0.99),
        samples.last().copied().unwrap_or_default()
    );
    owner.shutdown();
}

/// A child node and an in-process node sharing the partitions; returns the in-process one.
fn two_nodes(url: &str) -> (host::ChildNode, Host) {
    let child = spawn_child("node", url, TAKEOVER_LEASE_MS, PARTITIONS);
    let observer = connect(url, "observer", TAKEOVER_LEASE_MS, PARTITIONS);
    wait_within(
        Duration::from_secs(10),
        "the child holds every partition",
        || {
            observer
                .partition_owners()
                .is_ok_and(|o| o.iter().all(|o| o.owner.is_some()))
        },
    );
    let node = Host::start(
        connect(url, "survivor", TAKEOVER_LEASE_MS, PARTITIONS),
        Duration::ZERO,
    );
    wait_within(Duration::from_secs(10), "the partitions are shared", || {
        node.cluster.leases().len() == PARTITIONS as usize / 2
    });
    (child, node)
}

fn takeovers(c: &mut Criterion, server: &pg_util::PgServer) {
    let url = server.create_database();
    let mut group = c.benchmark_group("cluster");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(1));
    group.bench_function("takeover_after_kill", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (child, node) = two_nodes(&url);
                child.signal("KILL");
                total += wait_within(Duration::from_secs(30), "takeover", || {
                    node.cluster.leases().len() == PARTITIONS as usize
                });
                node.shutdown();
            }
            total
        })
    });
    group.bench_function("handover_on_leave", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let leaving = Host::start(
                    connect(&url, "leaving", TAKEOVER_LEASE_MS, PARTITIONS),
                    Duration::ZERO,
                );
                wait_within(Duration::from_secs(10), "the first node holds all", || {
                    leaving.cluster.leases().len() == PARTITIONS as usize
                });
                let node = Host::start(
                    connect(&url, "survivor", TAKEOVER_LEASE_MS, PARTITIONS),
                    Duration::ZERO,
                );
                wait_within(Duration::from_secs(10), "the partitions are shared", || {
                    node.cluster.leases().len() == PARTITIONS as usize / 2
                });
                let start = Instant::now();
                leaving.cluster.leave();
                wait_within(Duration::from_secs(30), "handover", || {
                    node.cluster.leases().len() == PARTITIONS as usize
                });
                total += start.elapsed();
                leaving.shutdown();
                node.shutdown();
            }
            total
        })
    });
    group.finish();
}

fn main() {
    // A child node started by the takeover bench (this binary run again).
    if let Ok(mode) = std::env::var(host::CHILD_MODE) {
        host::run_child(&mode);
        return;
    }
    let server = pg_util::PgServer::start();
    let mut c = Criterion::default().configure_from_args();
    commands(&mut c, &server);
    takeovers(&mut c, &server);
    c.final_summary();
}
