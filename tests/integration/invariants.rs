//! Invariants over many generated scenarios and seeds: no node is ever over-committed
//! (requests of its non-terminal pods within allocatable, pods within the pod limit),
//! and controllers converge to their desired replicas when the cluster has room.

use kubetwin::api::Kind;
use kubetwin::simulation::{RunOptions, run};
use kubetwin::workload::Scenario;
use proptest::prelude::*;

fn scenario_text(
    nodes: usize,
    cpu: u32,
    replicas: Vec<(u32, u32)>,
    crash: Option<usize>,
    scale: Option<u32>,
) -> String {
    let mut s = format!(
        "apiVersion: kubetwin.dev/v1alpha1\nkind: Scenario\nmetadata: {{name: prop}}\nspec:\n  duration: 15m\n  sampling: {{interval: 5s, perNode: true}}\n  cluster:\n    nodePools:\n    - name: n\n      count: {nodes}\n      capacity: {{cpu: \"{cpu}\", memory: 8Gi, pods: \"6\"}}\n      zones: [a, b]\n  manifests:\n"
    );
    for (i, (r, milli)) in replicas.iter().enumerate() {
        s.push_str(&format!(
            "  - inline: |\n      apiVersion: v1\n      kind: ReplicationController\n      metadata: {{name: rc{i}}}\n      spec:\n        replicas: {r}\n        selector: {{app: a{i}}}\n        template:\n          metadata: {{labels: {{app: a{i}}}}}\n          spec:\n            containers:\n            - name: c\n              image: img{i}\n              resources: {{requests: {{cpu: {milli}m, memory: 256Mi}}}}\n"
        ));
    }
    let mut timeline = String::new();
    if let Some(n) = crash {
        timeline.push_str(&format!("  - at: 1m\n    crashNode: n-{}\n", n % nodes + 1));
    }
    if let Some(r) = scale {
        timeline.push_str(&format!(
            "  - at: 2m\n    scale: {{target: rc/rc0, replicas: {r}}}\n"
        ));
    }
    if !timeline.is_empty() {
        s.push_str("  timeline:\n");
        s.push_str(&timeline);
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]
    #[test]
    fn no_node_is_overcommitted(
        nodes in 1usize..6,
        cpu in 1u32..6,
        replicas in proptest::collection::vec((0u32..12, 100u32..1500), 1..4),
        crash in proptest::option::of(0usize..6),
        scale in proptest::option::of(0u32..15),
        seed in 0u64..1000,
    ) {
        let text = scenario_text(nodes, cpu, replicas, crash, scale);
        let scenario = Scenario::from_str(&text, "prop.yaml", ".".into()).expect("generated scenario is valid");
        let out = run(&scenario, &RunOptions { seed: Some(seed), ..RunOptions::default() }).expect("runs");
        let m = &out.metrics;
        for (id, node) in out.store.nodes.iter() {
            let name = &node.meta.name;
            let cpu_col = m.column(&format!("node/{name}:cpu_requested_m")).expect("per-node column");
            let pods_col = m.column(&format!("node/{name}:pods")).expect("per-node column");
            for (i, (c, p)) in cpu_col.iter().zip(&pods_col).enumerate() {
                prop_assert!(*c <= node.allocatable.cpu_milli as f64, "{name} over-committed at sample {i}: {c}m > {}m (seed {seed})", node.allocatable.cpu_milli);
                prop_assert!(*p <= node.allocatable.pods as f64, "{name} holds {p} pods > {} (seed {seed})", node.allocatable.pods);
            }
            let u = out.store.node_usage(id);
            prop_assert!(u.requested.cpu_milli <= node.allocatable.cpu_milli);
        }
        // Convergence: with no crash and room to spare, every controller is satisfied.
        if crash.is_none() {
            let total: i64 = out.store.rcs.iter().map(|(_, r)| r.replicas as i64 * r.template.spec.containers[0].requests.cpu_milli).sum();
            let pods: i64 = out.store.rcs.iter().map(|(_, r)| r.replicas as i64).sum();
            let fits = total * 2 <= (nodes as i64) * (cpu as i64) * 1000 && pods * 2 <= nodes as i64 * 6;
            if fits {
                for (_, r) in out.store.rs_arena(Kind::ReplicationController).iter() {
                    prop_assert_eq!(r.status.ready_replicas, r.replicas, "{} not converged (seed {})", r.meta.name, seed);
                }
            }
        }
    }
}
