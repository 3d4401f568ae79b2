//! Workflow ids of scheduled runs: `<action id>-<nominal time, UTC, RFC 3339, whole seconds>`,
//! formatted without chrono's general formatter because it runs once per fired action.

/// `prefix-YYYY-MM-DDTHH:MM:SSZ` for the nominal time `secs` (Unix seconds, UTC).
pub(crate) fn workflow_id(prefix: &str, secs: i64) -> String {
    let mut s = String::with_capacity(prefix.len() + 21);
    s.push_str(prefix);
    s.push('-');
    push_rfc3339(&mut s, secs);
    s
}

/// Appends `YYYY-MM-DDTHH:MM:SSZ`; years outside 0..=9999 fall back to chrono's formatter.
fn push_rfc3339(s: &mut String, secs: i64) {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        if let Some(t) = chrono::DateTime::from_timestamp(secs, 0) {
            s.push_str(&t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        }
        return;
    }
    let mut buf = *b"0000-00-00T00:00:00Z";
    put4(&mut buf[0..4], y as u32);
    put2(&mut buf[5..7], m);
    put2(&mut buf[8..10], d);
    put2(&mut buf[11..13], (sod / 3600) as u32);
    put2(&mut buf[14..16], (sod / 60 % 60) as u32);
    put2(&mut buf[17..19], (sod % 60) as u32);
    // The buffer holds ASCII digits and separators only, so it is always valid UTF-8.
    s.push_str(std::str::from_utf8(&buf).unwrap_or_default());
}

fn put2(out: &mut [u8], v: u32) {
    out[0] = b'0' + (v / 10 % 10) as u8;
    out[1] = b'0' + (v % 10) as u8;
}

fn put4(out: &mut [u8], v: u32) {
    put2(&mut out[0..2], v / 100);
    put2(&mut out[2..4], v % 100);
}

/// Proleptic Gregorian (year, month, day) of a day count since 1970-01-01 (H. Hinnant's
/// `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, SecondsFormat};

    #[test]
    fn matches_the_temporal_example() {
        // reference/temporal-semantics.md 6.5: `myid-2022-06-01T00:15:00Z`.
        let t = DateTime::parse_from_rfc3339("2022-06-01T00:15:00Z").unwrap();
        assert_eq!(
            workflow_id("myid", t.timestamp()),
            "myid-2022-06-01T00:15:00Z"
        );
    }

    #[test]
    fn agrees_with_chrono_over_a_wide_range() {
        // chrono's formatter is the independent oracle.
        let mut secs = -62_135_596_800_i64; // 0001-01-01
        while secs < 253_402_300_799 {
            let want = DateTime::from_timestamp(secs, 0)
                .unwrap()
                .to_rfc3339_opts(SecondsFormat::Secs, true);
            assert_eq!(workflow_id("a", secs), format!("a-{want}"), "{secs}");
            secs += 7_777_777;
        }
        let far = DateTime::from_timestamp(400_000_000_000, 0).unwrap();
        assert_eq!(
            workflow_id("b", 400_000_000_000),
            format!("b-{}", far.to_rfc3339_opts(SecondsFormat::Secs, true))
        );
    }
}
