//! # schedule-engine
//!
//! Temporal's Schedules, embedded: recurring and one-off work with the exact semantics of the
//! Temporal server, driven in-process, without a server.
//!
//! (The manual grows here as the layers land.)

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod client;
mod engine;
mod spec;
mod store;

pub use client::{
    Client, ClientBuilder, Clock, ClockWaker, Completion, ManualClock, ScheduleHandle, SystemClock,
    Worker, WorkflowContext, WorkflowError, WorkflowExecutor, WorkflowRegistry,
};

pub use engine::{
    Action, CancelWorkflowAction, CreateScheduleOptions, Schedule, ScheduleAction,
    ScheduleActionExecution, ScheduleActionResult, ScheduleActionStartWorkflow, ScheduleBackfill,
    ScheduleDescription, ScheduleError, ScheduleInfo, ScheduleListDescription,
    ScheduleOverlapPolicy, SchedulePolicy, ScheduleState, ScheduleUpdate, ScheduleUpdateInput,
    SchedulerConfig, StartWorkflowAction, StartWorkflowOptions, TerminateWorkflowAction,
    WorkflowOutcome,
};
pub use engine::{
    BackfillRecord, BufferedStartRecord, RunningRecord, ScheduleRecord, Scheduler,
    SchedulerSnapshot, StateChange, WorkflowRecord, DEFAULT_CATCHUP_WINDOW, MIN_CATCHUP_WINDOW,
};
pub use spec::{
    CompiledSpec, ScheduleCalendarSpec, ScheduleIntervalSpec, ScheduleRange, ScheduleSpec,
    ScheduledTime, SpecError,
};
pub use store::{
    MemoryStore, RecordKind, Store, StoreChange, StoreError, StoreErrorKind, StoredRecord,
};
#[cfg(feature = "sqlite")]
pub use store::{SqliteStore, SqliteSynchronous};
