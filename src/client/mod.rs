//! The facade: a thread-safe [`Client`] and [`ScheduleHandle`] with the verbs of Temporal's SDK,
//! a [`Clock`], and a [`Worker`] that drives the sans-IO `Scheduler` and runs its actions through
//! the user's [`WorkflowExecutor`].

mod clock;

pub use clock::{Clock, ClockWaker, ManualClock, SystemClock};
