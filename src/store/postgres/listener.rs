//! The listener: a thread per node with a connection of its own that `LISTEN`s on the cluster's
//! four channels and turns notifications into wake-ups:
//!
//! * `se_results` (a command id): wakes the caller waiting for that command;
//! * `se_commands` (a partition): tells the host, if this node holds the partition, that
//!   commands wait ([`ClusterEvent::CommandsPending`]);
//! * `se_stops` (a member id): stops were sent to this member ([`ClusterEvent::StopsPending`]);
//! * `se_partitions` (a partition was released, or a node left): wakes the keeper, so that a
//!   graceful hand-over takes one round trip, not a renew interval.
//!
//! Invariant: after every (re)connection, when notifications may have been missed, every waiting
//! caller is woken (it reads its command's row), every held partition gets a
//! `CommandsPending`, the host gets a `StopsPending`, and the keeper runs a round. Nothing depends on a notification arriving:
//! they only make things happen sooner.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;

use super::conn::pg_error;
use super::keeper::ClusterEvent;
use super::Shared;

/// How long one wait for notifications lasts before the stop flag is read again.
const POLL: Duration = Duration::from_millis(200);

/// Runs the listener until `stop` is set.
pub(crate) fn run(shared: Arc<Shared>, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::SeqCst) {
        let mut conn = match shared.db.connect() {
            Ok(conn) => conn,
            Err(_) if stop.load(Ordering::SeqCst) => return,
            Err(e) => {
                shared.reporter.report("notification listener", Some(e));
                std::thread::sleep(POLL);
                continue;
            }
        };
        if let Err(e) = conn.client.batch_execute(
            "LISTEN se_results; LISTEN se_commands; LISTEN se_stops; LISTEN se_partitions;",
        ) {
            shared
                .reporter
                .report("notification listener", Some(pg_error("cannot listen", &e)));
            std::thread::sleep(POLL);
            continue;
        }
        shared.reporter.report("notification listener", None);
        catch_up(&shared);
        while !stop.load(Ordering::SeqCst) {
            let mut notifications = conn.client.notifications();
            let mut iter = notifications.timeout_iter(POLL);
            let mut failed = None;
            loop {
                match iter.next() {
                    Ok(Some(n)) => handle(&shared, n.channel(), n.payload()),
                    Ok(None) => break,
                    Err(e) => {
                        failed = Some(pg_error("lost the notification connection", &e));
                        break;
                    }
                }
                if stop.load(Ordering::SeqCst) {
                    break;
                }
            }
            drop(iter);
            drop(notifications);
            if stop.load(Ordering::SeqCst) {
                return;
            }
            if failed.is_some() || conn.client.is_closed() {
                let error = failed.unwrap_or_else(|| {
                    crate::store::StoreError::io(None, "the notification connection closed")
                });
                shared.reporter.report("notification listener", Some(error));
                break;
            }
        }
    }
}

/// What may have been missed while not listening.
fn catch_up(shared: &Shared) {
    shared.waiters.wake_all();
    for held in shared.held.all() {
        shared.emit(ClusterEvent::CommandsPending(held.lease));
    }
    shared.emit(ClusterEvent::StopsPending);
    shared.wake_keeper();
}

fn handle(shared: &Shared, channel: &str, payload: &str) {
    match channel {
        "se_results" => {
            if let Ok(id) = payload.parse() {
                shared.waiters.wake(id);
            }
        }
        "se_commands" => {
            if let Some(lease) = payload.parse().ok().and_then(|p| shared.held.get(p)) {
                shared.emit(ClusterEvent::CommandsPending(lease));
            }
        }
        "se_stops" if payload == shared.member => shared.emit(ClusterEvent::StopsPending),
        "se_partitions" => shared.wake_keeper(),
        _ => {}
    }
}
