//! Why a schedule operation was refused.

use crate::spec::SpecError;

/// A refused schedule operation. State is unchanged when one is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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
    /// Durable storage failed (see `store`). For a mutation: the change is applied in memory
    /// and is written with the next batch that succeeds, but it is not durable yet.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}
