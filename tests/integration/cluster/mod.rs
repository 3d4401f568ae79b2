//! The cluster's storage against a real PostgreSQL (a throwaway server per test binary, see
//! `tests/util/pg.rs`): leases and fencing, balancing, the command queue, faults.
//!
//! Each test uses a database of its own on the shared server, except the restart test, which
//! restarts a server of its own. Nodes are `PostgresCluster`s in this process, or child
//! processes (this test binary run again on its `child_process` entry) where a node must be
//! killed or paused. The client and worker in cluster mode: `nodes` (3 hosting nodes in this
//! process), `routing` (verbs from any node), `scenarios` (the facade's scenarios on 3 nodes),
//! `handover` (runs open while their partition changes hands), `stops` (cancels of such runs).
use crate::util::pg as pg_util;

mod balance;
mod commands;
mod faults;
mod handover;
mod host;
mod leases;
mod node_faults;
mod nodes;
mod routing;
/// The facade's scenarios on a 3-node cluster, every verb issued on a node that does not own
/// the schedule (see `nodes::setup`).
#[allow(clippy::duplicate_mod, reason = "the same scenarios, on another setup")]
#[path = "../facade/client.rs"]
mod scenarios;
mod stops;

pub use host::{config, connect, wait_within};
pub use nodes::setup;

/// Entry point of the child node processes that the fault and balancing tests start (this
/// binary, run again with `--ignored --exact cluster::child_process`); it does nothing when run
/// otherwise.
#[test]
#[ignore = "entry point of child processes, started by the tests themselves"]
fn child_process() {
    match std::env::var(host::CHILD_MODE).as_deref() {
        Ok("client") => node_faults::run_node(),
        Ok("holding") => handover::run_holding_node(),
        Ok(mode) => host::run_child(mode),
        Err(_) => {}
    }
}
