//! Where the facade's `now` comes from: a [`Clock`]; and how the worker waits on it: its
//! [`Pace`].
//!
//! Every verb of [`Client`](crate::Client) reads its clock once, under the scheduler lock, so
//! the scheduler sees `now` values in the order the verbs are applied. A
//! [`Worker`](crate::Worker) sleeps as long as real time needs to reach the next wakeup, except
//! on a [`ManualClock`], which moves only when told to: it wakes the worker at each jump, so a
//! test that advances a manual clock never depends on real time passing.

use std::any::Any;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use parking_lot::Mutex;

/// A source of the current time (UTC) for a [`Client`](crate::Client).
///
/// Implementations must be cheap and must not call into the `Client` (they are read while the
/// scheduler lock is held). A worker assumes that any clock but a [`ManualClock`] runs at the
/// pace of real time (it reads the clock again at least every second, so a clock that jumps
/// delays due work by at most that).
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

/// A callback a [`ManualClock`] calls after each jump; `false` once nobody waits for it any
/// more (the clock then forgets it).
pub(crate) struct ClockWaker(Box<dyn Fn() -> bool + Send + Sync>);

/// How a worker waits for a time on its client's clock.
pub(crate) enum Pace {
    /// The clock runs with real time: sleep for the difference.
    RealTime,
    /// A [`ManualClock`]: only a jump moves it, and each jump wakes the worker.
    Manual(ManualClock),
}

impl Pace {
    /// The pace of `clock`.
    pub(crate) fn of<C: Clock>(clock: &C) -> Pace {
        match (clock as &dyn Any).downcast_ref::<ManualClock>() {
            Some(manual) => Pace::Manual(manual.clone()),
            None => Pace::RealTime,
        }
    }

    /// How long, in real time, until `clock` reads `deadline`: zero if it already does, and
    /// `None` if only a jump moves it.
    pub(crate) fn real_time_until(
        &self,
        clock: &dyn Clock,
        deadline: DateTime<Utc>,
    ) -> Option<Duration> {
        let left = deadline - clock.now();
        match self {
            Pace::RealTime => Some(left.to_std().unwrap_or(Duration::ZERO)),
            Pace::Manual(_) => (left <= chrono::Duration::zero()).then_some(Duration::ZERO),
        }
    }

    /// Calls `wake` after each jump of the clock, until it returns `false`. Clocks that run
    /// with real time never jump.
    pub(crate) fn on_jump(&self, wake: impl Fn() -> bool + Send + Sync + 'static) {
        if let Pace::Manual(clock) = self {
            clock.shared.wakers.lock().push(ClockWaker(Box::new(wake)));
        }
    }
}

/// The system's wall clock (`Utc::now()`), the clock of [`Client::new`](crate::Client::new).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(
        clippy::disallowed_methods,
        reason = "the system clock is the facade's to read"
    )]
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that moves only when told to: for tests, simulations and examples.
///
/// Clones share the same time, so a test keeps one clone and gives another to the
/// [`ClientBuilder`](crate::ClientBuilder). Every [`set`](ManualClock::set) and
/// [`advance`](ManualClock::advance) wakes the running [`Worker`](crate::Worker), which then
/// polls at the new time before it sleeps again.
///
/// ```
/// use std::time::Duration;
/// use chrono::{TimeZone, Utc};
/// use schedule_engine::{Clock, ManualClock};
///
/// let clock = ManualClock::new(Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap());
/// let shared = clock.clone();
/// clock.advance(Duration::from_secs(90));
/// assert_eq!(shared.now(), Utc.with_ymd_and_hms(2024, 1, 1, 0, 1, 30).unwrap());
/// ```
#[derive(Clone)]
pub struct ManualClock {
    shared: Arc<ManualShared>,
}

struct ManualShared {
    now: Mutex<DateTime<Utc>>,
    wakers: Mutex<Vec<ClockWaker>>,
}

impl ManualClock {
    /// A clock reading `now` until moved.
    #[must_use]
    pub fn new(now: DateTime<Utc>) -> Self {
        ManualClock {
            shared: Arc::new(ManualShared {
                now: Mutex::new(now),
                wakers: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Sets the time and wakes watchers. Moving it backwards is allowed: the scheduler never
    /// takes a nominal time it has already processed a second time.
    pub fn set(&self, now: DateTime<Utc>) {
        *self.shared.now.lock() = now;
        self.wake_all();
    }

    /// Moves the time forward by `by` (saturating at the largest representable time) and wakes
    /// watchers.
    pub fn advance(&self, by: Duration) {
        {
            let mut now = self.shared.now.lock();
            *now = chrono::Duration::from_std(by)
                .ok()
                .and_then(|d| now.checked_add_signed(d))
                .unwrap_or(DateTime::<Utc>::MAX_UTC);
        }
        self.wake_all();
    }

    fn wake_all(&self) {
        // The callbacks only signal channels; they never take the time lock, which is released.
        self.shared.wakers.lock().retain(|w| (w.0)());
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.shared.now.lock()
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManualClock")
            .field("now", &self.now())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use chrono::TimeZone;

    use super::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 3, 1, 12, 0, 0).unwrap()
    }

    #[test]
    fn manual_clock_clones_share_time() {
        let a = ManualClock::new(t0());
        let b = a.clone();
        a.advance(Duration::from_secs(61));
        assert_eq!(b.now(), Utc.with_ymd_and_hms(2024, 3, 1, 12, 1, 1).unwrap());
        b.set(t0());
        assert_eq!(a.now(), t0());
    }

    #[test]
    fn manual_clock_wakes_watchers_and_forgets_gone_ones() {
        let clock = ManualClock::new(t0());
        let woken = Arc::new(AtomicUsize::new(0));
        let w = woken.clone();
        let pace = Pace::of(&clock);
        pace.on_jump(move || {
            w.fetch_add(1, Ordering::SeqCst);
            true
        });
        let gone = Arc::new(AtomicUsize::new(0));
        let g = gone.clone();
        pace.on_jump(move || {
            g.fetch_add(1, Ordering::SeqCst);
            false
        });
        clock.advance(Duration::from_secs(1));
        clock.set(t0());
        assert_eq!(woken.load(Ordering::SeqCst), 2);
        assert_eq!(gone.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn manual_clock_waits_for_jumps_only() {
        let clock = ManualClock::new(t0());
        let pace = Pace::of(&clock);
        assert_eq!(pace.real_time_until(&clock, t0()), Some(Duration::ZERO));
        assert_eq!(
            pace.real_time_until(&clock, t0() + chrono::Duration::seconds(5)),
            None
        );
    }

    #[test]
    fn advance_saturates_instead_of_panicking() {
        let clock = ManualClock::new(t0());
        clock.advance(Duration::MAX);
        assert_eq!(clock.now(), DateTime::<Utc>::MAX_UTC);
    }

    #[test]
    fn system_clock_sleeps_real_time() {
        let c = SystemClock;
        let pace = Pace::of(&c);
        let d = pace
            .real_time_until(&c, c.now() + chrono::Duration::seconds(30))
            .unwrap();
        assert!(d <= Duration::from_secs(30) && d > Duration::from_secs(29));
        assert_eq!(
            pace.real_time_until(&c, c.now() - chrono::Duration::seconds(30)),
            Some(Duration::ZERO)
        );
    }
}
