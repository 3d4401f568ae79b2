//! Prints what a cron expression means, in one line of English, then its next times, in UTC
//! and in its time zone, one a line.
//!
//! ```text
//! cargo run --example preview -- "0 9 * * MON-FRI" --tz America/New_York -n 10
//! cargo run --example preview -- "0 18 LW * *" -n 3 --after 2027-01-01T00:00:00Z
//! cargo run --example preview -- "@every 90m" -n 3 --after 2026-01-01T00:00:00Z
//! ```
//!
//! ```text
//! at 18:00 on the last weekday of the month, in UTC
//! 2027-01-29T18:00:00+00:00  2027-01-29T18:00:00+00:00
//! 2027-02-26T18:00:00+00:00  2027-02-26T18:00:00+00:00
//! 2027-03-31T18:00:00+00:00  2027-03-31T18:00:00+00:00
//! ```
//!
//! Options: `--tz <IANA zone>` (default UTC), `-n <count>` (default 10), `--after <RFC 3339>`
//! (default now). Bad input prints the error and exits with status 2.

#![allow(clippy::disallowed_methods)] // an example runs on the real clock

use std::process::ExitCode;

use chrono::{DateTime, Utc};
use schedule_engine::ScheduleSpec;

const USAGE: &str =
    "usage: preview <cron expression> [--tz <IANA zone>] [-n <count>] [--after <RFC 3339>]";

/// The parsed command line.
struct Args {
    expression: String,
    zone: Option<String>,
    count: usize,
    after: Option<DateTime<Utc>>,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut expression = None;
    let mut zone = None;
    let mut count = 10;
    let mut after = None;
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| args.next().ok_or(format!("{flag} needs a value"));
        match arg.as_str() {
            "--tz" => zone = Some(value("--tz")?),
            "-n" => {
                let text = value("-n")?;
                count = text
                    .parse()
                    .map_err(|_| format!("-n: {text:?} is not a count"))?;
            }
            "--after" => {
                let text = value("--after")?;
                let t = DateTime::parse_from_rfc3339(&text)
                    .map_err(|e| format!("--after: {text:?}: {e}"))?;
                after = Some(t.with_timezone(&Utc));
            }
            flag if flag.starts_with('-') && flag.len() > 1 => {
                return Err(format!("unknown option {flag}"))
            }
            _ if expression.is_some() => return Err(format!("unexpected argument {arg:?}")),
            _ => expression = Some(arg),
        }
    }
    Ok(Args {
        expression: expression.ok_or("missing the cron expression")?,
        zone,
        count,
        after,
    })
}

fn run(args: Args) -> Result<(), String> {
    // The zone is validated by `compile` (with the spec's message); this parse only formats.
    let spec = ScheduleSpec {
        cron_expressions: vec![args.expression.clone()],
        time_zone_name: args.zone.clone(),
        ..Default::default()
    }
    .compile()
    .map_err(|e| e.to_string())?;
    // Local times are shown in --tz, else in the expression's own `CRON_TZ=`/`TZ=` zone.
    let prefix_zone = args
        .expression
        .trim_start()
        .strip_prefix("CRON_TZ=")
        .or_else(|| args.expression.trim_start().strip_prefix("TZ="))
        .and_then(|rest| rest.split_whitespace().next());
    let zone: chrono_tz::Tz = match args.zone.as_deref().or(prefix_zone) {
        Some(name) if !name.is_empty() => name.parse().map_err(|e| format!("zone: {e}"))?,
        _ => chrono_tz::UTC,
    };
    println!("{spec}");
    let mut after = args.after.unwrap_or_else(Utc::now);
    for _ in 0..args.count {
        let Some(t) = spec.next_time(after) else {
            eprintln!("(no more times: the spec ends, or nothing matches before 2101)");
            break;
        };
        println!(
            "{}  {}",
            t.actual.to_rfc3339(),
            t.actual.with_timezone(&zone).to_rfc3339()
        );
        after = t.nominal;
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    match parse_args(args.into_iter()).and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
