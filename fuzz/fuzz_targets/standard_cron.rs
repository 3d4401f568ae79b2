//! Any text as a cron job's schedule (robfig's standard dialect), at any instant chrono holds:
//! parsing returns a schedule or an error, never panics; a schedule answers `next` with a time
//! strictly after the instant (or none), and `next_run` with a cron time not before `now`.

#![no_main]

use chrono::DateTime;
use libfuzzer_sys::fuzz_target;
use schedule_engine::standard_cron::StandardCron;

fuzz_target!(|input: (i64, u32, u32, &str)| {
    let (seconds, nanos, gap, text) = input;
    let Ok(cron) = StandardCron::parse(text) else {
        return;
    };
    let min = DateTime::<chrono::Utc>::MIN_UTC.timestamp();
    let max = DateTime::<chrono::Utc>::MAX_UTC.timestamp();
    let Some(after) = DateTime::from_timestamp(seconds.clamp(min, max), nanos % 1_000_000_000)
    else {
        return;
    };
    if let Some(t) = cron.next(after) {
        assert!(t > after, "{text:?}: {t} after {after}");
    }
    let Some(now) = after.checked_add_signed(chrono::TimeDelta::seconds(i64::from(gap))) else {
        return;
    };
    if let Some(run) = cron.next_run(after, now) {
        assert!(run.cron_time >= now, "{text:?}: {} before {now}", run.cron_time);
    }
});
