//! [`Client`]: the thread-safe owner of a `Scheduler`, and [`ClientBuilder`].
//!
//! The scheduler itself, its lock and its journal are in `hosted`; what clients, handles,
//! completions and workers share is in `shared`.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::engine::{
    CreateScheduleOptions, Schedule, ScheduleListDescription, ScheduleUpdate, Scheduler,
    SchedulerConfig, StartWorkflowOptions,
};
use crate::error::ScheduleError;
use crate::store::{Store, StoreError, StoreErrorHook};

use super::clock::{Clock, Pace, SystemClock};
use super::durable::Persistence;
use super::handle::ScheduleHandle;
use super::hosted::HostedScheduler;
use super::shared::Shared;

/// A thread-safe, cheaply cloned handle to an in-process scheduler: the verbs of Temporal's
/// `Client` for schedules, cron jobs and delayed starts.
///
/// Every verb is synchronous and short (it takes a lock, reads the [`Clock`] and changes state),
/// so it can be called from any thread and from async code alike. Actions are not run by the
/// client: a [`Worker`](crate::Worker) polls the scheduler and hands them to a
/// [`WorkflowExecutor`](crate::WorkflowExecutor).
///
/// ```
/// use std::time::Duration;
/// use schedule_engine::{
///     Client, Schedule, ScheduleAction, ScheduleActionStartWorkflow, ScheduleIntervalSpec,
///     ScheduleSpec,
/// };
///
/// let client = Client::new();
/// let handle = client.create_schedule(
///     "hourly-report",
///     Schedule {
///         action: ScheduleAction::StartWorkflow(ScheduleActionStartWorkflow {
///             workflow: "report".into(),
///             id: "report".into(),
///             task_queue: "reports".into(),
///             ..Default::default()
///         }),
///         spec: ScheduleSpec {
///             intervals: vec![ScheduleIntervalSpec::new(Duration::from_secs(3600))],
///             ..Default::default()
///         },
///         ..Default::default()
///     },
/// )?;
/// assert_eq!(handle.describe()?.info.next_action_times.len(), 10);
/// assert_eq!(client.list_schedules()[0].id, "hourly-report");
/// # Ok::<(), schedule_engine::ScheduleError>(())
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Shared>,
}

impl Client {
    /// An in-memory client on the system clock with the default [`SchedulerConfig`].
    #[must_use]
    pub fn new() -> Self {
        Client {
            inner: Arc::new(Shared::new(
                Arc::new(SystemClock),
                Pace::RealTime,
                HostedScheduler::new(Scheduler::new(SchedulerConfig::default()), None),
            )),
        }
    }

    /// A builder to choose the clock and the scheduler's configuration.
    #[must_use]
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// Creates a schedule, like Temporal's `create_schedule`.
    ///
    /// # Errors
    /// [`ScheduleError::AlreadyExists`] if the id is taken, [`ScheduleError::InvalidSpec`] or
    /// [`ScheduleError::InvalidArgument`] if the schedule is invalid.
    pub fn create_schedule(
        &self,
        id: &str,
        schedule: Schedule,
    ) -> Result<ScheduleHandle, ScheduleError> {
        self.inner.verb("create_schedule", id, |s, now| {
            s.create_schedule(id, schedule, now)
        })?;
        Ok(self.get_schedule_handle(id))
    }

    /// Creates a schedule and applies `options` (trigger immediately, backfills) atomically with
    /// the creation, like the keyword arguments of Temporal's `create_schedule`.
    ///
    /// # Errors
    /// As [`create_schedule`](Client::create_schedule).
    pub fn create_schedule_with_options(
        &self,
        id: &str,
        schedule: Schedule,
        options: CreateScheduleOptions,
    ) -> Result<ScheduleHandle, ScheduleError> {
        self.inner.verb("create_schedule", id, |s, now| {
            s.create_schedule_with_options(id, schedule, options, now)
        })?;
        Ok(self.get_schedule_handle(id))
    }

    /// Creates the schedule `id`, or brings an existing one in line with `schedule` keeping its
    /// state and history: what a service calls with its configuration at every start (beyond
    /// Temporal: temporalio/proposals#101).
    ///
    /// - Absent: created from `schedule`, as [`create_schedule`](Client::create_schedule).
    /// - Present with a different action, spec or policy: those three are replaced, as by an
    ///   update (the conflict token moves, `last_updated_at` is now, and times before now are
    ///   not run retroactively). Its counters, recent and running actions, buffer, high-water
    ///   mark and state are kept. The state (paused, note, remaining actions) is the
    ///   configuration's only at creation: afterwards it belongs to the running schedule, so a
    ///   pause by an operator or by `pause_on_failure` survives a restart, and a limited
    ///   schedule does not get its actions back each time; change it with
    ///   [`pause`](ScheduleHandle::pause), [`unpause`](ScheduleHandle::unpause) or
    ///   [`update`](ScheduleHandle::update).
    /// - Present with the same action, spec and policy: nothing changes (the token does not
    ///   move), so restarting with an unchanged configuration leaves every schedule as it was.
    ///
    /// The check and the change happen under the client's lock in one step, so a concurrent
    /// create, update or delete of the same id is either before or after it, never in between;
    /// with a store the change is written like every other verb's.
    ///
    /// ```
    /// # use schedule_engine::{Client, Schedule, ScheduleActionStartWorkflow, ScheduleSpec};
    /// let client = Client::new();
    /// let config: Schedule = serde_json::from_str(r#"{
    ///     "action": {"workflow": "report", "id": "report", "task_queue": "reports"},
    ///     "spec": {"cron_expressions": ["0 9 * * MON-FRI"]}
    /// }"#)?;
    /// let first = client.upsert_schedule("report", config.clone())?.describe()?;
    /// let again = client.upsert_schedule("report", config)?.describe()?;
    /// assert_eq!(again.conflict_token, first.conflict_token); // unchanged: a no-op
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`ScheduleError::InvalidSpec`] or [`ScheduleError::InvalidArgument`] if `schedule` is
    /// invalid (nothing changes); [`ScheduleError::Store`] from a client with a store.
    pub fn upsert_schedule(
        &self,
        id: &str,
        schedule: Schedule,
    ) -> Result<ScheduleHandle, ScheduleError> {
        self.inner
            .verb("upsert_schedule", id, |s, now| upsert(s, id, schedule, now))?;
        Ok(self.get_schedule_handle(id))
    }

    /// A handle to the schedule `id`. Like Temporal's, it does not check that the schedule
    /// exists: its verbs return [`ScheduleError::NotFound`] if it does not.
    #[must_use]
    pub fn get_schedule_handle(&self, id: &str) -> ScheduleHandle {
        ScheduleHandle::new(self.inner.clone(), id.to_owned())
    }

    /// Every schedule, ordered by id, with its 5 most recent and 5 next actions.
    #[must_use]
    pub fn list_schedules(&self) -> Vec<ScheduleListDescription> {
        self.inner.read_all(|s, now| s.list_schedules(now))
    }

    /// Starts a workflow outside any schedule: at the next poll, after `start_delay`, or as a
    /// cron job on `cron_schedule` (Temporal's `start_workflow` with those options).
    ///
    /// # Errors
    /// [`ScheduleError::AlreadyExists`] if a run with this workflow id is pending or running,
    /// [`ScheduleError::InvalidArgument`] for a cron string robfig's parser rejects
    /// (`invalid CronSchedule. <reason>`) or that never fires, and for invalid options (such as
    /// both `cron_schedule` and `start_delay`).
    pub fn start_workflow(&self, options: StartWorkflowOptions) -> Result<(), ScheduleError> {
        self.inner
            .verb("start_workflow", &options.id.clone(), |s, now| {
                s.start_workflow(options, now)
            })
    }

    /// The client's current time, read from its [`Clock`].
    #[must_use]
    pub fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    pub(crate) fn inner(&self) -> &Arc<Shared> {
        &self.inner
    }
}

/// [`Client::upsert_schedule`] on the scheduler, in one call under its lock.
fn upsert(
    s: &mut Scheduler,
    id: &str,
    schedule: Schedule,
    now: DateTime<Utc>,
) -> Result<(), ScheduleError> {
    let mut config = Some(schedule);
    let updated = s.update(
        id,
        |input| {
            let current = input.description.schedule;
            let wanted = Schedule {
                state: current.state.clone(),
                ..config.take()?
            };
            (wanted != current).then_some(ScheduleUpdate { schedule: wanted })
        },
        now,
    );
    match (updated, config) {
        // The updater never ran: there is no such schedule.
        (Err(ScheduleError::NotFound { .. }), Some(schedule)) => {
            s.create_schedule(id, schedule, now)
        }
        (updated, _) => updated,
    }
}

impl Default for Client {
    fn default() -> Self {
        Client::new()
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("now", &self.now())
            .finish_non_exhaustive()
    }
}

/// Builds a [`Client`]: `Client::builder().clock(c).config(cfg).build()`.
#[derive(Default)]
pub struct ClientBuilder {
    clock: Option<(Arc<dyn Clock>, Pace)>,
    config: SchedulerConfig,
    store: Option<Box<dyn Store>>,
    on_store_error: Option<StoreErrorHook>,
}

impl ClientBuilder {
    /// Reads time from `clock` (default: [`SystemClock`]).
    #[must_use]
    pub fn clock<C: Clock>(mut self, clock: C) -> Self {
        let pace = Pace::of(&clock);
        self.clock = Some((Arc::new(clock), pace));
        self
    }

    /// Configures the scheduler (default: [`SchedulerConfig::default`]).
    #[must_use]
    pub fn config(mut self, config: SchedulerConfig) -> Self {
        self.config = config;
        self
    }

    /// Keeps the client's state in `store` (see the `store` module docs for the guarantees):
    /// `build` loads it, and every change is written to it before any action it records is
    /// dispatched. Default: none, state lives in memory only.
    #[must_use]
    pub fn store<S: Store>(mut self, store: S) -> Self {
        self.store = Some(Box::new(store));
        self
    }

    /// Called (outside the client's lock, from whichever thread made the change) each time a
    /// batch of changes cannot be written to the store. Actions wait until a later batch
    /// succeeds; mutations meanwhile return [`ScheduleError::Store`]. Default: the first
    /// failure after a success is printed to standard error.
    #[must_use]
    pub fn on_store_error<F: Fn(&StoreError) + Send + Sync + 'static>(mut self, hook: F) -> Self {
        self.on_store_error = Some(Arc::new(hook));
        self
    }

    /// Builds the client, loading the store if one was given.
    ///
    /// # Errors
    /// [`ScheduleError::Store`] if the store cannot be loaded completely (nothing is skipped).
    pub fn build(self) -> Result<Client, ScheduleError> {
        let (clock, pace) = self
            .clock
            .unwrap_or_else(|| (Arc::new(SystemClock), Pace::RealTime));
        let (scheduler, persistence) = match self.store {
            Some(store) => {
                let (persistence, scheduler) =
                    Persistence::open(store, self.on_store_error, self.config)?;
                (scheduler, Some(persistence))
            }
            None => (Scheduler::new(self.config), None),
        };
        Ok(Client {
            inner: Arc::new(Shared::new(
                clock,
                pace,
                HostedScheduler::new(scheduler, persistence),
            )),
        })
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
