//! Standalone workflows outside any schedule: cron jobs (`cron_schedule`), delayed starts
//! (`start_delay`) and plain starts at the next poll.
//!
//! Cron jobs run as the Temporal server runs them, not as schedules: the string is read in
//! robfig's standard dialect and each run is planned by the server's next-run rule
//! ([`StandardCron`]). A run's *scheduled time* is when its first workflow task is due (the
//! server's execution time): the first run's is the start plus the wait until the first cron
//! time after it, rounded up to whole seconds; when a run closes (Completed, Failed or
//! TimedOut), the next run waits from the close until the first cron time after the closed
//! run's scheduled time that is not before the close (times passed while it ran are skipped,
//! not queued), again rounded up. Canceled or Terminated ends the chain, as does a one-off run
//! closing. Time here is milliseconds, as everywhere in the engine (the server uses
//! nanoseconds; the rounding can differ only for a close less than a millisecond after a
//! whole second).
//!
//! Invariants: a job is either waiting (`next` is its next start) or running (`running`, and
//! `next` is `None`); its workflow id stays in the scheduler's workflow map for the job's whole
//! life, so no other start can take it.

use std::sync::Arc;

use crate::engine::action::{push_action, Action, StartWorkflowOptions, WorkflowOutcome};
use crate::engine::compact::heap::NEVER;
use crate::engine::compact::millis::{from_ms, to_dt};
use crate::engine::compact::start_template::{Fire, StartTemplate, TemplateParts};
use crate::engine::persist::records::WorkflowRecord;
use crate::engine::shared_str::SharedStr;
use crate::error::ScheduleError;
use crate::spec::StandardCron;

/// A cron job or one-off start.
#[derive(Debug)]
pub(crate) struct JobEntry {
    pub(crate) id: Arc<str>,
    /// As given (cron string and delay kept for the record), without its arguments and memo,
    /// which are in `template`.
    pub(crate) options: StartWorkflowOptions,
    /// What its starts share.
    template: StartTemplate,
    /// The parsed cron string (cron jobs only; `None` too for a restored string that robfig
    /// rejects, whose chain ends with its next close).
    pub(crate) cron: Option<StandardCron>,
    /// Next start millis: (nominal, scheduled). For a cron job the nominal time is the cron
    /// time and the scheduled time when its first task is due; `None` while running.
    pub(crate) next: Option<(i64, i64)>,
    /// Nominal time of the running or last run.
    pub(crate) last_nominal_ms: Option<i64>,
    /// Scheduled time of the running or last run (what the next run is planned from).
    pub(crate) last_scheduled_ms: Option<i64>,
    pub(crate) running: bool,
    pub(crate) last_completion_result: Option<Arc<serde_json::Value>>,
    pub(crate) last_failure: Option<SharedStr>,
}

/// The template of `options`' starts; its arguments and memo move into it.
fn template(options: &mut StartWorkflowOptions) -> StartTemplate {
    StartTemplate::new(TemplateParts {
        schedule_id: None,
        workflow: &options.workflow,
        action_id: &options.id,
        task_queue: &options.task_queue,
        args: std::mem::take(&mut options.args),
        memo: std::mem::take(&mut options.memo),
        timeouts: [
            options.execution_timeout,
            options.run_timeout,
            options.task_timeout,
        ],
    })
}

/// Reads a cron job's string as the server does; its error carries the server's wording.
fn parse_cron(text: &str) -> Result<StandardCron, ScheduleError> {
    StandardCron::parse(text)
        .map_err(|e| ScheduleError::invalid(format!("invalid CronSchedule. {e}")))
}

/// The server's message for a string that parses but never fires.
const NO_TIME: &str = "invalid CronSchedule, no time can be found to satisfy the schedule";

/// The run after one scheduled at `scheduled_ms`, planned at `now_ms`: (nominal, scheduled)
/// millis, or `None` when the schedule has no further time.
fn plan(cron: &StandardCron, scheduled_ms: i64, now_ms: i64) -> Option<(i64, i64)> {
    let run = cron.next_run(from_ms(scheduled_ms)?, from_ms(now_ms)?)?;
    let wait = i64::try_from(run.backoff.as_millis()).ok()?;
    let at = now_ms.checked_add(wait).filter(|t| from_ms(*t).is_some())?;
    Some((run.cron_time.timestamp_millis(), at))
}

impl JobEntry {
    /// Validates `options` and plans the first start at `now_ms`.
    pub(crate) fn new(
        mut options: StartWorkflowOptions,
        now_ms: i64,
    ) -> Result<Self, ScheduleError> {
        if options.id.is_empty() {
            return Err(ScheduleError::invalid("workflow id is empty"));
        }
        if options.workflow.is_empty() {
            return Err(ScheduleError::invalid("workflow type name is empty"));
        }
        if options.task_queue.is_empty() {
            return Err(ScheduleError::invalid("task queue is empty"));
        }
        let mut cron = None;
        let next = match (&options.cron_schedule, options.start_delay) {
            (Some(_), Some(_)) => {
                return Err(ScheduleError::invalid(
                    "CronSchedule and WorkflowStartDelay may not be used together: \
                     cron_schedule and start_delay cannot be used together",
                ))
            }
            (Some(text), None) => {
                let parsed = parse_cron(text)?;
                // The first run is planned as if a run scheduled now had just closed.
                let first =
                    plan(&parsed, now_ms, now_ms).ok_or_else(|| ScheduleError::invalid(NO_TIME))?;
                cron = Some(parsed);
                first
            }
            (None, Some(delay)) => {
                let d = i64::try_from(delay.as_millis())
                    .map_err(|_| ScheduleError::invalid("start_delay is too long"))?;
                let at = now_ms
                    .checked_add(d)
                    .filter(|t| from_ms(*t).is_some())
                    .ok_or_else(|| ScheduleError::invalid("start_delay is too long"))?;
                (at, at)
            }
            (None, None) => (now_ms, now_ms),
        };
        Ok(JobEntry {
            id: Arc::from(options.id.as_str()),
            template: template(&mut options),
            options,
            cron,
            next: Some(next),
            last_nominal_ms: None,
            last_scheduled_ms: None,
            running: false,
            last_completion_result: None,
            last_failure: None,
        })
    }

    /// When `poll` next has work for this job.
    pub(crate) fn wake_ms(&self) -> i64 {
        match self.next {
            Some((_, actual)) if !self.running => actual,
            _ => NEVER,
        }
    }

    /// Starts the run if it is due at `now_ms`.
    pub(crate) fn poll(&mut self, now_ms: i64, out: &mut Vec<Action>) {
        let Some((nominal, actual)) = self.next else {
            return;
        };
        if self.running || actual > now_ms {
            return;
        }
        self.next = None;
        self.running = true;
        self.last_nominal_ms = Some(nominal);
        self.last_scheduled_ms = Some(actual);
        let action = self.template.start(Fire {
            workflow_id: self.options.id.clone(),
            nominal_ms: nominal,
            scheduled_ms: actual,
            manual: false,
            last_completion_result: self.last_completion_result.clone(),
            last_failure: self.last_failure.clone(),
        });
        push_action(out, Action::StartWorkflow(action));
    }

    /// The run closed; returns whether the job goes on (a cron job's next run is planned).
    pub(crate) fn closed(&mut self, outcome: &WorkflowOutcome, now_ms: i64) -> bool {
        self.running = false;
        match outcome {
            WorkflowOutcome::Completed { result } => {
                self.last_completion_result = result.clone().map(Arc::new);
                self.last_failure = None;
            }
            WorkflowOutcome::Failed { message } => {
                self.last_failure = Some(SharedStr::from(message.as_str()));
            }
            WorkflowOutcome::TimedOut => self.last_failure = Some("workflow timed out".into()),
            _ => return false,
        }
        let (Some(cron), Some(scheduled)) = (self.cron.as_ref(), self.last_scheduled_ms) else {
            return false;
        };
        self.next = plan(cron, scheduled, now_ms);
        self.next.is_some()
    }

    /// The self-contained record.
    pub(crate) fn record(&self) -> WorkflowRecord {
        let o = &self.options;
        WorkflowRecord {
            workflow_id: o.id.clone(),
            workflow: o.workflow.clone(),
            args: self.template.args().to_vec(),
            task_queue: o.task_queue.clone(),
            cron_schedule: o.cron_schedule.clone(),
            execution_timeout: o.execution_timeout,
            run_timeout: o.run_timeout,
            task_timeout: o.task_timeout,
            memo: self.template.memo().clone(),
            next_start: self.next.map(|(n, _)| to_dt(n)),
            next_scheduled_at: self.next.map(|(_, a)| to_dt(a)),
            last_nominal: self.last_nominal_ms.map(to_dt),
            last_scheduled_at: self.last_scheduled_ms.map(to_dt),
            running: self.running,
            last_completion_result: self.last_completion_result.as_deref().cloned(),
            last_failure: self.last_failure.as_deref().map(String::from),
        }
    }

    /// Rebuilds a job from its record. Records written before cron jobs followed the server
    /// (no `next_scheduled_at`) start their pending run at its recorded nominal time, as they
    /// would have; the runs after it follow the server's rule. A cron string that robfig
    /// rejects (one written for the schedule dialect, such as `0 0 * * 7`) keeps its pending
    /// or running run, and its chain ends when that run closes.
    pub(crate) fn from_record(r: WorkflowRecord) -> Self {
        let cron = r
            .cron_schedule
            .as_deref()
            .and_then(|c| StandardCron::parse(c).ok());
        let next = r.next_start.map(|n| {
            let at = r.next_scheduled_at.unwrap_or(n);
            (n.timestamp_millis(), at.timestamp_millis())
        });
        let last_scheduled = r.last_scheduled_at.or(r.last_nominal);
        let mut options = StartWorkflowOptions {
            workflow: r.workflow,
            args: r.args,
            id: r.workflow_id,
            task_queue: r.task_queue,
            cron_schedule: r.cron_schedule,
            start_delay: None,
            execution_timeout: r.execution_timeout,
            run_timeout: r.run_timeout,
            task_timeout: r.task_timeout,
            memo: r.memo,
        };
        JobEntry {
            id: Arc::from(options.id.as_str()),
            template: template(&mut options),
            options,
            cron,
            next,
            last_nominal_ms: r.last_nominal.map(|t| t.timestamp_millis()),
            last_scheduled_ms: last_scheduled.map(|t| t.timestamp_millis()),
            running: r.running,
            last_completion_result: r.last_completion_result.map(Arc::new),
            last_failure: r.last_failure.map(SharedStr::from),
        }
    }
}
