//! [`Verb`]: every mutation a client makes, as a value: applied to the local scheduler, or (in
//! cluster mode) encoded and sent to the node that owns its schedule's partition, which applies
//! it on its own scheduler and answers the encoded result.
//!
//! Invariant: a verb applied on the owner has exactly the effect and the result it would have
//! had on the caller's own scheduler (`AlreadyExists`, `NotFound`, `Conflict` come from the
//! scheduler that holds the schedule), and its encoding carries everything it needs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::engine::{
    CreateScheduleOptions, Schedule, ScheduleBackfill, ScheduleOverlapPolicy, ScheduleUpdate,
    Scheduler, StartWorkflowOptions, WorkflowOutcome,
};
use crate::error::ScheduleError;

/// One mutation of one schedule or standalone workflow.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum Verb {
    Create {
        id: String,
        schedule: Schedule,
        options: Option<CreateScheduleOptions>,
    },
    UpdateChecked {
        id: String,
        schedule: Schedule,
        conflict_token: u64,
    },
    /// Create, or update keeping state and counters (`Client::upsert_schedule`).
    Upsert {
        id: String,
        schedule: Schedule,
    },
    Pause {
        id: String,
        note: Option<String>,
    },
    Unpause {
        id: String,
        note: Option<String>,
    },
    Trigger {
        id: String,
        overlap: Option<ScheduleOverlapPolicy>,
    },
    Backfill {
        id: String,
        backfills: Vec<ScheduleBackfill>,
    },
    Delete {
        id: String,
    },
    StartWorkflow {
        options: StartWorkflowOptions,
    },
    /// A run reported closed; routed by the partition its start came from, not by its id.
    WorkflowClosed {
        workflow_id: String,
        outcome: WorkflowOutcome,
    },
}

impl Verb {
    /// The schedule or workflow id the verb is about (what it is routed by).
    pub(crate) fn key(&self) -> &str {
        match self {
            Verb::Create { id, .. }
            | Verb::UpdateChecked { id, .. }
            | Verb::Upsert { id, .. }
            | Verb::Pause { id, .. }
            | Verb::Unpause { id, .. }
            | Verb::Trigger { id, .. }
            | Verb::Backfill { id, .. }
            | Verb::Delete { id } => id,
            Verb::StartWorkflow { options } => &options.id,
            Verb::WorkflowClosed { workflow_id, .. } => workflow_id,
        }
    }

    /// The verb's name in tracing output: the public method it comes from.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Verb::Create { .. } => "create_schedule",
            Verb::UpdateChecked { .. } => "update",
            Verb::Upsert { .. } => "upsert_schedule",
            Verb::Pause { .. } => "pause",
            Verb::Unpause { .. } => "unpause",
            Verb::Trigger { .. } => "trigger",
            Verb::Backfill { .. } => "backfill",
            Verb::Delete { .. } => "delete",
            Verb::StartWorkflow { .. } => "start_workflow",
            Verb::WorkflowClosed { .. } => "workflow_closed",
        }
    }

    /// Applies the verb to `scheduler` at `now`.
    pub(crate) fn apply(self, s: &mut Scheduler, now: DateTime<Utc>) -> Result<(), ScheduleError> {
        match self {
            Verb::Create {
                id,
                schedule,
                options: None,
            } => s.create_schedule(&id, schedule, now),
            Verb::Create {
                id,
                schedule,
                options: Some(options),
            } => s.create_schedule_with_options(&id, schedule, options, now),
            Verb::UpdateChecked {
                id,
                schedule,
                conflict_token,
            } => s.update_checked(&id, schedule, conflict_token, now),
            Verb::Upsert { id, schedule } => upsert(s, &id, schedule, now),
            Verb::Pause { id, note } => s.pause(&id, note.as_deref(), now),
            Verb::Unpause { id, note } => s.unpause(&id, note.as_deref(), now),
            Verb::Trigger { id, overlap } => s.trigger(&id, overlap, now),
            Verb::Backfill { id, backfills } => s.backfill(&id, &backfills, now),
            Verb::Delete { id } => s.delete(&id, now),
            Verb::StartWorkflow { options } => s.start_workflow(options, now),
            Verb::WorkflowClosed {
                workflow_id,
                outcome,
            } => s.workflow_closed(&workflow_id, outcome, now),
        }
    }

    /// The verb as a command's text.
    #[cfg(feature = "postgres")]
    pub(crate) fn encode(&self) -> Result<String, ScheduleError> {
        serde_json::to_string(self)
            .map_err(|e| ScheduleError::invalid(format!("cannot encode the request: {e}")))
    }

    /// Applies an encoded verb and encodes its result (the owner's side of a command).
    #[cfg(feature = "postgres")]
    pub(crate) fn apply_encoded(command: &str, s: &mut Scheduler, now: DateTime<Utc>) -> String {
        let result = serde_json::from_str::<Verb>(command)
            .map_err(|e| {
                ScheduleError::invalid(format!(
                    "the owning node cannot read the request (a node of another version?): {e}"
                ))
            })
            .and_then(|verb| verb.apply(s, now));
        encode_result(&result)
    }
}

/// [`Verb::Upsert`] on the scheduler, in one call under its lock: an update whose callback
/// keeps the schedule's state, or a create when the updater never ran (no such schedule).
fn upsert(
    s: &mut Scheduler,
    id: &str,
    schedule: Schedule,
    now: DateTime<Utc>,
) -> Result<(), ScheduleError> {
    let mut config = Some(schedule);
    let updated = s.update(
        id,
        |input| {
            let current = input.description.schedule;
            let wanted = Schedule {
                state: current.state.clone(),
                ..config.take()?
            };
            (wanted != current).then_some(ScheduleUpdate { schedule: wanted })
        },
        now,
    );
    match (updated, config) {
        (Err(ScheduleError::NotFound { .. }), Some(schedule)) => {
            s.create_schedule(id, schedule, now)
        }
        (updated, _) => updated,
    }
}

/// A verb's result as a command's answer.
#[cfg(feature = "postgres")]
fn encode_result(result: &Result<(), ScheduleError>) -> String {
    serde_json::to_string(result).unwrap_or_else(|e| {
        let fallback: Result<(), ScheduleError> = Err(ScheduleError::invalid(format!(
            "the owning node cannot encode its answer: {e}"
        )));
        serde_json::to_string(&fallback).unwrap_or_default()
    })
}

/// Reads a command's answer.
#[cfg(feature = "postgres")]
pub(crate) fn decode_result(answer: &str) -> Result<(), ScheduleError> {
    serde_json::from_str::<Result<(), ScheduleError>>(answer).unwrap_or_else(|e| {
        Err(ScheduleError::invalid(format!(
            "cannot read the owning node's answer (a node of another version?): {e}: {answer}"
        )))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_verb_reads_back_as_itself() {
        let verbs = [
            Verb::Pause {
                id: "a".into(),
                note: Some("n".into()),
            },
            Verb::Backfill {
                id: "b".into(),
                backfills: vec![],
            },
            Verb::WorkflowClosed {
                workflow_id: "w".into(),
                outcome: WorkflowOutcome::Failed {
                    message: "m".into(),
                },
            },
        ];
        for verb in verbs {
            let text = serde_json::to_string(&verb).unwrap();
            let back: Verb = serde_json::from_str(&text).unwrap();
            assert_eq!(format!("{back:?}"), format!("{verb:?}"));
        }
    }
}
