//! The facade: a thread-safe [`Client`] and [`ScheduleHandle`] with the verbs of Temporal's SDK,
//! a [`Clock`], and a [`Worker`] that drives the sans-IO `Scheduler` and runs its actions through
//! the user's [`WorkflowExecutor`] (or the ready [`WorkflowRegistry`] of Rust closures).

#[allow(clippy::module_inception)]
mod client;
mod clock;
mod durable;
mod events;
mod executor;
mod handle;
mod hosted;
mod registry;
mod shared;
mod worker;

pub use client::{Client, ClientBuilder};
pub use clock::{Clock, ManualClock, SystemClock};
pub use executor::{Completion, WorkflowExecutor};
pub use handle::ScheduleHandle;
pub use registry::{WorkflowContext, WorkflowError, WorkflowRegistry};
pub use worker::Worker;
