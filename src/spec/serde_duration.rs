//! Reading the crate's `std::time::Duration` fields from config files, in one place.
//!
//! A field such as `catchup_window` reads any of:
//! - whole seconds: `600` (an integer; a negative number or a fraction is an error: write
//!   `"1.5s"` or `"500ms"` for parts of a second), or the same digits as a string, `"600"`;
//! - a duration string in the grammar of `@every`: Go's `time.ParseDuration` plus `d` for
//!   exactly 24 hours, one or more `<decimal><unit>` terms with no spaces, units `ns`, `us`,
//!   `ms`, `s`, `m`, `h`, `d`: `"90s"`, `"10m"`, `"1h30m"`, `"1.5h"`, `"2d"`, `"0"`; at most
//!   about 292 years (Go's limit) and never negative;
//! - serde's own form of a `Duration`, `{"secs": 600, "nanos": 0}` (or `[600, 0]`).
//!
//! Writing is unchanged: serde's `{"secs": .., "nanos": ..}`. Records stored by earlier
//! versions therefore load, and records written now still load in earlier versions (a store
//! shared by nodes of two versions during a rolling upgrade stays readable by both). Formats
//! that are not human-readable (bincode, postcard) read and write serde's form only, as before.
//!
//! Invariant: an input is a duration or an error that names the field, quotes the input and
//! says what a duration looks like; never a panic, never a silent zero. serde gives a field's
//! deserializer no path, so the error names the field (`catchup_window`), not its place in the
//! document (`policy.catchup_window`); serde_json adds the line and column.
//!
//! Each field has its own reader below (`#[serde(deserialize_with = "...")]` takes no
//! arguments, and the name is how an error says which field it is about).

use std::fmt;
use std::time::Duration;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::duration::parse_go_duration;

const NANOS_PER_SEC: i128 = 1_000_000_000;

const FORMS: &str = "whole seconds (600) or a string such as \"90s\", \"10m\", \"1h30m\", \
                     \"1.5h\", \"2d\"";

macro_rules! readers {
    ($read:ident -> $ty:ty: $($field:ident),+) => {$(
        #[doc = concat!("Reads the `", stringify!($field), "` field (see the module docs).")]
        pub(crate) fn $field<'de, D: Deserializer<'de>>(d: D) -> Result<$ty, D::Error> {
            $read(d, stringify!($field))
        }
    )+};
}

readers!(required -> Duration: every, offset, catchup_window, retention);
readers!(optional -> Option<Duration>: jitter, execution_timeout, run_timeout, task_timeout, start_delay);
#[cfg(feature = "postgres")]
readers!(required -> Duration: lease);
#[cfg(feature = "postgres")]
readers!(optional -> Option<Duration>: renew_interval, command_timeout);

/// A `Duration` in any of the module's forms.
fn required<'de, D: Deserializer<'de>>(d: D, field: &'static str) -> Result<Duration, D::Error> {
    if d.is_human_readable() {
        d.deserialize_any(DurationVisitor { field })
    } else {
        Duration::deserialize(d)
    }
}

/// An `Option<Duration>`: `null` (or, for fields with a default, no value) is `None`.
fn optional<'de, D: Deserializer<'de>>(
    d: D,
    field: &'static str,
) -> Result<Option<Duration>, D::Error> {
    if d.is_human_readable() {
        d.deserialize_option(OptionVisitor { field })
    } else {
        Option::<Duration>::deserialize(d)
    }
}

struct OptionVisitor {
    field: &'static str,
}

impl<'de> Visitor<'de> for OptionVisitor {
    type Value = Option<Duration>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a duration for `{}` or null: {FORMS}", self.field)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        required(d, self.field).map(Some)
    }
}

struct DurationVisitor {
    field: &'static str,
}

impl DurationVisitor {
    fn invalid<E: de::Error>(&self, why: impl fmt::Display) -> E {
        E::custom(format_args!("invalid duration for `{}`: {why}", self.field))
    }
}

impl<'de> Visitor<'de> for DurationVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "a duration for `{}`: {FORMS}, or {{\"secs\": 600, \"nanos\": 0}}",
            self.field
        )
    }

    fn visit_u64<E: de::Error>(self, secs: u64) -> Result<Duration, E> {
        Ok(Duration::from_secs(secs))
    }

    fn visit_i64<E: de::Error>(self, secs: i64) -> Result<Duration, E> {
        u64::try_from(secs)
            .map(Duration::from_secs)
            .map_err(|_| self.invalid(format_args!("{secs} is negative")))
    }

    fn visit_f64<E: de::Error>(self, secs: f64) -> Result<Duration, E> {
        Err(self.invalid(format_args!(
            "{secs} is not a whole number of seconds; write parts of a second as a string \
             (\"1.5s\", \"500ms\")"
        )))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Duration, E> {
        // Digits alone are seconds, as the integer is (environment variables and some config
        // layers give every value as a string); Go's grammar would ask for a unit.
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            return text
                .parse()
                .map(Duration::from_secs)
                .map_err(|_| self.invalid(format_args!("{text:?} is too many seconds")));
        }
        let nanos = parse_go_duration(text)
            .map_err(|why| self.invalid(format_args!("{why}; write {FORMS}")))?;
        if nanos < 0 {
            return Err(self.invalid(format_args!("{text:?} is negative")));
        }
        // parse_go_duration caps the total at i64::MAX nanoseconds: both parts fit.
        Ok(Duration::new(
            (nanos / NANOS_PER_SEC) as u64,
            (nanos % NANOS_PER_SEC) as u32,
        ))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Duration, A::Error> {
        let (mut secs, mut nanos) = (None, None);
        while let Some(key) = map.next_key::<String>()? {
            let slot = match key.as_str() {
                "secs" => &mut secs,
                "nanos" => &mut nanos,
                _ => {
                    return Err(self.invalid(format_args!(
                        "unknown key {key:?} (a duration object has \"secs\" and \"nanos\")"
                    )))
                }
            };
            if slot.is_some() {
                return Err(self.invalid(format_args!("{key:?} given twice")));
            }
            *slot = Some(map.next_value_seed(self.part(key))?);
        }
        let secs = secs.ok_or_else(|| self.invalid("an object needs \"secs\""))?;
        self.whole(secs, nanos.unwrap_or(0))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Duration, A::Error> {
        let secs = seq
            .next_element_seed(self.part("secs".into()))?
            .ok_or_else(|| self.invalid("a list needs [secs, nanos]"))?;
        let nanos = seq
            .next_element_seed(self.part("nanos".into()))?
            .unwrap_or(0);
        if seq.next_element::<de::IgnoredAny>()?.is_some() {
            return Err(self.invalid("a list has at most two numbers, [secs, nanos]"));
        }
        self.whole(secs, nanos)
    }
}

impl DurationVisitor {
    /// `secs` seconds plus `nanos` nanoseconds (which may carry into the seconds).
    fn whole<E: de::Error>(&self, secs: u64, nanos: u64) -> Result<Duration, E> {
        Duration::from_secs(secs)
            .checked_add(Duration::from_nanos(nanos))
            .ok_or_else(|| self.invalid(format_args!("{secs} s + {nanos} ns is too long")))
    }

    fn part(&self, key: String) -> Part {
        Part {
            field: self.field,
            key,
        }
    }
}

/// The `secs` or `nanos` of serde's form: a whole number, at least 0.
struct Part {
    field: &'static str,
    key: String,
}

impl<'de> DeserializeSeed<'de> for Part {
    type Value = u64;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<u64, D::Error> {
        d.deserialize_u64(self)
    }
}

impl<'de> Visitor<'de> for Part {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "{:?} as a whole number in a duration for `{}`",
            self.key, self.field
        )
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        u64::try_from(v).map_err(|_| {
            E::custom(format_args!(
                "invalid duration for `{}`: {:?} is {v}, negative",
                self.field, self.key
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use serde::de::value::{Error, I64Deserializer, StrDeserializer};
    use serde::de::IntoDeserializer;

    use super::*;

    #[derive(Debug, PartialEq, Deserialize)]
    struct Config {
        #[serde(deserialize_with = "every")]
        every: Duration,
        #[serde(default, deserialize_with = "jitter")]
        jitter: Option<Duration>,
    }

    fn read(json: &str) -> Result<Config, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    fn every_of(json_value: &str) -> Result<Duration, String> {
        read(&format!("{{\"every\": {json_value}}}")).map(|c| c.every)
    }

    const fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn integers_are_seconds() {
        assert_eq!(every_of("600"), Ok(secs(600)));
        assert_eq!(every_of("0"), Ok(secs(0)));
        assert_eq!(every_of("\"600\""), Ok(secs(600)));
        assert_eq!(every_of(&u64::MAX.to_string()), Ok(secs(u64::MAX)));
        // TOML and YAML hand integers over as i64.
        let d: I64Deserializer<Error> = 90i64.into_deserializer();
        assert_eq!(every(d), Ok(secs(90)));
    }

    #[test]
    fn strings_use_the_every_grammar() {
        for (text, want) in [
            ("90s", secs(90)),
            ("10m", secs(600)),
            ("1h30m", secs(5400)),
            ("1.5h", secs(5400)),
            ("2d", secs(172_800)),
            ("500ms", Duration::from_millis(500)),
            ("1m0.25s", Duration::from_millis(60_250)),
            ("0", secs(0)),
        ] {
            assert_eq!(every_of(&format!("{text:?}")), Ok(want), "{text}");
        }
    }

    #[test]
    fn serdes_own_form_still_reads() {
        assert_eq!(
            every_of(r#"{"secs": 1, "nanos": 500000000}"#),
            Ok(Duration::from_millis(1500))
        );
        assert_eq!(every_of(r#"{"secs": 7}"#), Ok(secs(7)));
        assert_eq!(every_of("[3, 5]"), Ok(Duration::new(3, 5)));
        // Nanoseconds past a second carry, as serde's own reader does.
        assert_eq!(
            every_of(r#"{"secs": 1, "nanos": 2000000001}"#),
            Ok(Duration::new(3, 1))
        );
    }

    #[test]
    fn optional_fields_take_null_absence_and_every_form() {
        assert_eq!(read(r#"{"every": 1}"#).unwrap().jitter, None);
        assert_eq!(
            read(r#"{"every": 1, "jitter": null}"#).unwrap().jitter,
            None
        );
        assert_eq!(
            read(r#"{"every": 1, "jitter": "30s"}"#).unwrap().jitter,
            Some(secs(30))
        );
        assert_eq!(
            read(r#"{"every": 1, "jitter": 45}"#).unwrap().jitter,
            Some(secs(45))
        );
        assert_eq!(
            read(r#"{"every": 1, "jitter": {"secs": 2, "nanos": 0}}"#)
                .unwrap()
                .jitter,
            Some(secs(2))
        );
    }

    /// Each bad input fails with the field's name and the reason (and never becomes zero).
    #[test]
    fn errors_name_the_field_and_the_reason() {
        for (value, why) in [
            ("-5", "-5 is negative"),
            ("\"-5m\"", "\"-5m\" is negative"),
            ("1.5", "1.5 is not a whole number of seconds"),
            ("\"10 minutes\"", "unknown unit \" minutes\""),
            ("\"1w\"", "unknown unit \"w\""),
            ("\"\"", "\"\" is not a duration"),
            ("\"ten\"", "\"ten\" is not a duration"),
            ("\"1.5\"", "missing a unit"),
            ("\"99999999999999999999999\"", "too many seconds"),
            ("\"300y\"", "unknown unit \"y\""),
            ("\"300000d\"", "too long a duration"),
            ("true", "invalid type: boolean `true`"),
            ("null", "invalid type: null"),
            (r#"{"sec": 1}"#, "unknown key \"sec\""),
            (r#"{"nanos": 1}"#, "an object needs \"secs\""),
            (r#"{"secs": -1}"#, "\"secs\" is -1, negative"),
            (
                r#"{"secs": 1.5}"#,
                "expected \"secs\" as a whole number in a duration for `every`",
            ),
            (r#"{"secs": 1, "secs": 2}"#, "\"secs\" given twice"),
            (
                &format!(r#"{{"secs": {}, "nanos": 1000000000}}"#, u64::MAX),
                "is too long",
            ),
            ("[1, 2, 3]", "at most two numbers"),
        ] {
            let e = every_of(value).unwrap_err();
            assert!(e.contains("`every`"), "{value}: {e}");
            assert!(e.contains(why), "{value}: {e}");
        }
        let e = read(r#"{"every": 1, "jitter": "5 m"}"#).unwrap_err();
        assert!(
            e.contains("invalid duration for `jitter`") && e.contains("\"5 m\""),
            "{e}"
        );
        assert!(e.contains("line 1 column"), "{e}");
        let e = read(r#"{"every": 1, "jitter": false}"#).unwrap_err();
        assert!(
            e.contains("invalid type: boolean `false`, expected a duration for `jitter`"),
            "{e}"
        );
        // A string reader (as config layers over environment variables use) says the same.
        let d: StrDeserializer<Error> = "5x".into_deserializer();
        let e = every(d).unwrap_err().to_string();
        assert!(
            e.contains("`every`") && e.contains("unknown unit \"x\""),
            "{e}"
        );
    }

    #[test]
    fn the_written_form_is_serdes() {
        // Unchanged, so stores written now load in earlier versions.
        assert_eq!(
            serde_json::to_string(&Duration::from_millis(1500)).unwrap(),
            r#"{"secs":1,"nanos":500000000}"#
        );
    }
}
