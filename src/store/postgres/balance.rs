//! Balancing: which partitions this node should take or give back so that the partitions spread
//! evenly over the live nodes (max − min ≤ 1).
//!
//! Every node heartbeats a row in `se_nodes` with the same expiry as its leases, and computes the
//! same targets from the same list of live members: with `n` partitions and `m` members sorted by
//! member id, each gets `n / m`, and the first `n % m` one more. A node above its target asks its
//! host to give partitions back (after a flush, so that the hand-over loses nothing); a node below
//! it takes free or expired partitions. Targets add up to `n`, so once every node has seen the
//! same membership, each partition has exactly one place to go.
//!
//! [`plan`] is a pure function of what one round read from the database.

use super::conn::Conn;

const HEARTBEAT: &str = "INSERT INTO se_nodes (member, node_id, expires_at) \
     VALUES ($1, $2, now() + $3::float8 * interval '1 millisecond') \
     ON CONFLICT (member) DO UPDATE SET expires_at = excluded.expires_at \
     RETURNING clock_timestamp()";

const MEMBERS: &str =
    "SELECT member FROM se_nodes WHERE expires_at > now() ORDER BY member COLLATE \"C\"";

const PARTITIONS: &str = "SELECT partition, owner, \
     (owner IS NOT NULL AND lease_expires_at > now()) AS live \
     FROM se_partitions ORDER BY partition";

const LEAVE: &str = "WITH gone AS (DELETE FROM se_nodes WHERE member = $1 RETURNING member) \
     SELECT pg_notify('se_partitions', 'left') FROM gone";

const JOINED: &str = "SELECT pg_notify('se_partitions', 'joined')";

/// Rows of members dead this long are removed by whichever node notices.
const PURGE: &str = "DELETE FROM se_nodes WHERE expires_at < now() - interval '1 hour'";

/// Records that this member is alive for another `lease`; returns the server's clock reading.
pub(crate) fn heartbeat(
    conn: &mut Conn,
    member: &str,
    node_id: &str,
    lease: std::time::Duration,
) -> Result<chrono::DateTime<chrono::Utc>, postgres::Error> {
    let statement = conn.prepared(HEARTBEAT)?;
    let millis = lease.as_secs_f64() * 1000.0;
    let row = conn
        .client
        .query_one(&statement, &[&member, &node_id, &millis])?;
    Ok(row.get(0))
}

/// Tells the other members that one joined, so that they give partitions back at once rather
/// than at their next round.
pub(crate) fn announce(conn: &mut Conn) -> Result<(), postgres::Error> {
    let statement = conn.prepared(JOINED)?;
    conn.client.query(&statement, &[])?;
    Ok(())
}

/// Removes this member (a graceful leave) and tells the others to rebalance at once.
pub(crate) fn leave(conn: &mut Conn, member: &str) -> Result<(), postgres::Error> {
    let statement = conn.prepared(LEAVE)?;
    conn.client.query(&statement, &[&member])?;
    Ok(())
}

/// Removes long-dead members' rows.
pub(crate) fn purge(conn: &mut Conn) -> Result<(), postgres::Error> {
    let statement = conn.prepared(PURGE)?;
    conn.client.execute(&statement, &[])?;
    Ok(())
}

/// What one balancing round reads: the live members and who holds each partition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct View {
    /// Live member ids, sorted.
    pub members: Vec<String>,
    /// Partitions nobody holds (free, or their lease expired).
    pub free: Vec<u32>,
}

pub(crate) fn read_view(conn: &mut Conn) -> Result<View, postgres::Error> {
    let members = conn.prepared(MEMBERS)?;
    let partitions = conn.prepared(PARTITIONS)?;
    let members = conn
        .client
        .query(&members, &[])?
        .iter()
        .map(|r| r.get::<_, String>(0))
        .collect();
    let free = conn
        .client
        .query(&partitions, &[])?
        .iter()
        .filter(|r| !r.get::<_, bool>(2))
        .filter_map(|r| u32::try_from(r.get::<_, i32>(0)).ok())
        .collect();
    Ok(View { members, free })
}

/// What a node should do this round.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Free partitions to acquire, in the order to try them.
    pub take: Vec<u32>,
    /// Held partitions to give back.
    pub give: Vec<u32>,
}

/// How many of `partitions` the member `me` should hold, given the live `members` in any
/// order (`me` counts as live even if its heartbeat is not visible yet).
pub(crate) fn target(me: &str, members: &[String], partitions: u32) -> u32 {
    // Every node must rank the members alike, by bytes. `MEMBERS` asks the database for byte
    // order (`COLLATE "C"`: a locale such as en_US would not give it); the ranking sorts
    // again so that it does not rest on the query.
    let mut members: Vec<&str> = members.iter().map(String::as_str).collect();
    members.sort_unstable();
    if let Err(i) = members.binary_search(&me) {
        members.insert(i, me);
    }
    let count = u32::try_from(members.len()).unwrap_or(u32::MAX);
    let index = members.binary_search(&me).unwrap_or(0);
    let index = u32::try_from(index).unwrap_or(u32::MAX);
    partitions / count + u32::from(index < partitions % count)
}

/// The round's plan for `me`, holding `held` (sorted), given `view`. Free partitions are tried
/// from an offset that depends on the member, so that nodes taking partitions at the same moment
/// mostly try different ones.
pub(crate) fn plan(me: &str, held: &[u32], view: &View, partitions: u32) -> Plan {
    let target = target(me, &view.members, partitions) as usize;
    let mut plan = Plan::default();
    if held.len() > target {
        // Give back the most recently numbered ones: any choice works, a stable one is easier
        // to follow in the partitions table.
        plan.give = held[target..].to_vec();
    } else if held.len() < target && !view.free.is_empty() {
        let start = (farmhash::fingerprint64(me.as_bytes()) % view.free.len() as u64) as usize;
        plan.take = view.free[start..]
            .iter()
            .chain(&view.free[..start])
            .copied()
            .take(target - held.len())
            .collect();
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn members(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn targets_add_up_and_differ_by_at_most_one() {
        for partitions in [1, 7, 16, 64, 65] {
            for m in 1..=9 {
                let names: Vec<String> = (0..m).map(|i| format!("node-{i}")).collect();
                let targets: Vec<u32> = names
                    .iter()
                    .map(|me| target(me, &names, partitions))
                    .collect();
                assert_eq!(targets.iter().sum::<u32>(), partitions, "{partitions}/{m}");
                let (min, max) = (targets.iter().min(), targets.iter().max());
                assert!(max.unwrap() - min.unwrap() <= 1, "{targets:?}");
            }
        }
    }

    #[test]
    fn targets_do_not_depend_on_the_order_of_the_list() {
        // en_US collation orders case-insensitively ("alpha" < "Bravo" < "charlie"); byte
        // order puts "Bravo" first. Every member must still get the same share either way.
        let collated = members(&["alpha", "Bravo", "charlie"]);
        let bytes = members(&["Bravo", "alpha", "charlie"]);
        for me in ["alpha", "Bravo", "charlie"] {
            assert_eq!(target(me, &collated, 5), target(me, &bytes, 5), "{me}");
        }
        let sum: u32 = ["alpha", "Bravo", "charlie"]
            .iter()
            .map(|me| target(me, &collated, 5))
            .sum();
        assert_eq!(sum, 5);
    }

    #[test]
    fn a_member_not_yet_listed_counts_itself() {
        assert_eq!(target("b", &members(&["a"]), 10), 5);
        assert_eq!(target("a", &members(&[]), 10), 10);
    }

    /// Independent of `plan`'s arithmetic: rounds of every member planning on the same view,
    /// applied in turn, must end with every partition held once and max − min ≤ 1.
    #[test]
    fn rounds_of_plans_converge() {
        let partitions = 16u32;
        for joined in 1..=4usize {
            let names: Vec<String> = (0..joined).map(|i| format!("m{i}")).collect();
            // Start from the worst case: the first member holds everything.
            let mut owner: BTreeMap<u32, Option<String>> = (0..partitions)
                .map(|p| (p, Some(names[0].clone())))
                .collect();
            for _round in 0..4 {
                for me in &names {
                    let held: Vec<u32> = owner
                        .iter()
                        .filter(|(_, o)| o.as_deref() == Some(me.as_str()))
                        .map(|(p, _)| *p)
                        .collect();
                    let view = View {
                        members: names.clone(),
                        free: owner
                            .iter()
                            .filter(|(_, o)| o.is_none())
                            .map(|(p, _)| *p)
                            .collect(),
                    };
                    let plan = plan(me, &held, &view, partitions);
                    for p in plan.give {
                        owner.insert(p, None);
                    }
                    for p in plan.take {
                        assert!(owner[&p].is_none(), "took a held partition");
                        owner.insert(p, Some(me.clone()));
                    }
                }
            }
            let mut counts: BTreeMap<&str, usize> = names.iter().map(|n| (n.as_str(), 0)).collect();
            for o in owner.values() {
                *counts
                    .get_mut(o.as_deref().expect("every partition held"))
                    .unwrap() += 1;
            }
            let (min, max) = (
                counts.values().min().unwrap(),
                counts.values().max().unwrap(),
            );
            assert!(max - min <= 1, "{joined} members: {counts:?}");
        }
    }
}
