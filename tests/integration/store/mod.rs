//! Durability: restarts, store failures, snapshots, damaged files.

mod corruption;
mod faults;
mod restart;
mod snapshot;
