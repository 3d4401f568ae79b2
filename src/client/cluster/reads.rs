//! Reads on a node that does not host the partition: from the records its owner committed,
//! restored into a scheduler of their own and described at the database clock's `now`.
//!
//! Every verb's change is committed before the verb returns (on whatever node), and the owner
//! writes every other change (a poll's starts, a run reported closed) with the call that made
//! it, so a record is never older than the last verb that returned, and lags the owner's engine
//! only by the changes being written at that moment.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use crate::engine::{
    ScheduleDescription, ScheduleListDescription, ScheduleRecord, Scheduler, SchedulerConfig,
    SchedulerSnapshot,
};
use crate::error::ScheduleError;
use crate::store::postgres::PostgresCluster;
use crate::store::{RecordKind, StoreError, StoreErrorKind, StoredRecord};

/// Schedule `id` as its record says.
pub(super) fn describe(
    cluster: &PostgresCluster,
    config: &SchedulerConfig,
    id: &str,
    now: DateTime<Utc>,
) -> Result<ScheduleDescription, ScheduleError> {
    let Some(record) = cluster.read_record(RecordKind::Schedule, id)? else {
        return Err(ScheduleError::NotFound { id: id.to_owned() });
    };
    let schedule = decode(&record)?;
    let scheduler = restore(vec![schedule], config);
    scheduler.describe(id, now)
}

/// Every schedule whose partition is not in `here`, as their records say; and the first
/// record that did not decode (left out).
pub(super) fn list_others(
    cluster: &PostgresCluster,
    config: &SchedulerConfig,
    here: &BTreeSet<u32>,
    now: DateTime<Utc>,
) -> Result<(Vec<ScheduleListDescription>, Option<StoreError>), StoreError> {
    let mut first_bad = None;
    let schedules = cluster
        .read_records(RecordKind::Schedule)?
        .iter()
        .filter(|r| !here.contains(&cluster.partition_of(&r.id)))
        .filter_map(|r| match decode(r) {
            Ok(s) => Some(s),
            Err(e) => {
                first_bad.get_or_insert(e);
                None
            }
        })
        .collect();
    Ok((restore(schedules, config).list_schedules(now), first_bad))
}

fn decode(record: &StoredRecord) -> Result<ScheduleRecord, StoreError> {
    serde_json::from_str(&record.data).map_err(|e| {
        StoreError::new(
            None,
            StoreErrorKind::InvalidRecord {
                table: "se_records".into(),
                id: record.id.clone(),
                detail: e.to_string(),
            },
        )
    })
}

fn restore(mut schedules: Vec<ScheduleRecord>, config: &SchedulerConfig) -> Scheduler {
    schedules.sort_by(|a, b| a.id.cmp(&b.id));
    let snapshot = SchedulerSnapshot {
        schedules,
        ..Default::default()
    };
    Scheduler::restore(snapshot, config.clone())
}
