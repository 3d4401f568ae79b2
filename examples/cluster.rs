//! Several machines: one set of schedules shared by three node processes on one PostgreSQL
//! database. Each schedule runs on exactly one node; when a node is killed (SIGKILL, no goodbye)
//! its schedules move to the others once its leases expire, and the times that came due
//! meanwhile are caught up there.
//!
//! This program is both the demo and its nodes: it starts itself three times as `node <name>`,
//! creates six schedules from a client that hosts nothing (every verb goes to the owning node),
//! kills one node, and shows who runs what before and after.
//!
//! ```text
//! SE_POSTGRES_URL=postgresql://me@localhost/mydb cargo run --example cluster --features postgres
//! cargo run --example cluster --features postgres   # starts a throwaway PostgreSQL (needs the
//!                                                   # server binaries, Debian's `postgresql`)
//! ```

#![allow(clippy::disallowed_methods)] // an example runs on the real clock

#[path = "../tests/util/pg.rs"]
mod pg;

use std::collections::BTreeMap;
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use schedule_engine::{
    Client, ClusterConfig, PostgresCluster, Schedule, ScheduleActionStartWorkflow, ScheduleError,
    ScheduleIntervalSpec, ScheduleSpec, Worker, WorkflowContext, WorkflowRegistry,
};

/// A short lease, so that the demo's takeover takes seconds (the default is 10 s).
const LEASE: Duration = Duration::from_secs(2);

fn config(node: &str) -> ClusterConfig {
    ClusterConfig {
        node_id: node.into(),
        partitions: 16,
        lease: LEASE,
        ..Default::default()
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [mode, name, url] if mode == "node" => node(name, url),
        [] => demo(),
        _ => {
            eprintln!("usage: cluster (the nodes are started by the demo itself)");
            std::process::exit(2);
        }
    }
}

/// One node: a client in cluster mode and a worker, until its standard input closes.
fn node(name: &str, url: &str) -> Result<(), Box<dyn std::error::Error>> {
    let cluster = PostgresCluster::connect(url, config(name))?;
    let client = Client::builder().cluster(cluster).build()?;
    let me = name.to_owned();
    let registry = WorkflowRegistry::new().register("report", move |ctx: WorkflowContext| {
        println!("        {me} runs {}", ctx.workflow_id());
        Ok(())
    });
    let worker = Worker::start(&client, registry);
    // The demo closes our input to stop us gracefully (or kills us).
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    // Writes this node's partitions and releases them at once.
    worker.shutdown();
    Ok(())
}

fn demo() -> Result<(), Box<dyn std::error::Error>> {
    let (url, _server) = match std::env::var("SE_POSTGRES_URL") {
        Ok(url) => (url, None),
        Err(_) => {
            println!("SE_POSTGRES_URL is not set: starting a throwaway PostgreSQL");
            let server = pg::PgServer::start();
            (server.create_database(), Some(server))
        }
    };
    let began = Instant::now();
    let say = |what: &str| println!("{:>5.1}s {what}", began.elapsed().as_secs_f64());

    let mut nodes: BTreeMap<&str, Child> = BTreeMap::new();
    for name in ["web-1", "web-2", "web-3"] {
        let child = Command::new(std::env::current_exe()?)
            .args(["node", name, &url])
            .stdin(Stdio::piped())
            .spawn()?;
        nodes.insert(name, child);
    }
    say("started nodes web-1, web-2 and web-3");

    // A client that hosts nothing: it never starts a worker.
    let cluster = PostgresCluster::connect(&url, config("demo"))?;
    let client = Client::builder().cluster(cluster.clone()).build()?;
    let ids: Vec<String> = (1..=6).map(|n| format!("report-{n}")).collect();
    for id in &ids {
        match client.create_schedule(id, every_3s(id)) {
            Ok(_) | Err(ScheduleError::AlreadyExists { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    say("created report-1 .. report-6, every 3 s, from a client that hosts nothing");

    std::thread::sleep(Duration::from_secs(5));
    let before = owners(&cluster, &ids)?;
    say(&format!("who runs what: {before:?}"));

    let victim = "web-1";
    if let Some(mut child) = nodes.remove(victim) {
        child.kill()?; // SIGKILL: its leases are left to expire
        child.wait()?;
    }
    let moving: Vec<&String> = ids.iter().filter(|id| before[*id] == victim).collect();
    say(&format!(
        "killed {victim}; its schedules {moving:?} move once its leases expire"
    ));

    std::thread::sleep(LEASE * 3);
    let after = owners(&cluster, &ids)?;
    say(&format!("who runs what: {after:?}"));
    for id in &moving {
        let d = client.get_schedule_handle(id).describe()?;
        say(&format!(
            "{id}: on {}, {} runs in all, the last at {}",
            after[*id],
            d.info.num_actions,
            d.info
                .recent_actions
                .last()
                .map_or("-".to_string(), |a| a.scheduled_at.to_string())
        ));
    }
    let lost = after.values().filter(|owner| *owner == victim).count();

    for id in &ids {
        client.get_schedule_handle(id).delete()?;
    }
    for (_, mut child) in nodes {
        drop(child.stdin.take()); // the node shuts down gracefully
        child.wait()?;
    }
    say("deleted the schedules, stopped the nodes");
    if lost > 0 {
        return Err(format!("{lost} schedules still on the killed node").into());
    }
    Ok(())
}

/// Which node holds each schedule now (its partition's lease holder, by node id).
fn owners(
    cluster: &PostgresCluster,
    ids: &[String],
) -> Result<BTreeMap<String, String>, schedule_engine::StoreError> {
    let partitions = cluster.partition_owners()?;
    Ok(ids
        .iter()
        .map(|id| {
            let holder = partitions
                .iter()
                .find(|p| p.partition == cluster.partition_of(id))
                .and_then(|p| p.owner.as_deref())
                .and_then(|member| member.split('/').next())
                .unwrap_or("nobody");
            (id.clone(), holder.to_string())
        })
        .collect())
}

fn every_3s(id: &str) -> Schedule {
    Schedule::new(
        ScheduleActionStartWorkflow::workflow("report")
            .id(id)
            .task_queue("reports"),
        ScheduleSpec {
            intervals: vec![ScheduleIntervalSpec::new(Duration::from_secs(3))],
            ..Default::default()
        },
    )
}
