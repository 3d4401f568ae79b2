//! Schedules from config files: every duration form (`600`, `"10m"`, serde's own), the action
//! without its tag, errors that name the field, and records stored by earlier versions
//! (the JSON below was written by the engine at main 7209564, before any of this existed).

use std::time::Duration;

use schedule_engine::snapshot::SchedulerSnapshot;
use schedule_engine::{
    Action, Schedule, ScheduleAction, ScheduleActionStartWorkflow, ScheduleIntervalSpec,
    SchedulePolicy, ScheduleSpec, Scheduler, SchedulerConfig, StartWorkflowOptions,
    WorkflowExecutionStatus, WorkflowOutcome,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

/// A snapshot as `serde_json::to_string(&scheduler.snapshot())` wrote it at main 7209564: one
/// schedule (interval 600 s offset 90 s, jitter 30 s, catch-up window 300 s, execution timeout
/// 3600 s, run timeout 1.5 s) with a run in flight, and one start delayed by an hour (run
/// timeout 120 s).
const OLD_SNAPSHOT: &str = r#"{"schedules":[{"id":"reports","schedule":{"action":{"StartWorkflow":{"workflow":"report","args":[],"id":"daily","task_queue":"reports","execution_timeout":{"secs":3600,"nanos":0},"run_timeout":{"secs":1,"nanos":500000000},"task_timeout":null,"memo":{}}},"spec":{"calendars":[],"intervals":[{"every":{"secs":600,"nanos":0},"offset":{"secs":90,"nanos":0}}],"cron_expressions":[],"skip":[],"start_at":null,"end_at":null,"jitter":{"secs":30,"nanos":0},"time_zone_name":null,"dst":{"nonexistent":"Skip","repeated":"Both"},"interval_anchor":"Epoch"},"policy":{"overlap":"Skip","catchup_window":{"secs":300,"nanos":0},"pause_on_failure":false},"state":{"note":null,"paused":false,"remaining_actions":null}},"conflict_token":1,"created_at":"2022-06-01T00:00:00Z","last_updated_at":null,"high_water_mark":"2022-06-01T00:11:30Z","num_actions":1,"num_actions_missed_catchup_window":1,"num_actions_skipped_overlap":0,"num_actions_buffer_dropped":0,"num_actions_dropped_paused":0,"num_actions_duplicate_dropped":0,"num_actions_replaced_overlap":0,"buffer":[],"backfills":[],"running":[{"workflow_id":"daily-2022-06-01T00:11:30Z","cancel_requested":false,"terminate_requested":false}],"recent_actions":[{"scheduled_at":"2022-06-01T00:11:39.945Z","started_at":"2022-06-01T00:12:00Z","action":{"workflow_id":"daily-2022-06-01T00:11:30Z"}}],"last_completion_result":null,"last_failure":null}],"workflows":[{"workflow_id":"delayed","workflow":"later","args":[],"task_queue":"q","cron_schedule":null,"execution_timeout":null,"run_timeout":{"secs":120,"nanos":0},"task_timeout":null,"memo":{},"next_start":"2022-06-01T01:00:00Z","next_scheduled_at":"2022-06-01T01:00:00Z","last_nominal":null,"last_scheduled_at":null,"running":false,"last_completion_result":null,"last_failure":null}]}"#;

/// The start action that scheduler's poll returned, as a store keeps a pending action.
const OLD_ACTION: &str = r#"{"StartWorkflow":{"schedule_id":"reports","workflow_id":"daily-2022-06-01T00:11:30Z","workflow":"report","args":[],"task_queue":"reports","nominal_time":"2022-06-01T00:11:30Z","scheduled_at":"2022-06-01T00:11:39.945Z","manual":false,"execution_timeout":{"secs":3600,"nanos":0},"run_timeout":{"secs":1,"nanos":500000000},"task_timeout":null,"memo":{},"last_completion_result":null,"last_failure":null}}"#;

/// `SchedulerConfig::default()` as written then.
const OLD_CONFIG: &str = r#"{"max_buffer_size":1000,"retention":{"secs":604800,"nanos":0}}"#;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn from_json<T: DeserializeOwned>(value: Value) -> Result<T, String> {
    serde_json::from_str(&value.to_string()).map_err(|e| e.to_string())
}

fn round_trips<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: &T) {
    let json = serde_json::to_string(value).unwrap();
    assert_eq!(&serde_json::from_str::<T>(&json).unwrap(), value, "{json}");
}

#[test]
fn records_stored_by_earlier_versions_load_and_are_written_the_same() {
    let snapshot: SchedulerSnapshot = serde_json::from_str(OLD_SNAPSHOT).unwrap();
    let schedule = &snapshot.schedules[0].schedule;
    let action = schedule.action.start_workflow().unwrap();
    assert_eq!(
        schedule.spec.intervals[0],
        ScheduleIntervalSpec::with_offset(secs(600), secs(90))
    );
    assert_eq!(schedule.spec.jitter, Some(secs(30)));
    assert_eq!(schedule.policy.catchup_window, secs(300));
    assert_eq!(action.execution_timeout, Some(secs(3600)));
    assert_eq!(action.run_timeout, Some(Duration::from_millis(1500)));
    assert_eq!(action.task_timeout, None);
    assert_eq!(snapshot.workflows[0].run_timeout, Some(secs(120)));
    assert_eq!(serde_json::to_string(&snapshot).unwrap(), OLD_SNAPSHOT);
    // And the scheduler restored from it starts the delayed workflow at 01:00 as recorded.
    let mut s = Scheduler::restore(snapshot, SchedulerConfig::default());
    let at = "2022-06-01T01:00:00Z".parse().unwrap();
    let actions = s.poll(at);
    let started: Vec<_> = actions
        .iter()
        .filter_map(|a| match a {
            Action::StartWorkflow(a) => Some((a.workflow_id.as_str(), a.run_timeout)),
            _ => None,
        })
        .collect();
    assert!(
        started.contains(&("delayed", Some(secs(120)))),
        "{started:?}"
    );

    let pending: Action = serde_json::from_str(OLD_ACTION).unwrap();
    let Action::StartWorkflow(start) = &pending else {
        panic!("{pending:?}")
    };
    assert_eq!(start.run_timeout, Some(Duration::from_millis(1500)));
    assert_eq!(serde_json::to_string(&pending).unwrap(), OLD_ACTION);

    let config: SchedulerConfig = serde_json::from_str(OLD_CONFIG).unwrap();
    assert_eq!(config, SchedulerConfig::default());
    assert_eq!(serde_json::to_string(&config).unwrap(), OLD_CONFIG);
}

/// What a service writes in its config file, and the same schedule built in Rust.
#[test]
fn a_schedule_written_by_hand() {
    let schedule: Schedule = from_json(json!({
        "action": {"workflow": "report", "id": "daily-report", "task_queue": "reports",
                   "args": [7], "run_timeout": "10m", "execution_timeout": 3600},
        "spec": {"intervals": [{"every": "1h30m", "offset": "15m"}], "jitter": "30s",
                 "cron_expressions": ["0 9 * * MON-FRI"]},
        "policy": {"catchup_window": "1d"}
    }))
    .unwrap();
    let expected = Schedule {
        action: ScheduleAction::StartWorkflow(ScheduleActionStartWorkflow {
            args: vec![json!(7)],
            run_timeout: Some(secs(600)),
            execution_timeout: Some(secs(3600)),
            ..ScheduleActionStartWorkflow::workflow("report")
                .id("daily-report")
                .task_queue("reports")
        }),
        spec: ScheduleSpec {
            intervals: vec![ScheduleIntervalSpec::with_offset(secs(5400), secs(900))],
            jitter: Some(secs(30)),
            cron_expressions: vec!["0 9 * * MON-FRI".into()],
            ..Default::default()
        },
        policy: SchedulePolicy {
            catchup_window: secs(86_400),
            ..Default::default()
        },
        ..Default::default()
    };
    assert_eq!(schedule, expected);
    round_trips(&schedule);
}

/// Reads one duration field out of a JSON document (`None`: the field is unset).
type Reader = fn(Value) -> Result<Option<Duration>, String>;

/// Where each duration field sits in the JSON of its type, and how to read it back.
fn duration_fields() -> Vec<(&'static str, Value, Reader)> {
    fn action(v: Value) -> Value {
        json!({"action": {"workflow": "w", "id": "i", "task_queue": "q", "TIMEOUT": v}})
    }
    vec![
        (
            "every",
            json!({"spec": {"intervals": [{"every": "V"}]}}),
            |v| from_json::<Schedule>(v).map(|s| Some(s.spec.intervals[0].every)),
        ),
        (
            "offset",
            json!({"spec": {"intervals": [{"every": 86_400, "offset": "V"}]}}),
            |v| from_json::<Schedule>(v).map(|s| Some(s.spec.intervals[0].offset)),
        ),
        ("jitter", json!({"spec": {"jitter": "V"}}), |v| {
            from_json::<Schedule>(v).map(|s| s.spec.jitter)
        }),
        (
            "catchup_window",
            json!({"policy": {"catchup_window": "V"}}),
            |v| from_json::<Schedule>(v).map(|s| Some(s.policy.catchup_window)),
        ),
        (
            "execution_timeout",
            action(json!({"execution_timeout": "V"})),
            |v| {
                from_json::<Schedule>(v)
                    .map(|s| s.action.start_workflow().unwrap().execution_timeout)
            },
        ),
        ("run_timeout", action(json!({"run_timeout": "V"})), |v| {
            from_json::<Schedule>(v).map(|s| s.action.start_workflow().unwrap().run_timeout)
        }),
        ("task_timeout", action(json!({"task_timeout": "V"})), |v| {
            from_json::<Schedule>(v).map(|s| s.action.start_workflow().unwrap().task_timeout)
        }),
        ("start_delay", json!({"start_delay": "V"}), |v| {
            from_json::<StartWorkflowOptions>(v).map(|o| o.start_delay)
        }),
        (
            "execution_timeout",
            json!({"execution_timeout": "V"}),
            |v| from_json::<StartWorkflowOptions>(v).map(|o| o.execution_timeout),
        ),
        ("run_timeout", json!({"run_timeout": "V"}), |v| {
            from_json::<StartWorkflowOptions>(v).map(|o| o.run_timeout)
        }),
        ("task_timeout", json!({"task_timeout": "V"}), |v| {
            from_json::<StartWorkflowOptions>(v).map(|o| o.task_timeout)
        }),
        ("retention", json!({"retention": "V"}), |v| {
            from_json::<SchedulerConfig>(v).map(|c| Some(c.retention))
        }),
    ]
}

/// The template with its `"V"` replaced by `value` (and the action's `TIMEOUT` wrapper opened).
fn with_value(template: &Value, value: &Value) -> Value {
    match template {
        Value::String(s) if s == "V" => value.clone(),
        Value::Object(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("TIMEOUT", Value::Object(inner)) => {
                        for (k, v) in inner {
                            out.insert(k.clone(), with_value(v, value));
                        }
                    }
                    _ => {
                        out.insert(k.clone(), with_value(v, value));
                    }
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| with_value(v, value)).collect()),
        other => other.clone(),
    }
}

#[test]
fn every_duration_field_reads_every_form() {
    let forms = [
        (json!(5400), secs(5400)),
        (json!("5400"), secs(5400)),
        (json!("90m"), secs(5400)),
        (json!("1h30m"), secs(5400)),
        (json!("1.5h"), secs(5400)),
        (json!("5400s"), secs(5400)),
        (json!({"secs": 5400, "nanos": 0}), secs(5400)),
        (json!("2d"), secs(172_800)),
        (json!("250ms"), Duration::from_millis(250)),
        (
            json!({"secs": 1, "nanos": 250_000_000}),
            Duration::from_millis(1250),
        ),
    ];
    let fields = duration_fields();
    assert_eq!(fields.len(), 12);
    for (name, template, read) in &fields {
        for (form, want) in &forms {
            let doc = with_value(template, form);
            assert_eq!(read(doc.clone()), Ok(Some(*want)), "{name} = {form}: {doc}");
        }
    }
}

#[test]
fn bad_durations_name_the_field_and_say_why() {
    let bad = [
        (json!(-600), "-600 is negative"),
        (json!("-10m"), "\"-10m\" is negative"),
        (json!(1.5), "not a whole number of seconds"),
        (json!("10 minutes"), "unknown unit \" minutes\""),
        (json!("1w"), "unknown unit \"w\""),
        (json!(""), "\"\" is not a duration"),
        (json!("soon"), "\"soon\" is not a duration"),
        (json!(true), "invalid type: boolean `true`"),
        (json!([]), "a list needs [secs, nanos]"),
        (json!({"minutes": 10}), "unknown key \"minutes\""),
    ];
    for (name, template, read) in &duration_fields() {
        for (value, why) in &bad {
            let doc = with_value(template, value);
            let e = read(doc.clone()).unwrap_err();
            assert!(e.contains(&format!("`{name}`")), "{doc}: {e}");
            assert!(e.contains(why), "{doc}: {e}");
            assert!(e.contains(" at line 1 column "), "{doc}: {e}");
        }
    }
}

#[test]
fn the_action_reads_with_or_without_its_tag() {
    let fields = json!({"workflow": "report", "id": "daily", "task_queue": "reports",
                        "task_timeout": "10s"});
    let plain: ScheduleAction = from_json(fields.clone()).unwrap();
    let tagged: ScheduleAction = from_json(json!({"StartWorkflow": fields})).unwrap();
    assert_eq!(plain, tagged);
    assert_eq!(plain.start_workflow().unwrap().task_timeout, Some(secs(10)));
    // Written with its tag, as before.
    assert_eq!(
        serde_json::to_value(&plain).unwrap()["StartWorkflow"]["workflow"],
        "report"
    );
    round_trips(&plain);
    // An empty object is the default action, as an absent one is.
    assert_eq!(
        from_json::<ScheduleAction>(json!({})),
        Ok(ScheduleAction::default())
    );
    assert_eq!(
        from_json::<Schedule>(json!({"action": {}})),
        from_json::<Schedule>(json!({}))
    );
}

#[test]
fn a_misspelt_action_is_an_error_not_an_empty_action() {
    let e = from_json::<ScheduleAction>(json!({"StartWorkfow": {"workflow": "w"}})).unwrap_err();
    assert!(e.contains("unknown field `StartWorkfow`"), "{e}");
    let e =
        from_json::<Schedule>(json!({"action": {"workflow": "w", "task_queu": "q"}})).unwrap_err();
    assert!(e.contains("unknown field `task_queu`"), "{e}");
    let e = from_json::<ScheduleAction>(json!({"StartWorkflow": {}, "workflow": "w"})).unwrap_err();
    assert!(e.contains("a tagged action has one key"), "{e}");
    let e = from_json::<ScheduleAction>(json!("StartWorkflow")).unwrap_err();
    assert!(e.contains("expected an action"), "{e}");
}

#[test]
fn the_plain_action_knows_every_field() {
    // Every key the action is written with is accepted in the plain form, and the error for an
    // unknown key lists exactly those keys.
    let written = serde_json::to_value(ScheduleActionStartWorkflow {
        run_timeout: Some(secs(1)),
        ..ScheduleActionStartWorkflow::workflow("w")
            .id("i")
            .task_queue("q")
    })
    .unwrap();
    let back: ScheduleAction = from_json(written.clone()).unwrap();
    assert_eq!(
        serde_json::to_value(back.start_workflow()).unwrap(),
        written
    );
    let keys: Vec<String> = written
        .as_object()
        .unwrap()
        .keys()
        .map(|k| format!("`{k}`"))
        .collect();
    let e = from_json::<ScheduleAction>(json!({"nope": 1})).unwrap_err();
    let listed = e
        .split("expected one of ")
        .nth(1)
        .unwrap()
        .split(" at line")
        .next()
        .unwrap();
    let mut listed: Vec<&str> = listed.split(", ").collect();
    listed.sort_unstable();
    let mut keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(listed, keys, "{e}");
}

#[test]
fn formats_with_their_own_enum_syntax_read_the_tagged_form() {
    // YAML writes the tag as `!StartWorkflow`: such a format hands the action over as an enum.
    use serde::de::value::{EnumAccessDeserializer, MapAccessDeserializer, MapDeserializer};
    use serde::Deserialize;
    let inner = json!({"workflow": "w", "id": "i", "task_queue": "q", "run_timeout": "1m"});
    let entries = vec![("StartWorkflow".to_string(), inner)];
    let map = MapDeserializer::<_, serde_json::Error>::new(entries.into_iter());
    let action =
        ScheduleAction::deserialize(EnumAccessDeserializer::new(MapAccessDeserializer::new(map)))
            .unwrap();
    assert_eq!(action.start_workflow().unwrap().run_timeout, Some(secs(60)));
}

#[test]
fn every_type_round_trips_with_durations_set() {
    let schedule = Schedule {
        action: ScheduleAction::StartWorkflow(ScheduleActionStartWorkflow {
            execution_timeout: Some(Duration::new(3, 7)),
            run_timeout: Some(secs(0)),
            task_timeout: Some(secs(u64::MAX)),
            ..ScheduleActionStartWorkflow::workflow("w")
                .id("i")
                .task_queue("q")
        }),
        spec: ScheduleSpec {
            intervals: vec![ScheduleIntervalSpec::with_offset(
                secs(60),
                Duration::from_nanos(1),
            )],
            jitter: Some(Duration::from_millis(1)),
            ..Default::default()
        },
        ..Default::default()
    };
    round_trips(&schedule);
    round_trips(&StartWorkflowOptions {
        start_delay: Some(Duration::new(1, 999_999_999)),
        ..Default::default()
    });
    round_trips(&SchedulerConfig {
        retention: secs(1),
        ..Default::default()
    });
}

#[cfg(feature = "postgres")]
#[test]
fn cluster_config_reads_durations_too() {
    use schedule_engine::ClusterConfig;
    let c: ClusterConfig = from_json(json!({"node_id": "n", "lease": "5s",
        "renew_interval": 1, "command_timeout": {"secs": 20, "nanos": 0}}))
    .unwrap();
    assert_eq!(
        (c.lease, c.renew_interval, c.command_timeout),
        (secs(5), Some(secs(1)), Some(secs(20)))
    );
    round_trips(&c);
    let e = from_json::<ClusterConfig>(json!({"lease": "5"})).map(|c| c.lease);
    assert_eq!(e, Ok(secs(5)));
    let e = from_json::<ClusterConfig>(json!({"renew_interval": "x"})).unwrap_err();
    assert!(e.contains("`renew_interval`"), "{e}");
}

#[test]
fn records_from_before_run_statuses_load_as_unknown_and_take_outcomes() {
    // The snapshot above has one recent action, its run still open, and no failure counter.
    let snapshot: SchedulerSnapshot = serde_json::from_str(OLD_SNAPSHOT).unwrap();
    let mut s = Scheduler::restore(snapshot, SchedulerConfig::default());
    let now = "2022-06-01T00:13:00Z".parse().unwrap();
    let info = s.describe("reports", now).unwrap().info;
    assert_eq!(info.num_actions_failed, 0);
    assert_eq!(
        info.recent_actions[0].start_workflow_status,
        WorkflowExecutionStatus::Unknown
    );
    let failed = WorkflowOutcome::Failed {
        message: "disk full".into(),
    };
    s.workflow_closed("daily-2022-06-01T00:11:30Z", failed, now)
        .unwrap();
    let info = s.describe("reports", now).unwrap().info;
    assert_eq!(info.num_actions_failed, 1);
    assert_eq!(
        info.recent_actions[0].start_workflow_status,
        WorkflowExecutionStatus::Failed
    );
    // Both are kept by a snapshot and restored.
    let again = Scheduler::restore(s.snapshot(), SchedulerConfig::default());
    assert_eq!(again.describe("reports", now).unwrap().info, info);
}
