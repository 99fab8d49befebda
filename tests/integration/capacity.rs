//! The shipped capacity question end to end: diurnal load, the metrics-server analog, the
//! HPA and the cluster autoscaler together in `scenarios/capacity-peak.yaml` (the
//! timeline the docs describe), and `kubetwin sweep` answering it at twice the peak.

use super::*;
use kubetwin::simulation::{RunOptions, run};
use kubetwin::workload::Scenario;

/// The value of metrics column `name` at the sample taken at `secs`.
fn at(out: &kubetwin::simulation::RunOutput, name: &str, secs: f64) -> f64 {
    let t = out.metrics.column("time_s").expect("time column");
    let i = t.iter().position(|x| *x == secs).expect("a sample then");
    out.metrics.column(name).expect(name)[i]
}

#[test]
fn hpa_and_cluster_autoscaler_follow_the_diurnal_load() {
    let s = Scenario::load(&root().join("scenarios/capacity-peak.yaml")).expect("loads");
    let out = run(&s, &RunOptions::default()).expect("runs");
    assert!(out.passed(), "{:?}", out.expectations);
    // The first sync with two scrapes behind it scales up for CPU.
    let first = out
        .journal
        .iter()
        .find(|e| e.reason == "SuccessfulRescale")
        .expect("a rescale");
    assert_eq!(first.t_ms, 30_000);
    assert_eq!(
        first.message,
        "New size: 4; reason: cpu resource utilization (percentage of request) above target"
    );
    // At the 14:00 peak the HPA is at its max and the autoscaler has added a third node.
    assert_eq!(at(&out, "hpa/default/web:current", 14.0 * 3600.0), 10.0);
    assert_eq!(at(&out, "nodegroup/web-pool:nodes", 14.0 * 3600.0), 3.0);
    let latency = at(&out, "svc/default/web:latency_ms", 14.0 * 3600.0);
    assert!((30.0..45.0).contains(&latency), "latency {latency}");
    assert!(
        out.journal.iter().any(|e| e.reason == "TriggeredScaleUp"
            && e.message.contains("web-pool 2->3 (max: 6)")),
        "no scale-up event"
    );
    // At night the HPA has scaled down again (stabilized), never below its min.
    let night = at(&out, "hpa/default/web:current", 2.0 * 3600.0);
    assert!((1.0..=6.0).contains(&night), "replicas at 02:00: {night}");
    let summary = kubetwin::report::writer::summary(&out);
    let hours = summary["cost"]["node_hours"].as_f64().expect("node hours");
    assert!((48.0..=72.0).contains(&hours), "node hours {hours}");
    assert!(
        summary["load"]["web"]["dropped_pct"]
            .as_f64()
            .expect("dropped")
            < 0.5
    );
    assert_eq!(summary["hpa"]["web"]["max_replicas_reached"], 10);
}

#[test]
fn sweep_answers_the_hpa_max_at_twice_the_peak() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("sweep");
    let o = kubetwin(&[
        "sweep",
        "scenarios/capacity-peak.yaml",
        "--set",
        "load.scale=2",
        "--set",
        "hpa.max=10,12",
        "--set",
        "nodes.max=3",
        "--seeds",
        "1..2",
        "--threads",
        "2",
        "--out",
        out.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("answer: load.scale=2 hpa.max=12 nodes.max=3"),
        "{}",
        stdout(&o)
    );
    let csv = std::fs::read_to_string(out.join("sweep.csv")).expect("sweep.csv");
    assert_eq!(csv.lines().count(), 3, "{csv}");
}
