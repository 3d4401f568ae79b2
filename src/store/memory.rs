//! [`MemoryStore`]: a [`Store`] in process memory, for tests and for trying restarts out.
//!
//! Clones share one set of records, so dropping a `Client` and building a new one on a clone of
//! the same `MemoryStore` is a restart. A batch is applied under one lock: all or nothing.

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::Mutex;

use super::{RecordKind, Store, StoreChange, StoreError, StoredRecord};

/// Records kept in memory; clones share them. Survives a `Client`, not the process.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    records: Arc<Mutex<BTreeMap<(RecordKind, String), String>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    /// Every record, ordered by kind and id.
    pub fn records(&self) -> Vec<StoredRecord> {
        self.records
            .lock()
            .iter()
            .map(|((kind, id), data)| StoredRecord {
                kind: *kind,
                id: id.clone(),
                data: data.clone(),
            })
            .collect()
    }

    /// How many records of `kind` are stored.
    pub fn count(&self, kind: RecordKind) -> usize {
        self.records
            .lock()
            .keys()
            .filter(|(k, _)| *k == kind)
            .count()
    }
}

impl Store for MemoryStore {
    fn load(&mut self) -> Result<Vec<StoredRecord>, StoreError> {
        Ok(self.records())
    }

    fn persist(&mut self, changes: &[StoreChange]) -> Result<(), StoreError> {
        let mut records = self.records.lock();
        for change in changes {
            match change {
                StoreChange::Put(record) => {
                    records.insert((record.kind, record.id.clone()), record.data.clone());
                }
                StoreChange::Delete { kind, id } => {
                    records.remove(&(*kind, id.clone()));
                }
            }
        }
        Ok(())
    }
}
