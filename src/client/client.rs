//! [`Client`]: the thread-safe owner of a `Scheduler`, and [`ClientBuilder`].
//!
//! The scheduler itself, its lock and its journal are in `hosted`; what clients, handles,
//! completions and workers share is in `shared`.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::engine::{
    CreateScheduleOptions, Schedule, ScheduleEvent, ScheduleListDescription, Scheduler,
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
        self.inner
            .with_scheduler(id, |s, now| s.create_schedule(id, schedule, now))?;
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
        self.inner.with_scheduler(id, |s, now| {
            s.create_schedule_with_options(id, schedule, options, now)
        })?;
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
            .with_scheduler(&options.id.clone(), |s, now| s.start_workflow(options, now))
    }

    /// Every [`ScheduleEvent`] from now on: what each verb and each poll of the worker
    /// decided (created, started, closed with its outcome, skipped, missed, dropped, paused,
    /// ...), in the order the engine decided it, across all threads.
    ///
    /// A slow or absent reader never slows or blocks the scheduler: the channel holds 1024
    /// events (`Receiver::capacity`), and events that find it full are dropped for this
    /// subscriber and counted, the count arriving as [`ScheduleEvent::Lagged`] before the
    /// next event that fits. Dropping the receiver unsubscribes; with no subscriber left the
    /// scheduler stops recording events.
    ///
    /// ```
    /// use schedule_engine::{Client, ScheduleEvent, ScheduleSpec, Schedule, ScheduleAction,
    ///     ScheduleActionStartWorkflow};
    ///
    /// let client = Client::new();
    /// let events = client.subscribe();
    /// let schedule = Schedule::new(
    ///     ScheduleAction::StartWorkflow(
    ///         ScheduleActionStartWorkflow::workflow("report").id("report").task_queue("reports"),
    ///     ),
    ///     ScheduleSpec { cron_expressions: vec!["0 9 * * *".into()], ..Default::default() },
    /// );
    /// client.create_schedule("daily", schedule)?;
    /// client.get_schedule_handle("daily").pause(Some("holiday"))?;
    /// let seen: Vec<ScheduleEvent> = events.try_iter().collect();
    /// assert!(matches!(&seen[0], ScheduleEvent::Created { schedule_id, .. } if schedule_id == "daily"));
    /// assert!(matches!(&seen[1], ScheduleEvent::Paused { note, .. } if note == "holiday"));
    /// # Ok::<(), schedule_engine::ScheduleError>(())
    /// ```
    #[must_use = "dropping the receiver unsubscribes"]
    pub fn subscribe(&self) -> crossbeam_channel::Receiver<ScheduleEvent> {
        self.inner.subscribe()
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
