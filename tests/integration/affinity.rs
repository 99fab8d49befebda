//! Inter-pod affinity end to end: `scenarios/affinity.yaml` passes, and the placements
//! prove the rules: cache replicas on distinct nodes of zones a and b (required
//! anti-affinity on the hostname plus node affinity), the replica that does not fit
//! Pending with upstream's anti-affinity reason, and web pods only in zones holding a
//! cache pod (required affinity), one per node (preferred anti-affinity).

use super::*;
use kubetwin::simulation::{RunOptions, run};
use kubetwin::workload::Scenario;
use std::collections::{BTreeMap, BTreeSet};

#[test]
fn affinity_scenario_places_pods_by_the_rules() {
    let s = Scenario::load(&root().join("scenarios/affinity.yaml")).expect("loads");
    let out = run(&s, &RunOptions::default()).expect("runs");
    assert!(out.passed(), "{:?}", out.expectations);
    let zone_of: BTreeMap<String, String> = out
        .store
        .nodes
        .iter()
        .map(|(_, n)| {
            (
                n.meta.name.clone(),
                n.meta.labels["topology.kubernetes.io/zone"].clone(),
            )
        })
        .collect();
    let mut cache_nodes = Vec::new();
    let mut web_nodes = Vec::new();
    let mut pending = Vec::new();
    for (_, p) in out.store.pods.iter_by_name() {
        let node = p.spec.node_name.clone();
        match (
            p.meta.labels.get("app").map(String::as_str),
            node.is_empty(),
        ) {
            (_, true) => pending.push(p.meta.name.clone()),
            (Some("cache"), false) => cache_nodes.push(node),
            (Some("web"), false) => web_nodes.push(node),
            _ => {}
        }
    }
    // Required anti-affinity on the hostname: four cache pods, four distinct nodes, all
    // in zones a and b.
    assert_eq!(cache_nodes.len(), 4, "{cache_nodes:?}");
    let distinct: BTreeSet<&String> = cache_nodes.iter().collect();
    assert_eq!(distinct.len(), 4, "{cache_nodes:?}");
    let cache_zones: BTreeSet<&str> = cache_nodes.iter().map(|n| zone_of[n].as_str()).collect();
    assert_eq!(cache_zones, BTreeSet::from(["a", "b"]));
    // Required affinity to a cache pod's zone; preferred anti-affinity among web pods.
    assert_eq!(web_nodes.len(), 4, "{web_nodes:?}");
    for n in &web_nodes {
        assert!(cache_zones.contains(zone_of[n].as_str()), "web on {n}");
    }
    let distinct: BTreeSet<&String> = web_nodes.iter().collect();
    assert_eq!(distinct.len(), 4, "{web_nodes:?}");
    // The fifth cache replica stays Pending with upstream's reasons.
    assert_eq!(pending.len(), 1, "{pending:?}");
    let msgs: Vec<&str> = out
        .journal
        .iter()
        .filter(|j| j.reason == "FailedScheduling" && j.name == pending[0])
        .map(|j| j.message.as_str())
        .collect();
    assert!(!msgs.is_empty());
    for m in msgs {
        assert_eq!(
            m,
            "0/5 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 4 node(s) didn't match pod anti-affinity rules. \
             preemption: 0/5 nodes are available: 1 Preemption is not helpful for scheduling, \
             4 No preemption victims found for incoming pod."
        );
    }
}
