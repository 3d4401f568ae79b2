//! A minimal host for the tests: it plays the part the client and worker will play in cluster
//! mode. Its "engine" per partition is a map of counters (key → value), stored as one record per
//! key; a command `add:<key>:<n>` adds `n` and answers the new value.
//!
//! Shared by the cluster tests and the cluster bench (which includes this file by path).
//!
//! Also the child processes: [`spawn_child`] runs this test binary again as a node, in one of
//! two modes: `node` (a host that serves until killed) or `holder` (a node that keeps writing a
//! counter per held partition and reports, line by line, what it dispatched, wrote, and was
//! refused).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use schedule_engine::cluster::{ClusterEvent, Command as Queued, Lease, PartitionStore};
use schedule_engine::store::{RecordKind, Store, StoreChange, StoreErrorKind, StoredRecord};
use schedule_engine::{ClusterConfig, PostgresCluster};

pub const CHILD_MODE: &str = "SE_CLUSTER_CHILD";
pub const CHILD_URL: &str = "SE_CLUSTER_URL";
pub const CHILD_LEASE_MS: &str = "SE_CLUSTER_LEASE_MS";
pub const CHILD_PARTITIONS: &str = "SE_CLUSTER_PARTITIONS";

/// A configuration for tests: short leases, few partitions.
pub fn config(node: &str, lease_ms: u64, partitions: u32) -> ClusterConfig {
    ClusterConfig {
        node_id: node.into(),
        partitions,
        lease: Duration::from_millis(lease_ms),
        ..Default::default()
    }
}

pub fn connect(url: &str, node: &str, lease_ms: u64, partitions: u32) -> PostgresCluster {
    PostgresCluster::connect(url, config(node, lease_ms, partitions))
        .unwrap_or_else(|e| panic!("connect {node}: {e}"))
}

/// Polls `done` every 20 ms until it holds; panics naming `what` after `timeout`. Returns how
/// long it took.
pub fn wait_within(timeout: Duration, what: &str, mut done: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    loop {
        if done() {
            return start.elapsed();
        }
        if start.elapsed() > timeout {
            panic!("{what}: not within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One partition served by a host: its store and its counters.
struct Served {
    store: PartitionStore,
    counters: BTreeMap<String, i64>,
}

/// A host thread serving a joined node.
pub struct Host {
    pub cluster: PostgresCluster,
    /// Commands applied (each counted once, when its batch committed).
    pub applied: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Host {
    /// Joins `cluster` and serves it; `apply_delay` is slept inside each command batch's
    /// transaction (to hold the commands' row locks a while).
    pub fn start(cluster: PostgresCluster, apply_delay: Duration) -> Host {
        let events = cluster.join().expect("join");
        let applied = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (cluster, applied, stop) = (cluster.clone(), applied.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut served: BTreeMap<u32, Served> = BTreeMap::new();
                while !stop.load(Ordering::SeqCst) {
                    let Ok(event) = events.recv_timeout(Duration::from_millis(50)) else {
                        continue;
                    };
                    handle(&cluster, &mut served, event, apply_delay, &applied);
                }
            })
        };
        Host {
            cluster,
            applied,
            stop,
            thread: Some(thread),
        }
    }

    /// Stops serving and leaves the cluster gracefully (releases every partition).
    pub fn shutdown(mut self) {
        self.stop_thread();
        self.cluster.leave();
    }

    fn stop_thread(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            thread.join().expect("host thread");
        }
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        self.stop_thread();
    }
}

fn handle(
    cluster: &PostgresCluster,
    served: &mut BTreeMap<u32, Served>,
    event: ClusterEvent,
    apply_delay: Duration,
    applied: &AtomicUsize,
) {
    match event {
        ClusterEvent::Acquired(lease) => {
            let mut store = cluster.partition_store(lease);
            let Ok(records) = store.load() else { return };
            served.insert(
                lease.partition,
                Served {
                    store,
                    counters: counters(&records),
                },
            );
            apply(served, lease, apply_delay, applied);
        }
        ClusterEvent::Lost(lease) => {
            served.remove(&lease.partition);
        }
        ClusterEvent::ReleaseRequested(lease) => {
            // Every change is written as it is made, so there is nothing to flush.
            served.remove(&lease.partition);
            let _ = cluster.release(lease);
        }
        ClusterEvent::CommandsPending(lease) => apply(served, lease, apply_delay, applied),
        _ => {}
    }
}

fn counters(records: &[StoredRecord]) -> BTreeMap<String, i64> {
    records
        .iter()
        .filter(|r| r.kind == RecordKind::PendingAction)
        .filter_map(|r| Some((r.id.clone(), r.data.parse().ok()?)))
        .collect()
}

fn apply(served: &mut BTreeMap<u32, Served>, lease: Lease, delay: Duration, applied: &AtomicUsize) {
    let Some(part) = served.get_mut(&lease.partition) else {
        return;
    };
    if part.store.lease() != lease {
        return;
    }
    loop {
        let mut next = part.counters.clone();
        let result = part.store.apply_commands(|commands: &[Queued]| {
            let mut changes = Vec::new();
            let mut results = Vec::new();
            for command in commands {
                let (key, n) = parse_add(&command.payload);
                let value = next.entry(key.clone()).or_insert(0);
                *value += n;
                results.push(value.to_string());
                changes.push(StoreChange::Put(StoredRecord {
                    kind: RecordKind::PendingAction,
                    id: key,
                    data: value.to_string(),
                }));
            }
            std::thread::sleep(delay);
            (changes, results)
        });
        match result {
            Ok(n) => {
                part.counters = next;
                applied.fetch_add(n, Ordering::SeqCst);
                if n < 1_000 {
                    return;
                }
            }
            Err(e) if matches!(e.kind, StoreErrorKind::Fenced { .. }) => {
                served.remove(&lease.partition);
                return;
            }
            Err(_) => {
                // Effects may or may not be durable: the database is the truth.
                if let Ok(records) = part.store.load() {
                    part.counters = counters(&records);
                }
                return;
            }
        }
    }
}

fn parse_add(payload: &str) -> (String, i64) {
    let mut parts = payload.splitn(3, ':');
    let (_, key, n) = (parts.next(), parts.next(), parts.next());
    (
        key.unwrap_or_default().to_string(),
        n.and_then(|n| n.parse().ok()).unwrap_or(0),
    )
}

/// A child node process and its report lines.
pub struct ChildNode {
    pub child: Child,
    pub lines: std::sync::mpsc::Receiver<String>,
}

impl ChildNode {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` (a `kill` name: STOP, CONT, KILL) to the child.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} {}", self.pid());
    }

    /// Waits for the child to exit and returns every report line it printed.
    pub fn finish(mut self, timeout: Duration) -> Vec<String> {
        let start = Instant::now();
        while self.child.try_wait().expect("wait").is_none() {
            if start.elapsed() > timeout {
                let _ = self.child.kill();
                panic!("the child node did not exit within {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.lines.try_iter().collect()
    }
}

impl Drop for ChildNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts this binary again as a child node in `mode`.
pub fn spawn_child(mode: &str, url: &str, lease_ms: u64, partitions: u32) -> ChildNode {
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--ignored",
            "--exact",
            "cluster::child_process",
            "--nocapture",
        ])
        .env(CHILD_MODE, mode)
        .env(CHILD_URL, url)
        .env(CHILD_LEASE_MS, lease_ms.to_string())
        .env(CHILD_PARTITIONS, partitions.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn a child node");
    let stdout: ChildStdout = child.stdout.take().expect("child stdout");
    let (tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(report) = line.strip_prefix("REPORT ") {
                let _ = tx.send(report.to_string());
            }
        }
    });
    ChildNode { child, lines }
}

/// The child's side: runs the node in `mode` (see the module docs).
pub fn run_child(mode: &str) {
    let env = |name: &str| std::env::var(name).expect("child environment");
    let url = env(CHILD_URL);
    let lease_ms: u64 = env(CHILD_LEASE_MS).parse().expect("lease");
    let partitions: u32 = env(CHILD_PARTITIONS).parse().expect("partitions");
    let cluster = connect(&url, &format!("child-{mode}"), lease_ms, partitions);
    println!("REPORT member {}", cluster.member_id());
    match mode {
        "node" => {
            let _host = Host::start(cluster, Duration::ZERO);
            std::thread::sleep(Duration::from_secs(60));
        }
        "holder" => hold_and_write(&cluster, Duration::from_millis(lease_ms)),
        other => panic!("unknown child mode {other}"),
    }
}

/// Keeps every partition it is given and writes `counter-<partition>` = `child:<n>` every 50 ms
/// through its partition store, even after losing the lease (a zombie's write attempts).
/// Reports `dispatch <p>` when the local lease says it may act, then `wrote <p>` or
/// `fenced <p>`, and `resumed` when a loop iteration took longer than the lease (it was paused).
/// Exits 1.5 s after resuming.
fn hold_and_write(cluster: &PostgresCluster, lease: Duration) {
    let events = cluster.join().expect("join");
    let mut stores: BTreeMap<u32, PartitionStore> = BTreeMap::new();
    let mut n = 0u64;
    let mut last = Instant::now();
    let mut resumed_at: Option<Instant> = None;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        let gap = last.elapsed();
        last = Instant::now();
        if gap > lease && resumed_at.is_none() {
            println!("REPORT resumed after {gap:?}");
            resumed_at = Some(Instant::now());
        }
        if resumed_at.is_some_and(|t| t.elapsed() > Duration::from_millis(1500)) {
            break;
        }
        for event in events.try_iter() {
            match event {
                ClusterEvent::Acquired(lease) => {
                    stores.insert(lease.partition, cluster.partition_store(lease));
                }
                ClusterEvent::Lost(lease) => println!("REPORT lost {}", lease.partition),
                _ => {}
            }
        }
        for (partition, store) in &mut stores {
            if cluster.lease(*partition).is_some() {
                println!("REPORT dispatch {partition}");
            }
            n += 1;
            let change = StoreChange::Put(StoredRecord {
                kind: RecordKind::PendingAction,
                id: format!("counter-{partition}"),
                data: format!("child:{n}"),
            });
            match store.persist(&[change]) {
                Ok(()) => println!("REPORT wrote {partition}"),
                Err(e) if matches!(e.kind, StoreErrorKind::Fenced { .. }) => {
                    println!("REPORT fenced {partition}")
                }
                Err(e) => println!("REPORT error {partition} {e}"),
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
