//! Issue 13's multi-process fault test: 3 node processes (this binary again, a `Client` in
//! cluster mode with a `Worker` each) run 40 schedules firing every 1 or 2 s for about a
//! minute, through a SIGKILL and restart of a node (twice), a SIGSTOP of one for 3× the lease,
//! and a PostgreSQL restart. Every node's executor records each start `(workflow id, node,
//! fence, partition, at)` in a table without a unique key, with whether the database still
//! gave that node that lease when the row was written (unless the row had to wait: the database
//! was away, or the node was paused after the start).
//!
//! What must hold: no nominal time lost (every time due in the window started); no start by a
//! node after it lost the partition; duplicates only within the documented bound (a
//! redelivery, by a later owner, of a start whose run had not been recorded closed); takeover
//! lateness within lease + renew interval + a few seconds; every schedule intact afterwards.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use schedule_engine::{
    Client, Completion, PostgresCluster, Schedule, ScheduleAction, ScheduleOverlapPolicy,
    StartWorkflowAction, Worker, WorkflowExecutor, WorkflowOutcome,
};

use super::host::{spawn_child, ChildNode, CHILD_LEASE_MS, CHILD_PARTITIONS, CHILD_URL};
use super::pg_util::PgServer;
use super::{connect, wait_within};
use crate::util::facade::every;

const LEASE_MS: u64 = 3_000;
/// The renew interval the nodes derive from the lease (a third).
const RENEW_MS: u64 = LEASE_MS / 3;
const PARTITIONS: u32 = 12;
const SCHEDULES: usize = 40;

const FIRES: &str = "CREATE TABLE fires (workflow_id text NOT NULL, node text NOT NULL, \
     fence bigint NOT NULL, partition int NOT NULL, valid boolean NOT NULL, \
     retried boolean NOT NULL, at timestamptz NOT NULL)";

/// Records every start in `fires` (retrying while the database is away), then completes it.
struct FireLog {
    url: String,
    db: Option<postgres::Client>,
    cluster: PostgresCluster,
}

impl FireLog {
    fn record(&mut self, workflow_id: &str, schedule_id: &str) {
        let partition = self.cluster.partition_of(schedule_id);
        let fence = self
            .cluster
            .lease(partition)
            .map_or(-1, |l| i64::try_from(l.fence).unwrap_or(-1));
        // When the start left, on the cluster's time line.
        let at = self.cluster.clock().now();
        let member = self.cluster.member_id().to_owned();
        let part = partition as i32;
        let started = Instant::now();
        let mut retried = false;
        let mut delayed = false;
        while started.elapsed() < Duration::from_secs(30) {
            let db = match self.db.as_mut() {
                Some(db) if !db.is_closed() => db,
                _ => match postgres::Client::connect(&self.url, postgres::NoTls) {
                    Ok(db) => self.db.insert(db),
                    Err(_) => {
                        retried = true;
                        std::thread::sleep(Duration::from_millis(100));
                        continue;
                    }
                },
            };
            // Paused (SIGSTOP) between taking `at` and writing the row: the database's verdict
            // comes too late to judge the start; the order of starts still does.
            delayed |= started.elapsed() > Duration::from_millis(LEASE_MS / 5);
            let inserted = db.execute(
                "INSERT INTO fires SELECT $1, $2, $3, $4, EXISTS (SELECT 1 FROM se_partitions \
                 WHERE partition = $4 AND owner = $2 AND fence = $3 AND lease_expires_at > now()), \
                 $5, $6",
                &[
                    &workflow_id,
                    &member,
                    &fence,
                    &part,
                    &(retried || delayed),
                    &at,
                ],
            );
            if inserted.is_ok() {
                return;
            }
            self.db = None;
            retried = true;
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl WorkflowExecutor for FireLog {
    fn start_workflow(&mut self, action: StartWorkflowAction, completion: Completion) {
        let schedule = action.schedule_id.as_deref().unwrap_or(&action.workflow_id);
        self.record(&action.workflow_id, schedule);
        completion.complete(WorkflowOutcome::Completed { result: None });
    }
    fn cancel_workflow(&mut self, _: schedule_engine::CancelWorkflowAction) {}
    fn terminate_workflow(&mut self, _: schedule_engine::TerminateWorkflowAction) {}
}

/// The child's side (mode `client`): a node that runs until killed (at most two minutes).
pub fn run_node() {
    let env = |name: &str| std::env::var(name).expect("child environment");
    let url = env(CHILD_URL);
    let lease_ms: u64 = env(CHILD_LEASE_MS).parse().expect("lease");
    let partitions: u32 = env(CHILD_PARTITIONS).parse().expect("partitions");
    let cluster = connect(&url, "node", lease_ms, partitions);
    let client = Client::builder()
        .cluster(cluster.clone())
        .build()
        .expect("build the node's client");
    let log = FireLog {
        url,
        db: None,
        cluster,
    };
    let _worker = Worker::start(&client, log);
    std::thread::sleep(Duration::from_secs(120));
}

fn node(url: &str) -> ChildNode {
    spawn_child("client", url, LEASE_MS, PARTITIONS)
}

/// Every partition held, by `live` members.
fn wait_held_by(cluster: &PostgresCluster, live: usize) {
    wait_within(Duration::from_secs(20), "every partition held", || {
        let Ok(owners) = cluster.partition_owners() else {
            return false;
        };
        let members: std::collections::BTreeSet<_> =
            owners.iter().filter_map(|o| o.owner.clone()).collect();
        owners.iter().all(|o| o.owner.is_some()) && members.len() == live
    });
}

fn schedule(id: &str, secs: u64) -> Schedule {
    let mut schedule = every(Duration::from_secs(secs));
    schedule.policy.overlap = ScheduleOverlapPolicy::AllowAll;
    if let ScheduleAction::StartWorkflow(action) = &mut schedule.action {
        action.id = id.to_owned();
    }
    schedule
}

/// One recorded start.
#[derive(Debug, Clone)]
struct Fire {
    node: String,
    fence: i64,
    partition: i32,
    valid: bool,
    retried: bool,
    at: DateTime<Utc>,
}

fn sleep_until(start: Instant, secs: u64) {
    std::thread::sleep(
        (start + Duration::from_secs(secs)).saturating_duration_since(Instant::now()),
    );
}

#[test]
fn three_node_processes_lose_no_time_through_kills_pauses_and_a_database_restart() {
    let server = PgServer::start();
    let url = server.create_database();
    let control = connect(&url, "control", LEASE_MS, PARTITIONS);
    {
        let mut db = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        db.batch_execute(FIRES).unwrap();
    }
    let mut nodes: Vec<ChildNode> = (0..3).map(|_| node(&url)).collect();
    wait_held_by(&control, 3);

    // Created through a client that hosts nothing: every create is a command to an owner.
    let client = Client::builder().cluster(control.clone()).build().unwrap();
    let mut created = BTreeMap::new();
    for n in 0..SCHEDULES {
        let (id, secs) = (format!("s{n:02}"), 1 + (n % 2) as u64);
        client.create_schedule(&id, schedule(&id, secs)).unwrap();
        created.insert(id, (client.now(), secs));
    }
    let start = Instant::now();

    sleep_until(start, 6);
    nodes[0].signal("KILL");
    sleep_until(start, 8);
    nodes.push(node(&url));

    sleep_until(start, 16);
    nodes[1].signal("STOP");
    sleep_until(start, 16 + 3 * LEASE_MS / 1000);
    nodes[1].signal("CONT");

    sleep_until(start, 32);
    server.stop();
    std::thread::sleep(Duration::from_secs(1));
    server.start_again();

    sleep_until(start, 40);
    nodes[2].signal("KILL");
    sleep_until(start, 42);
    nodes.push(node(&url));

    // Times due up to here have had the lateness bound to start.
    sleep_until(start, 46);
    let window_end = client.now();
    let bound = Duration::from_millis(LEASE_MS + RENEW_MS) + Duration::from_secs(4);
    std::thread::sleep(bound);

    // Every schedule intact, as its owner committed it.
    for (id, (_, secs)) in &created {
        let d = client.get_schedule_handle(id).describe().unwrap();
        assert_eq!(d.schedule.spec, schedule(id, *secs).spec, "{id}");
        assert!(!d.schedule.state.paused, "{id}");
        assert!(d.info.num_actions > 0, "{id}");
    }
    for node in &mut nodes {
        let _ = node.child.kill();
    }

    let mut db = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let mut fires: BTreeMap<String, Vec<Fire>> = BTreeMap::new();
    for row in db
        .query(
            "SELECT workflow_id, node, fence, partition, valid, retried, at FROM fires",
            &[],
        )
        .unwrap()
    {
        fires.entry(row.get(0)).or_default().push(Fire {
            node: row.get(1),
            fence: row.get(2),
            partition: row.get(3),
            valid: row.get(4),
            retried: row.get(5),
            at: row.get(6),
        });
    }
    drop(db);
    drop(server);
    check(&created, &fires, window_end, bound);
}

fn check(
    created: &BTreeMap<String, (DateTime<Utc>, u64)>,
    fires: &BTreeMap<String, Vec<Fire>>,
    window_end: DateTime<Utc>,
    bound: Duration,
) {
    let bound = chrono::Duration::from_std(bound).unwrap();
    let (mut expected, mut duplicated, mut worst) = (0, 0, chrono::Duration::zero());
    for (id, (created_at, secs)) in created {
        let step = *secs as i64;
        let mut t = (created_at.timestamp() / step + 1) * step;
        while t <= window_end.timestamp() {
            let nominal = DateTime::from_timestamp(t, 0).unwrap();
            let workflow_id = format!("{id}-{}", nominal.format("%Y-%m-%dT%H:%M:%SZ"));
            let Some(runs) = fires.get(&workflow_id) else {
                panic!("{workflow_id}: never started");
            };
            expected += 1;
            let mut runs = runs.clone();
            runs.sort_by_key(|r| r.at);
            let first = &runs[0];
            let late = first.at - nominal;
            worst = worst.max(late);
            assert!(
                late <= bound,
                "{workflow_id}: started {late} late: {runs:?}"
            );
            // A second start is a redelivery by a later owner of the partition, never a
            // repeat by the node (and lease) that started it.
            if runs.len() > 1 {
                duplicated += 1;
                for later in &runs[1..] {
                    assert!(later.fence > first.fence, "{workflow_id}: {runs:?}");
                }
            }
            t += step;
        }
    }
    let all: Vec<&Fire> = fires.values().flatten().collect();
    for fire in &all {
        assert!(fire.fence >= 0, "a start without a lease: {fire:?}");
        // Judged by the database as the row was written; a row written after the database
        // came back is judged by the order below instead.
        assert!(
            fire.valid || fire.retried,
            "a start after the lease was lost: {fire:?}"
        );
    }
    // Per partition, every start under a fence comes before any start under a later one: a
    // node stops before the next owner can begin.
    let mut by_partition: BTreeMap<i32, Vec<&Fire>> = BTreeMap::new();
    for fire in &all {
        by_partition.entry(fire.partition).or_default().push(fire);
    }
    for (partition, mut starts) in by_partition {
        starts.sort_by_key(|f| f.at);
        for pair in starts.windows(2) {
            assert!(
                pair[0].fence <= pair[1].fence,
                "partition {partition}: a start under fence {} after one under {}: {pair:?}",
                pair[0].fence,
                pair[1].fence
            );
        }
    }
    let nodes: std::collections::BTreeSet<&str> = all.iter().map(|f| f.node.as_str()).collect();
    eprintln!(
        "{expected} nominal times started, {} starts by {} node processes, {duplicated} \
         duplicated, worst lateness {worst} (bound {bound})",
        all.len(),
        nodes.len()
    );
    assert!(expected >= SCHEDULES * 20, "{expected} times in the window");
}
