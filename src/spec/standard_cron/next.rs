//! robfig's `SpecSchedule.Next` and `ConstantDelaySchedule.Next`, on whole Unix seconds.
//!
//! `Next` walks the wall clock of the schedule's zone field by field, from the second after
//! `t`: it advances the month until it matches, then the day, the hour, the minute and the
//! second; the first time a field has to move, the fields below it are reset to their
//! minimum (`added`). Moving a field past its end wraps the search back to the month. Days
//! step with Go's `AddDate` (wall clock, re-resolved), hours, minutes and seconds step as
//! elapsed time; so in a DST gap the skipped hour is never visited (a time inside it never
//! fires that day), and in a fold the repeated hour is visited twice (a time inside it fires
//! at both instants). The search gives up five years past `t`.
//!
//! The day rule: a day matches when its day of month and its day of week both match if either
//! field carries the star bit (was written `*` or `?`), and when either matches otherwise.

use super::go_time::Zone;
use super::parse::{Fields, STAR};

/// A search longer than this many steps is abandoned (robfig's own bound, five years, is far
/// below it; this only guards against a loop that time does not advance).
const MAX_STEPS: u32 = 1_000_000;

/// robfig's day rule.
fn day_matches(f: &Fields, day: u32, weekday: u32) -> bool {
    let dom = f.dom & (1 << day) != 0;
    let dow = f.dow & (1 << weekday) != 0;
    if f.dom & STAR != 0 || f.dow & STAR != 0 {
        dom && dow
    } else {
        dom || dow
    }
}

/// `SpecSchedule.Next(t)` for `t` in whole seconds (a fraction is dropped by robfig's first
/// step anyway): the first matching second after `t`, `None` when robfig returns the zero time.
pub(super) fn next_fields(f: &Fields, zone: Zone, t: i64) -> Option<i64> {
    // A field that matches nothing makes robfig search its five years in vain.
    if f.minute == 0 || f.hour == 0 || f.month & !STAR == 0 || (f.dom | f.dow) & !STAR == 0 {
        return None;
    }
    let mut t = t.checked_add(1)?;
    let mut added = false;
    let year_limit = zone.fields(t).year + 5;
    let mut steps = 0u32;
    let mut step = || {
        steps += 1;
        steps <= MAX_STEPS
    };
    'wrap: loop {
        if zone.fields(t).year > year_limit || !step() {
            return None;
        }
        loop {
            let w = zone.fields(t);
            if f.month & (1 << w.month) != 0 {
                break;
            }
            if !added {
                added = true;
                t = zone.date(w.year, i64::from(w.month), 1, 0, 0, 0);
            }
            t = zone.add_date(t, 1, 0);
            if zone.fields(t).month == 1 {
                continue 'wrap;
            }
            if !step() {
                return None;
            }
        }
        loop {
            let w = zone.fields(t);
            if day_matches(f, w.day, w.weekday) {
                break;
            }
            if !added {
                added = true;
                t = zone.date(w.year, i64::from(w.month), i64::from(w.day), 0, 0, 0);
            }
            t = zone.add_date(t, 0, 1);
            // Midnight may not exist (a DST change at 00:00): robfig lands on the nearest hour.
            let h = i64::from(zone.fields(t).hour);
            if h > 12 {
                t += (24 - h) * 3600;
            } else {
                t -= h * 3600;
            }
            if zone.fields(t).day == 1 {
                continue 'wrap;
            }
            if !step() {
                return None;
            }
        }
        loop {
            let w = zone.fields(t);
            if f.hour & (1 << w.hour) != 0 {
                break;
            }
            if !added {
                added = true;
                t = zone.date(
                    w.year,
                    i64::from(w.month),
                    i64::from(w.day),
                    i64::from(w.hour),
                    0,
                    0,
                );
            }
            t += 3600;
            if zone.fields(t).hour == 0 {
                continue 'wrap;
            }
            if !step() {
                return None;
            }
        }
        loop {
            if f.minute & (1 << zone.fields(t).minute) != 0 {
                break;
            }
            if !added {
                added = true;
                // Go's Truncate(time.Minute) counts from the zero time, i.e. in UTC.
                t = t.div_euclid(60) * 60;
            }
            t += 60;
            if zone.fields(t).minute == 0 {
                continue 'wrap;
            }
            if !step() {
                return None;
            }
        }
        // The second field is always 0 in the standard dialect.
        loop {
            if zone.fields(t).second == 0 {
                return Some(t);
            }
            added = true;
            t += 1;
            if zone.fields(t).second == 0 {
                continue 'wrap;
            }
        }
    }
}
