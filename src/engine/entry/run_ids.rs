//! Workflow ids of a schedule's runs and recent actions, kept without strings: a run or a
//! recent action is `<action id>-<nominal time>`, rebuilt when needed. What an update of the
//! action id would break is kept aside: running runs of the old id are spelled out
//! (`Extra::spelled_runs`), recent actions name their old prefix (`Extra::old_prefixes`).
//!
//! Invariants: a spelled run's key names exactly one kept id; a recent action's prefix `k > 0`
//! names `old_prefixes[k - 1]`, and no old prefix is kept that no recent action names.

use super::{Running, ScheduleEntry};
use crate::engine::compact::recent::Recent;
use crate::engine::compact::workflow_id::{is_workflow_id, workflow_id};

impl ScheduleEntry {
    /// Appends a recent action, keeping the last [`RECENT_KEPT`].
    pub(crate) fn push_recent(&mut self, r: Recent) {
        self.recent.push(r);
        if self.extra.is_some() {
            self.prune_prefixes();
        }
    }

    /// The workflow id prefix `p` of a recent action.
    pub(crate) fn prefix(&self, p: u8) -> &str {
        match p.checked_sub(1) {
            None => self.schedule.action_id(),
            Some(k) => self
                .extra
                .as_ref()
                .and_then(|x| x.old_prefixes.get(usize::from(k)))
                .map(|b| &**b)
                .expect("invariant: a recent action's prefix names a kept old prefix"),
        }
    }

    /// The workflow id of a recent action.
    pub(crate) fn recent_id(&self, r: &Recent) -> String {
        workflow_id(self.prefix(r.prefix), r.nominal_s)
    }

    /// The spelled-out workflow id of run `r` (see [`Running`]).
    fn spelled_id(&self, r: &Running) -> &str {
        self.extra
            .as_ref()
            .and_then(|x| x.spelled_runs.iter().find(|(k, _)| *k == r.nominal_s))
            .map(|(_, id)| &**id)
            .expect("invariant: a spelled run's key names its kept workflow id")
    }

    /// The workflow id of run `r`.
    pub(crate) fn run_id(&self, r: &Running) -> String {
        if r.spelled {
            String::from(self.spelled_id(r))
        } else {
            workflow_id(self.schedule.action_id(), r.nominal_s)
        }
    }

    /// Whether the workflow id of run `r` is `id`.
    pub(crate) fn run_is(&self, r: &Running, id: &str) -> bool {
        if r.spelled {
            self.spelled_id(r) == id
        } else {
            is_workflow_id(id, self.schedule.action_id(), r.nominal_s)
        }
    }

    /// Tracks a run whose workflow id is spelled out.
    pub(crate) fn push_spelled_run(&mut self, id: Box<str>, fingerprint: u64) -> &mut Running {
        let x = self.extra.get_or_insert_with(Box::default);
        let key = x.spelled_runs.iter().map(|(k, _)| k + 1).max().unwrap_or(0);
        x.spelled_runs.push((key, id));
        self.running.push(Running {
            fingerprint,
            nominal_s: key,
            spelled: true,
            cancel_requested: false,
            terminate_requested: false,
        });
        let last = self.running.len() - 1;
        &mut self.running[last]
    }

    /// Stops tracking run `i`.
    pub(crate) fn remove_run(&mut self, i: usize) {
        let r = self.running.remove(i);
        if r.spelled {
            if let Some(x) = self.extra.as_mut() {
                x.spelled_runs.retain(|(k, _)| *k != r.nominal_s);
            }
        }
    }

    /// Whether a tracked run has the workflow id `id` (whose fingerprint is `fingerprint`).
    pub(crate) fn runs(&self, id: &str, fingerprint: u64) -> bool {
        self.run_index(id, fingerprint).is_some()
    }

    /// The tracked run with the workflow id `id` (whose fingerprint is `fingerprint`).
    pub(crate) fn run_index(&self, id: &str, fingerprint: u64) -> Option<usize> {
        self.running
            .iter()
            .position(|r| r.fingerprint == fingerprint && self.run_is(r, id))
    }

    /// Before the action id changes: recent actions and running runs keep naming the old one.
    pub(crate) fn retire_prefix(&mut self) {
        let old: Box<str> = self.schedule.action_id().into();
        let first_key = self
            .extra
            .as_ref()
            .and_then(|x| x.spelled_runs.iter().map(|(k, _)| k + 1).max())
            .unwrap_or(0);
        let mut spelled = Vec::new();
        let fresh = self.running.iter_mut().filter(|r| !r.spelled);
        for (key, r) in (first_key..).zip(fresh) {
            spelled.push((key, workflow_id(&old, r.nominal_s).into()));
            r.nominal_s = key;
            r.spelled = true;
        }
        if !spelled.is_empty() {
            self.extra_mut().spelled_runs.extend(spelled);
        }
        if !self.recent.iter().any(|r| r.prefix == 0) {
            return;
        }
        let x = self.extra_mut();
        x.old_prefixes.push(old);
        let k = u8::try_from(x.old_prefixes.len()).unwrap_or(u8::MAX);
        for r in self.recent.iter_mut_unordered().filter(|r| r.prefix == 0) {
            r.prefix = k;
        }
        self.prune_prefixes();
    }

    /// Drops old prefixes no recent action names (there are at most `RECENT_KEPT`).
    fn prune_prefixes(&mut self) {
        let Some(x) = self.extra.as_mut() else {
            return;
        };
        if x.old_prefixes.is_empty() {
            return;
        }
        let mut kept: Vec<Box<str>> = Vec::new();
        let mut map = [0u8; 256];
        for r in self.recent.iter_mut_unordered().filter(|r| r.prefix != 0) {
            let i = usize::from(r.prefix);
            if map[i] == 0 {
                let Some(p) = x.old_prefixes.get(i - 1) else {
                    continue;
                };
                kept.push(p.clone());
                map[i] = u8::try_from(kept.len()).unwrap_or(u8::MAX);
            }
            r.prefix = map[i];
        }
        x.old_prefixes = kept;
    }
}
