//! The CLI end to end: the default scenario, reports, `get`, `validate`, exit codes.

use super::*;

#[test]
fn default_scenario_self_heals_and_writes_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let o = kubetwin(&["run", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    insta::assert_snapshot!("default_run_stdout", stdout(&o));
    for f in [
        "summary.json",
        "metrics.csv",
        "events.jsonl",
        "index.html",
        "pods_by_phase.svg",
        "cluster_utilisation.svg",
        "readiness.svg",
    ] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    let summary: serde_json::Value =
        serde_json::from_str(&read(&out.join("summary.json"))).unwrap();
    assert_eq!(summary["workloads"]["rc/default/nginx"]["ready"], 3);
    assert_eq!(summary["nodes"]["not_ready"], 1);
    assert_eq!(summary["passed"], true);
    // The dip and the recovery are visible in the metrics: 3 ready, then 2, then 3.
    let csv = read(&out.join("metrics.csv"));
    let mut rows = csv.lines();
    let header: Vec<&str> = rows.next().unwrap().split(',').collect();
    let col = header
        .iter()
        .position(|h| *h == "rc/default/nginx:ready")
        .expect("ready column");
    let ready: Vec<String> = rows
        .map(|r| r.split(',').nth(col).unwrap_or("").to_string())
        .collect();
    let first3 = ready.iter().position(|v| v == "3").expect("reaches 3");
    let dip = ready[first3..]
        .iter()
        .position(|v| v == "2")
        .expect("dips to 2")
        + first3;
    assert!(ready[dip..].iter().any(|v| v == "3"), "recovers to 3");
    // The journal shows the node lifecycle with upstream's timings.
    let events = read(&out.join("events.jsonl"));
    let at = |needle: &str| -> u64 {
        let line = events
            .lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle}"));
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        v["t_ms"].as_u64().unwrap()
    };
    assert_eq!(at("crash node node-2"), 120_000);
    assert_eq!(
        at("NodeNotReady"),
        175_000,
        "50 s grace, 5 s monitor period"
    );
    assert_eq!(
        at("TaintManagerEviction"),
        475_000,
        "300 s default toleration"
    );
    let html = read(&out.join("index.html"));
    assert!(html.contains("readiness.svg") && html.contains("nginx-self-heal"));
}

#[test]
fn json_output() {
    let o = kubetwin(&["run", "--no-report", "-o", "json"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["scenario"], "nginx-self-heal");
}

#[test]
fn get_pods_and_nodes_at_a_time() {
    let o = kubetwin(&["get", "pods", "--at", "10m", "-o", "wide"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    insta::assert_snapshot!("get_pods_10m_wide", stdout(&o));
    let o = kubetwin(&["get", "nodes", "--at", "4m"]);
    insta::assert_snapshot!("get_nodes_4m", stdout(&o));
    let o = kubetwin(&["get", "rc", "--at", "30s"]);
    insta::assert_snapshot!("get_rc_30s", stdout(&o));
    let o = kubetwin(&["get", "pods", "--at", "1m", "-l", "app=nope"]);
    assert_eq!(stdout(&o), "No resources found in default namespace.\n");
    let o = kubetwin(&["get", "configmaps"]);
    assert_eq!(o.status.code(), Some(2));
    let o = kubetwin(&["get", "pods", "--at", "2h"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn every_shipped_scenario_meets_its_expectations() {
    for s in shipped_scenarios() {
        let o = kubetwin(&["run", s.to_str().unwrap(), "--no-report"]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}: {}{}",
            s.display(),
            stdout(&o),
            stderr(&o)
        );
    }
}

#[test]
fn validate_accepts_scenarios_and_manifests() {
    // Every entry of scenarios/ except those reading the shared data (traces::).
    let mut entries: Vec<String> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| !needs_shared(p))
        .map(|p| format!("scenarios/{}", p.file_name().unwrap().to_string_lossy()))
        .collect();
    entries.sort();
    let mut args = vec!["validate", "-R"];
    for e in &entries {
        args.extend(["-f", e.as_str()]);
    }
    let o = kubetwin(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("scenarios/manifests/web-rs.yaml: 2 objects valid"),
        "{}",
        stdout(&o)
    );
    assert!(
        stderr(&o).contains("web-rs.yaml:42: warning: skipping v1/ConfigMap"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn failed_expectation_exits_1_with_a_reproduce_command() {
    let dir = tempfile::tempdir().unwrap();
    let text = read(&root().join("scenarios/nginx-self-heal.yaml"))
        .replace("- pods.pending == 0", "- pods.pending == 5");
    let f = dir.path().join("s.yaml");
    std::fs::write(&f, text).unwrap();
    let o = kubetwin(&["run", f.to_str().unwrap(), "--no-report", "--seed", "4"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("pods.pending == 5") && stdout(&o).contains("FAIL"));
    assert!(
        stderr(&o).contains(&format!(
            "reproduce with: kubetwin run {} --seed 4",
            f.display()
        )),
        "{}",
        stderr(&o)
    );
}

#[test]
fn probes_follow_the_worker_schedule() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let o = kubetwin(&[
        "run",
        "scenarios/probes.yaml",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let events = read(&out.join("events.jsonl"));
    let times = |pod_prefix: &str, reason: &str| -> Vec<u64> {
        events
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|v| {
                v["reason"] == reason && v["name"].as_str().unwrap_or("").starts_with(pod_prefix)
            })
            .map(|v| v["t_ms"].as_u64().unwrap())
            .collect()
    };
    // Liveness fails from 2m after each start; probes every 10 s on the worker's grid
    // (admission at 0 s); the third failure kills: 150 s, then 300 s after the restart.
    let kills = times("worker-", "Killing");
    assert_eq!(&kills[..2], &[150_000, 300_000]);
    let backoff: Vec<String> = events
        .lines()
        .filter(|l| l.contains("\"BackOff\"") && l.contains("worker-"))
        .map(String::from)
        .collect();
    assert!(
        backoff[0].contains("Back-off 10s"),
        "first restart immediate, then 10 s: {backoff:?}"
    );
}
