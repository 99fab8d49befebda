//! The cluster autoscaler's settings and node groups, with upstream's defaults
//! (cluster-autoscaler/config/flags/flags.go, config/const.go). Durations are virtual.

use crate::api::Node;
use crate::engine::SimDuration;

/// The label kubetwin puts on every node of a node group (the cloud providers' node-pool
/// labels, e.g. `cloud.google.com/gke-nodepool`, play this role upstream).
pub const NODE_GROUP_LABEL: &str = "kubetwin.dev/node-group";

/// The taint the autoscaler puts on a node it deletes (utils/taints/taints.go
/// `ToBeDeletedTaint`), effect NoSchedule, value the Unix time in seconds; the node is
/// cordoned too (`--cordon-node-before-terminating`, default true).
pub const TO_BE_DELETED_TAINT: &str = "ToBeDeletedByClusterAutoscaler";

/// kubetwin's default provisioning delay: from the scale-up request to the node
/// registering Ready (a cloud VM's boot and kubelet registration; not an upstream
/// setting, the cloud decides it).
pub const DEFAULT_PROVISIONING_DELAY: SimDuration = SimDuration::from_secs(60);

/// How a scale-up picks among the node groups that could help (`--expander`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpanderKind {
    /// expander/waste: least wasted CPU + memory fraction, random among ties.
    LeastWaste,
    /// expander/random.
    Random,
    /// expander/priority: the highest-priority groups, random among ties.
    Priority,
}

impl ExpanderKind {
    /// Parses upstream's expander names.
    pub fn parse(s: &str) -> Option<ExpanderKind> {
        match s {
            "least-waste" => Some(ExpanderKind::LeastWaste),
            "random" => Some(ExpanderKind::Random),
            "priority" => Some(ExpanderKind::Priority),
            _ => None,
        }
    }
}

/// The autoscaler's flags kubetwin models.
#[derive(Debug, Clone, PartialEq)]
pub struct AutoscalerConfig {
    /// `--expander` (default `least-waste`, flags.go `expander.LeastWasteExpanderName`).
    pub expander: ExpanderKind,
    /// `--scan-interval` (10s).
    pub scan_interval: SimDuration,
    /// `--scale-down-enabled` (true).
    pub scale_down_enabled: bool,
    /// `--scale-down-utilization-threshold` (0.5).
    pub scale_down_utilization_threshold: f64,
    /// `--scale-down-unneeded-time` (10m).
    pub scale_down_unneeded_time: SimDuration,
    /// `--scale-down-unready-time` (20m): the unneeded time for a node that is not Ready.
    pub scale_down_unready_time: SimDuration,
    /// `--scale-down-delay-after-add` (10m).
    pub scale_down_delay_after_add: SimDuration,
    /// `--scale-down-delay-after-delete` (0s).
    pub scale_down_delay_after_delete: SimDuration,
    /// `--scale-down-delay-after-failure` (3m).
    pub scale_down_delay_after_failure: SimDuration,
    /// `--max-node-provision-time` (15m): a node not registered by then is given up
    /// (kubetwin's nodes register after the group's provisioning delay; a delay longer
    /// than this makes the scale-up fail and the group back off).
    pub max_node_provision_time: SimDuration,
    /// `--new-pod-scale-up-delay` (0s): younger unschedulable pods are not considered.
    pub new_pod_scale_up_delay: SimDuration,
    /// Empty nodes deleted at once (`--max-empty-bulk-delete`, since replaced upstream by
    /// `--max-scale-down-parallelism`; both default 10).
    pub max_empty_bulk_delete: usize,
    /// `--max-drain-parallelism` (1): non-empty nodes drained at once.
    pub max_drain_parallelism: usize,
    /// `--max-nodes-per-scaleup` (1000): the binpacking estimator's node limit.
    pub max_nodes_per_scale_up: usize,
    /// `--max-pod-eviction-time` (2m): evictions refused that long fail the scale-down.
    pub max_pod_eviction_time: SimDuration,
    /// `--node-delete-delay-after-taint` (5s): from the taint to deleting an empty node.
    pub node_delete_delay_after_taint: SimDuration,
    /// `--initial-node-group-backoff-duration` (5m): a group whose nodes failed to come
    /// up is not scaled up for this long.
    pub initial_node_group_backoff: SimDuration,
}

impl Default for AutoscalerConfig {
    fn default() -> Self {
        AutoscalerConfig {
            expander: ExpanderKind::LeastWaste,
            scan_interval: SimDuration::from_secs(10),
            scale_down_enabled: true,
            scale_down_utilization_threshold: 0.5,
            scale_down_unneeded_time: SimDuration::from_secs(600),
            scale_down_unready_time: SimDuration::from_secs(1200),
            scale_down_delay_after_add: SimDuration::from_secs(600),
            scale_down_delay_after_delete: SimDuration::ZERO,
            scale_down_delay_after_failure: SimDuration::from_secs(180),
            max_node_provision_time: SimDuration::from_secs(900),
            new_pod_scale_up_delay: SimDuration::ZERO,
            max_empty_bulk_delete: 10,
            max_drain_parallelism: 1,
            max_nodes_per_scale_up: 1000,
            max_pod_eviction_time: SimDuration::from_secs(120),
            node_delete_delay_after_taint: SimDuration::from_secs(5),
            initial_node_group_backoff: SimDuration::from_secs(300),
        }
    }
}

/// A node group: the cloud's autoscaling group of identical nodes.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeGroup {
    /// Its name; nodes are `<name>-<n>`.
    pub name: String,
    /// Minimum size.
    pub min: usize,
    /// Maximum size.
    pub max: usize,
    /// Nodes at time zero (default `min`).
    pub initial: usize,
    /// From the scale-up request to the node registering Ready.
    pub provisioning_delay: SimDuration,
    /// Price of one node-hour.
    pub cost_per_hour: f64,
    /// For the priority expander (higher wins).
    pub priority: i64,
    /// The template node (no name; labels include [`NODE_GROUP_LABEL`]).
    pub template: Node,
    /// Zones given round-robin to the group's nodes (`topology.kubernetes.io/zone`).
    pub zones: Vec<String>,
}

impl NodeGroup {
    /// The group's `n`-th node (1-based): the template named `<group>-<n>`, with its
    /// hostname and (round-robin) zone labels, as a node pool's nodes.
    pub fn node(&self, n: usize) -> Node {
        template_node(
            &self.template,
            &self.zones,
            &format!("{}-{n}", self.name),
            n,
        )
    }
}

/// A node made from a template: `name`, the hostname label, and the zone of index `n`
/// (1-based, round-robin over `zones`).
pub fn template_node(template: &Node, zones: &[String], name: &str, n: usize) -> Node {
    let mut node = template.clone();
    node.meta.name = name.to_string();
    node.meta
        .labels
        .insert("kubernetes.io/hostname".into(), name.to_string());
    if !zones.is_empty() {
        let z = &zones[(n.max(1) - 1) % zones.len()];
        node.meta
            .labels
            .insert("topology.kubernetes.io/zone".into(), z.clone());
    }
    node
}
