//! Decoding stored records at load: a record that does not decode, or whose own id is not its
//! key, is an error naming the table and the key (a store is used completely or not at all).

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::store::{StoreError, StoreErrorKind, StoredRecord};

pub(super) fn decode<T: DeserializeOwned>(
    location: Option<&Path>,
    record: &StoredRecord,
) -> Result<T, StoreError> {
    serde_json::from_str(&record.data).map_err(|e| invalid(location, record, e.to_string()))
}

pub(super) fn check_key(
    location: Option<&Path>,
    record: &StoredRecord,
    id: &str,
) -> Result<(), StoreError> {
    if record.id == id {
        Ok(())
    } else {
        Err(invalid(
            location,
            record,
            format!("the record's own id is {id:?}"),
        ))
    }
}

fn invalid(location: Option<&Path>, record: &StoredRecord, detail: String) -> StoreError {
    StoreError::new(
        location,
        StoreErrorKind::InvalidRecord {
            table: record.kind.name().to_string(),
            id: record.id.clone(),
            detail,
        },
    )
}
