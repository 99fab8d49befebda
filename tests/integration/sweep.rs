//! `kubetwin sweep` and `kubetwin merge` end to end on the small `sweep-nodes` scenario:
//! identical output for 1 and 2 threads, sharded + merged equal to unsharded, the
//! answer and its exit codes, and every malformed `--set` (exit 2 with the place).

use crate::{kubetwin, read, stderr, stdout};
use std::path::Path;

const SCENARIO: &str = "scenarios/sweep-nodes.yaml";

fn sweep(out: &Path, extra: &[&str]) -> std::process::Output {
    let out = out.display().to_string();
    let mut args = vec![
        "sweep",
        SCENARIO,
        "--set",
        "nodes=3..5",
        "--set",
        "replicas=8,12",
        "--seeds",
        "1..3",
        "--out",
        &out,
    ];
    args.extend_from_slice(extra);
    kubetwin(&args)
}

#[test]
fn thread_count_does_not_change_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("t1"), dir.path().join("t2"));
    let o1 = sweep(&a, &["--threads", "1"]);
    assert_eq!(o1.status.code(), Some(0), "{}", stderr(&o1));
    let o2 = sweep(&b, &["--threads", "2"]);
    assert_eq!(o2.status.code(), Some(0), "{}", stderr(&o2));
    for f in ["sweep.csv", "runs.csv", "answer.json", "pass_share.svg"] {
        assert_eq!(read(&a.join(f)), read(&b.join(f)), "{f}");
    }
    assert_eq!(stdout(&o1), stdout(&o2));
    // 3 x 2 grid points, parameters first, percentile columns per metric.
    let csv = read(&a.join("sweep.csv"));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 7);
    assert!(lines[0].starts_with("nodes,replicas,runs,pass_share,expectations.passed_p50,"));
    assert!(lines[0].contains(",pods.pending_p50,pods.pending_p95,pods.pending_p99,"));
    // 3 nodes cannot hold 12 replicas after losing one; 4 can.
    assert!(lines[2].starts_with("3,12,3,0,"), "{}", lines[2]);
    assert!(lines[4].starts_with("4,12,3,1,"), "{}", lines[4]);
    assert_eq!(read(&a.join("runs.csv")).lines().count(), 19);
    // No cost in this scenario: the first point in grid order that meets 95 %.
    let out = stdout(&o1);
    assert!(
        out.contains("answer: nodes=3 replicas=8 (cost.total not reported; first eligible point; expectations held in 3/3 seeds, >= 95%)"),
        "{out}"
    );
    assert!(stderr(&o1).contains("runs/s"), "{}", stderr(&o1));
    let answer: serde_json::Value = serde_json::from_str(&read(&a.join("answer.json"))).unwrap();
    assert_eq!(answer["point"]["parameters"]["nodes"], "3");
}

#[test]
fn sharded_and_merged_equals_unsharded() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole");
    assert_eq!(sweep(&whole, &[]).status.code(), Some(0));
    let shards: Vec<String> = (0..2)
        .map(|i| {
            let d = dir.path().join(format!("shard-{i}"));
            let o = sweep(&d, &["--shard", &format!("{i}/2")]);
            assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
            assert!(!d.join("sweep.csv").exists());
            d.display().to_string()
        })
        .collect();
    let merged = dir.path().join("merged");
    let m = merged.display().to_string();
    // Shards in any order.
    let o = kubetwin(&["merge", &shards[1], &shards[0], "--out", &m]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for f in [
        "sweep.csv",
        "runs.csv",
        "answer.json",
        "manifest.json",
        "nodes_total.svg",
    ] {
        assert_eq!(read(&whole.join(f)), read(&merged.join(f)), "{f}");
    }
    // A missing shard, a shard given twice, a shard of another sweep.
    let o = kubetwin(&["merge", &shards[0], "--out", &m]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("missing shard(s) 1/2"),
        "{}",
        stderr(&o)
    );
    let o = kubetwin(&["merge", &shards[0], &shards[0], "--out", &m]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("shard 0/2 is given twice"),
        "{}",
        stderr(&o)
    );
    let other = dir.path().join("other");
    let o = kubetwin(&[
        "sweep",
        SCENARIO,
        "--set",
        "nodes=3..5",
        "--seeds",
        "1..3",
        "--shard",
        "1/2",
        "--out",
        &other.display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    let o = kubetwin(&[
        "merge",
        &shards[0],
        &other.display().to_string(),
        "--out",
        &m,
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("other parameters or values"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn no_grid_point_meets_the_expectations() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("none");
    let o = kubetwin(&[
        "sweep",
        SCENARIO,
        "--set",
        "nodes=3",
        "--set",
        "replicas=12,13",
        "--seeds",
        "1..2",
        "--out",
        &out.display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("no grid point meets the expectations at 95% (best pass share 0%)"),
        "{}",
        stdout(&o)
    );
    let answer: serde_json::Value = serde_json::from_str(&read(&out.join("answer.json"))).unwrap();
    assert_eq!(answer["found"], false);
    // A lower bar is met by nothing either; `--confidence` outside (0, 1] is bad input.
    let o = kubetwin(&[
        "sweep",
        SCENARIO,
        "--confidence",
        "1.5",
        "--out",
        &out.display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--confidence 1.5"), "{}", stderr(&o));
}

/// Runs a sweep with one bad `--set`, expecting exit 2, `needle` in stderr, and no
/// output directory.
fn bad_set(sets: &[&str], needle: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o_s = out.display().to_string();
    let mut args = vec!["sweep", SCENARIO, "--seeds", "1", "--out", &o_s];
    for s in sets {
        args.push("--set");
        args.push(s);
    }
    let o = kubetwin(&args);
    assert_eq!(o.status.code(), Some(2), "{sets:?}: {}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains(needle), "{sets:?}: {e}");
    assert!(!e.contains("panicked"), "{e}");
    assert!(!out.exists(), "{sets:?} left output behind");
}

#[test]
fn malformed_sets_exit_2_naming_the_argument_and_field() {
    bad_set(
        &["cpus=1,2"],
        "--set #1 \"cpus=1,2\": cpus: unknown parameter \"cpus\" (declared parameters: nodes, replicas;",
    );
    bad_set(
        &["nodes=3", "spec.cluster.nodePools[1].count=2"],
        "--set #2 \"spec.cluster.nodePools[1].count=2\": spec.cluster.nodePools[1].count: path spec.cluster.nodePools[1].count does not exist in scenarios/sweep-nodes.yaml (spec.cluster.nodePools: index 1 is out of range (the list has 1), line 29)",
    );
    bad_set(
        &["nodes=10.."],
        "--set #1 \"nodes=10..\": nodes: range \"10..\" needs a start and an end",
    );
    bad_set(
        &["nodes=1..5:0"],
        "--set #1 \"nodes=1..5:0\": nodes: range \"1..5:0\": the step must be greater than 0",
    );
    bad_set(
        &["nodes=5..1"],
        "--set #1 \"nodes=5..1\": nodes: range \"5..1\" ends before it starts",
    );
    bad_set(
        &["nodes=a..b"],
        "--set #1 \"nodes=a..b\": nodes: range \"a..b\": \"a\" is not a number",
    );
    bad_set(
        &["nodes=3", "nodes=4"],
        "--set #2 \"nodes=4\": nodes: parameter nodes is already set by --set #1",
    );
    bad_set(
        &["nodes=3", "spec.cluster.nodePools[0].count=4"],
        "path spec.cluster.nodePools[0].count is already set by --set #1 (nodes",
    );
    bad_set(&["nodes"], "--set #1 \"nodes\": expected NAME=VALUES");
    bad_set(
        &["spec.cluster.nodePools=3"],
        "path spec.cluster.nodePools holds a list; only single values can be set",
    );
}

#[test]
fn a_value_the_scenario_rejects_names_file_line_and_field() {
    // The override's place in the scenario file, the field and the --set values.
    bad_set(
        &["nodes=2,-1"],
        "scenarios/sweep-nodes.yaml:30:14: spec.cluster.nodePools[0].count: with --set nodes=-1: must be between 0 and 100000, got -1",
    );
    bad_set(&["replicas=-3"], "with --set replicas=-3:");
}

#[test]
fn bad_parameter_declarations_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = read(&crate::root().join(SCENARIO)).replace(
        "- spec.timeline[0].scale.replicas",
        "- spec.timeline[0].scale.count",
    );
    let file = dir.path().join("bad.yaml");
    std::fs::write(&file, text).unwrap();
    let f = file.display().to_string();
    for cmd in [
        vec!["sweep", &f, "--seeds", "1"],
        vec!["run", &f, "--no-report"],
    ] {
        let o = kubetwin(&cmd);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        let e = stderr(&o);
        assert!(
            e.contains(&format!("{f}:25:9: spec.parameters.replicas.paths[0]: path spec.timeline[0].scale.count does not exist in the scenario")),
            "{e}"
        );
    }
}
