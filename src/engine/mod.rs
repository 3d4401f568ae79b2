//! The sans-IO `Scheduler`: schedules, their overlap buffers, catch-up and counters. Time enters
//! only as `now`; actions leave only through `poll(now)`.

mod action;
mod config;
mod describe;
mod error;
mod schedule;

pub use action::{
    Action, CancelWorkflowAction, StartWorkflowAction, StartWorkflowOptions,
    TerminateWorkflowAction, WorkflowOutcome,
};
pub use config::SchedulerConfig;
pub use describe::{
    ScheduleActionExecution, ScheduleActionResult, ScheduleDescription, ScheduleInfo,
    ScheduleListDescription,
};
pub use error::ScheduleError;
pub use schedule::{
    CreateScheduleOptions, Schedule, ScheduleAction, ScheduleActionStartWorkflow, ScheduleBackfill,
    ScheduleOverlapPolicy, SchedulePolicy, ScheduleState, ScheduleUpdate, ScheduleUpdateInput,
    DEFAULT_CATCHUP_WINDOW, MIN_CATCHUP_WINDOW,
};
