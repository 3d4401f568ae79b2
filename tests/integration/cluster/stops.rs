//! Cancels and terminations of runs adopted at a graceful hand-over (`docs/cluster.md` §7):
//! the new owner's overlap policy stops a run that is open on the old owner's executor, so
//! the stop must reach that executor (through the database), and the new run must wait for
//! the old one's close, which the old owner forwards.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use schedule_engine::{
    CancelWorkflowAction, Client, Completion, ScheduleOverlapPolicy, StartWorkflowAction,
    TerminateWorkflowAction, Worker, WorkflowExecutor, WorkflowOutcome,
};

use super::nodes::{Nodes, LEASE_MS, PARTITIONS};
use super::routing::with_action_id;
use super::{connect, pg_util::PgServer, wait_within};
use crate::util::facade::every;

/// One run as the executors saw it.
#[derive(Debug, Clone)]
struct Run {
    workflow_id: String,
    schedule_id: String,
    node: usize,
    started: Instant,
    /// When the executor running it was asked to cancel it (and closed it).
    cancelled: Option<Instant>,
}

/// What every node's executor saw: the runs, and the cancels for runs not open on the node
/// that received them.
#[derive(Default)]
struct Log {
    runs: Vec<Run>,
    stray: Vec<(usize, String)>,
}

/// Keeps every run open until it is asked to cancel, then closes it as canceled.
struct UntilCancelled {
    node: usize,
    log: Arc<Mutex<Log>>,
    /// The runs open on this node: their index in the log, their completion.
    open: HashMap<String, (usize, Completion)>,
}

impl WorkflowExecutor for UntilCancelled {
    fn start_workflow(&mut self, action: StartWorkflowAction, completion: Completion) {
        let mut log = self.log.lock();
        log.runs.push(Run {
            workflow_id: action.workflow_id.clone(),
            schedule_id: action.schedule_id.as_deref().unwrap_or_default().into(),
            node: self.node,
            started: Instant::now(),
            cancelled: None,
        });
        let index = log.runs.len() - 1;
        self.open.insert(action.workflow_id, (index, completion));
    }
    fn cancel_workflow(&mut self, action: CancelWorkflowAction) {
        let mut log = self.log.lock();
        match self.open.remove(&action.workflow_id) {
            Some((index, completion)) => {
                // Recorded before the close is reported: the next run comes after it.
                log.runs[index].cancelled = Some(Instant::now());
                completion.complete(WorkflowOutcome::Canceled);
            }
            None => log.stray.push((self.node, action.workflow_id)),
        }
    }
    fn terminate_workflow(&mut self, action: TerminateWorkflowAction) {
        self.log.lock().stray.push((self.node, action.workflow_id));
    }
}

#[test]
fn a_cancel_of_an_adopted_run_reaches_the_node_running_it() {
    let url = PgServer::shared().create_database();
    let log: Arc<Mutex<Log>> = Arc::default();
    let executor = |node| UntilCancelled {
        node,
        log: log.clone(),
        open: HashMap::new(),
    };
    let mut nodes = Nodes::start(&url, 1, None, executor);
    // Every 3 s, CANCEL_OTHER: each nominal time cancels the run still open (they all are).
    let interval = Duration::from_secs(3);
    let ids: Vec<String> = (0..8).map(|i| format!("cancelling{i}")).collect();
    for id in &ids {
        let mut schedule = with_action_id(every(interval), id);
        schedule.policy.overlap = ScheduleOverlapPolicy::CancelOther;
        nodes.clients[0].create_schedule(id, schedule).unwrap();
    }
    wait_within(Duration::from_secs(15), "every schedule started", || {
        let log = log.lock();
        let started: BTreeSet<&str> = log.runs.iter().map(|r| r.schedule_id.as_str()).collect();
        started.len() == ids.len()
    });

    // A second node joins: the partitions it takes carry runs open on node 0.
    let joined = Instant::now();
    let cluster = connect(&url, "node1", LEASE_MS, PARTITIONS);
    let second = Client::builder().cluster(cluster.clone()).build().unwrap();
    let second_worker = Worker::start(&second, executor(1));
    nodes.clients.push(second);
    nodes.clusters.push(cluster);
    nodes.wait_balanced(2);
    let moved: Vec<&String> = ids
        .iter()
        .filter(|id| nodes.owner_of(id) == Some(1))
        .collect();
    assert!(!moved.is_empty(), "no schedule moved to the new node");

    // The new owner's next nominal time cancels the old run on node 0; once node 0 has closed
    // it, the new run starts on node 1. Without the relay, node 0's run never ends and the
    // new owner waits for it for ever.
    wait_within(
        interval * 6,
        "every moved schedule started on node 1",
        || {
            let log = log.lock();
            moved.iter().all(|id| {
                log.runs
                    .iter()
                    .any(|r| r.schedule_id == **id && r.node == 1 && r.started > joined)
            })
        },
    );
    for id in &ids {
        nodes.clients[1]
            .get_schedule_handle(id)
            .pause(None)
            .unwrap();
    }
    second_worker.shutdown();
    nodes.shutdown();

    let log = log.lock();
    let runs = &log.runs;
    let mut seen = BTreeMap::new();
    for run in runs {
        if let Some(first) = seen.insert(&run.workflow_id, run.node) {
            panic!(
                "{} started twice: on node {first} and on node {}",
                run.workflow_id, run.node
            );
        }
    }
    // Node 1 never ran an adopted run, so no cancel reached it for a run it did not run.
    // (Node 0 may see a cancel twice: one pending at the hand-over is sent again.)
    let stray_on_1: Vec<&String> = log
        .stray
        .iter()
        .filter(|(node, _)| *node == 1)
        .map(|(_, id)| id)
        .collect();
    assert!(
        stray_on_1.is_empty(),
        "cancels sent to node 1, which does not run them: {stray_on_1:?}"
    );
    // CANCEL_OTHER: a schedule's next run starts only after the one before was cancelled.
    let mut by_schedule: BTreeMap<&str, Vec<&Run>> = BTreeMap::new();
    for run in runs {
        by_schedule.entry(&run.schedule_id).or_default().push(run);
    }
    for (id, list) in &by_schedule {
        for pair in list.windows(2) {
            let cancelled = pair[0].cancelled.unwrap_or_else(|| {
                panic!(
                    "{id}: {} started while {} was open",
                    pair[1].workflow_id, pair[0].workflow_id
                )
            });
            assert!(
                pair[1].started >= cancelled,
                "{id}: {} started before {} was cancelled",
                pair[1].workflow_id,
                pair[0].workflow_id
            );
        }
    }
    // Not vacuous: for each moved schedule, a run open on node 0 across the hand-over was
    // cancelled there after it, and the schedule's next run started on node 1.
    for id in &moved {
        let list = &by_schedule[id.as_str()];
        let adopted = list
            .iter()
            .position(|r| {
                r.node == 0 && r.started < joined && r.cancelled.is_none_or(|c| c > joined)
            })
            .unwrap_or_else(|| panic!("{id}: no run open on node 0 at the join: {list:#?}"));
        let next = list
            .get(adopted + 1)
            .unwrap_or_else(|| panic!("{id}: no run after the adopted one"));
        assert_eq!(
            next.node, 1,
            "{id}: the run after the adopted one: {list:#?}"
        );
    }
}
