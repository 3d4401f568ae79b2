//! Go's `time.ParseDuration`, exactly: the duration of robfig's `@every <duration>`.
//!
//! Unlike the schedule dialect's reader (`spec::duration`), this one knows no `d` unit, and it
//! reproduces Go's arithmetic to the nanosecond: integer parts in `u64` with Go's overflow
//! checks, fractions that stop gaining precision after 19 digits and are scaled in `f64` (so
//! `2.9999999999999999999s` is 3 s in Go, and here). Invariant: the result is what Go returns
//! for the same bytes, as nanoseconds in `i64`.

const UNITS: [(&str, u64); 8] = [
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000), // U+00B5 micro sign
    ("μs", 1_000), // U+03BC Greek mu
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

const LIMIT: u64 = 1 << 63;

/// Parses `text` as Go does; the error is Go's message.
pub(super) fn parse(text: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {text:?}");
    let mut s = text.as_bytes();
    let mut neg = false;
    if let Some((&c, rest)) = s.split_first() {
        if c == b'-' || c == b'+' {
            neg = c == b'-';
            s = rest;
        }
    }
    if s == b"0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    while !s.is_empty() {
        if !(s[0] == b'.' || s[0].is_ascii_digit()) {
            return Err(invalid());
        }
        let before = s.len();
        let (mut v, rest) = leading_int(s).ok_or_else(invalid)?;
        s = rest;
        let pre = before != s.len();
        let (mut f, mut scale, mut post) = (0u64, 1f64, false);
        if let Some(rest) = s.strip_prefix(b".") {
            let (x, sc, rest2) = leading_fraction(rest);
            post = rest2.len() != rest.len();
            (f, scale, s) = (x, sc, rest2);
        }
        if !pre && !post {
            return Err(invalid());
        }
        let unit_len = s
            .iter()
            .position(|&c| c == b'.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        if unit_len == 0 {
            return Err(format!("time: missing unit in duration {text:?}"));
        }
        let unit_bytes = &s[..unit_len];
        s = &s[unit_len..];
        let Some(&(_, unit)) = UNITS.iter().find(|(u, _)| u.as_bytes() == unit_bytes) else {
            let u = String::from_utf8_lossy(unit_bytes);
            return Err(format!("time: unknown unit {u:?} in duration {text:?}"));
        };
        if v > LIMIT / unit {
            return Err(invalid());
        }
        v *= unit;
        if f > 0 {
            // Go scales the fraction in floating point, then truncates.
            v += (f as f64 * (unit as f64 / scale)) as u64;
            if v > LIMIT {
                return Err(invalid());
            }
        }
        total = total.saturating_add(v);
        if total > LIMIT {
            return Err(invalid());
        }
    }
    if neg {
        // total <= 2^63, so its negation fits.
        return Ok((total as i128).wrapping_neg() as i64);
    }
    i64::try_from(total).map_err(|_| invalid())
}

/// The leading decimal digits as `u64` (`None` past 2^63, as Go), and the rest.
fn leading_int(s: &[u8]) -> Option<(u64, &[u8])> {
    let mut x: u64 = 0;
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        if x > LIMIT / 10 {
            return None;
        }
        x = x * 10 + u64::from(s[i] - b'0');
        if x > LIMIT {
            return None;
        }
        i += 1;
    }
    Some((x, &s[i..]))
}

/// The leading fraction digits: value, scale (10^digits kept) and the rest. Digits past what
/// fits in 63 bits are consumed but ignored.
fn leading_fraction(s: &[u8]) -> (u64, f64, &[u8]) {
    let (mut x, mut scale, mut overflow) = (0u64, 1f64, false);
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        if !overflow {
            if x > (LIMIT - 1) / 10 {
                overflow = true;
            } else {
                let y = x * 10 + u64::from(s[i] - b'0');
                if y > LIMIT {
                    overflow = true;
                } else {
                    x = y;
                    scale *= 10.0;
                }
            }
        }
        i += 1;
    }
    (x, scale, &s[i..])
}

#[cfg(test)]
mod tests {
    use super::parse;

    const S: i64 = 1_000_000_000;

    #[test]
    fn go_examples() {
        // Values from Go's documentation of ParseDuration and its own test table.
        assert_eq!(parse("300ms"), Ok(300_000_000));
        assert_eq!(parse("-1.5h"), Ok(-5400 * S));
        assert_eq!(parse("2h45m"), Ok((2 * 3600 + 45 * 60) * S));
        assert_eq!(parse("1h30m"), Ok(5400 * S));
        assert_eq!(parse(".5m"), Ok(30 * S));
        assert_eq!(parse("1.s"), Ok(S));
        assert_eq!(parse("+0"), Ok(0));
        assert_eq!(parse("-0"), Ok(0));
        assert_eq!(parse("1µs"), Ok(1_000));
        assert_eq!(parse("1μs"), Ok(1_000));
        assert_eq!(parse("9223372036854775807ns"), Ok(i64::MAX));
        assert_eq!(parse("-9223372036854775808ns"), Ok(i64::MIN));
        // The float scaling: 19 nines are cut to 18, and 0.999...9 (18 digits) rounds to 1.
        assert_eq!(parse("2.9999999999999999999s"), Ok(3 * S));
        assert_eq!(parse("0.3s"), Ok(300_000_000));
    }

    #[test]
    fn go_rejections() {
        for bad in [
            "",
            "-",
            "1",
            "1d",
            "1w",
            ".s",
            "1h 30m",
            " 1s",
            "1s ",
            "9223372036854775808ns",
            "2562048h",
            "1e3s",
            "1_0s",
            "0x10s",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert_eq!(
            parse("5").unwrap_err(),
            "time: missing unit in duration \"5\""
        );
        assert_eq!(
            parse("1d").unwrap_err(),
            "time: unknown unit \"d\" in duration \"1d\""
        );
    }
}
