//! Cron expressions: any text, or (when the first byte is odd) text assembled from tokens of
//! the dialect and of its day rules (`L`, `L-3`, `LW`, `15W`, `5L`, `1#3`, `FRI#2`, `#`
//! comments, names, separators, prefixes), so the rules' edge cases come up often. Compiling
//! must return a spec or an error, never panic; a spec that compiles must describe itself and
//! answer `next_time` without panicking, under a DST policy and in a zone from the bytes, with
//! times strictly increasing.

#![no_main]

use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use schedule_engine::ScheduleSpec;

#[path = "dst_policy.rs"]
mod dst_policy;

const TOKENS: [&str; 48] = [
    "*",
    "L",
    "l",
    "L-",
    "L-3",
    "L-30",
    "L-31",
    "W",
    "w",
    "LW",
    "15W",
    "31W",
    "0W",
    "32W",
    "5L",
    "7L",
    "FRIL",
    "1#3",
    "5#5",
    "6#6",
    "0#1",
    "FRI#2",
    "sun#1",
    "#",
    "#3",
    "# c",
    ",",
    "-",
    "/",
    "0",
    "1",
    "5",
    "7",
    "15",
    "29",
    "31",
    "MON",
    "jan",
    "?",
    " ",
    " ",
    " ",
    "\t",
    "@every 5m",
    "@weekly",
    "CRON_TZ=America/New_York ",
    "*/15",
    "1-5",
];

const ZONES: [&str; 5] = [
    "",
    "America/New_York",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Europe/London",
];

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let text = if mode % 2 == 1 {
        rest.iter()
            .map(|&b| TOKENS[b as usize % TOKENS.len()])
            .collect()
    } else {
        match std::str::from_utf8(rest) {
            Ok(text) => text.to_string(),
            Err(_) => return,
        }
    };
    let dst = dst_policy::from_bits(mode >> 1);
    let zone = ZONES[(mode >> 3) as usize % ZONES.len()];
    let spec = ScheduleSpec {
        cron_expressions: vec![text.clone()],
        time_zone_name: (!zone.is_empty()).then(|| zone.to_string()),
        dst,
        ..Default::default()
    };
    let Ok(compiled) = spec.compile() else {
        return;
    };
    assert!(
        !compiled.to_string().is_empty(),
        "{text:?}: empty description"
    );
    let mut after = Utc.with_ymd_and_hms(2026, 11, 26, 15, 0, 0).unwrap();
    for _ in 0..3 {
        let Some(t) = compiled.next_time(after) else {
            break;
        };
        assert!(t.nominal > after, "{text:?}: {} after {after}", t.nominal);
        after = t.nominal;
    }
});
