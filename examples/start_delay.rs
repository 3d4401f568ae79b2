//! Start a workflow after a delay (Temporal: `client.start_workflow(..., start_delay=...)`): one
//! run, once, when the delay has passed. Real time: it takes a second.

#![allow(clippy::disallowed_methods)] // an example runs on the real clock

use std::time::{Duration, Instant};

use schedule_engine::{Client, StartWorkflowOptions, Worker, WorkflowContext, WorkflowRegistry};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = Client::new();
    let (done_tx, done) = std::sync::mpsc::channel();
    let done_tx = std::sync::Mutex::new(done_tx);
    let began = Instant::now();
    let registry =
        WorkflowRegistry::new().register("send-reminder", move |ctx: WorkflowContext| {
            let to: String = ctx.arg(0)?;
            println!(
                "  {:>5} ms: reminded {to} ({})",
                began.elapsed().as_millis(),
                ctx.workflow_id()
            );
            let _ = done_tx.lock().map(|tx| tx.send(()));
            Ok(())
        });
    let worker = Worker::start(&client, registry);

    client.start_workflow(StartWorkflowOptions {
        workflow: "send-reminder".into(),
        args: vec![serde_json::json!("ada@example.com")],
        id: "reminder-42".into(),
        task_queue: "mail".into(),
        start_delay: Some(Duration::from_secs(1)),
        ..Default::default()
    })?;
    println!("started reminder-42 with a 1 s start delay");
    done.recv_timeout(Duration::from_secs(10))?;
    worker.shutdown();
    Ok(())
}
