//! `kubetwin import`: a hand-written `kubectl get ... -A -o yaml` dump (tests/integration/
//! data/cluster-dump.yaml: 4 nodes in 2 zones, a Deployment with its current and old
//! ReplicaSets, 4 Running pods, a DaemonSet pod, a Service, an HPA, a PDB, and junk kinds)
//! becomes a scenario whose run keeps the pods where they are, creates nothing at time
//! zero and lets the ReplicaSet adopt them; a drain what-if moves them respecting the
//! PDB; bad dumps exit 2 naming the item and line, with nothing written. Also the
//! ByteDance M3 twin shipped in traces/bytedance-m3.

use super::*;
use kubetwin::api::Kind;
use kubetwin::simulation::{RunOptions, RunOutput, run};
use kubetwin::workload::Scenario;

const DUMP: &str = "tests/integration/data/cluster-dump.yaml";

/// Imports `dump_text` into a temp dir; returns (dir, output).
fn import_text(dump_text: &str) -> (tempfile::TempDir, std::process::Output) {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("dump.yaml");
    std::fs::write(&f, dump_text).unwrap();
    let out = dir.path().join("twin");
    let o = kubetwin(&[
        "import",
        "-f",
        f.to_str().unwrap(),
        "--out-dir",
        out.to_str().unwrap(),
    ]);
    (dir, o)
}

fn imported() -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, o) = import_text(&read(&root().join(DUMP)));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let p = dir.path().join("twin/scenario.yaml");
    (dir, p)
}

/// The imported scenario with `timeline` appended to its (empty) timeline.
fn with_timeline(scenario: &std::path::Path, timeline: &str, expectations: &str) -> Scenario {
    let text = read(scenario)
        .replace("  timeline: []\n", &format!("  timeline:\n{timeline}"))
        .replace(
            "  expectations: []\n",
            &format!("  expectations:\n{expectations}"),
        );
    let p = scenario.with_file_name("whatif.yaml");
    std::fs::write(&p, text).unwrap();
    Scenario::load(&p).expect("what-if loads")
}

fn node_of(out: &RunOutput, ns: &str, pod: &str) -> Option<String> {
    let id = out.store.pods.id_of(ns, pod)?;
    out.store.pods.get(id).map(|p| p.spec.node_name.clone())
}

#[test]
fn imported_pods_stay_running_where_they_are_and_are_adopted() {
    let (_d, scenario) = imported();
    let s = Scenario::load(&scenario).expect("the generated scenario loads");
    assert!(s.actions.is_empty());
    let out = run(&s, &RunOptions::default()).expect("runs");
    // Nothing created beyond the imported pods (4 web + kube-proxy).
    assert_eq!(out.store.stats.pods_created, 5);
    let placed = [
        ("web-6b8f7c9d4f-2xkqp", "node-a1"),
        ("web-6b8f7c9d4f-7hz4m", "node-a1"),
        ("web-6b8f7c9d4f-k9w2d", "node-a2"),
        ("web-6b8f7c9d4f-qt5vn", "node-b1"),
    ];
    let rs = out
        .store
        .replicasets
        .id_of("shop", "web-6b8f7c9d4f")
        .and_then(|id| out.store.replicasets.get(id))
        .expect("current ReplicaSet");
    for (pod, node) in placed {
        assert_eq!(node_of(&out, "shop", pod).as_deref(), Some(node), "{pod}");
        let id = out.store.pods.id_of("shop", pod).unwrap();
        let p = out.store.pods.get(id).unwrap();
        assert_eq!(p.status.phase.as_str(), "Running");
        assert!(p.status.ready, "{pod} ready");
        let owner = p.meta.controller_ref().expect("owned");
        assert_eq!((owner.kind, owner.uid), (Kind::ReplicaSet, rs.meta.uid));
    }
    // The ReplicaSet is the Deployment's, and no rollout happened (no new ReplicaSet).
    let d = out
        .store
        .deployments
        .id_of("shop", "web")
        .and_then(|id| out.store.deployments.get(id))
        .unwrap();
    assert_eq!(rs.meta.controller_ref().map(|o| o.uid), Some(d.meta.uid));
    assert_eq!(out.store.replicasets.len(), 2);
    // Running and Ready from time zero: the first sample sees them.
    let ready = out.metrics.column("deployment/shop/web:ready").unwrap();
    assert_eq!(ready[0], 4.0);
    // No pod was started or scheduled: no Scheduled, Started or SuccessfulCreate event.
    for e in &out.journal {
        assert!(
            !matches!(e.reason, "Scheduled" | "Started" | "SuccessfulCreate"),
            "{e:?}"
        );
    }
    // The DaemonSet pod is standalone and bound.
    assert_eq!(
        node_of(&out, "kube-system", "kube-proxy-x8r2t").as_deref(),
        Some("node-b2")
    );
}

#[test]
fn draining_a_node_moves_its_pods_respecting_the_pdb() {
    let (_d, scenario) = imported();
    let s = with_timeline(
        &scenario,
        "  - at: 1m\n    drain: {node: node-a1}\n",
        "  - deployment/shop/web.ready >= 3 after 0s\n  - deployment/shop/web.ready == 4\n",
    );
    let out = run(&s, &RunOptions::default()).expect("runs");
    assert!(out.passed(), "{:?}", out.expectations);
    // node-a1 is empty; the two replacements went to untainted nodes with room.
    let a1 = out.store.nodes.id_of("", "node-a1").unwrap();
    assert_eq!(out.store.pods_on_node(a1).count(), 0);
    let mut web_nodes: Vec<String> = out
        .store
        .pods
        .iter()
        .filter(|(_, p)| p.meta.labels.get("app").is_some_and(|a| a == "web"))
        .map(|(_, p)| p.spec.node_name.clone())
        .collect();
    web_nodes.sort();
    assert_eq!(web_nodes.len(), 4);
    assert!(
        web_nodes.iter().all(|n| n == "node-a2" || n == "node-b1"),
        "{web_nodes:?}"
    );
    // The second eviction was refused by the PDB at least once, then went through.
    let ready = out.metrics.column("deployment/shop/web:ready").unwrap();
    assert!(ready.iter().all(|r| *r >= 3.0), "{ready:?}");
    // The dump's pods on the other nodes never moved.
    assert_eq!(
        node_of(&out, "shop", "web-6b8f7c9d4f-k9w2d").as_deref(),
        Some("node-a2")
    );
}

#[test]
fn generated_scenario_and_warnings_snapshot() {
    let (dir, o) = import_text(&read(&root().join(DUMP)));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let tmp = dir.path().display().to_string();
    let scenario = read(&dir.path().join("twin/scenario.yaml")).replace(&tmp, "TMP");
    insta::assert_snapshot!("import_scenario", scenario);
    let warnings = stderr(&o).replace(&tmp, "TMP");
    insta::assert_snapshot!("import_warnings", warnings);
    let manifests = read(&dir.path().join("twin/manifests.yaml"));
    assert!(!manifests.contains("managedFields"));
    assert!(!manifests.contains("resourceVersion"));
    assert!(!manifests.contains("last-applied-configuration"));
    assert!(!manifests.contains("Endpoints"));
    assert!(manifests.contains("nodeName: node-a1"));
}

/// Runs import on a broken dump: exit 2, the place in the message, nothing written.
fn expect_bad(dump_text: &str, needles: &[&str]) {
    let (dir, o) = import_text(dump_text);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "expected {n:?} in:\n{err}");
    }
    assert!(!dir.path().join("twin").exists(), "partial output left");
}

#[test]
fn bad_dumps_exit_2_with_the_place() {
    let good = read(&root().join(DUMP));
    // A pod bound to a node that is not in the dump (items[12]).
    let unknown = good.replacen("nodeName: node-a2", "nodeName: node-z9", 1);
    expect_bad(
        &unknown,
        &["dump.yaml:1004:", "items[12].spec.nodeName", "node-z9"],
    );
    // A Deployment with negative replicas (items[7]).
    let neg = good.replacen(
        "replicas: 4\n    revisionHistoryLimit",
        "replicas: -4\n    revisionHistoryLimit",
        1,
    );
    assert_ne!(neg, good);
    expect_bad(
        &neg,
        &[
            "dump.yaml:460:",
            "items[7].spec.replicas",
            "greater than or equal to 0",
        ],
    );
    // A bad quantity in a node's capacity.
    let qty = good.replacen("    cpu: \"4\"", "    cpu: four", 1);
    assert_ne!(qty, good);
    expect_bad(&qty, &["dump.yaml:51:", "items[0].status.capacity.cpu"]);
    // Not a List.
    expect_bad(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers:\n  - name: a\n    image: b\n",
        &["dump.yaml:2:", "not a cluster dump"],
    );
    // Truncated in the middle of an item.
    let cut = &good[..good.find("  name: web-6b8f7c9d4f-k9w2d").unwrap() + 14];
    let cut = format!("{cut}\n  labels: [a,\n");
    expect_bad(&cut, &["dump.yaml:", "malformed YAML"]);
}

#[test]
fn bytedance_m3_twin_imports_and_keeps_the_real_placement() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m3.yaml");
    let o = kubetwin(&[
        "import",
        "--bytedance",
        "traces/bytedance-m3",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s = stdout(&o);
    assert!(
        s.contains("imported 96 nodes, 3485 pods (3485 bound, 3485 running), 547 deployments"),
        "{s}"
    );
    assert!(dir.path().join("m3.manifests.yaml").is_file());
    let scenario = read(&out);
    assert!(
        scenario.contains("#   0.0.0.53: 99.8% of allocatable CPU, 38 pods"),
        "{scenario}"
    );
}

#[test]
fn bytedance_m3_drain_moves_the_busiest_machines_pods_to_the_emptiest() {
    let s = Scenario::load(&root().join("scenarios/bytedance-m3-drain.yaml")).expect("loads");
    let out = run(&s, &RunOptions::default()).expect("runs");
    assert!(out.passed(), "{:?}", out.expectations);
    let count = |node: &str| {
        let id = out.store.nodes.id_of("", node).unwrap();
        out.store.pods_on_node(id).count()
    };
    assert_eq!(count("0.0.0.53"), 0);
    // The emptiest machines at time zero (0.0.0.68: 2 pods, 0.0.0.49: 4, 0.0.0.20: 6)
    // took most replacements.
    assert_eq!(
        (count("0.0.0.68"), count("0.0.0.49"), count("0.0.0.20")),
        (12, 10, 10)
    );
    // Every other imported pod is still where the data put it.
    assert_eq!(out.store.stats.pods_created, 3485 + 38);
}
