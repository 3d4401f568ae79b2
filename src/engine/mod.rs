//! The sans-IO `Scheduler`: schedules, their overlap buffers, catch-up and counters. Time enters
//! only as `now`; actions leave only through `poll(now)`.
//!
//! - The vocabulary: `schedule` (what a user creates, and its validation), `schedule_action`
//!   (the action and its config-file forms), `action` (what the engine asks for and is told),
//!   `shared_str` (the strings a fired start shares), `description` (read models), `config`.
//! - `scheduler`: the public verbs; `table`: the slot table they work on (slots, the wake-up
//!   heap's upkeep, the id and workflow maps, the list of changed slots).
//! - `entry/`: what happens to one schedule (iteration, starts, overlap, events, read models,
//!   workflow ids of its runs) and to one standalone workflow (`job`).
//! - `compact/`: how state is kept small and fast (heap, id hash, workflow map, workflow-id
//!   formatting, millis, recent ring, stored schedule, start template); it knows nothing of
//!   schedules' rules.
//! - `persist/`: the snapshot and change-feed records, restore and the feed.
//!
//! Dependencies inside: the vocabulary and `compact/` <- `entry/` <- `table` <- `scheduler`;
//! `persist/` reads all of them.

mod action;
mod compact;
mod config;
mod description;
mod entry;
mod event;
mod persist;
mod schedule;
mod schedule_action;
mod scheduler;
mod shared_str;
mod table;

pub use action::{
    Action, CancelWorkflowAction, StartWorkflowAction, StartWorkflowOptions,
    TerminateWorkflowAction, WorkflowExecutionStatus, WorkflowOutcome,
};
pub use config::SchedulerConfig;
pub use description::{
    ScheduleActionExecution, ScheduleActionResult, ScheduleDescription, ScheduleInfo,
    ScheduleListDescription, ScheduleUpdate, ScheduleUpdateInput,
};
pub use event::ScheduleEvent;
pub use persist::records::{
    BackfillRecord, BufferedStartRecord, RunningRecord, ScheduleRecord, SchedulerSnapshot,
    StateChange, WorkflowRecord,
};
pub use schedule::{
    CreateScheduleOptions, Schedule, ScheduleBackfill, ScheduleOverlapPolicy, SchedulePolicy,
    ScheduleState,
};
pub use schedule_action::{ScheduleAction, ScheduleActionStartWorkflow};
pub use scheduler::Scheduler;
pub use shared_str::SharedStr;
