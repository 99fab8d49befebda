//! The profile's Filter plugins run for a pod against a node that need not exist in the
//! store (a node group's template, or a real node with pods assumed on it): what the
//! cluster autoscaler's scheduler-based predicate checker does with its cluster snapshot
//! (cluster-autoscaler/simulator/predicatechecker/schedulerbased.go CheckPredicates,
//! which runs the scheduler framework's PreFilter and Filter plugins on one NodeInfo).
//!
//! The node-local filters run exactly as in a scheduling cycle (NodeUnschedulable,
//! TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit, in the profile's order and
//! stopping at the first failure); the usage passed in stands for the NodeInfo's pods.
//! PodTopologySpread and InterPodAffinity need cluster-wide counts over a snapshot that
//! includes the hypothetical node, which the scheduler's caches do not model; they are not
//! evaluated here (a documented gap), nor are out-of-tree plugins.

use super::plugins::taint_toleration::{
    ERR_REASON_UNTOLERATED_TAINT, find_untolerated_do_not_schedule_taint,
};
use super::profile::Profile;
use super::{Enabled, fits_ports, fits_resources, lite_of, pod_host_ports};
use crate::api::affinity::required_node_affinity_matches;
use crate::api::store::NodeUsage;
use crate::api::{Node, Pod, Store};

/// Runs `profile`'s node-local Filter plugins for `pod` on `node` with `usage` as the
/// node's assumed pods; `Err` holds the first failing plugin's reasons, worded as the
/// scheduler's (`Insufficient cpu`, `node(s) had untolerated taint(s)`, ...). `store`
/// is only read for a node that exists in it (extended resources). Callers checking many
/// nodes build a [`NodeFilter`] once instead.
pub fn filter_node(
    profile: &Profile,
    pod: &Pod,
    node: &Node,
    usage: &NodeUsage,
    store: &Store,
) -> Result<(), Vec<String>> {
    NodeFilter::new(profile).filter(pod, node, usage, store)
}

/// A profile's node-local Filter plugins, resolved once.
#[derive(Debug, Clone, Copy)]
pub struct NodeFilter {
    en: Enabled,
}

impl NodeFilter {
    /// The filters `profile` enables.
    pub fn new(profile: &Profile) -> NodeFilter {
        NodeFilter {
            en: Enabled::of(profile),
        }
    }

    /// [`filter_node`] with the resolved profile.
    pub fn filter(
        &self,
        pod: &Pod,
        node: &Node,
        usage: &NodeUsage,
        store: &Store,
    ) -> Result<(), Vec<String>> {
        run_filters(&self.en, pod, node, usage, store)
    }
}

fn run_filters(
    en: &Enabled,
    pod: &Pod,
    node: &Node,
    usage: &NodeUsage,
    store: &Store,
) -> Result<(), Vec<String>> {
    if en.unschedulable && node.unschedulable {
        super::node_unschedulable_filter(pod)?;
    }
    if en.taints
        && find_untolerated_do_not_schedule_taint(&node.taints, &pod.spec.tolerations, false)
            .is_some()
    {
        return Err(vec![ERR_REASON_UNTOLERATED_TAINT.into()]);
    }
    if en.affinity
        && !required_node_affinity_matches(
            &pod.spec.node_selector,
            pod.spec.node_affinity.as_ref(),
            &node.meta.labels,
            &node.meta.name,
        )
    {
        return Err(vec![
            "node(s) didn't match Pod's node affinity/selector".into(),
        ]);
    }
    if en.ports {
        let ports = pod_host_ports(pod);
        if !ports.is_empty() && !fits_ports(&ports, usage) {
            return Err(vec![super::ERR_REASON_NODE_PORTS.into()]);
        }
    }
    if en.fit {
        let lite = lite_of(node);
        if pod.requests.extended.is_empty() {
            fits_resources(pod, &lite, store, u32::MAX, usage)?;
        } else {
            // fits_resources reads extended allocatable from the store; a hypothetical
            // node is not there, so check the core resources on a copy and the extended
            // ones here, in fit.go's order (core reasons first).
            let mut core = pod.clone();
            core.requests.extended.clear();
            let mut reasons = fits_resources(&core, &lite, store, u32::MAX, usage)
                .err()
                .unwrap_or_default();
            for (name, v) in &pod.requests.extended {
                if *v > 0 && *v > node.allocatable.get(name) - usage.requested.get(name) {
                    reasons.push(format!("Insufficient {name}"));
                }
            }
            if !reasons.is_empty() {
                return Err(reasons);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::manifest::load_str;
    use crate::api::objects::Object;
    use crate::engine::RngStreams;

    fn objects(yaml: &str) -> Vec<Object> {
        load_str(yaml, "t.yaml", 1)
            .unwrap()
            .objects
            .into_iter()
            .map(|l| l.object)
            .collect()
    }

    const NODE: &str = "apiVersion: v1\nkind: Node\nmetadata: {name: t, labels: {pool: a}}\nspec: {taints: [{key: k, value: v, effect: NoSchedule}]}\nstatus: {capacity: {cpu: '2', memory: 4Gi, pods: '3'}}\n";

    fn pod(extra: &str) -> Pod {
        let y = format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers: [{{name: c, image: i, resources: {{requests: {{cpu: '1500m', memory: 1Gi}}}}}}]\n{extra}"
        );
        match objects(&y).remove(0) {
            Object::Pod(p) => *p,
            _ => unreachable!(),
        }
    }

    fn node() -> Node {
        match objects(NODE).remove(0) {
            Object::Node(n) => *n,
            _ => unreachable!(),
        }
    }

    #[test]
    fn filters_in_profile_order() {
        let store = Store::new(RngStreams::new(1).stream("n"), false);
        let profile = Profile::default();
        let n = node();
        let mut usage = NodeUsage::default();
        // The taint fails first, before resources are looked at.
        assert_eq!(
            filter_node(&profile, &pod(""), &n, &usage, &store),
            Err(vec![ERR_REASON_UNTOLERATED_TAINT.to_string()])
        );
        let tolerant =
            pod("  tolerations: [{key: k, operator: Exists}]\n  nodeSelector: {pool: a}\n");
        assert_eq!(filter_node(&profile, &tolerant, &n, &usage, &store), Ok(()));
        let wrong_pool =
            pod("  tolerations: [{key: k, operator: Exists}]\n  nodeSelector: {pool: b}\n");
        assert!(filter_node(&profile, &wrong_pool, &n, &usage, &store).is_err());
        // One such pod assumed on the node: the second no longer fits.
        usage.apply_pod(&tolerant, 1);
        assert_eq!(
            filter_node(&profile, &tolerant, &n, &usage, &store),
            Err(vec!["Insufficient cpu".to_string()])
        );
    }
}
