//! Engine-wide limits and defaults.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Limits of a `Scheduler`; `Default` is Temporal's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SchedulerConfig {
    /// Buffered starts per schedule; beyond it starts are dropped and counted (default 1000).
    pub max_buffer_size: usize,
    /// How long a schedule with no more times stays (describable) before removal (default 7 days).
    #[serde(deserialize_with = "crate::spec::serde_duration::retention")]
    pub retention: Duration,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            max_buffer_size: 1000,
            retention: Duration::from_secs(7 * 24 * 3600),
        }
    }
}
