//! Cancels and terminations of runs adopted at a graceful hand-over (`docs/cluster.md` §7):
//! the new owner's overlap policy stops a run that is open on the old owner's executor, so
//! the stop must reach that executor (through the database), and the new run must wait for
//! the old one's close, which the old owner forwards. If the old owner dies first, the new
//! owner redelivers the run and then its stop to its own executor.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use schedule_engine::{
    CancelWorkflowAction, Client, Completion, ScheduleOverlapPolicy, StartWorkflowAction,
    TerminateWorkflowAction, Worker, WorkflowExecutor, WorkflowOutcome,
};

use super::handover::{by_schedule_without_overlap, holding_child, joiner, Run};
use super::nodes::{Nodes, LEASE_MS, PARTITIONS};
use super::routing::with_action_id;
use super::{connect, pg_util::PgServer, wait_within};
use crate::util::facade::every;

/// What every node's executor saw: the runs (ended when cancelled: they end no other way),
/// and the cancels for runs not open on the node that received them.
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
            ended: None,
        });
        let index = log.runs.len() - 1;
        self.open.insert(action.workflow_id, (index, completion));
    }
    fn cancel_workflow(&mut self, action: CancelWorkflowAction) {
        let mut log = self.log.lock();
        match self.open.remove(&action.workflow_id) {
            Some((index, completion)) => {
                // Recorded before the close is reported: the next run comes after it.
                log.runs[index].ended = Some(Instant::now());
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
    // CANCEL_OTHER: a schedule's next run starts only after the one before was cancelled.
    let by_schedule = by_schedule_without_overlap(&log.runs);
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
    // Not vacuous: for each moved schedule, the last run on node 0 (open at the hand-over)
    // was cancelled there, and the schedule's next run started on node 1.
    for id in &moved {
        let list = &by_schedule[id.as_str()];
        let adopted = list
            .iter()
            .rposition(|r| r.node == 0)
            .unwrap_or_else(|| panic!("{id}: no run on node 0: {list:#?}"));
        let next = list
            .get(adopted + 1)
            .unwrap_or_else(|| panic!("{id}: no run after the one on node 0: {list:#?}"));
        assert_eq!(next.node, 1, "{id}: {list:#?}");
    }
}

/// A call an executor received: which, the workflow id, when.
type Call = (&'static str, String, Instant);

/// Every start and cancel an executor received, in order, with the time.
#[derive(Clone, Default)]
struct Calls {
    seen: Arc<Mutex<Vec<Call>>>,
    open: Arc<Mutex<Vec<Completion>>>,
}

impl WorkflowExecutor for Calls {
    fn start_workflow(&mut self, action: StartWorkflowAction, completion: Completion) {
        let call = ("start", action.workflow_id, Instant::now());
        self.seen.lock().push(call);
        self.open.lock().push(completion);
    }
    fn cancel_workflow(&mut self, action: CancelWorkflowAction) {
        let call = ("cancel", action.workflow_id, Instant::now());
        self.seen.lock().push(call);
    }
    fn terminate_workflow(&mut self, action: TerminateWorkflowAction) {
        let call = ("terminate", action.workflow_id, Instant::now());
        self.seen.lock().push(call);
    }
}

#[test]
fn a_cancel_for_a_node_that_died_is_redelivered_after_the_start() {
    // Long enough that a loaded machine does not lose the child's leases by accident.
    const LEASE: u64 = 3_000;
    const PARTS: u32 = 4;
    let url = PgServer::shared().create_database();
    // A node whose executor keeps every run open and ignores (but reports) cancels.
    let (child, remote) = holding_child(&url, LEASE, PARTS);
    let ids: Vec<String> = (0..8).map(|i| format!("doomed{i}")).collect();
    for id in &ids {
        let mut schedule = with_action_id(every(Duration::from_secs(2)), id);
        schedule.policy.overlap = ScheduleOverlapPolicy::CancelOther;
        remote.create_schedule(id, schedule).unwrap();
    }
    // Each schedule's first run starts, and its next nominal time asks the child to cancel
    // it (the cancel stays pending: the run never closes).
    let mut started: BTreeSet<String> = BTreeSet::new();
    let mut cancelled: BTreeSet<String> = BTreeSet::new();
    while cancelled.len() < ids.len() {
        let line = child
            .lines
            .recv_timeout(Duration::from_secs(15))
            .expect("the child starts and is asked to cancel every schedule's run");
        if let Some(id) = line.strip_prefix("start ") {
            assert!(started.insert(id.to_string()), "{id} started twice");
        } else if let Some(id) = line.strip_prefix("cancel ") {
            cancelled.insert(id.to_string());
        }
    }
    assert_eq!(started, cancelled);

    // A node joins and adopts half of the runs; it redelivers their pending cancels, which
    // go to the child, not to its own executor.
    let calls = Calls::default();
    let (cluster, _client, worker) = joiner(&url, LEASE, PARTS, calls.clone());
    let adopted: BTreeSet<String> = started
        .iter()
        .filter(|w| {
            let id = ids
                .iter()
                .find(|id| w.starts_with(&format!("{id}-")))
                .unwrap();
            cluster.lease(cluster.partition_of(id)).is_some()
        })
        .cloned()
        .collect();
    assert!(!adopted.is_empty(), "no run was adopted");
    let mut relayed: BTreeSet<String> = BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !adopted.is_subset(&relayed) && Instant::now() < deadline {
        if let Ok(line) = child.lines.recv_timeout(Duration::from_millis(100)) {
            if let Some(id) = line.strip_prefix("cancel ") {
                relayed.insert(id.to_string());
            }
        }
    }
    assert!(
        adopted.is_subset(&relayed),
        "the child was not asked again to cancel every adopted run: {adopted:?}, {relayed:?}"
    );
    assert_eq!(
        *calls.seen.lock(),
        vec![],
        "the joiner's executor was given an adopted run, or its cancel, while the child lived"
    );

    // The child dies: the joiner redelivers each adopted run and then its cancel, as a restart
    // redelivers a pending start and its pending cancel.
    child.signal("KILL");
    let killed = Instant::now();
    wait_within(
        Duration::from_millis(2 * LEASE + 5_000),
        "every adopted run and its cancel redelivered",
        || {
            let seen = calls.seen.lock();
            adopted.iter().all(|w| {
                seen.iter()
                    .any(|(call, id, _)| *call == "cancel" && id == w)
            })
        },
    );
    std::thread::sleep(Duration::from_millis(LEASE / 2));
    let seen = calls.seen.lock().clone();
    for w in &adopted {
        let of_w: Vec<&str> = seen
            .iter()
            .filter(|(_, id, _)| id == w)
            .map(|(call, _, _)| *call)
            .collect();
        assert_eq!(of_w.first(), Some(&"start"), "{w}: {of_w:?}");
        assert_eq!(
            of_w.iter().filter(|c| **c == "start").count(),
            1,
            "{w} redelivered twice: {of_w:?}"
        );
        assert!(of_w.contains(&"cancel"), "{w}: {of_w:?}");
    }
    assert!(seen.iter().all(|(_, _, at)| *at > killed));
    worker.shutdown();
    drop(child);
}
