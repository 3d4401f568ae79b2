//! The tests that count allocations, in a binary of their own: it installs the counting global
//! allocator (`tests/util/counting_alloc.rs`, shared with the benches).

#![allow(clippy::disallowed_methods)] // tests time themselves and run real threads

#[path = "../util/counting_alloc.rs"]
mod counting_alloc;
mod engine;
mod facade;
mod spec;
#[path = "../util/mod.rs"]
mod util;
