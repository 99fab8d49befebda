//! The scheduler: upstream's default profile ([`profile::Profile`]) for what the object
//! model carries. Filters in upstream order (NodeUnschedulable, NodeName, TaintToleration,
//! NodeAffinity, NodePorts, NodeResourcesFit, PodTopologySpread), then the weighted Score
//! plugins (TaintToleration, NodeAffinity, NodeResourcesFit, PodTopologySpread with the
//! system default constraints, NodeResourcesBalancedAllocation, ImageLocality) with their
//! NormalizeScore, as pkg/scheduler/framework/runtime/framework.go RunScorePlugins sums them.
//! Upstream's node sampling (pkg/scheduler/schedule_one.go `numFeasibleNodesToFind`, the
//! rotating `nextStartNodeIndex`, the zone-interleaved node order of
//! pkg/scheduler/backend/cache/node_tree.go) and `selectHost`'s reservoir-sampled tie break
//! are kept. The scheduling [`queue`] orders pods by priority then arrival and backs off
//! unschedulable pods. Per-node sums come from the store's incremental aggregates and the
//! [`spread`] selector counts, so a pod costs O(nodes examined) for filtering and scoring
//! (PodTopologySpread's domain counts read one cached number per node).

pub mod config;
pub mod explain;
mod failure_memo;
pub mod feasible;
pub mod framework;
pub mod hypothetical;
pub mod normalize;
pub mod plugins;
pub mod preemption;
pub mod profile;
pub mod queue;
pub mod spread;

use super::{Controller, Ctx, Key, Next, WorkQueue};
use crate::api::affinity::{preferred_score, required_node_affinity_matches};
use crate::api::objects::{NodeImage, Object};
use crate::api::selector::{LabelSelector, Operator, Requirement, map_matches};
use crate::api::store::{NodeUsage, non_zero_requests};
use crate::api::taint::{Taint, TaintEffect};
use crate::api::{Change, Kind, Node, Op, Pod, Store};
use crate::engine::SimDuration;
use crate::engine::rng::below;
use feasible::num_feasible_nodes_to_find;
use normalize::{MAX_NODE_SCORE, default_normalize_score};
use plugins::balanced_allocation::balanced_resource_score;
use plugins::image_locality::{
    ImageStateSummary, build_image_states, image_locality_score, normalized_image_name,
};
use plugins::inter_pod_affinity as ipa;
use plugins::noderesources::{
    ResourceScorer, ScoringStrategy, allocatable_and_requested, default_resources,
    least_allocated_score,
};
use plugins::pod_topology_spread::{
    ERR_REASON_CONSTRAINTS_NOT_MATCH, ERR_REASON_NODE_LABEL_NOT_MATCH, NodeEligibility,
    NodeInclusionPolicy, PreFilterState, SpreadConstraint, normalize_spread_scores,
    score_for_count, topology_normalizing_weight,
};
use plugins::taint_toleration::{
    ERR_REASON_UNTOLERATED_TAINT, count_intolerable_taints_prefer_no_schedule,
    find_untolerated_do_not_schedule_taint, prefer_no_schedule_tolerations,
};
use profile::{Profile, Registry, names};
use queue::SchedulingQueue;
use spread::SelectorCounts;
use std::collections::BTreeMap;

/// The default scheduler's name.
pub const DEFAULT_SCHEDULER: &str = "default-scheduler";
/// Upstream NodePorts `ErrReason`.
pub const ERR_REASON_NODE_PORTS: &str =
    "node(s) didn't have free ports for the requested pod ports";
/// Upstream `ErrNoNodesAvailable` (schedule_one.go): the failure when the cluster has no
/// nodes.
pub const ERR_NO_NODES_AVAILABLE: &str = "no nodes available to schedule pods";
/// Upstream `v1.LabelHostname`.
pub const LABEL_HOSTNAME: &str = "kubernetes.io/hostname";
/// Upstream `v1.LabelTopologyZone`.
pub const LABEL_TOPOLOGY_ZONE: &str = "topology.kubernetes.io/zone";

/// Scheduler settings.
#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    /// `percentageOfNodesToScore` (0 = adaptive); the profile's value wins when set.
    pub percentage_of_nodes_to_score: usize,
    /// Break ties by node name instead of at random (for CI baselines).
    pub tie_break_by_name: bool,
    /// The scheduling profiles (a `KubeSchedulerConfiguration`'s, see [`config`]). A pod
    /// is scheduled by the profile whose `scheduler_name` is its `spec.schedulerName`;
    /// pods naming no profile are left alone, as upstream. Empty: one default profile.
    pub profiles: Vec<Profile>,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            percentage_of_nodes_to_score: 0,
            tie_break_by_name: false,
            profiles: vec![Profile::default()],
        }
    }
}

/// What a scheduling cycle reads: the scheduler-wide settings and the profile of the pod
/// being scheduled (switched at the start of each scheduling cycle).
#[derive(Debug, Clone)]
struct ActiveConfig {
    percentage_of_nodes_to_score: usize,
    tie_break_by_name: bool,
    /// The active profile.
    profile: Profile,
}

/// One profile's runtime: its enabled plugins and NodeResourcesFit scorer. The active
/// profile's `profile` and `scorer` live in the scheduler's own fields meanwhile (swapped,
/// so switching profiles allocates nothing).
struct ProfileSlot {
    scheduler_name: String,
    profile: Profile,
    enabled: Enabled,
    scorer: ResourceScorer,
}

/// Scheduling statistics for reports.
#[derive(Debug, Clone, Default)]
pub struct SchedulerStats {
    /// Successful bindings.
    pub scheduled: u64,
    /// Failed attempts.
    pub failed_attempts: u64,
    /// Nodes examined by filters, summed over attempts.
    pub nodes_filtered: u64,
}

/// The scheduler's dense per-node snapshot of what filters and scores read most: kept
/// beside the store's incremental usage sums, refreshed on node events, so the node scan
/// touches two small arrays instead of whole Node objects.
#[derive(Debug, Clone, Copy, Default)]
struct NodeLite {
    exists: bool,
    unschedulable: bool,
    has_taints: bool,
    cpu: i64,
    memory: i64,
    ephemeral: i64,
    pods: i64,
}

/// Which built-in plugins the profile enables, and the score weights.
#[derive(Debug, Clone, Copy, Default)]
struct Enabled {
    unschedulable: bool,
    taints: bool,
    affinity: bool,
    ports: bool,
    fit: bool,
    spread: bool,
    w_taints: i64,
    w_affinity: i64,
    w_fit: i64,
    w_spread: i64,
    w_balanced: i64,
    w_images: i64,
    inter_pod: bool,
    w_inter_pod: i64,
    preemption: bool,
    /// NodeResourcesFit scores LeastAllocated over cpu and memory with weight 1.
    fit_default: bool,
}

/// PreScore state of PodTopologySpread (upstream `preScoreState`).
struct SpreadScore {
    constraints: Vec<(SpreadConstraint, Option<u32>)>,
    /// Per constraint, per topology value id: the domain's count (`None`: not a domain
    /// of the feasible nodes).
    tp_counts: Vec<Vec<Option<i64>>>,
    weights: Vec<f64>,
    ignored: Vec<bool>,
}

/// Per-pod cycle data: the PreFilter results the node scan reads.
#[derive(Default)]
pub struct CycleState {
    host_ports: Vec<(String, i32)>,
    /// Hard constraints with their selector count entry.
    spread_filter: Option<(PreFilterState, Vec<Option<u32>>)>,
    /// The same constraints in closed form, when every node is eligible (see
    /// [`Scheduler::pre_filter_spread_fast`]).
    spread_fast: Option<Vec<FastSpread>>,
    /// The NodeAffinity filter's answer per node (`None`: evaluate per node).
    node_affinity: Option<NodeAffinityMatches>,
    /// InterPodAffinity's PreFilter state (`None`: Skip).
    inter_pod: Option<Box<ipa::PreFilterState>>,
}

/// A hard spread constraint evaluated from cached aggregates: the domain of a node is
/// `node_values[node]`; its count is the per-node count (hostname) or `domain_counts`.
struct FastSpread {
    node_values: Vec<u32>,
    domain_counts: Vec<i64>,
    per_node: bool,
    entry: Option<u32>,
    self_match: i64,
    max_skew: i64,
    min_match: i64,
}

/// Whether each node matches a pod's nodeSelector and required node affinity: all of
/// them when the pod has neither, else a table by node id shared by every pod with the
/// same terms until a node changes.
enum NodeAffinityMatches {
    All,
    Table(std::rc::Rc<Vec<bool>>),
}

impl NodeAffinityMatches {
    fn matches(&self, pod: &Pod, id: u32, node: &Node) -> bool {
        match self {
            NodeAffinityMatches::All => true,
            NodeAffinityMatches::Table(t) => match t.get(id as usize) {
                Some(&m) => m,
                None => required_node_affinity_matches(
                    &pod.spec.node_selector,
                    pod.spec.node_affinity.as_ref(),
                    &node.meta.labels,
                    &node.meta.name,
                ),
            },
        }
    }
}

/// The scheduler controller.
pub struct Scheduler {
    lite: Vec<NodeLite>,
    config: ActiveConfig,
    enabled: Enabled,
    scorer: ResourceScorer,
    /// Every profile; `slots[active]` holds placeholders while it is active.
    slots: Vec<ProfileSlot>,
    active: usize,
    registry: Registry,
    /// Indices in `registry.filters` of the out-of-tree Filter plugins the active profile
    /// enables, resolved once per profile switch instead of by name per node (upstream
    /// also builds each profile's plugin lists once: framework/runtime/framework.go
    /// NewFramework).
    reg_filters: Vec<usize>,
    /// Indices in `registry.scores` of the active profile's out-of-tree Score plugins with
    /// their weights (non-zero only), resolved with `reg_filters`.
    reg_scores: Vec<(usize, i64)>,
    queue: SchedulingQueue,
    /// Node ids in upstream's zone-interleaved order.
    order: Vec<u32>,
    order_dirty: bool,
    next_start: usize,
    spread: SelectorCounts,
    /// Bound pods with (anti-)affinity terms, for InterPodAffinity.
    ipa: ipa::AffinityIndex,
    /// Required affinity terms of pods that went through PreFilter since the last move:
    /// a pod bound that matches one may make them schedulable (upstream's queueing hint
    /// for AssignedPodAdd/Update).
    ipa_waiting: Vec<ipa::AffinityTerm>,
    /// Failed cycles replayed for identical pods while nothing changed ([`failure_memo`]).
    memo: failure_memo::FailureMemo,
    /// Watch events delivered that may change a decision (the memo's second epoch: the
    /// scheduler's caches follow delivered events, which may lag the store).
    watch_epoch: u64,
    node_images: Vec<Vec<NodeImage>>,
    image_states: Vec<BTreeMap<String, ImageStateSummary>>,
    /// Per topology key: every node's value as a small id (`u32::MAX`: no such label)
    /// and the values; built on first use, dropped on any node change, so spreading
    /// reads an array instead of each node's label map.
    topo: BTreeMap<String, (Vec<u32>, Vec<String>)>,
    /// Per cached topology key: how many existing nodes lack it.
    topo_missing: BTreeMap<String, usize>,
    /// Use the closed-form spread aggregates when they apply (off only to test them
    /// against the node walk).
    closed_form: bool,
    /// Node affinity match tables by the pod's (nodeSelector, required terms), dropped
    /// with the topology cache.
    affinity_tables: BTreeMap<String, std::rc::Rc<Vec<bool>>>,
    /// Default spreading selectors by (namespace, labels, controller).
    default_selectors: BTreeMap<String, LabelSelector>,
    /// NodeAffinity preferred-term scores by the pod's preferred terms, dropped with them.
    preferred_tables: BTreeMap<String, std::rc::Rc<Vec<i64>>>,
    /// Cluster-wide summary per image (size, nodes holding it).
    global_images: BTreeMap<String, ImageStateSummary>,
    any_images: bool,
    images_dirty: bool,
    /// Statistics.
    pub stats: SchedulerStats,
    /// Where selected pods' attempts are explained (`None`: recording off).
    explain: Option<explain::SharedExplainLog>,
}

/// NodeUnschedulable's Filter on a cordoned node (plugins/nodeunschedulable): only a pod
/// tolerating the `node.kubernetes.io/unschedulable:NoSchedule` taint is admitted.
pub(crate) fn node_unschedulable_filter(pod: &Pod) -> Result<(), Vec<String>> {
    let t = Taint {
        key: "node.kubernetes.io/unschedulable".into(),
        value: String::new(),
        effect: TaintEffect::NoSchedule,
    };
    if pod
        .spec
        .tolerations
        .iter()
        .any(|tol| tol.tolerates(&t, false))
    {
        Ok(())
    } else {
        Err(vec!["node(s) were unschedulable".into()])
    }
}

impl Scheduler {
    /// A scheduler with `config` and no out-of-tree plugins.
    pub fn new(config: SchedulerConfig) -> Scheduler {
        Scheduler::with_registry(config, Registry::default())
    }

    /// A scheduler with `config` and the out-of-tree plugins of `registry` (run when the
    /// profile enables them by name, after the built-in plugins).
    pub fn with_registry(config: SchedulerConfig, registry: Registry) -> Scheduler {
        let mut profiles = config.profiles;
        if profiles.is_empty() {
            profiles.push(Profile::default());
        }
        let mut slots: Vec<ProfileSlot> = profiles
            .into_iter()
            .map(|p| ProfileSlot {
                scheduler_name: p.scheduler_name.clone(),
                enabled: Enabled::of(&p),
                scorer: ResourceScorer::new(p.fit_strategy.clone(), p.fit_resources.clone()),
                profile: p,
            })
            .collect();
        let placeholder = ResourceScorer::new(ScoringStrategy::LeastAllocated, Vec::new());
        let scorer = std::mem::replace(&mut slots[0].scorer, placeholder);
        let profile = std::mem::take(&mut slots[0].profile);
        let enabled = slots[0].enabled;
        let config = ActiveConfig {
            percentage_of_nodes_to_score: config.percentage_of_nodes_to_score,
            tie_break_by_name: config.tie_break_by_name,
            profile,
        };
        let mut s = Scheduler {
            lite: Vec::new(),
            enabled,
            scorer,
            slots,
            active: 0,
            registry,
            reg_filters: Vec::new(),
            reg_scores: Vec::new(),
            config,
            queue: SchedulingQueue::default(),
            order: Vec::new(),
            order_dirty: true,
            next_start: 0,
            spread: SelectorCounts::default(),
            ipa: ipa::AffinityIndex::default(),
            ipa_waiting: Vec::new(),
            memo: failure_memo::FailureMemo::default(),
            watch_epoch: 0,
            node_images: Vec::new(),
            image_states: Vec::new(),
            global_images: BTreeMap::new(),
            topo: BTreeMap::new(),
            topo_missing: BTreeMap::new(),
            affinity_tables: BTreeMap::new(),
            preferred_tables: BTreeMap::new(),
            default_selectors: BTreeMap::new(),
            closed_form: true,
            any_images: false,
            images_dirty: true,
            stats: SchedulerStats::default(),
            explain: None,
        };
        s.resolve_registry();
        s
    }

    /// Resolves the active profile's out-of-tree plugins into `reg_filters` and
    /// `reg_scores` (registry order, as they run).
    fn resolve_registry(&mut self) {
        let p = &self.config.profile;
        self.reg_filters = (self.registry.filters.iter().enumerate())
            .filter(|(_, f)| p.filter_enabled(f.name()))
            .map(|(i, _)| i)
            .collect();
        self.reg_scores = (self.registry.scores.iter().enumerate())
            .map(|(i, sp)| (i, p.score_weight(sp.name())))
            .filter(|&(_, w)| w != 0)
            .collect();
    }

    /// Records an explanation of every scheduling attempt of the pods `log`'s selector
    /// selects into `log` (see [`explain`]).
    pub fn set_explain_log(&mut self, log: explain::SharedExplainLog) {
        self.explain = Some(log);
    }

    /// Makes profile `i` the active one (its `profile`, `enabled` and `scorer` in the
    /// scheduler's fields); nothing to do when it already is.
    fn activate(&mut self, i: usize) {
        if i == self.active || i >= self.slots.len() {
            return;
        }
        let old = self.active;
        std::mem::swap(&mut self.config.profile, &mut self.slots[old].profile);
        std::mem::swap(&mut self.scorer, &mut self.slots[old].scorer);
        self.slots[old].enabled = self.enabled;
        std::mem::swap(&mut self.config.profile, &mut self.slots[i].profile);
        std::mem::swap(&mut self.scorer, &mut self.slots[i].scorer);
        self.enabled = self.slots[i].enabled;
        self.active = i;
        self.resolve_registry();
    }

    /// The profile serving `scheduler_name`.
    fn profile_index(&self, scheduler_name: &str) -> Option<usize> {
        self.slots
            .iter()
            .position(|s| s.scheduler_name == scheduler_name)
    }

    fn serves(&self, p: &Pod) -> bool {
        self.profile_index(&p.spec.scheduler_name).is_some()
    }
}

impl Enabled {
    /// The built-in plugins `p` enables, and the score weights.
    fn of(p: &Profile) -> Enabled {
        Enabled {
            unschedulable: p.filter_enabled(names::NODE_UNSCHEDULABLE),
            taints: p.filter_enabled(names::TAINT_TOLERATION),
            affinity: p.filter_enabled(names::NODE_AFFINITY),
            ports: p.filter_enabled(names::NODE_PORTS),
            fit: p.filter_enabled(names::NODE_RESOURCES_FIT),
            spread: p.filter_enabled(names::POD_TOPOLOGY_SPREAD),
            w_taints: p.score_weight(names::TAINT_TOLERATION),
            w_affinity: p.score_weight(names::NODE_AFFINITY),
            w_fit: p.score_weight(names::NODE_RESOURCES_FIT),
            w_spread: p.score_weight(names::POD_TOPOLOGY_SPREAD),
            w_balanced: p.score_weight(names::BALANCED_ALLOCATION),
            w_images: p.score_weight(names::IMAGE_LOCALITY),
            inter_pod: p.filter_enabled(names::INTER_POD_AFFINITY),
            w_inter_pod: p.score_weight(names::INTER_POD_AFFINITY),
            preemption: p.post_filter_enabled(names::DEFAULT_PREEMPTION),
            fit_default: p.fit_strategy == ScoringStrategy::LeastAllocated
                && p.fit_resources == default_resources(),
        }
    }
}

impl Scheduler {
    /// Rebuilds the node order: zones in order of first appearance, nodes taken one per
    /// zone in turn (node_tree.go list()).
    fn rebuild_order(&mut self, store: &Store) {
        let mut zones: Vec<(String, Vec<u32>)> = Vec::new();
        let mut index: BTreeMap<String, usize> = BTreeMap::new();
        for (id, n) in store.nodes.iter() {
            let z = n.zone_key();
            let i = *index.entry(z.clone()).or_insert_with(|| {
                zones.push((z, Vec::new()));
                zones.len() - 1
            });
            zones[i].1.push(id);
        }
        self.lite = vec![NodeLite::default(); store.nodes.capacity()];
        for (id, n) in store.nodes.iter() {
            self.lite[id as usize] = lite_of(n);
        }
        self.order.clear();
        let longest = zones.iter().map(|z| z.1.len()).max().unwrap_or(0);
        for k in 0..longest {
            for z in &zones {
                if let Some(&id) = z.1.get(k) {
                    self.order.push(id);
                }
            }
        }
        self.order_dirty = false;
        self.images_dirty = true;
        if self.next_start >= self.order.len() {
            self.next_start = 0;
        }
    }

    /// Rebuilds the per-node image summaries (snapshot.go createImageExistenceMap).
    fn rebuild_images(&mut self, store: &Store) {
        let cap = store.nodes.capacity();
        self.node_images = vec![Vec::new(); cap];
        let ids: Vec<u32> = store.nodes.iter().map(|(id, _)| id).collect();
        let states = build_image_states(store.nodes.iter().map(|(_, n)| {
            n.images
                .iter()
                .map(|im| (im.names.iter().map(String::as_str), im.size_bytes))
        }));
        self.image_states = vec![BTreeMap::new(); cap];
        self.any_images = false;
        self.global_images.clear();
        for st in &states {
            for (name, summary) in st {
                self.global_images.insert(name.clone(), *summary);
            }
        }
        for (id, st) in ids.into_iter().zip(states) {
            if let Some(n) = store.nodes.get(id) {
                self.node_images[id as usize] = n.images.clone();
            }
            self.any_images |= !st.is_empty();
            self.image_states[id as usize] = st;
        }
        self.images_dirty = false;
    }

    /// PreFilter: the pod's host ports and its `DoNotSchedule` spread constraints counted
    /// over all nodes (filtering.go calPreFilterState).
    fn pre_filter(&mut self, pod: &Pod, store: &Store) -> CycleState {
        let mut cs = CycleState::default();
        if self.enabled.ports {
            cs.host_ports = pod_host_ports(pod);
        }
        if self.enabled.affinity {
            cs.node_affinity = Some(self.node_affinity_matches(pod, store));
        }
        if self.enabled.spread {
            let constraints = if pod.spec.topology_spread_constraints.is_empty() {
                listed_default_constraints(pod, store, &self.config.profile, true)
            } else {
                pod_spread_constraints(pod, true)
            };
            if !constraints.is_empty() {
                let entries: Vec<Option<u32>> = constraints
                    .iter()
                    .map(|c| self.spread.entry(store, &pod.meta.namespace, &c.selector))
                    .collect();
                let honor_taints = constraints
                    .iter()
                    .any(|c| c.node_taints_policy == NodeInclusionPolicy::Honor);
                if !honor_taints
                    && self.closed_form
                    && let Some(fast) =
                        self.pre_filter_spread_fast(pod, store, &constraints, &entries)
                {
                    cs.spread_fast = Some(fast);
                    return self.pre_filter_rest(pod, store, cs);
                }
                let mut st = PreFilterState::new(constraints);
                let affinity = self.node_affinity_matches(pod, store);
                for (id, node) in store.nodes.iter() {
                    let el = eligibility(pod, id, node, honor_taints, &affinity);
                    st.add_node_counts(&node.meta.labels, el, |i| {
                        entries[i].map_or(0, |e| self.spread.count(e, id))
                    });
                }
                st.finish();
                cs.spread_filter = Some((st, entries));
            }
        }
        self.pre_filter_rest(pod, store, cs)
    }

    /// PodTopologySpread PreFilter in closed form (filtering.go calPreFilterState without
    /// the node walk): when the pod's node affinity excludes no node (or the constraints
    /// ignore it), no constraint honours taints, and every node carries every key (with
    /// unique hostname values), each eligible domain's count is a cached per-domain sum and
    /// the hostname minimum is 0 unless every node holds a matching pod. `None` falls back
    /// to the walk.
    fn pre_filter_spread_fast(
        &mut self,
        pod: &Pod,
        store: &Store,
        constraints: &[SpreadConstraint],
        entries: &[Option<u32>],
    ) -> Option<Vec<FastSpread>> {
        let affinity_neutral = (pod.spec.node_selector.is_empty()
            && pod
                .spec
                .node_affinity
                .as_ref()
                .is_none_or(|a| a.required.is_none()))
            || constraints
                .iter()
                .all(|c| c.node_affinity_policy == NodeInclusionPolicy::Ignore);
        if !affinity_neutral {
            return None;
        }
        let nodes = store.nodes.len();
        let mut out = Vec::with_capacity(constraints.len());
        for (c, &e) in constraints.iter().zip(entries) {
            self.ensure_topology(store, &c.topology_key);
            if self.topo_missing.get(&c.topology_key) != Some(&0) {
                return None;
            }
            let (node_values, values) = &self.topo[&c.topology_key];
            let per_node = c.topology_key == LABEL_HOSTNAME;
            if per_node && values.len() != nodes {
                return None;
            }
            let domains = values.len() as i64;
            let (domain_counts, min) = if per_node {
                let min = match e {
                    Some(e) if self.spread.nonzero_nodes(e) >= nodes => store
                        .nodes
                        .iter()
                        .map(|(id, _)| self.spread.count(e, id))
                        .min()
                        .unwrap_or(0),
                    _ => 0,
                };
                (Vec::new(), min)
            } else {
                let sums: Vec<i64> = match e {
                    Some(e) => self
                        .spread
                        .domain_sums(e, &c.topology_key, node_values, values)
                        .to_vec(),
                    None => vec![0; values.len()],
                };
                let min = sums.iter().copied().min().unwrap_or(0);
                (sums, min)
            };
            out.push(FastSpread {
                node_values: self.topo[&c.topology_key].0.clone(),
                domain_counts,
                per_node,
                entry: e,
                self_match: i64::from(c.selector.matches(&pod.meta.labels)),
                max_skew: c.max_skew,
                // minMatchNum: 0 with fewer eligible domains than minDomains.
                min_match: if domains < c.min_domains { 0 } else { min },
            });
        }
        Some(out)
    }

    /// [`default_selector`] for the pod, shared by pods with the same namespace, labels and
    /// controller until a Service, ReplicaSet or ReplicationController changes.
    fn cached_default_selector(&mut self, pod: &Pod, store: &Store) -> LabelSelector {
        let owner = pod.meta.controller_ref().map(|o| (o.kind, o.name.as_str()));
        let key = format!(
            "{}\u{0}{:?}\u{0}{:?}",
            pod.meta.namespace, pod.meta.labels, owner
        );
        if let Some(s) = self.default_selectors.get(&key) {
            return s.clone();
        }
        let s = default_selector(pod, store);
        if self.default_selectors.len() < 4096 {
            self.default_selectors.insert(key, s.clone());
        }
        s
    }

    /// Turns the closed-form PodTopologySpread aggregates off (they must decide exactly
    /// as the node walk does; tests compare both).
    #[doc(hidden)]
    pub fn set_closed_form_aggregates(&mut self, on: bool) {
        self.closed_form = on;
    }

    /// Which nodes match the pod's nodeSelector and required node affinity, shared by
    /// pods with the same terms (api/affinity.rs required_node_affinity_matches).
    fn node_affinity_matches(&mut self, pod: &Pod, store: &Store) -> NodeAffinityMatches {
        let required = pod
            .spec
            .node_affinity
            .as_ref()
            .and_then(|a| a.required.as_ref());
        if pod.spec.node_selector.is_empty() && required.is_none() {
            return NodeAffinityMatches::All;
        }
        let key = format!("{:?}\u{0}{:?}", pod.spec.node_selector, required);
        if let Some(t) = self.affinity_tables.get(&key) {
            return NodeAffinityMatches::Table(t.clone());
        }
        let mut t = vec![false; store.nodes.capacity()];
        for (id, n) in store.nodes.iter() {
            t[id as usize] = required_node_affinity_matches(
                &pod.spec.node_selector,
                pod.spec.node_affinity.as_ref(),
                &n.meta.labels,
                &n.meta.name,
            );
        }
        let t = std::rc::Rc::new(t);
        if self.affinity_tables.len() < 256 {
            self.affinity_tables.insert(key, t.clone());
        }
        NodeAffinityMatches::Table(t)
    }

    /// NodeAffinity's raw score (the sum of matching preferred terms' weights) per node
    /// id, shared by pods with the same preferred terms until a node changes.
    fn preferred_scores(&mut self, pod: &Pod, store: &Store) -> std::rc::Rc<Vec<i64>> {
        let key = format!(
            "{:?}",
            pod.spec.node_affinity.as_ref().map(|a| &a.preferred)
        );
        if let Some(t) = self.preferred_tables.get(&key) {
            return t.clone();
        }
        let mut t = vec![0i64; store.nodes.capacity()];
        for (id, n) in store.nodes.iter() {
            t[id as usize] = preferred_score(
                pod.spec.node_affinity.as_ref(),
                &n.meta.labels,
                &n.meta.name,
            );
        }
        let t = std::rc::Rc::new(t);
        if self.preferred_tables.len() < 256 {
            self.preferred_tables.insert(key, t.clone());
        }
        t
    }

    /// The PreFilter steps after PodTopologySpread.
    fn pre_filter_rest(&mut self, pod: &Pod, store: &Store, mut cs: CycleState) -> CycleState {
        if self.enabled.inter_pod
            && (self.ipa.any_required_anti_affinity() || ipa::has_required_terms(pod))
        {
            let keys: Vec<String> = ipa::pre_filter_keys(pod, &self.ipa)
                .into_iter()
                .map(str::to_string)
                .collect();
            for k in &keys {
                self.ensure_topology(store, k);
            }
            cs.inter_pod =
                ipa::pre_filter(pod, store, &self.ipa, &mut self.spread, &self.topo).map(Box::new);
            if let Some(st) = cs.inter_pod.as_deref() {
                self.wait_for_terms(&st.required_affinity);
            }
        }
        cs
    }

    /// Registers required affinity terms a pending pod waits for (at most 64 distinct),
    /// so a bound pod matching one moves the unschedulable pods.
    fn wait_for_terms(&mut self, terms: &[ipa::AffinityTerm]) {
        for t in terms {
            if self.ipa_waiting.len() < 64 && !self.ipa_waiting.contains(t) {
                self.ipa_waiting.push(t.clone());
            }
        }
    }

    /// InterPodAffinity PreScore (scoring.go PreScore): `None` is Skip.
    fn pre_score_inter_pod(&mut self, pod: &Pod, store: &Store) -> Option<ipa::ScoreState> {
        let hard = self.config.profile.hard_pod_affinity_weight;
        if !self.ipa.any_scoring(hard) && !ipa::has_preferred_terms(pod) {
            return None;
        }
        let keys: Vec<String> = ipa::pre_score_keys(pod, &self.ipa, hard)
            .into_iter()
            .map(str::to_string)
            .collect();
        for k in &keys {
            self.ensure_topology(store, k);
        }
        ipa::pre_score(pod, store, &self.ipa, &mut self.spread, &self.topo, hard)
    }

    /// Schedules one pod; returns whether it was bound.
    fn schedule_one(&mut self, pod_id: u32, ctx: &mut Ctx<'_>) -> bool {
        let now = ctx.now;
        let Some(pod) = ctx.store.pods.get(pod_id) else {
            return false;
        };
        if !pod.spec.node_name.is_empty() || pod.meta.deletion.is_some() {
            return false;
        }
        // The pod's profile (upstream frameworkForPod); the queue only holds served pods.
        let Some(profile) = self.profile_index(&pod.spec.scheduler_name) else {
            return false;
        };
        self.activate(profile);
        let store: &Store = ctx.store;
        let n = self.order.len();
        let pct = self
            .config
            .profile
            .percentage_of_nodes_to_score
            .unwrap_or(self.config.percentage_of_nodes_to_score);
        let to_find = num_feasible_nodes_to_find(pct as i64, n as i64) as usize;
        // Explanations: decided once per cycle, so an unselected pod costs this check.
        let mut rec = if self.explain.is_some() {
            self.begin_explain(pod_id, pod, now, n, pct, to_find)
        } else {
            None
        };
        // The failure memo: an identical pod failed in this very cluster state.
        let memo_able = rec.is_none()
            && n > 0
            && pod.status.nominated_node_name.is_empty()
            && self.queue.nominator.node_of(pod_id).is_none();
        let epochs = (store.scheduling_epoch(), self.watch_epoch);
        if memo_able && let Some(f) = self.memo.lookup(epochs, profile, pod) {
            let f = f.clone();
            return self.replay_failure(pod_id, &f, ctx);
        }
        let rng_at_start = ctx.rng.get_word_pos();
        let cycle = self.pre_filter(pod, store);
        let pod_has_affinity =
            !pod.spec.node_selector.is_empty() || pod.spec.node_affinity.is_some();
        let mut failures: BTreeMap<String, usize> = BTreeMap::new();
        let mut feasible: Vec<u32> = Vec::with_capacity(to_find.min(n));
        let mut processed = 0;
        // schedule_one.go evaluateNominatedNode: a node nominated by an earlier preemption
        // is tried first; when it passes, it is the only feasible node.
        let nominated = self.evaluate_nominated_node(pod, pod_has_affinity, store, &cycle);
        feasible.extend(nominated);
        if let Some(r) = rec.as_mut() {
            r.nominated(pod, nominated);
        }
        let n_scan = if nominated.is_some() { 0 } else { n };
        // Per node id, the failure code for preemption (`Some(true)`: unresolvable).
        let mut codes: Vec<Option<bool>> = Vec::new();
        for k in 0..n_scan {
            if feasible.len() >= to_find {
                break;
            }
            processed += 1;
            let node_id = self.order[(self.next_start + k) % n];
            let lite = self.lite[node_id as usize];
            if !lite.exists {
                continue;
            }
            let nominated_usage = self.usage_with_nominated(pod, store, node_id, None);
            match self.filter(
                pod,
                pod_has_affinity,
                &lite,
                store,
                node_id,
                &cycle,
                nominated_usage.as_ref(),
            ) {
                Ok(()) => feasible.push(node_id),
                Err(reasons) => {
                    if self.enabled.preemption {
                        if codes.is_empty() {
                            codes = vec![None; self.lite.len()];
                        }
                        codes[node_id as usize] =
                            Some(reasons.iter().any(|r| preemption::reason_unresolvable(r)));
                    }
                    for r in reasons {
                        *failures.entry(r).or_default() += 1;
                    }
                }
            }
        }
        self.stats.nodes_filtered += processed as u64;
        if n > 0 {
            self.next_start = (self.next_start + processed) % n;
        }
        let (ns, name) = (pod.meta.namespace.clone(), pod.meta.name.clone());
        if let Some(r) = rec.as_mut() {
            r.attempt.sampling.processed = processed;
            r.attempt.sampling.feasible = feasible.len();
            if nominated.is_none() {
                self.explain_scan(r, pod, pod_has_affinity, store, &cycle, &feasible);
            }
        }
        if feasible.is_empty() {
            self.stats.failed_attempts += 1;
            ctx.store.stats.failed_scheduling_attempts += 1;
            // schedule_one.go schedulePod: with no nodes at all upstream fails with
            // ErrNoNodesAvailable before any filter (and PostFilter) runs.
            let mut msg = if n == 0 {
                ERR_NO_NODES_AVAILABLE.to_string()
            } else {
                fit_error_message(n, &failures)
            };
            // schedule_one.go schedulingCycle: the PostFilter (DefaultPreemption) runs on a
            // FitError; without PostFilter plugins the nomination is cleared.
            let post = if self.enabled.preemption && n > 0 {
                self.post_filter(pod_id, &codes, &cycle, ctx)
            } else {
                preemption::PostFilterResult {
                    nominating: preemption::Nominating::Clear,
                    message: String::new(),
                    victims: Vec::new(),
                }
            };
            if !post.message.is_empty() {
                msg.push(' ');
                msg.push_str(&post.message);
            }
            if let Some(mut r) = rec.take() {
                r.unschedulable(&msg, (self.enabled.preemption && n > 0).then_some(&post));
                self.finish_explain(r, ctx.store, &[], None);
            }
            let post_nominates = matches!(post.nominating, preemption::Nominating::Set(_));
            let post_clears = matches!(post.nominating, preemption::Nominating::Clear);
            let post_victims = !post.victims.is_empty();
            // handleSchedulingFailure: the nominator first, then the pod's status.
            let priority = ctx.store.pods.get(pod_id).map_or(0, |p| p.spec.priority);
            match &post.nominating {
                preemption::Nominating::Noop => {}
                preemption::Nominating::Clear => self.queue.nominator.remove(pod_id),
                preemption::Nominating::Set(node) => {
                    self.queue.nominator.set(pod_id, priority, node);
                }
            }
            ctx.store.update_pod(pod_id, now, |p| {
                p.status.unschedulable = true;
                match post.nominating {
                    preemption::Nominating::Noop => {}
                    preemption::Nominating::Clear => p.status.nominated_node_name.clear(),
                    preemption::Nominating::Set(node) => p.status.nominated_node_name = node,
                }
            });
            let memoise = memo_able
                && nominated.is_none()
                && processed == n
                && !post_victims
                && !post_nominates
                && ctx.rng.get_word_pos() == rng_at_start;
            if memoise && let Some(p) = ctx.store.pods.get(pod_id) {
                let failure = failure_memo::Failure {
                    message: msg.clone(),
                    clear_nomination: post_clears,
                    processed,
                    waiting: cycle
                        .inter_pod
                        .iter()
                        .flat_map(|st| st.required_affinity.iter().cloned())
                        .collect(),
                };
                let epochs = (ctx.store.scheduling_epoch(), self.watch_epoch);
                self.memo.insert(epochs, profile, p, failure);
            }
            ctx.store
                .record_event(now, Kind::Pod, &ns, &name, "FailedScheduling", || msg);
            return false;
        }
        let chosen = if feasible.len() == 1 {
            // schedule_one.go: a single feasible node is chosen without scoring.
            feasible[0]
        } else {
            let scores = self.score(pod, store, &feasible, rec.as_mut().map(|r| &mut r.scores));
            if let Some(r) = rec.as_mut() {
                r.totals.clone_from(&scores);
            }
            let scored: Vec<(u32, i64)> = feasible.iter().copied().zip(scores).collect();
            self.select_host(&scored, ctx)
        };
        if let Some(mut r) = rec.take() {
            r.scheduled(self.config.tie_break_by_name);
            self.finish_explain(r, ctx.store, &feasible, Some(chosen));
        }
        let node_name = ctx
            .store
            .nodes
            .get(chosen)
            .map(|n| n.meta.name.clone())
            .unwrap_or_default();
        // Out-of-tree Reserve: annotations recorded with the binding.
        let reserved = self.reserve_annotations(pod_id, chosen, ctx.store);
        ctx.store.update_pod(pod_id, now, |p| {
            p.meta.annotations.extend(reserved);
            p.spec.node_name = node_name.clone();
            p.status.scheduled_at = Some(now);
            p.status.unschedulable = false;
            // A nomination elsewhere no longer holds once the pod is bound.
            if p.status.nominated_node_name != node_name {
                p.status.nominated_node_name.clear();
            }
        });
        self.queue.nominator.remove(pod_id);
        // The assumed pod counts for the next cycles at once (cache.AssumePod).
        self.spread.retrack(ctx.store, pod_id);
        self.ipa.retrack(ctx.store, pod_id);
        self.stats.scheduled += 1;
        ctx.store
            .record_event(now, Kind::Pod, &ns, &name, "Scheduled", || {
                format!("Successfully assigned {ns}/{name} to {node_name}")
            });
        true
    }

    /// Does what the failed cycle `f` of an identical pod did, for pod `pod_id`, in the
    /// same order as [`Scheduler::schedule_one`]'s failure path ([`failure_memo`]).
    fn replay_failure(
        &mut self,
        pod_id: u32,
        f: &failure_memo::Failure,
        ctx: &mut Ctx<'_>,
    ) -> bool {
        let now = ctx.now;
        // PreFilter's registration of the required affinity terms waited for.
        self.wait_for_terms(&f.waiting);
        // Every node was processed, so the rotating start index is where it was.
        self.stats.nodes_filtered += f.processed as u64;
        self.stats.failed_attempts += 1;
        ctx.store.stats.failed_scheduling_attempts += 1;
        if f.clear_nomination {
            self.queue.nominator.remove(pod_id);
        }
        let Some((ns, name)) = ctx
            .store
            .pods
            .get(pod_id)
            .map(|p| (p.meta.namespace.clone(), p.meta.name.clone()))
        else {
            return false;
        };
        ctx.store.update_pod(pod_id, now, |p| {
            p.status.unschedulable = true;
            if f.clear_nomination {
                p.status.nominated_node_name.clear();
            }
        });
        ctx.store
            .record_event(now, Kind::Pod, &ns, &name, "FailedScheduling", || {
                f.message.clone()
            });
        false
    }

    /// Starts recording this cycle when the explain log selects `pod`.
    #[cold]
    #[inline(never)]
    fn begin_explain(
        &self,
        pod_id: u32,
        pod: &Pod,
        now: crate::engine::SimTime,
        n: usize,
        pct: usize,
        to_find: usize,
    ) -> Option<Box<explain::Recording>> {
        if !self.explain.as_ref()?.borrow().selector.matches(pod) {
            return None;
        }
        let (attempts, origin) = self.queue.attempts_of(pod_id);
        Some(Box::new(explain::Recording::new(
            now,
            pod,
            attempts + 1,
            origin.as_str(),
            explain::Sampling {
                all_nodes: n,
                percentage_of_nodes_to_score: pct,
                num_feasible_nodes_to_find: to_find,
                start_index: self.next_start,
                processed: 0,
                feasible: 0,
            },
        )))
    }

    /// The explained Filter outcome of a node that failed with `reasons`: the built-in
    /// plugin named by the reason, else the out-of-tree filter that gives these reasons.
    #[cold]
    #[inline(never)]
    fn explain_failure(
        &self,
        pod: &Pod,
        store: &Store,
        node_id: u32,
        reasons: &[String],
    ) -> explain::FilterOutcome {
        let known = reasons.first().and_then(|r| explain::plugin_of_reason(r));
        let plugin = match (known, store.nodes.get(node_id)) {
            (None, Some(node)) => (self.reg_filters.iter())
                .map(|&i| &self.registry.filters[i])
                .find(|f| f.filter(pod, node, store).err().as_deref() == Some(reasons))
                .map(|f| f.name().to_string()),
            _ => None,
        };
        explain::failed(reasons, plugin)
    }

    /// Records the nodes the scan visited, in visiting order, after the scan (so the scan
    /// loop has no recording branch): the nodes from the start index on, as many as were
    /// processed; a feasible node passed, the others are filtered again (the filters are
    /// pure) for their reasons.
    #[cold]
    #[inline(never)]
    fn explain_scan(
        &self,
        r: &mut explain::Recording,
        pod: &Pod,
        pod_has_affinity: bool,
        store: &Store,
        cycle: &CycleState,
        feasible: &[u32],
    ) {
        let n = self.order.len();
        let (start, processed) = (r.attempt.sampling.start_index, r.attempt.sampling.processed);
        for k in 0..processed {
            let node_id = self.order[(start + k) % n];
            let lite = self.lite[node_id as usize];
            if !lite.exists {
                continue;
            }
            if feasible.contains(&node_id) {
                r.visit(node_id, explain::passed());
                continue;
            }
            let usage = self.usage_with_nominated(pod, store, node_id, None);
            let outcome = match self.filter(
                pod,
                pod_has_affinity,
                &lite,
                store,
                node_id,
                cycle,
                usage.as_ref(),
            ) {
                Ok(()) => explain::passed(),
                Err(reasons) => self.explain_failure(pod, store, node_id, &reasons),
            };
            r.visit(node_id, outcome);
        }
    }

    /// Resolves a recording's node ids to names and appends it to the explain log.
    #[cold]
    #[inline(never)]
    fn finish_explain(
        &self,
        rec: Box<explain::Recording>,
        store: &Store,
        feasible: &[u32],
        chosen: Option<u32>,
    ) {
        if let Some(log) = &self.explain {
            let a = rec.finish(
                |id| store.nodes.get(id).map(|n| n.meta.name.clone()),
                feasible,
                chosen,
            );
            log.borrow_mut().attempts.push(a);
        }
    }

    /// The annotations the enabled out-of-tree Reserve plugins record for `pod_id` bound to
    /// `node_id` (empty without out-of-tree filters).
    fn reserve_annotations(
        &self,
        pod_id: u32,
        node_id: u32,
        store: &Store,
    ) -> Vec<(String, String)> {
        let (Some(pod), Some(node)) = (store.pods.get(pod_id), store.nodes.get(node_id)) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for &i in &self.reg_filters {
            out.extend(self.registry.filters[i].reserve(pod, node, store, &self.config.profile));
        }
        out
    }

    /// schedule_one.go evaluateNominatedNode: the pod's nominated node when it passes the
    /// filters (with the other nominated pods counted).
    fn evaluate_nominated_node(
        &self,
        pod: &Pod,
        pod_has_affinity: bool,
        store: &Store,
        cycle: &CycleState,
    ) -> Option<u32> {
        if pod.status.nominated_node_name.is_empty() {
            return None;
        }
        let id = store.nodes.id_of("", &pod.status.nominated_node_name)?;
        let lite = *self.lite.get(id as usize)?;
        if !lite.exists {
            return None;
        }
        let usage = self.usage_with_nominated(pod, store, id, None);
        self.filter(
            pod,
            pod_has_affinity,
            &lite,
            store,
            id,
            cycle,
            usage.as_ref(),
        )
        .ok()
        .map(|()| id)
    }

    /// Runs the filters in the default profile's order and returns the first failing
    /// plugin's reasons (framework RunFilterPlugins stops at the first failure). `usage`
    /// replaces the node's sums from the store (nominated pods added, or preemption
    /// victims removed).
    #[allow(clippy::too_many_arguments)]
    fn filter(
        &self,
        pod: &Pod,
        pod_has_affinity: bool,
        lite: &NodeLite,
        store: &Store,
        node_id: u32,
        cycle: &CycleState,
        usage: Option<&NodeUsage>,
    ) -> Result<(), Vec<String>> {
        let en = &self.enabled;
        // NodeUnschedulable (plugins/nodeunschedulable): tolerating the unschedulable taint admits.
        if en.unschedulable && lite.unschedulable {
            node_unschedulable_filter(pod)?;
        }
        // NodeName (plugins/nodename): pods with spec.nodeName never reach the scheduler.
        let needs_node = (en.taints && lite.has_taints)
            || (en.affinity && pod_has_affinity)
            || cycle.spread_filter.is_some()
            || !self.registry.filters.is_empty();
        let node = if needs_node {
            let Some(node) = store.nodes.get(node_id) else {
                return Err(vec!["node(s) not found".into()]);
            };
            Some(node)
        } else {
            None
        };
        if let Some(node) = node {
            // TaintToleration (plugins/tainttoleration): NoSchedule and NoExecute taints.
            if en.taints
                && lite.has_taints
                && find_untolerated_do_not_schedule_taint(
                    &node.taints,
                    &pod.spec.tolerations,
                    false,
                )
                .is_some()
            {
                return Err(vec![ERR_REASON_UNTOLERATED_TAINT.into()]);
            }
            // NodeAffinity (plugins/nodeaffinity): nodeSelector and required terms.
            if en.affinity
                && pod_has_affinity
                && !cycle.node_affinity.as_ref().map_or_else(
                    || {
                        required_node_affinity_matches(
                            &pod.spec.node_selector,
                            pod.spec.node_affinity.as_ref(),
                            &node.meta.labels,
                            &node.meta.name,
                        )
                    },
                    |t| t.matches(pod, node_id, node),
                )
            {
                return Err(vec![
                    "node(s) didn't match Pod's node affinity/selector".into(),
                ]);
            }
        }
        let u = usage.unwrap_or_else(|| store.node_usage(node_id));
        // NodePorts (plugins/nodeports/node_ports.go fitsPorts): every host IP is 0.0.0.0, so
        // a wanted (protocol, port) conflicts with any use of it.
        if !cycle.host_ports.is_empty() && !fits_ports(&cycle.host_ports, u) {
            return Err(vec![ERR_REASON_NODE_PORTS.into()]);
        }
        if en.fit {
            fits_resources(pod, lite, store, node_id, u)?;
        }
        // PodTopologySpread (plugins/podtopologyspread/filtering.go Filter).
        if let (Some((st, _)), Some(node)) = (&cycle.spread_filter, node) {
            for (i, c) in st.constraints.iter().enumerate() {
                let Some(tp_val) = node.meta.labels.get(&c.topology_key) else {
                    return Err(vec![ERR_REASON_NODE_LABEL_NOT_MATCH.into()]);
                };
                let self_match = i64::from(c.selector.matches(&pod.meta.labels));
                let match_num = st.tp_value_to_match_num[i]
                    .get(tp_val.as_str())
                    .copied()
                    .unwrap_or(0);
                if match_num + self_match - st.min_match_num(i) > c.max_skew {
                    return Err(vec![ERR_REASON_CONSTRAINTS_NOT_MATCH.into()]);
                }
            }
        }
        if let Some(fast) = &cycle.spread_fast {
            for f in fast {
                let v = f
                    .node_values
                    .get(node_id as usize)
                    .copied()
                    .unwrap_or(u32::MAX);
                if v == u32::MAX {
                    return Err(vec![ERR_REASON_NODE_LABEL_NOT_MATCH.into()]);
                }
                let match_num = if f.per_node {
                    f.entry.map_or(0, |e| self.spread.count(e, node_id))
                } else {
                    f.domain_counts.get(v as usize).copied().unwrap_or(0)
                };
                if match_num + f.self_match - f.min_match > f.max_skew {
                    return Err(vec![ERR_REASON_CONSTRAINTS_NOT_MATCH.into()]);
                }
            }
        }
        // InterPodAffinity (plugins/interpodaffinity/filtering.go Filter).
        if let Some(st) = &cycle.inter_pod {
            ipa::filter(st, node_id).map_err(|r| vec![r.to_string()])?;
        }
        if let Some(node) = node {
            for &i in &self.reg_filters {
                self.registry.filters[i].filter_node(pod, node_id, node, store)?;
            }
        }
        Ok(())
    }

    /// Runs the Score plugins over the feasible nodes: raw scores, NormalizeScore, weight,
    /// summed per node (framework.go RunScorePlugins). Plugins whose PreScore would Skip, or
    /// whose scores would be equal on every node, add nothing.
    fn score(
        &mut self,
        pod: &Pod,
        store: &Store,
        feasible: &[u32],
        mut rec: Option<&mut explain::ScoreRecord>,
    ) -> Vec<i64> {
        let en = self.enabled;
        let mut total = vec![0i64; feasible.len()];
        let mut buf = vec![0i64; feasible.len()];
        let add = |total: &mut [i64], buf: &[i64], w: i64| {
            for (t, s) in total.iter_mut().zip(buf) {
                *t += s * w;
            }
        };
        // TaintToleration: untolerated PreferNoSchedule taints, reversed normalisation.
        // (Recorded even when no node is tainted: upstream scores it, equal on every node.)
        if en.w_taints != 0
            && (rec.is_some() || feasible.iter().any(|&id| self.lite[id as usize].has_taints))
        {
            let tols = prefer_no_schedule_tolerations(&pod.spec.tolerations);
            for (b, &id) in buf.iter_mut().zip(feasible) {
                *b = store.nodes.get(id).map_or(0, |n| {
                    count_intolerable_taints_prefer_no_schedule(&n.taints, &tols, false)
                });
            }
            if let Some(r) = rec.as_deref_mut() {
                r.raw(names::TAINT_TOLERATION, en.w_taints, &buf);
            }
            plugins::taint_toleration::normalize_scores(&mut buf);
            if let Some(r) = rec.as_deref_mut() {
                r.normalized(&buf);
            }
            add(&mut total, &buf, en.w_taints);
        }
        // NodeAffinity: sum of matching preferred terms' weights, normalised.
        let preferred = pod
            .spec
            .node_affinity
            .as_ref()
            .is_some_and(|a| !a.preferred.is_empty());
        if en.w_affinity != 0 && preferred {
            let table = self.preferred_scores(pod, store);
            for (b, &id) in buf.iter_mut().zip(feasible) {
                *b = table.get(id as usize).copied().unwrap_or(0);
            }
            if let Some(r) = rec.as_deref_mut() {
                r.raw(names::NODE_AFFINITY, en.w_affinity, &buf);
            }
            default_normalize_score(MAX_NODE_SCORE, false, &mut buf);
            if let Some(r) = rec.as_deref_mut() {
                r.normalized(&buf);
            }
            add(&mut total, &buf, en.w_affinity);
        }
        // NodeResourcesFit and NodeResourcesBalancedAllocation read the same per-node
        // sums: one pass computes both (BalancedAllocation uses actual requests and is
        // skipped for best-effort pods, as upstream's PreScore).
        let r = &pod.requests;
        let balanced = en.w_balanced != 0 && (r.cpu_milli != 0 || r.memory != 0);
        if en.w_fit != 0 || balanced {
            let (nz_cpu, nz_mem) = non_zero_requests(&pod.spec);
            for (t, &id) in total.iter_mut().zip(feasible) {
                let (fit, b) = self.fit_and_balanced(pod, store, id, (nz_cpu, nz_mem), balanced);
                *t += fit * en.w_fit + b * en.w_balanced;
            }
            // Recorded in a second pass, so the loop above has no recording branch.
            if let Some(rec) = rec.as_deref_mut() {
                for &id in feasible {
                    let (fit, b) =
                        self.fit_and_balanced(pod, store, id, (nz_cpu, nz_mem), balanced);
                    if en.w_fit != 0 {
                        rec.push_unnormalized(names::NODE_RESOURCES_FIT, en.w_fit, fit);
                    }
                    if balanced {
                        rec.push_unnormalized(names::BALANCED_ALLOCATION, en.w_balanced, b);
                    }
                }
            }
        }
        // PodTopologySpread (ScheduleAnyway and the system default constraints).
        if en.w_spread != 0
            && let Some(st) = self.pre_score_spread(pod, store, feasible)
        {
            // Per constraint: the node -> domain table and whether domains are hosts.
            let tables: Vec<(Option<&Vec<u32>>, bool)> = st
                .constraints
                .iter()
                .map(|(c, _)| {
                    (
                        self.topo.get(&c.topology_key).map(|t| &t.0),
                        c.topology_key == LABEL_HOSTNAME,
                    )
                })
                .collect();
            for ((b, &id), &ign) in buf.iter_mut().zip(feasible).zip(&st.ignored) {
                *b = 0;
                if ign {
                    continue;
                }
                if !self.lite.get(id as usize).is_some_and(|l| l.exists) {
                    continue;
                }
                let mut score = 0f64;
                for (i, ((c, e), &(table, per_host))) in
                    st.constraints.iter().zip(&tables).enumerate()
                {
                    let v = table
                        .and_then(|t| t.get(id as usize))
                        .copied()
                        .unwrap_or(u32::MAX);
                    if v == u32::MAX {
                        continue;
                    }
                    let cnt = if per_host {
                        e.map_or(0, |e| self.spread.count(e, id))
                    } else {
                        st.tp_counts[i]
                            .get(v as usize)
                            .copied()
                            .flatten()
                            .unwrap_or(0)
                    };
                    score += score_for_count(cnt, c.max_skew, st.weights[i]);
                }
                *b = score.round() as i64;
            }
            if let Some(r) = rec.as_deref_mut() {
                r.raw(names::POD_TOPOLOGY_SPREAD, en.w_spread, &buf);
            }
            normalize_spread_scores(&mut buf, &st.ignored);
            if let Some(r) = rec.as_deref_mut() {
                r.normalized(&buf);
            }
            add(&mut total, &buf, en.w_spread);
        }
        // InterPodAffinity: preferred terms of the pod and of the existing pods.
        if en.w_inter_pod != 0
            && let Some(st) = self.pre_score_inter_pod(pod, store)
        {
            for (b, &id) in buf.iter_mut().zip(feasible) {
                *b = st.score(id);
            }
            if let Some(r) = rec.as_deref_mut() {
                r.raw(names::INTER_POD_AFFINITY, en.w_inter_pod, &buf);
            }
            ipa::normalize_score(&mut buf);
            if let Some(r) = rec.as_deref_mut() {
                r.normalized(&buf);
            }
            add(&mut total, &buf, en.w_inter_pod);
        }
        // ImageLocality: no node lists images -> every node scores 0.
        if en.w_images != 0 {
            if self.images_dirty {
                self.rebuild_images(store);
            }
            if self.any_images {
                let images: Vec<String> = pod
                    .spec
                    .init_containers
                    .iter()
                    .chain(&pod.spec.containers)
                    .map(|c| normalized_image_name(&c.image).into_owned())
                    .collect();
                let total_nodes = store.nodes.len() as i64;
                // Every node's sum is at most the sum of the pod's images' cluster-wide
                // scaled scores; under the 23 MiB floor every node scores 0.
                let upper: i64 = images
                    .iter()
                    .filter_map(|i| self.global_images.get(i))
                    .map(|st| plugins::image_locality::scaled_image_score(*st, total_nodes))
                    .sum();
                if upper <= plugins::image_locality::MIN_THRESHOLD {
                    buf.iter_mut().for_each(|b| *b = 0);
                } else {
                    for (b, &id) in buf.iter_mut().zip(feasible) {
                        *b = self
                            .image_states
                            .get(id as usize)
                            .map_or(0, |st| image_locality_score(&images, st, total_nodes));
                    }
                }
                if let Some(r) = rec.as_deref_mut() {
                    r.raw(names::IMAGE_LOCALITY, en.w_images, &buf);
                }
                add(&mut total, &buf, en.w_images);
            } else if let Some(r) = rec.as_deref_mut() {
                // No node lists images: upstream scores every node 0.
                buf.iter_mut().for_each(|b| *b = 0);
                r.raw(names::IMAGE_LOCALITY, en.w_images, &buf);
            }
        }
        for &(i, w) in &self.reg_scores {
            let sp = &self.registry.scores[i];
            for (b, &id) in buf.iter_mut().zip(feasible) {
                *b = store
                    .nodes
                    .get(id)
                    .map_or(0, |n| sp.score_node(pod, id, n, store));
            }
            if let Some(r) = rec.as_deref_mut() {
                r.raw(sp.name(), w, &buf);
            }
            sp.normalize(pod, &mut buf);
            if let Some(r) = rec.as_deref_mut() {
                r.normalized(&buf);
            }
            add(&mut total, &buf, w);
        }
        total
    }

    /// NodeResourcesFit's and NodeResourcesBalancedAllocation's scores of node `id` (0
    /// for a plugin that is off); `nz` is the pod's non-zero cpu and memory requests.
    #[inline(always)]
    fn fit_and_balanced(
        &self,
        pod: &Pod,
        store: &Store,
        id: u32,
        (nz_cpu, nz_mem): (i64, i64),
        balanced: bool,
    ) -> (i64, i64) {
        let en = &self.enabled;
        let r = &pod.requests;
        let lite = &self.lite[id as usize];
        let u = store.node_usage(id);
        let fit = if en.w_fit == 0 {
            0
        } else if en.fit_default {
            let cpu = least_allocated_score(u.non_zero_cpu_milli + nz_cpu, lite.cpu);
            let mem = least_allocated_score(u.non_zero_memory + nz_mem, lite.memory);
            (cpu + mem) / 2
        } else {
            self.fit_score(pod, (nz_cpu, nz_mem), lite, u, store.nodes.get(id))
        };
        let b = if balanced {
            balanced_resource_score(
                &[
                    u.requested.cpu_milli + r.cpu_milli,
                    u.requested.memory + r.memory,
                ],
                &[lite.cpu, lite.memory],
            )
        } else {
            0
        };
        (fit, b)
    }

    /// NodeResourcesFit score for a non-default strategy or resource list
    /// (resource_allocation.go score with calculateResourceAllocatableRequest).
    fn fit_score(
        &self,
        pod: &Pod,
        (nz_cpu, nz_mem): (i64, i64),
        lite: &NodeLite,
        u: &NodeUsage,
        node: Option<&Node>,
    ) -> i64 {
        let res = self.scorer.resources();
        let mut req = Vec::with_capacity(res.len());
        let mut alloc = Vec::with_capacity(res.len());
        for rw in res {
            let name = rw.name.as_str();
            let (pod_req, node_alloc, node_req) = match name {
                "cpu" => (nz_cpu, Some(lite.cpu), u.non_zero_cpu_milli),
                "memory" => (nz_mem, Some(lite.memory), u.non_zero_memory),
                "ephemeral-storage" => (
                    pod.requests.ephemeral_storage,
                    Some(lite.ephemeral),
                    u.requested.ephemeral_storage,
                ),
                other => {
                    let a = node.map_or(0, |n| n.allocatable.get(other));
                    (
                        pod.requests.get(other),
                        (a > 0).then_some(a),
                        u.requested.get(other),
                    )
                }
            };
            let (a, r) = allocatable_and_requested(name, pod_req, node_alloc, node_req);
            alloc.push(a);
            req.push(r);
        }
        self.scorer.score(&req, &alloc)
    }

    /// PodTopologySpread PreScore (scoring.go PreScore / initPreScoreState): `None` when the
    /// pod has no soft constraints (Skip).
    fn pre_score_spread(
        &mut self,
        pod: &Pod,
        store: &Store,
        feasible: &[u32],
    ) -> Option<SpreadScore> {
        let own = !pod.spec.topology_spread_constraints.is_empty();
        let constraints = if own {
            pod_spread_constraints(pod, false)
        } else if self.config.profile.system_default_spreading {
            let selector = self.cached_default_selector(pod, store);
            if selector.is_empty() {
                return None;
            }
            // plugin.go systemDefaultConstraints.
            vec![
                SpreadConstraint::new(3, LABEL_HOSTNAME, selector.clone()),
                SpreadConstraint::new(5, LABEL_TOPOLOGY_ZONE, selector),
            ]
        } else {
            listed_default_constraints(pod, store, &self.config.profile, false)
        };
        if constraints.is_empty() {
            return None;
        }
        let require_all = own || !self.config.profile.system_default_spreading;
        let constraints: Vec<(SpreadConstraint, Option<u32>)> = constraints
            .into_iter()
            .map(|c| {
                let e = self.spread.entry(store, &pod.meta.namespace, &c.selector);
                (c, e)
            })
            .collect();
        for (c, _) in &constraints {
            self.ensure_topology(store, &c.topology_key);
        }
        let topo = &self.topo;
        let ids: Vec<&Vec<u32>> = constraints
            .iter()
            .map(|(c, _)| &topo[&c.topology_key].0)
            .collect();
        let has_all = |id: u32| {
            ids.iter()
                .all(|v| v.get(id as usize).is_some_and(|&x| x != u32::MAX))
        };
        let mut tp_counts: Vec<Vec<Option<i64>>> = constraints
            .iter()
            .map(|(c, _)| vec![None; topo[&c.topology_key].1.len()])
            .collect();
        let mut ignored = vec![false; feasible.len()];
        // scoring.go initPreScoreState: without requireAllTopologies (system defaults) a
        // feasible node lacking the key adds the empty value as one more domain to the
        // constraint's normalising weight (its pods are never scored by that constraint).
        let mut unlabelled = vec![false; constraints.len()];
        // Per constraint: whether its domains are hosts (compared once, not per node).
        let per_host: Vec<bool> = (constraints.iter())
            .map(|(c, _)| c.topology_key == LABEL_HOSTNAME)
            .collect();
        for (ign, &id) in ignored.iter_mut().zip(feasible) {
            if store.nodes.get(id).is_none() || (require_all && !has_all(id)) {
                *ign = true;
                continue;
            }
            for (((counts, v), missing), &host) in tp_counts
                .iter_mut()
                .zip(&ids)
                .zip(unlabelled.iter_mut())
                .zip(&per_host)
            {
                if host {
                    continue;
                }
                match v.get(id as usize) {
                    Some(&v) if v != u32::MAX => {
                        if counts[v as usize].is_none() {
                            counts[v as usize] = Some(0);
                        }
                    }
                    _ => *missing = true,
                }
            }
        }
        let n_ignored = ignored.iter().filter(|&&b| b).count();
        let weights: Vec<f64> = constraints
            .iter()
            .zip(&tp_counts)
            .zip(&unlabelled)
            .map(|(((c, _), counts), missing)| {
                let size = if c.topology_key == LABEL_HOSTNAME {
                    feasible.len() - n_ignored
                } else {
                    counts.iter().filter(|x| x.is_some()).count() + usize::from(*missing)
                };
                topology_normalizing_weight(size)
            })
            .collect();
        let honor_taints = constraints
            .iter()
            .any(|(c, _)| c.node_taints_policy == NodeInclusionPolicy::Honor);
        // Every node counts when the pod's node affinity cannot exclude any (none, or
        // every constraint ignores it), no constraint honours taints, and no node lacks a
        // key: the domains' sums are then the cached per-domain totals, no node walk.
        let affinity_neutral = (pod.spec.node_selector.is_empty()
            && pod
                .spec
                .node_affinity
                .as_ref()
                .is_none_or(|a| a.required.is_none()))
            || constraints
                .iter()
                .all(|(c, _)| c.node_affinity_policy == NodeInclusionPolicy::Ignore);
        let complete = !require_all
            || constraints
                .iter()
                .all(|(c, _)| self.topo_missing.get(&c.topology_key) == Some(&0));
        if affinity_neutral && !honor_taints && complete && self.closed_form {
            for ((c, e), counts) in constraints.iter().zip(tp_counts.iter_mut()) {
                if c.topology_key == LABEL_HOSTNAME {
                    continue;
                }
                let Some(e) = *e else { continue };
                let (node_values, values) = &self.topo[&c.topology_key];
                let sums = self
                    .spread
                    .domain_sums(e, &c.topology_key, node_values, values);
                for (cnt, &sum) in counts.iter_mut().zip(sums) {
                    if let Some(cnt) = cnt.as_mut() {
                        *cnt = sum;
                    }
                }
            }
            return Some(SpreadScore {
                constraints,
                tp_counts,
                weights,
                ignored,
            });
        }
        let affinity = self.node_affinity_matches(pod, store);
        let topo = &self.topo;
        let spread = &self.spread;
        let ids: Vec<&Vec<u32>> = constraints
            .iter()
            .map(|(c, _)| &topo[&c.topology_key].0)
            .collect();
        let has_all = |id: u32| {
            ids.iter()
                .all(|v| v.get(id as usize).is_some_and(|&x| x != u32::MAX))
        };
        // Host constraints are scored from the per-node counts: the walk below only
        // sums the other constraints' domains, so it is skipped when there are none.
        let any_domain = per_host.iter().any(|&h| !h);
        for (id, node) in store
            .nodes
            .iter()
            .take(if any_domain { usize::MAX } else { 0 })
        {
            if require_all && !has_all(id) {
                continue;
            }
            let el = eligibility(pod, id, node, honor_taints, &affinity);
            for ((((c, e), counts), v), &host) in constraints
                .iter()
                .zip(tp_counts.iter_mut())
                .zip(&ids)
                .zip(&per_host)
            {
                if host || !c.match_node_inclusion_policies(el) {
                    continue;
                }
                let Some(&v) = v.get(id as usize) else {
                    continue;
                };
                if v == u32::MAX {
                    continue;
                }
                if let Some(cnt) = counts[v as usize].as_mut() {
                    *cnt += e.map_or(0, |e| spread.count(e, id));
                }
            }
        }
        Some(SpreadScore {
            constraints,
            tp_counts,
            weights,
            ignored,
        })
    }

    /// Builds the node -> value-id table of a topology key if it is not cached.
    fn ensure_topology(&mut self, store: &Store, key: &str) {
        if self.topo.contains_key(key) {
            return;
        }
        let mut ids = vec![u32::MAX; store.nodes.capacity()];
        let mut values: Vec<String> = Vec::new();
        let mut index: BTreeMap<&str, u32> = BTreeMap::new();
        for (id, n) in store.nodes.iter() {
            if let Some(v) = n.meta.labels.get(key) {
                let next = values.len() as u32;
                let vid = *index.entry(v.as_str()).or_insert_with(|| {
                    values.push(v.clone());
                    next
                });
                ids[id as usize] = vid;
            }
        }
        let missing = store
            .nodes
            .iter()
            .filter(|&(id, _)| ids[id as usize] == u32::MAX)
            .count();
        self.topo_missing.insert(key.to_string(), missing);
        self.topo.insert(key.to_string(), (ids, values));
    }

    /// selectHost: the highest score; ties broken by reservoir sampling over the nodes
    /// in the order they were scored (or by node name when configured).
    fn select_host(&self, scored: &[(u32, i64)], ctx: &mut Ctx<'_>) -> u32 {
        let mut best = scored[0];
        let mut count = 1u64;
        for &(id, score) in &scored[1..] {
            if score > best.1 {
                best = (id, score);
                count = 1;
            } else if score == best.1 {
                count += 1;
                if self.config.tie_break_by_name {
                    let a = ctx.store.nodes.get(id).map(|n| n.meta.name.as_str());
                    let b = ctx.store.nodes.get(best.0).map(|n| n.meta.name.as_str());
                    if a < b {
                        best = (id, score);
                    }
                } else if below(ctx.rng, count) == 0 {
                    best = (id, score);
                }
            }
        }
        best.0
    }
}

fn lite_of(n: &Node) -> NodeLite {
    NodeLite {
        exists: true,
        unschedulable: n.unschedulable,
        has_taints: !n.taints.is_empty(),
        cpu: n.allocatable.cpu_milli,
        memory: n.allocatable.memory,
        ephemeral: n.allocatable.ephemeral_storage,
        pods: n.allocatable.pods,
    }
}

/// The pod's wanted host ports (nodeports.go getContainerPorts: hostPort > 0).
fn pod_host_ports(pod: &Pod) -> Vec<(String, i32)> {
    pod.spec
        .init_containers
        .iter()
        .chain(&pod.spec.containers)
        .flat_map(|c| &c.ports)
        .filter(|p| p.host_port > 0)
        .map(|p| (p.protocol.clone(), p.host_port))
        .collect()
}

/// Port of plugins/nodeports/node_ports.go fitsPorts with every host IP the wildcard.
fn fits_ports(wanted: &[(String, i32)], u: &NodeUsage) -> bool {
    !wanted
        .iter()
        .any(|(proto, port)| u.host_port_used(proto, *port))
}

/// NodeResourcesFit Filter (plugins/noderesources/fit.go fitsRequest): a fast check first,
/// the reasons only for nodes that fail.
fn fits_resources(
    pod: &Pod,
    lite: &NodeLite,
    store: &Store,
    node_id: u32,
    u: &NodeUsage,
) -> Result<(), Vec<String>> {
    let r = &pod.requests;
    let fits = u.pods < lite.pods
        && (r.cpu_milli == 0 || r.cpu_milli <= lite.cpu - u.requested.cpu_milli)
        && (r.memory == 0 || r.memory <= lite.memory - u.requested.memory)
        && (r.ephemeral_storage == 0
            || r.ephemeral_storage <= lite.ephemeral - u.requested.ephemeral_storage)
        && r.extended.is_empty();
    if fits {
        return Ok(());
    }
    let mut reasons = Vec::new();
    if u.pods + 1 > lite.pods {
        reasons.push("Too many pods".to_string());
    }
    if r.cpu_milli > 0 && r.cpu_milli > lite.cpu - u.requested.cpu_milli {
        reasons.push("Insufficient cpu".into());
    }
    if r.memory > 0 && r.memory > lite.memory - u.requested.memory {
        reasons.push("Insufficient memory".into());
    }
    if r.ephemeral_storage > 0
        && r.ephemeral_storage > lite.ephemeral - u.requested.ephemeral_storage
    {
        reasons.push("Insufficient ephemeral-storage".into());
    }
    if !r.extended.is_empty() {
        let alloc = store
            .nodes
            .get(node_id)
            .map(|n| n.allocatable.clone())
            .unwrap_or_default();
        for (name, v) in &r.extended {
            if *v > 0 && *v > alloc.get(name) - u.requested.get(name) {
                reasons.push(format!("Insufficient {name}"));
            }
        }
    }
    if reasons.is_empty() {
        Ok(())
    } else {
        Err(reasons)
    }
}

/// The node's eligibility for the pod's spread counting (common.go
/// matchNodeInclusionPolicies inputs); the taint check only when some constraint honours it.
/// `affinity` is [`Scheduler::node_affinity_matches`] for the pod.
fn eligibility(
    pod: &Pod,
    id: u32,
    node: &Node,
    honor_taints: bool,
    affinity: &NodeAffinityMatches,
) -> NodeEligibility {
    NodeEligibility {
        matches_node_affinity: affinity.matches(pod, id, node),
        taints_tolerated: !honor_taints
            || find_untolerated_do_not_schedule_taint(&node.taints, &pod.spec.tolerations, false)
                .is_none(),
    }
}

/// The pod's own constraints with `whenUnsatisfiable` = DoNotSchedule (`hard`) or
/// ScheduleAnyway (common.go filterTopologySpreadConstraints, with matchLabelKeys merged
/// into the selector as `key In (value)` for the pod's labels).
fn pod_spread_constraints(pod: &Pod, hard: bool) -> Vec<SpreadConstraint> {
    let policy = |honor: bool| {
        if honor {
            NodeInclusionPolicy::Honor
        } else {
            NodeInclusionPolicy::Ignore
        }
    };
    pod.spec
        .topology_spread_constraints
        .iter()
        .filter(|c| c.do_not_schedule == hard)
        .map(|c| {
            let mut selector = c
                .label_selector
                .clone()
                .unwrap_or_else(LabelSelector::nothing);
            if !selector.is_nothing() {
                for key in &c.match_label_keys {
                    if let Some(v) = pod.meta.labels.get(key)
                        && let Ok(r) = Requirement::new(key.clone(), Operator::In, vec![v.clone()])
                    {
                        selector.add(r);
                    }
                }
            }
            SpreadConstraint {
                max_skew: i64::from(c.max_skew),
                topology_key: c.topology_key.clone(),
                selector,
                min_domains: i64::from(c.min_domains),
                node_affinity_policy: policy(c.node_affinity_policy_honor),
                node_taints_policy: policy(c.node_taints_policy_honor),
            }
        })
        .collect()
}

/// Port of plugins/helper/spread.go DefaultSelector: the selectors of the Services that
/// select the pod, merged with its controlling ReplicationController's or ReplicaSet's
/// selector (StatefulSets are not modelled).
fn default_selector(pod: &Pod, store: &Store) -> LabelSelector {
    let ns = pod.meta.namespace.as_str();
    let mut reqs: Vec<Requirement> = Vec::new();
    for (_, svc) in store.services.iter() {
        if svc.meta.namespace != ns
            || svc.selector.is_empty()
            || !map_matches(&svc.selector, &pod.meta.labels)
        {
            continue;
        }
        if let Ok(s) = LabelSelector::from_map(&svc.selector) {
            for r in s.requirements() {
                if !reqs.contains(r) {
                    reqs.push(r.clone());
                }
            }
        }
    }
    if let Some(o) = pod.meta.controller_ref()
        && matches!(o.kind, Kind::ReplicationController | Kind::ReplicaSet)
        && let Some(id) = store.id_of(o.kind, ns, &o.name)
        && let Some(rs) = store.rs_arena(o.kind).get(id)
    {
        for r in rs.selector.requirements() {
            if !reqs.contains(r) {
                reqs.push(r.clone());
            }
        }
    }
    LabelSelector::from_requirements(reqs)
}

/// The profile's PodTopologySpread `defaultConstraints` (`defaultingType: List`) with
/// `whenUnsatisfiable` = DoNotSchedule (`hard`) or ScheduleAnyway, each with the pod's
/// default selector; none when the selector is empty (common.go buildDefaultConstraints).
fn listed_default_constraints(
    pod: &Pod,
    store: &Store,
    profile: &Profile,
    hard: bool,
) -> Vec<SpreadConstraint> {
    if !profile
        .default_spread_constraints
        .iter()
        .any(|c| c.do_not_schedule == hard)
    {
        return Vec::new();
    }
    let selector = default_selector(pod, store);
    if selector.is_empty() {
        return Vec::new();
    }
    let policy = |honor: bool| {
        if honor {
            NodeInclusionPolicy::Honor
        } else {
            NodeInclusionPolicy::Ignore
        }
    };
    profile
        .default_spread_constraints
        .iter()
        .filter(|c| c.do_not_schedule == hard)
        .map(|c| SpreadConstraint {
            max_skew: i64::from(c.max_skew),
            topology_key: c.topology_key.clone(),
            selector: selector.clone(),
            min_domains: i64::from(c.min_domains),
            node_affinity_policy: policy(c.node_affinity_policy_honor),
            node_taints_policy: policy(c.node_taints_policy_honor),
        })
        .collect()
}

/// Whether a delivered watch event leaves every scheduling decision as it was: a change
/// of a pod that is unbound and not nominated (no plugin counts such a pod on a node).
fn quiet_for_scheduling(change: &Change, store: &Store) -> bool {
    let unplaced = |p: &Pod| p.spec.node_name.is_empty() && p.status.nominated_node_name.is_empty();
    match (change.kind, change.op) {
        (Kind::Pod, Op::Deleted) => match change.old.as_deref() {
            Some(Object::Pod(p)) => unplaced(p),
            _ => false,
        },
        (Kind::Pod, _) => store.pods.get(change.id).is_some_and(unplaced),
        _ => false,
    }
}

/// Upstream's FitError message: `0/5 nodes are available: 2 Insufficient cpu, 3
/// node(s) had untolerated taint {k: v}.` with reasons sorted
/// (pkg/scheduler/framework/types.go FitError.Error).
pub fn fit_error_message(nodes: usize, failures: &BTreeMap<String, usize>) -> String {
    let mut parts: Vec<String> = failures.iter().map(|(r, c)| format!("{c} {r}")).collect();
    parts.sort();
    format!("0/{nodes} nodes are available: {}.", parts.join(", "))
}

impl Controller for Scheduler {
    fn name(&self) -> &'static str {
        "scheduler"
    }

    fn on_change(&mut self, change: &Change, store: &Store, queue: &mut WorkQueue) {
        if !quiet_for_scheduling(change, store) {
            self.watch_epoch += 1;
        }
        match (change.kind, change.op) {
            (Kind::Node, op) => {
                self.topo.clear();
                self.topo_missing.clear();
                self.affinity_tables.clear();
                self.preferred_tables.clear();
                self.spread.clear_domains();
                if op != Op::Modified {
                    self.order_dirty = true;
                } else if let (Some(l), Some(n)) = (
                    self.lite.get_mut(change.id as usize),
                    store.nodes.get(change.id),
                ) {
                    *l = lite_of(n);
                    if self.node_images.get(change.id as usize) != Some(&n.images) {
                        self.images_dirty = true;
                    }
                }
                if op != Op::Deleted {
                    // A node added or changed can make unschedulable pods schedulable.
                    self.queue.move_all_to_active_or_backoff();
                    queue.add(Key::SINGLETON);
                }
            }
            // A ReplicaSet's selector is immutable: only a new or deleted owner matters;
            // a ReplicationController's selector may change.
            (Kind::Service | Kind::ReplicationController, _) => self.default_selectors.clear(),
            (Kind::ReplicaSet, op) if op != Op::Modified => self.default_selectors.clear(),
            (Kind::Pod, Op::Deleted) => {
                self.spread.retrack(store, change.id);
                self.ipa.retrack(store, change.id);
                self.queue.remove(change.id);
                self.queue.bound_priorities.track(change.id, None);
                if let Some(Object::Pod(p)) = change.old.as_deref()
                    && !p.spec.node_name.is_empty()
                {
                    self.queue.move_all_to_active_or_backoff();
                    queue.add(Key::SINGLETON);
                }
            }
            (Kind::Pod, _) => {
                self.spread.retrack(store, change.id);
                self.ipa.retrack(store, change.id);
                let Some(p) = store.pods.get(change.id) else {
                    return;
                };
                self.track_nomination(change.id, p);
                if p.spec.node_name.is_empty() {
                    if p.meta.deletion.is_none()
                        && self.serves(p)
                        && self.queue.add_if_new(change.id, p)
                    {
                        queue.add(Key::SINGLETON);
                    }
                } else if p.status.phase.is_terminal() && self.queue.has_unschedulable() {
                    // A finished pod frees resources.
                    self.queue.move_all_to_active_or_backoff();
                    queue.add(Key::SINGLETON);
                } else if !self.ipa_waiting.is_empty()
                    && self.queue.has_unschedulable()
                    && self
                        .ipa_waiting
                        .iter()
                        .any(|t| t.matches_merged(&p.meta.namespace, &p.meta.labels))
                {
                    // A bound pod matching a waiting pod's affinity term.
                    self.ipa_waiting.clear();
                    self.queue.move_all_to_active_or_backoff();
                    queue.add(Key::SINGLETON);
                }
            }
            _ => {}
        }
    }

    fn reconcile(&mut self, _key: Key, ctx: &mut Ctx<'_>) -> Next {
        if self.order_dirty {
            self.rebuild_order(ctx.store);
        }
        let now = ctx.now;
        self.queue.flush_backoff(now);
        while let Some(pod_id) = self.queue.pop() {
            if self.schedule_one(pod_id, ctx) {
                self.queue.forget(pod_id);
            } else {
                if let Some(p) = ctx.store.pods.get(pod_id)
                    && p.spec.node_name.is_empty()
                    && p.meta.deletion.is_none()
                {
                    self.queue.add_unschedulable(pod_id, now);
                }
            }
        }
        match self.queue.next_wake(now) {
            Some(at) => Next::RequeueAfter(at.since(now).max(SimDuration::from_millis(1))),
            None => Next::Done,
        }
    }
}

impl Scheduler {
    /// Keeps the nominator and the bound-priority counts in step with pod `id`'s state
    /// (the queue's Update: AddNominatedPod / DeleteNominatedPodIfExists). Costs one check
    /// per event while no pod is nominated.
    fn track_nomination(&mut self, id: u32, p: &Pod) {
        let bound = !p.spec.node_name.is_empty();
        self.queue.bound_priorities.track(
            id,
            (bound && !p.status.phase.is_terminal()).then_some(p.spec.priority),
        );
        if self.queue.nominator.is_empty() && p.status.nominated_node_name.is_empty() {
            return;
        }
        if bound || p.meta.deletion.is_some() {
            self.queue.nominator.remove(id);
        } else {
            self.queue
                .nominator
                .set(id, p.spec.priority, &p.status.nominated_node_name);
        }
    }
}

/// Scheduling latency of a bound pod: creation to binding.
pub fn scheduling_latency(p: &Pod) -> Option<SimDuration> {
    p.status.scheduled_at.map(|t| t.since(p.meta.creation))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::manifest::load_str;
    use crate::controllers::Outbox;
    use crate::engine::{RngStreams, SimTime};

    fn store_with(yaml: &str) -> Store {
        let mut s = Store::new(RngStreams::new(1).stream("names"), true);
        let loaded = load_str(yaml, "t.yaml", 1).expect("valid yaml");
        for l in loaded.objects {
            s.create(l.object, SimTime::ZERO).expect("created");
        }
        s
    }

    fn node(name: &str, zone: &str, extra: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: {name}\n  labels:\n    topology.kubernetes.io/zone: {zone}\n    kubernetes.io/hostname: {name}\n{extra}status:\n  allocatable: {{cpu: '4', memory: 8Gi, pods: '110'}}\n  capacity: {{cpu: '4', memory: 8Gi, pods: '110'}}\n---\n"
        )
    }

    /// Schedules every pending pod in `s`; returns (pod name -> node name, journal messages).
    fn run(s: &mut Store) -> (BTreeMap<String, String>, Vec<String>) {
        let mut sched = Scheduler::new(SchedulerConfig {
            tie_break_by_name: true,
            ..SchedulerConfig::default()
        });
        let mut rng = RngStreams::new(1).stream("sched");
        let mut out = Outbox::default();
        let mut wq = WorkQueue::default();
        for c in s.take_changes() {
            sched.on_change(&c, s, &mut wq);
        }
        let mut ctx = Ctx {
            now: SimTime::ZERO,
            store: s,
            rng: &mut rng,
            out: &mut out,
        };
        sched.reconcile(Key::SINGLETON, &mut ctx);
        let placed = s
            .pods
            .iter_by_name()
            .map(|(_, p)| (p.meta.name.clone(), p.spec.node_name.clone()))
            .collect();
        let msgs = s
            .take_journal()
            .into_iter()
            .filter(|j| j.reason == "FailedScheduling")
            .map(|j| j.message)
            .collect();
        (placed, msgs)
    }

    fn pod(name: &str, labels: &str, spec_extra: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: default\n  labels: {{{labels}}}\nspec:\n{spec_extra}  containers:\n  - name: c\n    image: nginx\n    resources: {{requests: {{cpu: 100m, memory: 100Mi}}}}\n---\n"
        )
    }

    #[test]
    fn spread_do_not_schedule_across_zones() {
        let mut y = node("a1", "a", "") + &node("a2", "a", "") + &node("b1", "b", "");
        let tsc = "  topologySpreadConstraints:\n  - maxSkew: 1\n    topologyKey: topology.kubernetes.io/zone\n    whenUnsatisfiable: DoNotSchedule\n    labelSelector: {matchLabels: {app: web}}\n";
        for i in 0..4 {
            y += &pod(&format!("web-{i}"), "app: web", tsc);
        }
        let mut s = store_with(&y);
        let (placed, _) = run(&mut s);
        let in_a = placed.values().filter(|n| n.starts_with('a')).count();
        let in_b = placed.values().filter(|n| n.starts_with('b')).count();
        assert_eq!((in_a, in_b), (2, 2), "{placed:?}");
    }

    #[test]
    fn spread_missing_label_and_skew_reasons() {
        let y = node("a1", "a", "")
            + "apiVersion: v1\nkind: Node\nmetadata:\n  name: nolabel\nstatus:\n  allocatable: {cpu: '4', memory: 8Gi, pods: '110'}\n---\n"
            + &pod(
                "w",
                "app: web",
                "  topologySpreadConstraints:\n  - maxSkew: 1\n    topologyKey: topology.kubernetes.io/zone\n    whenUnsatisfiable: DoNotSchedule\n    labelSelector: {matchLabels: {app: web}}\n  nodeSelector: {kubernetes.io/hostname: nolabel}\n",
            );
        let mut s = store_with(&y);
        let (_, msgs) = run(&mut s);
        assert_eq!(
            msgs,
            vec!["0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) didn't match pod topology spread constraints (missing required label). preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.".to_string()]
        );
    }

    #[test]
    fn taints_and_affinity_scores() {
        // b1 has a PreferNoSchedule taint, c1 is preferred by affinity weight 10 but tainted
        // NoSchedule: a1 wins over b1 by the taint score.
        let y = node("a1", "a", "")
            + &node(
                "b1",
                "b",
                "spec:\n  taints: [{key: k, value: v, effect: PreferNoSchedule}]\n",
            )
            + &node(
                "c1",
                "c",
                "spec:\n  taints: [{key: k, value: v, effect: NoSchedule}]\n",
            )
            + &pod(
                "p",
                "",
                "  affinity:\n    nodeAffinity:\n      preferredDuringSchedulingIgnoredDuringExecution:\n      - weight: 10\n        preference: {matchExpressions: [{key: topology.kubernetes.io/zone, operator: In, values: [b, c]}]}\n",
            );
        let mut s = store_with(&y);
        let (placed, _) = run(&mut s);
        // b1: affinity 100*2 + taint 0*3 = 200; a1: 0*2 + 100*3 = 300.
        assert_eq!(placed["p"], "a1");
    }

    #[test]
    fn affinity_preference_breaks_equal_nodes() {
        let y = node("a1", "a", "")
            + &node("b1", "b", "")
            + &pod(
                "p",
                "",
                "  affinity:\n    nodeAffinity:\n      preferredDuringSchedulingIgnoredDuringExecution:\n      - weight: 1\n        preference: {matchExpressions: [{key: topology.kubernetes.io/zone, operator: In, values: [b]}]}\n",
            );
        let mut s = store_with(&y);
        let (placed, _) = run(&mut s);
        assert_eq!(placed["p"], "b1");
    }

    #[test]
    fn host_port_conflict() {
        let port = "  containers:\n  - name: c\n    image: nginx\n    ports: [{containerPort: 80, hostPort: 8080}]\n";
        let mk = |name: &str| {
            format!(
                "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: default}}\nspec:\n{port}---\n"
            )
        };
        let y = node("a1", "a", "") + &mk("p1") + &mk("p2");
        let mut s = store_with(&y);
        let (placed, msgs) = run(&mut s);
        assert_eq!(placed["p1"], "a1");
        assert_eq!(placed["p2"], "");
        assert_eq!(
            msgs,
            vec!["0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.".to_string()]
        );
    }

    #[test]
    fn default_profile_weights() {
        let p = Profile::default();
        assert_eq!(p.score_weight(names::TAINT_TOLERATION), 3);
        assert_eq!(p.score_weight(names::POD_TOPOLOGY_SPREAD), 2);
        assert_eq!(p.score_weight(names::IMAGE_LOCALITY), 1);
        assert!(p.filter_enabled(names::NODE_PORTS));
    }

    #[test]
    fn fit_error_shape() {
        let mut f = BTreeMap::new();
        f.insert("Insufficient cpu".to_string(), 2);
        f.insert("node(s) had untolerated taint(s)".to_string(), 3);
        assert_eq!(
            fit_error_message(5, &f),
            "0/5 nodes are available: 2 Insufficient cpu, 3 node(s) had untolerated taint(s)."
        );
    }

    #[test]
    fn closed_form_spread_decides_as_the_node_walk() {
        use crate::workload::scheduler_bench::{SchedulerBenchParams, scheduler_bench_cluster};
        for seed in 1..=3 {
            let place = |closed: bool| {
                let c = scheduler_bench_cluster(SchedulerBenchParams {
                    nodes: 60,
                    existing_per_node: 6,
                    pending: 600,
                    seed,
                })
                .expect("cluster");
                let streams = RngStreams::new(seed);
                let mut s = Store::new(streams.stream("names"), false);
                for o in c.infrastructure.into_iter().chain(c.existing) {
                    s.create(o, SimTime::ZERO).expect("created");
                }
                let mut sched = Scheduler::new(SchedulerConfig::default());
                sched.set_closed_form_aggregates(closed);
                let mut m =
                    crate::controllers::manager::Manager::new(vec![Box::new(sched)], &streams);
                m.settle(SimTime::ZERO, &mut s);
                for o in c.pending {
                    s.create(o, SimTime::ZERO).expect("created");
                }
                m.settle(SimTime::ZERO, &mut s);
                s.pods
                    .iter_by_name()
                    .map(|(_, p)| (p.meta.name.clone(), p.spec.node_name.clone()))
                    .collect::<Vec<_>>()
            };
            let fast = place(true);
            let walk = place(false);
            assert!(fast.iter().any(|(_, n)| n.is_empty()) || fast.len() > 900);
            assert_eq!(fast, walk, "seed {seed}");
        }
    }
}
