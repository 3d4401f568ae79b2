//! Why a spec does not compile.

use serde::{Deserialize, Serialize};

/// A spec that does not compile. The message names the field and the offending text, e.g.
/// `calendars[0].hour: 24 is not in range 0-23`,
/// `cron_expressions[0] ("0 9 * * FOO") day_of_week: "FOO" is not a day name or number 0-7`,
/// `time_zone_name: unknown time zone "Mars/Base"`.
///
/// Validation stops at the first problem, in this order: calendars, skip calendars, intervals,
/// cron strings (each parsed, then their zones compared), the time zone, the interval anchor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[non_exhaustive]
pub enum SpecError {
    /// A field of a calendar, interval or cron string is invalid.
    #[error("{field}: {message}")]
    InvalidField {
        /// Where: e.g. `calendars[0].hour`, `cron_expressions[1] ("0 24 * * *") hour`.
        field: String,
        /// What is wrong, with the offending text, e.g. `24 is not in range 0-23`.
        message: String,
    },
}

impl SpecError {
    /// Where the problem is, e.g. `skip[1].minute` or `time_zone_name`.
    pub fn field(&self) -> &str {
        match self {
            SpecError::InvalidField { field, .. } => field,
        }
    }

    /// What is wrong, quoting the offending text.
    pub fn message(&self) -> &str {
        match self {
            SpecError::InvalidField { message, .. } => message,
        }
    }
}
