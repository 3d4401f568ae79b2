//! PLACEHOLDER (replaced by the spec layer's real implementation): intervals and bounds only.

use chrono::{DateTime, TimeZone, Utc};

use super::{ScheduleSpec, ScheduledTime, SpecError};

/// A validated spec that computes its timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledSpec {
    intervals: Vec<(i64, i64)>,
    start_at: Option<i64>,
    end_at: Option<DateTime<Utc>>,
}

impl ScheduleSpec {
    /// Validates the spec and compiles it, with the jitter seed `""`.
    pub fn compile(&self) -> Result<CompiledSpec, SpecError> {
        self.compile_with_jitter_seed("")
    }

    /// Validates the spec and compiles it; `seed` makes jitter deterministic per schedule.
    pub fn compile_with_jitter_seed(&self, _seed: &str) -> Result<CompiledSpec, SpecError> {
        if !self.calendars.is_empty() || !self.cron_expressions.is_empty() {
            return Err(SpecError::InvalidField {
                field: "calendars".into(),
                message: "placeholder spec layer: only intervals".into(),
            });
        }
        let mut intervals = Vec::new();
        for (i, iv) in self.intervals.iter().enumerate() {
            let every = iv.every.as_secs() as i64;
            let offset = iv.offset.as_secs() as i64;
            if every < 1 || offset >= every {
                return Err(SpecError::InvalidField {
                    field: format!("intervals[{i}]"),
                    message: "bad interval".into(),
                });
            }
            intervals.push((every, offset));
        }
        Ok(CompiledSpec {
            intervals,
            start_at: self.start_at.map(|t| t.timestamp()),
            end_at: self.end_at,
        })
    }
}

impl CompiledSpec {
    /// The first time whose nominal time is strictly after `after`.
    pub fn next_time(&self, after: DateTime<Utc>) -> Option<ScheduledTime> {
        let mut ts = after.timestamp();
        if let Some(s) = self.start_at {
            ts = ts.max(s - 1);
        }
        let best = self
            .intervals
            .iter()
            .map(|&(e, o)| (ts - o).div_euclid(e) * e + e + o)
            .min()?;
        let t = Utc.timestamp_opt(best, 0).single()?;
        if self.end_at.is_some_and(|e| t > e) {
            return None;
        }
        Some(ScheduledTime {
            nominal: t,
            actual: t,
        })
    }

    /// Actual times in `(start, end]`.
    pub fn matching_times(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> impl Iterator<Item = DateTime<Utc>> + '_ {
        let mut after = start;
        std::iter::from_fn(move || {
            let t = self.next_time(after)?;
            after = t.nominal;
            Some(t.actual)
        })
        .take_while(move |t| *t <= end)
    }
}
