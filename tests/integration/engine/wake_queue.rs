//! Many schedules due together: a poll's reschedules become sorted runs in the wake-up queue
//! (64 or more at once), while creates, pauses and unpauses push alone and leave stale
//! entries behind. Every nominal time must start exactly once, never early, and
//! `next_wakeup` must name the earliest time due, checked against interval arithmetic
//! (a time is `k * every + offset` in Unix seconds), not against the engine.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::util::engine::*;
use schedule_engine::{ScheduleOverlapPolicy as P, Scheduler, WorkflowOutcome};

/// 2022-06-01T00:00:00Z.
const T0: i64 = 1_654_041_600;
const SCHEDULES: u64 = 600;
const END: i64 = T0 + 400;

fn at(secs: i64, ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(secs * 1000 + ms).unwrap()
}

/// A fixed pseudo-random sequence (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// What the oracle knows of one schedule.
struct Expect {
    every: i64,
    offset: i64,
    /// `(paused at, unpaused at)`: times in between are dropped.
    paused: Vec<(i64, Option<i64>)>,
    deleted: Option<i64>,
}

impl Expect {
    fn is_due(&self, t: i64) -> bool {
        t.rem_euclid(self.every) == self.offset
    }

    fn dropped(&self, t: i64) -> bool {
        self.paused
            .iter()
            .any(|&(p, u)| t > p && u.is_none_or(|u| t <= u))
            || self.deleted.is_some_and(|d| t > d)
    }

    /// Nominal times in `(T0, until]` that must have started.
    fn expected(&self, until: i64) -> Vec<i64> {
        ((T0 + 1)..=until)
            .filter(|&t| self.is_due(t) && !self.dropped(t))
            .collect()
    }

    /// The next time after `now` the schedule wakes for, if it is live and unpaused.
    fn next_after(&self, now: i64) -> Option<i64> {
        let paused = self.paused.last().is_some_and(|&(_, u)| u.is_none());
        if paused || self.deleted.is_some() {
            return None;
        }
        ((now + 1)..=(now + self.every)).find(|&t| self.is_due(t))
    }
}

#[test]
fn many_schedules_due_together_start_every_time_once_and_wake_exactly() {
    for seed in [0x51ed, 7, 2026] {
        run(seed);
    }
}

fn run(seed: u64) {
    let mut rng = Rng(seed);
    let mut s = Scheduler::default();
    let periods = [1, 1, 2, 3, 5, 7, 60, 3600];
    let mut expect: BTreeMap<String, Expect> = BTreeMap::new();
    for k in 0..SCHEDULES {
        let every = periods[(rng.next() % periods.len() as u64) as usize];
        let offset = (rng.next() % every as u64) as i64;
        let id = format!("s{k:03}");
        let mut sch = interval(
            Duration::from_secs(every as u64),
            Duration::from_secs(offset as u64),
            P::AllowAll,
        );
        action_mut(&mut sch).id = id.clone();
        s.create_schedule(&id, sch, at(T0, 0)).unwrap();
        let paused = Vec::new();
        expect.insert(
            id,
            Expect {
                every,
                offset,
                paused,
                deleted: None,
            },
        );
    }
    let ids: Vec<String> = expect.keys().cloned().collect();
    let mut started: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut now = T0;
    let mut largest_poll = 0;
    while now < END {
        // Mostly one second on, sometimes a gap of up to 7 s, at any millisecond.
        now = (now
            + if rng.next().is_multiple_of(5) {
                1 + (rng.next() % 7) as i64
            } else {
                1
            })
        .min(END);
        let ms = if rng.next().is_multiple_of(3) {
            (rng.next() % 1000) as i64
        } else {
            0
        };
        let actions = s.poll(at(now, ms));
        let fired = starts(&actions);
        largest_poll = largest_poll.max(fired.len());
        for a in &fired {
            let sid = a.schedule_id.as_deref().unwrap().to_owned();
            let nominal = a.nominal_time.timestamp();
            assert!(a.scheduled_at <= at(now, ms), "{sid} started early");
            started.entry(sid).or_default().push(nominal);
        }
        for a in &fired {
            s.workflow_closed(
                &a.workflow_id,
                WorkflowOutcome::Completed { result: None },
                at(now, ms),
            )
            .unwrap();
        }
        // Every 20 s, pause or unpause a random half of the schedules (a push each, and a
        // stale entry left in a run); now and then delete one.
        if now % 20 < 2 {
            for id in &ids {
                if rng.next().is_multiple_of(2) {
                    continue;
                }
                let e = expect.get_mut(id).unwrap();
                if e.deleted.is_some() {
                    continue;
                }
                match e.paused.last_mut() {
                    Some((_, u @ None)) => {
                        s.unpause(id, None, at(now, ms)).unwrap();
                        *u = Some(now);
                    }
                    _ => {
                        s.pause(id, None, at(now, ms)).unwrap();
                        e.paused.push((now, None));
                    }
                }
            }
        }
        if rng.next().is_multiple_of(10) {
            let id = &ids[(rng.next() % ids.len() as u64) as usize];
            let e = expect.get_mut(id).unwrap();
            if e.deleted.is_none() {
                s.delete(id, at(now, ms)).unwrap();
                e.deleted = Some(now);
            }
        }
        let wanted = expect.values().filter_map(|e| e.next_after(now)).min();
        assert_eq!(
            s.next_wakeup(),
            wanted.map(|t| at(t, 0)),
            "seed {seed}: next_wakeup after {now}.{ms:03}"
        );
    }
    // Polls started hundreds at once, so the queue's runs were used.
    assert!(
        largest_poll >= 64,
        "seed {seed}: largest poll started {largest_poll}"
    );
    for (id, e) in &expect {
        let mut got = started.remove(id).unwrap_or_default();
        got.sort_unstable();
        assert_eq!(
            got,
            e.expected(END),
            "seed {seed}: {id} every {} s at +{} s",
            e.every,
            e.offset
        );
    }
}
