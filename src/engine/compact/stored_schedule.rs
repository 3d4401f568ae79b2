//! A schedule as the engine keeps it: the user's [`Schedule`] in a compact form (about 150
//! bytes instead of 400 plus, for an interval schedule, nothing boxed but its strings and
//! intervals). Parts that are usually empty (arguments, timeouts, memo; calendars, cron
//! strings, skips, bounds, jitter, time zone) live in boxes that exist only when set.
//!
//! Invariant: `to_schedule(from(s)) == s` for every schedule `s`.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::engine::schedule::{
    Schedule, ScheduleAction, ScheduleActionStartWorkflow, SchedulePolicy, ScheduleState,
};
use crate::spec::{ScheduleIntervalSpec, ScheduleSpec};

/// The compact form of a [`Schedule`].
#[derive(Debug, Clone)]
pub(crate) struct StoredSchedule {
    /// Workflow type, action id and task queue in one allocation (one cache miss per fire
    /// instead of three): `strings[..ends[0]]`, `[ends[0]..ends[1]]`, `[ends[1]..]`.
    strings: Box<str>,
    ends: [u32; 2],
    /// Arguments, timeouts and memo (its strings empty), when any is set.
    action_more: Option<Box<ScheduleActionStartWorkflow>>,
    intervals: Box<[ScheduleIntervalSpec]>,
    /// The spec without its intervals, when anything else is set.
    spec_more: Option<Box<ScheduleSpec>>,
    /// Overlap, catch-up and failure policies (effective catch-up window).
    pub(crate) policy: SchedulePolicy,
    /// Pause state, note and remaining actions.
    pub(crate) state: ScheduleState,
}

impl From<Schedule> for StoredSchedule {
    fn from(s: Schedule) -> Self {
        let ScheduleAction::StartWorkflow(mut a) = s.action;
        let mut strings = std::mem::take(&mut a.workflow);
        // Lengths beyond u32 cannot occur for ids a user sends; saturating keeps this total.
        let end0 = u32::try_from(strings.len()).unwrap_or(u32::MAX);
        strings.push_str(&std::mem::take(&mut a.id));
        let end1 = u32::try_from(strings.len()).unwrap_or(u32::MAX);
        strings.push_str(&std::mem::take(&mut a.task_queue));
        let action_more = (a != ScheduleActionStartWorkflow::default()).then(|| Box::new(a));
        let mut spec = s.spec;
        let intervals = std::mem::take(&mut spec.intervals).into_boxed_slice();
        let spec_more = (spec != ScheduleSpec::default()).then(|| Box::new(spec));
        StoredSchedule {
            strings: strings.into_boxed_str(),
            ends: [end0, end1],
            action_more,
            intervals,
            spec_more,
            policy: s.policy,
            state: s.state,
        }
    }
}

impl StoredSchedule {
    /// The user's schedule.
    pub(crate) fn to_schedule(&self) -> Schedule {
        Schedule {
            action: ScheduleAction::StartWorkflow(self.action()),
            spec: self.spec(),
            policy: self.policy.clone(),
            state: self.state.clone(),
        }
    }

    /// The start-workflow action.
    pub(crate) fn action(&self) -> ScheduleActionStartWorkflow {
        let mut a = self.action_more.as_deref().cloned().unwrap_or_default();
        a.workflow = self.workflow().to_owned();
        a.id = self.action_id().to_owned();
        a.task_queue = self.task_queue().to_owned();
        a
    }

    /// The spec.
    pub(crate) fn spec(&self) -> ScheduleSpec {
        let mut s = self.spec_more.as_deref().cloned().unwrap_or_default();
        s.intervals = self.intervals.to_vec();
        s
    }

    fn part(&self, from: u32, to: Option<u32>) -> &str {
        let from = from as usize;
        let to = to.map_or(self.strings.len(), |t| t as usize);
        // The bounds are char boundaries by construction; `get` keeps this total anyway.
        self.strings.get(from..to).unwrap_or("")
    }

    /// Workflow id prefix.
    pub(crate) fn action_id(&self) -> &str {
        self.part(self.ends[0], Some(self.ends[1]))
    }

    /// Workflow type name.
    pub(crate) fn workflow(&self) -> &str {
        self.part(0, Some(self.ends[0]))
    }

    /// Task queue.
    pub(crate) fn task_queue(&self) -> &str {
        self.part(self.ends[1], None)
    }

    /// Arguments.
    pub(crate) fn args(&self) -> &[serde_json::Value] {
        self.action_more.as_deref().map_or(&[], |a| &a.args)
    }

    /// Execution, run and task timeouts.
    pub(crate) fn timeouts(&self) -> [Option<Duration>; 3] {
        self.action_more.as_deref().map_or([None; 3], |a| {
            [a.execution_timeout, a.run_timeout, a.task_timeout]
        })
    }

    /// Sets `to` to the memo (no work when both are empty).
    pub(crate) fn memo_into(&self, to: &mut BTreeMap<String, serde_json::Value>) {
        match self.action_more.as_deref() {
            Some(a) => to.clone_from(&a.memo),
            // `clear` on an empty map still builds and drops an iterator.
            None if to.is_empty() => {}
            None => to.clear(),
        }
    }

    /// The spec's jitter.
    pub(crate) fn jitter(&self) -> Option<Duration> {
        self.spec_more.as_deref().and_then(|s| s.jitter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::ScheduleCalendarSpec;

    #[test]
    fn round_trips() {
        let mut plain = Schedule::default();
        plain.spec.intervals = vec![ScheduleIntervalSpec::new(Duration::from_secs(60))];
        let mut full = plain.clone();
        let ScheduleAction::StartWorkflow(a) = &mut full.action;
        a.workflow = "w".into();
        a.id = "i".into();
        a.task_queue = "q".into();
        a.args = vec![serde_json::json!(1)];
        a.run_timeout = Some(Duration::from_secs(5));
        a.memo.insert("k".into(), serde_json::json!("v"));
        full.spec.calendars = vec![ScheduleCalendarSpec::default()];
        full.spec.jitter = Some(Duration::from_secs(3));
        full.state.note = Some("n".into());
        for s in [Schedule::default(), plain, full] {
            let stored = StoredSchedule::from(s.clone());
            assert_eq!(stored.to_schedule(), s);
        }
    }
}
