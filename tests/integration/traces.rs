//! Trace replay end to end through `kubetwin run`: kubetwin's own format (CSV and JSON
//! lines), the SimKube example, window/scale/filter flags, and every kind of bad trace
//! input (exit 2 with file:line:column, or `--skip-bad-rows` with a count). The full
//! Alibaba DLRM replay reads the shared data and is ignored unless `KUBETWIN_SHARED` is
//! set (`cargo test --test integration traces:: -- --ignored`).

use super::*;

const SCENARIO: &str = "scenarios/trace-kubetwin.yaml";

fn run_json(args: &[&str]) -> (Output, serde_json::Value) {
    let mut a = vec!["run"];
    a.extend_from_slice(args);
    a.extend(["--no-report", "-o", "json"]);
    let o = kubetwin(&a);
    let v = serde_json::from_slice(&o.stdout).unwrap_or(serde_json::Value::Null);
    (o, v)
}

fn desired(v: &serde_json::Value, w: &str) -> Option<i64> {
    v["workloads"][w]["desired"].as_i64()
}

/// A copy of the kubetwin-format scenario whose trace is `trace` (written beside it).
fn scenario_with(dir: &Path, trace_name: &str, trace: &str) -> PathBuf {
    std::fs::copy(
        root().join("traces/kubetwin/web.yaml"),
        dir.join("web.yaml"),
    )
    .unwrap();
    std::fs::write(dir.join(trace_name), trace).unwrap();
    let text = read(&root().join(SCENARIO)).replace("../traces/kubetwin/web-churn.csv", trace_name);
    let p = dir.join("s.yaml");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn kubetwin_csv_trace_runs_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let o = kubetwin(&["run", SCENARIO, "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let summary = read(&out.join("summary.json"));
    let v: serde_json::Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(v["traces"][0]["events"], 8);
    assert_eq!(v["traces"][0]["skipped_rows"], 0);
    assert_eq!(desired(&v, "deployment/default/web"), Some(2));
    assert_eq!(desired(&v, "deployment/default/batch"), None, "deleted");
    // The load events: 200 rps offered at the peak, 50 rps at the end.
    assert_eq!(v["load"]["web"]["peak_offered_rps"], 200.0, "{}", v["load"]);
    let events = read(&out.join("events.jsonl"));
    assert!(events.contains("trace: scale deployment/web --replicas=4"));
    insta::assert_snapshot!("trace_kubetwin_summary", summary);
}

#[test]
fn json_lines_replay_the_same_as_csv() {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = read(&root().join("traces/kubetwin/web-churn.jsonl"));
    let s = scenario_with(dir.path(), "t.jsonl", &jsonl);
    let (o, a) = run_json(&[s.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let (_, b) = run_json(&[SCENARIO]);
    for k in [
        "events_processed",
        "pods",
        "workloads",
        "load",
        "scheduling",
    ] {
        assert_eq!(a[k], b[k], "{k}");
    }
}

#[test]
fn window_time_scale_and_filters_from_the_command_line() {
    // Until 2m: the scale-ups at 2m and later never happen.
    let (o, v) = run_json(&[SCENARIO, "--until", "2m"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "expectations fail: {}",
        stderr(&o)
    );
    assert_eq!(v["traces"][0]["events"], 3);
    assert_eq!(desired(&v, "deployment/default/web"), Some(2));
    assert_eq!(desired(&v, "deployment/default/batch"), Some(1));
    // From 2m30s: the earlier events build the state at time 0; at scale 0.5 the
    // delete at 5m runs at 1m15s and the last scale at 1m45s.
    let (o, v) = run_json(&[SCENARIO, "--from", "150", "--time-scale", "0.5"]);
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", stderr(&o));
    assert_eq!(v["traces"][0]["events"], 8);
    assert_eq!(desired(&v, "deployment/default/batch"), None);
    // A selector that matches only the batch Deployment drops web and its events.
    let (o, v) = run_json(&[SCENARIO, "--trace-selector", "app=batch"]);
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", stderr(&o));
    assert_eq!(
        v["traces"][0]["events"], 5,
        "create, scale, delete batch + 2 loads"
    );
    assert_eq!(desired(&v, "deployment/default/web"), None);
    let (o, _) = run_json(&[SCENARIO, "--time-scale", "-1"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn simkube_example_runs_end_to_end() {
    let (o, v) = run_json(&["scenarios/simkube-dsb.yaml"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(v["traces"][0]["format"], "simkube");
    assert_eq!(v["traces"][0]["events"], 8);
    assert_eq!(desired(&v, "deployment/dsb/media-service"), Some(1));
    assert_eq!(desired(&v, "deployment/dsb/home-timeline-service"), Some(1));
    assert_eq!(desired(&v, "deployment/dsb/user-timeline-service"), None);
    // Filters: only media-service's objects.
    let (o, v) = run_json(&[
        "scenarios/simkube-dsb.yaml",
        "--trace-namespace",
        "dsb",
        "--trace-selector",
        "service=media-service",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(desired(&v, "deployment/dsb/media-service"), Some(1));
    assert_eq!(desired(&v, "deployment/dsb/user-mongodb"), None);
}

const HEAD: &str = "time,event,namespace,object,replicas,rps,manifest\n0s,create,,,,,web.yaml\n";

/// Runs a scenario whose trace is `trace`; exit code, stderr, and whether a report
/// directory was left behind.
fn run_bad(trace_name: &str, trace: &str, extra: &[&str]) -> (Option<i32>, String, bool) {
    let dir = tempfile::tempdir().unwrap();
    let s = scenario_with(dir.path(), trace_name, trace);
    let out = dir.path().join("report");
    let mut args = vec!["run", s.to_str().unwrap(), "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = kubetwin(&args);
    (o.status.code(), stderr(&o), out.exists())
}

#[test]
fn a_corrupt_csv_row_is_exit_2_with_line_and_column() {
    let trace = format!("{HEAD}1m,scale,,deployment/web,lots,,\n");
    let (code, err, report) = run_bad("t.csv", &trace, &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("t.csv:3:26: replicas: expected a replica count"),
        "{err}"
    );
    assert!(!report, "no partial output");
    let trace = format!("{HEAD}1m,scale,,deployment/web\n");
    let (code, err, _) = run_bad("t.csv", &trace, &[]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("t.csv:3:1: row has 4 fields, the header 7"),
        "{err}"
    );
}

#[test]
fn skip_bad_rows_continues_and_counts() {
    let trace = format!(
        "{HEAD}1m,scale,,deployment/web,lots,,\n1m,frobnicate,,,,,\n2m,scale,,deployment/web,3,,\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let s = scenario_with(dir.path(), "t.csv", &trace);
    let out = dir.path().join("report");
    let o = kubetwin(&[
        "run",
        s.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--skip-bad-rows",
    ]);
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("warning: skipped 2 bad row(s)"),
        "{}",
        stderr(&o)
    );
    let v: serde_json::Value = serde_json::from_str(&read(&out.join("summary.json"))).unwrap();
    assert_eq!(v["traces"][0]["skipped_rows"], 2);
    assert_eq!(v["traces"][0]["events"], 2);
    assert_eq!(desired(&v, "deployment/default/web"), Some(3));
    // The scenario field does the same.
    let text = read(&s).replace("    path: t.csv", "    path: t.csv\n    skipBadRows: true");
    std::fs::write(&s, text).unwrap();
    let o = kubetwin(&["run", s.to_str().unwrap(), "--no-report"]);
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", stderr(&o));
    assert!(stderr(&o).contains("skipped 2 bad row(s)"));
}

#[test]
fn events_out_of_time_order_are_exit_2() {
    let trace = format!("{HEAD}2m,scale,,deployment/web,3,,\n1m,scale,,deployment/web,1,,\n");
    let (code, err, report) = run_bad("t.csv", &trace, &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("t.csv:4:1: time: event out of time order: 1m0s is before 2m0s (line 3)"),
        "{err}"
    );
    assert!(!report);
    let trace = "{\"time\": 10, \"event\": \"create\", \"manifest\": \"web.yaml\"}\n{\"time\": 5, \"event\": \"delete\", \"object\": \"deploy/web\"}\n";
    let (code, err, _) = run_bad("t.jsonl", trace, &[]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("t.jsonl:2:1: time: event out of time order"),
        "{err}"
    );
}

#[test]
fn unknown_objects_are_exit_2_with_the_trace_line() {
    // Found while loading: never created.
    let trace = format!("{HEAD}1m,delete,,deployment/ghost,,,\n");
    let (code, err, _) = run_bad("t.csv", &trace, &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("t.csv:3:1: unknown object: Deployment \"ghost\""),
        "{err}"
    );
    // Found while running: the scenario's Service may be deleted, but the second delete
    // finds nothing.
    let trace = format!("{HEAD}1m,delete,,svc/web,,,\n2m,delete,,svc/web,,,\n");
    let (code, err, report) = run_bad("t.csv", &trace, &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("t.csv:4:1: unknown object: Service \"web\""),
        "{err}"
    );
    assert!(!report);
    // A load event naming no spec.load entry fails when it runs.
    let trace = format!("{HEAD}1m,load,,api,,10,\n");
    let (code, err, report) = run_bad("t.csv", &trace, &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("t.csv:3:1: object: no spec.load entry named \"api\" (entries: web)"),
        "{err}"
    );
    assert!(!report);
}

#[test]
fn bad_trace_files_and_fields_are_exit_2() {
    let (code, err, _) = run_bad("t.csv", "time,when\n", &[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("t.csv:1:6: unknown column `when`"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let s = scenario_with(dir.path(), "t.csv", HEAD);
    let text = read(&s).replace("format: kubetwin", "format: parquet");
    std::fs::write(&s, &text).unwrap();
    let o = kubetwin(&["run", s.to_str().unwrap(), "--no-report"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("spec.traces[0].format: unknown trace format"),
        "{}",
        stderr(&o)
    );
    let text = text
        .replace("format: parquet", "format: kubetwin")
        .replace("path: t.csv", "path: nope.csv");
    std::fs::write(&s, &text).unwrap();
    let o = kubetwin(&["run", s.to_str().unwrap(), "--no-report"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("spec.traces[0].path: no such file"),
        "{}",
        stderr(&o)
    );
    // A truncated SimKube document fails the file even with --skip-bad-rows.
    let sk = dir.path().join("cut.json");
    std::fs::write(
        &sk,
        "{\"version\": 2, \"events\": [{\"ts\": 1, \"applied_objs\": [",
    )
    .unwrap();
    let flag = format!("simkube:{}", sk.display());
    let (code, err, _) = run_bad("t.csv", HEAD, &["--trace", &flag, "--skip-bad-rows"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("cut.json:1:") && err.contains("truncated JSON"),
        "{err}"
    );
}

#[test]
#[ignore = "needs the DLRM trace: set KUBETWIN_SHARED (as .ci/run does)"]
fn dlrm_full_trace_replays() {
    let shared = std::env::var("KUBETWIN_SHARED")
        .expect("KUBETWIN_SHARED must point at the shared directory");
    let trace = Path::new(&shared)
        .join("traces/alibaba-clusterdata-gpu-v2025/disaggregated_DLRM_trace.csv");
    let dir = tempfile::tempdir().unwrap();
    let text = read(&root().join("scenarios/dlrm-replay.yaml")).replace(
        "../../shared/traces/alibaba-clusterdata-gpu-v2025/disaggregated_DLRM_trace.csv",
        trace.to_str().unwrap(),
    );
    let s = dir.path().join("dlrm.yaml");
    std::fs::write(&s, text).unwrap();
    let (o, v) = run_json(&[s.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(v["traces"][0]["skipped_rows"], 0);
    // 495 Deployments, then one scale per (time, Deployment) with a net change.
    let events = v["traces"][0]["events"].as_u64().unwrap();
    assert!(events > 20_000, "{events}");
    assert_eq!(v["workloads"].as_object().unwrap().len(), 495);
    // Every instance that existed was a pod at some point.
    assert!(
        v["pods"]["created"].as_u64().unwrap() >= 16_000,
        "{}",
        v["pods"]
    );
}
