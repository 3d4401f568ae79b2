//! The facade: the client's verbs, the worker, concurrent callers and the update loop.

#[cfg(feature = "tokio")]
mod async_registry;
mod client;
mod concurrency;
mod tracing;
mod update_conflict;
mod upsert;
mod worker;
