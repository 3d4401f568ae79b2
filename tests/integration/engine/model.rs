//! Model-based test: random sequences of operations, closings and clock steps; after every step
//! the invariants are checked against a model the test keeps itself (interval specs only, so
//! every due time is computed by plain arithmetic, independently of the engine).
//!
//! Invariants:
//! - no action before its time; actions target existing runs;
//! - no scheduled workflow id is started twice; scheduled ids are `<prefix>-<nominal>`, the
//!   nominal a due grid time after creation;
//! - every nominal time that came due, plus every manual start requested, is exactly one of:
//!   started, skipped by overlap, replaced by a later CANCEL/TERMINATE_OTHER start, missed by
//!   the catch-up window, dropped by a full buffer, dropped while paused or out of actions,
//!   dropped as a duplicate id, or still buffered;
//! - describe's counters and running runs agree with the actions seen;
//! - a store fed by the change feed always equals the snapshot, and a restore from the
//!   snapshot carries on exactly (the invariants keep holding across restores);
//! - the clock may jump by years (the counts stay exact) and go back (the engine keeps the
//!   latest time it saw);
//! - counters restored near `u64::MAX` saturate: they never go down and never wrap (a test
//!   build checks overflow, so a wrap would panic), and `num_actions` is the model's count,
//!   saturated.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::util::engine::*;
use chrono::{DateTime, Utc};
use proptest::prelude::*;
use schedule_engine::snapshot::SchedulerSnapshot;
use schedule_engine::{
    Action, ScheduleBackfill, ScheduleError, ScheduleOverlapPolicy as P, ScheduleUpdate, Scheduler,
    SchedulerConfig, WorkflowOutcome,
};

const SCHEDULES: usize = 3;

#[derive(Debug, Clone)]
enum Op {
    Create {
        idx: usize,
        every_min: i64,
        offset_min: i64,
        policy: P,
        catchup_secs: u64,
        remaining: Option<u64>,
        paused: bool,
        pause_on_failure: bool,
    },
    Pause(usize),
    Unpause(usize),
    Trigger(usize, Option<P>),
    Backfill(usize, i64, i64, Option<P>),
    Update(usize, P, Option<u64>, bool),
    Delete(usize),
    Close(usize, u8),
    Step(i64),
    Back(i64),
    Restore,
    /// Counters of a schedule set to `u64::MAX - k` (through a snapshot and a restore).
    Saturate(usize, u64),
}

const YEAR: i64 = 365 * 86_400;
/// The model keeps its clock before 2100, the last year with scheduled times.
const LAST_NOW: i64 = 4_102_444_799;

fn policy() -> impl Strategy<Value = P> {
    prop_oneof![
        Just(P::Skip),
        Just(P::BufferOne),
        Just(P::BufferAll),
        Just(P::CancelOther),
        Just(P::TerminateOther),
        Just(P::AllowAll),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let idx = 0..SCHEDULES;
    prop_oneof![
        3 => (
            idx.clone(),
            1i64..=30,
            0i64..30,
            policy(),
            prop_oneof![Just(5u64), Just(300), Just(3600), Just(365 * 86_400)],
            prop_oneof![3 => Just(None), 1 => (0u64..4).prop_map(Some)],
            prop::bool::weighted(0.15),
            any::<bool>(),
        )
            .prop_map(
                |(idx, every_min, offset_min, policy, catchup_secs, remaining, paused, pof)| {
                    Op::Create {
                        idx,
                        every_min,
                        offset_min: offset_min % every_min,
                        policy,
                        catchup_secs,
                        remaining,
                        paused,
                        pause_on_failure: pof,
                    }
                }
            ),
        1 => idx.clone().prop_map(Op::Pause),
        1 => idx.clone().prop_map(Op::Unpause),
        2 => (idx.clone(), prop::option::of(policy())).prop_map(|(i, p)| Op::Trigger(i, p)),
        1 => (idx.clone(), -600i64..0, 0i64..120, prop::option::of(policy()))
            .prop_map(|(i, s, l, p)| Op::Backfill(i, s, l, p)),
        1 => (idx.clone(), policy(), prop::option::of(0u64..4), prop::bool::weighted(0.2))
            .prop_map(|(i, p, r, paused)| Op::Update(i, p, r, paused)),
        1 => idx.clone().prop_map(Op::Delete),
        4 => (0usize..8, 0u8..5).prop_map(|(i, o)| Op::Close(i, o)),
        6 => prop_oneof![
            0i64..120,
            0i64..3600,
            0i64..4 * 3600,
            (1i64..=30).prop_map(|y| y * YEAR + 17),
        ]
        .prop_map(Op::Step),
        1 => prop_oneof![0i64..600, (1i64..=3).prop_map(|y| y * YEAR)].prop_map(Op::Back),
        1 => Just(Op::Restore),
        1 => (idx.clone(), 0u64..3).prop_map(|(i, k)| Op::Saturate(i, k)),
    ]
}

/// The model's view of one schedule incarnation.
#[derive(Debug)]
struct Model {
    prefix: String,
    every: i64,
    offset: i64,
    created: i64,
    manual_requested: u64,
    started: u64,
    open: Vec<String>,
    /// Counters were set near `u64::MAX`: they are checked for saturation, not accounting.
    saturated: bool,
    /// The counters at the last check.
    counters: [u64; 7],
    /// Out of remaining actions at the last check: once unpaused and idle, it expires after the
    /// retention (the model's intervals never run out of times before 2100).
    expirable: bool,
    /// `latest` at the last check: a schedule may also run out and expire within one step
    /// longer than the retention.
    checked_at: i64,
}

fn secs(d: DateTime<Utc>) -> i64 {
    d.timestamp()
}

fn at(s: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(s, 0).unwrap()
}

/// Grid times `k*every + offset` in `(lo, hi]`.
fn grid_count(every: i64, offset: i64, lo: i64, hi: i64) -> u64 {
    if hi <= lo {
        return 0;
    }
    ((hi - offset).div_euclid(every) - (lo - offset).div_euclid(every)) as u64
}

struct World {
    s: Scheduler,
    now: i64,
    /// The latest `now` the engine saw (it never goes back).
    latest: i64,
    models: BTreeMap<usize, Model>,
    incarnation: usize,
    scheduled_ids: BTreeSet<String>,
    /// Open runs of deleted schedules (no longer tracked by the engine).
    orphans: Vec<String>,
    /// What a store fed by `take_changes` holds.
    store: SchedulerSnapshot,
    config: SchedulerConfig,
}

impl World {
    /// Polls at `now`.
    fn poll(&mut self) -> Vec<Action> {
        self.s.poll(at(self.now))
    }

    fn id(idx: usize) -> String {
        format!("s{idx}")
    }

    fn absorb(&mut self, actions: Vec<Action>) {
        for a in actions {
            match a {
                Action::StartWorkflow(st) => {
                    // Backfills may name future times: they are manual starts taken now.
                    assert!(
                        st.manual || st.scheduled_at <= at(self.latest),
                        "action before its time: {st:?}"
                    );
                    let sid = st.schedule_id.clone().expect("schedule start");
                    let idx: usize = sid[1..].parse().unwrap();
                    let m = self.models.get_mut(&idx).expect("start of a live schedule");
                    let nominal = secs(st.nominal_time);
                    assert_eq!(
                        st.workflow_id,
                        format!(
                            "{}-{}",
                            m.prefix,
                            st.nominal_time.format("%Y-%m-%dT%H:%M:%SZ")
                        )
                    );
                    if !st.manual {
                        assert_eq!((nominal - m.offset).rem_euclid(m.every), 0, "{st:?}");
                        assert!(nominal > m.created && nominal <= self.latest);
                        assert_eq!(st.scheduled_at, st.nominal_time);
                        assert!(
                            self.scheduled_ids.insert(st.workflow_id.clone()),
                            "scheduled id started twice: {}",
                            st.workflow_id
                        );
                    }
                    assert!(!m.open.contains(&st.workflow_id));
                    m.open.push(st.workflow_id);
                    m.started = m.started.saturating_add(1);
                }
                Action::CancelWorkflow(c) => self.assert_open(&c.schedule_id, &c.workflow_id),
                Action::TerminateWorkflow(c) => self.assert_open(&c.schedule_id, &c.workflow_id),
                _ => panic!("unexpected action"),
            }
        }
    }

    fn assert_open(&self, sid: &Option<String>, wid: &str) {
        let idx: usize = sid.as_ref().unwrap()[1..].parse().unwrap();
        assert!(
            self.models[&idx].open.iter().any(|w| w == wid),
            "stop of {wid}"
        );
    }

    fn apply(&mut self, op: &Op) {
        let now = at(self.now);
        match op.clone() {
            Op::Create {
                idx,
                every_min,
                offset_min,
                policy,
                catchup_secs,
                remaining,
                paused,
                pause_on_failure,
            } => {
                let mut sch = interval(mins(every_min as u64), mins(offset_min as u64), policy);
                self.incarnation += 1;
                let prefix = format!("p{idx}n{}", self.incarnation);
                action_mut(&mut sch).id = prefix.clone();
                sch.policy.catchup_window = Duration::from_secs(catchup_secs);
                sch.policy.pause_on_failure = pause_on_failure;
                sch.state.remaining_actions = remaining;
                sch.state.paused = paused;
                let r = self.s.create_schedule(&Self::id(idx), sch, now);
                if self.models.contains_key(&idx) && r.is_ok() {
                    // Created anew over one that expired.
                    self.expired(idx);
                }
                if self.models.contains_key(&idx) {
                    assert!(matches!(r, Err(ScheduleError::AlreadyExists { .. })));
                } else {
                    r.unwrap();
                    self.models.insert(
                        idx,
                        Model {
                            prefix,
                            every: every_min * 60,
                            offset: offset_min * 60,
                            created: self.latest,
                            manual_requested: 0,
                            started: 0,
                            open: Vec::new(),
                            saturated: false,
                            counters: [0; 7],
                            expirable: false,
                            checked_at: self.latest,
                        },
                    );
                }
            }
            Op::Pause(idx) => {
                self.expect_found(idx, |s, id| s.pause(id, None, now));
            }
            Op::Unpause(idx) => {
                self.expect_found(idx, |s, id| s.unpause(id, None, now));
            }
            Op::Trigger(idx, p) => {
                if self.expect_found(idx, |s, id| s.trigger(id, p, now)) {
                    self.models.get_mut(&idx).unwrap().manual_requested += 1;
                }
            }
            Op::Backfill(idx, start, len, p) => {
                let (start, end) = (self.now + start * 60, self.now + (start + len) * 60);
                let bf = ScheduleBackfill {
                    start_at: at(start),
                    end_at: at(end),
                    overlap: p,
                };
                if self.expect_found(idx, |s, id| s.backfill(id, &[bf], now)) {
                    let m = self.models.get_mut(&idx).unwrap();
                    m.manual_requested += grid_count(m.every, m.offset, start - 1, end);
                }
            }
            Op::Update(idx, p, remaining, paused) => {
                self.expect_found(idx, |s, id| {
                    s.update(
                        id,
                        |input| {
                            let mut sch = input.description.schedule;
                            sch.policy.overlap = p;
                            sch.state.remaining_actions = remaining;
                            sch.state.paused = paused;
                            Some(ScheduleUpdate { schedule: sch })
                        },
                        now,
                    )
                });
            }
            Op::Delete(idx) => {
                if self.expect_found(idx, |s, id| s.delete(id, now)) {
                    let m = self.models.remove(&idx).unwrap();
                    self.orphans.extend(m.open);
                }
            }
            Op::Close(pick, outcome) => {
                let mut all: Vec<(Option<usize>, String)> = self
                    .models
                    .iter()
                    .flat_map(|(i, m)| m.open.iter().map(|w| (Some(*i), w.clone())))
                    .collect();
                all.extend(self.orphans.iter().map(|w| (None, w.clone())));
                if all.is_empty() {
                    return;
                }
                let (owner, wid) = all[pick % all.len()].clone();
                let outcome = match outcome {
                    0 => WorkflowOutcome::Completed { result: None },
                    1 => WorkflowOutcome::Failed {
                        message: "m".into(),
                    },
                    2 => WorkflowOutcome::TimedOut,
                    3 => WorkflowOutcome::Canceled,
                    _ => WorkflowOutcome::Terminated,
                };
                let r = self.s.workflow_closed(&wid, outcome, now);
                match owner {
                    Some(i) => {
                        r.unwrap();
                        self.models.get_mut(&i).unwrap().open.retain(|w| *w != wid);
                    }
                    None => {
                        assert!(
                            matches!(r, Err(ScheduleError::WorkflowNotFound { .. })),
                            "{r:?}"
                        );
                        self.orphans.retain(|w| *w != wid);
                    }
                }
            }
            Op::Restore => {
                let snap = self.s.snapshot();
                self.s = Scheduler::restore(snap.clone(), self.config.clone());
                assert_eq!(self.s.snapshot(), snap);
                self.resync();
            }
            Op::Saturate(idx, k) => {
                // A schedule past its retention stays in snapshots until a poll removes it,
                // while every verb already treats it as gone (and the model let it go).
                if !self.models.contains_key(&idx) {
                    return;
                }
                let mut snap = self.s.snapshot();
                let Some(r) = snap.schedules.iter_mut().find(|r| r.id == Self::id(idx)) else {
                    return;
                };
                let near = u64::MAX - k;
                r.num_actions = near;
                r.num_actions_missed_catchup_window = near;
                r.num_actions_skipped_overlap = near;
                r.num_actions_buffer_dropped = near;
                r.num_actions_dropped_paused = near;
                r.conflict_token = u64::MAX - k;
                self.s = Scheduler::restore(snap, self.config.clone());
                let m = self.models.get_mut(&idx).unwrap();
                m.saturated = true;
                m.started = near;
                m.counters = [0; 7];
                self.resync();
            }
            Op::Back(d) => {
                self.now -= d;
                let actions = self.poll();
                self.absorb(actions);
            }
            Op::Step(d) => {
                self.now = (self.now + d).min(LAST_NOW);
                self.latest = self.latest.max(self.now);
                let actions = self.poll();
                self.absorb(actions);
                // A poll at next_wakeup (if due) makes progress eventually; drain here.
                for _ in 0..50 {
                    match self.s.next_wakeup() {
                        Some(w) if w <= at(self.latest) => {
                            let actions = self.poll();
                            self.absorb(actions);
                        }
                        _ => break,
                    }
                }
                if let Some(w) = self.s.next_wakeup() {
                    assert!(w > at(self.latest), "work left behind after draining");
                }
            }
        }
    }

    /// A restored scheduler has seen no time yet: it is shown the latest, as a driver polls
    /// after a restart.
    fn resync(&mut self) {
        let actions = self.s.poll(at(self.latest));
        self.absorb(actions);
    }

    /// Runs `f` on schedule `idx`; checks NotFound iff the model has no such schedule.
    fn expect_found(
        &mut self,
        idx: usize,
        f: impl FnOnce(&mut Scheduler, &str) -> Result<(), ScheduleError>,
    ) -> bool {
        let r = f(&mut self.s, &Self::id(idx));
        if matches!(r, Err(ScheduleError::NotFound { .. })) {
            self.expired(idx);
        }
        if self.models.contains_key(&idx) {
            r.unwrap();
            true
        } else {
            assert!(matches!(r, Err(ScheduleError::NotFound { .. })), "{r:?}");
            false
        }
    }

    /// The engine no longer has schedule `idx`: the model must not, or it expired; its open
    /// runs are no longer tracked.
    fn expired(&mut self, idx: usize) {
        if let Some(m) = self.models.remove(&idx) {
            let retention = self.config.retention.as_secs() as i64;
            assert!(
                m.expirable || self.latest - m.checked_at >= retention,
                "s{idx} vanished while it had times left"
            );
            self.orphans.extend(m.open);
        }
    }

    fn check(&mut self) {
        for c in self.s.take_changes() {
            self.store.apply(c);
        }
        assert_eq!(self.store, self.s.snapshot(), "change feed out of step");
        let now = at(self.now);
        let listed: Vec<String> = self
            .s
            .list_schedules(now)
            .into_iter()
            .map(|l| l.id)
            .collect();
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
            let d = self.s.describe(&Self::id(*idx), now).unwrap();
            let i = &d.info;
            assert_eq!(i.num_actions, m.started, "num_actions of s{idx}");
            let counters = [
                i.num_actions,
                i.num_actions_skipped_overlap,
                i.num_actions_replaced_overlap,
                i.num_actions_missed_catchup_window,
                i.num_actions_buffer_dropped,
                i.num_actions_dropped_paused,
                i.num_actions_duplicate_dropped,
            ];
            for (k, (c, before)) in counters.iter().zip(m.counters).enumerate() {
                assert!(
                    *c >= before,
                    "s{idx} counter {k} went down: {before} -> {c}"
                );
            }
            m.counters = counters;
            m.checked_at = self.latest;
            m.expirable = d.schedule.state.remaining_actions == Some(0);
            let running: Vec<String> = i
                .running_actions
                .iter()
                .map(|r| r.workflow_id.clone())
                .collect();
            assert_eq!(running, m.open, "running of s{idx}");
            assert!(d.conflict_token >= 1);
            if m.saturated {
                continue;
            }
            let accounted = counters.iter().sum::<u64>() + i.buffer_size as u64;
            let due = grid_count(m.every, m.offset, m.created, self.latest);
            let requested = due + m.manual_requested;
            let idle = !d.schedule.state.paused && d.schedule.state.remaining_actions != Some(0);
            if idle && i.pending_backfills == 0 {
                assert_eq!(accounted, requested, "s{idx}: {i:?} due {due} model {m:?}");
            } else {
                // Paused schedules classify their due times lazily; backfills still pending
                // have not all been requested into the buffer yet.
                assert!(accounted <= requested, "s{idx}: {i:?} due {due}");
            }
            assert!(d.conflict_token >= 1);
        }
    }
}

fn run(ops: Vec<Op>, max_buffer: usize) {
    let config = SchedulerConfig {
        max_buffer_size: max_buffer,
        ..Default::default()
    };
    let mut w = World {
        s: Scheduler::new(config.clone()),
        now: secs(t("2022-06-01T00:00:00Z")),
        latest: secs(t("2022-06-01T00:00:00Z")),
        models: BTreeMap::new(),
        incarnation: 0,
        scheduled_ids: BTreeSet::new(),
        orphans: Vec::new(),
        store: SchedulerSnapshot::default(),
        config,
    };
    // The engine's time starts where the model's does.
    assert!(w.poll().is_empty());
    for op in &ops {
        w.apply(op);
        w.check();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn engine_keeps_its_invariants(
        ops in prop::collection::vec(op(), 1..60),
        max_buffer in prop_oneof![Just(3usize), Just(1000)],
    ) {
        run(ops, max_buffer);
    }
}

/// Found by CI on e0405f5: a triggered run of a schedule with no actions left, the schedule
/// expiring (retention) while paused with the run open, then the run closing.
#[test]
fn run_of_an_expired_schedule_closes_as_not_found() {
    run(
        vec![
            Op::Create {
                idx: 0,
                every_min: 1,
                offset_min: 0,
                policy: P::Skip,
                catchup_secs: 5,
                remaining: Some(0),
                paused: false,
                pause_on_failure: false,
            },
            Op::Trigger(0, None),
            Op::Pause(0),
            Op::Step(0),
            Op::Step(31_536_017),
            Op::Unpause(0),
            Op::Close(0, 0),
        ],
        3,
    );
}

/// Found by a 20,000-case run: a schedule past its retention (gone for list) still in the
/// snapshot that the saturation step edits.
#[test]
fn an_expired_schedule_is_not_saturated() {
    run(
        vec![
            Op::Create {
                idx: 2,
                every_min: 1,
                offset_min: 0,
                policy: P::Skip,
                catchup_secs: 5,
                remaining: Some(0),
                paused: false,
                pause_on_failure: true,
            },
            Op::Trigger(2, None),
            Op::Step(0),
            Op::Close(0, 1),
            Op::Step(31_536_017),
            Op::Unpause(2),
            Op::Saturate(2, 0),
        ],
        3,
    );
}
