//! A calendar's next time under a [`DstPolicy`] other than Temporal's literal rule.
//!
//! The search walks the zone's constant-offset stretches, as the literal one does (`compiled`),
//! one calendar at a time. Where a stretch begins with a jump forward (wall times
//! `[start + before, start + offset)` do not exist), `RunAfterGap` makes the stretch's first
//! instant a time of the calendar if it matches any of the skipped wall times. Where a stretch
//! begins with a jump back (wall times `[start + offset, start + before)` come again),
//! `First` searches that stretch only from `start + before` on, past the repeated walls.
//! Calendars that fire in every hour are left literal (see [`DstPolicy`]).
//!
//! Invariant: the answer is strictly after the instant asked about, and the walk ends: each
//! round moves to a later stretch, and there are finitely many.

use super::calendar::Calendar;
use super::zone::{Stretch, Zone};
use super::{DstPolicy, NonexistentTime, RepeatedTime};

/// Whether `calendar` matches one of the wall times that the jump forward beginning stretch
/// `s` skips (`s.offset > s.before`): `RunAfterGap` then fires at `s.start`. The walk here and
/// the count (`count_dst`) both ask this, so that they agree.
pub(super) fn fires_in_gap(calendar: &Calendar, s: &Stretch) -> bool {
    let (gap_from, gap_to) = (s.start + s.before, s.start + s.offset);
    calendar
        .next_after(gap_from - 1)
        .is_some_and(|w| w < gap_to)
}

/// The earliest instant strictly after `ts` at which `calendar` fires under `policy` in `zone`.
pub(crate) fn next_instant(
    calendar: &Calendar,
    zone: Zone,
    policy: DstPolicy,
    ts: i64,
) -> Option<i64> {
    let literal = calendar.every_hour();
    let run_after_gap = !literal && policy.nonexistent == NonexistentTime::RunAfterGap;
    let first_only = !literal && policy.repeated == RepeatedTime::First;
    let mut after = ts;
    loop {
        let at = after.checked_add(1)?;
        let s = zone.stretch_around(at);
        if run_after_gap && s.start == at && s.offset > s.before && fires_in_gap(calendar, &s) {
            return Some(s.start);
        }
        let mut wall = after.checked_add(s.offset)?;
        if first_only && s.before > s.offset {
            wall = wall.max(s.start + s.before - 1);
        }
        match calendar.next_after(wall) {
            Some(w) if w - s.offset < s.end => return Some(w - s.offset),
            Some(_) => {}
            None => {
                // Later stretches show wall times from `end + offset(end)` on, and a gap at
                // `end` skips those from `end + offset`: past `wall`, nothing is left.
                let next_walls = s.end.saturating_add(s.offset.min(zone.offset(s.end)));
                if s.end == i64::MAX || next_walls > wall {
                    return None;
                }
            }
        }
        if s.end == i64::MAX {
            return None;
        }
        after = s.end - 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::civil::wall_seconds;
    use crate::spec::structured::cal;
    use crate::spec::zone::resolve;
    use crate::spec::ScheduleRange;

    fn daily_at(h: i32, m: i32) -> Calendar {
        cal(|c| {
            c.hour = vec![ScheduleRange::single(h)];
            c.minute = vec![ScheduleRange::single(m)];
        })
    }

    fn policy(nonexistent: NonexistentTime, repeated: RepeatedTime) -> DstPolicy {
        DstPolicy {
            nonexistent,
            repeated,
        }
    }

    #[test]
    fn new_york_2024_gap_and_overlap() {
        let ny = resolve("America/New_York").unwrap();
        // 2024-03-10: 02:00 EST (07:00Z) jumps to 03:00 EDT; 02:30 does not exist.
        let spring = wall_seconds(2024, 3, 10, 7, 0, 0);
        let from = wall_seconds(2024, 3, 10, 0, 0, 0);
        let c = daily_at(2, 30);
        let skip = policy(NonexistentTime::Skip, RepeatedTime::Both);
        let after_gap = policy(NonexistentTime::RunAfterGap, RepeatedTime::Both);
        // Skip: the next 02:30 is March 11, 02:30 EDT = 06:30Z.
        assert_eq!(
            next_instant(&c, ny, skip, from),
            Some(wall_seconds(2024, 3, 11, 6, 30, 0))
        );
        assert_eq!(next_instant(&c, ny, after_gap, from), Some(spring));
        // Asked from the transition instant itself, the gap's run is behind us.
        assert_eq!(
            next_instant(&c, ny, after_gap, spring),
            Some(wall_seconds(2024, 3, 11, 6, 30, 0))
        );
        assert_eq!(next_instant(&c, ny, after_gap, spring - 1), Some(spring));
        // 2024-11-03: 02:00 EDT (06:00Z) falls back to 01:00 EST; 01:30 comes twice.
        let c = daily_at(1, 30);
        let first = policy(NonexistentTime::Skip, RepeatedTime::First);
        let from = wall_seconds(2024, 11, 3, 0, 0, 0);
        let edt = wall_seconds(2024, 11, 3, 5, 30, 0);
        assert_eq!(next_instant(&c, ny, skip, edt), Some(edt + 3600));
        assert_eq!(next_instant(&c, ny, first, from), Some(edt));
        assert_eq!(
            next_instant(&c, ny, first, edt),
            Some(wall_seconds(2024, 11, 4, 6, 30, 0))
        );
    }

    #[test]
    fn every_hour_calendars_stay_literal() {
        let ny = resolve("America/New_York").unwrap();
        let c = cal(|c| {
            c.minute = vec![ScheduleRange::new(0, 59, 15)];
            c.hour = vec![ScheduleRange::new(0, 23, 1)];
        });
        let both = policy(NonexistentTime::RunAfterGap, RepeatedTime::First);
        // 01:45 EDT (05:45Z), then 01:00 EST (06:00Z): no hour of silence.
        let t = wall_seconds(2024, 11, 3, 5, 45, 0);
        assert_eq!(next_instant(&c, ny, both, t), Some(t + 900));
        // 01:45 EST (06:45Z), then 03:00 EDT (07:00Z): 15 minutes, no extra run.
        let t = wall_seconds(2024, 3, 10, 6, 45, 0);
        assert_eq!(next_instant(&c, ny, both, t), Some(t + 900));
    }
}
