//! [`DbClock`]: the database server's clock, read locally.
//!
//! Every node of a cluster must agree on what time it is, or a node whose clock runs ahead fires
//! early and one whose clock runs behind fires again what another node already decided. The
//! database's clock is the one clock they all see. Reading it for every `now` would cost a round
//! trip, so each node keeps the offset between the server's clock and its own monotonic clock,
//! sampled whenever it renews its leases: `now = server time at the sample + monotonic time
//! elapsed since`.
//!
//! Invariants: `now()` never goes backwards (a new sample that would move it back holds it
//! until real time catches up); a sample is taken only from a round trip no slower than twice
//! the best recent one (a slow round trip says little about when the server read its clock),
//! unless the sample in use is older than [`MAX_SAMPLE_AGE`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use parking_lot::Mutex;

/// After this long, any new sample replaces the one in use, however slow its round trip.
const MAX_SAMPLE_AGE: Duration = Duration::from_secs(60);

/// The database's clock as seen from this node: cheap to read, the same time source on every
/// node of a cluster (see [`PostgresCluster::clock`](crate::PostgresCluster::clock)).
#[derive(Debug, Clone)]
pub struct DbClock {
    state: Arc<Mutex<State>>,
}

#[derive(Debug)]
struct State {
    /// The server's time at `local` (the midpoint of the round trip that read it).
    server: DateTime<Utc>,
    local: Instant,
    round_trip: Duration,
    /// The latest time handed out: `now()` never goes below it.
    last: DateTime<Utc>,
}

impl DbClock {
    /// A clock from a first reading: the server said `server` during a round trip sent at
    /// `sent` and answered at `received`.
    pub(crate) fn new(sent: Instant, received: Instant, server: DateTime<Utc>) -> DbClock {
        let round_trip = received.saturating_duration_since(sent);
        DbClock {
            state: Arc::new(Mutex::new(State {
                server,
                local: sent + round_trip / 2,
                round_trip,
                last: server,
            })),
        }
    }

    /// Takes a new reading into account (see the module docs for which ones are kept).
    pub(crate) fn sample(&self, sent: Instant, received: Instant, server: DateTime<Utc>) {
        let round_trip = received.saturating_duration_since(sent);
        let local = sent + round_trip / 2;
        let mut state = self.state.lock();
        let fast_enough = round_trip <= state.round_trip.max(Duration::from_millis(1)) * 2;
        let stale = local.saturating_duration_since(state.local) > MAX_SAMPLE_AGE;
        if fast_enough || stale {
            state.server = server;
            state.local = local;
            state.round_trip = round_trip;
        }
    }

    /// The database server's current time, as well as this node can tell (within half the
    /// round trip of the reading in use, plus the drift of the local clock since).
    pub fn now(&self) -> DateTime<Utc> {
        let mut state = self.state.lock();
        let elapsed = Instant::now().saturating_duration_since(state.local);
        let estimate =
            state.server + chrono::Duration::from_std(elapsed).unwrap_or(chrono::Duration::MAX);
        if estimate > state.last {
            state.last = estimate;
        }
        state.last
    }

    /// Half the round trip of the reading in use: how far `now()` may be from the server's
    /// clock, clock drift aside.
    pub fn uncertainty(&self) -> Duration {
        self.state.lock().round_trip / 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap()
    }

    #[test]
    fn now_runs_from_the_sample_at_the_pace_of_the_local_clock() {
        let sent = Instant::now() - Duration::from_secs(5);
        let clock = DbClock::new(sent, sent + Duration::from_millis(2), at(1_000));
        let now = clock.now();
        // The server read its clock at about sent + 1 ms; 5 s of local time have passed since.
        assert!(
            now >= at(1_004) + chrono::Duration::milliseconds(990),
            "{now}"
        );
        assert!(now <= at(1_006), "{now}");
        assert_eq!(clock.uncertainty(), Duration::from_millis(1));
    }

    #[test]
    fn a_sample_behind_never_moves_now_back() {
        let sent = Instant::now();
        let clock = DbClock::new(sent, sent, at(2_000));
        let before = clock.now();
        clock.sample(sent, sent, at(1_000));
        assert!(clock.now() >= before);
    }

    #[test]
    fn a_slow_round_trip_does_not_replace_a_fast_one() {
        let sent = Instant::now();
        let clock = DbClock::new(sent, sent + Duration::from_millis(4), at(3_000));
        clock.sample(sent, sent + Duration::from_millis(500), at(9_000));
        assert!(clock.now() < at(3_001), "the slow sample was ignored");
        clock.sample(sent, sent + Duration::from_millis(6), at(9_000));
        assert!(clock.now() >= at(9_000), "a sample about as fast is taken");
    }
}
