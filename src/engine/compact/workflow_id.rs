//! Workflow ids of scheduled runs: `<action id>-<nominal time, UTC, RFC 3339, whole seconds>`,
//! formatted without chrono's general formatter because it runs once per fired action (and is
//! checked again when the run closes). The date comes from the day cache in [`millis`].
//!
//! [`millis`]: super::millis

use super::millis::{day_and_second, put2};

/// `prefix-YYYY-MM-DDTHH:MM:SSZ` for the nominal time `secs` (Unix seconds, UTC).
pub(crate) fn workflow_id(prefix: &str, secs: i64) -> String {
    let mut s = String::with_capacity(prefix.len() + 21);
    s.push_str(prefix);
    s.push('-');
    match rfc3339_bytes(secs) {
        Some(buf) => {
            s.push_str(std::str::from_utf8(&buf).expect("invariant: an RFC 3339 time is ASCII"))
        }
        // Years outside 0..=9999: chrono's formatter.
        None => {
            if let Some(t) = chrono::DateTime::from_timestamp(secs, 0) {
                s.push_str(&t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            }
        }
    }
    s
}

/// Whether `id` is `prefix-<secs as RFC 3339>`, without building the id.
#[inline]
pub(crate) fn is_workflow_id(id: &str, prefix: &str, secs: i64) -> bool {
    match rfc3339_bytes(secs) {
        Some(suffix) => {
            // The time first: ids of one schedule differ there, not in the prefix.
            let (id, p) = (id.as_bytes(), prefix.as_bytes());
            id.len() == p.len() + 21
                && id[p.len() + 1..] == suffix
                && id[p.len()] == b'-'
                && id[..p.len()] == *p
        }
        None => workflow_id(prefix, secs) == id,
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` as bytes; `None` for years outside 0..=9999.
#[inline]
fn rfc3339_bytes(secs: i64) -> Option<[u8; 20]> {
    let (day, sod) = day_and_second(secs)?;
    let sod = sod as usize;
    let mut buf = *b"0000-00-00T00:00:00Z";
    buf[..10].copy_from_slice(&day.ymd);
    put2(&mut buf, 11, sod / 3600);
    put2(&mut buf, 14, sod / 60 % 60);
    put2(&mut buf, 17, sod % 60);
    Some(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, SecondsFormat};

    #[test]
    fn matches_the_temporal_example() {
        // docs/semantics.md#workflow-ids: `myid-2022-06-01T00:15:00Z`.
        let t = DateTime::parse_from_rfc3339("2022-06-01T00:15:00Z").unwrap();
        assert_eq!(
            workflow_id("myid", t.timestamp()),
            "myid-2022-06-01T00:15:00Z"
        );
    }

    #[test]
    fn recognises_exactly_its_own_ids() {
        let t = DateTime::parse_from_rfc3339("2022-06-01T00:15:00Z")
            .unwrap()
            .timestamp();
        assert!(is_workflow_id("myid-2022-06-01T00:15:00Z", "myid", t));
        assert!(!is_workflow_id("myid-2022-06-01T00:15:01Z", "myid", t));
        assert!(!is_workflow_id("myi-2022-06-01T00:15:00Z", "myid", t));
        assert!(!is_workflow_id("myid-2022-06-01T00:15:00Zx", "myid", t));
        assert!(!is_workflow_id("myid_2022-06-01T00:15:00Z", "myid", t));
        let far = 400_000_000_000;
        assert!(is_workflow_id(&workflow_id("b", far), "b", far));
        assert!(!is_workflow_id(&workflow_id("b", far), "b", far + 1));
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
        // Consecutive times across day boundaries, as fired actions come: the day cache hits.
        let mut secs = 951_696_000 - 3_600; // 2000-02-28T00:00:00Z minus an hour
        while secs < 951_696_000 + 3 * 86_400 {
            let want = DateTime::from_timestamp(secs, 0)
                .unwrap()
                .to_rfc3339_opts(SecondsFormat::Secs, true);
            assert_eq!(workflow_id("a", secs), format!("a-{want}"), "{secs}");
            secs += 997;
        }
        let far = DateTime::from_timestamp(400_000_000_000, 0).unwrap();
        assert_eq!(
            workflow_id("b", 400_000_000_000),
            format!("b-{}", far.to_rfc3339_opts(SecondsFormat::Secs, true))
        );
    }
}
