//! PodTopologySpread filtering: PreFilter counting, Filter for `DoNotSchedule` constraints and
//! the AddPod / RemovePod incremental updates; and the scoring math of `scoring.go`
//! (`topologyNormalizingWeight`, `scoreForCount`, `NormalizeScore`).
//!
//! Port of `pkg/scheduler/framework/plugins/podtopologyspread/filtering.go` (`preFilterState`,
//! `criticalPaths.update`, `minMatchNum`, `calPreFilterState`, `updateWithPod`, `Filter`) and
//! `common.go` (`topologySpreadConstraint`, `nodeLabelsMatchSpreadConstraints`,
//! `countPodsMatchSelector`, `matchNodeInclusionPolicies`), in the current upstream shape where
//! counts and critical paths are kept per constraint index.
//!
//! The state is built node by node ([`PreFilterState::add_node`] then
//! [`PreFilterState::finish`]) so callers can feed it from any node store without intermediate
//! collections, and it can be updated incrementally ([`PreFilterState::update_with_pod`]) for
//! preemption dry-runs or for keeping a long-lived state in step with binds/deletions.
//! Node-affinity and taint checks are supplied by the caller as booleans
//! ([`NodeEligibility`]) so this module does not depend on how they are evaluated.

use std::collections::BTreeMap;

use crate::api::selector::{LabelSelector, Labels};
use crate::controllers::scheduler::framework::status::{Code, Status};
use crate::controllers::scheduler::normalize::MAX_NODE_SCORE;

/// Upstream `ErrReasonConstraintsNotMatch`.
pub const ERR_REASON_CONSTRAINTS_NOT_MATCH: &str =
    "node(s) didn't match pod topology spread constraints";
/// Upstream `ErrReasonNodeLabelNotMatch`.
pub const ERR_REASON_NODE_LABEL_NOT_MATCH: &str =
    "node(s) didn't match pod topology spread constraints (missing required label)";

/// `nodeAffinityPolicy` / `nodeTaintsPolicy` (upstream `v1.NodeInclusionPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NodeInclusionPolicy {
    /// Take the check into account when counting domains.
    Honor,
    /// Ignore the check.
    #[default]
    Ignore,
}

/// `whenUnsatisfiable` of a constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnsatisfiableConstraintAction {
    /// Hard constraint, enforced by Filter.
    #[default]
    DoNotSchedule,
    /// Soft constraint, only used by Score.
    ScheduleAnyway,
}

/// An internal, parsed topology spread constraint (upstream `topologySpreadConstraint`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpreadConstraint {
    /// `maxSkew` (>= 1 after validation).
    pub max_skew: i64,
    /// `topologyKey`.
    pub topology_key: String,
    /// Parsed `labelSelector` (`LabelSelector::nothing()` when the API selector is absent).
    pub selector: LabelSelector,
    /// `minDomains`; upstream treats unset as 1.
    pub min_domains: i64,
    /// `nodeAffinityPolicy` (default Honor).
    pub node_affinity_policy: NodeInclusionPolicy,
    /// `nodeTaintsPolicy` (default Ignore).
    pub node_taints_policy: NodeInclusionPolicy,
}

impl SpreadConstraint {
    /// A constraint with upstream defaults: `minDomains` 1, `nodeAffinityPolicy: Honor`,
    /// `nodeTaintsPolicy: Ignore`.
    pub fn new(max_skew: i64, topology_key: impl Into<String>, selector: LabelSelector) -> Self {
        SpreadConstraint {
            max_skew,
            topology_key: topology_key.into(),
            selector,
            min_domains: 1,
            node_affinity_policy: NodeInclusionPolicy::Honor,
            node_taints_policy: NodeInclusionPolicy::Ignore,
        }
    }

    /// Upstream `matchNodeInclusionPolicies` with the checks precomputed by the caller.
    pub fn match_node_inclusion_policies(&self, node: NodeEligibility) -> bool {
        if self.node_affinity_policy == NodeInclusionPolicy::Honor && !node.matches_node_affinity {
            return false;
        }
        if self.node_taints_policy == NodeInclusionPolicy::Honor && !node.taints_tolerated {
            return false;
        }
        true
    }
}

/// Per-node facts about the *incoming* pod that the inclusion policies need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeEligibility {
    /// The node matches the incoming pod's `nodeSelector` and required node affinity
    /// (upstream `nodeaffinity.GetRequiredNodeAffinity(pod).Match(node)`).
    pub matches_node_affinity: bool,
    /// The incoming pod tolerates every `NoSchedule` / `NoExecute` taint of the node (only
    /// consulted for constraints with `nodeTaintsPolicy: Honor`).
    pub taints_tolerated: bool,
}

impl NodeEligibility {
    /// A node that passes both checks.
    pub const ALL: NodeEligibility = NodeEligibility {
        matches_node_affinity: true,
        taints_tolerated: true,
    };
}

/// An existing pod as seen by the counting: namespace, labels, terminating flag.
#[derive(Debug, Clone, Copy)]
pub struct ExistingPod<'a> {
    /// The pod's namespace.
    pub namespace: &'a str,
    /// The pod's labels.
    pub labels: &'a Labels,
    /// The pod has a `deletionTimestamp` (terminating pods are not counted).
    pub terminating: bool,
}

/// One entry of [`CriticalPaths`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CriticalPath {
    /// Topology value (domain).
    pub topology_value: String,
    /// Number of matching pods in that domain.
    pub match_num: i64,
}

/// The two domains with the fewest matching pods (upstream `criticalPaths`): `paths[0]` always
/// holds the minimum; `paths[1]` is `>=` it but not necessarily the second minimum after
/// updates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CriticalPaths(pub [CriticalPath; 2]);

/// Upstream initial value `math.MaxInt32`.
const CRITICAL_PATH_INIT: i64 = i32::MAX as i64;

impl Default for CriticalPaths {
    fn default() -> Self {
        let empty = CriticalPath {
            topology_value: String::new(),
            match_num: CRITICAL_PATH_INIT,
        };
        CriticalPaths([empty.clone(), empty])
    }
}

impl CriticalPaths {
    /// Upstream `criticalPaths.update`.
    pub fn update(&mut self, tp_val: &str, num: i64) {
        let p = &mut self.0;
        let i = if tp_val == p[0].topology_value {
            Some(0)
        } else if tp_val == p[1].topology_value {
            Some(1)
        } else {
            None
        };
        match i {
            Some(i) => {
                p[i].match_num = num;
                if p[0].match_num > p[1].match_num {
                    p.swap(0, 1);
                }
            }
            None => {
                if num < p[0].match_num {
                    p[1] = p[0].clone();
                    p[0].topology_value = tp_val.to_string();
                    p[0].match_num = num;
                } else if num < p[1].match_num {
                    p[1].topology_value = tp_val.to_string();
                    p[1].match_num = num;
                }
            }
        }
    }

    /// The minimum match number (`paths[0]`).
    pub fn min(&self) -> i64 {
        self.0[0].match_num
    }
}

/// PreFilter state for the `DoNotSchedule` constraints of one incoming pod
/// (upstream `preFilterState`), indexed by constraint position.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PreFilterState {
    /// The hard constraints, in pod spec order.
    pub constraints: Vec<SpreadConstraint>,
    /// Per constraint: topology value -> number of matching pods (every eligible domain is
    /// present, possibly with 0).
    pub tp_value_to_match_num: Vec<BTreeMap<String, i64>>,
    /// Per constraint: the critical paths (valid after [`PreFilterState::finish`]).
    pub critical_paths: Vec<CriticalPaths>,
    /// Per constraint: number of eligible domains, fixed at [`PreFilterState::finish`]
    /// (upstream does not change it on AddPod / RemovePod).
    pub domains_num: Vec<i64>,
}

/// Upstream `nodeLabelsMatchSpreadConstraints`: the node has a label for every constraint's
/// topology key.
pub fn node_labels_match_spread_constraints(
    node_labels: &Labels,
    constraints: &[SpreadConstraint],
) -> bool {
    constraints
        .iter()
        .all(|c| node_labels.contains_key(&c.topology_key))
}

/// Upstream `countPodsMatchSelector`: pods in `namespace`, not terminating, matching
/// `selector`; always 0 for an empty selector (upstream `selector.Empty()` short-circuit).
pub fn count_pods_match_selector<'a, I>(pods: I, selector: &LabelSelector, namespace: &str) -> i64
where
    I: IntoIterator<Item = ExistingPod<'a>>,
{
    if selector.is_empty() {
        return 0;
    }
    pods.into_iter()
        .filter(|p| !p.terminating && p.namespace == namespace && selector.matches(p.labels))
        .count() as i64
}

impl PreFilterState {
    /// An empty state for `constraints` (only the `DoNotSchedule` ones should be passed).
    pub fn new(constraints: Vec<SpreadConstraint>) -> PreFilterState {
        let n = constraints.len();
        PreFilterState {
            constraints,
            tp_value_to_match_num: vec![BTreeMap::new(); n],
            critical_paths: vec![CriticalPaths::default(); n],
            domains_num: vec![0; n],
        }
    }

    /// Whether there is nothing to check (upstream "empty preFilterState"; PreFilter returns
    /// Skip in current upstream).
    pub fn is_empty(&self) -> bool {
        self.constraints.is_empty()
    }

    /// Counts one node (the per-node body of upstream `calPreFilterState`): a node lacking any
    /// constraint's topology key is ignored; otherwise, for each constraint whose inclusion
    /// policies the node passes, its domain is registered and the matching `pods` on the node
    /// (in `pod_namespace`) are added. Call for every node, then [`PreFilterState::finish`].
    pub fn add_node<'a, I>(
        &mut self,
        node_labels: &Labels,
        eligibility: NodeEligibility,
        pod_namespace: &str,
        pods: I,
    ) where
        I: IntoIterator<Item = ExistingPod<'a>> + Clone,
    {
        if !node_labels_match_spread_constraints(node_labels, &self.constraints) {
            return;
        }
        for (c, counts) in self
            .constraints
            .iter()
            .zip(self.tp_value_to_match_num.iter_mut())
        {
            if !c.match_node_inclusion_policies(eligibility) {
                continue;
            }
            let Some(value) = node_labels.get(&c.topology_key) else {
                continue;
            };
            let count = count_pods_match_selector(pods.clone(), &c.selector, pod_namespace);
            match counts.get_mut(value.as_str()) {
                Some(v) => *v += count,
                None => {
                    counts.insert(value.clone(), count);
                }
            }
        }
    }

    /// [`PreFilterState::add_node`] with the matching-pod count of constraint `i` on this node
    /// supplied by `count_of(i)` (for callers that keep per-node counts incrementally).
    pub fn add_node_counts(
        &mut self,
        node_labels: &Labels,
        eligibility: NodeEligibility,
        mut count_of: impl FnMut(usize) -> i64,
    ) {
        if !node_labels_match_spread_constraints(node_labels, &self.constraints) {
            return;
        }
        for (i, (c, counts)) in self
            .constraints
            .iter()
            .zip(self.tp_value_to_match_num.iter_mut())
            .enumerate()
        {
            if !c.match_node_inclusion_policies(eligibility) {
                continue;
            }
            let Some(value) = node_labels.get(&c.topology_key) else {
                continue;
            };
            let count = if c.selector.is_empty() {
                0
            } else {
                count_of(i)
            };
            match counts.get_mut(value.as_str()) {
                Some(v) => *v += count,
                None => {
                    counts.insert(value.clone(), count);
                }
            }
        }
    }

    /// Computes domain counts and critical paths from the per-domain counts (end of upstream
    /// `calPreFilterState`). Domains are visited in sorted order for determinism.
    pub fn finish(&mut self) {
        for ((counts, paths), domains) in self
            .tp_value_to_match_num
            .iter()
            .zip(self.critical_paths.iter_mut())
            .zip(self.domains_num.iter_mut())
        {
            *domains = counts.len() as i64;
            *paths = CriticalPaths::default();
            for (value, &num) in counts {
                paths.update(value, num);
            }
        }
    }

    /// Upstream `minMatchNum`: the global minimum of constraint `i`, or 0 when there are fewer
    /// eligible domains than `minDomains` (so 0 when there are none).
    pub fn min_match_num(&self, i: usize) -> i64 {
        let (Some(c), Some(paths), Some(&domains)) = (
            self.constraints.get(i),
            self.critical_paths.get(i),
            self.domains_num.get(i),
        ) else {
            return 0;
        };
        if domains < c.min_domains {
            return 0;
        }
        paths.min()
    }

    /// Upstream `updateWithPod` (AddPod with `delta = 1`, RemovePod with `delta = -1`):
    /// `updated_pod` was added to / removed from a node with `node_labels`; `eligibility` is
    /// that node's eligibility for the incoming pod, whose namespace is `incoming_namespace`.
    pub fn update_with_pod(
        &mut self,
        updated_pod: ExistingPod<'_>,
        incoming_namespace: &str,
        node_labels: &Labels,
        eligibility: NodeEligibility,
        delta: i64,
    ) {
        if updated_pod.namespace != incoming_namespace {
            return;
        }
        if !node_labels_match_spread_constraints(node_labels, &self.constraints) {
            return;
        }
        for i in 0..self.constraints.len() {
            let c = &self.constraints[i];
            if !c.selector.matches(updated_pod.labels) {
                continue;
            }
            if !c.match_node_inclusion_policies(eligibility) {
                continue;
            }
            let Some(value) = node_labels.get(&c.topology_key) else {
                continue;
            };
            let counts = &mut self.tp_value_to_match_num[i];
            let num = match counts.get_mut(value.as_str()) {
                Some(v) => {
                    *v += delta;
                    *v
                }
                None => {
                    counts.insert(value.clone(), delta);
                    delta
                }
            };
            self.critical_paths[i].update(value, num);
        }
    }

    /// Filter code for a node (upstream `Filter`): `UnschedulableAndUnresolvable` when the
    /// node lacks a constraint's topology key, `Unschedulable` when
    /// `matchNum + selfMatch - minMatchNum > maxSkew` for some constraint, else `Success`.
    /// Constraints are checked in order; the first failure wins.
    pub fn filter_code(&self, pod_labels: &Labels, node_labels: &Labels) -> Code {
        for (i, c) in self.constraints.iter().enumerate() {
            let Some(tp_val) = node_labels.get(&c.topology_key) else {
                return Code::UnschedulableAndUnresolvable;
            };
            let min_match_num = self.min_match_num(i);
            let self_match_num = i64::from(c.selector.matches(pod_labels));
            let match_num = self
                .tp_value_to_match_num
                .get(i)
                .and_then(|m| m.get(tp_val.as_str()))
                .copied()
                .unwrap_or(0);
            let skew = match_num + self_match_num - min_match_num;
            if skew > c.max_skew {
                return Code::Unschedulable;
            }
        }
        Code::Success
    }

    /// [`PreFilterState::filter_code`] as a [`Status`] with the upstream reason text.
    pub fn filter(&self, pod_labels: &Labels, node_labels: &Labels) -> Status {
        match self.filter_code(pod_labels, node_labels) {
            Code::UnschedulableAndUnresolvable => Status::new(
                Code::UnschedulableAndUnresolvable,
                [ERR_REASON_NODE_LABEL_NOT_MATCH],
            ),
            Code::Unschedulable => {
                Status::new(Code::Unschedulable, [ERR_REASON_CONSTRAINTS_NOT_MATCH])
            }
            code => Status::from_code(code),
        }
    }
}

/// Upstream `topologyNormalizingWeight` (scoring.go): `ln(size + 2)`, where `size` is the
/// number of domains of a constraint among the filtered nodes.
pub fn topology_normalizing_weight(size: usize) -> f64 {
    ((size + 2) as f64).ln()
}

/// Upstream `scoreForCount` (scoring.go): `cnt * weight + (maxSkew - 1)`.
pub fn score_for_count(cnt: i64, max_skew: i64, tp_weight: f64) -> f64 {
    cnt as f64 * tp_weight + (max_skew - 1) as f64
}

/// Upstream PodTopologySpread `NormalizeScore` (scoring.go): ignored nodes score 0; with
/// `min`/`max` over the others (`max` starting at 0), every other node scores 100 when
/// `max` is 0, else `100 * (max + min - s) / max` (fewer matching pods score higher).
pub fn normalize_spread_scores(scores: &mut [i64], ignored: &[bool]) {
    let mut min = i64::MAX;
    let mut max = 0i64;
    for (s, &ign) in scores.iter().zip(ignored) {
        if ign {
            continue;
        }
        min = min.min(*s);
        max = max.max(*s);
    }
    for (s, &ign) in scores.iter_mut().zip(ignored) {
        if ign {
            *s = 0;
        } else if max == 0 {
            *s = MAX_NODE_SCORE;
        } else {
            *s = MAX_NODE_SCORE * (max + min - *s) / max;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|&(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn exists(key: &str) -> LabelSelector {
        LabelSelector::from_parts(
            &Labels::new(),
            &[(key.to_string(), "Exists".to_string(), vec![])],
        )
        .expect("valid selector")
    }

    struct Node {
        name: &'static str,
        labels: Labels,
        pods: Vec<(String, Labels, bool)>,
    }

    fn node(name: &'static str, zone: &str, pods: &[(&str, bool)]) -> Node {
        Node {
            name,
            labels: labels(&[("zone", zone), ("node", name)]),
            pods: pods
                .iter()
                .map(|&(ns, term)| (ns.to_string(), labels(&[("foo", "")]), term))
                .collect(),
        }
    }

    fn build(constraints: Vec<SpreadConstraint>, nodes: &[Node], ns: &str) -> PreFilterState {
        let mut s = PreFilterState::new(constraints);
        for n in nodes {
            let pods = n.pods.iter().map(|(pns, l, t)| ExistingPod {
                namespace: pns,
                labels: l,
                terminating: *t,
            });
            s.add_node(&n.labels, NodeEligibility::ALL, ns, pods);
        }
        s.finish();
        s
    }

    fn codes(s: &PreFilterState, pod: &Labels, nodes: &[Node]) -> Vec<(&'static str, Code)> {
        nodes
            .iter()
            .map(|n| (n.name, s.filter_code(pod, &n.labels)))
            .collect()
    }

    #[test]
    fn critical_paths_update_rules() {
        let mut p = CriticalPaths::default();
        p.update("a", 3);
        p.update("b", 1);
        p.update("c", 2);
        assert_eq!(p.0[0].topology_value, "b");
        assert_eq!(p.0[1].topology_value, "c");
        // Existing value increased past the other: swap.
        p.update("b", 5);
        assert_eq!((p.0[0].topology_value.as_str(), p.min()), ("c", 2));
    }

    // Upstream filtering_test.go TestSingleConstraint rows (plus derived variations).
    #[test]
    fn single_constraint_rows() {
        let pod = labels(&[("foo", "")]);
        // 'pods spread across zones as 3/3, all nodes fit' (zone, maxSkew 1)
        let nodes = vec![
            node("node-a", "zone1", &[("default", false)]),
            node("node-b", "zone1", &[("default", false), ("default", false)]),
            node("node-x", "zone2", &[("default", false)]),
            node("node-y", "zone2", &[("default", false), ("default", false)]),
        ];
        let s = build(
            vec![SpreadConstraint::new(1, "zone", exists("foo"))],
            &nodes,
            "default",
        );
        assert!(
            codes(&s, &pod, &nodes)
                .iter()
                .all(|(_, c)| *c == Code::Success)
        );

        // Derived: node-b without a zone label has no zone -> UnschedulableAndUnresolvable, zone1 count 1 (node-a), zone2 2.
        let mut nodes = vec![
            node("node-a", "zone1", &[("default", false)]),
            node("node-b", "zone1", &[("default", false)]),
            node("node-x", "zone2", &[("default", false)]),
            node("node-y", "zone2", &[("default", false)]),
        ];
        nodes[1].labels.remove("zone");
        let s = build(
            vec![SpreadConstraint::new(1, "zone", exists("foo"))],
            &nodes,
            "default",
        );
        assert_eq!(
            codes(&s, &pod, &nodes),
            vec![
                ("node-a", Code::Success),
                ("node-b", Code::UnschedulableAndUnresolvable),
                ("node-x", Code::Unschedulable),
                ("node-y", Code::Unschedulable),
            ]
        );

        // 'terminating Pods should be excluded': node-a has a terminating pod, node-b one live
        // pod; per-node constraint maxSkew 1 -> node-a fits (0+1-0), node-b fails (1+1-0).
        let nodes = vec![
            node("node-a", "zone1", &[("default", true)]),
            node("node-b", "zone1", &[("default", false)]),
        ];
        let s = build(
            vec![SpreadConstraint::new(1, "node", exists("foo"))],
            &nodes,
            "default",
        );
        assert_eq!(
            codes(&s, &pod, &nodes),
            vec![("node-a", Code::Success), ("node-b", Code::Unschedulable)]
        );

        // 'incoming pod has no label matching, all nodes fit' style: selector on "bar", pod
        // labelled foo only -> selfMatch 0; counts 0 everywhere -> all fit.
        let nodes = vec![
            node("node-a", "zone1", &[("default", false)]),
            node("node-x", "zone2", &[]),
        ];
        let s = build(
            vec![SpreadConstraint::new(1, "zone", exists("bar"))],
            &nodes,
            "default",
        );
        assert!(
            codes(&s, &pod, &nodes)
                .iter()
                .all(|(_, c)| *c == Code::Success)
        );
    }

    // Upstream TestMultipleConstraints 'two Constraints on zone and node, spreads = [3/3, 2/1/0/3]'
    // -> only node-x fits.
    #[test]
    fn multiple_constraints_row() {
        let pod = labels(&[("foo", "")]);
        let d = ("default", false);
        let nodes = vec![
            node("node-a", "zone1", &[d, d]),
            node("node-b", "zone1", &[d]),
            node("node-x", "zone2", &[]),
            node("node-y", "zone2", &[d, d, d]),
        ];
        let s = build(
            vec![
                SpreadConstraint::new(1, "zone", exists("foo")),
                SpreadConstraint::new(1, "node", exists("foo")),
            ],
            &nodes,
            "default",
        );
        assert_eq!(
            codes(&s, &pod, &nodes),
            vec![
                ("node-a", Code::Unschedulable),
                ("node-b", Code::Unschedulable),
                ("node-x", Code::Success),
                ("node-y", Code::Unschedulable),
            ]
        );
    }

    #[test]
    fn min_domains_and_empty_selector() {
        let pod = labels(&[("foo", "")]);
        let d = ("default", false);
        // minDomains 3 with only 2 zones -> global min treated as 0.
        let nodes = vec![node("node-a", "zone1", &[d]), node("node-x", "zone2", &[d])];
        let mut c = SpreadConstraint::new(1, "zone", exists("foo"));
        c.min_domains = 3;
        let s = build(vec![c], &nodes, "default");
        assert_eq!(s.min_match_num(0), 0);
        assert!(
            codes(&s, &pod, &nodes)
                .iter()
                .all(|(_, c)| *c == Code::Unschedulable)
        );
        // Empty selector counts nothing but self-matches.
        let s = build(
            vec![SpreadConstraint::new(
                1,
                "zone",
                LabelSelector::everything(),
            )],
            &nodes,
            "default",
        );
        assert_eq!(s.tp_value_to_match_num[0].get("zone1"), Some(&0));
        assert!(
            codes(&s, &pod, &nodes)
                .iter()
                .all(|(_, c)| *c == Code::Success)
        );
    }

    #[test]
    fn incremental_update_matches_rebuild() {
        let pod = labels(&[("foo", "")]);
        let d = ("default", false);
        let mut nodes = vec![node("node-a", "zone1", &[d]), node("node-x", "zone2", &[])];
        let cons = vec![SpreadConstraint::new(1, "zone", exists("foo"))];
        let mut s = build(cons.clone(), &nodes, "default");
        assert_eq!(s.filter_code(&pod, &nodes[0].labels), Code::Unschedulable);
        // AddPod on node-x (preemption dry-run style), then compare with a rebuild.
        let foo = labels(&[("foo", "")]);
        let added = ExistingPod {
            namespace: "default",
            labels: &foo,
            terminating: false,
        };
        s.update_with_pod(added, "default", &nodes[1].labels, NodeEligibility::ALL, 1);
        nodes[1].pods.push(("default".into(), foo.clone(), false));
        let rebuilt = build(cons, &nodes, "default");
        assert_eq!(s.tp_value_to_match_num, rebuilt.tp_value_to_match_num);
        assert_eq!(s.min_match_num(0), rebuilt.min_match_num(0));
        assert_eq!(s.filter_code(&pod, &nodes[0].labels), Code::Success);
        // Other namespace: ignored.
        let other = ExistingPod {
            namespace: "ns1",
            ..added
        };
        let before = s.clone();
        s.update_with_pod(other, "default", &nodes[1].labels, NodeEligibility::ALL, 1);
        assert_eq!(s, before);
        // RemovePod restores.
        s.update_with_pod(added, "default", &nodes[1].labels, NodeEligibility::ALL, -1);
        assert_eq!(s.tp_value_to_match_num[0].get("zone2"), Some(&0));
        let st = s.filter(&pod, &nodes[0].labels);
        assert_eq!(st.code(), Code::Unschedulable);
        assert_eq!(st.message(), ERR_REASON_CONSTRAINTS_NOT_MATCH);
    }

    #[test]
    fn node_affinity_policy_excludes_domains() {
        let pod = labels(&[("foo", "")]);
        let d = ("default", false);
        let nodes = [node("node-a", "zone1", &[d]), node("node-x", "zone2", &[])];
        let mut s = PreFilterState::new(vec![SpreadConstraint::new(1, "zone", exists("foo"))]);
        // node-x does not match the pod's node affinity: zone2 is not an eligible domain.
        for (n, ok) in nodes.iter().zip([true, false]) {
            let pods = n.pods.iter().map(|(pns, l, t)| ExistingPod {
                namespace: pns,
                labels: l,
                terminating: *t,
            });
            let e = NodeEligibility {
                matches_node_affinity: ok,
                taints_tolerated: true,
            };
            s.add_node(&n.labels, e, "default", pods);
        }
        s.finish();
        assert_eq!(s.domains_num, vec![1]);
        // min = 1 (zone1 only): node-a 1+1-1 = 1 ok; node-x 0+1-1 = 0 ok.
        assert_eq!(s.filter_code(&pod, &nodes[0].labels), Code::Success);
        assert_eq!(s.filter_code(&pod, &nodes[1].labels), Code::Success);
    }
}
