//! Scheduling explanations: `kubetwin run --explain` writes `explain.jsonl` whose
//! per-node filter reasons, scores and chosen nodes agree with the journal;
//! `kubetwin explain` prints them; both are deterministic; bad selectors and unknown
//! pods exit 2.

use super::*;
use serde_json::Value;

const OVERFULL: &str = "scenarios/explain-overfull.yaml";

/// Runs `scenario` into a fresh report directory with `extra` arguments.
fn run_report(scenario: &str, extra: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let mut args = vec!["run", scenario, "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = kubetwin(&args);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    (dir, out)
}

fn lines(p: &Path) -> Vec<Value> {
    read(p)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn attempt<'a>(all: &'a [Value], pod: &str, n: u64) -> &'a Value {
    all.iter()
        .find(|a| a["pod"] == pod && a["attempt"] == n)
        .unwrap_or_else(|| panic!("no attempt {n} of {pod}"))
}

fn node<'a>(a: &'a Value, name: &str) -> &'a Value {
    a["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node"] == name)
        .unwrap_or_else(|| panic!("{name} not visited"))
}

#[test]
fn overfull_cluster_reasons_scores_and_bindings_agree() {
    let (_d, out) = run_report(OVERFULL, &["--explain", "all"]);
    let attempts = lines(&out.join("explain.jsonl"));
    let events = lines(&out.join("events.jsonl"));
    assert!(read(&out.join("index.html")).contains("explain.jsonl"));
    // web-4 fits nowhere at 0s: the per-node reasons are the FailedScheduling message's.
    let a = attempt(&attempts, "default/web-4", 1);
    assert_eq!(a["queue"], "activeQ");
    assert_eq!(a["sampling"]["num_feasible_nodes_to_find"], 5);
    assert_eq!(a["sampling"]["processed"], 5);
    for n in ["small-1", "small-2", "big-1"] {
        let f = &node(a, n)["filter"];
        assert_eq!(f["plugin"], "NodeResourcesFit", "{n}");
        assert_eq!(f["code"], "Unschedulable", "{n}");
        assert_eq!(f["reasons"], serde_json::json!(["Insufficient cpu"]), "{n}");
    }
    for n in ["gpu-1", "gpu-2"] {
        let f = &node(a, n)["filter"];
        assert_eq!(f["plugin"], "TaintToleration", "{n}");
        assert_eq!(f["code"], "UnschedulableAndUnresolvable", "{n}");
        assert_eq!(
            f["reasons"],
            serde_json::json!(["node(s) had untolerated taint(s)"])
        );
    }
    let failed = events
        .iter()
        .find(|e| e["reason"] == "FailedScheduling" && e["name"] == "web-4")
        .expect("FailedScheduling for web-4");
    assert_eq!(a["result"]["outcome"], "Unschedulable");
    assert_eq!(a["result"]["message"], failed["message"]);
    assert_eq!(a["result"]["post_filter"]["plugin"], "DefaultPreemption");
    assert_eq!(a["result"]["post_filter"]["nomination"], "cleared");
    // The new node's cluster event brings web-4 back through the backoff queue.
    let a2 = attempt(&attempts, "default/web-4", 2);
    assert_eq!(a2["queue"], "backoffQ");
    assert_eq!(a2["t_ms"], 60_000);
    assert_eq!(a2["result"]["node"], "extra-1");
    // Every Scheduled attempt's chosen node is the binding in the journal, the chosen
    // node has the top total, each total is the sum of its weighted plugin scores.
    let mut scheduled = 0;
    for a in attempts
        .iter()
        .filter(|a| a["result"]["outcome"] == "Scheduled")
    {
        scheduled += 1;
        let pod = a["pod"].as_str().unwrap();
        let name = pod.split('/').nth(1).unwrap();
        let bound = events
            .iter()
            .find(|e| e["reason"] == "Scheduled" && e["name"] == name)
            .expect("Scheduled event");
        let node_name = a["result"]["node"].as_str().unwrap();
        assert_eq!(
            bound["message"],
            format!("Successfully assigned {pod} to {node_name}")
        );
        let chosen: Vec<&Value> = a["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["chosen"] == true)
            .collect();
        assert_eq!(chosen.len(), 1, "{pod}");
        assert_eq!(chosen[0]["node"], node_name);
        if a["result"]["scored"] == true {
            let totals: Vec<i64> = a["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|n| n["total"].as_i64())
                .collect();
            let top = *totals.iter().max().unwrap();
            assert_eq!(chosen[0]["total"], top, "{pod}");
            assert_eq!(a["result"]["top_score"], top);
            let tied = totals.iter().filter(|&&t| t == top).count();
            assert_eq!(a["result"]["tied"], tied as u64);
            for n in a["nodes"].as_array().unwrap() {
                let Some(total) = n["total"].as_i64() else {
                    assert_ne!(n["filter"]["code"], "Success", "feasible nodes are scored");
                    continue;
                };
                let sum: i64 = n["scores"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| {
                        assert_eq!(
                            s["weighted"].as_i64().unwrap(),
                            s["normalized"].as_i64().unwrap() * s["weight"].as_i64().unwrap()
                        );
                        s["weighted"].as_i64().unwrap()
                    })
                    .sum();
                assert_eq!(sum, total, "{pod} on {}", n["node"]);
            }
        }
    }
    assert_eq!(scheduled, 6);
    // web-0 lands on big-1 by LeastAllocated (cpu 62 + memory 87 halves to 74).
    let w0 = attempt(&attempts, "default/web-0", 1);
    let big = node(w0, "big-1");
    assert_eq!(big["scores"][1]["plugin"], "NodeResourcesFit");
    assert_eq!(big["scores"][1]["raw"], 74);
    assert_eq!(big["total"], 461);
    assert_eq!(w0["result"]["tied"], 1);
    // trainer: two equal gpu nodes, the tie broken by name.
    let t = attempt(&attempts, "default/trainer", 1);
    assert_eq!(t["result"]["tied"], 2);
    assert_eq!(t["result"]["tie_break"], "name");
    assert_eq!(t["result"]["node"], "gpu-1");
}

#[test]
fn explaining_changes_nothing_else_and_is_deterministic() {
    let (_a, plain) = run_report(OVERFULL, &[]);
    let (_b, one) = run_report(OVERFULL, &["--explain", "web-*,trainer"]);
    let (_c, two) = run_report(OVERFULL, &["--explain", "web-*", "--explain", "trainer"]);
    assert!(!plain.join("explain.jsonl").exists());
    for f in ["events.jsonl", "metrics.csv", "summary.json"] {
        // events.jsonl's line 1 is the recording header, which records `--explain`.
        let body = |p: &Path| {
            let t = read(&p.join(f));
            if f == "events.jsonl" {
                t.split_once('\n')
                    .map(|x| x.1.to_string())
                    .unwrap_or_default()
            } else {
                t
            }
        };
        assert_eq!(body(&plain), body(&one), "{f}");
    }
    assert_eq!(
        read(&one.join("explain.jsonl")),
        read(&two.join("explain.jsonl"))
    );
    // Preemption: the nomination and the victims, identical over two runs.
    let (_d, p1) = run_report(
        "scenarios/preemption.yaml",
        &["--explain-labels", "app=web"],
    );
    let (_e, p2) = run_report(
        "scenarios/preemption.yaml",
        &["--explain-labels", "app=web"],
    );
    let text = read(&p1.join("explain.jsonl"));
    assert_eq!(text, read(&p2.join("explain.jsonl")));
    let attempts = lines(&p1.join("explain.jsonl"));
    let first = &attempts[0];
    let post = &first["result"]["post_filter"];
    assert_eq!(post["nomination"], "set");
    assert_eq!(post["nominated_node"], "node-1");
    assert_eq!(post["victims"].as_array().unwrap().len(), 2);
    let events = read(&p1.join("events.jsonl"));
    for v in post["victims"].as_array().unwrap() {
        let name = v.as_str().unwrap().split('/').nth(1).unwrap();
        assert!(
            events.contains(&format!("\"name\":\"{name}\",\"reason\":\"Preempted\"")),
            "{name} preempted"
        );
    }
    let last = attempts.last().unwrap();
    assert_eq!(last["nominated_node"]["passed"], true);
    assert_eq!(last["result"]["node"], "node-1");
}

#[test]
fn explain_command_tables() {
    let o = kubetwin(&["explain", OVERFULL, "--pod", "web-4"]);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    insta::assert_snapshot!("explain_web_4", stdout(&o));
    let o = kubetwin(&["explain", OVERFULL, "--pod", "default/trainer"]);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    insta::assert_snapshot!("explain_trainer", stdout(&o));
    // From a report's explain.jsonl, one attempt, as JSON: the same record.
    let (_d, out) = run_report(OVERFULL, &["--explain", "web-4"]);
    let jsonl = out.join("explain.jsonl");
    let o = kubetwin(&[
        "explain",
        jsonl.to_str().unwrap(),
        "--pod",
        "web-4",
        "--attempt",
        "2",
        "-o",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    let shown: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(shown.as_array().unwrap().len(), 1);
    assert_eq!(shown[0], lines(&jsonl)[1]);
}

#[test]
fn bad_explain_input_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    for (args, needle) in [
        (
            vec!["run", OVERFULL, "--explain", "Web_*"],
            "--explain \"Web_*\": invalid pod name glob",
        ),
        (vec!["run", OVERFULL, "--explain", "web,,db"], "empty item"),
        (
            vec!["run", OVERFULL, "--explain-labels", "app in web"],
            "--explain-labels \"app in web\"",
        ),
    ] {
        let mut args = args;
        args.extend(["--out", out.to_str().unwrap()]);
        let o = kubetwin(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
        assert!(!out.exists(), "no report after bad input");
    }
    let o = kubetwin(&["explain", OVERFULL, "--pod", "nosuch"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("scenarios/explain-overfull.yaml: pod \"nosuch\" has no scheduling attempts"),
        "{e}"
    );
    assert!(e.contains("default/web-4"), "lists the pods: {e}");
    let o = kubetwin(&["explain", OVERFULL, "--pod", "web-4", "--attempt", "9"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--attempt 9: pod \"web-4\" has 2 scheduling attempt(s)"));
    let o = kubetwin(&["explain", OVERFULL, "--pod", "web-*"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("expected one pod name"),
        "{}",
        stderr(&o)
    );
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"t_ms\": 0}\n").unwrap();
    let o = kubetwin(&["explain", bad.to_str().unwrap(), "--pod", "web-4"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("bad.jsonl:1:"),
        "names file and line: {}",
        stderr(&o)
    );
}
