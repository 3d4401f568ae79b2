//! # schedule-engine
//!
//! Temporal's Schedules, embedded: recurring and one-off work with the exact semantics of the
//! Temporal server, driven in-process, without a server.
//!
//! Two layers, usable separately:
//! - [`Scheduler`]: the sans-IO state machine. It performs no I/O, spawns nothing and never
//!   reads a clock: every operation takes `now`, and the actions it decides on come out of
//!   [`Scheduler::poll`]. Timelines can therefore be tested faster than real time.
//! - [`Client`] and [`ScheduleHandle`]: a thread-safe facade with the verbs of Temporal's Python
//!   SDK (`create_schedule`, `get_schedule_handle`, `list_schedules`, `start_workflow`;
//!   `backfill`, `delete`, `describe`, `pause`, `unpause`, `trigger`, `update`), a [`Clock`], and
//!   a [`Worker`] thread that drives the scheduler and runs its actions through your
//!   [`WorkflowExecutor`] — or through a [`WorkflowRegistry`] of plain Rust closures.
//!
//! ```
//! use std::time::Duration;
//! use chrono::{TimeZone, Utc};
//! use schedule_engine::{
//!     Client, ManualClock, Schedule, ScheduleAction, ScheduleActionStartWorkflow,
//!     ScheduleIntervalSpec, ScheduleSpec, Worker, WorkflowContext, WorkflowRegistry,
//! };
//!
//! let clock = ManualClock::new(Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap());
//! let client = Client::builder().clock(clock.clone()).build()?;
//! let registry = WorkflowRegistry::new()
//!     .threads(0) // run closures on the worker thread: deterministic with a manual clock
//!     .register("report", |ctx: WorkflowContext| Ok(format!("report for {}", ctx.nominal_time())));
//! let worker = Worker::start(&client, registry);
//!
//! let handle = client.create_schedule("reports", Schedule {
//!     action: ScheduleAction::StartWorkflow(ScheduleActionStartWorkflow {
//!         workflow: "report".into(),
//!         id: "report".into(),
//!         task_queue: "reports".into(),
//!         ..Default::default()
//!     }),
//!     spec: ScheduleSpec {
//!         intervals: vec![ScheduleIntervalSpec::new(Duration::from_secs(3600))],
//!         ..Default::default()
//!     },
//!     ..Default::default()
//! })?;
//!
//! for _ in 0..3 {
//!     clock.advance(Duration::from_secs(3600));
//!     worker.settle(); // polled, dispatched, completions applied
//! }
//! let info = handle.describe()?.info;
//! assert_eq!(info.num_actions, 3);
//! assert_eq!(info.recent_actions[0].action.workflow_id, "report-2024-01-01T01:00:00Z");
//! worker.shutdown();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Contents: [the drive loop](#the-drive-loop) · [time model](#time-model) ·
//! [time zones and DST](#time-zones-and-dst) · [overlap policies](#overlap-policies) ·
//! [catch-up](#catch-up) · [threads and locks](#threads-and-locks) · [durability](#durability).
//!
//! ## The drive loop
//!
//! A [`Worker`] runs this loop on its own thread; drive the [`Scheduler`] yourself to host it
//! elsewhere (an async task: see `examples/tokio_driver.rs`; a test; a simulation):
//!
//! 1. `poll(now)` and carry out every [`Action`] it returns: start a run, or cancel or
//!    terminate one (overlap policies `CancelOther`/`TerminateOther`).
//! 2. When a started run ends, report it with `workflow_closed(workflow_id, outcome, now)`: the
//!    schedule counts it as running until then, which is what overlap policies look at.
//! 3. Sleep until `next_wakeup()`, or until you change the scheduler (create, trigger,
//!    backfill, update, unpause, start_workflow, a closed run); then go to 1.
//!
//! Polling early or twice is harmless: `poll` returns only what is due and never the same
//! start twice. Mutations change state only; their actions come out of the next `poll`.
//!
//! A hot loop can keep one `Vec`: [`Scheduler::poll_into`] appends to it, and
//! [`Scheduler::poll_reuse`] replaces its contents, writing each start action over an earlier
//! one's strings, so a driver that reads the actions in place allocates nothing per fired
//! action (`BENCHMARKS.md` has what each costs).
//!
//! ```
//! use std::time::Duration;
//! use chrono::{TimeZone, Utc};
//! use schedule_engine::{
//!     Action, Schedule, ScheduleAction, ScheduleActionStartWorkflow, ScheduleIntervalSpec,
//!     ScheduleSpec, Scheduler, SchedulerConfig, WorkflowOutcome,
//! };
//!
//! let t0 = Utc.with_ymd_and_hms(2022, 6, 1, 0, 0, 0).unwrap();
//! let mut scheduler = Scheduler::new(SchedulerConfig::default());
//! scheduler.create_schedule("sched", Schedule {
//!     action: ScheduleAction::StartWorkflow(ScheduleActionStartWorkflow {
//!         workflow: "wf".into(), id: "myid".into(), task_queue: "tq".into(),
//!         ..Default::default()
//!     }),
//!     spec: ScheduleSpec {
//!         intervals: vec![ScheduleIntervalSpec::new(Duration::from_secs(15 * 60))],
//!         ..Default::default()
//!     },
//!     ..Default::default()
//! }, t0)?;
//!
//! let end = t0 + chrono::Duration::hours(1);
//! let mut started = Vec::new();
//! while let Some(now) = scheduler.next_wakeup().filter(|&t| t <= end) {
//!     // (a real driver sleeps until `now` here)
//!     for action in scheduler.poll(now) {                                // 1.
//!         if let Action::StartWorkflow(start) = action {
//!             started.push(start.workflow_id.clone());
//!             let done = WorkflowOutcome::Completed { result: None };     // the run, instantly
//!             scheduler.workflow_closed(&start.workflow_id, done, now)?; // 2.
//!         }
//!     }
//! }                                                                      // 3.
//! assert_eq!(started, [
//!     "myid-2022-06-01T00:15:00Z", "myid-2022-06-01T00:30:00Z",
//!     "myid-2022-06-01T00:45:00Z", "myid-2022-06-01T01:00:00Z",
//! ]);
//! # Ok::<(), schedule_engine::ScheduleError>(())
//! ```
//!
//! ## Time model
//!
//! - **UTC everywhere.** Every instant in the API is a `chrono::DateTime<Utc>`; a spec's
//!   `time_zone_name` only says how its calendar fields are read.
//! - **Nominal and actual time.** A spec yields *nominal* times; jitter delays each by a
//!   deterministic amount into its *actual* time ([`ScheduledTime`]). A run is due at its
//!   actual time, and its workflow id carries its nominal time:
//!   `<action id>-<nominal time, RFC 3339, whole seconds, Z>`. Trigger and backfill starts are
//!   *manual* ([`StartWorkflowAction::manual`]); a trigger's nominal time is its `now`.
//! - **`now` comes from the caller.** The [`Scheduler`] only knows the `now` it is given; the
//!   [`Client`] reads its [`Clock`] once per verb, under its lock, so interleaved threads never
//!   feed it time out of order. A `now` earlier than one already seen takes nothing twice.
//! - **[`ManualClock`]** moves only when told to ([`set`](ManualClock::set),
//!   [`advance`](ManualClock::advance)), and wakes the [`Worker`] when it does;
//!   [`Worker::settle`] then waits until everything due at the new time was dispatched. Tests,
//!   simulations and examples run days of schedule in milliseconds.
//! - Durations (`every`, `jitter`, `catchup_window`, `start_delay`) are `std::time::Duration`.
//!
//! ## Time zones and DST
//!
//! Calendar specs and cron strings match *wall-clock* time in their zone, literally: a wall
//! time that does not exist that day (spring forward) is **skipped**, and one that occurs twice
//! (fall back) **fires twice**, in every zone. In New York, 2024:
//!
//! ```text
//! "30 2 * * *"  Mar 9  02:30 EST = 07:30Z
//!               Mar 10 02:30 does not exist (02:00 -> 03:00)   skipped
//!               Mar 11 02:30 EDT = 06:30Z
//! "30 1 * * *"  Nov 3  01:30 EDT = 05:30Z, and 01:30 EST = 06:30Z   twice
//! ```
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use schedule_engine::ScheduleSpec;
//!
//! let spec = ScheduleSpec {
//!     cron_expressions: vec!["30 1 * * *".into()],
//!     time_zone_name: Some("America/New_York".into()),
//!     ..Default::default()
//! };
//! let day = |d| Utc.with_ymd_and_hms(2024, 11, d, 0, 0, 0).unwrap();
//! let times: Vec<_> = spec.compile()?.matching_times(day(3), day(4)).collect();
//! assert_eq!(times, [
//!     Utc.with_ymd_and_hms(2024, 11, 3, 5, 30, 0).unwrap(),
//!     Utc.with_ymd_and_hms(2024, 11, 3, 6, 30, 0).unwrap(),
//! ]);
//! # Ok::<(), schedule_engine::SpecError>(())
//! ```
//!
//! Intervals are plain elapsed time from the Unix epoch (plus `offset`) and ignore zones.
//!
//! ## Overlap policies
//!
//! When a time comes due while the schedule's previous run is still running,
//! [`SchedulePolicy::overlap`] decides. A schedule every 5 minutes whose 00:05 run lasts until
//! 00:17 (later runs end at once):
//!
//! ```text
//! policy          00:10                    00:15        00:17: the 00:05 run closes  00:20
//! Skip (default)  skipped                  skipped      -                            runs
//! BufferOne       waits                    skipped      00:10 runs                   runs
//! BufferAll       waits                    waits        00:10 runs, then 00:15       runs
//! CancelOther     cancels the 00:05 run and waits for it to close; then the latest waiting
//!                 time runs (if the run obeys at once, 00:10 runs at 00:10)
//! TerminateOther  as CancelOther, with terminate
//! AllowAll        runs, concurrently       runs         -                            runs
//! ```
//!
//! [`ScheduleHandle::trigger`] and [`ScheduleHandle::backfill`] obey the policy too (theirs if
//! given, else the schedule's). [`ScheduleInfo`] counts what was skipped
//! (`num_actions_skipped_overlap`) and dropped from a full buffer (`num_actions_buffer_dropped`).
//!
//! ## Catch-up
//!
//! If the process was down (or the driver slept) past some times, the next poll sees them all.
//! Times older than the schedule's catch-up window (default 365 days, at least 10 s) are
//! dropped and counted in `num_actions_missed_catchup_window`; the rest go through the overlap
//! policy, so with `Skip` only the earliest runs. Hourly at :17 with a 1-hour window, down from
//! 18:00 to 00:00:
//!
//! ```text
//! 18:17 19:17 20:17 21:17 22:17 | 23:17        | 00:17
//! missed (older than 1 h)       | runs at 00:00 | runs on time
//! ```
//!
//! ```
//! use std::time::Duration;
//! use chrono::{TimeZone, Utc};
//! use schedule_engine::{
//!     Action, Schedule, ScheduleAction, ScheduleActionStartWorkflow, ScheduleIntervalSpec,
//!     SchedulePolicy, ScheduleSpec, Scheduler, SchedulerConfig,
//! };
//!
//! let at = |d, h, m| Utc.with_ymd_and_hms(2022, 5, d, h, m, 0).unwrap();
//! let mut scheduler = Scheduler::new(SchedulerConfig::default());
//! scheduler.create_schedule("hourly", Schedule {
//!     action: ScheduleAction::StartWorkflow(ScheduleActionStartWorkflow {
//!         workflow: "wf".into(), id: "myid".into(), task_queue: "tq".into(),
//!         ..Default::default()
//!     }),
//!     spec: ScheduleSpec {
//!         intervals: vec![ScheduleIntervalSpec::with_offset(
//!             Duration::from_secs(3600), Duration::from_secs(17 * 60))],
//!         ..Default::default()
//!     },
//!     policy: SchedulePolicy { catchup_window: Duration::from_secs(3600), ..Default::default() },
//!     ..Default::default()
//! }, at(31, 18, 0))?;
//!
//! let midnight = Utc.with_ymd_and_hms(2022, 6, 1, 0, 0, 0).unwrap();
//! let started: Vec<String> = scheduler.poll(midnight).into_iter()
//!     .filter_map(|a| match a { Action::StartWorkflow(s) => Some(s.workflow_id), _ => None })
//!     .collect();
//! assert_eq!(started, ["myid-2022-05-31T23:17:00Z"]);
//! let info = scheduler.describe("hourly", midnight)?.info;
//! assert_eq!(info.num_actions_missed_catchup_window, 5);
//! # Ok::<(), schedule_engine::ScheduleError>(())
//! ```
//!
//! ## Threads and locks
//!
//! A [`Client`] is `Clone + Send + Sync`; its verbs are synchronous and short, so they work from
//! any thread and inside async code. They share one lock around the [`Scheduler`]; no user code
//! runs under it. [`ScheduleHandle::update`] calls its callback outside the lock and applies the
//! result with [`Scheduler::update_checked`]: only if nobody updated, paused or unpaused the
//! schedule meanwhile, re-running the callback otherwise (at most
//! [`ScheduleHandle::UPDATE_ATTEMPTS`] times, then [`ScheduleError::Conflict`]) — the
//! compare-and-swap loop Temporal's SDKs promise — so concurrent updates never lose each
//! other's changes, and a schedule that keeps firing does not starve the callback. The
//! [`Worker`] calls the executor outside the lock too, catches its panics (a failed run) and
//! those of the store and the clock (reported, then retried), and stops gracefully on
//! [`Worker::shutdown`].
//!
//! ## Durability
//!
//! Give the client builder a [`Store`] (`SqliteStore` with the `sqlite` feature) and its
//! schedules, counters, buffers, running runs, cron jobs and delayed starts survive restarts and
//! crashes: every change is written before any action it records is dispatched (write-ahead),
//! each nominal time is started at least once (a crash can make the executor see a workflow id
//! twice; ids are deterministic, so it can de-duplicate), and times that came due while the
//! process was down are handled by each schedule's catch-up window and overlap policy. See
//! [`Store`] for the full list, including runs interrupted by a crash and store failures.
//!
//! ```no_run
//! # #[cfg(feature = "sqlite")] {
//! use schedule_engine::{Client, SqliteStore};
//!
//! let store = SqliteStore::open("schedules.db")?;
//! let client = Client::builder()
//!     .store(store)
//!     .on_store_error(|e| eprintln!("schedules not saved: {e}"))
//!     .build()?;
//! # let _ = client;
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod client;
mod engine;
mod spec;
mod store;

pub use client::{
    Client, ClientBuilder, Clock, ClockWaker, Completion, ManualClock, ScheduleHandle, SystemClock,
    Worker, WorkflowContext, WorkflowError, WorkflowExecutor, WorkflowRegistry,
};

pub use engine::{
    Action, CancelWorkflowAction, CreateScheduleOptions, Schedule, ScheduleAction,
    ScheduleActionExecution, ScheduleActionResult, ScheduleActionStartWorkflow, ScheduleBackfill,
    ScheduleDescription, ScheduleError, ScheduleInfo, ScheduleListDescription,
    ScheduleOverlapPolicy, SchedulePolicy, ScheduleState, ScheduleUpdate, ScheduleUpdateInput,
    SchedulerConfig, StartWorkflowAction, StartWorkflowOptions, TerminateWorkflowAction,
    WorkflowOutcome,
};
pub use engine::{
    BackfillRecord, BufferedStartRecord, RunningRecord, ScheduleRecord, Scheduler,
    SchedulerSnapshot, StateChange, WorkflowRecord, DEFAULT_CATCHUP_WINDOW, MIN_CATCHUP_WINDOW,
};
pub use spec::{
    CompiledSpec, ScheduleCalendarSpec, ScheduleIntervalSpec, ScheduleRange, ScheduleSpec,
    ScheduledTime, SpecError,
};
pub use store::{
    MemoryStore, RecordKind, Store, StoreChange, StoreError, StoreErrorKind, StoredRecord,
};
#[cfg(feature = "sqlite")]
pub use store::{SqliteStore, SqliteSynchronous};
