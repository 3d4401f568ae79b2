//! [`ScheduleHandle`]: the verbs on one schedule, by id.

use std::fmt;
use std::sync::Arc;

use crate::engine::{
    ScheduleBackfill, ScheduleDescription, ScheduleOverlapPolicy, ScheduleUpdate,
    ScheduleUpdateInput,
};
use crate::error::ScheduleError;

use super::shared::Shared;
use super::verb::Verb;

/// A handle to one schedule, from [`Client::create_schedule`](crate::Client::create_schedule)
/// or [`Client::get_schedule_handle`](crate::Client::get_schedule_handle): the methods of
/// Temporal's `ScheduleHandle`.
///
/// Holding a handle does not keep the schedule alive; after [`delete`](ScheduleHandle::delete)
/// every verb returns [`ScheduleError::NotFound`].
#[derive(Clone)]
pub struct ScheduleHandle {
    inner: Arc<Shared>,
    id: String,
}

impl ScheduleHandle {
    pub(crate) fn new(inner: Arc<Shared>, id: String) -> Self {
        ScheduleHandle { inner, id }
    }

    /// The schedule id.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Takes, now, every action the spec would have taken in each range (Temporal's
    /// `backfill`). Backfills ignore pause, remaining actions and the catch-up window.
    ///
    /// # Errors
    /// [`ScheduleError::NotFound`]; [`ScheduleError::InvalidArgument`] if `backfills` is empty
    /// (as Temporal's "At least one backfill required") or a range ends before it starts.
    pub fn backfill(&self, backfills: &[ScheduleBackfill]) -> Result<(), ScheduleError> {
        // The engine checks for an empty list (before looking the schedule up).
        self.inner.apply(Verb::Backfill {
            id: self.id.clone(),
            backfills: backfills.to_vec(),
        })
    }

    /// Deletes the schedule. Runs it started are not affected: they go on, and their
    /// completions are accepted and ignored.
    ///
    /// # Errors
    /// [`ScheduleError::NotFound`].
    pub fn delete(&self) -> Result<(), ScheduleError> {
        self.inner.apply(Verb::Delete {
            id: self.id.clone(),
        })
    }

    /// The schedule, its counters, running and recent actions and next times.
    ///
    /// In cluster mode, on a node that does not own the schedule, it is read from the record the
    /// owner committed last, which holds every change made before this call on any node.
    ///
    /// # Errors
    /// [`ScheduleError::NotFound`].
    pub fn describe(&self) -> Result<ScheduleDescription, ScheduleError> {
        self.inner.describe(&self.id)
    }

    /// Pauses the schedule: no scheduled actions until unpaused (trigger and backfill still
    /// work). `note` replaces the schedule's note (`None`: "Paused via schedule-engine", as
    /// Temporal's SDKs supply their own default note).
    ///
    /// # Errors
    /// [`ScheduleError::NotFound`].
    pub fn pause(&self, note: Option<&str>) -> Result<(), ScheduleError> {
        self.inner.apply(Verb::Pause {
            id: self.id.clone(),
            note: note.map(str::to_owned),
        })
    }

    /// Unpauses the schedule. Times that passed while it was paused are not taken (use
    /// [`backfill`](ScheduleHandle::backfill) for those). `note` replaces the schedule's note
    /// (`None`: "Unpaused via schedule-engine").
    ///
    /// # Errors
    /// [`ScheduleError::NotFound`].
    pub fn unpause(&self, note: Option<&str>) -> Result<(), ScheduleError> {
        self.inner.apply(Verb::Unpause {
            id: self.id.clone(),
            note: note.map(str::to_owned),
        })
    }

    /// Takes one action now, even while paused, with `overlap` (default: the schedule's).
    ///
    /// # Errors
    /// [`ScheduleError::NotFound`].
    pub fn trigger(&self, overlap: Option<ScheduleOverlapPolicy>) -> Result<(), ScheduleError> {
        self.inner.apply(Verb::Trigger {
            id: self.id.clone(),
            overlap,
        })
    }

    /// Read-modify-write of the schedule, the loop Temporal's SDKs promise: `updater` gets the
    /// current description and returns the replacement schedule, or `None` to change nothing.
    ///
    /// `updater` runs without any lock held (it may call back into the client). Its result is
    /// applied with [`Scheduler::update_checked`](crate::Scheduler::update_checked) and the
    /// description's conflict token: if the schedule was updated, paused or unpaused meanwhile
    /// (by another caller, or by a failed run with `pause_on_failure`), `updater` runs again on
    /// a fresh description, so concurrent updates never lose each other's changes. Starts
    /// taken meanwhile do not make it run again; a `remaining_actions` count is reduced by the
    /// limited starts taken since the description (see `update_checked`). `updater` runs at
    /// most [`UPDATE_ATTEMPTS`](ScheduleHandle::UPDATE_ATTEMPTS) times; if every attempt met a
    /// concurrent change, the update is not applied and [`ScheduleError::Conflict`] is
    /// returned. A panic in `updater` reaches the caller, with nothing changed.
    ///
    /// ```
    /// # use schedule_engine::{Client, Schedule, ScheduleUpdate};
    /// # let client = Client::new();
    /// # let handle = client.create_schedule("s", Schedule {
    /// #     action: schedule_engine::ScheduleAction::StartWorkflow(
    /// #         schedule_engine::ScheduleActionStartWorkflow {
    /// #             workflow: "w".into(), id: "w".into(), task_queue: "q".into(),
    /// #             ..Default::default() }),
    /// #     ..Default::default() })?;
    /// handle.update(|input| {
    ///     let mut schedule = input.description.schedule;
    ///     schedule.state.note = Some("reviewed".into());
    ///     Some(ScheduleUpdate { schedule })
    /// })?;
    /// assert_eq!(handle.describe()?.schedule.state.note.as_deref(), Some("reviewed"));
    /// # Ok::<(), schedule_engine::ScheduleError>(())
    /// ```
    ///
    /// # Errors
    /// [`ScheduleError::NotFound`]; [`ScheduleError::InvalidSpec`] or
    /// [`ScheduleError::InvalidArgument`] if the new schedule is invalid (nothing changes);
    /// [`ScheduleError::Conflict`] when every attempt met a concurrent change.
    pub fn update<F: FnMut(ScheduleUpdateInput) -> Option<ScheduleUpdate>>(
        &self,
        mut updater: F,
    ) -> Result<(), ScheduleError> {
        for _ in 0..Self::UPDATE_ATTEMPTS {
            let description = self.describe()?;
            let token = description.conflict_token;
            let Some(update) = updater(ScheduleUpdateInput { description }) else {
                return Ok(());
            };
            let result = self.inner.apply(Verb::UpdateChecked {
                id: self.id.clone(),
                schedule: update.schedule,
                conflict_token: token,
            });
            match result {
                Err(ScheduleError::Conflict { .. }) => continue,
                result => return result,
            }
        }
        Err(ScheduleError::Conflict {
            id: self.id.clone(),
        })
    }

    /// How many times [`update`](ScheduleHandle::update) runs its updater before it gives up
    /// on a schedule that keeps changing under it.
    pub const UPDATE_ATTEMPTS: usize = 16;
}

impl fmt::Debug for ScheduleHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScheduleHandle")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}
