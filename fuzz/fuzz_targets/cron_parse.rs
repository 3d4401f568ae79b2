//! Any text as a cron expression: compiling must return a spec or an error, never panic; a spec
//! that compiles must answer `next_time` without panicking, with a time strictly after the
//! instant asked about.

#![no_main]

use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use schedule_engine::ScheduleSpec;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let spec = ScheduleSpec {
        cron_expressions: vec![text.to_string()],
        ..Default::default()
    };
    let Ok(compiled) = spec.compile() else {
        return;
    };
    let mut after = Utc.with_ymd_and_hms(2026, 11, 26, 15, 0, 0).unwrap();
    for _ in 0..3 {
        let Some(t) = compiled.next_time(after) else {
            break;
        };
        assert!(t.nominal > after, "{text:?}: {} after {after}", t.nominal);
        after = t.nominal;
    }
});
