//! [`ClusterConfig`]: who this node is, how the schedules are split, how long a lease lasts; and
//! the timings derived from it.

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::store::{StoreError, StoreErrorKind};

/// The most partitions a cluster may have (partition numbers are stored as 32-bit integers, and
/// more partitions than this only add per-partition overhead).
pub const MAX_PARTITIONS: u32 = 65_536;

/// How a node takes part in a cluster: give it to [`PostgresCluster::connect`].
///
/// Every node of a cluster must use the same `partitions` (it is stored in the database at the
/// first connect; a mismatch is an error) and should use the same `lease`.
///
/// ```
/// use std::time::Duration;
/// use schedule_engine::ClusterConfig;
///
/// let config = ClusterConfig {
///     node_id: "web-1".into(),
///     lease: Duration::from_secs(5),
///     ..Default::default()
/// };
/// assert_eq!(config.partitions, 64);
/// assert!(config.renew_interval.is_none()); // derived from the lease: every 5 s / 3
///
/// // From a config file: absent fields keep their defaults; durations read as in `Schedule`.
/// let from_file: ClusterConfig = serde_json::from_str(r#"{"node_id": "web-1", "lease": "5s"}"#)?;
/// assert_eq!(from_file, config);
/// # Ok::<(), serde_json::Error>(())
/// ```
///
/// [`PostgresCluster::connect`]: crate::PostgresCluster::connect
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClusterConfig {
    /// A name for this node, shown as the owner of its partitions. It need not be unique: each
    /// process adds a random suffix to form its member id, so two processes never share leases
    /// even under one name (the default is `<host name>-<process id>`).
    pub node_id: String,
    /// How many partitions the schedules are hashed into (default 64). Fixed for a database:
    /// the first node to connect stores it, and every later node must use the same value.
    /// Partitions are the unit of ownership and of balancing, so a cluster spreads evenly over
    /// at most this many nodes.
    pub partitions: u32,
    /// How long a partition's lease lasts without renewal (default 10 s), judged by the
    /// database's clock. A crashed node's partitions move to other nodes within about
    /// `lease + renew interval`.
    #[serde(deserialize_with = "crate::spec::serde_duration::lease")]
    pub lease: Duration,
    /// How often leases are renewed and the partitions rebalanced; `None` (the default) means a
    /// third of the lease, so that two renewals can fail before a lease is at risk. At most half
    /// the lease.
    #[serde(deserialize_with = "crate::spec::serde_duration::renew_interval")]
    pub renew_interval: Option<Duration>,
    /// How long a verb issued on a node that does not own the schedule's partition waits for the
    /// owner to apply it; `None` (the default) means twice the lease, long enough for a crashed
    /// owner's partition to be taken over and the command applied by the new owner.
    #[serde(deserialize_with = "crate::spec::serde_duration::command_timeout")]
    pub command_timeout: Option<Duration>,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            node_id: default_node_id(),
            partitions: 64,
            lease: Duration::from_secs(10),
            renew_interval: None,
            command_timeout: None,
        }
    }
}

/// The timings a node runs on, resolved from its [`ClusterConfig`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timing {
    pub lease: Duration,
    pub renew_interval: Duration,
    /// A lease counts as held locally until `renewal sent + lease - margin`: the database's
    /// expiry is at least `renewal sent + lease`, so the node stops dispatching before the
    /// database could hand the partition to anyone else, even if its clock runs a little fast.
    pub margin: Duration,
    pub command_timeout: Duration,
}

impl ClusterConfig {
    /// Checks the settings and derives the timings.
    pub(crate) fn timing(&self) -> Result<Timing, StoreError> {
        let bad = |detail: String| {
            Err(StoreError::new(
                None,
                StoreErrorKind::Misconfigured { detail },
            ))
        };
        if self.node_id.is_empty() || self.node_id.len() > 200 {
            return bad(format!(
                "node_id must be 1 to 200 bytes long, not {}",
                self.node_id.len()
            ));
        }
        if self.partitions == 0 || self.partitions > MAX_PARTITIONS {
            return bad(format!(
                "partitions must be between 1 and {MAX_PARTITIONS}, not {}",
                self.partitions
            ));
        }
        if self.lease < Duration::from_millis(100) || self.lease > Duration::from_secs(3600) {
            return bad(format!(
                "lease must be between 100 ms and 1 hour, not {:?}",
                self.lease
            ));
        }
        let renew_interval = self.renew_interval.unwrap_or(self.lease / 3);
        if renew_interval.is_zero() || renew_interval > self.lease / 2 {
            return bad(format!(
                "renew_interval must be positive and at most half the lease ({:?}), not {:?}",
                self.lease / 2,
                renew_interval
            ));
        }
        let command_timeout = self.command_timeout.unwrap_or(self.lease * 2);
        if command_timeout.is_zero() {
            return bad("command_timeout must be positive".into());
        }
        Ok(Timing {
            lease: self.lease,
            renew_interval,
            margin: self.lease / 5,
            command_timeout,
        })
    }
}

/// `<host name>-<process id>`: recognisable in the partitions table, and distinct for the
/// processes of one machine.
fn default_node_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".to_string());
    format!("{host}-{}", std::process::id())
}

/// A 64-bit value that differs between processes and between calls (the standard library seeds
/// each `RandomState` from the operating system's randomness).
pub(crate) fn random_u64() -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_derive_from_the_lease() {
        let config = ClusterConfig {
            lease: Duration::from_secs(6),
            ..Default::default()
        };
        let timing = config.timing().unwrap();
        assert_eq!(timing.renew_interval, Duration::from_secs(2));
        assert_eq!(timing.command_timeout, Duration::from_secs(12));
        assert!(timing.margin < timing.lease - timing.renew_interval * 2);
        assert!(config
            .node_id
            .ends_with(&format!("-{}", std::process::id())));
    }

    #[test]
    fn bad_settings_are_errors() {
        let cases = [
            ClusterConfig {
                partitions: 0,
                ..Default::default()
            },
            ClusterConfig {
                partitions: MAX_PARTITIONS + 1,
                ..Default::default()
            },
            ClusterConfig {
                lease: Duration::from_millis(10),
                ..Default::default()
            },
            ClusterConfig {
                renew_interval: Some(Duration::from_secs(6)),
                ..Default::default()
            },
            ClusterConfig {
                node_id: String::new(),
                ..Default::default()
            },
            ClusterConfig {
                command_timeout: Some(Duration::ZERO),
                ..Default::default()
            },
        ];
        for config in cases {
            let e = config.timing().unwrap_err();
            assert!(
                matches!(e.kind, StoreErrorKind::Misconfigured { .. }),
                "{config:?}: {e}"
            );
        }
    }

    #[test]
    fn random_values_differ() {
        assert_ne!(random_u64(), random_u64());
    }
}
