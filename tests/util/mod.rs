//! The helpers every test binary shares, defined once: `engine` (instants, durations, schedule
//! builders, action readers, named counters), `facade` (a recording executor and schedules on
//! Temporal's test epoch), `store` (an executor feeding a channel, a failing store), `spec`
//! (vector readers and oracles), `pg` (a throwaway PostgreSQL server). The counting allocator
//! (`counting_alloc.rs`) is not here: only the binaries that install it include it.
#![allow(dead_code)] // each binary uses a different part

pub mod engine;
pub mod facade;
#[cfg(feature = "postgres")]
pub mod pg;
pub mod spec;
pub mod store;
pub mod trace;
