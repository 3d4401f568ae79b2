//! Standalone workflows outside any schedule: cron jobs (`cron_schedule`), delayed starts
//! (`start_delay`) and plain starts at the next poll.
//!
//! Invariants: a job is either waiting (`next` is its next start) or running (`running`, and
//! `next` is `None`); its workflow id stays in the scheduler's workflow map for the job's whole
//! life, so no other start can take it. A cron job's next run is the first cron time after the
//! previous run's nominal time that is not before the close (slots passed while running are
//! skipped, not queued); Canceled or Terminated ends the chain, as do one-off runs closing.

use std::sync::Arc;

use super::action::{Action, StartWorkflowAction, StartWorkflowOptions, WorkflowOutcome};
use super::error::ScheduleError;
use super::heap::NEVER;
use super::sink::ActionSink;
use super::snapshot::WorkflowRecord;
use super::state::{from_ms, to_dt};
use crate::spec::{CompiledSpec, ScheduleSpec};

/// A cron job or one-off start.
#[derive(Debug)]
pub(crate) struct JobEntry {
    pub(crate) id: Arc<str>,
    /// As given (cron string and delay kept for the record).
    pub(crate) options: StartWorkflowOptions,
    /// The compiled cron string (cron jobs only).
    pub(crate) compiled: Option<CompiledSpec>,
    /// Next start (nominal, actual) millis; `None` while running.
    pub(crate) next: Option<(i64, i64)>,
    /// Nominal time of the running or last run.
    pub(crate) last_nominal_ms: Option<i64>,
    pub(crate) running: bool,
    pub(crate) last_completion_result: Option<serde_json::Value>,
    pub(crate) last_failure: Option<String>,
    pub(crate) dirty: bool,
}

fn invalid(message: impl Into<String>) -> ScheduleError {
    ScheduleError::InvalidArgument {
        message: message.into(),
    }
}

fn compile_cron(cron: &str) -> Result<CompiledSpec, crate::spec::SpecError> {
    ScheduleSpec {
        cron_expressions: vec![cron.to_owned()],
        ..ScheduleSpec::default()
    }
    .compile()
}

impl JobEntry {
    /// Validates `options` and plans the first start at `now_ms`.
    pub(crate) fn new(options: StartWorkflowOptions, now_ms: i64) -> Result<Self, ScheduleError> {
        if options.id.is_empty() {
            return Err(invalid("workflow id is empty"));
        }
        if options.workflow.is_empty() {
            return Err(invalid("workflow type name is empty"));
        }
        if options.task_queue.is_empty() {
            return Err(invalid("task queue is empty"));
        }
        let mut compiled = None;
        let next = match (&options.cron_schedule, options.start_delay) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "cron_schedule and start_delay cannot be used together",
                ))
            }
            (Some(cron), None) => {
                let spec = compile_cron(cron)?;
                let t = from_ms(now_ms)
                    .and_then(|now| spec.next_time(now))
                    .ok_or_else(|| {
                        invalid(format!("cron schedule {cron:?} has no future times"))
                    })?;
                compiled = Some(spec);
                (t.nominal.timestamp_millis(), t.actual.timestamp_millis())
            }
            (None, Some(delay)) => {
                let d = i64::try_from(delay.as_millis())
                    .map_err(|_| invalid("start_delay is too long"))?;
                let at = now_ms
                    .checked_add(d)
                    .filter(|t| from_ms(*t).is_some())
                    .ok_or_else(|| invalid("start_delay is too long"))?;
                (at, at)
            }
            (None, None) => (now_ms, now_ms),
        };
        Ok(JobEntry {
            id: Arc::from(options.id.as_str()),
            options,
            compiled,
            next: Some(next),
            last_nominal_ms: None,
            running: false,
            last_completion_result: None,
            last_failure: None,
            dirty: false,
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
    pub(crate) fn poll(&mut self, now_ms: i64, out: &mut ActionSink<'_>) {
        let Some((nominal, actual)) = self.next else {
            return;
        };
        if self.running || actual > now_ms {
            return;
        }
        self.next = None;
        self.running = true;
        self.last_nominal_ms = Some(nominal);
        let o = &self.options;
        out.push(Action::StartWorkflow(StartWorkflowAction {
            schedule_id: None,
            workflow_id: o.id.clone(),
            workflow: o.workflow.clone(),
            args: o.args.clone(),
            task_queue: o.task_queue.clone(),
            nominal_time: to_dt(nominal),
            scheduled_at: to_dt(actual),
            manual: false,
            execution_timeout: o.execution_timeout,
            run_timeout: o.run_timeout,
            task_timeout: o.task_timeout,
            memo: o.memo.clone(),
            last_completion_result: self.last_completion_result.clone(),
            last_failure: self.last_failure.clone(),
        }));
    }

    /// The run closed; returns whether the job goes on (a cron job's next run is planned).
    pub(crate) fn closed(&mut self, outcome: &WorkflowOutcome, now_ms: i64) -> bool {
        self.running = false;
        match outcome {
            WorkflowOutcome::Completed { result } => {
                self.last_completion_result = result.clone();
                self.last_failure = None;
            }
            WorkflowOutcome::Failed { message } => self.last_failure = Some(message.clone()),
            WorkflowOutcome::TimedOut => self.last_failure = Some("workflow timed out".into()),
            _ => return false,
        }
        let Some(spec) = self.compiled.as_ref() else {
            return false;
        };
        // Slots that passed while the run ran are skipped: search from just before now.
        let prev = self.last_nominal_ms.unwrap_or(i64::MIN);
        let mut after = from_ms(prev.max(now_ms.saturating_sub(1000)));
        while let Some(t) = after.and_then(|a| spec.next_time(a)) {
            if t.actual.timestamp_millis() >= now_ms {
                self.next = Some((t.nominal.timestamp_millis(), t.actual.timestamp_millis()));
                return true;
            }
            after = Some(t.nominal);
        }
        false
    }

    /// The self-contained record.
    pub(crate) fn record(&self) -> WorkflowRecord {
        let o = &self.options;
        WorkflowRecord {
            workflow_id: o.id.clone(),
            workflow: o.workflow.clone(),
            args: o.args.clone(),
            task_queue: o.task_queue.clone(),
            cron_schedule: o.cron_schedule.clone(),
            execution_timeout: o.execution_timeout,
            run_timeout: o.run_timeout,
            task_timeout: o.task_timeout,
            memo: o.memo.clone(),
            next_start: self.next.map(|(n, _)| to_dt(n)),
            last_nominal: self.last_nominal_ms.map(to_dt),
            running: self.running,
            last_completion_result: self.last_completion_result.clone(),
            last_failure: self.last_failure.clone(),
        }
    }

    /// Rebuilds a job from its record. A cron string that no longer compiles keeps the job
    /// (its id stays taken) but plans no further run.
    pub(crate) fn from_record(r: WorkflowRecord) -> Self {
        let compiled = r
            .cron_schedule
            .as_deref()
            .and_then(|c| compile_cron(c).ok());
        let next = r.next_start.map(|n| {
            let n_ms = n.timestamp_millis();
            // The actual time of a cron start is recomputed (jitter is a pure function).
            let actual = compiled
                .as_ref()
                .and_then(|s| from_ms(n_ms - 1000).and_then(|a| s.next_time(a)))
                .filter(|t| t.nominal == n)
                .map_or(n_ms, |t| t.actual.timestamp_millis());
            (n_ms, actual)
        });
        let next = if r.cron_schedule.is_some() && compiled.is_none() {
            None
        } else {
            next
        };
        JobEntry {
            id: Arc::from(r.workflow_id.as_str()),
            options: StartWorkflowOptions {
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
            },
            compiled,
            next,
            last_nominal_ms: r.last_nominal.map(|t| t.timestamp_millis()),
            running: r.running,
            last_completion_result: r.last_completion_result,
            last_failure: r.last_failure,
            dirty: false,
        }
    }
}
