//! The engine's decisions as `tracing` events, seen by a small capturing subscriber (written
//! here against `tracing`'s own `Subscriber` trait: no subscriber crate needed).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use parking_lot::Mutex;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

use crate::util::engine::*;
use schedule_engine::{ScheduleOverlapPolicy as P, Scheduler};

/// One captured event: its level, its message and its other fields, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    level: Level,
    message: String,
    fields: BTreeMap<String, String>,
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Seen>>>);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        let message = fields.remove("message").unwrap_or_default();
        self.0.lock().push(Seen {
            level: *event.metadata().level(),
            message,
            fields,
        });
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

fn seen(level: Level, message: &str, fields: &[(&str, &str)]) -> Seen {
    Seen {
        level,
        message: message.to_owned(),
        fields: fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

#[test]
fn fires_skips_pauses_and_failures_are_traced_without_recording() {
    // The SKIP timeline (docs/semantics.md, overlap table): 00:05 runs until 00:12 and fails,
    // 00:10 is skipped; then a pause with a note. Events are not being recorded: tracing
    // alone wants them.
    let capture = Capture::default();
    let mut s = Scheduler::default();
    tracing::subscriber::with_default(capture.clone(), || {
        s.create_schedule(
            "sched",
            interval(mins(5), mins(0), P::Skip),
            t("2022-06-01T00:00:00Z"),
        )
        .unwrap();
        let _ = s.poll(t("2022-06-01T00:05:00Z"));
        let _ = s.poll(t("2022-06-01T00:10:00Z"));
        let failed = schedule_engine::WorkflowOutcome::Failed {
            message: "boom".into(),
        };
        s.workflow_closed(
            "myid-2022-06-01T00:05:00Z",
            failed,
            t("2022-06-01T00:12:00Z"),
        )
        .unwrap();
        s.pause("sched", Some("look into it"), t("2022-06-01T00:13:00Z"))
            .unwrap();
    });
    assert!(!s.records_events());
    assert!(s.take_events().is_empty());
    let id = ("schedule_id", "sched");
    assert_eq!(
        *capture.0.lock(),
        vec![
            seen(
                Level::DEBUG,
                "schedule created",
                &[id, ("at", "2022-06-01 00:00:00 UTC")]
            ),
            seen(
                Level::TRACE,
                "run started",
                &[
                    id,
                    ("workflow_id", "myid-2022-06-01T00:05:00Z"),
                    ("nominal_time", "2022-06-01 00:05:00 UTC"),
                    ("manual", "false"),
                    ("at", "2022-06-01 00:05:00 UTC"),
                ]
            ),
            seen(
                Level::DEBUG,
                "start skipped by overlap policy",
                &[
                    id,
                    ("nominal_time", "2022-06-01 00:10:00 UTC"),
                    ("at", "2022-06-01 00:10:00 UTC"),
                ]
            ),
            seen(
                Level::DEBUG,
                "run failed",
                &[
                    id,
                    ("workflow_id", "myid-2022-06-01T00:05:00Z"),
                    ("outcome", "Failed { message: \"boom\" }"),
                    ("at", "2022-06-01 00:12:00 UTC"),
                ]
            ),
            seen(
                Level::DEBUG,
                "schedule paused",
                &[
                    id,
                    ("note", "look into it"),
                    ("at", "2022-06-01 00:13:00 UTC")
                ]
            ),
        ]
    );
}

#[test]
fn nothing_is_traced_outside_a_subscriber() {
    // The capture sees only what happens inside its scope: the scheduler's decisions before
    // and after it go nowhere.
    let capture = Capture::default();
    let mut s = hourly_skip("sched");
    let _ = s.poll(t("2022-06-01T01:00:00Z"));
    s.workflow_closed(
        "myid-2022-06-01T01:00:00Z",
        done(),
        t("2022-06-01T01:30:00Z"),
    )
    .unwrap();
    tracing::subscriber::with_default(capture.clone(), || {
        let _ = s.poll(t("2022-06-01T02:00:00Z"));
    });
    let _ = s.poll(t("2022-06-01T03:00:00Z"));
    let messages: Vec<String> = capture.0.lock().iter().map(|e| e.message.clone()).collect();
    assert_eq!(messages, ["run started"]);
}
