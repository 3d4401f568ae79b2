//! Balancing: partitions spread over the live nodes with max − min ≤ 1 within two lease periods
//! after a node joins, leaves gracefully, or is killed.

use std::collections::BTreeMap;
use std::time::Duration;

use schedule_engine::PostgresCluster;

use super::host::{spawn_child, Host};
use super::pg_util::PgServer;
use super::{connect, wait_within};

const PARTITIONS: u32 = 16;
const LEASE_MS: u64 = 1_500;

/// Whether every partition is held by one of `members` and the counts differ by at most one.
fn balanced(observer: &PostgresCluster, members: &[String]) -> bool {
    let Ok(owners) = observer.partition_owners() else {
        return false;
    };
    let mut counts: BTreeMap<&str, usize> = members.iter().map(|m| (m.as_str(), 0)).collect();
    for owner in &owners {
        match owner.owner.as_deref().and_then(|o| counts.get_mut(o)) {
            Some(count) => *count += 1,
            None => return false,
        }
    }
    let (min, max) = (counts.values().min(), counts.values().max());
    matches!((min, max), (Some(min), Some(max)) if max - min <= 1)
}

fn settle(observer: &PostgresCluster, members: &[String], what: &str) -> Duration {
    let limit = Duration::from_millis(2 * LEASE_MS);
    let took = wait_within(limit, what, || balanced(observer, members));
    eprintln!("balance: {what}: {took:?}");
    took
}

#[test]
fn partitions_spread_evenly_as_nodes_join_and_leave() {
    let url = PgServer::shared().create_database();
    let observer = connect(&url, "observer", LEASE_MS, PARTITIONS);
    let mut hosts: Vec<Host> = Vec::new();
    let mut members: Vec<String> = Vec::new();
    for i in 1..=3 {
        let host = Host::start(
            connect(&url, &format!("n{i}"), LEASE_MS, PARTITIONS),
            Duration::ZERO,
        );
        members.push(host.cluster.member_id().to_string());
        hosts.push(host);
        settle(&observer, &members, &format!("{i} node(s) after a join"));
    }
    // A fourth node, in a process of its own so that it can be killed.
    let child = spawn_child("node", &url, LEASE_MS, PARTITIONS);
    let line = child
        .lines
        .recv_timeout(Duration::from_secs(10))
        .expect("child member id");
    let child_member = line
        .strip_prefix("member ")
        .expect("member line")
        .to_string();
    members.push(child_member.clone());
    settle(&observer, &members, "4 nodes after a join");
    let counts: Vec<usize> = members.iter().map(|m| owned_by(&observer, m)).collect();
    assert_eq!(counts, vec![4, 4, 4, 4]);

    // Graceful leave: its partitions are released and taken at once.
    let leaving = hosts.remove(1);
    members.retain(|m| m != leaving.cluster.member_id());
    leaving.shutdown();
    let took = settle(&observer, &members, "3 nodes after a graceful leave");
    assert!(
        took < Duration::from_millis(LEASE_MS),
        "a release needs no expiry: {took:?}"
    );

    // Killed: its leases expire, and the survivors take its partitions.
    child.signal("KILL");
    members.retain(|m| *m != child_member);
    settle(&observer, &members, "2 nodes after a kill");
    drop(child);

    // Down to one, then back to two.
    let leaving = hosts.pop().unwrap();
    members.retain(|m| m != leaving.cluster.member_id());
    leaving.shutdown();
    settle(&observer, &members, "1 node after a graceful leave");
    assert_eq!(owned_by(&observer, &members[0]), PARTITIONS as usize);
    let host = Host::start(connect(&url, "n5", LEASE_MS, PARTITIONS), Duration::ZERO);
    members.push(host.cluster.member_id().to_string());
    hosts.push(host);
    settle(&observer, &members, "2 nodes after a join");
    for host in hosts {
        host.shutdown();
    }
    assert!(
        observer
            .partition_owners()
            .unwrap()
            .iter()
            .all(|o| o.owner.is_none()),
        "all released"
    );
}

fn owned_by(observer: &PostgresCluster, member: &str) -> usize {
    observer
        .partition_owners()
        .unwrap()
        .iter()
        .filter(|o| o.owner.as_deref() == Some(member))
        .count()
}
