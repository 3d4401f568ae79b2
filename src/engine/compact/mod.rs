//! How the engine keeps state small and fast. Nothing here knows a schedule's rules.
//!
//! `heap` (the wake-up queue), `id_hash` (the engine's one hash of ids), `workflow_map` (running
//! workflow id -> slot, by fingerprint), `workflow_id` (formatting run ids), `millis` (engine
//! time and its conversions, with a day cache), `recent` (the ring of recent actions),
//! `stored_schedule` (a schedule in compact form), `start_template` (what a schedule's starts
//! share), `prefetch` (the CPU's prefetch hint, the crate's one `unsafe` block).

pub(crate) mod heap;
pub(crate) mod id_hash;
pub(crate) mod millis;
pub(crate) mod prefetch;
pub(crate) mod recent;
pub(crate) mod start_template;
pub(crate) mod stored_schedule;
pub(crate) mod workflow_id;
pub(crate) mod workflow_map;
