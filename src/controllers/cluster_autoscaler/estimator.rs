//! The binpacking estimator: how many template nodes a scale-up needs for a set of pods.
//!
//! Port of cluster-autoscaler/estimator/binpacking_estimator.go (`Estimate`,
//! `tryToScheduleOnExistingNodes`, `tryToScheduleOnNewNodes`) with the default
//! estimator/decreasing_pod_orderer.go order and estimator/threshold_based_limiter.go's
//! node limit (`--max-nodes-per-scaleup`). Pods come in equivalence groups; the groups are
//! ordered by decreasing `cpu/allocatable cpu + memory/allocatable memory` of their first
//! pod (container requests; a stable sort, where upstream's `sort.Slice` leaves ties in
//! an unspecified order). Then for each group: its pods go first-fit onto the nodes the
//! estimation already added (upstream's `FitsAnyNodeMatching` over the new nodes; its
//! rotating start index is not modelled), and from the first pod that fits none of them,
//! each pod tries only the last added node, else a fresh node is added, unless the last
//! added node is still empty (the pod cannot fit an empty template node: stop) or the
//! limit is reached (stop). A pod that does not fit a fresh node stops the group.

use crate::api::store::NodeUsage;
use crate::api::{Node, Pod};

/// What the estimator found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Estimate {
    /// Nodes with at least one pod (upstream `len(newNodesWithPods)`).
    pub node_count: usize,
    /// The ids of the pods placed, in placement order.
    pub scheduled: Vec<u32>,
}

/// The decreasing pod orderer's score of a pod on a template node.
pub fn pod_score(pod: &Pod, template: &Node) -> f64 {
    let (mut cpu, mut mem) = (0i64, 0i64);
    for c in &pod.spec.containers {
        cpu += c.requests.cpu_milli;
        mem += c.requests.memory;
    }
    let mut score = 0.0;
    if template.allocatable.cpu_milli > 0 {
        score += cpu as f64 / template.allocatable.cpu_milli as f64;
    }
    if template.allocatable.memory > 0 {
        score += mem as f64 / template.allocatable.memory as f64;
    }
    score
}

/// Estimates the nodes of `template` needed for `groups` (each a list of `(id, pod)`),
/// adding at most `max_nodes` nodes (0: no limit). `fits(pod, usage)` runs the scheduler's
/// filters for the pod on a template node holding `usage`.
pub fn estimate(
    groups: &[Vec<(u32, &Pod)>],
    template: &Node,
    max_nodes: usize,
    mut fits: impl FnMut(&Pod, &NodeUsage) -> bool,
) -> Estimate {
    let mut order: Vec<(usize, f64)> = groups
        .iter()
        .enumerate()
        .map(|(i, g)| (i, g.first().map_or(0.0, |(_, p)| pod_score(p, template))))
        .collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut nodes: Vec<NodeUsage> = Vec::new();
    let mut out = Estimate::default();
    for (gi, _) in order {
        let pods = &groups[gi];
        // tryToScheduleOnExistingNodes: stops at the first pod no new node takes.
        let mut index = 0;
        while index < pods.len() {
            let (id, pod) = pods[index];
            match nodes.iter().position(|u| fits(pod, u)) {
                Some(n) => {
                    nodes[n].apply_pod(pod, 1);
                    out.scheduled.push(id);
                }
                None => break,
            }
            index += 1;
        }
        // tryToScheduleOnNewNodes.
        for &(id, pod) in &pods[index..] {
            if let Some(last) = nodes.last_mut()
                && fits(pod, last)
            {
                last.apply_pod(pod, 1);
                out.scheduled.push(id);
                continue;
            }
            if nodes.last().is_some_and(|u| u.pods == 0) {
                break;
            }
            if max_nodes > 0 && nodes.len() >= max_nodes {
                break;
            }
            nodes.push(NodeUsage::default());
            let last = nodes.last_mut().expect("just pushed");
            if !fits(pod, last) {
                break;
            }
            last.apply_pod(pod, 1);
            out.scheduled.push(id);
        }
    }
    out.node_count = nodes.iter().filter(|u| u.pods > 0).count();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::manifest::load_str;
    use crate::api::objects::Object;

    fn pod(cpu: &str, mem: &str) -> Pod {
        let y = format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec: {{containers: [{{name: c, image: i, resources: {{requests: {{cpu: '{cpu}', memory: {mem}}}}}}}]}}\n"
        );
        match load_str(&y, "t.yaml", 1).unwrap().objects.remove(0).object {
            Object::Pod(p) => *p,
            _ => unreachable!(),
        }
    }

    fn template(cpu: i64, mem: i64) -> Node {
        let mut n = Node {
            meta: Default::default(),
            unschedulable: false,
            taints: Vec::new(),
            capacity: Default::default(),
            allocatable: Default::default(),
            ready: crate::api::objects::ConditionStatus::True,
            ready_transition: crate::engine::SimTime::ZERO,
            images: Vec::new(),
        };
        n.allocatable.cpu_milli = cpu;
        n.allocatable.memory = mem;
        n.allocatable.pods = 110;
        n.capacity = n.allocatable.clone();
        n
    }

    fn fits_in(t: &Node) -> impl FnMut(&Pod, &NodeUsage) -> bool + '_ {
        move |p, u| {
            u.pods < t.allocatable.pods
                && p.requests.cpu_milli <= t.allocatable.cpu_milli - u.requested.cpu_milli
                && p.requests.memory <= t.allocatable.memory - u.requested.memory
        }
    }

    const GI: i64 = 1 << 30;

    #[test]
    fn first_fit_decreasing_packs_big_pods_first() {
        let t = template(4000, 16 * GI);
        let small = pod("1", "1Gi");
        let big = pod("3", "1Gi");
        // Small pods come first in the input, the orderer puts the big group first:
        // 3 big pods take 3 nodes, the 3 small ones fill the 1 CPU left on each.
        let groups = vec![
            vec![(0, &small), (1, &small), (2, &small)],
            vec![(3, &big), (4, &big), (5, &big)],
        ];
        let e = estimate(&groups, &t, 0, fits_in(&t));
        assert_eq!(e.node_count, 3);
        assert_eq!(e.scheduled, vec![3, 4, 5, 0, 1, 2]);
    }

    #[test]
    fn limit_and_unfit_pods() {
        let t = template(2000, 4 * GI);
        let p = pod("1", "1Gi");
        let ten: Vec<(u32, &Pod)> = (0..10).map(|i| (i, &p)).collect();
        let e = estimate(std::slice::from_ref(&ten), &t, 3, fits_in(&t));
        assert_eq!(e.node_count, 3, "max-nodes-per-scaleup caps the estimate");
        assert_eq!(e.scheduled.len(), 6);
        let huge = pod("3", "1Gi");
        let e = estimate(&[vec![(0, &huge)]], &t, 0, fits_in(&t));
        assert_eq!(
            e,
            Estimate::default(),
            "a pod that fits no empty node adds none"
        );
    }

    proptest::proptest! {
        /// Every pod fits an empty node: all are placed once, and the count is between the
        /// volume bound and one node per pod.
        #[test]
        fn packs_every_fitting_pod(cpus in proptest::collection::vec(1i64..=4, 1..40)) {
            let t = template(4000, 64 * GI);
            let pods: Vec<Pod> = cpus.iter().map(|c| pod(&c.to_string(), "1Gi")).collect();
            let groups: Vec<Vec<(u32, &Pod)>> = pods
                .iter()
                .enumerate()
                .map(|(i, p)| vec![(i as u32, p)])
                .collect();
            let e = estimate(&groups, &t, 0, fits_in(&t));
            let total: i64 = cpus.iter().sum::<i64>() * 1000;
            proptest::prop_assert_eq!(e.scheduled.len(), pods.len());
            proptest::prop_assert!(e.node_count as i64 >= (total + 3999) / 4000);
            proptest::prop_assert!(e.node_count <= pods.len());
            let mut ids = e.scheduled.clone();
            ids.sort_unstable();
            ids.dedup();
            proptest::prop_assert_eq!(ids.len(), pods.len(), "each pod once");
        }
    }

    #[test]
    fn memory_bound_packing() {
        let t = template(8000, 4 * GI);
        let p = pod("100m", "1500Mi");
        let five: Vec<(u32, &Pod)> = (0..5).map(|i| (i, &p)).collect();
        // 2 per node by memory: 3 nodes.
        assert_eq!(estimate(&[five], &t, 0, fits_in(&t)).node_count, 3);
    }
}
