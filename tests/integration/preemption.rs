//! Scheduler preemption end to end: the shipped `scenarios/preemption.yaml` (victims,
//! nominatedNodeName, the Preempted and FailedScheduling messages), `get` output for
//! PriorityClasses and nominated pods, and the priority admission's input errors.

use super::*;

/// Runs the preemption scenario with a report and returns its journal lines.
fn journal() -> Vec<serde_json::Value> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let o = kubetwin(&[
        "run",
        "scenarios/preemption.yaml",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    read(&out.join("events.jsonl"))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn field<'a>(v: &'a serde_json::Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or("")
}

#[test]
fn preemption_scenario_evicts_batch_not_the_protected_cache() {
    let j = journal();
    let events = |reason: &str| -> Vec<&serde_json::Value> {
        j.iter()
            .filter(|e| field(e, "type") == "Event" && field(e, "reason") == reason)
            .collect()
    };
    let preempted = events("Preempted");
    assert_eq!(preempted.len(), 2, "{preempted:?}");
    // The web pod's uid, from its first FailedScheduling cycle's nomination.
    let web = j
        .iter()
        .find(|e| field(e, "kind") == "Pod" && field(e, "name").starts_with("web-"))
        .map(|e| field(e, "name").to_string())
        .expect("web pod");
    let nominated = j
        .iter()
        .find(|e| field(e, "name") == web && field(e, "message").contains("nominated="))
        .expect("web nominated");
    let node = field(nominated, "message")
        .split("nominated=")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_string();
    for p in &preempted {
        assert!(field(p, "name").starts_with("batch-"), "{p}");
        assert_eq!(p["t_ms"], 120_000);
        let msg = field(p, "message");
        assert!(
            msg.starts_with("Preempted by pod 00000000-0000-4000-8000-")
                && msg.ends_with(&format!(" on node {node}")),
            "{msg}"
        );
        // The victim was on the nominated node and carried the DisruptionTarget reason
        // into a graceful deletion.
        let victim = field(p, "name");
        assert!(j.iter().any(|e| field(e, "name") == victim
            && field(e, "message").contains(&format!("node={node}"))
            && field(e, "message").contains("terminating")));
    }
    let failed = |pod: &str| -> Vec<String> {
        events("FailedScheduling")
            .into_iter()
            .filter(|e| field(e, "name").starts_with(pod))
            .map(|e| field(e, "message").to_string())
            .collect()
    };
    let web_msgs = failed("web-");
    assert_eq!(web_msgs[0], "0/3 nodes are available: 3 Insufficient cpu.");
    assert!(web_msgs[1..].iter().all(|m| m
        == "0/3 nodes are available: 3 Insufficient cpu. preemption: not eligible due to a terminating pod on the nominated node."));
    assert!(failed("report-").iter().all(|m| m
        == "0/3 nodes are available: 3 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never."));
    let batch = failed("batch-");
    assert!(!batch.is_empty());
    assert!(batch.iter().all(|m| m
        == "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."));
    // The web pod binds to the nominated node once both victims are gone.
    let scheduled = events("Scheduled");
    let web_scheduled = scheduled
        .iter()
        .find(|e| field(e, "name") == web)
        .expect("web scheduled");
    assert!(field(web_scheduled, "message").ends_with(&format!(" to {node}")));
    let gone = j
        .iter()
        .filter(|e| field(e, "type") == "DELETED" && field(e, "name").starts_with("batch-"))
        .map(|e| e["t_ms"].as_u64().unwrap())
        .max()
        .unwrap();
    assert!(web_scheduled["t_ms"].as_u64().unwrap() >= gone);
    assert!(
        !j.iter()
            .any(|e| field(e, "reason") == "Preempted" && field(e, "name").starts_with("cache-"))
    );
}

#[test]
fn get_shows_nominated_node_and_priority_classes() {
    let o = kubetwin(&[
        "get",
        "pods",
        "scenarios/preemption.yaml",
        "--at",
        "2m2s",
        "-o",
        "wide",
        "-l",
        "app=web",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let mut lines = out.lines();
    let header = lines.next().unwrap();
    assert!(header.ends_with("NODE     NOMINATED NODE"), "{out}");
    let row = lines.next().unwrap();
    assert!(
        row.contains("Pending") && row.contains("<none>") && row.contains("node-"),
        "{out}"
    );
    let o = kubetwin(&["get", "pc", "scenarios/preemption.yaml"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    insta::assert_snapshot!("get_priorityclasses", stdout(&o));
}

fn scenario_with(manifests: &str) -> (tempfile::TempDir, String, std::process::Output) {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("s.yaml");
    let text = format!(
        "apiVersion: kubetwin.dev/v1alpha1\nkind: Scenario\nmetadata:\n  name: t\nspec:\n  duration: 1m\n  manifests:\n  - inline: |\n{}",
        manifests
            .lines()
            .map(|l| format!("      {l}\n"))
            .collect::<String>()
    );
    std::fs::write(&f, text).unwrap();
    let o = kubetwin(&["validate", "-f", f.to_str().unwrap()]);
    (dir, f.display().to_string(), o)
}

#[test]
fn missing_priority_class_is_a_located_error() {
    let (_d, file, o) = scenario_with(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      priorityClassName: gold\n      containers: [{name: c, image: i}]\n",
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("{file}:17:")), "{err}");
    assert!(
        err.contains("no PriorityClass with name gold was found"),
        "{err}"
    );
    // A class defined anywhere in the input, or a built-in one, is fine.
    let (_d, _f, o) = scenario_with(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  priorityClassName: gold\n  containers: [{name: c, image: i}]\n---\napiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: gold}\nvalue: 10\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: q}\nspec:\n  priorityClassName: system-node-critical\n  containers: [{name: c, image: i}]\n",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // Reserved names, values and policies are field errors.
    let (_d, _f, o) = scenario_with(
        "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: gold}\nvalue: 2000000000\n",
    );
    assert!(stderr(&o).contains("maximum allowed value of a user defined priority is 1000000000"));
    let (_d, _f, o) = scenario_with(
        "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: gold}\nvalue: 1\npreemptionPolicy: Sometimes\n",
    );
    assert!(
        stderr(&o).contains("Unsupported value: \"Sometimes\""),
        "{}",
        stderr(&o)
    );
}
