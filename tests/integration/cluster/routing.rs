//! Cluster mode end to end, on the database's clock: every verb from every node with the
//! owner's answers, and schedules that fire once across the nodes and move when a node leaves.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use schedule_engine::{
    CancelWorkflowAction, Completion, Schedule, ScheduleAction, ScheduleError,
    ScheduleOverlapPolicy, ScheduleUpdate, StartWorkflowAction, TerminateWorkflowAction,
    WorkflowExecutor, WorkflowOutcome,
};

use super::nodes::{remote_client, Nodes};
use super::{pg_util::PgServer, wait_within};
use crate::util::facade::{every, Recorder};

/// Records `(workflow id, node)` for every start and completes the run at once.
#[derive(Clone)]
struct Tagged {
    node: usize,
    starts: Arc<Mutex<Vec<(String, usize)>>>,
}

impl WorkflowExecutor for Tagged {
    fn start_workflow(&mut self, action: StartWorkflowAction, completion: Completion) {
        self.starts.lock().push((action.workflow_id, self.node));
        completion.complete(WorkflowOutcome::Completed { result: None });
    }
    fn cancel_workflow(&mut self, _: CancelWorkflowAction) {}
    fn terminate_workflow(&mut self, _: TerminateWorkflowAction) {}
}

#[test]
fn every_verb_works_from_every_node_with_the_owners_answers() {
    let url = PgServer::shared().create_database();
    let recorder = Recorder::completing();
    let nodes = Nodes::start(&url, 3, None, |_| recorder.clone());
    let remote = remote_client(&url, None);
    let hourly = every(Duration::from_secs(3600));
    for n in 0..6 {
        let id = format!("r{n}");
        let owner = nodes.owner_of(&id).expect("every partition is held");
        let (other, third) = ((owner + 1) % 3, (owner + 2) % 3);
        let on = |i: usize| nodes.clients[i].get_schedule_handle(&id);

        // Created on a node that does not own it: the owner applied it.
        nodes.clients[other]
            .create_schedule(&id, with_action_id(hourly.clone(), &id))
            .unwrap();
        for i in [owner, third] {
            assert!(
                matches!(
                    nodes.clients[i].create_schedule(&id, hourly.clone()),
                    Err(ScheduleError::AlreadyExists { .. })
                ),
                "{id} on node {i}"
            );
        }
        // The same description everywhere: the owner's engine, the others' records.
        let described = on(owner).describe().unwrap();
        for i in [other, third] {
            assert_eq!(on(i).describe().unwrap(), described, "{id} on node {i}");
        }
        assert_eq!(
            remote.get_schedule_handle(&id).describe().unwrap(),
            described
        );

        on(third).pause(Some("from elsewhere")).unwrap();
        let paused = on(owner).describe().unwrap();
        assert!(paused.schedule.state.paused);
        assert_eq!(
            paused.schedule.state.note.as_deref(),
            Some("from elsewhere")
        );
        assert_ne!(paused.conflict_token, described.conflict_token);

        // The update loop on a non-owner: its description's token is the owner's.
        on(other)
            .update(|input| {
                let mut schedule = input.description.schedule;
                schedule.state.note = Some("updated".into());
                Some(ScheduleUpdate { schedule })
            })
            .unwrap();
        assert_eq!(
            on(third).describe().unwrap().schedule.state.note.as_deref(),
            Some("updated")
        );
        on(other).unpause(None).unwrap();

        // Upsert from a non-owner: the owner changes the spec and keeps the state; the same
        // config again changes nothing (the token stays).
        let before = on(owner).describe().unwrap();
        let two_hourly = with_action_id(every(Duration::from_secs(7200)), &id);
        nodes.clients[third]
            .upsert_schedule(&id, two_hourly.clone())
            .unwrap();
        let upserted = on(owner).describe().unwrap();
        assert_eq!(upserted.schedule.spec, two_hourly.spec);
        assert_eq!(upserted.schedule.state, before.schedule.state);
        assert_ne!(upserted.conflict_token, before.conflict_token);
        nodes.clients[other]
            .upsert_schedule(&id, two_hourly)
            .unwrap();
        assert_eq!(
            on(owner).describe().unwrap().conflict_token,
            upserted.conflict_token
        );

        on(third)
            .trigger(Some(ScheduleOverlapPolicy::AllowAll))
            .unwrap();
        wait_within(Duration::from_secs(10), "the triggered run", || {
            recorder
                .started()
                .iter()
                .any(|w| w.starts_with(&format!("{id}-")))
        });

        on(third).delete().unwrap();
        for i in [owner, other, third] {
            assert!(
                matches!(on(i).describe(), Err(ScheduleError::NotFound { .. })),
                "{id} on node {i}"
            );
        }
        assert!(matches!(
            on(other).delete(),
            Err(ScheduleError::NotFound { .. })
        ));
    }
    // Created on the owners this time (applied locally); every node lists them all.
    let ids: Vec<String> = (0..6).map(|n| format!("l{n}")).collect();
    for id in &ids {
        let owner = nodes.owner_of(id).unwrap();
        nodes.clients[owner]
            .create_schedule(id, hourly.clone())
            .unwrap();
    }
    for client in nodes.clients.iter().chain([&remote]) {
        let listed: Vec<String> = client.list_schedules().into_iter().map(|s| s.id).collect();
        assert_eq!(listed, ids);
    }
    nodes.shutdown();
}

/// `schedule` starting workflows with ids `<id>-<nominal time>`.
pub(super) fn with_action_id(mut schedule: Schedule, id: &str) -> Schedule {
    if let ScheduleAction::StartWorkflow(action) = &mut schedule.action {
        action.id = id.to_owned();
    }
    schedule
}

/// The nominal time in a scheduled run's workflow id (`<action id>-<RFC 3339>`).
fn nominal(workflow_id: &str) -> DateTime<Utc> {
    let at = &workflow_id[workflow_id.len() - 20..];
    DateTime::parse_from_rfc3339(at)
        .unwrap()
        .with_timezone(&Utc)
}

#[test]
fn schedules_fire_once_across_nodes_and_move_when_a_node_leaves() {
    let url = PgServer::shared().create_database();
    let starts = Arc::new(Mutex::new(Vec::new()));
    let mut nodes = Nodes::start(&url, 3, None, |node| Tagged {
        node,
        starts: starts.clone(),
    });
    let client = nodes.clients[0].clone();
    let mut schedule = every(Duration::from_secs(1));
    schedule.policy.overlap = ScheduleOverlapPolicy::AllowAll;
    let ids: Vec<String> = (0..9).map(|n| format!("f{n}")).collect();
    let mut created = Vec::new();
    for id in &ids {
        nodes.clients[2]
            .create_schedule(id, with_action_id(schedule.clone(), id))
            .unwrap();
        created.push(client.now());
    }
    std::thread::sleep(Duration::from_secs(3));
    let moving: Vec<&String> = ids
        .iter()
        .filter(|id| nodes.owner_of(id) == Some(0))
        .collect();
    assert!(!moving.is_empty(), "node 0 holds some of the schedules");
    nodes.stop(0);
    // Node 0's worker is gone: it starts nothing more.
    let stopped = nodes.clients[1].now();
    nodes.wait_balanced(2);
    std::thread::sleep(Duration::from_secs(3));
    let end = nodes.clients[1].now() - chrono::Duration::milliseconds(1500);

    let starts = starts.lock().clone();
    for (id, created) in ids.iter().zip(&created) {
        let mut expected = Vec::new();
        let mut t = created.timestamp() + 1;
        while t <= end.timestamp() {
            expected.push(DateTime::from_timestamp(t, 0).unwrap());
            t += 1;
        }
        let mine: Vec<&(String, usize)> = starts
            .iter()
            .filter(|(w, _)| w.starts_with(&format!("{id}-")))
            .collect();
        for time in &expected {
            let runs: Vec<usize> = mine
                .iter()
                .filter(|(w, _)| nominal(w) == *time)
                .map(|(_, node)| *node)
                .collect();
            assert!(!runs.is_empty(), "{id} at {time}: never started");
            // A second start is a redelivery by the partition's next owner, never a repeat.
            let mut nodes_seen = runs.clone();
            nodes_seen.sort_unstable();
            nodes_seen.dedup();
            assert_eq!(nodes_seen.len(), runs.len(), "{id} at {time}: {runs:?}");
        }
        let late_on_0 = mine.iter().any(|(w, n)| *n == 0 && nominal(w) > stopped);
        assert!(!late_on_0, "{id}: node 0 started a time after it stopped");
        if moving.contains(&id) {
            let after: Vec<usize> = mine
                .iter()
                .filter(|(w, _)| nominal(w) > stopped)
                .map(|(_, n)| *n)
                .collect();
            assert!(!after.is_empty(), "{id} runs on after node 0 left");
        }
    }
    nodes.shutdown();
}

/// A node whose worker is stopped with `shutdown_async` leaves the cluster even when the
/// returned future is dropped unawaited: the other node takes every partition (before the fix
/// the node stayed joined and renewed its leases for good).
#[test]
fn an_async_shutdown_dropped_unawaited_still_leaves_the_cluster() {
    let url = PgServer::shared().create_database();
    let recorder = Recorder::completing();
    let mut nodes = Nodes::start(&url, 2, None, |_| recorder.clone());
    nodes.stop_without_awaiting(0);
    nodes.wait_balanced(1);
    assert_eq!(nodes.owner_of("any"), Some(1));
    nodes.shutdown();
}
