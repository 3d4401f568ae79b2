//! A capturing `tracing` subscriber, written here so the tests need no subscriber crate: it
//! keeps each event with its level, message and fields, and the fields of the spans entered on
//! its thread. Installed once as the global default (events come from worker threads too);
//! it keeps only events that mention an id with the caller's prefix, so tests running beside
//! it, each with its own ids, do not mix.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// What the ids of traced tests start with.
pub const PREFIX: &str = "traced-";

/// One captured event: its level and its fields (`message` among them), span fields first.
#[derive(Debug, Clone, PartialEq)]
pub struct Captured {
    pub level: Level,
    /// The module the event came from.
    pub target: String,
    pub fields: BTreeMap<String, String>,
}

impl Captured {
    pub fn message(&self) -> &str {
        self.fields.get("message").map_or("", String::as_str)
    }

    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

/// The client's and the worker's events captured so far (targets under
/// `schedule_engine::client`: the engine's own decisions are traced too, and tested in
/// `engine::traced`) that mention an id starting with `prefix`, in order.
pub fn captured(prefix: &str) -> Vec<Captured> {
    capture()
        .events
        .lock()
        .iter()
        .filter(|e| e.target.starts_with("schedule_engine::client"))
        .filter(|e| e.fields.values().any(|v| v.starts_with(prefix)))
        .cloned()
        .collect()
}

/// Installs the capturing subscriber (once per process); call before the code under test.
pub fn capture() -> &'static Arc<Capture> {
    static CAPTURE: OnceLock<Arc<Capture>> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture = Arc::new(Capture::default());
        tracing::subscriber::set_global_default(Forward(capture.clone()))
            .expect("no other global subscriber in this binary");
        capture
    })
}

#[derive(Default)]
pub struct Capture {
    next_span: AtomicU64,
    spans: Mutex<HashMap<u64, Vec<(String, String)>>>,
    events: Mutex<Vec<Captured>>,
}

thread_local! {
    static ENTERED: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

/// Collects fields as strings (strings without quotes).
struct Fields<'a>(&'a mut Vec<(String, String)>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name().to_owned(), value.to_owned()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }
}

/// The subscriber itself: a handle on the shared capture.
struct Forward(Arc<Capture>);

impl Subscriber for Forward {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let id = self.0.next_span.fetch_add(1, Ordering::Relaxed) + 1;
        let mut fields = Vec::new();
        attrs.record(&mut Fields(&mut fields));
        self.0.spans.lock().insert(id, fields);
        Id::from_u64(id)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        if let Some(fields) = self.0.spans.lock().get_mut(&span.into_u64()) {
            values.record(&mut Fields(fields));
        }
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = Vec::new();
        ENTERED.with(|entered| {
            let spans = self.0.spans.lock();
            for id in entered.borrow().iter() {
                fields.extend(spans.get(id).into_iter().flatten().cloned());
            }
        });
        event.record(&mut Fields(&mut fields));
        if !fields.iter().any(|(_, v)| v.starts_with(PREFIX)) {
            return;
        }
        self.0.events.lock().push(Captured {
            level: *event.metadata().level(),
            target: event.metadata().target().to_owned(),
            fields: fields.into_iter().collect(),
        });
    }

    fn enter(&self, span: &Id) {
        ENTERED.with(|entered| entered.borrow_mut().push(span.into_u64()));
    }

    fn exit(&self, span: &Id) {
        ENTERED.with(|entered| {
            let mut entered = entered.borrow_mut();
            if let Some(at) = entered.iter().rposition(|id| *id == span.into_u64()) {
                entered.remove(at);
            }
        });
    }

    fn try_close(&self, span: Id) -> bool {
        self.0.spans.lock().remove(&span.into_u64());
        true
    }
}
