//! A schedule as the engine keeps it: the user's [`Schedule`] in a compact form. The action's
//! strings, arguments and memo are its [`StartTemplate`] (what every fired start shares); the
//! intervals are inline for the usual single one (no allocation of their own); the other
//! parts of the spec that are usually empty (calendars, cron strings, skips, bounds, jitter,
//! time zone) live in a box that exists only when one is set.
//!
//! Invariant: `to_schedule(new(id, s)) == s` for every schedule `s`.

use std::time::Duration;

use smallvec::SmallVec;

use super::start_template::{StartTemplate, TemplateParts};
use crate::engine::schedule::{Schedule, SchedulePolicy, ScheduleState};
use crate::engine::schedule_action::{ScheduleAction, ScheduleActionStartWorkflow};
use crate::engine::shared_str::SharedStr;
use crate::spec::{ScheduleIntervalSpec, ScheduleSpec};

/// The compact form of a [`Schedule`]. In declaration order (`repr(C)`): what a fire reads (the
/// action, the policies, the state) before the spec it does not read (the compiled spec
/// answers it).
#[derive(Debug, Clone)]
#[repr(C)]
pub(crate) struct StoredSchedule {
    /// The action: what every start of the schedule shares.
    template: StartTemplate,
    /// Overlap, catch-up and failure policies (effective catch-up window).
    pub(crate) policy: SchedulePolicy,
    /// Pause state, note and remaining actions.
    pub(crate) state: ScheduleState,
    intervals: SmallVec<[ScheduleIntervalSpec; 1]>,
    /// The spec without its intervals, when anything else is set.
    spec_more: Option<Box<ScheduleSpec>>,
}

impl StoredSchedule {
    /// Schedule `id`'s compact form.
    pub(crate) fn new(id: &str, s: Schedule) -> Self {
        let ScheduleAction::StartWorkflow(a) = s.action;
        let template = StartTemplate::new(TemplateParts {
            schedule_id: Some(id),
            workflow: &a.workflow,
            action_id: &a.id,
            task_queue: &a.task_queue,
            args: a.args,
            memo: a.memo,
            timeouts: [a.execution_timeout, a.run_timeout, a.task_timeout],
        });
        let mut spec = s.spec;
        let intervals = std::mem::take(&mut spec.intervals).into_iter().collect();
        let spec_more = (spec != ScheduleSpec::default()).then(|| Box::new(spec));
        StoredSchedule {
            template,
            intervals,
            spec_more,
            policy: s.policy,
            state: s.state,
        }
    }

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
        let t = &self.template;
        let [execution_timeout, run_timeout, task_timeout] = t.timeouts();
        ScheduleActionStartWorkflow {
            workflow: t.workflow().to_owned(),
            args: t.args().to_vec(),
            id: t.action_id().to_owned(),
            task_queue: t.task_queue().to_owned(),
            execution_timeout,
            run_timeout,
            task_timeout,
            memo: t.memo().clone(),
        }
    }

    /// The spec.
    pub(crate) fn spec(&self) -> ScheduleSpec {
        let mut s = self.spec_more.as_deref().cloned().unwrap_or_default();
        s.intervals = self.intervals.to_vec();
        s
    }

    /// The schedule's id, a handle into its shared strings.
    pub(crate) fn id(&self) -> SharedStr {
        self.template.schedule_id()
    }

    /// What every start shares.
    pub(crate) fn template(&self) -> &StartTemplate {
        &self.template
    }

    /// Workflow id prefix.
    pub(crate) fn action_id(&self) -> &str {
        self.template.action_id()
    }

    /// Workflow type name.
    pub(crate) fn workflow(&self) -> &str {
        self.template.workflow()
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
            let stored = StoredSchedule::new("id", s.clone());
            assert_eq!(stored.to_schedule(), s);
        }
    }
}
