//! The integration tests, in one binary (one binary per file made linking dominate
//! `cargo test` on two cores): the spec engine against Temporal's vectors and oracles, the
//! engine's scenarios, the facade, the stores, the cluster (feature `postgres`), and the crate's
//! architecture. The tests that need a global allocator of their own are in `tests/alloc/`, the
//! crash test (which kills processes) in `tests/crash.rs`.

#![allow(clippy::disallowed_methods)] // tests time themselves and run real threads

#[path = "../architecture.rs"]
mod architecture;
#[cfg(feature = "postgres")]
mod cluster;
mod engine;
mod facade;
mod spec;
mod store;
#[path = "../util/mod.rs"]
mod util;
