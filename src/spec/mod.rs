//! Timeline math: a [`ScheduleSpec`] compiles to a [`CompiledSpec`] that computes the exact
//! times at which Temporal's server would act. Pure: no clock, no I/O, no schedules.

mod compiled;
mod error;
mod types;

pub use compiled::CompiledSpec;
pub use error::SpecError;
pub use types::{
    ScheduleCalendarSpec, ScheduleIntervalSpec, ScheduleRange, ScheduleSpec, ScheduledTime,
};
