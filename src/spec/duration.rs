//! Go's `time.ParseDuration` grammar plus Temporal's `d` (exactly 24 h), for `@every`.
//!
//! Accepts an optional sign, then one or more `<decimal><unit>` terms (`1h30m`, `1.5d`, `.5s`);
//! `0` alone needs no unit. Units: ns, us (also µs, μs), ms, s, m, h, d. The result is exact
//! nanoseconds (i128, so no term can overflow silently).

/// Parses a duration into nanoseconds; the error explains what is wrong.
pub(crate) fn parse_go_duration(text: &str) -> Result<i128, String> {
    let invalid = || format!("{text:?} is not a duration (e.g. 90m, 1h30m, 1.5d)");
    let (neg, mut s) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total: i128 = 0;
    while !s.is_empty() {
        let int_len = s.bytes().take_while(u8::is_ascii_digit).count();
        let int_part = &s[..int_len];
        s = &s[int_len..];
        let mut frac_part = "";
        if let Some(rest) = s.strip_prefix('.') {
            let frac_len = rest.bytes().take_while(u8::is_ascii_digit).count();
            frac_part = &rest[..frac_len];
            s = &rest[frac_len..];
        }
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(invalid());
        }
        let unit_len = s
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        let unit = &s[..unit_len];
        s = &s[unit_len..];
        let scale: i128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "d" => 86_400_000_000_000,
            "" => {
                return Err(format!(
                    "{text:?} is missing a unit (ns, us, ms, s, m, h, d)"
                ))
            }
            _ => {
                return Err(format!(
                    "unknown unit {unit:?} in duration {text:?} (units: ns, us, ms, s, m, h, d)"
                ))
            }
        };
        let too_long = || format!("{text:?} is too long a duration");
        // 30 integer digits already exceed any representable duration.
        if int_part.len() > 30 {
            return Err(too_long());
        }
        let int: i128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| too_long())?
        };
        let mut term = int.checked_mul(scale).ok_or_else(too_long)?;
        // Fractions beyond nanosecond precision are truncated, as Go does.
        let mut place = scale;
        for digit in frac_part.bytes() {
            place /= 10;
            if place == 0 {
                break;
            }
            term += i128::from(digit - b'0') * place;
        }
        total = total.checked_add(term).ok_or_else(too_long)?;
        if total > i128::from(i64::MAX) {
            return Err(too_long());
        }
    }
    Ok(if neg { -total } else { total })
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i128 = 1_000_000_000;

    #[test]
    fn go_forms() {
        assert_eq!(parse_go_duration("90m"), Ok(5400 * S));
        assert_eq!(parse_go_duration("1h30m"), Ok(5400 * S));
        assert_eq!(parse_go_duration("1.5h"), Ok(5400 * S));
        assert_eq!(parse_go_duration(".5s"), Ok(S / 2));
        assert_eq!(parse_go_duration("1.s"), Ok(S));
        assert_eq!(parse_go_duration("0"), Ok(0));
        assert_eq!(parse_go_duration("-5m"), Ok(-300 * S));
        assert_eq!(parse_go_duration("500ms"), Ok(S / 2));
        assert_eq!(parse_go_duration("1us"), Ok(1_000));
        assert_eq!(parse_go_duration("1µs"), Ok(1_000));
        assert_eq!(parse_go_duration("43h"), Ok(154_800 * S));
    }

    #[test]
    fn temporal_day_unit() {
        assert_eq!(parse_go_duration("1d"), Ok(86_400 * S));
        assert_eq!(parse_go_duration("1.5d"), Ok(129_600 * S));
        assert_eq!(parse_go_duration("7d"), Ok(604_800 * S));
    }

    #[test]
    fn errors_quote_the_text() {
        let e = parse_go_duration("1w").unwrap_err();
        assert!(
            e.contains("unknown unit \"w\"") && e.contains("\"1w\""),
            "{e}"
        );
        assert!(parse_go_duration("").is_err());
        assert!(parse_go_duration(" 5m").is_err());
        assert!(parse_go_duration("5")
            .unwrap_err()
            .contains("missing a unit"));
        assert!(parse_go_duration(".h").is_err());
        assert!(parse_go_duration("99999999999999999999999h").is_err());
        assert!(parse_go_duration("3000000h").is_err());
    }
}
