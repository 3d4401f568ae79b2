//! Starting a schedule's run, and asking running runs to stop (overlap policies
//! CANCEL_OTHER and TERMINATE_OTHER).
//!
//! Invariant: a started run is tracked in `running` and in the scheduler's workflow map until
//! `workflow_closed` reports it; a start whose workflow id is already tracked is dropped
//! (Temporal's "already started") and counted.

use super::iterate::Ctx;
use super::{BufferedStart, Running, ScheduleEntry};
use crate::engine::action::{
    push_action, Action, CancelWorkflowAction, TerminateWorkflowAction, WorkflowExecutionStatus,
};
use crate::engine::compact::millis::to_dt;
use crate::engine::compact::recent::Recent;
use crate::engine::compact::start_template::Fire;
use crate::engine::compact::workflow_id::workflow_id;
use crate::engine::event::ScheduleEvent;

impl ScheduleEntry {
    /// Asks for every running run to be terminated (or cancelled), once per run.
    pub(super) fn request_stop(&mut self, terminate: bool, now_ms: i64, ctx: &mut Ctx<'_>) {
        for i in 0..self.running.len() {
            let r = &self.running[i];
            if r.terminate_requested || (!terminate && r.cancel_requested) {
                continue;
            }
            let workflow_id = self.run_id(r);
            let schedule_id = Some(String::from(&*self.id));
            ctx.events.record(|| {
                let (schedule_id, workflow_id, at) =
                    (self.id.to_string(), workflow_id.clone(), to_dt(now_ms));
                if terminate {
                    ScheduleEvent::TerminateRequested {
                        schedule_id,
                        workflow_id,
                        at,
                    }
                } else {
                    ScheduleEvent::CancelRequested {
                        schedule_id,
                        workflow_id,
                        at,
                    }
                }
            });
            let r = &mut self.running[i];
            let action = if terminate {
                r.terminate_requested = true;
                Action::TerminateWorkflow(TerminateWorkflowAction {
                    schedule_id,
                    workflow_id,
                    reason: "terminated by schedule overlap policy".into(),
                })
            } else {
                r.cancel_requested = true;
                Action::CancelWorkflow(CancelWorkflowAction {
                    schedule_id,
                    workflow_id,
                    reason: "cancelled by schedule overlap policy".into(),
                })
            };
            push_action(ctx.out, action);
        }
    }

    /// Starts one run; returns whether it started.
    pub(super) fn start_run(
        &mut self,
        slot: u32,
        s: BufferedStart,
        now_ms: i64,
        ctx: &mut Ctx<'_>,
    ) -> bool {
        if !s.manual && self.scheduled_blocked() {
            // Temporal discards a buffered scheduled start when paused or out of actions.
            self.counters.dropped_paused = self.counters.dropped_paused.saturating_add(1);
            ctx.events.record(|| ScheduleEvent::DroppedWhilePaused {
                schedule_id: self.id.to_string(),
                nominal_time: to_dt(s.nominal_ms),
                last_nominal_time: to_dt(s.nominal_ms),
                count: 1,
                at: to_dt(now_ms),
            });
            return false;
        }
        let nominal_s = s.nominal_ms.div_euclid(1000);
        // The fired start's one allocation: everything else in it is shared.
        let id = workflow_id(self.schedule.action_id(), nominal_s);
        let fingerprint = ctx.workflows.fingerprint(&id);
        let owns = |other: u32, id: &str| {
            if other == slot {
                self.runs(id, fingerprint)
            } else {
                (ctx.others)(other, id, fingerprint)
            }
        };
        // The entry's address goes with it, for the close to request its lines (see
        // `SlotTable::workflow_closed`).
        let near = std::ptr::from_ref(self).addr();
        if !ctx.workflows.insert(&id, fingerprint, slot, near, owns) {
            // Temporal's start fails with "already started" and the start is dropped.
            self.counters.duplicate_dropped = self.counters.duplicate_dropped.saturating_add(1);
            ctx.events.record(|| ScheduleEvent::DuplicateDropped {
                schedule_id: self.id.to_string(),
                workflow_id: id,
                nominal_time: to_dt(s.nominal_ms),
                at: to_dt(now_ms),
            });
            return false;
        }
        // Recorded before the action is built, from what builds it: reading the built action
        // would keep it on the stack and copy it into the output (callgrind: a memcpy per fire).
        ctx.events.record_detail(|| ScheduleEvent::Started {
            schedule_id: self.id.to_string(),
            workflow_id: id.clone(),
            nominal_time: to_dt(s.nominal_ms),
            scheduled_at: to_dt(s.actual_ms),
            manual: s.manual,
            at: to_dt(now_ms),
        });
        let extra = self.extra.as_deref();
        let action = self.schedule.template().start(Fire {
            workflow_id: id,
            nominal_ms: s.nominal_ms,
            scheduled_ms: s.actual_ms,
            manual: s.manual,
            last_completion_result: extra.and_then(|e| e.last_completion_result.clone()),
            last_failure: extra.and_then(|e| e.last_failure.clone()),
        });
        push_action(ctx.out, Action::StartWorkflow(action));
        if !s.manual {
            if let Some(r) = self.schedule.state.remaining_actions.as_mut() {
                *r = r.saturating_sub(1);
                self.bump_action_token();
            }
        }
        self.running.push(Running {
            fingerprint,
            nominal_s,
            spelled: false,
            cancel_requested: false,
            terminate_requested: false,
        });
        self.push_recent(Recent {
            nominal_s,
            started_ms: now_ms,
            // Jitter is under the gap to the next time and a trigger's part under a second;
            // a restored record may say anything, and a wrong recent entry is not worth a stop.
            jitter_ms: u32::try_from(s.actual_ms - nominal_s * 1000).unwrap_or(0),
            prefix: 0,
            status: WorkflowExecutionStatus::Running,
        });
        self.counters.actions = self.counters.actions.saturating_add(1);
        true
    }
}
