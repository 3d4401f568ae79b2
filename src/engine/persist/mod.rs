//! Persistence: the self-contained records of a snapshot and of the change feed (`records`),
//! and the scheduler's snapshot, restore and feed (`restore`).

pub(crate) mod records;
mod restore;
