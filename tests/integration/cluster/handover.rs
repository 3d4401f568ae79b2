//! Runs in flight at a graceful hand-over (`docs/cluster.md` §7): a partition that moves while
//! its runs are open on the old owner's executor is not started again by the new owner, whose
//! overlap policy counts those runs as running, and whose closes reach it from the old owner;
//! if the old owner dies before they close, the new owner redelivers them (same workflow ids)
//! once its heartbeat has expired.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use schedule_engine::{
    CancelWorkflowAction, Client, ClusterConfig, Completion, PostgresCluster, StartWorkflowAction,
    TerminateWorkflowAction, Worker, WorkflowExecutor, WorkflowOutcome,
};

use super::host::{spawn_child, ChildNode, CHILD_LEASE_MS, CHILD_PARTITIONS, CHILD_URL};
use super::nodes::{Nodes, LEASE_MS, PARTITIONS};
use super::routing::with_action_id;
use super::{config, connect, pg_util::PgServer, wait_within};
use crate::util::facade::every;

/// One run as an executor saw it.
#[derive(Debug, Clone)]
pub(super) struct Run {
    pub(super) workflow_id: String,
    pub(super) schedule_id: String,
    pub(super) node: usize,
    pub(super) started: Instant,
    /// When the executor closed it (recorded before the close is reported).
    pub(super) ended: Option<Instant>,
}

/// Checks that no workflow id started twice and that a schedule's runs never overlap (each
/// starts after the one before ended: SKIP, CANCEL_OTHER); the runs by schedule.
pub(super) fn by_schedule_without_overlap(runs: &[Run]) -> BTreeMap<&str, Vec<&Run>> {
    let mut seen = BTreeMap::new();
    for run in runs {
        if let Some(first) = seen.insert(&run.workflow_id, run.node) {
            panic!(
                "{} started twice: on node {first} and on node {}",
                run.workflow_id, run.node
            );
        }
    }
    let mut by_schedule: BTreeMap<&str, Vec<&Run>> = BTreeMap::new();
    for run in runs {
        by_schedule.entry(&run.schedule_id).or_default().push(run);
    }
    for (id, list) in &by_schedule {
        for pair in list.windows(2) {
            let (earlier, later) = (&pair[0], &pair[1]);
            assert!(
                earlier.ended.is_some_and(|ended| later.started >= ended),
                "{id}: {} started while {} was open",
                later.workflow_id,
                earlier.workflow_id
            );
        }
    }
    by_schedule
}

/// Holds every run for `hold`, then completes it; records each run's start and end.
#[derive(Clone)]
struct LongRuns {
    node: usize,
    hold: Duration,
    runs: Arc<Mutex<Vec<Run>>>,
}

impl WorkflowExecutor for LongRuns {
    fn start_workflow(&mut self, action: StartWorkflowAction, completion: Completion) {
        let index = {
            let mut runs = self.runs.lock();
            runs.push(Run {
                workflow_id: action.workflow_id.clone(),
                schedule_id: action
                    .schedule_id
                    .as_deref()
                    .unwrap_or_default()
                    .to_string(),
                node: self.node,
                started: Instant::now(),
                ended: None,
            });
            runs.len() - 1
        };
        let (runs, hold) = (self.runs.clone(), self.hold);
        std::thread::spawn(move || {
            std::thread::sleep(hold);
            // Recorded before the close is reported: a later start of the same schedule
            // (which needs the close applied, under SKIP) comes after it.
            runs.lock()[index].ended = Some(Instant::now());
            completion.complete(WorkflowOutcome::Completed { result: None });
        });
    }
    fn cancel_workflow(&mut self, _: CancelWorkflowAction) {}
    fn terminate_workflow(&mut self, _: TerminateWorkflowAction) {}
}

#[test]
fn a_node_joining_while_runs_are_open_starts_none_of_them_again() {
    let url = PgServer::shared().create_database();
    let runs: Arc<Mutex<Vec<Run>>> = Arc::default();
    let hold = Duration::from_secs(3);
    let executor = |node| LongRuns {
        node,
        hold,
        runs: runs.clone(),
    };
    let mut nodes = Nodes::start(&url, 2, None, executor);
    // Every second, SKIP (the default): each schedule has a run open most of the time.
    let ids: Vec<String> = (0..12).map(|i| format!("long{i}")).collect();
    for id in &ids {
        let schedule = with_action_id(every(Duration::from_secs(1)), id);
        nodes.clients[0].create_schedule(id, schedule).unwrap();
    }
    wait_within(Duration::from_secs(10), "every schedule started", || {
        let started: BTreeSet<String> = runs.lock().iter().map(|r| r.schedule_id.clone()).collect();
        started.len() == ids.len()
    });

    // A third node joins: balancing hands partitions over while their runs are open.
    let joined = Instant::now();
    let cluster = connect(&url, "node2", LEASE_MS, PARTITIONS);
    let third = Client::builder().cluster(cluster.clone()).build().unwrap();
    let third_worker = Worker::start(&third, executor(2));
    nodes.clients.push(third);
    nodes.clusters.push(cluster);
    nodes.wait_balanced(3);
    let balanced = Instant::now();

    // Runs go on for a few holds (closes of adopted runs arrive, later runs start), then
    // stop; the last ones end.
    std::thread::sleep(hold * 3);
    for id in &ids {
        nodes.clients[1]
            .get_schedule_handle(id)
            .pause(None)
            .unwrap();
    }
    wait_within(hold * 3, "every run closed", || {
        ids.iter().all(|id| {
            let handle = nodes.clients[2].get_schedule_handle(id);
            handle.describe().unwrap().info.running_actions.is_empty()
        })
    });
    third_worker.shutdown();
    nodes.shutdown();

    let runs = runs.lock().clone();
    // SKIP: a schedule's runs never overlap, the adopted ones included.
    let by_schedule = by_schedule_without_overlap(&runs);
    // Not vacuous: some run was open on its old owner across the hand-over, and its schedule
    // started again on the new owner after it closed there (so its close arrived).
    let moved: Vec<&Run> = runs
        .iter()
        .filter(|r| r.node != 2 && r.started < joined)
        .filter(|r| r.ended.is_some_and(|e| e > balanced))
        .filter(|r| {
            by_schedule[r.schedule_id.as_str()]
                .iter()
                .any(|later| later.node == 2 && later.started >= r.ended.unwrap())
        })
        .collect();
    assert!(
        !moved.is_empty(),
        "no run was open across a hand-over (joined after {:?}, balanced after {:?}): {runs:#?}",
        joined.elapsed(),
        balanced.elapsed()
    );
}

/// Child mode `holding`: a node whose executor never closes a run; it reports each start.
pub fn run_holding_node() {
    let env = |name: &str| std::env::var(name).expect("child environment");
    let url = env(CHILD_URL);
    let lease_ms: u64 = env(CHILD_LEASE_MS).parse().expect("lease");
    let partitions: u32 = env(CHILD_PARTITIONS).parse().expect("partitions");
    let cluster = connect(&url, "holding", lease_ms, partitions);
    println!("REPORT member {}", cluster.member_id());
    let client = Client::builder().cluster(cluster).build().expect("client");
    let _worker = Worker::start(&client, NeverCloses::default());
    std::thread::sleep(Duration::from_secs(60));
}

/// Keeps every run open (its completion is never dropped) and reports its start and the
/// cancels it receives.
#[derive(Default)]
struct NeverCloses {
    open: Vec<Completion>,
}

impl WorkflowExecutor for NeverCloses {
    fn start_workflow(&mut self, action: StartWorkflowAction, completion: Completion) {
        println!("REPORT start {}", action.workflow_id);
        let _ = std::io::stdout().flush();
        self.open.push(completion);
    }
    /// Reported, not honoured: the run stays open.
    fn cancel_workflow(&mut self, action: CancelWorkflowAction) {
        println!("REPORT cancel {}", action.workflow_id);
        let _ = std::io::stdout().flush();
    }
    fn terminate_workflow(&mut self, _: TerminateWorkflowAction) {}
}

/// Records each start with its time and keeps the run open.
#[derive(Clone, Default)]
struct Starts {
    seen: Arc<Mutex<Vec<(String, Instant)>>>,
    open: Arc<Mutex<Vec<Completion>>>,
}

impl WorkflowExecutor for Starts {
    fn start_workflow(&mut self, action: StartWorkflowAction, completion: Completion) {
        self.seen.lock().push((action.workflow_id, Instant::now()));
        self.open.lock().push(completion);
    }
    fn cancel_workflow(&mut self, _: CancelWorkflowAction) {}
    fn terminate_workflow(&mut self, _: TerminateWorkflowAction) {}
}

/// A child node in mode `holding` that holds every partition of a new cluster at `url`, and a
/// client of that cluster that hosts nothing.
pub(super) fn holding_child(url: &str, lease_ms: u64, partitions: u32) -> (ChildNode, Client) {
    let child = spawn_child("holding", url, lease_ms, partitions);
    let probe = connect(url, "probe", lease_ms, partitions);
    wait_within(
        Duration::from_secs(15),
        "the child holds every partition",
        || {
            probe
                .partition_owners()
                .is_ok_and(|o| o.iter().all(|p| p.owner.is_some()))
        },
    );
    let remote = Client::builder().cluster(probe).build().unwrap();
    (child, remote)
}

/// A node that joins the cluster at `url` with `executor`, once it holds half the partitions.
pub(super) fn joiner<E: WorkflowExecutor>(
    url: &str,
    lease_ms: u64,
    partitions: u32,
    executor: E,
) -> (PostgresCluster, Client, Worker) {
    let cluster = connect(url, "joiner", lease_ms, partitions);
    let client = Client::builder().cluster(cluster.clone()).build().unwrap();
    let worker = Worker::start(&client, executor);
    wait_within(
        Duration::from_secs(10),
        "half the partitions handed over",
        || cluster.leases().len() == partitions as usize / 2,
    );
    (cluster, client, worker)
}

#[test]
fn runs_handed_over_are_redelivered_once_their_node_is_dead() {
    // Long enough that a loaded machine does not lose the child's leases by accident.
    const LEASE: u64 = 3_000;
    const PARTS: u32 = 4;
    let url = PgServer::shared().create_database();
    let (child, remote) = holding_child(&url, LEASE, PARTS);
    let ids: Vec<String> = (0..8).map(|i| format!("held{i}")).collect();
    for id in &ids {
        let schedule = with_action_id(every(Duration::from_secs(1)), id);
        remote.create_schedule(id, schedule).unwrap();
    }
    // One run each (they never close; SKIP skips every later time).
    let mut started: BTreeSet<String> = BTreeSet::new();
    while started.len() < ids.len() {
        let line = child
            .lines
            .recv_timeout(Duration::from_secs(10))
            .expect("the child starts every schedule");
        if let Some(id) = line.strip_prefix("start ") {
            assert!(started.insert(id.to_string()), "{id} started twice");
        }
    }

    // A node joins: the child hands half of its partitions over, with their open runs.
    let starts = Starts::default();
    let (_cluster, _client, worker) = joiner(&url, LEASE, PARTS, starts.clone());
    // While the child lives, the joiner starts none of them (and SKIP skips the new times).
    std::thread::sleep(Duration::from_millis(3 * LEASE / 2));
    assert_eq!(
        *starts.seen.lock(),
        vec![],
        "started again while the node running them lived"
    );

    child.signal("KILL");
    let killed = Instant::now();
    wait_within(
        Duration::from_millis(2 * LEASE + 5_000),
        "every run redelivered",
        || starts.seen.lock().len() >= ids.len(),
    );
    // Nothing more arrives: each exactly once, under the same workflow ids.
    std::thread::sleep(Duration::from_millis(LEASE / 2));
    let seen = starts.seen.lock().clone();
    let again: Vec<String> = seen.iter().map(|(id, _)| id.clone()).collect();
    let unique: BTreeSet<String> = again.iter().cloned().collect();
    assert_eq!(unique.len(), again.len(), "redelivered twice: {again:?}");
    assert_eq!(unique, started, "redelivered under other ids");
    assert!(seen.iter().all(|(_, at)| *at > killed));
    worker.shutdown();
    drop(child);
}

/// Whose lease a partition is under now: the member id's node part (`None` if free).
fn owner_node(probe: &PostgresCluster, partition: u32) -> Option<String> {
    let owners = probe.partition_owners().ok()?;
    let owner = owners.get(partition as usize)?.owner.as_deref()?;
    owner.split('/').next().map(str::to_string)
}

#[test]
fn a_close_that_finds_no_owner_in_time_is_sent_again_until_one_takes_it() {
    const LEASE: u64 = 6_000;
    const PARTS: u32 = 2;
    let url = PgServer::shared().create_database();
    // A node that gives up on a command after 400 ms (the owner will be paused for 1.5 s,
    // well inside its lease: it keeps the partition).
    let cluster = PostgresCluster::connect(
        &url,
        ClusterConfig {
            command_timeout: Some(Duration::from_millis(400)),
            ..config("first", LEASE, PARTS)
        },
    )
    .unwrap();
    let client = Client::builder().cluster(cluster.clone()).build().unwrap();
    let starts = Starts::default();
    let worker = Worker::start(&client, starts.clone());
    wait_within(Duration::from_secs(10), "every partition held", || {
        cluster.leases().len() == PARTS as usize
    });
    // A schedule in the partition the first node gives back when a second one joins.
    let id = (0..)
        .map(|i| format!("fwd{i}"))
        .find(|id| cluster.partition_of(id) == PARTS - 1)
        .unwrap();
    let schedule = with_action_id(every(Duration::from_secs(1)), &id);
    client.create_schedule(&id, schedule).unwrap();
    wait_within(Duration::from_secs(5), "its first run", || {
        !starts.seen.lock().is_empty()
    });
    let first_run = starts.seen.lock()[0].0.clone();

    // The child joins and adopts the open run with the partition.
    let child = spawn_child("holding", &url, LEASE, PARTS);
    wait_within(Duration::from_secs(10), "the partition handed over", || {
        owner_node(&cluster, PARTS - 1).as_deref() == Some("holding")
    });
    // The owner stops answering; the run closes here meanwhile, its close finds no owner
    // within its command's 400 ms, and is sent again after the owner resumes.
    child.signal("STOP");
    let completion = starts.open.lock().remove(0);
    completion.complete(WorkflowOutcome::Completed { result: None });
    std::thread::sleep(Duration::from_millis(1_500));
    child.signal("CONT");
    // The close arrived: SKIP lets the next time start, on the new owner.
    let deadline = Instant::now() + Duration::from_secs(10);
    let next = loop {
        let line = child
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("a later run starts on the new owner: the close reached it");
        if let Some(started) = line.strip_prefix("start ") {
            break started.to_string();
        }
    };
    assert_ne!(next, first_run, "the adopted run was started again");
    assert_eq!(starts.seen.lock().len(), 1, "the first node started more");
    worker.shutdown();
    drop(child);
}

#[test]
fn records_of_a_database_without_running_marks_still_load() {
    let url = PgServer::shared().create_database();
    let starts = Starts::default();
    let first = connect(&url, "old", LEASE_MS, PARTITIONS);
    let client = Client::builder().cluster(first.clone()).build().unwrap();
    let worker = Worker::start(&client, starts.clone());
    let schedule = with_action_id(every(Duration::from_secs(1)), "kept");
    client.create_schedule("kept", schedule).unwrap();
    wait_within(Duration::from_secs(10), "a run", || {
        !starts.seen.lock().is_empty()
    });
    let open = starts.seen.lock()[0].0.clone();
    worker.shutdown();
    drop(client);
    drop(first);
    // The table as the version before the marks wrote it.
    let mut db = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    db.batch_execute("ALTER TABLE se_records DROP COLUMN running_on")
        .unwrap();

    let again = Starts::default();
    let cluster = connect(&url, "new", LEASE_MS, PARTITIONS);
    let client = Client::builder().cluster(cluster).build().unwrap();
    let worker = Worker::start(&client, again.clone());
    // Its open run is redelivered (no mark: the node that ran it left), and nothing else
    // starts while it runs.
    wait_within(Duration::from_secs(10), "the open run redelivered", || {
        !again.seen.lock().is_empty()
    });
    std::thread::sleep(Duration::from_millis(1_500));
    let seen: Vec<String> = again.seen.lock().iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(seen, vec![open]);
    let described = client.get_schedule_handle("kept").describe().unwrap();
    assert_eq!(described.info.running_actions.len(), 1);
    worker.shutdown();
}
