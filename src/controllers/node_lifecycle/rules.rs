//! Node-lifecycle rules: zone disruption states and tainting rates, the controller's defaults,
//! the NoExecute taint for a Ready condition, DefaultTolerationSeconds admission and the
//! taint-based eviction time of a pod.
//!
//! Port of pkg/controller/nodelifecycle/node_lifecycle_controller.go (ComputeZoneState,
//! setLimiterInZone, ReducedQPSFunc, HealthyQPSFunc, processTaintBaseEviction),
//! pkg/controller/nodelifecycle/config/v1alpha1/defaults.go + kube-controller-manager flags,
//! plugin/pkg/admission/defaulttolerationseconds/admission.go and
//! pkg/controller/tainteviction/taint_eviction.go (processPodOnNode, getMinTolerationTime,
//! GetMatchingTolerations).

use crate::api::taint::{Taint, TaintEffect, Toleration, TolerationOperator};

/// NoExecute taint key for a node whose Ready condition is `False`.
pub const TAINT_NODE_NOT_READY: &str = "node.kubernetes.io/not-ready";
/// NoExecute taint key for a node whose Ready condition is `Unknown`.
pub const TAINT_NODE_UNREACHABLE: &str = "node.kubernetes.io/unreachable";
/// tolerationSeconds added by DefaultTolerationSeconds (both taints).
pub const DEFAULT_TOLERATION_SECONDS: i64 = 300;

/// Disruption state of a zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ZoneState {
    /// Healthy enough.
    Normal,
    /// Some nodes (more than 2, at least the threshold share) not ready.
    PartialDisruption,
    /// No ready node.
    FullDisruption,
}

impl ZoneState {
    /// Name as in upstream logs / conformance output.
    pub fn as_str(&self) -> &'static str {
        match self {
            ZoneState::Normal => "Normal",
            ZoneState::PartialDisruption => "PartialDisruption",
            ZoneState::FullDisruption => "FullDisruption",
        }
    }

    /// Parses [`ZoneState::as_str`] names.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "Normal" => Some(ZoneState::Normal),
            "PartialDisruption" => Some(ZoneState::PartialDisruption),
            "FullDisruption" => Some(ZoneState::FullDisruption),
            _ => None,
        }
    }
}

/// kube-controller-manager node-lifecycle settings (defaults as of v1.32+).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NodeLifecycleConfig {
    /// `--node-monitor-period` (s).
    pub node_monitor_period_seconds: i64,
    /// `--node-monitor-grace-period` (s; 50 since v1.32, 40 before).
    pub node_monitor_grace_period_seconds: i64,
    /// `--node-startup-grace-period` (s).
    pub node_startup_grace_period_seconds: i64,
    /// `--node-eviction-rate` (nodes per second).
    pub node_eviction_rate: f64,
    /// `--secondary-node-eviction-rate` (nodes per second).
    pub secondary_node_eviction_rate: f64,
    /// `--large-cluster-size-threshold` (nodes).
    pub large_cluster_size_threshold: i32,
    /// `--unhealthy-zone-threshold` (fraction; compared in 32-bit float).
    pub unhealthy_zone_threshold: f64,
}

impl Default for NodeLifecycleConfig {
    fn default() -> Self {
        NodeLifecycleConfig {
            node_monitor_period_seconds: 5,
            node_monitor_grace_period_seconds: 50,
            node_startup_grace_period_seconds: 60,
            node_eviction_rate: 0.1,
            secondary_node_eviction_rate: 0.01,
            large_cluster_size_threshold: 50,
            unhealthy_zone_threshold: 0.55,
        }
    }
}

/// Counts (ready, not ready) nodes from their Ready condition statuses; a missing condition or
/// any status other than `True` is not ready.
pub fn count_ready(ready_condition_statuses: &[Option<&str>]) -> (usize, usize) {
    let ready = ready_condition_statuses
        .iter()
        .filter(|s| **s == Some("True"))
        .count();
    (ready, ready_condition_statuses.len() - ready)
}

/// The zone's state; the partial-disruption ratio is computed and compared in `f32`, as
/// upstream does (so 55 of 100 against 0.55 is partial).
// Port of node_lifecycle_controller.go: ComputeZoneState.
pub fn zone_state(
    ready_nodes: usize,
    not_ready_nodes: usize,
    unhealthy_zone_threshold: f64,
) -> ZoneState {
    if ready_nodes == 0 && not_ready_nodes > 0 {
        return ZoneState::FullDisruption;
    }
    let total = ready_nodes + not_ready_nodes;
    if not_ready_nodes > 2
        && (not_ready_nodes as f32) / (total as f32) >= unhealthy_zone_threshold as f32
    {
        return ZoneState::PartialDisruption;
    }
    ZoneState::Normal
}

/// Rate (per second) of the zone's NoExecute-tainting queue for its state. Upstream keeps these
/// rates in `float32`; they are kept in `f64` here so configured values are reported exactly.
// Port of node_lifecycle_controller.go: setLimiterInZone with HealthyQPSFunc / ReducedQPSFunc.
pub fn eviction_rate(state: ZoneState, zone_size: usize, config: &NodeLifecycleConfig) -> f64 {
    match state {
        ZoneState::Normal | ZoneState::FullDisruption => config.node_eviction_rate,
        ZoneState::PartialDisruption => {
            let size = i64::try_from(zone_size).unwrap_or(i64::MAX);
            if size > i64::from(config.large_cluster_size_threshold) {
                config.secondary_node_eviction_rate
            } else {
                0.0
            }
        }
    }
}

/// The NoExecute taint key for a Ready condition status: `False` -> not-ready, `Unknown` ->
/// unreachable, anything else (`True`) -> none (both are removed).
// Port of node_lifecycle_controller.go: processTaintBaseEviction.
pub fn ready_condition_taint(status: &str) -> Option<&'static str> {
    match status {
        "False" => Some(TAINT_NODE_NOT_READY),
        "Unknown" => Some(TAINT_NODE_UNREACHABLE),
        _ => None,
    }
}

/// The tolerations DefaultTolerationSeconds admission adds (not-ready first, then
/// unreachable): each unless some existing toleration has an empty or equal key and an empty or
/// NoExecute effect.
// Port of plugin/pkg/admission/defaulttolerationseconds/admission.go: Admit.
pub fn default_tolerations(existing: &[Toleration]) -> Vec<Toleration> {
    let covers = |key: &str| {
        existing.iter().any(|t| {
            (t.key.is_empty() || t.key == key)
                && matches!(t.effect, None | Some(TaintEffect::NoExecute))
        })
    };
    [TAINT_NODE_NOT_READY, TAINT_NODE_UNREACHABLE]
        .into_iter()
        .filter(|key| !covers(key))
        .map(|key| Toleration {
            key: key.to_string(),
            operator: TolerationOperator::Exists,
            value: String::new(),
            effect: Some(TaintEffect::NoExecute),
            toleration_seconds: Some(DEFAULT_TOLERATION_SECONDS),
        })
        .collect()
}

/// When taint-based eviction deletes a pod whose node's taints were observed at `observed_at`:
/// `Some(observed_at)` when a NoExecute taint is tolerated by none of the tolerations; otherwise
/// `observed_at` + the minimum tolerationSeconds over the first toleration matching each taint
/// (<= 0 counts as 0); `None` (never) when no NoExecute taint exists or no used toleration sets
/// tolerationSeconds.
// Port of pkg/controller/tainteviction/taint_eviction.go: processPodOnNode,
// getMinTolerationTime, and v1helper.GetMatchingTolerations.
pub fn taint_eviction_time(
    tolerations: &[Toleration],
    taints: &[Taint],
    observed_at: i64,
    comparison_operators_gate: bool,
) -> Option<i64> {
    let no_execute: Vec<&Taint> = taints
        .iter()
        .filter(|t| t.effect == TaintEffect::NoExecute)
        .collect();
    if no_execute.is_empty() {
        return None;
    }
    let mut used: Vec<&Toleration> = Vec::new();
    for taint in no_execute {
        match tolerations
            .iter()
            .find(|t| t.tolerates(taint, comparison_operators_gate))
        {
            Some(t) => used.push(t),
            None => return Some(observed_at),
        }
    }
    let mut min: Option<i64> = None;
    for t in used {
        if let Some(s) = t.toleration_seconds {
            if s <= 0 {
                return Some(observed_at);
            }
            min = Some(min.map_or(s, |m: i64| m.min(s)));
        }
    }
    min.map(|s| observed_at.saturating_add(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tol(key: &str, effect: Option<TaintEffect>, secs: Option<i64>) -> Toleration {
        Toleration {
            key: key.into(),
            operator: TolerationOperator::Exists,
            value: String::new(),
            effect,
            toleration_seconds: secs,
        }
    }

    fn taint(key: &str) -> Taint {
        Taint {
            key: key.into(),
            value: String::new(),
            effect: TaintEffect::NoExecute,
        }
    }

    #[test]
    fn zone_states() {
        assert_eq!(zone_state(1, 2, 0.55), ZoneState::Normal);
        assert_eq!(zone_state(4, 6, 0.55), ZoneState::PartialDisruption);
        assert_eq!(zone_state(45, 55, 0.55), ZoneState::PartialDisruption);
        assert_eq!(zone_state(46, 54, 0.55), ZoneState::Normal);
        assert_eq!(zone_state(0, 1, 0.55), ZoneState::FullDisruption);
        assert_eq!(zone_state(0, 0, 0.55), ZoneState::Normal);
        assert_eq!(count_ready(&[Some("True"), None, Some("Unknown")]), (1, 2));
    }

    #[test]
    fn rates() {
        let c = NodeLifecycleConfig::default();
        assert_eq!(eviction_rate(ZoneState::PartialDisruption, 10, &c), 0.0);
        assert_eq!(eviction_rate(ZoneState::PartialDisruption, 51, &c), 0.01);
        assert_eq!(eviction_rate(ZoneState::FullDisruption, 10, &c), 0.1);
        assert_eq!(eviction_rate(ZoneState::Normal, 10, &c), 0.1);
    }

    #[test]
    fn ready_taints() {
        assert_eq!(ready_condition_taint("False"), Some(TAINT_NODE_NOT_READY));
        assert_eq!(
            ready_condition_taint("Unknown"),
            Some(TAINT_NODE_UNREACHABLE)
        );
        assert_eq!(ready_condition_taint("True"), None);
    }

    #[test]
    fn admission_defaults() {
        assert!(default_tolerations(&[tol("", None, None)]).is_empty());
        let added = default_tolerations(&[tol(
            TAINT_NODE_NOT_READY,
            Some(TaintEffect::NoExecute),
            Some(10),
        )]);
        assert_eq!(added.len(), 1);
        assert_eq!(added[0].key, TAINT_NODE_UNREACHABLE);
        let added = default_tolerations(&[tol("", Some(TaintEffect::NoSchedule), None)]);
        assert_eq!(added.len(), 2);
        assert_eq!(added[0].key, TAINT_NODE_NOT_READY);
    }

    #[test]
    fn eviction_timing() {
        let t = [taint(TAINT_NODE_UNREACHABLE)];
        assert_eq!(
            taint_eviction_time(
                &[tol(TAINT_NODE_UNREACHABLE, None, Some(300))],
                &t,
                1000,
                false
            ),
            Some(1300)
        );
        assert_eq!(taint_eviction_time(&[], &t, 1000, false), Some(1000));
        assert_eq!(
            taint_eviction_time(&[tol("", None, None)], &t, 1000, false),
            None
        );
        assert_eq!(
            taint_eviction_time(&[tol("", None, Some(-5))], &t, 1000, false),
            Some(1000)
        );
        assert_eq!(taint_eviction_time(&[], &[], 1000, false), None);
    }
}
