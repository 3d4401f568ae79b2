//! The fan-out of schedule events to the subscribers of a client ([`EventHub`]).
//!
//! Delivery guarantees, and why:
//! - Every subscriber receives the events of every call made after it subscribed, in the order
//!   the engine decided them: they are taken from the scheduler and sent under its lock, so
//!   calls from different threads cannot interleave their events.
//! - A subscriber never slows or blocks the engine: each has a bounded channel of
//!   [`SUBSCRIBER_CAPACITY`] events, sent to without waiting. An event that finds the channel
//!   full is dropped for that subscriber and counted; the count is delivered as
//!   [`ScheduleEvent::Lagged`] ahead of the next event that fits. So a subscriber that never
//!   reads holds at most the capacity in memory, and one that reads late knows exactly how
//!   much it missed.
//! - Events report decisions, not durability: with a store, a call's events go out once its
//!   batch was attempted; if the batch failed, the `Started` of an action still held back
//!   (until a later batch succeeds) has already been sent.
//! - A subscriber whose receiver was dropped is pruned at the next event; with none left, the
//!   scheduler stops recording events, and its fire path is back to one branch per decision.

use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_channel::{Receiver, Sender, TrySendError};
use parking_lot::Mutex;

use crate::engine::{ScheduleEvent, Scheduler};

/// Events a subscriber's channel holds before it lags (a few hundred kilobytes at most).
pub(crate) const SUBSCRIBER_CAPACITY: usize = 1024;

/// One subscriber: its channel and what it missed since its last delivered event.
struct Subscriber {
    tx: Sender<ScheduleEvent>,
    lagged: u64,
}

impl Subscriber {
    /// Delivers `event`, or counts it lost; `false` once the receiver is gone.
    fn deliver(&mut self, event: &ScheduleEvent) -> bool {
        if self.lagged > 0 {
            let marker = ScheduleEvent::Lagged {
                dropped: self.lagged,
            };
            match self.tx.try_send(marker) {
                Ok(()) => self.lagged = 0,
                Err(TrySendError::Full(_)) => {
                    self.lagged = self.lagged.saturating_add(1);
                    return true;
                }
                Err(TrySendError::Disconnected(_)) => return false,
            }
        }
        match self.tx.try_send(event.clone()) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                self.lagged = self.lagged.saturating_add(1);
                true
            }
            Err(TrySendError::Disconnected(_)) => false,
        }
    }
}

/// The subscribers of one client, for every scheduler it hosts.
#[derive(Default)]
pub(crate) struct EventHub {
    subscribers: Mutex<Vec<Subscriber>>,
    /// Whether any subscriber is left: the schedulers record events only then.
    wanted: AtomicBool,
}

impl EventHub {
    /// A new subscriber to every event from now on. The schedulers start recording at their
    /// next call ([`EventHub::prepare`]), which is before any call that starts after this.
    pub(crate) fn subscribe(&self) -> Receiver<ScheduleEvent> {
        let (tx, rx) = crossbeam_channel::bounded(SUBSCRIBER_CAPACITY);
        self.subscribers.lock().push(Subscriber { tx, lagged: 0 });
        self.wanted.store(true, Ordering::SeqCst);
        rx
    }

    /// Turns the recording of `scheduler` (locked by the caller, about to be called) on or off
    /// as the subscribers want. One hub serves every scheduler a cluster node hosts.
    pub(crate) fn prepare(&self, scheduler: &mut Scheduler) {
        let wanted = self.wanted.load(Ordering::SeqCst);
        if scheduler.records_events() != wanted {
            scheduler.record_events(wanted);
        }
    }

    /// Sends what `scheduler` (locked by the caller) recorded to every subscriber, prunes the
    /// gone ones, and stops the recording when none is left.
    pub(crate) fn publish(&self, scheduler: &mut Scheduler) {
        if !scheduler.records_events() {
            return;
        }
        let events = scheduler.take_events();
        if events.is_empty() {
            return;
        }
        let mut subscribers = self.subscribers.lock();
        subscribers.retain_mut(|s| events.iter().all(|e| s.deliver(e)));
        if subscribers.is_empty() {
            self.wanted.store(false, Ordering::SeqCst);
            scheduler.record_events(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deleted(n: u32) -> ScheduleEvent {
        ScheduleEvent::Deleted {
            schedule_id: n.to_string(),
            at: chrono::DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_full_channel_counts_what_it_lost_and_says_so_first() {
        let (tx, rx) = crossbeam_channel::bounded(2);
        let mut s = Subscriber { tx, lagged: 0 };
        for n in 0..5 {
            assert!(s.deliver(&deleted(n)));
        }
        // 0 and 1 fit; 2, 3, 4 are lost.
        assert_eq!(rx.try_iter().collect::<Vec<_>>(), [deleted(0), deleted(1)]);
        assert!(s.deliver(&deleted(5)));
        assert_eq!(
            rx.try_iter().collect::<Vec<_>>(),
            [ScheduleEvent::Lagged { dropped: 3 }, deleted(5)]
        );
        // The marker may take the last free place: the event behind it is lost and counted.
        for n in 6..9 {
            assert!(s.deliver(&deleted(n)));
        }
        // 6 and 7 fit, 8 is lost; one place frees up.
        assert_eq!(rx.try_recv().unwrap(), deleted(6));
        assert!(s.deliver(&deleted(9)));
        assert_eq!(
            rx.try_iter().collect::<Vec<_>>(),
            [deleted(7), ScheduleEvent::Lagged { dropped: 1 }]
        );
        assert!(s.deliver(&deleted(10)));
        assert_eq!(
            rx.try_iter().collect::<Vec<_>>(),
            [ScheduleEvent::Lagged { dropped: 1 }, deleted(10)]
        );
        drop(rx);
        assert!(!s.deliver(&deleted(11)));
    }
}
