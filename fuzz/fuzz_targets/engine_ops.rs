//! Bytes decoded into a sequence of engine operations on a `Scheduler` (create, update, pause,
//! unpause, trigger, backfill, delete, workflow_closed, poll, snapshot and restore, counters
//! pushed to near `u64::MAX`) with `now` moving forward by seconds to years, and backward. After
//! every step the invariants of `tests/integration/engine/model.rs` are checked:
//! - no panic, and no step takes long (libFuzzer's `-timeout` catches a hang);
//! - no scheduled start before its time, none started twice (action ids are unique per
//!   creation), its workflow id `<action id>-<nominal>`; cancels and terminates name open runs;
//! - describe's `num_actions` equals the starts seen, `running_actions` the runs still open;
//! - every due nominal time plus every manual start requested is accounted for exactly once
//!   (started, skipped, replaced, missed, dropped or buffered): compared exactly where the due
//!   times are known independently (a bare interval, by arithmetic; other specs, by walking
//!   `next_time` when there are few), as an upper bound while paused or backfilling;
//! - counters never decrease (they saturate);
//! - a store fed by the change feed equals the snapshot; a restore carries on exactly;
//! - after draining, the next wake-up is in the future.

#![no_main]

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;
use schedule_engine::{Action, CompiledSpec, Schedule, ScheduleAction, ScheduleActionStartWorkflow, ScheduleBackfill, ScheduleError, ScheduleIntervalSpec, ScheduleOverlapPolicy as P, SchedulePolicy, ScheduleSpec, ScheduleUpdate, Scheduler, SchedulerConfig, WorkflowOutcome};
use schedule_engine::snapshot::{SchedulerSnapshot};

#[path = "bytes.rs"]
mod bytes;
use bytes::Bytes;

const SCHEDULES: usize = 3;
const YEAR: i64 = 365 * 86_400;

const POLICIES: [P; 6] = [
    P::Skip,
    P::BufferOne,
    P::BufferAll,
    P::CancelOther,
    P::TerminateOther,
    P::AllowAll,
];

/// Specs: bare intervals (due times by arithmetic) and a few others (by walking).
fn spec(b: &mut Bytes) -> ScheduleSpec {
    let secs = |s: u64| Duration::from_secs(s);
    match b.u8() % 8 {
        0..=3 => {
            let every = [1, 7, 60, 3600, 86_400][usize::from(b.u8()) % 5];
            let offset = u64::from(b.u32()) % every;
            ScheduleSpec {
                intervals: vec![ScheduleIntervalSpec::with_offset(secs(every), secs(offset))],
                ..Default::default()
            }
        }
        4 => cron("*/5 * * * *"),
        5 => cron("CRON_TZ=America/New_York 30 1,2 * * MON-FRI"),
        6 => ScheduleSpec {
            cron_expressions: vec!["0 */2 * * *".into()],
            intervals: vec![ScheduleIntervalSpec::new(secs(5400))],
            jitter: Some(secs(600)),
            ..Default::default()
        },
        _ => ScheduleSpec {
            intervals: vec![ScheduleIntervalSpec::new(secs(60))],
            skip: vec![schedule_engine::ScheduleCalendarSpec {
                second: vec![schedule_engine::ScheduleRange::new(0, 59, 1)],
                minute: vec![schedule_engine::ScheduleRange::new(0, 59, 1)],
                hour: vec![schedule_engine::ScheduleRange::new(0, 23, 1)],
                day_of_week: vec![schedule_engine::ScheduleRange::new(0, 0, 1)],
                ..Default::default()
            }],
            ..Default::default()
        },
    }
}

fn cron(text: &str) -> ScheduleSpec {
    ScheduleSpec {
        cron_expressions: vec![text.into()],
        ..Default::default()
    }
}

/// The model's view of one schedule incarnation.
struct Model {
    prefix: String,
    spec: CompiledSpec,
    /// Due times computable by arithmetic: `(every, offset)` of a bare interval.
    grid: Option<(i64, i64)>,
    created: i64,
    manual: u64,
    started: u64,
    open: Vec<String>,
    /// `open` as a set (an ALLOW_ALL backfill can leave thousands open).
    open_ids: HashSet<String>,
    /// Counters were pushed near `u64::MAX`: only monotonicity is checked.
    saturated: bool,
    /// Done at the last check (no more times to take, nothing buffered), or done once unpaused:
    /// it may expire.
    expirable: bool,
    /// `latest` at the last check: a schedule may also become done and expire within a step
    /// longer than the retention.
    checked_at: i64,
    last_counters: [u64; 7],
}

struct World {
    s: Scheduler,
    /// The latest `now` given (the engine never goes back).
    latest: i64,
    now: i64,
    models: BTreeMap<usize, Model>,
    incarnation: usize,
    scheduled_ids: BTreeSet<String>,
    orphans: Vec<String>,
    store: SchedulerSnapshot,
    config: SchedulerConfig,
}

fn at(s: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(s, 0).expect("in range")
}

/// Due nominal times in `(from, to]` by walking `next_time`, if there are at most `cap`.
fn walk_count(spec: &CompiledSpec, from: i64, to: i64, cap: u64) -> Option<u64> {
    let mut n = 0;
    let mut after = at(from);
    while let Some(t) = spec.next_time(after) {
        // Actual times increase with nominal times: the first one not due ends the walk.
        if t.actual > at(to) {
            break;
        }
        n += 1;
        if n > cap {
            return None;
        }
        after = t.nominal;
    }
    Some(n)
}

impl World {
    fn id(idx: usize) -> String {
        format!("s{idx}")
    }

    fn absorb(&mut self, actions: Vec<Action>) {
        for a in actions {
            match a {
                Action::StartWorkflow(st) => {
                    assert!(st.manual || st.scheduled_at <= at(self.latest), "early: {st:?}");
                    let sid = st.schedule_id.as_deref().expect("schedule start");
                    let idx: usize = sid[1..].parse().expect("index");
                    let m = self.models.get_mut(&idx).expect("start of a live schedule");
                    let wid = format!("{}-{}", m.prefix, st.nominal_time.format("%Y-%m-%dT%H:%M:%SZ"));
                    assert_eq!(st.workflow_id, wid);
                    if !st.manual {
                        assert!(self.scheduled_ids.insert(wid.clone()), "started twice: {wid}");
                    }
                    assert!(m.open_ids.insert(wid.clone()), "{wid} started while open");
                    m.open.push(wid);
                    m.started = m.started.saturating_add(1);
                }
                Action::CancelWorkflow(c) => self.assert_open(c.schedule_id, &c.workflow_id),
                Action::TerminateWorkflow(c) => self.assert_open(c.schedule_id, &c.workflow_id),
                _ => panic!("unexpected action"),
            }
        }
    }

    fn assert_open(&self, sid: Option<String>, wid: &str) {
        let idx: usize = sid.expect("schedule")[1..].parse().expect("index");
        assert!(self.models[&idx].open_ids.contains(wid), "stop of {wid}");
    }

    fn found(&mut self, idx: usize, r: Result<(), ScheduleError>) -> bool {
        match r {
            Ok(()) => {
                assert!(self.models.contains_key(&idx));
                true
            }
            Err(ScheduleError::NotFound { .. }) => {
                self.expired(idx);
                false
            }
            Err(e) => panic!("s{idx}: {e}"),
        }
    }

    /// The engine no longer has schedule `idx`: the model must not, or it expired (its
    /// retention passed while it was done); its open runs are no longer tracked.
    fn expired(&mut self, idx: usize) {
        if let Some(m) = self.models.remove(&idx) {
            let retention = self.config.retention.as_secs() as i64;
            assert!(
                m.expirable || self.latest - m.checked_at >= retention,
                "s{idx} vanished while not done"
            );
            self.orphans.extend(m.open);
        }
    }

    /// A restored scheduler has seen no time yet (a snapshot holds none beyond its records):
    /// it is shown the model's latest, as a driver polls after a restart.
    fn resync(&mut self) {
        let actions = self.s.poll(at(self.latest));
        self.absorb(actions);
    }

    fn step(&mut self, b: &mut Bytes) {
        let idx = usize::from(b.u8()) % SCHEDULES;
        let id = Self::id(idx);
        let now = at(self.now);
        let op = b.u8() % 16;
        if std::env::var_os("ENGINE_OPS_TRACE").is_some() {
            eprintln!("op {op} on {id} at {now} (latest {})", at(self.latest));
        }
        match op {
            0 | 1 => {
                let spec = spec(b);
                self.incarnation += 1;
                let prefix = format!("p{idx}n{}", self.incarnation);
                let policy = POLICIES[usize::from(b.u8()) % 6];
                let catchup = [5, 300, 86_400, 365 * 86_400][usize::from(b.u8()) % 4];
                let remaining = match b.u8() % 4 {
                    0 => Some(u64::from(b.u8() % 4)),
                    1 => Some(u64::MAX - u64::from(b.u8() % 2)),
                    _ => None,
                };
                let schedule = Schedule {
                    action: ScheduleAction::StartWorkflow(ScheduleActionStartWorkflow {
                        workflow: "wf".into(),
                        id: prefix.clone(),
                        task_queue: "q".into(),
                        ..Default::default()
                    }),
                    spec: spec.clone(),
                    policy: SchedulePolicy {
                        overlap: policy,
                        catchup_window: Duration::from_secs(catchup),
                        pause_on_failure: b.u8() % 2 == 0,
                    },
                    state: schedule_engine::ScheduleState {
                        paused: b.u8() % 6 == 0,
                        remaining_actions: remaining,
                        note: None,
                    },
                };
                let r = self.s.create_schedule(&id, schedule, now);
                if self.models.contains_key(&idx) {
                    if matches!(r, Err(ScheduleError::AlreadyExists { .. })) {
                        return;
                    }
                    // Created anew over one that expired.
                    self.expired(idx);
                }
                r.expect("create");
                let grid = match (&spec.intervals[..], spec.cron_expressions.is_empty(), spec.skip.is_empty(), spec.jitter) {
                    ([iv], true, true, None) => Some((iv.every.as_secs() as i64, iv.offset.as_secs() as i64)),
                    _ => None,
                };
                self.models.insert(idx, Model {
                    prefix,
                    spec: spec.compile_with_jitter_seed(&id).expect("compiles"),
                    grid,
                    created: self.latest,
                    manual: 0,
                    started: 0,
                    open: Vec::new(),
                    open_ids: HashSet::new(),
                    saturated: false,
                    expirable: false,
                    checked_at: self.latest,
                    last_counters: [0; 7],
                });
            }
            2 => _ = { let r = self.s.pause(&id, None, now); self.found(idx, r) },
            3 => _ = { let r = self.s.unpause(&id, None, now); self.found(idx, r) },
            4 => {
                let p = (b.u8() % 2 == 0).then(|| POLICIES[usize::from(b.u8()) % 6]);
                if { let r = self.s.trigger(&id, p, now); self.found(idx, r) } {
                    let m = self.models.get_mut(&idx).expect("model");
                    m.manual = m.manual.saturating_add(1);
                }
            }
            5 => {
                // Backfills are counted only for bare intervals (the model knows their times).
                let start = self.latest - i64::from(b.u8()) * 60;
                let end = start + i64::from(b.u8()) * 30;
                let bf = ScheduleBackfill { start_at: at(start), end_at: at(end), overlap: None };
                if { let r = self.s.backfill(&id, &[bf], now); self.found(idx, r) } {
                    let m = self.models.get_mut(&idx).expect("model");
                    let n = match m.grid {
                        Some((e, o)) => grid_count(e, o, start - 1, end),
                        None => walk_count(&m.spec, start - 1, end, u64::MAX).unwrap_or(0),
                    };
                    m.manual = m.manual.saturating_add(n);
                }
            }
            6 => {
                let policy = POLICIES[usize::from(b.u8()) % 6];
                let paused = b.u8() % 5 == 0;
                let remaining = (b.u8() % 3 == 0).then(|| u64::from(b.u8() % 4));
                let r = self.s.update(&id, |input| {
                    let mut schedule = input.description.schedule;
                    schedule.policy.overlap = policy;
                    schedule.state.paused = paused;
                    schedule.state.remaining_actions = remaining;
                    Some(ScheduleUpdate { schedule })
                }, now);
                // The update first classifies the times due so far, so no due time is lost to
                // it: the accounting still holds.
                self.found(idx, r);
                // (Its spec is unchanged; done-ness is checked again below.)
            }
            7 => {
                if { let r = self.s.delete(&id, now); self.found(idx, r) } {
                    let m = self.models.remove(&idx).expect("model");
                    self.orphans.extend(m.open);
                }
            }
            8 | 9 => {
                let mut all: Vec<(Option<usize>, String)> = self
                    .models
                    .iter()
                    .flat_map(|(i, m)| m.open.iter().map(|w| (Some(*i), w.clone())))
                    .collect();
                all.extend(self.orphans.iter().map(|w| (None, w.clone())));
                if all.is_empty() {
                    return;
                }
                let (owner, wid) = all[usize::from(b.u8()) % all.len()].clone();
                let outcome = match b.u8() % 4 {
                    0 => WorkflowOutcome::Completed { result: None },
                    1 => WorkflowOutcome::Failed { message: "f".into() },
                    2 => WorkflowOutcome::TimedOut,
                    _ => WorkflowOutcome::Canceled,
                };
                let r = self.s.workflow_closed(&wid, outcome, now);
                match owner {
                    Some(i) => {
                        r.expect("close");
                        let m = self.models.get_mut(&i).expect("model");
                        m.open.retain(|w| *w != wid);
                        m.open_ids.remove(&wid);
                    }
                    None => {
                        assert!(matches!(r, Err(ScheduleError::WorkflowNotFound { .. })), "{r:?}");
                        self.orphans.retain(|w| *w != wid);
                    }
                }
            }
            10 => {
                let snap = self.s.snapshot();
                self.s = Scheduler::restore(snap.clone(), self.config.clone());
                assert_eq!(self.s.snapshot(), snap);
                self.resync();
            }
            11 => {
                // Counters pushed near their limit (a restored record that says so).
                let mut snap = self.s.snapshot();
                let Some(r) = snap.schedules.iter_mut().find(|r| r.id == id) else {
                    return;
                };
                let near = u64::MAX - u64::from(b.u8() % 4);
                r.num_actions = near;
                r.num_actions_missed_catchup_window = near;
                r.num_actions_buffer_dropped = near;
                r.num_actions_dropped_paused = near;
                r.num_actions_skipped_overlap = near;
                r.conflict_token = u64::MAX - 1;
                self.s = Scheduler::restore(snap, self.config.clone());
                // The feed now holds the repaired token; the store follows it.
                let m = self.models.get_mut(&idx).expect("model");
                m.saturated = true;
                m.started = near;
                // Set, not moved: monotonicity is checked from here on.
                m.last_counters = [0; 7];
                self.resync();
            }
            _ => {
                // Time moves: seconds, minutes, days, years forward, or back.
                let d = match b.u8() % 8 {
                    0 => -(i64::from(b.u32()) % (3 * YEAR)),
                    1 => i64::from(b.u32() % 120),
                    2 | 3 => i64::from(b.u32() % 7200),
                    4 | 5 => i64::from(b.u32() % (40 * 86_400)),
                    _ => i64::from(b.u8() % 60) * YEAR + i64::from(b.u32() % 86_400),
                };
                self.now = (self.now + d).clamp(0, 4_102_444_800); // 1970 ..= 2100
                self.latest = self.latest.max(self.now);
                let actions = self.s.poll(at(self.now));
                self.absorb(actions);
                for _ in 0..64 {
                    match self.s.next_wakeup() {
                        Some(w) if w <= at(self.latest) => {
                            let actions = self.s.poll(at(self.now));
                            self.absorb(actions);
                        }
                        _ => break,
                    }
                }
                // A long backfill is taken a chunk per poll; anything else is done.
                let backfilling = self.s.list_schedules(at(self.now)).iter().any(|l| {
                    let d = self.s.describe(&l.id, at(self.now)).expect("describe");
                    d.info.pending_backfills > 0
                });
                if let Some(w) = self.s.next_wakeup().filter(|_| !backfilling) {
                    assert!(
                        w > at(self.latest),
                        "work left behind after draining: wake {w} at {}: {:#?}",
                        at(self.latest),
                        self.s.snapshot()
                    );
                }
            }
        }
    }

    fn check(&mut self) {
        for c in self.s.take_changes() {
            self.store.apply(c);
        }
        assert_eq!(self.store, self.s.snapshot(), "change feed out of step");
        let now = at(self.now);
        let listed: Vec<String> = self.s.list_schedules(now).into_iter().map(|l| l.id).collect();
        let gone: Vec<usize> = self
            .models
            .keys()
            .copied()
            .filter(|i| !listed.contains(&Self::id(*i)))
            .collect();
        for idx in gone {
            self.expired(idx);
        }
        let expected: Vec<String> = self.models.keys().map(|i| Self::id(*i)).collect();
        assert_eq!(listed, expected);
        for (idx, m) in self.models.iter_mut() {
            let d = self.s.describe(&Self::id(*idx), now).expect("describe");
            let i = &d.info;
            let running: Vec<String> =
                i.running_actions.iter().map(|r| r.workflow_id.clone()).collect();
            assert_eq!(running, m.open, "running of s{idx}");
            let counters = [
                i.num_actions,
                i.num_actions_skipped_overlap,
                i.num_actions_replaced_overlap,
                i.num_actions_missed_catchup_window,
                i.num_actions_buffer_dropped,
                i.num_actions_dropped_paused,
                i.num_actions_duplicate_dropped,
            ];
            for (k, (now, before)) in counters.iter().zip(m.last_counters).enumerate() {
                assert!(*now >= before, "s{idx} counter {k} went down: {before} -> {now}");
            }
            m.last_counters = counters;
            let st = &d.schedule.state;
            if std::env::var_os("ENGINE_OPS_TRACE").is_some() {
                eprintln!("check s{idx}: {:?} {:?}", d.schedule.state, i);
            }
            m.checked_at = self.latest;
            // Paused or not: an unpause of a schedule done long ago removes it at once.
            m.expirable = (st.remaining_actions == Some(0) || i.next_action_times.is_empty())
                && i.buffer_size == 0
                && i.pending_backfills == 0;
            assert_eq!(i.num_actions, m.started, "num_actions of s{idx}");
            if m.saturated {
                continue;
            }
            let accounted: u128 =
                counters.iter().map(|&c| u128::from(c)).sum::<u128>() + i.buffer_size as u128;
            let due = match m.grid {
                Some((every, offset)) => Some(grid_count(every, offset, m.created, self.latest)),
                None => walk_count(&m.spec, m.created, self.latest, 20_000),
            };
            let Some(due) = due else { continue };
            let requested = u128::from(due) + u128::from(m.manual);
            let idle = !d.schedule.state.paused && d.schedule.state.remaining_actions != Some(0);
            if idle && i.pending_backfills == 0 {
                assert_eq!(accounted, requested, "s{idx}: {i:?}");
            } else {
                assert!(accounted <= requested, "s{idx}: {i:?}");
            }
        }
    }
}

/// Grid times `offset + k * every`, `k >= 1`, in `(lo, hi]`.
fn grid_count(every: i64, offset: i64, lo: i64, hi: i64) -> u64 {
    let lo = lo.max(offset);
    if hi <= lo {
        return 0;
    }
    ((hi - offset).div_euclid(every) - (lo - offset).div_euclid(every)) as u64
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    let config = SchedulerConfig {
        max_buffer_size: [3, 1000][usize::from(b.u8() % 2)],
        ..Default::default()
    };
    let start = 1_654_041_600 - i64::from(b.u8() % 4) * 17 * YEAR; // 2022, 2005, 1988, 1971
    let mut w = World {
        s: Scheduler::new(config.clone()),
        latest: start,
        now: start,
        models: BTreeMap::new(),
        incarnation: 0,
        scheduled_ids: BTreeSet::new(),
        orphans: Vec::new(),
        store: SchedulerSnapshot::default(),
        config,
    };
    // The engine's time starts where the model's does.
    assert!(w.s.poll(at(start)).is_empty());
    let mut steps = 0;
    let trace = std::env::var_os("ENGINE_OPS_TRACE").is_some();
    while !b.done() && steps < 64 {
        let t = std::time::Instant::now();
        w.step(&mut b);
        let stepped = t.elapsed();
        w.check();
        if trace {
            eprintln!("  step {stepped:?}, check {:?}", t.elapsed() - stepped);
        }
        steps += 1;
    }
});
