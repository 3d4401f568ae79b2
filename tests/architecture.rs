//! The crate's architecture, checked: dependencies point one way (`spec` <- `engine` <-
//! `client`; `store` a leaf beside `spec`; `error` shared by engine and client), no file imports
//! another through a circle, no module imports through the crate root's re-exports, no file of
//! `src/` is over 600 lines, and the root re-exports exactly the agreed names. The imports are
//! read from the `use` lines of `src/` (and inline `crate::`/`super::` paths).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// What the crate root re-exports: the names a typical program uses (DESIGN §3).
const ROOT_NAMES: &[&str] = &[
    // spec
    "CompiledSpec",
    "DstPolicy",
    "IntervalAnchor",
    "NonexistentTime",
    "RepeatedTime",
    "ScheduleCalendarSpec",
    "ScheduleIntervalSpec",
    "ScheduleRange",
    "ScheduleSpec",
    "ScheduledTime",
    // schedules and the engine
    "Action",
    "CancelWorkflowAction",
    "CreateScheduleOptions",
    "Schedule",
    "ScheduleAction",
    "ScheduleActionExecution",
    "ScheduleActionResult",
    "ScheduleActionStartWorkflow",
    "ScheduleBackfill",
    "ScheduleDescription",
    "ScheduleEvent",
    "ScheduleInfo",
    "ScheduleListDescription",
    "ScheduleOverlapPolicy",
    "SchedulePolicy",
    "ScheduleState",
    "ScheduleUpdate",
    "ScheduleUpdateInput",
    "Scheduler",
    "SchedulerConfig",
    "SharedStr",
    "StartWorkflowAction",
    "StartWorkflowOptions",
    "TerminateWorkflowAction",
    "WorkflowExecutionStatus",
    "WorkflowOutcome",
    // the facade
    "AsyncWorkflowRegistry",
    "Client",
    "ClientBuilder",
    "Clock",
    "Completion",
    "ManualClock",
    "ScheduleHandle",
    "SystemClock",
    "Worker",
    "WorkflowContext",
    "WorkflowError",
    "WorkflowExecutor",
    "WorkflowRegistry",
    // the stores a user opens
    "SqliteStore",
    "PostgresCluster",
    "ClusterConfig",
    // errors
    "ScheduleError",
    "SpecError",
    "StoreError",
];

/// The public modules of the root.
const ROOT_MODULES: &[&str] = &[
    "snapshot",
    "store",
    "standard_cron",
    "cluster",
    "_documentation",
];

/// Which top-level modules each top-level module may import.
fn allowed(from: &str) -> &'static [&'static str] {
    match from {
        "spec" => &[],
        "store" => &["spec"],
        "error" => &["spec", "store"],
        "engine" => &["spec", "error"],
        "client" => &["spec", "engine", "store", "error"],
        _ => &["spec", "engine", "client", "store", "error"],
    }
}

const MAX_LINES: usize = 600;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `src/`, as its module path (`engine::entry::iterate`, `engine`, ...)
/// and its text up to its unit tests (a `#[cfg(test)] mod` closes each file; what tests
/// import is not part of the architecture).
fn modules() -> BTreeMap<Vec<String>, String> {
    sources(true)
}

/// Every `.rs` file under `src/` with its whole text (unit tests included).
fn whole_sources() -> BTreeMap<Vec<String>, String> {
    sources(false)
}

fn sources(cut_tests: bool) -> BTreeMap<Vec<String>, String> {
    fn walk(
        dir: &Path,
        prefix: &[String],
        cut_tests: bool,
        out: &mut BTreeMap<Vec<String>, String>,
    ) {
        let mut entries: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            let name = path.file_stem().unwrap().to_string_lossy().to_string();
            if path.is_dir() {
                let mut p = prefix.to_vec();
                p.push(name);
                walk(&path, &p, cut_tests, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let mut p = prefix.to_vec();
                if name != "mod" && name != "lib" {
                    p.push(name);
                }
                let text = fs::read_to_string(&path).unwrap();
                let code = match text.find("\n#[cfg(test)]\nmod ") {
                    Some(end) if cut_tests => text[..end].to_string(),
                    _ => text,
                };
                out.insert(p, code);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(&src(), &[], cut_tests, &mut out);
    out
}

/// The paths a file imports: every `crate::a::b` and `super::..::a` path in it, resolved to
/// absolute module paths (the longest prefix that names a file of `src/`).
fn imports(
    module: &[String],
    is_mod_file: bool,
    text: &str,
    files: &BTreeSet<Vec<String>>,
) -> BTreeSet<Vec<String>> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let code = line.trim_start();
        // Comments and docs (intra-doc links point anywhere) are not imports.
        if code.starts_with("//") {
            continue;
        }
        let mut rest = code;
        while let Some(i) = find_path_start(rest) {
            let tail = &rest[i..];
            let segments: Vec<&str> = tail
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .next()
                .unwrap_or("")
                .split("::")
                .filter(|s| !s.is_empty())
                .collect();
            rest = &tail[1..];
            let mut path: Vec<String> = Vec::new();
            let mut iter = segments.iter().peekable();
            match iter.peek() {
                Some(&&"crate") => {
                    iter.next();
                }
                Some(&&"super") => {
                    // `super` from `a/b.rs` (module a::b) is `a`; from `a/b/mod.rs` also `a`.
                    path = module.to_vec();
                    let _ = is_mod_file;
                    while iter.peek() == Some(&&"super") {
                        iter.next();
                        path.pop();
                    }
                }
                _ => continue,
            }
            path.extend(iter.map(|s| s.to_string()));
            // The longest prefix naming a file.
            while !path.is_empty() && !files.contains(&path) {
                path.pop();
            }
            if !path.is_empty() && path != module {
                out.insert(path);
            }
        }
    }
    out
}

/// The start of the next `crate::` or `super::` path in `s`, at a word boundary.
fn find_path_start(s: &str) -> Option<usize> {
    let mut best: Option<usize> = None;
    for pat in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(i) = s[from..].find(pat) {
            let at = from + i;
            let boundary = at == 0
                || !s[..at]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':');
            if boundary {
                best = Some(best.map_or(at, |b: usize| b.min(at)));
                break;
            }
            from = at + pat.len();
        }
    }
    best
}

fn graph() -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let modules = modules();
    let files: BTreeSet<Vec<String>> = modules.keys().cloned().collect();
    modules
        .iter()
        .map(|(m, text)| (m.clone(), imports(m, true, text, &files)))
        .collect()
}

fn show(m: &[String]) -> String {
    if m.is_empty() {
        "lib".into()
    } else {
        m.join("::")
    }
}

#[test]
fn dependencies_point_one_way() {
    let mut upward = Vec::new();
    for (from, tos) in graph() {
        let Some(layer) = from.first() else { continue };
        for to in tos {
            let Some(target) = to.first() else { continue };
            if target != layer && !allowed(layer).contains(&target.as_str()) {
                upward.push(format!("{} imports {}", show(&from), show(&to)));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports against the layers:\n{}",
        upward.join("\n")
    );
}

#[test]
fn no_file_imports_through_a_circle() {
    let g = graph();
    // Tarjan-free: a file is on a circle if it can reach itself.
    let mut circles = Vec::new();
    for start in g.keys() {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&Vec<String>> = g[start].iter().collect();
        while let Some(m) = stack.pop() {
            if m == start {
                circles.push(show(start));
                break;
            }
            if seen.insert(m.clone()) {
                if let Some(next) = g.get(m) {
                    stack.extend(next.iter());
                }
            }
        }
    }
    assert!(circles.is_empty(), "files on an import circle: {circles:?}");
}

#[test]
fn modules_import_by_path_not_through_the_root() {
    let mut through_root = Vec::new();
    let modules = whole_sources();
    let files: BTreeSet<Vec<String>> = modules.keys().cloned().collect();
    for (m, text) in &modules {
        if m.is_empty() {
            continue;
        }
        for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
            let mut rest = line;
            while let Some(i) = rest.find("crate::") {
                let after = &rest[i + "crate::".len()..];
                let name: String = after
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                // A module of the crate is fine; a re-exported item (`crate::Client`) is not.
                if !name.is_empty() && !files.contains(&vec![name.clone()]) {
                    through_root.push(format!("{}: crate::{name}", show(m)));
                }
                rest = after;
            }
        }
    }
    assert!(
        through_root.is_empty(),
        "imports through the root:\n{}",
        through_root.join("\n")
    );
}

#[test]
fn no_source_file_is_over_600_lines() {
    let mut long = Vec::new();
    for (m, text) in whole_sources() {
        let lines = text.lines().count();
        if lines > MAX_LINES {
            long.push(format!("{} ({lines} lines)", show(&m)));
        }
    }
    assert!(long.is_empty(), "files over {MAX_LINES} lines: {long:?}");
}

#[test]
fn the_root_exports_the_agreed_names() {
    let lib = fs::read_to_string(src().join("lib.rs")).unwrap();
    let mut names = BTreeSet::new();
    let mut modules = BTreeSet::new();
    let mut depth = 0usize;
    let mut in_use = String::new();
    for line in lib.lines() {
        let code = line.trim();
        if code.starts_with("//") {
            continue;
        }
        if depth == 0 && code.starts_with("pub mod ") {
            let name = code["pub mod ".len()..]
                .trim_end_matches([';', '{', ' '])
                .to_string();
            modules.insert(name);
        }
        if depth == 0 && (code.starts_with("pub use ") || !in_use.is_empty()) {
            in_use.push_str(code);
            in_use.push(' ');
            if code.ends_with(';') {
                let list = in_use
                    .trim_start_matches("pub use ")
                    .trim_end()
                    .trim_end_matches(';')
                    .to_string();
                let list = match (list.find('{'), list.rfind('}')) {
                    (Some(a), Some(b)) => list[a + 1..b].to_string(),
                    _ => list.rsplit("::").next().unwrap_or("").to_string(),
                };
                for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    let name = item.rsplit(" as ").next().unwrap_or(item);
                    names.insert(name.rsplit("::").next().unwrap_or(name).to_string());
                }
                in_use.clear();
            }
            continue;
        }
        depth += code.matches('{').count();
        depth = depth.saturating_sub(code.matches('}').count());
    }
    let agreed: BTreeSet<String> = ROOT_NAMES.iter().map(|s| s.to_string()).collect();
    let extra: Vec<_> = names.difference(&agreed).collect();
    let missing: Vec<_> = agreed.difference(&names).collect();
    assert!(
        extra.is_empty() && missing.is_empty(),
        "root re-exports differ from the agreed list: extra {extra:?}, missing {missing:?}"
    );
    let agreed_modules: BTreeSet<String> = ROOT_MODULES.iter().map(|s| s.to_string()).collect();
    assert_eq!(modules, agreed_modules, "public modules of the root");
}

#[test]
fn the_checks_see_what_they_check() {
    // The reader finds the known edges, so an empty finding above means something.
    let g = graph();
    let scheduler = vec!["engine".to_string(), "scheduler".to_string()];
    assert!(g[&scheduler].contains(&vec!["error".to_string()]));
    assert!(g[&scheduler].contains(&vec!["engine".to_string(), "table".to_string()]));
    let hosted = vec!["client".to_string(), "hosted".to_string()];
    assert!(g[&hosted].contains(&vec!["engine".to_string()]));
    // A made-up upward import is one.
    let files: BTreeSet<Vec<String>> = g.keys().cloned().collect();
    let fake = imports(
        &["spec".to_string(), "types".to_string()],
        false,
        "use crate::engine::Scheduler;",
        &files,
    );
    assert!(fake.contains(&vec!["engine".to_string()]));
}
