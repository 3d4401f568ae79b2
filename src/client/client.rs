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
use super::shared::{Hosting, Shared};
use super::verb::Verb;

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
                Hosting::Local(HostedScheduler::new(
                    Scheduler::new(SchedulerConfig::default()),
                    None,
                    Arc::default(),
                )),
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
        self.inner.apply(Verb::Create {
            id: id.to_owned(),
            schedule,
            options: None,
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
        self.inner.apply(Verb::Create {
            id: id.to_owned(),
            schedule,
            options: Some(options),
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
        self.inner.apply(Verb::Upsert {
            id: id.to_owned(),
            schedule,
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
    ///
    /// In cluster mode: every schedule of the cluster, those of the partitions this node hosts
    /// from their engines and the others from the records their owners committed (which hold
    /// every change made before this call). If the database cannot be read, only this node's
    /// schedules are listed and the failure goes to the `on_store_error` hook.
    #[must_use]
    pub fn list_schedules(&self) -> Vec<ScheduleListDescription> {
        self.inner.list()
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
        self.inner.apply(Verb::StartWorkflow { options })
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
    /// In cluster mode: the events of the partitions this node hosts while it hosts them
    /// (each schedule's in order), so a subscriber on every node covers the cluster; what
    /// happened around a partition's move may be reported by both owners.
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
    #[cfg(feature = "postgres")]
    cluster: Option<crate::store::postgres::PostgresCluster>,
}

impl ClientBuilder {
    /// Reads time from `clock` (default: [`SystemClock`]; in cluster mode the database's clock,
    /// [`PostgresCluster::clock`](crate::PostgresCluster::clock)).
    ///
    /// In cluster mode a clock of your own is meant for tests only (a [`ManualClock`](crate::ManualClock) shared
    /// by the nodes of one process, to drive them through time): it voids the cluster's "one
    /// time source" guarantee, as every node must read the same time.
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

    /// Makes the client a node of `cluster` (feature `postgres`): its verbs work on every
    /// schedule of the cluster, from any node, with single-node semantics; its
    /// [`Worker`](crate::Worker) runs the schedules of the partitions this node holds. See
    /// [`PostgresCluster`](crate::PostgresCluster) for how it works and what it guarantees.
    ///
    /// The node joins (takes partitions) when its first worker starts and leaves (writes
    /// their state and releases them at once) when its last worker shuts down; a client
    /// without a worker hosts nothing and sends every verb to the owners. A cluster replaces a
    /// [`store`](ClientBuilder::store): the partitions' state lives in the database.
    ///
    /// ```no_run
    /// use schedule_engine::{Client, ClusterConfig, PostgresCluster, Worker, WorkflowRegistry};
    ///
    /// let cluster = PostgresCluster::connect(
    ///     "postgresql://scheduler@db.internal/app",
    ///     ClusterConfig { node_id: "web-1".into(), ..Default::default() },
    /// )?;
    /// let client = Client::builder().cluster(cluster).build()?;
    /// let worker = Worker::start(&client, WorkflowRegistry::new());
    /// // ... client.create_schedule(..) from any node ...
    /// worker.shutdown(); // hands this node's partitions over at once
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "postgres")]
    #[must_use]
    pub fn cluster(mut self, cluster: crate::store::postgres::PostgresCluster) -> Self {
        self.cluster = Some(cluster);
        self
    }

    /// Builds the client, loading the store if one was given.
    ///
    /// # Errors
    /// [`ScheduleError::Store`] if the store cannot be loaded completely (nothing is skipped);
    /// [`ScheduleError::InvalidArgument`] for both a store and a cluster.
    pub fn build(self) -> Result<Client, ScheduleError> {
        #[cfg(feature = "postgres")]
        if let Some(cluster) = self.cluster {
            if self.store.is_some() {
                return Err(ScheduleError::invalid(
                    "a client has a store or a cluster, not both (the cluster keeps the state)",
                ));
            }
            let (clock, pace) = self
                .clock
                .unwrap_or_else(|| (Arc::new(cluster.clock()), Pace::RealTime));
            let node = super::cluster::ClusterNode::new(cluster, self.config, self.on_store_error);
            return Ok(Client {
                inner: Arc::new(Shared::new(clock, pace, Hosting::Cluster(Arc::new(node)))),
            });
        }
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
                Hosting::Local(HostedScheduler::new(scheduler, persistence, Arc::default())),
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
