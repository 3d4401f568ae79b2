//! [`Journal`]: the records not yet durable, the actions held until they are, and the batch
//! write itself.
//!
//! Invariant: `dirty` holds, per record key, the latest value not yet durable (`None` =
//! delete); a failed batch is put back, so nothing is lost and nothing is written twice in
//! different versions.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::pending::PendingIndex;
use crate::engine::{Action, StateChange};
use crate::store::{
    contain, RecordKind, Store, StoreChange, StoreError, StoreErrorKind, StoredRecord,
};

/// A client's store with what is not yet durable in it.
pub(super) struct Journal {
    pub(super) store: Box<dyn Store>,
    pub(super) dirty: HashMap<(RecordKind, String), Option<String>>,
    pub(super) held: Vec<Action>,
    pub(super) pending: PendingIndex,
    /// Since when changes have been left in the scheduler for a later batch.
    pub(super) deferred_since: Option<DateTime<Utc>>,
    /// What a batch costs the store: a moving average of `persist` calls in real time.
    pub(super) batch_cost: Duration,
}

/// Marks record `id` of `kind` for writing with its encoding `data`, or keeps the first
/// encoding error.
fn put(
    dirty: &mut HashMap<(RecordKind, String), Option<String>>,
    kind: RecordKind,
    id: String,
    data: Result<String, StoreError>,
    first_error: &mut Option<StoreError>,
) {
    match data {
        Ok(data) => _ = dirty.insert((kind, id), Some(data)),
        Err(e) => _ = first_error.get_or_insert(e),
    }
}

impl Journal {
    /// Turns engine changes into dirty records, and drops pending actions they finish. A record
    /// that cannot be encoded does not stop the others (the feed is consumed): the first such
    /// error is returned after all the rest are taken.
    pub(super) fn absorb(&mut self, changes: Vec<StateChange>) -> Result<(), StoreError> {
        let mut first_error = None;
        for change in changes {
            match change {
                StateChange::UpsertSchedule(record) => {
                    let finished = self.pending.finished_in_schedule(&record);
                    self.drop_pending(finished);
                    let data = self.encode(&record.id, &record);
                    put(
                        &mut self.dirty,
                        RecordKind::Schedule,
                        record.id,
                        data,
                        &mut first_error,
                    );
                }
                StateChange::RemoveSchedule(id) => {
                    let finished = self.pending.remove_schedule(&id);
                    self.drop_pending(finished);
                    self.dirty.insert((RecordKind::Schedule, id), None);
                }
                StateChange::UpsertWorkflow(record) => {
                    if !record.running {
                        let finished = self.pending.remove_workflow(&record.workflow_id);
                        self.drop_pending(finished);
                    }
                    let data = self.encode(&record.workflow_id, &record);
                    let id = record.workflow_id;
                    put(
                        &mut self.dirty,
                        RecordKind::Workflow,
                        id,
                        data,
                        &mut first_error,
                    );
                }
                StateChange::RemoveWorkflow(id) => {
                    let finished = self.pending.remove_workflow(&id);
                    self.drop_pending(finished);
                    self.dirty.insert((RecordKind::Workflow, id), None);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Marks the pending actions `keys` for deletion.
    pub(super) fn drop_pending(&mut self, keys: impl IntoIterator<Item = String>) {
        for key in keys {
            self.dirty.insert((RecordKind::PendingAction, key), None);
        }
    }

    pub(super) fn add_pending(&mut self, actions: &[Action]) -> Result<(), StoreError> {
        for action in actions {
            let key = self.pending.insert(action);
            let data = self.encode(&key, action)?;
            self.dirty
                .insert((RecordKind::PendingAction, key), Some(data));
        }
        Ok(())
    }

    /// Writes every dirty record in one batch; on failure they stay dirty.
    pub(super) fn flush(&mut self) -> Result<(), StoreError> {
        if self.dirty.is_empty() {
            return Ok(());
        }
        let batch = self.take_dirty();
        // A panicking store is a failed batch: the batch goes back, as for an error, and the
        // panic stops here (it would otherwise lose the batch and unwind through the client).
        let store = &mut self.store;
        #[allow(clippy::disallowed_methods, reason = "a batch's cost is real time")]
        let started = Instant::now();
        let persisted = contain(None, || store.persist(&batch));
        // A moving average over about four batches.
        self.batch_cost = (self.batch_cost * 3 + started.elapsed()) / 4;
        match persisted {
            Ok(()) => Ok(()),
            Err(mut e) => {
                if e.path.is_none() {
                    e.path = self.store.location().map(Path::to_path_buf);
                }
                for change in batch {
                    match change {
                        StoreChange::Put(r) => self.dirty.insert((r.kind, r.id), Some(r.data)),
                        StoreChange::Delete { kind, id } => self.dirty.insert((kind, id), None),
                    };
                }
                Err(e)
            }
        }
    }

    /// Every dirty record as one batch; they are no longer dirty.
    pub(super) fn take_dirty(&mut self) -> Vec<StoreChange> {
        self.dirty
            .drain()
            .map(|((kind, id), data)| match data {
                Some(data) => StoreChange::Put(StoredRecord { kind, id, data }),
                None => StoreChange::Delete { kind, id },
            })
            .collect()
    }

    fn encode<T: serde::Serialize>(&self, id: &str, value: &T) -> Result<String, StoreError> {
        serde_json::to_string(value).map_err(|e| {
            StoreError::new(
                self.store.location(),
                StoreErrorKind::InvalidRecord {
                    table: "(encoding)".into(),
                    id: id.to_string(),
                    detail: e.to_string(),
                },
            )
        })
    }
}
