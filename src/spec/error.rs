//! Why a spec does not compile.

use serde::{Deserialize, Serialize};

/// A spec that does not compile. The message names the field and the offending text.
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
