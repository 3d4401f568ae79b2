//! Clock jumps, far-future records and counters at their limit: the engine counts what a jump
//! skips in one step, exactly, restores in time linear in the snapshot, and saturates.
//!
//! Expected counts come from arithmetic on the spec (a one-second interval has one time per
//! second) or from chrono's own calendar (weekdays), not from the engine.

use std::time::{Duration, Instant};

use crate::util::engine::*;
use chrono::{DateTime, Datelike, Utc, Weekday};
use schedule_engine::{
    Schedule, ScheduleOverlapPolicy as P, ScheduleSpec, ScheduleUpdate, Scheduler, SchedulerConfig,
};

const YEAR: i64 = 365 * 86_400;

fn every_second() -> Schedule {
    interval(Duration::from_secs(1), Duration::ZERO, P::Skip)
}

/// Defect 1. On 375dddf one such schedule took ~47 s to poll (one catch-up decision per
/// missed second); these 2,000 would take more than a day (killed after 60 s when checked).
/// Required: under 2 s, exact counts.
#[test]
fn a_jump_of_56_years_is_counted_in_one_step() {
    let t0 = DateTime::<Utc>::UNIX_EPOCH;
    let now = t("2026-01-01T00:00:00Z");
    let mut s = Scheduler::default();
    for i in 0..2000 {
        let mut sch = every_second();
        action_mut(&mut sch).id = format!("a{i}");
        s.create_schedule(&format!("s{i}"), sch, t0).unwrap();
    }
    let started = Instant::now();
    let actions = s.poll(now);
    let took = started.elapsed();
    assert_eq!(actions.len(), 2000);
    assert!(took < Duration::from_secs(2), "poll took {took:?}");

    // Times 1 ..= now; missed: actual < now - 365 days; of the rest the first 1000 are
    // buffered and the others dropped; SKIP starts the first buffered one, skips the others.
    let n = now.timestamp();
    let window_start = n - YEAR;
    let d = describe(&s, "s1999", now).info;
    assert_eq!(
        d.num_actions_missed_catchup_window,
        (window_start - 1) as u64
    );
    assert_eq!(
        d.num_actions_buffer_dropped,
        (n - window_start + 1 - 1000) as u64
    );
    assert_eq!((d.num_actions, d.num_actions_skipped_overlap), (1, 999));
    assert_eq!(accounted(&s, "s0", now), n as u64);
}

/// Defect 1, paused. On 375dddf a paused schedule counted 100,000 dropped times and skipped
/// the rest uncounted (a lower bound): here 100,001 instead of 315,360,000.
#[test]
fn times_dropped_while_paused_are_counted_exactly() {
    let t0 = t("2016-01-01T00:00:00Z");
    let mut sch = every_second();
    sch.state.paused = true;
    let mut s = Scheduler::default();
    s.create_schedule("p", sch, t0).unwrap();
    let now = t0 + chrono::Duration::seconds(10 * YEAR);
    s.unpause("p", None, now).unwrap();
    let d = describe(&s, "p", now).info;
    assert_eq!(d.num_actions_dropped_paused, (10 * YEAR) as u64);
}

/// Weekday seconds in `(from, to]` by chrono's calendar (both at midnight UTC).
fn weekday_seconds(from: DateTime<Utc>, to: DateTime<Utc>) -> u64 {
    let mut day = from.date_naive();
    let mut n = 0;
    while day < to.date_naive() {
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            n += 86_400;
        }
        day = day.succ_opt().unwrap();
    }
    n
}

/// Defect 1 for calendars: every second of every weekday, in a zone with DST, jumped 30
/// years. On 375dddf: one decision per second, 680 million of them (minutes of work).
#[test]
fn a_calendar_jump_is_counted_exactly() {
    let t0 = t("1996-01-01T00:00:00Z");
    let now = t("2026-01-01T00:00:00Z");
    let mut sch = every_second();
    sch.spec = ScheduleSpec {
        cron_expressions: vec!["* * * * * MON-FRI *".into()],
        ..Default::default()
    };
    sch.policy.catchup_window = Duration::from_secs(3600);
    let mut s = Scheduler::default();
    s.create_schedule("cal", sch, t0).unwrap();
    let started = Instant::now();
    let _ = s.poll(now);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // Times in (t0, now]: t0 (a Monday) is not one, now (a Thursday) is; 2025-12-31 was a
    // Wednesday, so the last hour is all weekday seconds.
    let expected = weekday_seconds(t0, now);
    assert_eq!(accounted(&s, "cal", now), expected);
    let d = describe(&s, "cal", now).info;
    assert_eq!(d.num_actions_missed_catchup_window, expected - 3601);
}

/// Defect 5. On 375dddf restoring this record walked every second from its high-water mark to
/// its `last_updated_at` (18.8 s for 2026 to 2099, longer in a debug build).
#[test]
fn restore_is_not_slowed_by_a_far_future_update_time() {
    let now = t("2026-01-01T00:00:00Z");
    let mut s = Scheduler::default();
    s.create_schedule("f", every_second(), now).unwrap();
    let mut snap = s.snapshot();
    let update = t("2099-06-01T00:00:00Z");
    snap.schedules[0].last_updated_at = Some(update);
    let started = Instant::now();
    let r = Scheduler::restore(snap, SchedulerConfig::default());
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    // Times before the update are not taken: the next one is the first after it.
    let next = describe(&r, "f", now).info.next_action_times;
    assert_eq!(next[0], update);
}

/// Defect 4. On 375dddf the next pause of this restored schedule panicked ("attempt to add
/// with overflow" on the conflict token; counters too, on the next poll) in a build with
/// overflow checks, and wrapped to 0 without.
#[test]
fn counters_and_tokens_at_their_limit_saturate() {
    let t0 = t("2022-06-01T00:00:00Z");
    let mut sch = interval(mins(1), Duration::ZERO, P::Skip);
    sch.state.remaining_actions = Some(5);
    let mut s = Scheduler::default();
    s.create_schedule("m", sch, t0).unwrap();
    let mut snap = s.snapshot();
    let r = &mut snap.schedules[0];
    r.conflict_token = u64::MAX;
    r.num_actions = u64::MAX;
    r.num_actions_missed_catchup_window = u64::MAX;
    r.num_actions_skipped_overlap = u64::MAX;
    r.num_actions_buffer_dropped = u64::MAX;
    r.num_actions_dropped_paused = u64::MAX;
    let mut s = Scheduler::restore(snap, SchedulerConfig::default());
    s.pause("m", None, t0).unwrap();
    s.unpause("m", None, t0 + mins(1)).unwrap();
    // A token too close to the limit to move is renumbered by restore (to 1), so the pause
    // and the unpause still move it.
    assert_eq!(describe(&s, "m", t0).conflict_token, 3);
    s.trigger("m", None, t0 + mins(2)).unwrap();
    s.backfill(
        "m",
        &[schedule_engine::ScheduleBackfill {
            start_at: t0,
            end_at: t0 + mins(10),
            overlap: Some(P::Skip),
        }],
        t0 + mins(2),
    )
    .unwrap();
    let _ = s.poll(t0 + chrono::Duration::days(400));
    s.update(
        "m",
        |i| {
            Some(ScheduleUpdate {
                schedule: i.description.schedule,
            })
        },
        t0 + chrono::Duration::days(400),
    )
    .unwrap();
    let d = describe(&s, "m", t0 + chrono::Duration::days(400)).info;
    assert_eq!(d.num_actions, u64::MAX);
    assert_eq!(d.num_actions_missed_catchup_window, u64::MAX);
    assert_eq!(d.num_actions_skipped_overlap, u64::MAX);
}
