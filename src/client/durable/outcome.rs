//! [`Durable`]: how each kind of client call's result passes through the write-ahead journal
//! (a mutation, a poll, a reported outcome).

use chrono::{DateTime, Utc};

use crate::engine::Action;
use crate::error::ScheduleError;
use crate::store::StoreError;

/// A result of a scheduler call, as persistence sees it.
pub(crate) trait Durable: Sized {
    /// Actions this call produced; recorded as pending in the call's batch.
    fn actions(&self) -> &[Action] {
        &[]
    }

    /// Whether the call's changes may wait (a few batch costs, at most [`MAX_DEFER`](super::MAX_DEFER)) for the
    /// next batch: true for changes that record no action and that no caller waits on
    /// (reported outcomes, a poll with nothing due). On a busy store a run then costs one
    /// record write per fire instead of two (its start and its close share a batch). A crash
    /// in between only delivers the closed runs again.
    fn may_defer(&self) -> bool {
        false
    }

    /// The result when its changes wait; `flush_at` is when they must be written.
    fn deferred(self, _flush_at: DateTime<Utc>) -> Self {
        self
    }

    /// The result when everything is durable; `held` are actions now safe to release.
    fn durable(self, _held: &mut Vec<Action>) -> Self {
        self
    }

    /// The result when the batch failed: actions move to `held`, to be retried at `retry_at`.
    fn not_durable(
        self,
        error: &StoreError,
        held: &mut Vec<Action>,
        retry_at: DateTime<Utc>,
    ) -> Self;
}

impl Durable for () {
    fn may_defer(&self) -> bool {
        true
    }

    fn not_durable(self, _: &StoreError, _: &mut Vec<Action>, _: DateTime<Utc>) -> Self {}
}

/// A mutation: `Ok` only once its change is durable.
impl<T> Durable for Result<T, ScheduleError> {
    fn not_durable(self, error: &StoreError, _: &mut Vec<Action>, _: DateTime<Utc>) -> Self {
        // A refused mutation changed nothing; its error says more than the store's.
        self.and_then(|_| Err(ScheduleError::Store(error.clone())))
    }
}

/// A poll: the actions due and the next wakeup.
impl Durable for (Vec<Action>, Option<DateTime<Utc>>) {
    fn actions(&self) -> &[Action] {
        &self.0
    }

    fn may_defer(&self) -> bool {
        self.0.is_empty()
    }

    fn deferred(self, flush_at: DateTime<Utc>) -> Self {
        let (actions, wakeup) = self;
        (actions, Some(wakeup.map_or(flush_at, |w| w.min(flush_at))))
    }

    fn durable(self, held: &mut Vec<Action>) -> Self {
        if held.is_empty() {
            return self;
        }
        let (actions, wakeup) = self;
        let mut released = std::mem::take(held);
        released.extend(actions);
        (released, wakeup)
    }

    fn not_durable(self, _: &StoreError, held: &mut Vec<Action>, retry_at: DateTime<Utc>) -> Self {
        let (actions, wakeup) = self;
        held.extend(actions);
        let wakeup = Some(wakeup.map_or(retry_at, |w| w.min(retry_at)));
        (Vec::new(), wakeup)
    }
}
