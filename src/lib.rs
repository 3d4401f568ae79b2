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
//! [time zones and DST](#time-zones-and-dst) · [calendars beyond
//! Temporal](#calendars-beyond-temporal) · [overlap policies](#overlap-policies) ·
//! [catch-up](#catch-up) · [threads and locks](#threads-and-locks) · [durability](#durability)
//! · [features](#features) · [panics, errors and invariants](#panics-errors-and-invariants) ·
//! [where things are](#where-things-are). The design and the semantics, rule by rule, are in
//! [`_documentation`].
//!
//! ## The drive loop
//!
//! A [`Worker`] runs this loop on its own thread; drive the [`Scheduler`] yourself to host it
//! elsewhere (a test, a simulation, an event loop of your own). For async workflows on tokio
//! there is no need: the `Worker` with an `AsyncWorkflowRegistry` (feature `tokio`) runs them
//! as tasks on your runtime (`examples/tokio_service.rs`).
//!
//! 1. `poll(now)` and carry out every [`Action`] it returns: start a run, or cancel or
//!    terminate one (overlap policies `CancelOther`/`TerminateOther`).
//! 2. When a started run ends, report it with `workflow_closed(workflow_id, outcome, now)`: the
//!    schedule counts it as running until then, which is what overlap policies look at.
//! 3. Sleep until `next_wakeup()`, or until you change the scheduler (create, trigger,
//!    backfill, update, unpause, start_workflow, a closed run); then go to 1.
//!
//! Polling early or twice is harmless: `poll` returns only what is due and never the same
//! start twice. The [`Scheduler`]'s methods come in four families: getters (`describe`,
//! `list_schedules`, `next_wakeup`, `snapshot`), the handler of what the caller reports
//! (`workflow_closed`), mutators (`create_schedule`, `pause`, `trigger`, `update_checked`, ...)
//! and the one poll. Mutators and the handler change state only; their actions come out of the
//! next `poll`, and `next_wakeup` may change after any of them and after `poll`: read it again
//! before sleeping.
//!
//! A fired start shares its schedule's strings, arguments and memo ([`SharedStr`], `Arc`): the
//! one allocation per start is its workflow id.
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
//! Calendar specs and cron strings match *wall-clock* time in their zone, literally by
//! default: a wall time that does not exist that day (spring forward) is **skipped**, and one
//! that occurs twice (fall back) **fires twice**, in every zone (cron jobs: see below). In New
//! York, 2024:
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
//! A spec's [`DstPolicy`] can say otherwise (beyond Temporal): `nonexistent:
//! RunAfterGap` runs a skipped time once, at the first instant after the gap (Vixie cron's
//! rule), and `repeated: First` runs a repeated time at its first instant only. The policies
//! apply to calendars that name their hours. A calendar that fires in every hour (hour `*`:
//! `*/15 * * * *`, `30 * * * *`) measures elapsed time, so it keeps the literal rule under every
//! policy: its times in a gap are not there (the next one comes on time, 15 minutes after the
//! last) and its repeated hour fires again (`First` would leave an hour and a quarter without a
//! run). New York, 2024:
//!
//! ```text
//!                 Skip, Both (default)                  RunAfterGap, First
//! "30 2 * * *"    Mar 10  no run                        Mar 10  03:00 EDT = 07:00Z
//! "30 1 * * *"    Nov 3   01:30 EDT = 05:30Z            Nov 3   01:30 EDT = 05:30Z
//!                         01:30 EST = 06:30Z
//! "*/15 * * * *"  Mar 10  01:45 EST, 03:00 EDT, 03:15   the same: every 15 minutes of
//!                 Nov 3   01:45 EDT, 01:00 EST, 01:15   elapsed time, through both changes
//!                         ... 01:45 EST, 02:00 EST
//! ```
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use schedule_engine::{DstPolicy, NonexistentTime, RepeatedTime, ScheduleSpec};
//!
//! let spec = ScheduleSpec {
//!     cron_expressions: vec!["30 2 * * *".into()],
//!     time_zone_name: Some("America/New_York".into()),
//!     dst: DstPolicy { nonexistent: NonexistentTime::RunAfterGap, repeated: RepeatedTime::First },
//!     ..Default::default()
//! };
//! let spring = Utc.with_ymd_and_hms(2024, 3, 10, 0, 0, 0).unwrap();
//! let next = spec.compile()?.next_time(spring).unwrap().nominal;
//! assert_eq!(next, Utc.with_ymd_and_hms(2024, 3, 10, 7, 0, 0).unwrap()); // 03:00 EDT
//! # Ok::<(), schedule_engine::SpecError>(())
//! ```
//!
//! Skip calendars match each time's own wall clock, whatever the policy. Intervals are plain
//! elapsed time from the Unix epoch (or from the spec's [`IntervalAnchor`]), plus `offset`, and
//! ignore zones.
//!
//! ## Calendars beyond Temporal
//!
//! Cron strings also take Quartz's day rules: `L` (the last day of the month), `L-3`, `LW` (the
//! last weekday), `15W` (the weekday nearest the 15th), `5L` (the last Friday) and `1#3` or
//! `MON#3` (the third Monday); structured calendars say the same with negative days,
//! `week_of_month` and `nearest_weekday` ([`ScheduleCalendarSpec`] has the table). Day of
//! month and day of week still both have to match, as in Temporal. A `#` right after a day of
//! the week and before a digit is the nth weekday; any other `#` starts a comment, as in
//! Temporal (whose server reads `5#3` as every Friday). A compiled spec describes itself in
//! English (`Display`), and intervals can count from `start_at` ([`IntervalAnchor`]).
//!
//! ```
//! use schedule_engine::ScheduleSpec;
//!
//! let spec = ScheduleSpec {
//!     cron_expressions: vec!["0 18 LW * *".into()],
//!     time_zone_name: Some("Europe/Paris".into()),
//!     ..Default::default()
//! };
//! assert_eq!(spec.compile()?.to_string(),
//!     "at 18:00 on the last weekday of the month, in Europe/Paris");
//! # Ok::<(), schedule_engine::SpecError>(())
//! ```
//!
//! ## Cron jobs speak another dialect
//!
//! A cron job ([`Scheduler::start_workflow`] or [`Client::start_workflow`] with
//! `cron_schedule`) is not a schedule, in Temporal as here: the server reads its string with
//! robfig/cron's standard parser and plans each run from the previous one
//! (`GetBackoffForNextSchedule`). So the same string can mean different times:
//!
//! | | cron job (`cron_schedule`) | schedule (`ScheduleSpec::cron_expressions`) |
//! |---|---|---|
//! | `0 0 13 * 5` | every Friday **and** every 13th (either day field) | Friday the 13th only (both) |
//! | `@every 1h`, started 10:23 | 11:23, 12:23, ... (from the start) | 11:00, 12:00, ... (from the epoch) |
//! | fields | exactly 5; `?` = `*`; day of week 0-6 (`7` is an error) | 5, 6 (+ year) or 7 (seconds first); `7` = Sunday; `#` comments |
//! | a run closes | the next run is the first cron time not before the close, its wait rounded **up** to whole seconds from the close | nominal times never move; overlap and catch-up policies apply |
//! | a bad string | [`ScheduleError::InvalidArgument`] `invalid CronSchedule. <reason>` | [`ScheduleError::InvalidSpec`] |
//!
//! A cron job's first run starts at its first cron time after the start, plus the start's
//! fraction of a second (the wait is whole seconds). Completed, failed and timed-out runs go
//! on; a canceled or terminated run ends the chain; times that pass while a run is open are
//! skipped, not queued. [`standard_cron::StandardCron`] is the dialect on its own (parse, next time, next run).
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use schedule_engine::{Scheduler, StartWorkflowOptions, WorkflowOutcome};
//!
//! let at = |h, m, s, ms| Utc.with_ymd_and_hms(2024, 1, 1, h, m, s).unwrap()
//!     + chrono::Duration::milliseconds(ms);
//! let mut scheduler = Scheduler::default();
//! scheduler.start_workflow(StartWorkflowOptions {
//!     workflow: "report".into(),
//!     id: "hourly-report".into(),
//!     task_queue: "reports".into(),
//!     cron_schedule: Some("@every 1h".into()),
//!     ..Default::default()
//! }, at(10, 23, 0, 0))?;
//! assert_eq!(scheduler.next_wakeup(), Some(at(11, 23, 0, 0))); // a schedule: 11:00
//! let _ = scheduler.poll(at(11, 23, 0, 0));
//! // Closed at 11:30:00.250: 12:23 is 52 min 59.75 s away, rounded up to whole seconds.
//! scheduler.workflow_closed("hourly-report", WorkflowOutcome::Completed { result: None },
//!     at(11, 30, 0, 250))?;
//! assert_eq!(scheduler.next_wakeup(), Some(at(12, 23, 0, 250)));
//! # Ok::<(), schedule_engine::ScheduleError>(())
//! ```
//!
//! DST in a cron job follows robfig on Go's time rules, in the `CRON_TZ=` zone (UTC without
//! one): where a change moves a whole hour (New York, Berlin, London, Sydney) that is the
//! literal rule above, gaps skipped and repeats run twice; where it moves half an hour or falls
//! at midnight, robfig's own answer (e.g. on Lord Howe's fall-back day `0 2 * * *` does not
//! fire).
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
//! ## Watching what the scheduler does
//!
//! Beyond Temporal (whose users ask for it, temporalio/temporal#8087), every decision is an
//! event: [`Client::subscribe`] gives a channel of [`ScheduleEvent`]s (created, started, closed
//! with its outcome, skipped by the overlap policy, missed by the catch-up window, dropped from
//! a full buffer or while paused, paused and unpaused with the note, updated, deleted), in the
//! order the engine decided them. A reader that falls behind never slows the scheduler: its
//! channel is bounded, and what it missed arrives as a count ([`ScheduleEvent::Lagged`]). The
//! sans-IO [`Scheduler`] gives the same events through [`Scheduler::record_events`] and
//! [`Scheduler::take_events`]. The same decisions go to `tracing` (debug and trace levels), at
//! the cost of a level check when no subscriber listens.
//!
//! ```
//! use std::time::Duration;
//! use schedule_engine::{Client, Schedule, ScheduleAction, ScheduleActionStartWorkflow,
//!     ScheduleEvent, ScheduleIntervalSpec, ScheduleSpec};
//!
//! let client = Client::new();
//! let events = client.subscribe();
//! std::thread::spawn(move || {
//!     for event in events {
//!         match event {
//!             ScheduleEvent::Closed { schedule_id, workflow_id, outcome, .. } => {
//!                 println!("{schedule_id}: {workflow_id} ended {:?}", outcome.status())
//!             }
//!             ScheduleEvent::MissedCatchup { schedule_id, count, .. } => {
//!                 println!("{schedule_id}: {count} times missed")
//!             }
//!             other => println!("{other:?}"),
//!         }
//!     }
//! });
//! let action = ScheduleActionStartWorkflow::workflow("report").id("report").task_queue("q");
//! let spec = ScheduleSpec {
//!     intervals: vec![ScheduleIntervalSpec::new(Duration::from_secs(3600))],
//!     ..Default::default()
//! };
//! client.create_schedule("hourly", Schedule::new(ScheduleAction::StartWorkflow(action), spec))?;
//! # Ok::<(), schedule_engine::ScheduleError>(())
//! ```
//!
//! Describe shows the same facts as state: each recent action's
//! [`start_workflow_status`](ScheduleActionResult::start_workflow_status) (running, then how it
//! ended), the runs that failed (`num_actions_failed`), and the times dropped while paused up
//! to the moment of the call.
//!
//! ## Durability
//!
//! Give the client builder a [`store::Store`] (`SqliteStore` with the `sqlite` feature) and its
//! schedules, counters, buffers, running runs, cron jobs and delayed starts survive restarts and
//! crashes: every change is written before any action it records is dispatched (write-ahead),
//! each nominal time is started at least once (a crash can make the executor see a workflow id
//! twice; ids are deterministic, so it can de-duplicate), and times that came due while the
//! process was down are handled by each schedule's catch-up window and overlap policy. See
//! [`store::Store`] for the full list, including runs interrupted by a crash and store failures.
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
//!
//! ## Features
//!
//! - `sqlite`: [`SqliteStore`], durable storage in an embedded SQLite (bundled: no system
//!   library needed).
//! - `postgres`: [`PostgresCluster`] and the [`cluster`] module, one set of schedules shared by
//!   many processes on PostgreSQL: `Client::builder().cluster(..)` makes a client one node of
//!   it, whose verbs reach every schedule from any node.
//! - `tokio`: `AsyncWorkflowRegistry`, workflows as async closures run as tasks on a tokio
//!   runtime (either flavour): panics are failed runs, cancel and terminate reach the task,
//!   timeouts end it; [`Worker::settle_async`] and [`Worker::shutdown_async`] wait without
//!   blocking the runtime.
//!
//! With no feature the crate has no C code and no database client.
//!
//! The client and the worker report through [`tracing`](https://docs.rs/tracing) (targets
//! under `schedule_engine`): each verb runs in a `schedule_engine.verb` span with the verb and
//! the id, and ends with a debug event (`applied`, or `refused` with the error; a warn
//! `applied in memory, not stored` when the store refused the change); the worker
//! emits `starting run`, `stopping run` (a cancel or terminate, in field `how`) and each run's
//! end (`run failed` and `run timed out` at warn, with the workflow id); a store that refuses
//! writes is an error event, its recovery an info one. Without a subscriber this costs next to
//! nothing.
//!
//! ## Panics, errors and invariants
//!
//! Input never panics: a bad argument, spec, cron string, config value or snapshot is a typed
//! error ([`ScheduleError`], [`SpecError`], [`StoreError`]) whose message names the field and
//! quotes the text, and a refused operation changes nothing. No clock jump, restored snapshot
//! or saturated counter makes the engine panic, hang or grow without bound.
//!
//! A panic means a bug in this crate: the code fails fast where an internal invariant is broken
//! (`expect("invariant: ...")`, each one stating what holds and why) rather than carrying on
//! with state it cannot trust. The [`Scheduler`] holds no threads or locks, so a caller may
//! contain such a panic with `catch_unwind` and drop the instance. The [`Worker`] contains the
//! panics of user code (executors, stores, clocks) and goes on.
//!
//! The crate has one `unsafe` block: the CPU's prefetch hint, which reads nothing and cannot
//! fault, issued by `poll` to request the memory of the schedules it fires next.
//!
//! ## Where things are
//!
//! The root holds what a typical program names. [`snapshot`] holds the records of a
//! scheduler's state and change feed, [`store`] the storage interface and its plumbing,
//! [`standard_cron`] the cron jobs' dialect on its own, and `cluster` (feature `postgres`) the
//! cluster's storage layer.

// One exception, allowed where it stands: the prefetch hint of `engine/compact/prefetch.rs`,
// which a benchmark showed the fire path needs (its module docs say why and how much).
#![deny(unsafe_code)]
#![deny(missing_docs)]
// Unit tests may time themselves; the code they test is checked by the library's own build.
#![cfg_attr(test, allow(clippy::disallowed_methods))]

mod client;
mod engine;
mod error;
mod spec;
pub mod store;

// The README's snippets are doctests (its durability and cluster snippets need the sqlite and
// postgres features).
#[cfg(all(doctest, feature = "sqlite", feature = "postgres"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

// The root: what a typical program names (tests/architecture.rs holds the agreed list).
#[cfg(feature = "tokio")]
pub use client::AsyncWorkflowRegistry;
pub use client::{
    Client, ClientBuilder, Clock, Completion, ManualClock, ScheduleHandle, SystemClock, Worker,
    WorkflowContext, WorkflowError, WorkflowExecutor, WorkflowRegistry,
};
pub use engine::{
    Action, CancelWorkflowAction, CreateScheduleOptions, Schedule, ScheduleAction,
    ScheduleActionExecution, ScheduleActionResult, ScheduleActionStartWorkflow, ScheduleBackfill,
    ScheduleDescription, ScheduleEvent, ScheduleInfo, ScheduleListDescription,
    ScheduleOverlapPolicy, SchedulePolicy, ScheduleState, ScheduleUpdate, ScheduleUpdateInput,
    Scheduler, SchedulerConfig, SharedStr, StartWorkflowAction, StartWorkflowOptions,
    TerminateWorkflowAction, WorkflowExecutionStatus, WorkflowOutcome,
};
pub use error::ScheduleError;
pub use spec::{
    CompiledSpec, DstPolicy, IntervalAnchor, NonexistentTime, RepeatedTime, ScheduleCalendarSpec,
    ScheduleIntervalSpec, ScheduleRange, ScheduleSpec, ScheduledTime, SpecError,
};
#[cfg(feature = "postgres")]
pub use store::postgres::{ClusterConfig, PostgresCluster};
#[cfg(feature = "sqlite")]
pub use store::SqliteStore;
pub use store::StoreError;

/// The records of a [`Scheduler`]'s state: a whole [`snapshot`](Scheduler::snapshot)
/// ([`SchedulerSnapshot`](snapshot::SchedulerSnapshot)) and the change feed
/// ([`StateChange`](snapshot::StateChange)s from [`Scheduler::take_changes`]). A store built on
/// the engine directly keeps these; a [`Client`] with a [`store::Store`] keeps them for you.
pub mod snapshot {
    pub use crate::engine::{
        BackfillRecord, BufferedStartRecord, RunningRecord, ScheduleRecord, SchedulerSnapshot,
        StateChange, WorkflowRecord,
    };
}

/// Cron jobs' dialect on its own: robfig/cron's standard parser and the Temporal server's
/// next-run rule, as [`StartWorkflowOptions::cron_schedule`] reads them.
pub mod standard_cron {
    pub use crate::spec::{StandardCron, StandardCronError, StandardCronRun};
}

/// The building blocks of the cluster mode (feature `postgres`), for hosts of your own: leases
/// with fencing, balancing, the database clock, the per-partition store and the command queue.
/// A `Client` built with [`ClientBuilder::cluster`](crate::ClientBuilder::cluster) uses them
/// for you. `docs/cluster.md` describes the design.
#[cfg(feature = "postgres")]
pub mod cluster {
    pub use crate::store::postgres::*;
}

/// The project's design and semantics notes, as rustdoc pages.
pub mod _documentation {
    /// How the crate is built and why: layers, decisions, the public contract, invariants,
    /// glossary, module map.
    #[doc = include_str!("../docs/design.md")]
    pub mod design {}

    /// What the engine computes, rule by rule, and where it differs from the Temporal server.
    #[doc = include_str!("../docs/semantics.md")]
    pub mod semantics {}

    /// Several machines: partitions, leases, fencing, the command queue.
    #[doc = include_str!("../docs/cluster.md")]
    pub mod cluster {}
}
