//! Which partition an id lives in.
//!
//! Invariant: the placement of an id depends only on the id and the partition count, which is
//! fixed for a database, so a record never has to move while the cluster lives.

/// The partition of a schedule id or standalone workflow id among `partitions`: FarmHash
/// `Fingerprint64` of its UTF-8 bytes, modulo the count (a count of 0 counts as 1). The
/// fingerprint functions are fixed by their definition (unlike FarmHash's `Hash` functions, they
/// never change between versions or platforms), so a stored record stays in its partition.
pub fn partition_of(id: &str, partitions: u32) -> u32 {
    let partitions = u64::from(partitions.max(1));
    u32::try_from(farmhash::fingerprint64(id.as_bytes()) % partitions).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_has_one_partition_in_range() {
        for partitions in [0, 1, 2, 7, 64, 65_536] {
            for id in ["", "a", "hourly-report", "élan", "x".repeat(1_000).as_str()] {
                let p = partition_of(id, partitions);
                assert!(p < partitions.max(1), "{id:?} in {partitions}: {p}");
                assert_eq!(p, partition_of(id, partitions), "deterministic");
            }
        }
    }

    #[test]
    fn ids_spread_evenly() {
        // 64 000 ids over 64 partitions: 1 000 expected each; a binomial count's standard
        // deviation is about 31, so ±150 is a bound a fair hash never nears.
        let mut counts = [0u32; 64];
        for i in 0..64_000 {
            counts[partition_of(&format!("schedule-{i}"), 64) as usize] += 1;
        }
        for (partition, count) in counts.iter().enumerate() {
            assert!(
                (850..=1_150).contains(count),
                "partition {partition}: {count}"
            );
        }
    }
}
