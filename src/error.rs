//! Why a schedule operation was refused: [`ScheduleError`], shared by the engine and the client
//! (it wraps the spec's and the store's errors, so neither layer reaches up for it).

use serde::{Deserialize, Serialize};

use crate::spec::SpecError;
use crate::store::StoreError;

/// A refused schedule operation. State is unchanged when one is returned (a store failure
/// excepted, see [`ScheduleError::Store`]). Serializable, so that a cluster node can return one
/// as a command's result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ScheduleError {
    /// A schedule (or running workflow) with this id exists.
    #[error("schedule {id:?} already exists")]
    AlreadyExists {
        /// The id.
        id: String,
    },
    /// No schedule has this id.
    #[error("schedule {id:?} not found")]
    NotFound {
        /// The id.
        id: String,
    },
    /// The spec does not compile.
    #[error("invalid schedule spec: {0}")]
    InvalidSpec(#[from] SpecError),
    /// Another argument is invalid.
    #[error("invalid argument: {message}")]
    InvalidArgument {
        /// What is wrong.
        message: String,
    },
    /// A compare-and-swap update was refused: the schedule was updated, paused, unpaused or
    /// paused by a failure since the description its conflict token came from (see
    /// `Scheduler::update_checked`), or `ScheduleHandle::update` ran out of attempts.
    #[error("schedule {id:?} changed concurrently (conflict token moved); describe it again")]
    Conflict {
        /// The schedule id.
        id: String,
    },
    /// No schedule or standalone workflow tracks this workflow id as running (its schedule was
    /// deleted, it was reported closed already, or it never started).
    #[error("workflow {workflow_id:?} is not running (no schedule or job tracks it)")]
    WorkflowNotFound {
        /// The workflow id.
        workflow_id: String,
    },
    /// Durable storage failed (see [`store`](crate::store)). Only a client with a store returns
    /// it (its verbs and `ClientBuilder::build`); a [`Scheduler`](crate::Scheduler) never
    /// does. For a mutation: the change is applied in memory and is written with the next
    /// batch that succeeds, but it is not durable yet.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ScheduleError {
    /// An [`InvalidArgument`](ScheduleError::InvalidArgument) saying `message`.
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        ScheduleError::InvalidArgument {
            message: message.into(),
        }
    }
}
