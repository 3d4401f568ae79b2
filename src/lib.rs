//! # schedule-engine
//!
//! Temporal's Schedules, embedded: recurring and one-off work with the exact semantics of the
//! Temporal server, driven in-process, without a server.
//!
//! (The manual grows here as the layers land.)
//!
//! ## Durability
//!
//! Give the client builder a [`Store`] (`SqliteStore` with the `sqlite` feature) and its
//! schedules, counters, buffers, running runs, cron jobs and delayed starts survive restarts and
//! crashes: every change is written before any action it records is dispatched (write-ahead),
//! each nominal time is started at least once (a crash can make the executor see a workflow id
//! twice; ids are deterministic, so it can de-duplicate), and times that came due while the
//! process was down are handled by each schedule's catch-up window and overlap policy. See
//! [`Store`] for the full list, including runs interrupted by a crash and store failures.
//!
//! ```no_run
//! # #[cfg(feature = "sqlite")] {
//! use schedule_engine::{Client, SqliteStore};
//!
//! let store = SqliteStore::open("schedules.db")?;
//! let client = Client::builder()
//!     .store(store)
//!     .on_store_error(|e| eprintln!("schedules not saved: {e}"))
//!     .build()?;
//! # let _ = client;
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

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
