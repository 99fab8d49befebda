//! Scheduling profiles and the plugin registry.
//!
//! A [`Profile`] names the enabled Filter and Score plugins, the score weights, the
//! NodeResourcesFit scoring strategy and `percentageOfNodesToScore`; its `Default` is
//! upstream's default profile (pkg/scheduler/apis/config/v1/default_plugins.go
//! `getDefaultPlugins`, with the plugins kubetwin's object model carries). Out-of-tree
//! plugins implement [`FilterPlugin`] / [`ScorePlugin`] and are handed to the scheduler in a
//! [`Registry`] (no global state); a profile enables them by name like the built-in ones.

use super::plugins::noderesources::{ResourceWeight, ScoringStrategy, default_resources};
use crate::api::{Node, Pod, Store};

/// Built-in plugin names (upstream `names.go`).
pub mod names {
    /// NodeUnschedulable.
    pub const NODE_UNSCHEDULABLE: &str = "NodeUnschedulable";
    /// NodeName.
    pub const NODE_NAME: &str = "NodeName";
    /// TaintToleration.
    pub const TAINT_TOLERATION: &str = "TaintToleration";
    /// NodeAffinity.
    pub const NODE_AFFINITY: &str = "NodeAffinity";
    /// NodePorts.
    pub const NODE_PORTS: &str = "NodePorts";
    /// NodeResourcesFit.
    pub const NODE_RESOURCES_FIT: &str = "NodeResourcesFit";
    /// PodTopologySpread.
    pub const POD_TOPOLOGY_SPREAD: &str = "PodTopologySpread";
    /// NodeResourcesBalancedAllocation.
    pub const BALANCED_ALLOCATION: &str = "NodeResourcesBalancedAllocation";
    /// ImageLocality.
    pub const IMAGE_LOCALITY: &str = "ImageLocality";
    /// InterPodAffinity.
    pub const INTER_POD_AFFINITY: &str = "InterPodAffinity";
    /// DefaultPreemption (PostFilter).
    pub const DEFAULT_PREEMPTION: &str = "DefaultPreemption";
    /// PrioritySort (QueueSort).
    pub const PRIORITY_SORT: &str = "PrioritySort";
    /// DefaultBinder (Bind).
    pub const DEFAULT_BINDER: &str = "DefaultBinder";
    /// SchedulingGates (PreEnqueue; kubetwin pods carry no scheduling gates: a no-op).
    pub const SCHEDULING_GATES: &str = "SchedulingGates";
    /// VolumeRestrictions (kubetwin has no volumes: a no-op).
    pub const VOLUME_RESTRICTIONS: &str = "VolumeRestrictions";
    /// NodeVolumeLimits (kubetwin has no volumes: a no-op).
    pub const NODE_VOLUME_LIMITS: &str = "NodeVolumeLimits";
    /// VolumeBinding (kubetwin has no volumes: a no-op).
    pub const VOLUME_BINDING: &str = "VolumeBinding";
    /// VolumeZone (kubetwin has no volumes: a no-op).
    pub const VOLUME_ZONE: &str = "VolumeZone";
    /// DynamicResources (kubetwin has no ResourceClaims: a no-op).
    pub const DYNAMIC_RESOURCES: &str = "DynamicResources";
}

/// A scheduling profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// `schedulerName` the profile serves.
    pub scheduler_name: String,
    /// Enabled Filter plugins, in the order they run.
    pub filters: Vec<String>,
    /// Enabled Score plugins with their weights, in the order they run.
    pub scores: Vec<(String, i64)>,
    /// NodeResourcesFit `scoringStrategy.type` (and shape for RequestedToCapacityRatio).
    pub fit_strategy: ScoringStrategy,
    /// NodeResourcesFit `scoringStrategy.resources`.
    pub fit_resources: Vec<ResourceWeight>,
    /// `percentageOfNodesToScore` of the profile (`None`: the scheduler-wide setting).
    pub percentage_of_nodes_to_score: Option<usize>,
    /// PodTopologySpread `defaultingType: System` (the system default constraints).
    pub system_default_spreading: bool,
    /// Enabled PostFilter plugins (DefaultPreemption).
    pub post_filters: Vec<String>,
    /// PodTopologySpread `defaultConstraints` used with `defaultingType: List` (empty with
    /// `System`).
    pub default_spread_constraints: Vec<crate::api::objects::TopologySpreadConstraint>,
    /// InterPodAffinity `hardPodAffinityWeight` (default 1).
    pub hard_pod_affinity_weight: i64,
    /// DefaultPreemption `minCandidateNodesPercentage` (default 10).
    pub min_candidate_nodes_percentage: i64,
    /// DefaultPreemption `minCandidateNodesAbsolute` (default 100).
    pub min_candidate_nodes_absolute: i64,
}

impl Default for Profile {
    fn default() -> Self {
        use names::*;
        Profile {
            scheduler_name: super::DEFAULT_SCHEDULER.to_string(),
            filters: [
                NODE_UNSCHEDULABLE,
                NODE_NAME,
                TAINT_TOLERATION,
                NODE_AFFINITY,
                NODE_PORTS,
                NODE_RESOURCES_FIT,
                POD_TOPOLOGY_SPREAD,
                INTER_POD_AFFINITY,
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            scores: [
                (TAINT_TOLERATION, 3),
                (NODE_AFFINITY, 2),
                (NODE_RESOURCES_FIT, 1),
                (POD_TOPOLOGY_SPREAD, 2),
                (INTER_POD_AFFINITY, 2),
                (BALANCED_ALLOCATION, 1),
                (IMAGE_LOCALITY, 1),
            ]
            .iter()
            .map(|(s, w)| (s.to_string(), *w))
            .collect(),
            fit_strategy: ScoringStrategy::LeastAllocated,
            fit_resources: default_resources(),
            percentage_of_nodes_to_score: None,
            system_default_spreading: true,
            post_filters: vec![DEFAULT_PREEMPTION.to_string()],
            default_spread_constraints: Vec::new(),
            hard_pod_affinity_weight: 1,
            min_candidate_nodes_percentage: 10,
            min_candidate_nodes_absolute: 100,
        }
    }
}

impl Profile {
    /// Whether Filter plugin `name` is enabled.
    pub fn filter_enabled(&self, name: &str) -> bool {
        self.filters.iter().any(|f| f == name)
    }

    /// Whether PostFilter plugin `name` is enabled.
    pub fn post_filter_enabled(&self, name: &str) -> bool {
        self.post_filters.iter().any(|f| f == name)
    }

    /// The weight of Score plugin `name` (0 when disabled).
    pub fn score_weight(&self, name: &str) -> i64 {
        self.scores
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, w)| *w)
            .unwrap_or(0)
    }
}

/// A Filter plugin: rejects a node for a pod with reasons (upstream `FilterPlugin`).
pub trait FilterPlugin {
    /// The plugin's name, as listed in [`Profile::filters`].
    fn name(&self) -> &str;
    /// `Ok` when `node` can run `pod`, else the failure reasons.
    fn filter(&self, pod: &Pod, node: &Node, store: &Store) -> Result<(), Vec<String>>;
    /// [`FilterPlugin::filter`] with the node's store id, which the scheduler's node walk
    /// calls (default: `filter`), so a plugin can index per-node caches without a name
    /// lookup.
    fn filter_node(
        &self,
        pod: &Pod,
        _node_id: u32,
        node: &Node,
        store: &Store,
    ) -> Result<(), Vec<String>> {
        self.filter(pod, node, store)
    }
    /// Reserve on the chosen `node` (upstream `ReservePlugin.Reserve`): annotations the
    /// binding records on the pod (default: none). `profile` is the pod's profile.
    fn reserve(
        &self,
        _pod: &Pod,
        _node: &Node,
        _store: &Store,
        _profile: &Profile,
    ) -> Vec<(String, String)> {
        Vec::new()
    }
}

/// A Score plugin: a raw score per feasible node, then an optional normalisation over all
/// of them (upstream `ScorePlugin` with `ScoreExtensions`).
pub trait ScorePlugin {
    /// The plugin's name, as listed in [`Profile::scores`].
    fn name(&self) -> &str;
    /// Raw score of `node` for `pod`.
    fn score(&self, pod: &Pod, node: &Node, store: &Store) -> i64;
    /// [`ScorePlugin::score`] with the node's store id, which the scheduler calls
    /// (default: `score`).
    fn score_node(&self, pod: &Pod, _node_id: u32, node: &Node, store: &Store) -> i64 {
        self.score(pod, node, store)
    }
    /// NormalizeScore over the scores of all feasible nodes (default: none); the result
    /// must lie in 0..=100.
    fn normalize(&self, _pod: &Pod, _scores: &mut [i64]) {}
}

/// Out-of-tree plugins available to the scheduler.
#[derive(Default)]
pub struct Registry {
    /// Filter plugins.
    pub filters: Vec<Box<dyn FilterPlugin>>,
    /// Score plugins.
    pub scores: Vec<Box<dyn ScorePlugin>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let fs: Vec<&str> = self.filters.iter().map(|p| p.name()).collect();
        let ss: Vec<&str> = self.scores.iter().map(|p| p.name()).collect();
        f.debug_struct("Registry")
            .field("filters", &fs)
            .field("scores", &ss)
            .finish()
    }
}
