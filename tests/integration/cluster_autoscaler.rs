//! The cluster autoscaler end to end: scale-up after unschedulable pods, nodes after the
//! provisioning delay, capped at the group's max with `NotTriggerScaleUp` for the rest;
//! scale-down after the unneeded time, never below min, never through a
//! PodDisruptionBudget; the expanders; cost in `summary.json`; and bad node-group input
//! (exit 2 with file, line and field).

use super::*;
use kubetwin::api::store::JournalEntry;
use kubetwin::simulation::{RunOptions, RunOutput, run};
use kubetwin::workload::Scenario;

fn run_text(text: &str) -> RunOutput {
    let s = Scenario::from_str(text, "ca.yaml", root()).expect("loads");
    run(&s, &RunOptions::default()).expect("runs")
}

fn events<'a>(out: &'a RunOutput, reason: &str) -> Vec<&'a JournalEntry> {
    out.journal.iter().filter(|e| e.reason == reason).collect()
}

fn column(out: &RunOutput, name: &str) -> Vec<f64> {
    out.metrics
        .column(name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

/// A scenario with one or more node groups (YAML list items) and a Deployment `web` of
/// `replicas` pods requesting `cpu`, scaled by `timeline`.
fn scenario(groups: &str, ca: &str, replicas: u32, cpu: &str, pdb: &str, timeline: &str) -> String {
    format!(
        "apiVersion: kubetwin.dev/v1alpha1
kind: Scenario
metadata: {{name: ca-test}}
spec:
  duration: 40m
  cluster:
    nodeGroups:
{groups}
{ca}
  manifests:
  - inline: |
      apiVersion: apps/v1
      kind: Deployment
      metadata: {{name: web}}
      spec:
        replicas: {replicas}
        selector: {{matchLabels: {{app: web}}}}
        template:
          metadata: {{labels: {{app: web}}}}
          spec:
            containers:
            - name: web
              image: nginx
              resources: {{requests: {{cpu: {cpu}, memory: 1Gi}}}}
{pdb}
  timeline:
{timeline}
"
    )
}

const POOL: &str = "    - name: pool
      min: 1
      max: 3
      initial: 1
      costPerHour: 1.0
      template: {capacity: {cpu: '4', memory: 16Gi}}";

#[test]
fn shipped_scenario_scales_up_after_the_delay_and_down_after_unneeded_time() {
    let s = Scenario::load(&root().join("scenarios/cluster-autoscaler.yaml")).expect("loads");
    let out = run(&s, &RunOptions::default()).expect("runs");
    assert!(out.passed(), "{:?}", out.expectations);
    let up = events(&out, "TriggeredScaleUp");
    assert_eq!(up.len(), 6, "the six pending pods");
    for e in &up {
        assert_eq!(e.t_ms, 120_000, "at the first scan after the scale");
        assert_eq!(
            e.message,
            "pod triggered scale-up: [{web-pool 2->5 (max: 6)}]"
        );
    }
    // The new nodes register after the 60 s provisioning delay.
    let added: Vec<(u64, &str)> = out
        .journal
        .iter()
        .filter(|e| e.entry_type == "ADDED" && e.kind == "Node" && e.t_ms > 0)
        .map(|e| (e.t_ms, e.name.as_str()))
        .collect();
    assert_eq!(
        added,
        vec![
            (180_000, "web-pool-3"),
            (180_000, "web-pool-4"),
            (180_000, "web-pool-5")
        ]
    );
    // Scale-down only after 10 min unneeded (the Deployment shrank at 15m).
    let marked = out
        .journal
        .iter()
        .filter(|e| e.reason == "ScaleDown" && e.message.starts_with("marked"))
        .map(|e| e.t_ms)
        .min()
        .expect("scale-down happened");
    assert!(marked >= 25 * 60_000, "marked at {marked} ms");
    assert!(
        marked <= 25 * 60_000 + 10_000,
        "within one scan: {marked} ms"
    );
    let removed: Vec<&str> = events(&out, "ScaleDownEmpty")
        .iter()
        .map(|e| e.message.as_str())
        .collect();
    assert_eq!(
        removed,
        [
            "Scale-down: empty node web-pool-1 removed",
            "Scale-down: empty node web-pool-2 removed"
        ]
    );
    assert!(
        events(&out, "ScaleDown")
            .iter()
            .any(|e| e.message == "Scale-down: node web-pool-3 removed with drain")
    );
    // Never below min.
    assert!(
        column(&out, "nodegroup/web-pool:nodes")
            .iter()
            .all(|n| *n >= 1.0)
    );
    let cost = out.cost.as_ref().expect("a ledger");
    let g = cost.group("web-pool").unwrap();
    assert_eq!(
        (g.peak_nodes, g.scale_ups, g.scale_downs, g.nodes),
        (5, 3, 4, 1)
    );
    // 2 nodes for 2 min, 5 (billed from the request) to 25m15s, 2 to 40m15s (the node
    // the first pass moved a pod onto lost the PDB budget to that move and was unremovable,
    // rechecked every 5 min), then 1 to 50m.
    let hours = (2.0 * 2.0 + 5.0 * 23.25 + 2.0 * 15.0 + 9.75) / 60.0;
    assert!((cost.node_hours(out.end) - hours).abs() < 1e-9);
    let summary = kubetwin::report::writer::summary(&out);
    assert!((summary["cost"]["total"].as_f64().unwrap() - hours * 0.2).abs() < 1e-9);
    assert_eq!(summary["cost"]["groups"]["web-pool"]["max"], 6);
}

#[test]
fn max_size_caps_the_scale_up_and_the_rest_is_not_triggered() {
    let text = scenario(
        POOL,
        "",
        1,
        "1500m",
        "",
        "  - at: 1m\n    scale: {target: deployment/web, replicas: 10}",
    );
    let out = run_text(&text);
    let up = events(&out, "TriggeredScaleUp");
    assert!(!up.is_empty());
    assert!(
        up.iter()
            .all(|e| e.message == "pod triggered scale-up: [{pool 1->3 (max: 3)}]"),
        "{:?}",
        up.iter().map(|e| &e.message).collect::<Vec<_>>()
    );
    // 3 nodes hold 6 pods; the other 4 stay pending and are told why.
    let not = events(&out, "NotTriggerScaleUp");
    assert!(!not.is_empty());
    assert!(
        not.iter()
            .all(|e| e.message == "pod didn't trigger scale-up: 1 max node group size reached")
    );
    assert_eq!(out.store.pod_counts().pending, 4);
    let nodes = column(&out, "nodegroup/pool:nodes");
    assert!(nodes.iter().all(|n| *n <= 3.0));
    assert_eq!(nodes.last(), Some(&3.0));
    // Repeats are held back for 5 minutes per pod.
    let first = not.iter().filter(|e| e.name == not[0].name).count();
    assert!(first <= 40 / 5 + 1, "{first} repeats");
}

#[test]
fn a_pod_no_template_fits_does_not_trigger_scale_up() {
    let text = scenario(
        POOL,
        "",
        1,
        "'6'",
        "",
        "  - at: 1m\n    scale: {target: deployment/web, replicas: 1}",
    );
    let out = run_text(&text);
    assert!(events(&out, "TriggeredScaleUp").is_empty());
    let not = events(&out, "NotTriggerScaleUp");
    assert_eq!(
        not[0].message,
        "pod didn't trigger scale-up: 1 Insufficient cpu"
    );
    assert_eq!(out.cost.as_ref().unwrap().groups[0].nodes, 1);
}

#[test]
fn scale_down_respects_min_and_pod_disruption_budgets() {
    // 6 pods of 1.5 CPU need 3 nodes; back to 2 pods, the PDB (minAvailable 2) lets
    // none be evicted: empty nodes go, nodes with a pod stay.
    let pdb = "      ---
      apiVersion: policy/v1
      kind: PodDisruptionBudget
      metadata: {name: web}
      spec:
        minAvailable: 2
        selector: {matchLabels: {app: web}}";
    let timeline = "  - at: 1m\n    scale: {target: deployment/web, replicas: 6}\n  - at: 8m\n    scale: {target: deployment/web, replicas: 2}";
    let out = run_text(&scenario(POOL, "", 2, "1500m", pdb, timeline));
    assert!(
        events(&out, "Evicted").is_empty(),
        "the budget allows no eviction"
    );
    let occupied: std::collections::BTreeSet<String> = out
        .store
        .pods
        .iter()
        .map(|(_, p)| p.spec.node_name.clone())
        .collect();
    let nodes = out.cost.as_ref().unwrap().groups[0].nodes;
    assert_eq!(
        nodes,
        occupied.len().max(1),
        "only nodes holding a pod remain"
    );
    // Without the budget the same run ends on the group's min... or the pods' need.
    let out = run_text(&scenario(POOL, "", 2, "1500m", "", timeline));
    let g = &out.cost.as_ref().unwrap().groups[0];
    assert_eq!(g.nodes, 1, "two 1.5-CPU pods fit one node");
    assert!(
        column(&out, "nodegroup/pool:nodes")
            .iter()
            .all(|n| *n >= 1.0)
    );
    // A min of 2 holds even when nothing runs.
    let pool2 = POOL
        .replace("min: 1", "min: 2")
        .replace("initial: 1", "initial: 2");
    let out = run_text(&scenario(
        &pool2,
        "",
        1,
        "100m",
        "",
        "  - at: 1m\n    scale: {target: deployment/web, replicas: 0}",
    ));
    assert!(events(&out, "ScaleDown").is_empty());
    assert!(events(&out, "ScaleDownEmpty").is_empty());
    assert_eq!(out.cost.as_ref().unwrap().groups[0].nodes, 2);
}

#[test]
fn nodes_not_provisioned_in_time_fail_and_the_group_backs_off() {
    let slow = POOL.replace(
        "costPerHour: 1.0",
        "costPerHour: 1.0\n      provisioningDelay: 20m",
    );
    let out = run_text(&scenario(
        &slow,
        "",
        1,
        "3",
        "",
        "  - at: 1m\n    scale: {target: deployment/web, replicas: 2}",
    ));
    let up = events(&out, "TriggeredScaleUp");
    assert_eq!(up[0].t_ms, 60_000);
    assert_eq!(
        up[0].message,
        "pod triggered scale-up: [{pool 1->2 (max: 3)}]"
    );
    // max-node-provision-time (15m) passes first: the node never registers.
    let failed = events(&out, "ScaleUpTimedOut");
    assert_eq!(failed[0].t_ms, 16 * 60_000);
    assert_eq!(
        failed[0].message,
        "Nodes added to group pool failed to register within 15m0s"
    );
    assert!(
        events(&out, "NotTriggerScaleUp")
            .iter()
            .any(|e| e.t_ms >= 16 * 60_000
                && e.message == "pod didn't trigger scale-up: 1 in backoff after failed scale-up")
    );
    // After the 5 min backoff the group is tried again.
    assert!(up.iter().any(|e| e.t_ms >= 21 * 60_000), "{up:?}");
    assert!(
        !out.journal
            .iter()
            .any(|e| e.entry_type == "ADDED" && e.name == "pool-2")
    );
}

fn two_groups(expander: &str) -> RunOutput {
    let groups = "    - name: small
      max: 10
      priority: 10
      template: {capacity: {cpu: '2', memory: 4Gi}}
    - name: big
      max: 10
      priority: 50
      template: {capacity: {cpu: '16', memory: 64Gi}}";
    let ca = format!("  clusterAutoscaler: {{expander: {expander}}}");
    run_text(&scenario(
        groups,
        &ca,
        0,
        "1500m",
        "",
        "  - at: 1m\n    scale: {target: deployment/web, replicas: 2}",
    ))
}

#[test]
fn expanders_pick_the_group() {
    let g = |out: &RunOutput, i: usize| out.cost.as_ref().unwrap().groups[i].scale_ups;
    // least-waste: 2 small nodes waste 25% CPU and 75% memory; 1 big node far more.
    let out = two_groups("least-waste");
    assert_eq!((g(&out, 0), g(&out, 1)), (2, 0));
    assert_eq!(
        events(&out, "TriggeredScaleUp")[0].message,
        "pod triggered scale-up: [{small 0->2 (max: 10)}]"
    );
    let out = two_groups("priority");
    assert_eq!((g(&out, 0), g(&out, 1)), (0, 1));
    assert_eq!(out.store.pod_counts().running, 2);
}

// --- bad input: exit 2 with file, line and field ---

fn expect_bad(groups: &str, ca: &str, line: usize, needles: &[&str]) {
    let text = scenario(
        groups,
        ca,
        1,
        "100m",
        "",
        "  - at: 1m\n    scale: {target: deployment/web, replicas: 1}",
    );
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad-ca.yaml");
    std::fs::write(&f, &text).unwrap();
    for args in [
        vec!["validate", "-f", f.to_str().unwrap()],
        vec![
            "run",
            f.to_str().unwrap(),
            "--out",
            dir.path().join("out").to_str().unwrap(),
        ],
    ] {
        let o = kubetwin(&args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        let at = format!("{}:{line}:", f.display());
        assert!(err.contains(&at), "expected {at} in:\n{err}");
        for n in needles {
            assert!(err.contains(n), "expected {n:?} in:\n{err}");
        }
    }
    assert!(!dir.path().join("out").exists(), "no partial report");
}

#[test]
fn min_greater_than_max() {
    expect_bad(
        &POOL.replace("min: 1", "min: 5"),
        "",
        9,
        &[
            "spec.cluster.nodeGroups[0].min",
            "min (5) must not be greater than max (3)",
        ],
    );
}

#[test]
fn initial_outside_min_max() {
    expect_bad(
        &POOL.replace("initial: 1", "initial: 4"),
        "",
        11,
        &[
            "spec.cluster.nodeGroups[0].initial",
            "between min (1) and max (3), got 4",
        ],
    );
}

#[test]
fn negative_counts_and_costs() {
    expect_bad(
        &POOL.replace("max: 3", "max: -2"),
        "",
        10,
        &["spec.cluster.nodeGroups[0].max", "got -2"],
    );
    expect_bad(
        &POOL.replace("min: 1", "min: -1"),
        "",
        9,
        &["spec.cluster.nodeGroups[0].min", "got -1"],
    );
    expect_bad(
        POOL,
        "  clusterAutoscaler:\n    maxEmptyBulkDelete: 0",
        15,
        &["spec.clusterAutoscaler.maxEmptyBulkDelete", "got 0"],
    );
    expect_bad(
        &POOL.replace("costPerHour: 1.0", "costPerHour: -0.5"),
        "",
        12,
        &["spec.cluster.nodeGroups[0].costPerHour", "non-negative"],
    );
}

#[test]
fn unknown_expander() {
    expect_bad(
        POOL,
        "  clusterAutoscaler:\n    expander: cheapest",
        15,
        &[
            "spec.clusterAutoscaler.expander",
            "unknown expander \"cheapest\"",
        ],
    );
}

#[test]
fn bad_autoscaler_settings() {
    expect_bad(
        POOL,
        "  clusterAutoscaler:\n    scanInterval: 0s",
        15,
        &["spec.clusterAutoscaler.scanInterval", "greater than 0"],
    );
    expect_bad(
        POOL,
        "  clusterAutoscaler:\n    scaleDownUtilizationThreshold: 1.5",
        15,
        &["spec.clusterAutoscaler.scaleDownUtilizationThreshold"],
    );
}

#[test]
fn duplicate_group_names() {
    let two = format!("{POOL}\n{}", POOL.replace("max: 3", "max: 4"));
    expect_bad(
        &two,
        "",
        14,
        &[
            "spec.cluster.nodeGroups[1].name",
            "duplicate node group name \"pool\"",
        ],
    );
}

#[test]
fn group_named_like_a_node_pool() {
    let pools = format!(
        "    - {{name: pool, max: 2, template: {{capacity: {{cpu: '1', memory: 1Gi}}}}}}\n  {}",
        "  nodePools: [{name: pool, count: 1, capacity: {cpu: '1', memory: 1Gi}}]"
    );
    expect_bad(
        &pools,
        "",
        8,
        &["spec.cluster.nodeGroups[0].name", "duplicate"],
    );
}

#[test]
fn template_without_cpu_or_memory() {
    expect_bad(
        &POOL.replace("cpu: '4', ", ""),
        "",
        13,
        &[
            "spec.cluster.nodeGroups[0].template.capacity",
            "needs cpu capacity",
        ],
    );
    expect_bad(
        &POOL.replace(", memory: 16Gi", ""),
        "",
        13,
        &[
            "spec.cluster.nodeGroups[0].template.capacity",
            "needs memory capacity",
        ],
    );
}
