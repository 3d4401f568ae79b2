//! The spec layer against the `cron` crate, on the same expressions and the same instants.
//!
//! Three groups, each with `schedule-engine/<expr>` and `cron/<expr>` side by side:
//! - `spec_next_time`: one next time after an instant taken in turn from 65,536 pseudo-random
//!   instants in 2026-2035, generated (and converted to each crate's types) before timing
//!   starts; the same instants for both crates, so each iteration asks about a different
//!   instant and no answer can be remembered;
//! - `spec_successive`: the next (up to) 1000 occurrences from 2026-01-01, each search starting
//!   at the previous result (the 2100 horizon cuts the sparse ones short, for both crates alike);
//! - `spec_parse`: expression text to a compiled schedule.
//!
//! And `spec_next_time_rules`, ours only (the cron crate has no `L`, `W` or `#`): the same
//! random instants for the day rules beside a plain day-of-month expression, `30 2 1 * *`.
//!
//! The `cron` crate's dialect is Quartz-like: seconds first, day of week 1-7 = Sunday-Saturday,
//! optional year last, so each expression is translated by hand below. Instants are converted to
//! the cron crate's `DateTime<Tz>` before timing, so it pays only for its search.
//!
//! Run: `cargo bench --bench spec` (targets and recorded figures: BENCHMARKS.md, "Spec").

use std::hint::black_box;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion};
use schedule_engine::{CompiledSpec, ScheduleSpec};

/// One benchmark input: our expression, its translation into the cron crate's dialect, the zone.
struct Case {
    /// Label in the benchmark id (our expression, plus the zone when not UTC).
    label: &'static str,
    ours: &'static str,
    theirs: &'static str,
    zone: Option<chrono_tz::Tz>,
}

const CASES: [Case; 6] = [
    Case {
        label: "*/5 * * * *",
        ours: "*/5 * * * *",
        theirs: "0 */5 * * * * *",
        zone: None,
    },
    Case {
        label: "0 9 * * 1-5",
        ours: "0 9 * * 1-5",
        // Monday-Friday is 2-6 in the cron crate.
        theirs: "0 0 9 * * 2-6 *",
        zone: None,
    },
    Case {
        label: "30 2 1 * *",
        ours: "30 2 1 * *",
        theirs: "0 30 2 1 * * *",
        zone: None,
    },
    Case {
        label: "0 0 29 2 *",
        ours: "0 0 29 2 *",
        theirs: "0 0 0 29 2 * *",
        zone: None,
    },
    Case {
        label: "15,45 */2 * * *",
        ours: "15,45 */2 * * *",
        theirs: "0 15,45 */2 * * * *",
        zone: None,
    },
    Case {
        label: "30 2 * * * NY",
        ours: "30 2 * * *",
        theirs: "0 30 2 * * * *",
        zone: Some(chrono_tz::America::New_York),
    },
];

/// Number of pseudo-random instants `spec_next_time` asks about, in turn (a power of two:
/// the index wraps with a mask).
const INSTANTS: usize = 1 << 16;

/// Occurrences walked per iteration of `spec_successive`.
const SUCCESSIVE: usize = 1000;

/// A fixed pseudo-random set of whole-second instants in [2026-01-01, 2036-01-01) UTC.
///
/// A SplitMix64 sequence with a constant seed: the same instants on every run and for both
/// crates, with no dependency on a random-number crate.
fn instants() -> Vec<DateTime<Utc>> {
    let lo = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .unwrap()
        .timestamp();
    let hi = Utc
        .with_ymd_and_hms(2036, 1, 1, 0, 0, 0)
        .unwrap()
        .timestamp();
    let span = (hi - lo) as u64;
    let mut state: u64 = 0x5eed_2026_c0ff_ee00;
    (0..INSTANTS)
        .map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            Utc.timestamp_opt(lo + (z % span) as i64, 0).unwrap()
        })
        .collect()
}

fn our_spec(case: &Case) -> ScheduleSpec {
    ScheduleSpec {
        cron_expressions: vec![case.ours.to_string()],
        time_zone_name: case.zone.map(|z| z.name().to_string()),
        ..Default::default()
    }
}

fn ours(case: &Case) -> CompiledSpec {
    our_spec(case)
        .compile()
        .unwrap_or_else(|e| panic!("{}: {e}", case.ours))
}

fn theirs(case: &Case) -> cron::Schedule {
    cron::Schedule::from_str(case.theirs).unwrap_or_else(|e| panic!("{}: {e}", case.theirs))
}

/// The first `SUCCESSIVE` occurrences after `start` (fewer when the 2100 horizon comes first).
fn our_successive(spec: &CompiledSpec, start: DateTime<Utc>) -> usize {
    let mut after = start;
    let mut n = 0;
    while n < SUCCESSIVE {
        match spec.next_time(after) {
            Some(t) => {
                after = black_box(t).nominal;
                n += 1;
            }
            None => break,
        }
    }
    n
}

fn their_successive<Z: TimeZone>(schedule: &cron::Schedule, start: &DateTime<Z>) -> usize {
    schedule
        .after(start)
        .take(SUCCESSIVE)
        .map(black_box)
        .count()
}

/// Benchmarks the cron crate's walk from `start` (in its zone); returns how many it finds.
fn their_successive_bench<Z: TimeZone>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    case: &Case,
    schedule: &cron::Schedule,
    start: DateTime<Z>,
) -> usize {
    group.bench_with_input(
        BenchmarkId::new("cron", case.label),
        schedule,
        |b, schedule| b.iter(|| their_successive(schedule, black_box(&start))),
    );
    their_successive(schedule, &start)
}

/// The cron crate's next time after each of `instants` in turn (already in its zone).
fn their_next_time<Z: TimeZone>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    case: &Case,
    schedule: &cron::Schedule,
    instants: &[DateTime<Z>],
) {
    group.bench_with_input(
        BenchmarkId::new("cron", case.label),
        schedule,
        |b, schedule| {
            let mut i = 0;
            b.iter(|| {
                let t = &instants[i & (INSTANTS - 1)];
                i += 1;
                schedule.after(black_box(t)).next()
            })
        },
    );
}

/// Our next time after each of `instants` in turn.
fn our_next_time(
    group: &mut BenchmarkGroup<'_, WallTime>,
    label: &str,
    spec: &CompiledSpec,
    instants: &[DateTime<Utc>],
) {
    group.bench_with_input(
        BenchmarkId::new("schedule-engine", label),
        spec,
        |b, spec| {
            let mut i = 0;
            b.iter(|| {
                let t = instants[i & (INSTANTS - 1)];
                i += 1;
                spec.next_time(black_box(t))
            })
        },
    );
}

fn next_time(c: &mut Criterion) {
    let instants = instants();
    let mut group = c.benchmark_group("spec_next_time");
    for case in &CASES {
        our_next_time(&mut group, case.label, &ours(case), &instants);
        let schedule = theirs(case);
        match case.zone {
            None => their_next_time(&mut group, case, &schedule, &instants),
            Some(zone) => {
                let local: Vec<_> = instants.iter().map(|t| t.with_timezone(&zone)).collect();
                their_next_time(&mut group, case, &schedule, &local);
            }
        }
    }
    group.finish();
}

/// Day rules beside a plain day-of-month expression (the first), ours only.
const RULES: [&str; 6] = [
    "30 2 1 * *",
    "0 18 L * *",
    "0 18 LW * *",
    "0 9 15W * *",
    "0 9 * * 1#3",
    "0 9 * * 5L",
];

fn next_time_rules(c: &mut Criterion) {
    let instants = instants();
    let mut group = c.benchmark_group("spec_next_time_rules");
    for text in RULES {
        let spec = ScheduleSpec {
            cron_expressions: vec![text.to_string()],
            ..Default::default()
        }
        .compile()
        .unwrap_or_else(|e| panic!("{text}: {e}"));
        our_next_time(&mut group, text, &spec, &instants);
    }
    group.finish();
}

fn successive(c: &mut Criterion) {
    let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let mut group = c.benchmark_group("spec_successive");
    for case in &CASES {
        let spec = ours(case);
        let schedule = theirs(case);
        let count = match case.zone {
            None => their_successive_bench(&mut group, case, &schedule, start),
            Some(zone) => {
                their_successive_bench(&mut group, case, &schedule, start.with_timezone(&zone))
            }
        };
        // Same work for both: the same number of occurrences (a cheap cross-check too).
        assert_eq!(our_successive(&spec, start), count, "{}", case.label);
        group.bench_with_input(
            BenchmarkId::new("schedule-engine", case.label),
            &spec,
            |b, spec| b.iter(|| our_successive(spec, black_box(start))),
        );
    }
    group.finish();
}

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("spec_parse");
    for case in &CASES {
        // The spec value is built once: what is timed is compiling its text (and zone name).
        let spec = our_spec(case);
        group.bench_with_input(
            BenchmarkId::new("schedule-engine", case.label),
            &spec,
            |b, spec| b.iter(|| black_box(spec).compile()),
        );
        group.bench_with_input(
            BenchmarkId::new("cron", case.label),
            case.theirs,
            |b, text| b.iter(|| cron::Schedule::from_str(black_box(text))),
        );
    }
    group.finish();
}

fn config() -> Criterion {
    // Two cores shared with other jobs: short runs, enough samples for a stable median.
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(40)
}

criterion_group! {
    name = benches;
    config = config();
    targets = next_time, next_time_rules, successive, parse
}
criterion_main!(benches);
