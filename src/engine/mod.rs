//! The sans-IO `Scheduler`: schedules, their overlap buffers, catch-up and counters. Time enters
//! only as `now`; actions leave only through `poll(now)`.

mod action;
mod buffer;
mod config;
mod cron_job;
mod describe;
mod error;
mod hash;
mod heap;
mod persist;
mod process;
mod query;
mod recent;
mod schedule;
mod scheduler;
mod signals;
mod sink;
mod snapshot;
mod state;
mod stored;
mod workflow_id;
mod workflows;

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
pub use scheduler::Scheduler;
pub use snapshot::{
    BackfillRecord, BufferedStartRecord, RunningRecord, ScheduleRecord, SchedulerSnapshot,
    StateChange, WorkflowRecord,
};
