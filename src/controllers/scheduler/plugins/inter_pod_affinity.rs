//! InterPodAffinity: required pod affinity / anti-affinity as a Filter, preferred terms (and
//! existing pods' required affinity, weighted by `hardPodAffinityWeight`) as a Score.
//!
//! Port of pkg/scheduler/framework/plugins/interpodaffinity/filtering.go (`preFilterState`,
//! `topologyToMatchedTermCount`, `getExistingAntiAffinityCounts`,
//! `getIncomingAffinityAntiAffinityCounts`, `PreFilter`, `satisfyPodAffinity`,
//! `satisfyPodAntiAffinity`, `satisfyExistingPodsAntiAffinity`, `Filter`), scoring.go
//! (`processExistingPod`, `PreScore`, `Score`, `NormalizeScore`), plugin.go
//! (`mergeAffinityTermNamespacesIfNotEmpty`, `GetNamespaceLabelsSnapshot`) and
//! pkg/scheduler/framework/types.go (`AffinityTerm`, `AffinityTerm.Matches`,
//! `newAffinityTerm`, `getNamespacesFromPodAffinityTerm`).
//!
//! Upstream walks every pod of every node in PreFilter (for the incoming pod's terms) and every
//! pod with affinity (for the existing pods' terms). Here:
//! - an [`AffinityIndex`] kept up to date from pod events groups the bound pods' terms: pods
//!   with an identical processed term share one group holding per-node counts, so the walk over
//!   "existing pods with affinity" visits groups, not pods;
//! - the incoming pod's terms read per-node counts of matching pods from the scheduler's
//!   [`SelectorCounts`] (plus the index's few terminating pods, which upstream's cache still
//!   holds but PodTopologySpread's counts skip);
//! - topology pairs are `(key, value id)` with value ids from the scheduler's topology cache,
//!   so Filter and Score read one array slot per term per node.
//!
//! The results equal upstream's: the same pairs get the same counts and scores.
//!
//! `matchLabelKeys` / `mismatchLabelKeys` are merged into the selector from the pod's labels
//! when its terms are processed (upstream's API server does it once at pod creation; the two
//! differ only if a pod's labels change after creation).

use std::collections::{BTreeMap, BTreeSet};

use crate::api::affinity::{PodAffinity, PodAffinityTerm};
use crate::api::selector::{LabelSelector, Labels};
use crate::api::{Pod, Store};
use crate::controllers::scheduler::normalize::MAX_NODE_SCORE;
use crate::controllers::scheduler::spread::SelectorCounts;

/// Upstream `ErrReasonExistingAntiAffinityRulesNotMatch`.
pub const ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH: &str =
    "node(s) didn't satisfy existing pods anti-affinity rules";
/// Upstream `ErrReasonAffinityRulesNotMatch` (status UnschedulableAndUnresolvable).
pub const ERR_REASON_AFFINITY_RULES_NOT_MATCH: &str = "node(s) didn't match pod affinity rules";
/// Upstream `ErrReasonAntiAffinityRulesNotMatch`.
pub const ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH: &str =
    "node(s) didn't match pod anti-affinity rules";

/// The scheduler's topology cache: per topology key, every node id's value id (`u32::MAX`
/// when the node lacks the label) and the values.
pub type TopoCache = BTreeMap<String, (Vec<u32>, Vec<String>)>;

/// No value for a node (the node lacks the topology label).
const NO_VALUE: u32 = u32::MAX;

static NO_LABELS: Labels = Labels::new();

/// A processed pod affinity term (upstream `framework.AffinityTerm`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AffinityTerm {
    /// Namespaces the term selects by name.
    pub namespaces: BTreeSet<String>,
    /// The label selector, `matchLabelKeys`/`mismatchLabelKeys` merged ("nothing" when unset).
    pub selector: LabelSelector,
    /// `topologyKey`.
    pub topology_key: String,
    /// Namespaces the term selects by label ("nothing" when unset, "everything" for `{}`).
    pub namespace_selector: LabelSelector,
}

impl AffinityTerm {
    /// Processes a term of a pod in `pod_namespace` with `pod_labels` (types.go newAffinityTerm
    /// and getNamespacesFromPodAffinityTerm: no namespaces and no namespace selector means the
    /// pod's own namespace).
    pub fn new(pod_namespace: &str, pod_labels: &Labels, term: &PodAffinityTerm) -> AffinityTerm {
        let mut namespaces = BTreeSet::new();
        if term.namespaces.is_empty() && term.namespace_selector.is_none() {
            namespaces.insert(pod_namespace.to_string());
        } else {
            namespaces.extend(term.namespaces.iter().cloned());
        }
        AffinityTerm {
            namespaces,
            selector: term.effective_selector(pod_labels),
            topology_key: term.topology_key.clone(),
            namespace_selector: term
                .namespace_selector
                .clone()
                .unwrap_or_else(LabelSelector::nothing),
        }
    }

    /// Whether a pod in `namespace` with `labels` matches the term, `ns_labels` being the
    /// labels of that namespace (types.go AffinityTerm.Matches).
    pub fn matches(&self, namespace: &str, labels: &Labels, ns_labels: &Labels) -> bool {
        (self.namespaces.contains(namespace) || self.namespace_selector.matches(ns_labels))
            && self.selector.matches(labels)
    }

    /// Adds the namespaces the namespace selector picks out of `namespaces` (name, labels) to
    /// the names and clears the selector; a `{}` selector stays (it matches every namespace).
    /// Port of plugin.go mergeAffinityTermNamespacesIfNotEmpty.
    pub fn merge_namespaces<'a>(
        &mut self,
        namespaces: impl Iterator<Item = (&'a str, &'a Labels)>,
    ) {
        if self.namespace_selector.is_empty() {
            return;
        }
        for (name, labels) in namespaces {
            if self.namespace_selector.matches(labels) {
                self.namespaces.insert(name.to_string());
            }
        }
        self.namespace_selector = LabelSelector::nothing();
    }

    /// [`AffinityTerm::matches`] for a term whose namespace selector was merged (the
    /// incoming pod's terms): no namespace labels needed.
    pub fn matches_merged(&self, namespace: &str, labels: &Labels) -> bool {
        self.matches(namespace, labels, &NO_LABELS)
    }

    /// The term selects every namespace (`namespaceSelector: {}`).
    fn all_namespaces(&self) -> bool {
        self.namespace_selector.is_empty()
    }
}

/// A pod's processed terms (the affinity fields of upstream `framework.PodInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodTerms {
    /// Required affinity terms.
    pub required_affinity: Vec<AffinityTerm>,
    /// Required anti-affinity terms.
    pub required_anti_affinity: Vec<AffinityTerm>,
    /// Preferred affinity terms with their weights.
    pub preferred_affinity: Vec<(i64, AffinityTerm)>,
    /// Preferred anti-affinity terms with their weights.
    pub preferred_anti_affinity: Vec<(i64, AffinityTerm)>,
}

impl PodTerms {
    /// The processed terms of `pod` (types.go PodInfo.Update).
    pub fn of(pod: &Pod) -> PodTerms {
        let (ns, labels) = (pod.meta.namespace.as_str(), &pod.meta.labels);
        let req = |a: &Option<PodAffinity>| -> Vec<AffinityTerm> {
            a.iter()
                .flat_map(|a| &a.required)
                .map(|t| AffinityTerm::new(ns, labels, t))
                .collect()
        };
        let pref = |a: &Option<PodAffinity>| -> Vec<(i64, AffinityTerm)> {
            a.iter()
                .flat_map(|a| &a.preferred)
                .map(|w| (i64::from(w.weight), AffinityTerm::new(ns, labels, &w.term)))
                .collect()
        };
        PodTerms {
            required_affinity: req(&pod.spec.pod_affinity),
            required_anti_affinity: req(&pod.spec.pod_anti_affinity),
            preferred_affinity: pref(&pod.spec.pod_affinity),
            preferred_anti_affinity: pref(&pod.spec.pod_anti_affinity),
        }
    }

    /// No term at all.
    pub fn is_empty(&self) -> bool {
        self.required_affinity.is_empty()
            && self.required_anti_affinity.is_empty()
            && self.preferred_affinity.is_empty()
            && self.preferred_anti_affinity.is_empty()
    }

    /// Merges the namespace selectors of every term into their namespace names (what
    /// PreFilter and PreScore do to the incoming pod's terms).
    pub fn merge_namespaces(&mut self, store: &Store) {
        let all = self
            .required_affinity
            .iter_mut()
            .chain(self.required_anti_affinity.iter_mut())
            .chain(self.preferred_affinity.iter_mut().map(|(_, t)| t))
            .chain(self.preferred_anti_affinity.iter_mut().map(|(_, t)| t));
        for t in all {
            t.merge_namespaces(
                store
                    .namespaces
                    .iter()
                    .map(|(_, n)| (n.meta.name.as_str(), &n.meta.labels)),
            );
        }
    }
}

/// Whether the pod has any required (anti-)affinity term.
pub fn has_required_terms(pod: &Pod) -> bool {
    let req = |a: &Option<PodAffinity>| a.as_ref().is_some_and(|a| !a.required.is_empty());
    req(&pod.spec.pod_affinity) || req(&pod.spec.pod_anti_affinity)
}

/// Whether the pod has any preferred (anti-)affinity term.
pub fn has_preferred_terms(pod: &Pod) -> bool {
    let pref = |a: &Option<PodAffinity>| a.as_ref().is_some_and(|a| !a.preferred.is_empty());
    pref(&pod.spec.pod_affinity) || pref(&pod.spec.pod_anti_affinity)
}

fn has_any_terms(pod: &Pod) -> bool {
    let any = |a: &Option<PodAffinity>| {
        a.as_ref()
            .is_some_and(|a| !a.required.is_empty() || !a.preferred.is_empty())
    };
    any(&pod.spec.pod_affinity) || any(&pod.spec.pod_anti_affinity)
}

/// The labels of namespace `ns` (plugin.go GetNamespaceLabelsSnapshot: none when it does
/// not exist).
pub fn namespace_labels<'a>(store: &'a Store, ns: &str) -> &'a Labels {
    store
        .namespaces
        .id_of("", ns)
        .and_then(|id| store.namespaces.get(id))
        .map_or(&NO_LABELS, |n| &n.meta.labels)
}

/// What a grouped term of an existing pod is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TermKind {
    /// A required affinity term (scored with `hardPodAffinityWeight`).
    RequiredAffinity,
    /// A required anti-affinity term (filters).
    RequiredAntiAffinity,
    /// A preferred affinity term with its weight.
    PreferredAffinity(i64),
    /// A preferred anti-affinity term with its weight.
    PreferredAntiAffinity(i64),
}

impl TermKind {
    fn slot(self) -> usize {
        match self {
            TermKind::RequiredAffinity => 0,
            TermKind::RequiredAntiAffinity => 1,
            TermKind::PreferredAffinity(_) => 2,
            TermKind::PreferredAntiAffinity(_) => 3,
        }
    }
}

#[derive(Debug, Clone)]
struct Group {
    kind: TermKind,
    term: AffinityTerm,
    /// node id -> pods (times the term occurs in each) on it; no zero entries.
    per_node: BTreeMap<u32, i64>,
    total: i64,
}

#[derive(Debug, Clone)]
struct IndexedPod {
    node: u32,
    labels: Labels,
    groups: Vec<u32>,
}

/// The bound, non-terminal pods that carry (anti-)affinity terms, their terms grouped by
/// identical processed term with per-node counts (upstream's `NodeInfo.PodsWithAffinity` /
/// `PodsWithRequiredAntiAffinity`), and the bound terminating pods (which the scheduler
/// cache still holds and [`SelectorCounts`] does not count).
#[derive(Debug, Clone, Default)]
pub struct AffinityIndex {
    groups: Vec<Group>,
    by_key: BTreeMap<String, u32>,
    pods: BTreeMap<u32, IndexedPod>,
    terminating: BTreeMap<u32, u32>,
    /// (pod, term) memberships per [`TermKind::slot`].
    live: [i64; 4],
}

impl AffinityIndex {
    /// Brings pod `pod_id`'s entries up to date with the store (idempotent). A pod without
    /// terms in a cluster without such pods costs a few branch checks.
    pub fn retrack(&mut self, store: &Store, pod_id: u32) {
        let p = store.pods.get(pod_id);
        let node = match p {
            Some(p) if !p.status.phase.is_terminal() => store.pod_node(pod_id),
            _ => None,
        };
        match (p, node) {
            (Some(p), Some(n)) if p.meta.deletion.is_some() => {
                self.terminating.insert(pod_id, n);
            }
            _ => {
                if !self.terminating.is_empty() {
                    self.terminating.remove(&pod_id);
                }
            }
        }
        let (Some(p), Some(n)) = (p.filter(|p| has_any_terms(p)), node) else {
            if !self.pods.is_empty() {
                self.untrack(pod_id);
            }
            return;
        };
        if let Some(ip) = self.pods.get(&pod_id)
            && ip.node == n
            && ip.labels == p.meta.labels
        {
            return;
        }
        self.untrack(pod_id);
        let terms = PodTerms::of(p);
        let mut groups = Vec::new();
        let req = |k: TermKind, ts: &[AffinityTerm]| -> Vec<(TermKind, AffinityTerm)> {
            ts.iter().map(|t| (k, t.clone())).collect()
        };
        let mut all = req(TermKind::RequiredAffinity, &terms.required_affinity);
        all.extend(req(
            TermKind::RequiredAntiAffinity,
            &terms.required_anti_affinity,
        ));
        all.extend(
            terms
                .preferred_affinity
                .iter()
                .map(|(w, t)| (TermKind::PreferredAffinity(*w), t.clone())),
        );
        all.extend(
            terms
                .preferred_anti_affinity
                .iter()
                .map(|(w, t)| (TermKind::PreferredAntiAffinity(*w), t.clone())),
        );
        for (kind, term) in all {
            let key = format!("{kind:?}\u{0}{term:?}");
            let g = match self.by_key.get(&key) {
                Some(&g) => g,
                None => {
                    let g = self.groups.len() as u32;
                    self.groups.push(Group {
                        kind,
                        term,
                        per_node: BTreeMap::new(),
                        total: 0,
                    });
                    self.by_key.insert(key, g);
                    g
                }
            };
            let group = &mut self.groups[g as usize];
            *group.per_node.entry(n).or_default() += 1;
            group.total += 1;
            self.live[kind.slot()] += 1;
            groups.push(g);
        }
        self.pods.insert(
            pod_id,
            IndexedPod {
                node: n,
                labels: p.meta.labels.clone(),
                groups,
            },
        );
    }

    fn untrack(&mut self, pod_id: u32) {
        let Some(ip) = self.pods.remove(&pod_id) else {
            return;
        };
        for g in ip.groups {
            let group = &mut self.groups[g as usize];
            if let Some(c) = group.per_node.get_mut(&ip.node) {
                *c -= 1;
                if *c == 0 {
                    group.per_node.remove(&ip.node);
                }
            }
            group.total -= 1;
            self.live[group.kind.slot()] -= 1;
        }
    }

    /// Some bound pod has a required anti-affinity term.
    pub fn any_required_anti_affinity(&self) -> bool {
        self.live[1] > 0
    }

    /// Some bound pod has a term that scores (preferred terms, or required affinity terms
    /// when `hard_weight` > 0).
    pub fn any_scoring(&self, hard_weight: i64) -> bool {
        (hard_weight > 0 && self.live[0] > 0) || self.live[2] > 0 || self.live[3] > 0
    }

    /// The live groups of `kind`'s slot.
    fn live_groups(&self, slot: usize) -> impl Iterator<Item = &Group> {
        self.groups
            .iter()
            .filter(move |g| g.total > 0 && g.kind.slot() == slot)
    }

    /// Topology keys the existing pods' required anti-affinity terms use.
    pub fn anti_affinity_keys(&self) -> impl Iterator<Item = &str> {
        self.live_groups(1).map(|g| g.term.topology_key.as_str())
    }

    /// Topology keys the existing pods' scoring terms use.
    pub fn scoring_keys(&self, hard_weight: i64) -> impl Iterator<Item = &str> {
        self.groups
            .iter()
            .filter(move |g| {
                g.total > 0
                    && match g.kind {
                        TermKind::RequiredAffinity => hard_weight > 0,
                        TermKind::RequiredAntiAffinity => false,
                        _ => true,
                    }
            })
            .map(|g| g.term.topology_key.as_str())
    }
}

/// Counts (or scores) per topology pair `(key, value id)` (upstream
/// `topologyToMatchedTermCount` / `scoreMap`), each key carrying its node -> value id table.
#[derive(Debug, Clone, Default)]
pub struct TopologyCounts {
    slots: Vec<Slot>,
    /// Pairs with a non-zero count (the length of upstream's map, which drops zeros).
    nonzero: usize,
}

#[derive(Debug, Clone)]
struct Slot {
    key: String,
    node_values: Vec<u32>,
    counts: Vec<i64>,
}

impl TopologyCounts {
    /// The slot of `key`, created from the topology cache (which must hold the key).
    fn slot(&mut self, key: &str, topo: &TopoCache) -> usize {
        if let Some(i) = self.slots.iter().position(|s| s.key == key) {
            return i;
        }
        let (node_values, values) = topo
            .get(key)
            .map(|(ids, vals)| (ids.clone(), vals.len()))
            .unwrap_or_default();
        self.slots.push(Slot {
            key: key.to_string(),
            node_values,
            counts: vec![0; values],
        });
        self.slots.len() - 1
    }

    fn value_of(&self, slot: usize, node: u32) -> Option<u32> {
        self.slots[slot]
            .node_values
            .get(node as usize)
            .copied()
            .filter(|&v| v != NO_VALUE)
    }

    /// Adds `delta` to the pair of `node`'s value for the slot's key (nothing when the node
    /// lacks the key).
    fn add(&mut self, slot: usize, node: u32, delta: i64) {
        let Some(v) = self.value_of(slot, node) else {
            return;
        };
        let c = &mut self.slots[slot].counts[v as usize];
        let before = *c;
        *c += delta;
        match (before == 0, *c == 0) {
            (true, false) => self.nonzero += 1,
            (false, true) => self.nonzero -= 1,
            _ => {}
        }
    }

    fn get(&self, slot: usize, value: u32) -> i64 {
        self.slots[slot].counts[value as usize]
    }

    /// No pair has a non-zero count.
    pub fn is_empty(&self) -> bool {
        self.nonzero == 0
    }

    /// The count of the pair `(key, value)`, 0 when absent.
    pub fn count(&self, key: &str, value: &str, topo: &TopoCache) -> i64 {
        let Some(s) = self.slots.iter().position(|s| s.key == key) else {
            return 0;
        };
        topo.get(key)
            .and_then(|(_, vals)| vals.iter().position(|v| v == value))
            .map_or(0, |v| self.get(s, v as u32))
    }

    /// Sum over the keys of the node's pair counts (scoring.go Score).
    fn sum_for_node(&self, node: u32) -> i64 {
        (0..self.slots.len())
            .filter_map(|s| self.value_of(s, node).map(|v| self.get(s, v)))
            .sum()
    }
}

/// The namespaces a term (or a conjunction of terms) selects.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Scope {
    All,
    Names(BTreeSet<String>),
}

impl Scope {
    fn of(t: &AffinityTerm) -> Scope {
        if t.all_namespaces() {
            Scope::All
        } else {
            Scope::Names(t.namespaces.clone())
        }
    }

    fn intersect(self, other: Scope) -> Scope {
        match (self, other) {
            (Scope::All, o) | (o, Scope::All) => o,
            (Scope::Names(a), Scope::Names(b)) => {
                Scope::Names(a.intersection(&b).cloned().collect())
            }
        }
    }

    fn contains(&self, ns: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Names(n) => n.contains(ns),
        }
    }
}

/// Per node id: bound, non-terminal pods in `scope` matching `selector` (terminating ones
/// included, as in upstream's scheduler cache).
fn node_counts(
    store: &Store,
    spread: &mut SelectorCounts,
    index: &AffinityIndex,
    scope: &Scope,
    selector: &LabelSelector,
) -> Vec<i64> {
    let mut out = vec![0i64; store.nodes.capacity()];
    if selector.is_nothing() {
        return out;
    }
    let namespaces: Vec<String> = match scope {
        Scope::All => store
            .namespaces
            .iter()
            .map(|(_, n)| n.meta.name.clone())
            .collect(),
        Scope::Names(n) => n.iter().cloned().collect(),
    };
    let mut bump = |node: u32, by: i64| {
        if let Some(c) = out.get_mut(node as usize) {
            *c += by;
        }
    };
    if selector.is_empty() {
        // SelectorCounts counts nothing for the empty selector: walk the namespaces' pods.
        for ns in &namespaces {
            for id in store.select_pods(ns, selector) {
                let counted = store
                    .pods
                    .get(id)
                    .is_some_and(|p| !p.status.phase.is_terminal());
                if counted && let Some(n) = store.pod_node(id) {
                    bump(n, 1);
                }
            }
        }
        return out;
    }
    for ns in &namespaces {
        if let Some(e) = spread.entry(store, ns, selector) {
            for (id, _) in store.nodes.iter() {
                let c = spread.count(e, id);
                if c != 0 {
                    bump(id, c);
                }
            }
        }
    }
    for (&pod, &node) in &index.terminating {
        if let Some(p) = store.pods.get(pod)
            && scope.contains(&p.meta.namespace)
            && selector.matches(&p.meta.labels)
        {
            bump(node, 1);
        }
    }
    out
}

/// InterPodAffinity's PreFilter state (upstream `preFilterState`).
#[derive(Debug, Clone)]
pub struct PreFilterState {
    /// The incoming pod's required affinity terms (namespaces merged).
    pub required_affinity: Vec<AffinityTerm>,
    /// The incoming pod's required anti-affinity terms (namespaces merged).
    pub required_anti_affinity: Vec<AffinityTerm>,
    /// Pairs -> existing pods whose required anti-affinity terms match the incoming pod.
    pub existing_anti_affinity: TopologyCounts,
    /// Pairs -> existing pods matching all the incoming pod's required affinity terms.
    pub affinity: TopologyCounts,
    /// Pairs -> existing pods matching the incoming pod's required anti-affinity terms.
    pub anti_affinity: TopologyCounts,
    affinity_slots: Vec<usize>,
    anti_slots: Vec<usize>,
    /// The pod matches all its own required affinity terms.
    self_match: bool,
}

impl PreFilterState {
    /// Accounts for pod `other` added to (`multiplier` 1) or removed from (-1) node `node`,
    /// for preemption's dry runs (port of filtering.go preFilterState.updateWithPod, the
    /// AddPod / RemovePod extensions). `incoming` is the pod being scheduled, `ns_labels` the
    /// labels of its namespace; `topo` must hold the keys of `other`'s anti-affinity terms.
    pub fn update_with_pod(
        &mut self,
        incoming: &Pod,
        ns_labels: &Labels,
        other: &Pod,
        node: u32,
        multiplier: i64,
        topo: &TopoCache,
    ) {
        let (ns, labels) = (incoming.meta.namespace.as_str(), &incoming.meta.labels);
        for t in other
            .spec
            .pod_anti_affinity
            .iter()
            .flat_map(|a| &a.required)
            .map(|t| AffinityTerm::new(&other.meta.namespace, &other.meta.labels, t))
        {
            if t.matches(ns, labels, ns_labels) {
                let s = self.existing_anti_affinity.slot(&t.topology_key, topo);
                self.existing_anti_affinity.add(s, node, multiplier);
            }
        }
        let (ons, olabels) = (other.meta.namespace.as_str(), &other.meta.labels);
        if !self.required_affinity.is_empty()
            && self
                .required_affinity
                .iter()
                .all(|t| t.matches_merged(ons, olabels))
        {
            for &s in &self.affinity_slots {
                self.affinity.add(s, node, multiplier);
            }
        }
        for (t, &s) in self.required_anti_affinity.iter().zip(&self.anti_slots) {
            if t.matches_merged(ons, olabels) {
                self.anti_affinity.add(s, node, multiplier);
            }
        }
    }
}

/// The topology keys PreFilter needs in the topology cache for `pod`.
pub fn pre_filter_keys<'a>(pod: &'a Pod, index: &'a AffinityIndex) -> BTreeSet<&'a str> {
    let mut keys: BTreeSet<&str> = index.anti_affinity_keys().collect();
    for a in [&pod.spec.pod_affinity, &pod.spec.pod_anti_affinity]
        .into_iter()
        .flatten()
    {
        keys.extend(a.required.iter().map(|t| t.topology_key.as_str()));
    }
    keys
}

/// PreFilter (filtering.go PreFilter): `None` is upstream's Skip (no required terms on the
/// pod and no existing pod's anti-affinity matches it). `topo` must hold every key of
/// [`pre_filter_keys`].
pub fn pre_filter(
    pod: &Pod,
    store: &Store,
    index: &AffinityIndex,
    spread: &mut SelectorCounts,
    topo: &TopoCache,
) -> Option<PreFilterState> {
    let (ns, labels) = (pod.meta.namespace.as_str(), &pod.meta.labels);
    // getExistingAntiAffinityCounts, over the grouped terms.
    let mut existing = TopologyCounts::default();
    if index.any_required_anti_affinity() {
        let ns_labels = namespace_labels(store, ns);
        for g in index.live_groups(1) {
            if !g.term.matches(ns, labels, ns_labels) {
                continue;
            }
            let s = existing.slot(&g.term.topology_key, topo);
            for (&node, &c) in &g.per_node {
                existing.add(s, node, c);
            }
        }
    }
    let own = has_required_terms(pod);
    if existing.is_empty() && !own {
        return None;
    }
    let mut required_affinity = Vec::new();
    let mut required_anti_affinity = Vec::new();
    if own {
        let req = |a: &Option<PodAffinity>| -> Vec<AffinityTerm> {
            a.iter()
                .flat_map(|a| &a.required)
                .map(|t| AffinityTerm::new(ns, labels, t))
                .collect()
        };
        let mut terms = PodTerms {
            required_affinity: req(&pod.spec.pod_affinity),
            required_anti_affinity: req(&pod.spec.pod_anti_affinity),
            ..PodTerms::default()
        };
        terms.merge_namespaces(store);
        required_affinity = terms.required_affinity;
        required_anti_affinity = terms.required_anti_affinity;
    }
    // getIncomingAffinityAntiAffinityCounts: an existing pod counts for the affinity terms
    // when it matches all of them, i.e. the conjunction of their namespaces and selectors.
    let mut affinity = TopologyCounts::default();
    let affinity_slots: Vec<usize> = required_affinity
        .iter()
        .map(|t| affinity.slot(&t.topology_key, topo))
        .collect();
    if !required_affinity.is_empty() {
        let scope = required_affinity
            .iter()
            .map(Scope::of)
            .reduce(Scope::intersect)
            .unwrap_or(Scope::All);
        let nothing = required_affinity.iter().any(|t| t.selector.is_nothing());
        if !nothing && scope != Scope::Names(BTreeSet::new()) {
            let reqs = required_affinity
                .iter()
                .flat_map(|t| t.selector.requirements().iter().cloned())
                .collect();
            let selector = LabelSelector::from_requirements(reqs);
            let counts = node_counts(store, spread, index, &scope, &selector);
            for (node, &c) in counts.iter().enumerate() {
                if c != 0 {
                    for &s in &affinity_slots {
                        affinity.add(s, node as u32, c);
                    }
                }
            }
        }
    }
    let mut anti = TopologyCounts::default();
    let anti_slots: Vec<usize> = required_anti_affinity
        .iter()
        .map(|t| anti.slot(&t.topology_key, topo))
        .collect();
    for (t, &s) in required_anti_affinity.iter().zip(&anti_slots) {
        let counts = node_counts(store, spread, index, &Scope::of(t), &t.selector);
        for (node, &c) in counts.iter().enumerate() {
            if c != 0 {
                anti.add(s, node as u32, c);
            }
        }
    }
    let self_match = !required_affinity.is_empty()
        && required_affinity
            .iter()
            .all(|t| t.matches(ns, labels, &NO_LABELS));
    Some(PreFilterState {
        required_affinity,
        required_anti_affinity,
        existing_anti_affinity: existing,
        affinity,
        anti_affinity: anti,
        affinity_slots,
        anti_slots,
        self_match,
    })
}

/// Filter (filtering.go Filter): the incoming pod's affinity, then its anti-affinity, then the
/// existing pods' anti-affinity; the reason of the first failing check.
pub fn filter(state: &PreFilterState, node: u32) -> Result<(), &'static str> {
    // satisfyPodAffinity.
    let mut pods_exist = true;
    for &s in &state.affinity_slots {
        let Some(v) = state.affinity.value_of(s, node) else {
            // Every topology label must exist on the node.
            return Err(ERR_REASON_AFFINITY_RULES_NOT_MATCH);
        };
        if state.affinity.get(s, v) <= 0 {
            pods_exist = false;
        }
    }
    // The first pod of a group with affinity to itself may go anywhere with the topologies
    // when no pod in the cluster matches yet.
    let first_of_group = state.affinity.is_empty() && state.self_match;
    if !pods_exist && !first_of_group {
        return Err(ERR_REASON_AFFINITY_RULES_NOT_MATCH);
    }
    // satisfyPodAntiAffinity.
    if !state.anti_affinity.is_empty() {
        for &s in &state.anti_slots {
            if let Some(v) = state.anti_affinity.value_of(s, node)
                && state.anti_affinity.get(s, v) > 0
            {
                return Err(ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH);
            }
        }
    }
    // satisfyExistingPodsAntiAffinity.
    let ex = &state.existing_anti_affinity;
    if !ex.is_empty() {
        for s in 0..ex.slots.len() {
            if let Some(v) = ex.value_of(s, node)
                && ex.get(s, v) > 0
            {
                return Err(ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH);
            }
        }
    }
    Ok(())
}

/// InterPodAffinity's PreScore state (upstream `preScoreState.topologyScore`).
#[derive(Debug, Clone)]
pub struct ScoreState {
    /// Score per topology pair.
    pub topology_score: TopologyCounts,
}

impl ScoreState {
    /// The raw score of `node` (scoring.go Score).
    pub fn score(&self, node: u32) -> i64 {
        self.topology_score.sum_for_node(node)
    }
}

/// The topology keys PreScore needs in the topology cache for `pod`.
pub fn pre_score_keys<'a>(
    pod: &'a Pod,
    index: &'a AffinityIndex,
    hard_weight: i64,
) -> BTreeSet<&'a str> {
    let mut keys: BTreeSet<&str> = index.scoring_keys(hard_weight).collect();
    for a in [&pod.spec.pod_affinity, &pod.spec.pod_anti_affinity]
        .into_iter()
        .flatten()
    {
        keys.extend(a.preferred.iter().map(|w| w.term.topology_key.as_str()));
    }
    keys
}

/// PreScore (scoring.go PreScore with processExistingPod): `None` is upstream's Skip (no pair
/// got a score). `topo` must hold every key of [`pre_score_keys`].
pub fn pre_score(
    pod: &Pod,
    store: &Store,
    index: &AffinityIndex,
    spread: &mut SelectorCounts,
    topo: &TopoCache,
    hard_weight: i64,
) -> Option<ScoreState> {
    let has_own = has_preferred_terms(pod);
    if !has_own && !index.any_scoring(hard_weight) {
        return None;
    }
    let (ns, labels) = (pod.meta.namespace.as_str(), &pod.meta.labels);
    let mut score = TopologyCounts::default();
    let mut any = false;
    // The incoming pod's preferred terms against every existing pod.
    if has_own {
        let mut terms = PodTerms::of(pod);
        terms.required_affinity.clear();
        terms.required_anti_affinity.clear();
        terms.merge_namespaces(store);
        let signed = terms
            .preferred_affinity
            .iter()
            .map(|(w, t)| (*w, t))
            .chain(terms.preferred_anti_affinity.iter().map(|(w, t)| (-*w, t)));
        for (w, t) in signed {
            let s = score.slot(&t.topology_key, topo);
            let counts = node_counts(store, spread, index, &Scope::of(t), &t.selector);
            for (node, &c) in counts.iter().enumerate() {
                if c != 0 && score.value_of(s, node as u32).is_some() {
                    score.add(s, node as u32, w * c);
                    any = true;
                }
            }
        }
    }
    // The existing pods' terms against the incoming pod.
    let ns_labels = namespace_labels(store, ns);
    for g in index.groups.iter().filter(|g| g.total > 0) {
        let w = match g.kind {
            TermKind::RequiredAffinity if hard_weight > 0 => hard_weight,
            TermKind::RequiredAffinity | TermKind::RequiredAntiAffinity => continue,
            TermKind::PreferredAffinity(w) => w,
            TermKind::PreferredAntiAffinity(w) => -w,
        };
        if !g.term.matches(ns, labels, ns_labels) {
            continue;
        }
        let s = score.slot(&g.term.topology_key, topo);
        for (&node, &c) in &g.per_node {
            if score.value_of(s, node).is_some() {
                score.add(s, node, w * c);
                any = true;
            }
        }
    }
    any.then_some(ScoreState {
        topology_score: score,
    })
}

/// NormalizeScore (scoring.go): min-max scaling to 0..=100, truncated; all equal -> 0.
pub fn normalize_score(scores: &mut [i64]) {
    let (Some(&min), Some(&max)) = (scores.iter().min(), scores.iter().max()) else {
        return;
    };
    let diff = max - min;
    for s in scores.iter_mut() {
        *s = if diff > 0 {
            (MAX_NODE_SCORE as f64 * ((*s - min) as f64 / diff as f64)) as i64
        } else {
            0
        };
    }
}

#[cfg(test)]
mod tests {
    //! Cases restated in spirit from upstream's filtering_test.go and scoring_test.go.
    use super::*;
    use crate::api::manifest::load_str;
    use crate::controllers::scheduler::{Scheduler, SchedulerConfig};
    use crate::controllers::{Controller, Ctx, Key, Outbox, WorkQueue};
    use crate::engine::{RngStreams, SimTime};

    const ZONE: &str = "topology.kubernetes.io/zone";
    const HOST: &str = "kubernetes.io/hostname";

    fn node(name: &str, zone: Option<&str>) -> String {
        let z = zone.map_or(String::new(), |z| format!("    {ZONE}: {z}\n"));
        format!(
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: {name}\n  labels:\n{z}    {HOST}: {name}\nstatus:\n  allocatable: {{cpu: '4', memory: 8Gi, pods: '110'}}\n---\n"
        )
    }

    /// A pod; `node` empty for a pending one; `affinity` is the YAML under `spec.affinity`.
    fn pod(name: &str, ns: &str, labels: &str, node: &str, affinity: &str) -> String {
        let aff = if affinity.is_empty() {
            String::new()
        } else {
            format!("  affinity:\n{affinity}")
        };
        let nn = if node.is_empty() {
            String::new()
        } else {
            format!("  nodeName: {node}\n")
        };
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: {ns}\n  labels: {{{labels}}}\nspec:\n{nn}{aff}  containers:\n  - name: c\n    image: nginx\n    resources: {{requests: {{cpu: 100m, memory: 100Mi}}}}\n---\n"
        )
    }

    /// One required term of `kind` (`podAffinity` / `podAntiAffinity`).
    fn required(kind: &str, selector: &str, key: &str, extra: &str) -> String {
        format!(
            "    {kind}:\n      requiredDuringSchedulingIgnoredDuringExecution:\n      - labelSelector: {{matchLabels: {{{selector}}}}}\n        topologyKey: {key}\n{extra}"
        )
    }

    fn preferred(kind: &str, terms: &[(i32, &str, &str)]) -> String {
        let mut s =
            format!("    {kind}:\n      preferredDuringSchedulingIgnoredDuringExecution:\n");
        for (w, sel, key) in terms {
            s += &format!(
                "      - weight: {w}\n        podAffinityTerm:\n          labelSelector: {{matchLabels: {{{sel}}}}}\n          topologyKey: {key}\n"
            );
        }
        s
    }

    struct World {
        store: Store,
        index: AffinityIndex,
        spread: SelectorCounts,
        topo: TopoCache,
    }

    fn world(yaml: &str) -> World {
        let mut store = Store::new(RngStreams::new(1).stream("names"), true);
        let loaded = load_str(yaml, "t.yaml", 1).expect("valid yaml");
        for l in loaded.objects {
            store.create(l.object, SimTime::ZERO).expect("created");
        }
        let mut index = AffinityIndex::default();
        let ids: Vec<u32> = store.pods.iter().map(|(id, _)| id).collect();
        for id in ids {
            index.retrack(&store, id);
        }
        let mut topo = TopoCache::new();
        for key in [ZONE, HOST, "rack"] {
            let mut ids = vec![NO_VALUE; store.nodes.capacity()];
            let mut values: Vec<String> = Vec::new();
            for (id, n) in store.nodes.iter() {
                if let Some(v) = n.meta.labels.get(key) {
                    let vid = match values.iter().position(|x| x == v) {
                        Some(i) => i,
                        None => {
                            values.push(v.clone());
                            values.len() - 1
                        }
                    };
                    ids[id as usize] = vid as u32;
                }
            }
            topo.insert(key.to_string(), (ids, values));
        }
        World {
            store,
            index,
            spread: SelectorCounts::default(),
            topo,
        }
    }

    impl World {
        fn pod(&self, name: &str) -> &Pod {
            let (_, p) = self
                .store
                .pods
                .iter()
                .find(|(_, p)| p.meta.name == name)
                .expect("pod exists");
            p
        }

        /// Filter results per node name for pending pod `name`.
        fn filter(&mut self, name: &str) -> Vec<(String, Result<(), &'static str>)> {
            let p = self.pod(name).clone();
            let st = pre_filter(&p, &self.store, &self.index, &mut self.spread, &self.topo);
            self.store
                .nodes
                .iter()
                .map(|(id, n)| {
                    let r = st.as_ref().map_or(Ok(()), |st| filter(st, id));
                    (n.meta.name.clone(), r)
                })
                .collect()
        }

        /// Normalised scores per node (all nodes feasible) for pending pod `name`.
        fn scores(&mut self, name: &str, hard: i64) -> Option<Vec<i64>> {
            let p = self.pod(name).clone();
            let st = pre_score(
                &p,
                &self.store,
                &self.index,
                &mut self.spread,
                &self.topo,
                hard,
            )?;
            let mut s: Vec<i64> = self
                .store
                .nodes
                .iter()
                .map(|(id, _)| st.score(id))
                .collect();
            normalize_score(&mut s);
            Some(s)
        }
    }

    fn three_nodes() -> String {
        node("a1", Some("a")) + &node("a2", Some("a")) + &node("b1", Some("b"))
    }

    const AFF: &str = ERR_REASON_AFFINITY_RULES_NOT_MATCH;
    const ANTI: &str = ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH;
    const EXISTING: &str = ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH;

    fn verdicts(r: &[(String, Result<(), &'static str>)]) -> Vec<Result<(), &'static str>> {
        r.iter().map(|(_, v)| *v).collect()
    }

    #[test]
    fn required_affinity_matches_the_zone_of_a_matching_pod() {
        let y = three_nodes()
            + &pod("cache", "default", "app: cache", "a1", "")
            + &pod(
                "web",
                "default",
                "app: web",
                "",
                &required("podAffinity", "app: cache", ZONE, ""),
            );
        let mut w = world(&y);
        assert_eq!(verdicts(&w.filter("web")), vec![Ok(()), Ok(()), Err(AFF)]);
    }

    #[test]
    fn required_affinity_without_matching_pods_fails_everywhere() {
        let y = three_nodes()
            + &pod("other", "default", "app: other", "a1", "")
            + &pod(
                "web",
                "default",
                "app: web",
                "",
                &required("podAffinity", "app: cache", ZONE, ""),
            );
        let mut w = world(&y);
        assert_eq!(verdicts(&w.filter("web")), vec![Err(AFF); 3]);
    }

    #[test]
    fn first_pod_of_a_self_affine_group_may_go_anywhere_with_the_key() {
        let y = three_nodes()
            + &node("nozone", None)
            + &pod(
                "web-0",
                "default",
                "app: web",
                "",
                &required("podAffinity", "app: web", ZONE, ""),
            );
        let mut w = world(&y);
        assert_eq!(
            verdicts(&w.filter("web-0")),
            vec![Ok(()), Ok(()), Ok(()), Err(AFF)]
        );
        // Once one exists, the rest follow it.
        let y = y + &pod("web-1", "default", "app: web", "b1", "");
        let mut w = world(&y);
        assert_eq!(
            verdicts(&w.filter("web-0")),
            vec![Err(AFF), Err(AFF), Ok(()), Err(AFF)]
        );
    }

    #[test]
    fn self_match_needs_the_pod_to_match_all_its_terms() {
        // Two terms, the second one not matching the pod itself: no exemption.
        let extra = "      - labelSelector: {matchLabels: {app: db}}\n        topologyKey: topology.kubernetes.io/zone\n";
        let y = three_nodes()
            + &pod(
                "web",
                "default",
                "app: web",
                "",
                &required("podAffinity", "app: web", ZONE, extra),
            );
        let mut w = world(&y);
        assert_eq!(verdicts(&w.filter("web")), vec![Err(AFF); 3]);
    }

    #[test]
    fn anti_affinity_by_hostname_and_by_zone() {
        let base = three_nodes() + &pod("web-0", "default", "app: web", "a1", "");
        let y = base.clone()
            + &pod(
                "web-1",
                "default",
                "app: web",
                "",
                &required("podAntiAffinity", "app: web", HOST, ""),
            );
        let mut w = world(&y);
        assert_eq!(
            verdicts(&w.filter("web-1")),
            vec![Err(ANTI), Ok(()), Ok(())]
        );
        let y = base
            + &pod(
                "web-1",
                "default",
                "app: web",
                "",
                &required("podAntiAffinity", "app: web", ZONE, ""),
            );
        let mut w = world(&y);
        assert_eq!(
            verdicts(&w.filter("web-1")),
            vec![Err(ANTI), Err(ANTI), Ok(())]
        );
    }

    #[test]
    fn existing_pods_anti_affinity_blocks_matching_pods() {
        let y = three_nodes()
            + &pod(
                "db",
                "default",
                "app: db",
                "a1",
                &required("podAntiAffinity", "app: web", ZONE, ""),
            )
            + &pod("web", "default", "app: web", "", "")
            + &pod("api", "default", "app: api", "", "");
        let mut w = world(&y);
        assert_eq!(
            verdicts(&w.filter("web")),
            vec![Err(EXISTING), Err(EXISTING), Ok(())]
        );
        // A pod the term does not select: PreFilter skips.
        let p = w.pod("api").clone();
        assert!(pre_filter(&p, &w.store, &w.index, &mut w.spread, &w.topo).is_none());
    }

    #[test]
    fn add_and_remove_pod_update_the_state() {
        // Preemption's dry run: removing the blocking pods frees their nodes; adding them
        // back blocks again.
        let y = three_nodes()
            + &pod(
                "db",
                "default",
                "app: db",
                "b1",
                &required("podAntiAffinity", "app: web", HOST, ""),
            )
            + &pod("web-0", "default", "app: web", "a1", "")
            + &pod(
                "web",
                "default",
                "app: web",
                "",
                &required("podAntiAffinity", "app: web", HOST, ""),
            );
        let mut w = world(&y);
        let incoming = w.pod("web").clone();
        let mut st = pre_filter(&incoming, &w.store, &w.index, &mut w.spread, &w.topo).unwrap();
        let id = |w: &World, n: &str| w.store.nodes.id_of("", n).unwrap();
        let (a1, b1) = (id(&w, "a1"), id(&w, "b1"));
        let check = |st: &PreFilterState| [a1, b1].map(|n| filter(st, n));
        assert_eq!(check(&st), [Err(ANTI), Err(EXISTING)]);
        let (db, web0) = (w.pod("db").clone(), w.pod("web-0").clone());
        st.update_with_pod(&incoming, &NO_LABELS, &db, b1, -1, &w.topo);
        st.update_with_pod(&incoming, &NO_LABELS, &web0, a1, -1, &w.topo);
        assert_eq!(check(&st), [Ok(()), Ok(())]);
        st.update_with_pod(&incoming, &NO_LABELS, &db, b1, 1, &w.topo);
        assert_eq!(check(&st), [Ok(()), Err(EXISTING)]);
    }

    #[test]
    fn filter_order_affinity_then_anti_then_existing() {
        // a1 fails all three checks: the affinity reason wins; a2 fails the last two.
        let aff = required("podAffinity", "app: cache", HOST, "")
            + "    podAntiAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n      - labelSelector: {matchLabels: {app: db}}\n        topologyKey: topology.kubernetes.io/zone\n";
        let y = three_nodes()
            + &pod("cache", "default", "app: cache", "b1", "")
            + &pod(
                "db",
                "default",
                "app: db",
                "a2",
                &required("podAntiAffinity", "app: web", ZONE, ""),
            )
            + &pod("web", "default", "app: web", "", &aff);
        let mut w = world(&y);
        assert_eq!(verdicts(&w.filter("web")), vec![Err(AFF), Err(AFF), Ok(())]);
        let y = three_nodes()
            + &pod("cache", "default", "app: cache", "a1", "")
            + &pod(
                "db",
                "default",
                "app: db",
                "a2",
                &required("podAntiAffinity", "app: web", ZONE, ""),
            )
            + &pod(
                "web",
                "default",
                "app: web",
                "",
                &required("podAntiAffinity", "app: db", ZONE, ""),
            );
        let mut w = world(&y);
        assert_eq!(
            verdicts(&w.filter("web")),
            vec![Err(ANTI), Err(ANTI), Ok(())]
        );
    }

    #[test]
    fn namespaces_and_namespace_selectors() {
        let ns =
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: other\n  labels: {team: x}\n---\n";
        let base = three_nodes() + ns + &pod("web-0", "other", "app: web", "a1", "");
        // The pod's own namespace by default: the other namespace's pod does not count.
        let y = base.clone()
            + &pod(
                "web-1",
                "default",
                "app: web",
                "",
                &required("podAntiAffinity", "app: web", HOST, ""),
            );
        assert_eq!(verdicts(&world(&y).filter("web-1")), vec![Ok(()); 3]);
        for extra in [
            "        namespaces: [other]\n",
            "        namespaceSelector: {}\n",
            "        namespaceSelector: {matchLabels: {team: x}}\n",
        ] {
            let y = base.clone()
                + &pod(
                    "web-1",
                    "default",
                    "app: web",
                    "",
                    &required("podAntiAffinity", "app: web", HOST, extra),
                );
            assert_eq!(
                verdicts(&world(&y).filter("web-1")),
                vec![Err(ANTI), Ok(()), Ok(())],
                "{extra}"
            );
        }
        let y = base.clone()
            + &pod(
                "web-1",
                "default",
                "app: web",
                "",
                &required(
                    "podAntiAffinity",
                    "app: web",
                    HOST,
                    "        namespaceSelector: {matchLabels: {team: y}}\n",
                ),
            );
        assert_eq!(verdicts(&world(&y).filter("web-1")), vec![Ok(()); 3]);
        // An existing pod's namespace selector is evaluated against the incoming pod's
        // namespace labels.
        let y = three_nodes()
            + ns
            + &pod(
                "db",
                "default",
                "app: db",
                "b1",
                &required(
                    "podAntiAffinity",
                    "app: web",
                    ZONE,
                    "        namespaceSelector: {matchLabels: {team: x}}\n",
                ),
            )
            + &pod("web", "other", "app: web", "", "")
            + &pod("web2", "default", "app: web", "", "");
        let mut w = world(&y);
        assert_eq!(
            verdicts(&w.filter("web")),
            vec![Ok(()), Ok(()), Err(EXISTING)]
        );
        assert_eq!(verdicts(&w.filter("web2")), vec![Ok(()); 3]);
    }

    #[test]
    fn missing_topology_key() {
        let y = three_nodes()
            + &pod("cache", "default", "app: cache", "a1", "")
            + &pod(
                "web",
                "default",
                "app: web",
                "",
                &required("podAffinity", "app: cache", "rack", ""),
            )
            + &pod(
                "solo",
                "default",
                "app: solo",
                "",
                &required("podAntiAffinity", "app: cache", "rack", ""),
            );
        let mut w = world(&y);
        // Affinity needs the key on the node; anti-affinity is satisfied without it.
        assert_eq!(verdicts(&w.filter("web")), vec![Err(AFF); 3]);
        assert_eq!(verdicts(&w.filter("solo")), vec![Ok(()); 3]);
    }

    #[test]
    fn terminating_pods_still_count() {
        let y = three_nodes()
            + &pod("web-0", "default", "app: web", "a1", "")
            + &pod(
                "web-1",
                "default",
                "app: web",
                "",
                &required("podAntiAffinity", "app: web", HOST, ""),
            );
        let mut w = world(&y);
        let id = w
            .store
            .pods
            .iter()
            .find(|(_, p)| p.meta.name == "web-0")
            .unwrap()
            .0;
        // Build the selector entry first, then mark the pod terminating.
        assert_eq!(verdicts(&w.filter("web-1"))[0], Err(ANTI));
        w.store
            .update_pod(id, SimTime::ZERO, |p| p.meta.deletion = Some(SimTime::ZERO));
        w.spread.retrack(&w.store, id);
        w.index.retrack(&w.store, id);
        assert_eq!(verdicts(&w.filter("web-1"))[0], Err(ANTI));
        w.store.update_pod(id, SimTime::ZERO, |p| {
            p.status.phase = crate::api::objects::PodPhase::Succeeded
        });
        w.spread.retrack(&w.store, id);
        w.index.retrack(&w.store, id);
        assert_eq!(verdicts(&w.filter("web-1"))[0], Ok(()));
    }

    #[test]
    fn preferred_terms_score_with_weights_and_normalise() {
        // Nodes a1 a2 b1; cache on b1 (zone b), web on a1.
        // web-new prefers cache's zone (5) and avoids web hosts (3):
        // a1: -3, a2: 0, b1: +5 -> (x+3)/8*100 = 0, 37, 100.
        let aff = preferred("podAffinity", &[(5, "app: cache", ZONE)])
            + &preferred("podAntiAffinity", &[(3, "app: web", HOST)]);
        let y = three_nodes()
            + &pod("cache", "default", "app: cache", "b1", "")
            + &pod("web", "default", "app: web", "a1", "")
            + &pod("web-new", "default", "app: web", "", &aff);
        let mut w = world(&y);
        assert_eq!(w.scores("web-new", 1), Some(vec![0, 37, 100]));
    }

    #[test]
    fn existing_pods_terms_score_the_incoming_pod() {
        // db on a1 requires web's zone: hardPodAffinityWeight pulls web to zone a.
        let y = three_nodes()
            + &pod(
                "db",
                "default",
                "app: db",
                "a1",
                &required("podAffinity", "app: web", ZONE, ""),
            )
            + &pod("web", "default", "app: web", "", "");
        let mut w = world(&y);
        assert_eq!(w.scores("web", 1), Some(vec![100, 100, 0]));
        assert_eq!(w.scores("web", 0), None);
        // An existing pod's preferred anti-affinity pushes the incoming pod away.
        let y = three_nodes()
            + &pod(
                "db",
                "default",
                "app: db",
                "a1",
                &preferred("podAntiAffinity", &[(7, "app: web", HOST)]),
            )
            + &pod("web", "default", "app: web", "", "");
        let mut w = world(&y);
        assert_eq!(w.scores("web", 1), Some(vec![0, 100, 100]));
        // Nothing matching: Skip.
        let y = three_nodes()
            + &pod(
                "db",
                "default",
                "app: db",
                "a1",
                &preferred("podAntiAffinity", &[(7, "app: x", HOST)]),
            )
            + &pod("web", "default", "app: web", "", "");
        assert_eq!(world(&y).scores("web", 1), None);
    }

    #[test]
    fn symmetric_hard_weight_and_preferred_sum() {
        // Two existing pods with required affinity to web in zone a and b; a third with a
        // preferred affinity (weight 10) to web in zone b. Zone a: 2 (hard weight 2), zone b:
        // 2 + 10 = 12.
        let y = three_nodes()
            + &pod(
                "x",
                "default",
                "app: x",
                "a1",
                &required("podAffinity", "app: web", ZONE, ""),
            )
            + &pod(
                "y",
                "default",
                "app: y",
                "b1",
                &required("podAffinity", "app: web", ZONE, ""),
            )
            + &pod(
                "z",
                "default",
                "app: z",
                "b1",
                &preferred("podAffinity", &[(10, "app: web", ZONE)]),
            )
            + &pod("web", "default", "app: web", "", "");
        let mut w = world(&y);
        assert_eq!(w.scores("web", 2), Some(vec![0, 0, 100]));
    }

    #[test]
    fn normalize_is_min_max() {
        let mut s = vec![-3, 0, 5];
        normalize_score(&mut s);
        assert_eq!(s, vec![0, 37, 100]);
        let mut s = vec![4, 4];
        normalize_score(&mut s);
        assert_eq!(s, vec![0, 0]);
        let mut s = vec![2, 3, 7];
        normalize_score(&mut s);
        assert_eq!(s, vec![0, 20, 100]);
    }

    #[test]
    fn match_label_keys_merge_into_the_selector() {
        let extra = "        matchLabelKeys: [version]\n";
        let y = three_nodes()
            + &pod("old", "default", "app: web, version: v1", "a1", "")
            + &pod(
                "new",
                "default",
                "app: web, version: v2",
                "",
                &required("podAntiAffinity", "app: web", HOST, extra),
            )
            + &pod(
                "old2",
                "default",
                "app: web, version: v1",
                "",
                &required("podAntiAffinity", "app: web", HOST, extra),
            );
        let mut w = world(&y);
        assert_eq!(verdicts(&w.filter("new")), vec![Ok(()); 3]);
        assert_eq!(verdicts(&w.filter("old2")), vec![Err(ANTI), Ok(()), Ok(())]);
    }

    #[test]
    fn conversion_validates_terms() {
        let bad = [
            ("        topologyKey: ''\n", "topologyKey"),
            ("        topologyKey: 'bad key'\n", "topologyKey"),
        ];
        for (key_line, field) in bad {
            let y = format!(
                "apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  affinity:\n    podAntiAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n      - labelSelector: {{matchLabels: {{app: web}}}}\n{key_line}  containers: [{{name: c, image: nginx}}]\n"
            );
            let e = load_str(&y, "t.yaml", 1).expect_err("rejected").to_string();
            assert!(e.contains(field), "{e}");
        }
        let weight0 = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  affinity:\n    podAffinity:\n      preferredDuringSchedulingIgnoredDuringExecution:\n      - weight: 0\n        podAffinityTerm: {topologyKey: zone, labelSelector: {}}\n  containers: [{name: c, image: nginx}]\n";
        let e = load_str(weight0, "t.yaml", 1)
            .expect_err("rejected")
            .to_string();
        assert!(e.contains("weight") && e.contains("1-100"), "{e}");
        let keys_without_selector = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  affinity:\n    podAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n      - topologyKey: zone\n        matchLabelKeys: [app]\n  containers: [{name: c, image: nginx}]\n";
        let e = load_str(keys_without_selector, "t.yaml", 1)
            .expect_err("rejected")
            .to_string();
        assert!(e.contains("matchLabelKeys"), "{e}");
        let both = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  affinity:\n    podAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n      - topologyKey: zone\n        labelSelector: {matchLabels: {app: x}}\n        matchLabelKeys: [v]\n        mismatchLabelKeys: [v]\n  containers: [{name: c, image: nginx}]\n";
        let e = load_str(both, "t.yaml", 1)
            .expect_err("rejected")
            .to_string();
        assert!(e.contains("mismatchLabelKeys"), "{e}");
    }

    /// Runs the scheduler over every pending pod; (pod -> node, FailedScheduling messages).
    fn schedule(yaml: &str) -> (BTreeMap<String, String>, Vec<String>) {
        let mut s = Store::new(RngStreams::new(1).stream("names"), true);
        for l in load_str(yaml, "t.yaml", 1).expect("valid").objects {
            s.create(l.object, SimTime::ZERO).expect("created");
        }
        let mut sched = Scheduler::new(SchedulerConfig {
            tie_break_by_name: true,
            ..SchedulerConfig::default()
        });
        let mut rng = RngStreams::new(1).stream("sched");
        let mut out = Outbox::default();
        let mut wq = WorkQueue::default();
        for c in s.take_changes() {
            sched.on_change(&c, &s, &mut wq);
        }
        let mut ctx = Ctx {
            now: SimTime::ZERO,
            store: &mut s,
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

    #[test]
    fn scheduler_spreads_anti_affine_pods_one_per_node() {
        let mut y = three_nodes();
        for i in 0..4 {
            y += &pod(
                &format!("cache-{i}"),
                "default",
                "app: cache",
                "",
                &required("podAntiAffinity", "app: cache", HOST, ""),
            );
        }
        let (placed, msgs) = schedule(&y);
        let mut nodes: Vec<&String> = placed.values().filter(|n| !n.is_empty()).collect();
        nodes.sort();
        assert_eq!(nodes, vec!["a1", "a2", "b1"], "{placed:?}");
        assert_eq!(
            msgs,
            vec![
                "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. \
                 preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."
                    .to_string()
            ]
        );
    }

    #[test]
    fn scheduler_follows_required_and_preferred_terms() {
        // web requires cache's zone and prefers not to share a host with another web.
        let aff = required("podAffinity", "app: cache", ZONE, "")
            + &preferred("podAntiAffinity", &[(100, "app: web", HOST)]);
        let y = three_nodes()
            + &node("b2", Some("b"))
            + &pod("cache", "default", "app: cache", "b2", "")
            + &pod("web-0", "default", "app: web", "", &aff)
            + &pod("web-1", "default", "app: web", "", &aff);
        let (placed, _) = schedule(&y);
        let mut webs = vec![placed["web-0"].clone(), placed["web-1"].clone()];
        webs.sort();
        assert_eq!(webs, vec!["b1", "b2"], "{placed:?}");
    }
}
