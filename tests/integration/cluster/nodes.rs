//! Nodes of a cluster in this process: each a `Client` built on a `PostgresCluster` with a
//! `Worker`, all on one database of the shared test server. Also the `setup` the facade's
//! scenarios run on here (`cluster::scenarios`): three hosting nodes sharing a manual clock,
//! and a fourth client that hosts nothing, so that every verb of a scenario is issued on a node
//! other than the one that owns the schedule.

use std::collections::BTreeMap;
use std::time::Duration;

use schedule_engine::{Client, ManualClock, PostgresCluster, Worker, WorkflowExecutor};

use super::{connect, pg_util::PgServer, wait_within};
use crate::util::facade::{at, Recorder};

/// Partitions of the in-process clusters: enough for every node to hold several.
pub const PARTITIONS: u32 = 8;

/// A lease long enough that a loaded test machine never loses one by accident.
pub const LEASE_MS: u64 = 3_000;

/// Hosting nodes: a client and a worker each.
pub struct Nodes {
    pub clients: Vec<Client>,
    pub clusters: Vec<PostgresCluster>,
    workers: Vec<Option<Worker>>,
}

impl Nodes {
    /// Starts `n` nodes on `url` (on `clock` if given, else on the database's clock), each
    /// running `executor(i)`, and waits until every partition is held and they are balanced.
    pub fn start<E: WorkflowExecutor>(
        url: &str,
        n: usize,
        clock: Option<&ManualClock>,
        executor: impl Fn(usize) -> E,
    ) -> Nodes {
        let mut nodes = Nodes {
            clients: Vec::new(),
            clusters: Vec::new(),
            workers: Vec::new(),
        };
        for i in 0..n {
            let cluster = connect(url, &format!("node{i}"), LEASE_MS, PARTITIONS);
            let mut builder = Client::builder().cluster(cluster.clone());
            if let Some(clock) = clock {
                builder = builder.clock(clock.clone());
            }
            let client = builder.build().expect("build a cluster client");
            nodes
                .workers
                .push(Some(Worker::start(&client, executor(i))));
            nodes.clients.push(client);
            nodes.clusters.push(cluster);
        }
        nodes.wait_balanced(n);
        nodes
    }

    /// Waits until every partition is held by one of `live` members, max − min ≤ 1.
    pub fn wait_balanced(&self, live: usize) {
        let probe = &self.clusters[0];
        wait_within(Duration::from_secs(15), "the partitions balanced", || {
            let Ok(owners) = probe.partition_owners() else {
                return false;
            };
            let mut counts: BTreeMap<String, usize> = BTreeMap::new();
            for o in &owners {
                match &o.owner {
                    Some(owner) => *counts.entry(owner.clone()).or_default() += 1,
                    None => return false,
                }
            }
            let (min, max) = (counts.values().min(), counts.values().max());
            counts.len() == live && max.zip(min).is_some_and(|(a, b)| a - b <= 1)
        });
    }

    /// Waits until every live worker has polled at the clock's time and applied what was
    /// reported.
    pub fn settle(&self) {
        for worker in self.workers.iter().flatten() {
            worker.settle();
        }
    }

    /// Shuts down node `i`'s worker: the node writes its partitions and leaves.
    pub fn stop(&mut self, i: usize) {
        if let Some(worker) = self.workers[i].take() {
            worker.shutdown();
        }
    }

    /// Stops node `i`'s worker with `shutdown_async` and drops the future unawaited, as a
    /// timeout wrapped around it would.
    pub fn stop_without_awaiting(&mut self, i: usize) {
        if let Some(worker) = self.workers[i].take() {
            drop(worker.shutdown_async());
        }
    }

    /// Shuts every node down.
    pub fn shutdown(mut self) {
        for i in 0..self.workers.len() {
            self.stop(i);
        }
    }

    /// The node that holds the partition of `id` now, by index.
    pub fn owner_of(&self, id: &str) -> Option<usize> {
        let partition = self.clusters[0].partition_of(id);
        self.clusters
            .iter()
            .position(|c| c.lease(partition).is_some())
    }
}

/// A client of the cluster at `url` that hosts nothing (it never starts a worker).
pub fn remote_client(url: &str, clock: Option<&ManualClock>) -> Client {
    let cluster = connect(url, "remote", LEASE_MS, PARTITIONS);
    let mut builder = Client::builder().cluster(cluster);
    if let Some(clock) = clock {
        builder = builder.clock(clock.clone());
    }
    builder.build().expect("build a remote client")
}

/// The facade scenarios' setup on a cluster (see the module docs).
pub fn setup(recorder: &Recorder) -> (Client, ManualClock, Nodes) {
    let url = PgServer::shared().create_database();
    let clock = ManualClock::new(at(0));
    let nodes = Nodes::start(&url, 3, Some(&clock), |_| recorder.clone());
    (remote_client(&url, Some(&clock)), clock, nodes)
}
