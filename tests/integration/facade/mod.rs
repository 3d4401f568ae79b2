//! The facade: the client's verbs, the worker, concurrent callers and the update loop.

mod client;
mod concurrency;
mod events;
mod update_conflict;
mod worker;
