//! What the hosted schedulers and the workers exchange: polled actions with the scheduler they
//! came from ([`Origin`]), closed runs going back to it ([`Report`]), and the workers' wake
//! channels ([`Wakers`]).
//!
//! Invariant: a change that makes a scheduler's next wakeup sooner wakes every worker
//! ([`Wakers::wake`]), so a worker never oversleeps it.

use crossbeam_channel::{Receiver, Sender, TrySendError};
use parking_lot::Mutex;
use smallvec::SmallVec;

use crate::engine::{Action, WorkflowOutcome};

/// The scheduler an action came from: a partition and the fence of the lease it was polled
/// under (`0` and `0` for a client's own scheduler).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Origin {
    pub(crate) partition: u32,
    pub(crate) fence: u64,
}

impl Origin {
    /// A client's own scheduler.
    pub(crate) const LOCAL: Origin = Origin {
        partition: 0,
        fence: 0,
    };

    /// Stops another node relayed to a cluster node for runs its executor started (no
    /// partition has this number: partition counts are far smaller).
    #[cfg(feature = "postgres")]
    pub(crate) const RELAYED: Origin = Origin {
        partition: u32::MAX,
        fence: u64::MAX,
    };
}

/// What one poll of every hosted scheduler gave: one [`Polled`] per scheduler (inline for a
/// single-process client's one, so its poll allocates only the actions).
pub(crate) type PolledAll = SmallVec<[Polled; 1]>;

/// What one poll of one scheduler gave.
pub(crate) struct Polled {
    pub(crate) origin: Origin,
    pub(crate) actions: Vec<Action>,
}

/// A run reported closed: the partition its start came from, its workflow id, its outcome.
pub(crate) type Report = (u32, String, WorkflowOutcome);

/// One wake channel per running worker (capacity 1: a pending wake is enough).
#[derive(Default)]
pub(crate) struct Wakers {
    channels: Mutex<Vec<Sender<()>>>,
}

impl Wakers {
    /// A new worker's wake channel.
    pub(crate) fn register(&self) -> (Sender<()>, Receiver<()>) {
        let (tx, rx) = crossbeam_channel::bounded(1);
        self.channels.lock().push(tx.clone());
        (tx, rx)
    }

    /// Wakes every worker (and forgets those gone).
    pub(crate) fn wake(&self) {
        self.channels
            .lock()
            .retain(|w| !matches!(w.try_send(()), Err(TrySendError::Disconnected(()))));
    }
}
