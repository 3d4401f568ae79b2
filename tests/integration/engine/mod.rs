//! The sans-IO engine, scenario by scenario (Temporal's timelines), plus a model test of its
//! conservation laws.

mod catchup;
mod clock_jumps;
mod clock_jumps_dst;
mod config;
mod cron_jobs;
mod events;
mod lifecycle;
mod model;
mod overlap;
mod pause;
mod persist;
mod read_model;
mod traced;
mod trigger_backfill;
mod update_limits;
mod wake_queue;
mod workflow_ids;
mod workflows;
