//! The cluster mode's throughput and verb latency, against a throwaway PostgreSQL on this
//! machine (`tests/util/pg.rs`: unix socket, `fsync=off`), nodes as `Client`s with a `Worker`
//! each in this process (they share its cores with the server).
//!
//! * `cluster_client/fires_per_second/<n>_nodes` (n = 1, 2, 3): 10,000 schedules firing every
//!   second (AllowAll overlap, random ids), on `n` nodes over 64 partitions, lease 10 s; the
//!   executor counts each start and completes it at once. A sample is the real time the nodes
//!   take to start 10,000 more runs (a whole firing cycle: the schedules fire together at each
//!   second); fires per second = 10,000 / that time. The demand is 10,000 fires/s, so a figure
//!   below it is the nodes' capacity, and one at it means they keep up. A direct count over 10 s
//!   (after 3 s of warm-up) is printed too.
//! * `cluster_client/capacity/<n>_nodes` (n = 1, 2, 3): the same 10,000 schedules on `n` nodes,
//!   whose engines read one `ManualClock` (the cluster's leases still run on the database's
//!   clock). A sample moves the clock one second on, which makes all 10,000 due at once, and
//!   takes the real time until the nodes have started all 10,000 (each completed at once, so
//!   the closes are part of the work); the next second is moved only then. Fires per second =
//!   10,000 / that time: what the nodes can do, not what the schedules ask. The three node
//!   counts run side by side (each on a database of its own) and first take turns, one cycle
//!   each for 12 rounds, whose median and best are printed: the machine's noise then falls on
//!   all three alike.
//! * `cluster_client/verb_on_owner` (anchor) and `cluster_client/verb_on_non_owner`: a pause, or
//!   an unpause of a schedule it paused, on a random one of the 10,000 schedules, issued on the
//!   node that owns it (applied and committed locally) or on a client that hosts nothing (a
//!   command to the owner), while the 3 nodes fire. p50 and p99 over every call are printed.
//!
//! `cargo bench --bench cluster_client --features postgres`

#![allow(clippy::disallowed_methods)] // a bench times itself and drives real threads

#[path = "../tests/util/pg.rs"]
mod pg_util;

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::Criterion;
use schedule_engine::{
    CancelWorkflowAction, Client, ClusterConfig, Completion, ManualClock, PostgresCluster,
    Schedule, ScheduleActionStartWorkflow, ScheduleIntervalSpec, ScheduleOverlapPolicy,
    SchedulePolicy, ScheduleSpec, StartWorkflowAction, TerminateWorkflowAction, Worker,
    WorkflowExecutor, WorkflowOutcome,
};

const SCHEDULES: usize = 10_000;
/// About one second of the schedules' demand: a sample spans a whole firing cycle.
const PER_SAMPLE: u64 = 10_000;

/// Counts starts and completes each at once.
struct Counting(Arc<AtomicU64>);

impl WorkflowExecutor for Counting {
    fn start_workflow(&mut self, _: StartWorkflowAction, completion: Completion) {
        self.0.fetch_add(1, Ordering::Relaxed);
        completion.complete(WorkflowOutcome::Completed { result: None });
    }
    fn cancel_workflow(&mut self, _: CancelWorkflowAction) {}
    fn terminate_workflow(&mut self, _: TerminateWorkflowAction) {}
}

/// xorshift64: random ids and picks, the same in every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn connect(url: &str, node: &str) -> PostgresCluster {
    let config = ClusterConfig {
        node_id: node.into(),
        ..Default::default()
    };
    PostgresCluster::connect(url, config).expect("connect")
}

fn every_second(id: &str) -> Schedule {
    Schedule {
        action: ScheduleActionStartWorkflow::workflow("w")
            .id(id)
            .task_queue("q")
            .into(),
        spec: ScheduleSpec {
            intervals: vec![ScheduleIntervalSpec::new(Duration::from_secs(1))],
            ..Default::default()
        },
        policy: SchedulePolicy {
            overlap: ScheduleOverlapPolicy::AllowAll,
            ..Default::default()
        },
        ..Default::default()
    }
}

/// `n` nodes on a fresh database, every partition held, 10,000 schedules created on their
/// owners; the start counter.
struct Nodes {
    clusters: Vec<PostgresCluster>,
    clients: Vec<Client>,
    workers: Vec<Worker>,
    fired: Arc<AtomicU64>,
    ids: Vec<String>,
}

impl Nodes {
    /// The engines read the database's clock, or `clock` if given.
    fn start(url: &str, n: usize, clock: Option<&ManualClock>) -> Nodes {
        let fired = Arc::new(AtomicU64::new(0));
        let (mut clusters, mut clients, mut workers) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..n {
            let cluster = connect(url, &format!("node{i}"));
            let mut builder = Client::builder().cluster(cluster.clone());
            if let Some(clock) = clock {
                builder = builder.clock(clock.clone());
            }
            let client = builder.build().unwrap();
            workers.push(Worker::start(&client, Counting(fired.clone())));
            clusters.push(cluster);
            clients.push(client);
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let owners = clusters[0].partition_owners().unwrap();
            let members: BTreeSet<_> = owners.iter().filter_map(|o| o.owner.clone()).collect();
            let counts: Vec<usize> = members
                .iter()
                .map(|m| {
                    owners
                        .iter()
                        .filter(|o| o.owner.as_ref() == Some(m))
                        .count()
                })
                .collect();
            let spread = counts.iter().max().unwrap_or(&0) - counts.iter().min().unwrap_or(&0);
            if owners.iter().all(|o| o.owner.is_some()) && members.len() == n && spread <= 1 {
                break;
            }
            assert!(Instant::now() < deadline, "the partitions never balanced");
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(500));
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        let ids: Vec<String> = (0..SCHEDULES)
            .map(|i| format!("s-{:016x}-{i}", rng.next()))
            .collect();
        for id in &ids {
            let partition = clusters[0].partition_of(id);
            let owner = clusters
                .iter()
                .position(|c| c.lease(partition).is_some())
                .unwrap_or(0);
            clients[owner]
                .create_schedule(id, every_second(id))
                .unwrap();
        }
        Nodes {
            clusters,
            clients,
            workers,
            fired,
            ids,
        }
    }

    fn shutdown(self) {
        for worker in self.workers {
            worker.shutdown();
        }
        drop(self.clients);
        drop(self.clusters);
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn fires(c: &mut Criterion, server: &pg_util::PgServer) {
    for n in [1, 2, 3] {
        let url = server.create_database();
        let nodes = Nodes::start(&url, n, None);
        std::thread::sleep(Duration::from_secs(3));
        let before = nodes.fired.load(Ordering::Relaxed);
        let window = Instant::now();
        std::thread::sleep(Duration::from_secs(10));
        let counted = nodes.fired.load(Ordering::Relaxed) - before;
        println!(
            "cluster_client/fires_per_second/{n}_nodes: {:.0} fires/s counted over {:?}",
            counted as f64 / window.elapsed().as_secs_f64(),
            window.elapsed()
        );
        let mut group = cycles_group(c);
        group.bench_function(format!("fires_per_second/{n}_nodes"), |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                let target = nodes.fired.load(Ordering::Relaxed) + iters * PER_SAMPLE;
                while nodes.fired.load(Ordering::Relaxed) < target {
                    std::thread::sleep(Duration::from_millis(1));
                }
                start.elapsed()
            })
        });
        group.finish();
        if n == 3 {
            verbs(c, &url, &nodes);
        }
        nodes.shutdown();
    }
}

/// Criterion's group for samples that each take whole firing cycles (about a second): few,
/// flat, no warm-up to speak of.
fn cycles_group(
    c: &mut Criterion,
) -> criterion::BenchmarkGroup<'_, criterion::measurement::WallTime> {
    let mut group = c.benchmark_group("cluster_client");
    group
        .sample_size(10)
        .sampling_mode(criterion::SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(1));
    group
}

/// `n` nodes whose engines read `clock`, the schedules' backlog moved on by it.
struct Backlog {
    n: usize,
    clock: ManualClock,
    nodes: Nodes,
}

impl Backlog {
    fn start(server: &pg_util::PgServer, n: usize) -> Backlog {
        let url = server.create_database();
        // A whole second: the schedules' times fall on the clock's seconds.
        let clock = ManualClock::new(chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap());
        let nodes = Nodes::start(&url, n, Some(&clock));
        Backlog { n, clock, nodes }
    }

    /// One cycle: 10,000 more due at once; the real time until all have started.
    fn cycle(&self) -> Duration {
        let start = Instant::now();
        let target = self.nodes.fired.load(Ordering::Relaxed) + PER_SAMPLE;
        self.clock.advance(Duration::from_secs(1));
        while self.nodes.fired.load(Ordering::Relaxed) < target {
            std::thread::sleep(Duration::from_micros(200));
        }
        start.elapsed()
    }
}

/// Rounds of one cycle on each node count in turn (so that the machine's noise falls on all
/// three alike), then criterion's samples for each.
fn capacity(c: &mut Criterion, server: &pg_util::PgServer) {
    let backlogs: Vec<Backlog> = [1, 2, 3].map(|n| Backlog::start(server, n)).into();
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); backlogs.len()];
    for _round in 0..12 {
        for (b, t) in backlogs.iter().zip(&mut times) {
            t.push(b.cycle());
        }
    }
    for (b, t) in backlogs.iter().zip(&mut times) {
        t.sort();
        let rate = |d: Duration| PER_SAMPLE as f64 / d.as_secs_f64();
        println!(
            "cluster_client/capacity/{}_nodes interleaved over {} cycles: median {:?} = {:.0} \
             fires/s, best {:?} = {:.0} fires/s",
            b.n,
            t.len(),
            percentile(t, 0.5),
            rate(percentile(t, 0.5)),
            t[0],
            rate(t[0]),
        );
    }
    let mut group = cycles_group(c);
    for b in &backlogs {
        group.bench_function(format!("capacity/{}_nodes", b.n), |bench| {
            bench.iter_custom(|iters| (0..iters).map(|_| b.cycle()).sum())
        });
    }
    group.finish();
    for b in backlogs {
        b.nodes.shutdown();
    }
}

fn verbs(c: &mut Criterion, url: &str, nodes: &Nodes) {
    let remote = Client::builder()
        .cluster(connect(url, "remote"))
        .build()
        .unwrap();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut group = c.benchmark_group("cluster_client");
    group.sample_size(20);
    for (name, on_owner) in [("verb_on_owner", true), ("verb_on_non_owner", false)] {
        let samples = RefCell::new(Vec::new());
        let mut paused = BTreeSet::new();
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let id = &nodes.ids[(rng.next() % SCHEDULES as u64) as usize];
                    let client = if on_owner {
                        let partition = nodes.clusters[0].partition_of(id);
                        let owner = nodes
                            .clusters
                            .iter()
                            .position(|c| c.lease(partition).is_some())
                            .unwrap_or(0);
                        &nodes.clients[owner]
                    } else {
                        &remote
                    };
                    let handle = client.get_schedule_handle(id);
                    let start = Instant::now();
                    if paused.remove(id) {
                        handle.unpause(None).expect("unpause");
                    } else {
                        handle.pause(None).expect("pause");
                        paused.insert(id.clone());
                    }
                    let took = start.elapsed();
                    samples.borrow_mut().push(took);
                    total += took;
                }
                total
            })
        });
        let mut samples = samples.into_inner();
        samples.sort();
        if let Some(max) = samples.last() {
            println!(
                "cluster_client/{name} over {} calls: p50 {:?}, p99 {:?}, max {max:?}",
                samples.len(),
                percentile(&samples, 0.50),
                percentile(&samples, 0.99),
            );
        }
    }
    group.finish();
}

fn main() {
    let server = pg_util::PgServer::start();
    let mut c = Criterion::default().configure_from_args();
    capacity(&mut c, &server);
    fires(&mut c, &server);
    c.final_summary();
}
