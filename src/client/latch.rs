//! [`Latch`]: a one-shot signal that a thread can block on and async code can await, with no
//! runtime behind it, so the [`Worker`](crate::Worker) can offer `settle` and `shutdown` to both.
//!
//! Invariants: a latch opens at most once and never closes again; an [`OpenOnDrop`] opens its
//! latch however its holder ends (answered, dropped unanswered, unwound by a panic), so no
//! waiter waits for a thread that is gone.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use parking_lot::{Condvar, Mutex};

/// A one-shot signal.
#[derive(Default)]
pub(crate) struct Latch {
    state: Mutex<LatchState>,
    opened: Condvar,
}

#[derive(Default)]
struct LatchState {
    open: bool,
    wakers: Vec<Waker>,
}

impl Latch {
    fn open(&self) {
        let wakers = {
            let mut state = self.state.lock();
            state.open = true;
            std::mem::take(&mut state.wakers)
        };
        self.opened.notify_all();
        wakers.into_iter().for_each(Waker::wake);
    }

    /// Blocks the calling thread until the latch opens.
    pub(crate) fn wait(&self) {
        let mut state = self.state.lock();
        while !state.open {
            self.opened.wait(&mut state);
        }
    }

    /// Completes when the latch opens.
    pub(crate) fn opened(self: Arc<Self>) -> Opened {
        Opened(self)
    }
}

/// The future of [`Latch::opened`].
pub(crate) struct Opened(Arc<Latch>);

impl Future for Opened {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.0.state.lock();
        if state.open {
            return Poll::Ready(());
        }
        if !state.wakers.iter().any(|w| w.will_wake(cx.waker())) {
            state.wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// Opens its latch when dropped: what a thread holds for the waiters it must answer.
pub(crate) struct OpenOnDrop(pub(crate) Arc<Latch>);

impl Drop for OpenOnDrop {
    fn drop(&mut self) {
        self.0.open();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_holder_releases_blocking_and_async_waiters() {
        let latch = Arc::new(Latch::default());
        let holder = OpenOnDrop(latch.clone());
        let mut opened = std::pin::pin!(latch.clone().opened());
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        assert!(opened.as_mut().poll(&mut cx).is_pending());
        drop(holder);
        assert!(opened.as_mut().poll(&mut cx).is_ready());
        latch.wait(); // open: returns at once
    }
}
