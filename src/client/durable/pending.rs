//! Pending actions: dispatched actions whose run has not been reported closed, indexed by the
//! schedule or standalone workflow whose state says when they are finished.
//!
//! Invariant: a pending action is deleted in the same batch that records its run as no longer
//! running (the schedule's `running` list or the standalone workflow's `running` flag), so a
//! restart re-delivers exactly the actions whose outcome was never recorded.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::engine::{Action, ScheduleRecord, SchedulerSnapshot};

/// Pending actions by the owner whose state says when they are finished.
#[derive(Default)]
pub(super) struct PendingIndex {
    /// Schedule id → (pending key, workflow id).
    by_schedule: HashMap<String, Vec<(String, String)>>,
    /// Standalone workflow id → pending keys.
    by_workflow: HashMap<String, Vec<String>>,
}

impl PendingIndex {
    /// Indexes `action`; returns its key.
    pub(super) fn insert(&mut self, action: &Action) -> String {
        let key = pending_key(action);
        let (schedule_id, workflow_id) = owner(action);
        match schedule_id {
            Some(schedule_id) => {
                let entries = self.by_schedule.entry(schedule_id.to_string()).or_default();
                if !entries.iter().any(|(k, _)| *k == key) {
                    entries.push((key.clone(), workflow_id.to_string()));
                }
            }
            None => {
                let keys = self.by_workflow.entry(workflow_id.to_string()).or_default();
                if !keys.contains(&key) {
                    keys.push(key.clone());
                }
            }
        }
        key
    }

    /// Whether `action` is pending (indexed, its run not recorded closed).
    #[cfg(feature = "postgres")]
    pub(super) fn contains(&self, action: &Action) -> bool {
        let key = pending_key(action);
        match owner(action) {
            (Some(schedule_id), _) => self
                .by_schedule
                .get(schedule_id)
                .is_some_and(|entries| entries.iter().any(|(k, _)| *k == key)),
            (None, workflow_id) => self
                .by_workflow
                .get(workflow_id)
                .is_some_and(|keys| keys.contains(&key)),
        }
    }

    /// Keys of the schedule's pending actions whose run `record` no longer lists as running.
    pub(super) fn finished_in_schedule(&mut self, record: &ScheduleRecord) -> Vec<String> {
        let Some(entries) = self.by_schedule.get_mut(&record.id) else {
            return Vec::new();
        };
        let mut finished = Vec::new();
        entries.retain_mut(|(key, workflow_id)| {
            let running = record.running.iter().any(|r| r.workflow_id == *workflow_id);
            if !running {
                // The entry goes: its key moves out instead of being copied.
                finished.push(std::mem::take(key));
            }
            running
        });
        if entries.is_empty() {
            self.by_schedule.remove(&record.id);
        }
        finished
    }

    pub(super) fn remove_schedule(&mut self, id: &str) -> Vec<String> {
        self.by_schedule
            .remove(id)
            .map(|v| v.into_iter().map(|(k, _)| k).collect())
            .unwrap_or_default()
    }

    pub(super) fn remove_workflow(&mut self, id: &str) -> Vec<String> {
        self.by_workflow.remove(id).unwrap_or_default()
    }

    /// Drops every entry the snapshot says is finished; returns their keys.
    pub(super) fn reconcile_all(&mut self, snapshot: &SchedulerSnapshot) -> Vec<String> {
        let mut finished = Vec::new();
        let schedule_ids: Vec<String> = self.by_schedule.keys().cloned().collect();
        for id in schedule_ids {
            match snapshot.schedules.binary_search_by(|s| s.id.cmp(&id)) {
                Ok(i) => finished.extend(self.finished_in_schedule(&snapshot.schedules[i])),
                Err(_) => finished.extend(self.remove_schedule(&id)),
            }
        }
        let workflow_ids: Vec<String> = self.by_workflow.keys().cloned().collect();
        for id in workflow_ids {
            let running = snapshot
                .workflows
                .binary_search_by(|w| w.workflow_id.cmp(&id))
                .is_ok_and(|i| snapshot.workflows[i].running);
            if !running {
                finished.extend(self.remove_workflow(&id));
            }
        }
        finished
    }
}

/// The store key of a pending action: `<start|cancel|terminate>:<workflow id>`.
pub(crate) fn pending_key(action: &Action) -> String {
    let (verb, workflow_id) = match action {
        Action::StartWorkflow(a) => return start_key(&a.workflow_id),
        Action::CancelWorkflow(a) => ("cancel", &a.workflow_id),
        Action::TerminateWorkflow(a) => ("terminate", &a.workflow_id),
    };
    format!("{verb}:{workflow_id}")
}

/// The store key of the pending start of workflow `workflow_id`.
pub(crate) fn start_key(workflow_id: &str) -> String {
    format!("start:{workflow_id}")
}

/// The schedule (if any) and workflow an action is about.
fn owner(action: &Action) -> (Option<&str>, &str) {
    match action {
        Action::StartWorkflow(a) => (a.schedule_id.as_deref(), &a.workflow_id),
        Action::CancelWorkflow(a) => (a.schedule_id.as_deref(), &a.workflow_id),
        Action::TerminateWorkflow(a) => (a.schedule_id.as_deref(), &a.workflow_id),
    }
}

/// Starts first, oldest due first, then cancels and terminations: a run is started again before
/// anything asks it to stop.
pub(super) fn redelivery_order(action: &Action) -> (u8, Option<DateTime<Utc>>, String) {
    match action {
        Action::StartWorkflow(a) => (0, Some(a.scheduled_at), a.workflow_id.clone()),
        Action::CancelWorkflow(a) => (1, None, a.workflow_id.clone()),
        Action::TerminateWorkflow(a) => (2, None, a.workflow_id.clone()),
    }
}
