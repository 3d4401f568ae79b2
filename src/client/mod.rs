//! The facade: a thread-safe [`Client`] and [`ScheduleHandle`] with the verbs of Temporal's SDK,
//! a [`Clock`], and a [`Worker`] that drives the sans-IO `Scheduler` and runs its actions through
//! the user's [`WorkflowExecutor`] (or the ready [`WorkflowRegistry`] of Rust closures, or with
//! feature `tokio` the `AsyncWorkflowRegistry` of async closures).

#[cfg(feature = "tokio")]
mod async_registry;
#[allow(clippy::module_inception)]
mod client;
mod clock;
#[cfg(feature = "postgres")]
mod cluster;
mod context;
mod durable;
mod events;
mod exchange;
mod executor;
mod handle;
mod hosted;
mod latch;
mod registry;
mod shared;
mod verb;
mod worker;

#[cfg(feature = "tokio")]
pub use async_registry::AsyncWorkflowRegistry;
pub use client::{Client, ClientBuilder};
pub use clock::{Clock, ManualClock, SystemClock};
pub use context::{WorkflowContext, WorkflowError};
pub use executor::{Completion, WorkflowExecutor};
pub use handle::ScheduleHandle;
pub use registry::WorkflowRegistry;
pub use worker::Worker;
