//! Conformance: the public vectors recorded from a real Temporal server
//! (`tests/data/spec-vectors.json`, its format: `tests/data/README.md`).

use std::str::FromStr;

use chrono::{DateTime, Datelike, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use schedule_engine::ScheduleSpec;
use serde_json::Value;

use crate::util::spec::{neutral_spec, oracle_for, show, time};

/// The server's DST anomalies (east-of-UTC fall-back, 30/45-minute DST): docs/semantics.md
/// chooses literal wall-clock matching instead, so inside the DST window these are checked
/// against the brute-force oracle and only outside it against the recording.
const DST_ANOMALIES: [(&str, &str); 16] = [
    (
        "edge-dst-fall-London-0130",
        "server fires the repeated 01:30 once (GMT copy); we fire both",
    ),
    (
        "edge-dst-fall-Lord_Howe-0130",
        "server fires the repeated 01:30 once; we fire both",
    ),
    (
        "edge-dst-fall-LHI-quarterly",
        "server loses quarter-hours in the repeated half hour",
    ),
    (
        "edge-dst-spring-LHI-0215",
        "server shifts the nonexistent 02:15 by +30 min; we skip it",
    ),
    (
        "edge-dst-fall-Chatham-halfhourly",
        "server fires each repeated half hour once",
    ),
    (
        "edge-dst-fall-London-0030",
        "server fires a spurious 01:30 BST copy of 00:30",
    ),
    (
        "edge-dst-fall-London-halfhourly",
        "server misses the GMT copy of 01:30",
    ),
    (
        "edge-dst-fall-Berlin-0130",
        "server adds a spurious 02:30 CEST",
    ),
    (
        "edge-dst-fall-Berlin-halfhourly",
        "server fires repeated times once",
    ),
    (
        "s1-0012-multi_calendar-London",
        "east-of-UTC fall-back anomaly in the window",
    ),
    (
        "s1-0043-cron-London",
        "east-of-UTC fall-back anomaly in the window",
    ),
    (
        "s1-0061-cron-London",
        "east-of-UTC fall-back anomaly in the window",
    ),
    (
        "s1-0113-mixed-London",
        "east-of-UTC fall-back anomaly in the window",
    ),
    (
        "s1-0191-calendar-London",
        "east-of-UTC fall-back anomaly in the window",
    ),
    (
        "s1-0197-cron-Chatham",
        "Chatham fall-back anomaly in the window",
    ),
    (
        "s1-0279-cron-noTZ",
        "CRON_TZ=Pacific/Chatham: fall-back anomaly in the window",
    ),
];

/// Vectors whose recorded answer is changed on purpose by our day rules (docs/semantics.md#nth-weekday-with-hash) (the issue
/// "Beyond Temporal"): each is asserted to differ from the recording, in the way intended.
const DELIBERATE: [(&str, &str); 2] = [
    (
        "edge-cron-hash-is-comment",
        "5#3 is the third Friday; the server reads every Friday with comment \"3\"",
    ),
    (
        "edge-cron-L-rejected",
        "L is the last day of the month; the server rejects it",
    ),
];

/// How far from a zone transition the server's anomalies can reach.
const DST_REACH: i64 = 6 * 3600;

fn near_transition(tz: Tz, t: i64) -> bool {
    let off = |t: i64| {
        let utc = DateTime::from_timestamp(t, 0).unwrap().naive_utc();
        tz.offset_from_utc_datetime(&utc).fix().local_minus_utc()
    };
    off(t - DST_REACH) != off(t + DST_REACH)
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(|s| show(time(s))).collect())
        .unwrap_or_default()
}

enum Outcome {
    Exact,
    Rejected,
    Unrepresentable,
    DstChecked,
    Deliberate,
}

/// A vector of `DELIBERATE`: ours differs from the server's answer, and is the intended one,
/// derived from the recording or from the calendar (never from the code under test).
fn check_deliberate(name: &str, v: &Value, spec: &ScheduleSpec) -> Result<Outcome, String> {
    let compiled = spec.compile().map_err(|e| format!("rejected: {e}"))?;
    match name {
        "edge-cron-hash-is-comment" => {
            let (start, end) = (time(&v["window"]["start"]), time(&v["window"]["end"]));
            let ours: Vec<_> = compiled.matching_times(start, end).collect();
            let recorded: Vec<_> = v["matching_times"]
                .as_array()
                .unwrap()
                .iter()
                .map(time)
                .collect();
            // The server's every-Friday times, kept where the Friday is the third of its month
            // (days 15-21).
            let third: Vec<_> = recorded
                .iter()
                .copied()
                .filter(|t| (15..=21).contains(&t.day()))
                .collect();
            if third.is_empty() || ours == recorded || ours != third {
                return Err(format!(
                    "ours {ours:?}, recorded {recorded:?}, third Fridays {third:?}"
                ));
            }
        }
        "edge-cron-L-rejected" => {
            if v["error"].is_null() {
                return Err("the server accepted it: no deviation left".into());
            }
            // 00:00 on the last day of each month of 2026: the day before the next month's 1st.
            let last_days: Vec<_> = (2..=13)
                .map(|m| {
                    let (y, m) = if m == 13 { (2027, 1) } else { (2026, m) };
                    Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0).unwrap() - chrono::Duration::days(1)
                })
                .collect();
            let from = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
            let ours: Vec<_> = compiled.matching_times(from, last_days[11]).collect();
            if ours != last_days {
                return Err(format!("ours {ours:?}, last days {last_days:?}"));
            }
        }
        _ => return Err("no check written for this deviation".into()),
    }
    Ok(Outcome::Deliberate)
}

fn check(v: &Value) -> Result<Outcome, String> {
    let Some(spec) = neutral_spec(&v["spec"]) else {
        return if v["error"].is_null() {
            Err("spec not representable".into())
        } else {
            // A negative interval or offset: `std::time::Duration` cannot express it.
            Ok(Outcome::Unrepresentable)
        };
    };
    let name = v["name"].as_str().unwrap_or_default();
    if DELIBERATE.iter().any(|(n, _)| *n == name) {
        return check_deliberate(name, v, &spec);
    }
    if !v["error"].is_null() {
        return match spec.compile() {
            Err(_) => Ok(Outcome::Rejected),
            Ok(_) => Err(format!("compiled, but the server said {}", v["error"])),
        };
    }
    let seed = v["jitter_seed"].as_str().unwrap_or("");
    let compiled = spec
        .compile_with_jitter_seed(seed)
        .map_err(|e| format!("rejected: {e}"))?;
    let (start, end) = (time(&v["window"]["start"]), time(&v["window"]["end"]));
    let mut nominal = Vec::new();
    let mut actual = Vec::new();
    let mut after = start;
    while let Some(t) = compiled.next_time(after) {
        if t.actual > end {
            break;
        }
        if t.nominal <= after.with_nanosecond_floor() {
            return Err(format!("next_time({after}) went back to {}", t.nominal));
        }
        nominal.push(t.nominal);
        actual.push(t.actual);
        after = t.actual;
    }
    let listed: Vec<_> = compiled.matching_times(start, end).collect();
    if listed != actual {
        return Err("matching_times differs from the next_time chain".into());
    }
    if DST_ANOMALIES.iter().any(|(n, _)| *n == name) {
        let normalized = neutral_spec(&v["normalized"]).ok_or("normalized spec")?;
        let tz = Tz::from_str(normalized.time_zone_name.as_deref().unwrap_or("UTC"))
            .map_err(|e| e.to_string())?;
        let oracle = oracle_for(&normalized);
        let expected = oracle.times(start.timestamp(), end.timestamp(), usize::MAX);
        let ours: Vec<i64> = nominal.iter().map(DateTime::timestamp).collect();
        if ours != expected {
            return Err(format!("differs from the oracle: {ours:?} vs {expected:?}"));
        }
        let far = |ts: &[i64]| -> Vec<i64> {
            ts.iter()
                .copied()
                .filter(|&t| !near_transition(tz, t))
                .collect()
        };
        let recorded: Vec<i64> = v["matching_times"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| time(t).timestamp())
            .collect();
        if far(&ours) != far(&recorded) {
            return Err("differs from the recording away from the DST change".into());
        }
        if ours == recorded {
            return Err("agrees with the recording: the exclusion is not needed".into());
        }
        return Ok(Outcome::DstChecked);
    }
    let shown = |ts: &[DateTime<Utc>]| ts.iter().map(|t| show(*t)).collect::<Vec<_>>();
    if v["nominal_times"].is_array() {
        if shown(&nominal) != strings(&v["nominal_times"]) {
            return Err(format!(
                "nominal times differ:\n ours {:?}\n want {:?}",
                shown(&nominal),
                strings(&v["nominal_times"])
            ));
        }
        let jitter = spec.jitter.unwrap_or_default();
        for (n, a) in nominal.iter().zip(&actual) {
            let delay = (*a - *n).to_std().map_err(|_| "negative delay")?;
            if delay >= jitter && !jitter.is_zero() {
                return Err(format!("delay {delay:?} of {n} not below {jitter:?}"));
            }
        }
    }
    if shown(&actual) != strings(&v["matching_times"]) {
        return Err(format!(
            "times differ:\n ours {:?}\n want {:?}",
            shown(&actual),
            strings(&v["matching_times"])
        ));
    }
    // The describe() view: the first ten times after the server's create time.
    if v["next_action_times_consistent"].as_bool() == Some(true) {
        let after = time(&v["next_action_times_after"]);
        let want = strings(&v["next_action_times"]);
        let mut ours = Vec::new();
        let mut t = after;
        while ours.len() < want.len() {
            let Some(next) = compiled.next_time(t) else {
                break;
            };
            ours.push(next.actual);
            t = next.actual;
        }
        // Fewer than ten means the server had no more.
        if want.len() < 10 && ours.len() == want.len() {
            if let Some(extra) = compiled.next_time(t) {
                return Err(format!(
                    "next_action_times: extra time {}",
                    show(extra.actual)
                ));
            }
        }
        if shown(&ours) != want {
            return Err(format!(
                "next_action_times differ:\n ours {:?}\n want {want:?}",
                shown(&ours)
            ));
        }
    }
    Ok(Outcome::Exact)
}

trait FloorSecond {
    fn with_nanosecond_floor(self) -> Self;
}

impl FloorSecond for DateTime<Utc> {
    fn with_nanosecond_floor(self) -> Self {
        DateTime::from_timestamp(self.timestamp(), 0).unwrap()
    }
}

#[test]
fn public_spec_vectors() {
    let data: Value =
        serde_json::from_str(include_str!("../../data/spec-vectors.json")).expect("vector JSON");
    let vectors = data["vectors"].as_array().expect("vectors");
    let (mut exact, mut rejected, mut unrepresentable, mut dst, mut deliberate) = (0, 0, 0, 0, 0);
    let mut failures = Vec::new();
    for v in vectors {
        match check(v) {
            Ok(Outcome::Exact) => exact += 1,
            Ok(Outcome::Rejected) => rejected += 1,
            Ok(Outcome::Unrepresentable) => unrepresentable += 1,
            Ok(Outcome::DstChecked) => dst += 1,
            Ok(Outcome::Deliberate) => deliberate += 1,
            Err(e) => failures.push(format!("{}: {e}", v["name"])),
        }
    }
    println!(
        "spec-vectors: {} of {} passed: {exact} exact, {rejected} rejected as the server did, \
         {unrepresentable} rejected by the types (negative durations), {dst} DST anomalies \
         checked against the oracle, {deliberate} deliberate deviations checked",
        exact + rejected + unrepresentable + dst + deliberate,
        vectors.len()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        dst,
        DST_ANOMALIES.len(),
        "every named DST anomaly was found and checked"
    );
    assert_eq!(
        deliberate,
        DELIBERATE.len(),
        "every deliberate deviation was found and checked"
    );
}
