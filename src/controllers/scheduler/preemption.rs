//! The DefaultPreemption PostFilter: when no node passes the filters, find lower-priority
//! pods whose removal lets the pod fit, evict them and nominate the node for the pod.
//!
//! Ports of pkg/scheduler/framework/plugins/defaultpreemption/default_preemption.go
//! (`PodEligibleToPreemptOthers`, `calculateNumCandidates`, `SelectVictimsOnNode`,
//! `filterPodsWithPDBViolation`) and pkg/scheduler/framework/preemption/preemption.go
//! (`Evaluator.Preempt`, `findCandidates`, `DryRunPreemption`, `SelectCandidate`,
//! `pickOneNodeForPreemption`, `prepareCandidate`, `getLowerPriorityNominatedPods`),
//! with pkg/scheduler/util `MoreImportantPod` / `GetEarliestPodStartTime`.
//!
//! What kubetwin does differently, and why it does not change outcomes:
//! * The dry run is sequential (upstream checks nodes in parallel and stops once enough
//!   candidates exist, so which candidates it gathers can vary between runs); kubetwin
//!   visits the potential nodes from the random offset on, in order, with the same stop
//!   rule. Ties left after every `pickOneNodeForPreemption` criterion go to the first
//!   candidate in that order (upstream: Go map order).
//! * The API calls (the DisruptionTarget condition, the graceful deletion) complete inside
//!   the cycle, so upstream's synchronous and asynchronous preemption coincide.
//! * Only the per-node sums NodeResourcesFit and NodePorts read (requests, pod count, host
//!   ports) are adjusted for removed victims and added nominated pods; PodTopologySpread
//!   and InterPodAffinity keep counting the victims (upstream's PreFilterExtensions would
//!   update them). A pod blocked only by spread skew or anti-affinity to lower-priority
//!   pods is therefore not helped by preemption in kubetwin.
//! * When no bound pod in the whole cluster has a lower priority than the preemptor, every
//!   potential node would answer "No preemption victims found for incoming pod"; kubetwin
//!   answers that without the dry run and without drawing the random offset.

use super::{CycleState, Scheduler, fit_error_message};
use crate::api::objects::{PodDisruptionBudget, PreemptionPolicy};
use crate::api::store::NodeUsage;
use crate::api::{Kind, Pod, Store};
use crate::controllers::Ctx;
use crate::engine::SimTime;
use crate::engine::rng::below;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// `v1.PodReasonPreemptionByScheduler`: the DisruptionTarget reason set on victims.
pub const REASON_PREEMPTION_BY_SCHEDULER: &str = "PreemptionByScheduler";
/// SelectVictimsOnNode's status when a node has no lower-priority pod.
pub const MSG_NO_VICTIMS: &str = "No preemption victims found for incoming pod";
/// Preempt's status for nodes that were not tried (unresolvable or not reached).
pub const MSG_NOT_HELPFUL: &str = "Preemption is not helpful for scheduling";

/// Whether a filter failure reason comes with upstream's `UnschedulableAndUnresolvable`
/// code (preemption cannot help on that node) rather than `Unschedulable`. The codes are
/// the plugins' own: NodeUnschedulable, NodeName, TaintToleration, NodeAffinity, the
/// PodTopologySpread missing-label case and InterPodAffinity's "didn't match pod affinity
/// rules" are unresolvable; NodeResourcesFit, NodePorts, spread skew and the anti-affinity
/// reasons are resolvable. Unknown reasons (out-of-tree plugins) count as resolvable.
pub fn reason_unresolvable(reason: &str) -> bool {
    use super::plugins::pod_topology_spread::ERR_REASON_NODE_LABEL_NOT_MATCH;
    use super::plugins::taint_toleration::ERR_REASON_UNTOLERATED_TAINT;
    reason == "node(s) were unschedulable"
        || reason == "node(s) didn't match the requested node name"
        || reason == "node(s) didn't match Pod's node affinity/selector"
        || reason == "node(s) didn't match pod affinity rules"
        || reason == "node(s) not found"
        || reason == ERR_REASON_NODE_LABEL_NOT_MATCH
        || reason.starts_with(ERR_REASON_UNTOLERATED_TAINT)
        || reason.starts_with("node(s) had untolerated taint {")
}

/// Port of default_preemption.go calculateNumCandidates: `numNodes * pct / 100`, at least
/// `abs`, at most `numNodes`.
pub fn num_candidates(num_nodes: i64, pct: i64, abs: i64) -> i64 {
    (num_nodes * pct / 100).max(abs).min(num_nodes)
}

/// A pod's start time for MoreImportantPod (util.GetPodStartTime: `now` when unset).
fn start_time(p: &Pod, now: SimTime) -> SimTime {
    p.status.start_time.unwrap_or(now)
}

/// Port of pkg/scheduler/util MoreImportantPod as an ordering: higher priority first,
/// then the earlier start time.
pub fn importance_order(a: &Pod, b: &Pod, now: SimTime) -> Ordering {
    b.spec
        .priority
        .cmp(&a.spec.priority)
        .then_with(|| start_time(a, now).cmp(&start_time(b, now)))
}

/// Port of default_preemption.go filterPodsWithPDBViolation: splits `pods` (order kept)
/// into those whose eviction would take some matching PDB below zero allowed disruptions
/// and the others. A PDB with an empty or nil selector matches nothing here; pods already
/// in a PDB's `disruptedPods` do not consume its budget again.
pub fn filter_pods_with_pdb_violation<'a>(
    pods: &[&'a Pod],
    pdbs: &[&PodDisruptionBudget],
) -> (Vec<&'a Pod>, Vec<&'a Pod>) {
    let mut allowed: Vec<i32> = pdbs.iter().map(|b| b.status.disruptions_allowed).collect();
    let (mut violating, mut non_violating) = (Vec::new(), Vec::new());
    for &p in pods {
        let mut violated = false;
        if !p.meta.labels.is_empty() {
            for (i, b) in pdbs.iter().enumerate() {
                if b.meta.namespace != p.meta.namespace
                    || b.selector.is_empty()
                    || !b.selector.matches(&p.meta.labels)
                    || b.status.disrupted_pods.contains_key(&p.meta.name)
                {
                    continue;
                }
                allowed[i] -= 1;
                if allowed[i] < 0 {
                    violated = true;
                }
            }
        }
        if violated {
            violating.push(p);
        } else {
            non_violating.push(p);
        }
    }
    (violating, non_violating)
}

/// What SelectVictimsOnNode found on one node.
#[derive(Debug)]
pub enum SelectOutcome<'a> {
    /// The pod fits once these pods (most important first) are gone; the count of those
    /// whose eviction violates a PDB.
    Victims(Vec<&'a Pod>, i64),
    /// No pod on the node has a lower priority (UnschedulableAndUnresolvable).
    NoVictims,
    /// The pod does not fit even with every lower-priority pod removed: the filter's
    /// reasons (Unschedulable).
    Unfit(Vec<String>),
}

/// Port of default_preemption.go SelectVictimsOnNode over the node's non-terminal pods
/// `on_node` with the node's sums `usage`: removes every pod of lower priority than
/// `priority`, checks the fit with `fits`, then reprieves as many as possible (PDB
/// violating ones first, each group most important first), keeping as victims those
/// without which the pod no longer fits.
pub fn select_victims<'a>(
    priority: i32,
    on_node: impl IntoIterator<Item = &'a Pod>,
    pdbs: &[&PodDisruptionBudget],
    usage: &NodeUsage,
    now: SimTime,
    fits: impl Fn(&NodeUsage) -> Result<(), Vec<String>>,
) -> SelectOutcome<'a> {
    let mut potential: Vec<&Pod> = on_node
        .into_iter()
        .filter(|p| p.spec.priority < priority)
        .collect();
    if potential.is_empty() {
        return SelectOutcome::NoVictims;
    }
    let mut u = usage.clone();
    for p in &potential {
        u.apply_pod(p, -1);
    }
    if let Err(reasons) = fits(&u) {
        return SelectOutcome::Unfit(reasons);
    }
    potential.sort_by(|a, b| importance_order(a, b, now));
    let (violating, non_violating) = filter_pods_with_pdb_violation(&potential, pdbs);
    let mut victims: Vec<&Pod> = Vec::new();
    let mut num_violating = 0;
    let mut reprieve = |p: &'a Pod, u: &mut NodeUsage| -> bool {
        u.apply_pod(p, 1);
        if fits(u).is_ok() {
            return true;
        }
        u.apply_pod(p, -1);
        victims.push(p);
        false
    };
    for &p in &violating {
        if !reprieve(p, &mut u) {
            num_violating += 1;
        }
    }
    for &p in &non_violating {
        reprieve(p, &mut u);
    }
    if !violating.is_empty() && !non_violating.is_empty() {
        victims.sort_by(|a, b| importance_order(a, b, now));
    }
    SelectOutcome::Victims(victims, num_violating)
}

/// A node where preemption makes room: its victims (most important first) as
/// `(priority, start time)` and its PDB violation count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateSummary {
    /// Victims, most important first: `(priority, start time or now)`.
    pub victims: Vec<(i32, SimTime)>,
    /// How many victims violate a PDB.
    pub num_pdb_violations: i64,
}

/// Port of preemption.go pickOneNodeForPreemption with the default score functions: the
/// fewest PDB violations, then the lowest highest-priority victim, the smallest sum of
/// priorities (each shifted by 2^31), the fewest victims, the latest earliest start time
/// among the highest-priority victims; remaining ties go to the first candidate. Returns
/// the index of the chosen candidate (`None` without candidates).
pub fn pick_one_node_for_preemption(candidates: &[CandidateSummary]) -> Option<usize> {
    if candidates.is_empty() {
        return None;
    }
    let scores: [&dyn Fn(&CandidateSummary) -> i64; 5] = [
        &|c| -c.num_pdb_violations,
        &|c| -i64::from(c.victims.first().map_or(0, |v| v.0)),
        &|c| {
            -c.victims
                .iter()
                .map(|v| i64::from(v.0) + (i64::from(i32::MAX) + 1))
                .sum::<i64>()
        },
        &|c| -(c.victims.len() as i64),
        &|c| earliest_start_of_highest(c).map_or(i64::MIN, |t| t.as_millis() as i64),
    ];
    let mut all: Vec<usize> = (0..candidates.len()).collect();
    for f in scores {
        let mut best = i64::MIN;
        let mut selected: Vec<usize> = Vec::new();
        for &i in &all {
            let s = f(&candidates[i]);
            if s > best {
                best = s;
                selected.clear();
            }
            if s == best {
                selected.push(i);
            }
        }
        if selected.len() == 1 {
            return Some(selected[0]);
        }
        all = selected;
    }
    all.first().copied()
}

/// Port of util.GetEarliestPodStartTime: the earliest start among the victims with the
/// highest priority.
fn earliest_start_of_highest(c: &CandidateSummary) -> Option<SimTime> {
    let (mut max_p, mut earliest) = *c.victims.first()?;
    for &(p, t) in &c.victims {
        if p == max_p {
            if t < earliest {
                earliest = t;
            }
        } else if p > max_p {
            max_p = p;
            earliest = t;
        }
    }
    Some(earliest)
}

/// Port of default_preemption.go PodEligibleToPreemptOthers: `Err` carries the reason.
/// `nominated_unresolvable` is the filter outcome of the pod's nominated node in this
/// cycle; `nominated_pods` the non-terminal pods on that node.
pub fn eligible_to_preempt<'a>(
    pod: &Pod,
    nominated_unresolvable: bool,
    nominated_pods: impl IntoIterator<Item = &'a Pod>,
) -> Result<(), &'static str> {
    if pod.spec.preemption_policy == Some(PreemptionPolicy::Never) {
        return Err("not eligible due to preemptionPolicy=Never.");
    }
    if pod.status.nominated_node_name.is_empty() || nominated_unresolvable {
        return Ok(());
    }
    let terminating = nominated_pods.into_iter().any(|p| {
        p.spec.priority < pod.spec.priority
            && p.meta.deletion.is_some()
            && p.status.disruption_target == REASON_PREEMPTION_BY_SCHEDULER
    });
    if terminating {
        return Err("not eligible due to a terminating pod on the nominated node.");
    }
    Ok(())
}

/// What the PostFilter does with the pod's `nominatedNodeName` (upstream NominatingInfo).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Nominating {
    /// Leave it as it is.
    Noop,
    /// Clear it.
    Clear,
    /// Set it to this node.
    Set(String),
}

/// The PostFilter's result: the nomination and the message appended to the FitError.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostFilterResult {
    /// The nomination.
    pub nominating: Nominating,
    /// `preemption: ...` (empty on success).
    pub message: String,
    /// The victims evicted for the nomination (`namespace/name`, most important first).
    pub victims: Vec<String>,
}

/// A candidate found by the dry run.
struct Candidate {
    node: u32,
    victims: Vec<u32>,
    summary: CandidateSummary,
}

impl Scheduler {
    /// The node's sums with the pods nominated to it that are at least as important as
    /// `pod` added (framework.go addGENominatedPods); `None` when there are none, so the
    /// common path (no nominations) costs one check. `base` replaces the store's sums.
    pub(super) fn usage_with_nominated(
        &self,
        pod: &Pod,
        store: &Store,
        node_id: u32,
        base: Option<&NodeUsage>,
    ) -> Option<NodeUsage> {
        if self.queue.nominator.is_empty() {
            return None;
        }
        let node = store.nodes.get(node_id)?;
        let nominated = self.queue.nominator.for_node(&node.meta.name);
        if nominated.is_empty() {
            return None;
        }
        let own = store
            .pods
            .id_of(&pod.meta.namespace, &pod.meta.name)
            .unwrap_or(u32::MAX);
        let mut out: Option<NodeUsage> = None;
        for &(id, priority) in nominated {
            if priority < pod.spec.priority || id == own {
                continue;
            }
            let Some(np) = store.pods.get(id) else {
                continue;
            };
            let u = out.get_or_insert_with(|| {
                base.cloned()
                    .unwrap_or_else(|| store.node_usage(node_id).clone())
            });
            u.apply_pod(np, 1);
        }
        out
    }

    /// Runs the filters on `node_id` with `usage` as the node's sums, nominated pods
    /// added (RunFilterPluginsWithNominatedPods: with only the resource and port sums
    /// seeing nominated pods, the second pass without them cannot change the outcome).
    fn fits_with(
        &self,
        pod: &Pod,
        store: &Store,
        node_id: u32,
        cycle: &CycleState,
        usage: &NodeUsage,
    ) -> Result<(), Vec<String>> {
        let lite = self.lite[node_id as usize];
        let has_affinity = !pod.spec.node_selector.is_empty() || pod.spec.node_affinity.is_some();
        let nominated = self.usage_with_nominated(pod, store, node_id, Some(usage));
        self.filter(
            pod,
            has_affinity,
            &lite,
            store,
            node_id,
            cycle,
            Some(nominated.as_ref().unwrap_or(usage)),
        )
    }

    /// The DefaultPreemption PostFilter (Evaluator.Preempt) for pod `pod_id`, which failed
    /// the filters on every node; `unresolvable[node id]` holds each node's failure code
    /// (`Some(true)`: UnschedulableAndUnresolvable). Evicts the chosen victims.
    pub(super) fn post_filter(
        &mut self,
        pod_id: u32,
        unresolvable: &[Option<bool>],
        cycle: &CycleState,
        ctx: &mut Ctx<'_>,
    ) -> PostFilterResult {
        let now = ctx.now;
        let store: &Store = ctx.store;
        let Some(pod) = store.pods.get(pod_id) else {
            return PostFilterResult {
                nominating: Nominating::Noop,
                message: String::new(),
                victims: Vec::new(),
            };
        };
        // 1) PodEligibleToPreemptOthers.
        let nnn = &pod.status.nominated_node_name;
        let nominated = if nnn.is_empty() {
            None
        } else {
            store.nodes.id_of("", nnn)
        };
        let nominated_unresolvable = nominated
            .and_then(|id| unresolvable.get(id as usize).copied().flatten())
            .unwrap_or(false);
        let on_nominated = nominated
            .into_iter()
            .flat_map(|id| store.pods_on_node(id))
            .filter_map(|id| store.pods.get(id))
            .filter(|p| !p.status.phase.is_terminal());
        if let Err(why) = eligible_to_preempt(pod, nominated_unresolvable, on_nominated) {
            return PostFilterResult {
                nominating: Nominating::Noop,
                message: format!("preemption: {why}"),
                victims: Vec::new(),
            };
        }
        // 2) findCandidates: nodes whose failure preemption may resolve, in node order.
        let potential: Vec<u32> = self
            .order
            .iter()
            .copied()
            .filter(|&id| unresolvable.get(id as usize).copied().flatten() == Some(false))
            .collect();
        let all_nodes = self.order.len();
        let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
        let mut explicit = 0usize;
        let mut candidates: Vec<Candidate> = Vec::new();
        let any_lower = self.queue.bound_priorities.any_below(pod.spec.priority);
        if !potential.is_empty() && !any_lower {
            explicit = potential.len();
            statuses.insert(MSG_NO_VICTIMS.to_string(), explicit);
        } else if !potential.is_empty() {
            let p = &self.config.profile;
            let len = potential.len() as i64;
            let offset = below(ctx.rng, len as u64) as usize;
            let want = num_candidates(
                len,
                p.min_candidate_nodes_percentage,
                p.min_candidate_nodes_absolute,
            ) as usize;
            let pdbs: Vec<&PodDisruptionBudget> = store.pdbs.iter().map(|(_, b)| b).collect();
            let (mut non_violating, mut violating): (Vec<Candidate>, Vec<Candidate>) =
                (Vec::new(), Vec::new());
            for i in 0..potential.len() {
                let node_id = potential[(offset + i) % potential.len()];
                let on_node = store
                    .pods_on_node(node_id)
                    .filter_map(|id| store.pods.get(id))
                    .filter(|p| !p.status.phase.is_terminal());
                let usage = store.node_usage(node_id);
                let outcome = select_victims(pod.spec.priority, on_node, &pdbs, usage, now, |u| {
                    self.fits_with(pod, store, node_id, cycle, u)
                });
                let reasons = match outcome {
                    SelectOutcome::Victims(v, _) if v.is_empty() => {
                        let name = store
                            .nodes
                            .get(node_id)
                            .map_or("", |n| n.meta.name.as_str());
                        vec![format!("expected at least one victim pod on node {name:?}")]
                    }
                    SelectOutcome::Victims(v, violations) => {
                        let c = Candidate {
                            node: node_id,
                            summary: CandidateSummary {
                                victims: v
                                    .iter()
                                    .map(|p| (p.spec.priority, start_time(p, now)))
                                    .collect(),
                                num_pdb_violations: violations,
                            },
                            victims: v
                                .iter()
                                .filter_map(|p| store.pods.id_of(&p.meta.namespace, &p.meta.name))
                                .collect(),
                        };
                        let list = if violations == 0 {
                            &mut non_violating
                        } else {
                            &mut violating
                        };
                        if list.len() < want {
                            list.push(c);
                        }
                        if !non_violating.is_empty()
                            && non_violating.len() + violating.len() >= want
                        {
                            break;
                        }
                        continue;
                    }
                    SelectOutcome::NoVictims => vec![MSG_NO_VICTIMS.to_string()],
                    SelectOutcome::Unfit(r) => r,
                };
                explicit += 1;
                for r in reasons {
                    *statuses.entry(r).or_default() += 1;
                }
            }
            candidates = non_violating;
            candidates.append(&mut violating);
        }
        if candidates.is_empty() {
            if all_nodes > explicit {
                *statuses.entry(MSG_NOT_HELPFUL.to_string()).or_default() += all_nodes - explicit;
            }
            return PostFilterResult {
                nominating: Nominating::Clear,
                message: format!("preemption: {}", fit_error_message(all_nodes, &statuses)),
                victims: Vec::new(),
            };
        }
        // 4) SelectCandidate.
        let summaries: Vec<CandidateSummary> =
            candidates.iter().map(|c| c.summary.clone()).collect();
        let best = if candidates.len() == 1 {
            0
        } else {
            pick_one_node_for_preemption(&summaries).unwrap_or(0)
        };
        let chosen = candidates.swap_remove(best);
        let node_name = store
            .nodes
            .get(chosen.node)
            .map(|n| n.meta.name.clone())
            .unwrap_or_default();
        let (priority, uid) = (pod.spec.priority, pod.meta.uid);
        let victims = chosen
            .victims
            .iter()
            .filter_map(|&id| store.pods.get(id))
            .map(|p| format!("{}/{}", p.meta.namespace, p.meta.name))
            .collect();
        // 5) prepareCandidate.
        self.prepare_candidate(&chosen.victims, priority, uid, &node_name, ctx);
        PostFilterResult {
            nominating: Nominating::Set(node_name),
            message: String::new(),
            victims,
        }
    }

    /// Port of preemption.go prepareCandidate: marks every victim not yet terminating
    /// with DisruptionTarget=True (PreemptionByScheduler), deletes it gracefully with its
    /// own grace period, records a `Preempted` event on it, then clears the nomination of
    /// lower-priority pods nominated to the node.
    fn prepare_candidate(
        &mut self,
        victims: &[u32],
        priority: i32,
        preemptor_uid: crate::api::Uid,
        node_name: &str,
        ctx: &mut Ctx<'_>,
    ) {
        let now = ctx.now;
        ctx.store.stats.preemptions += 1;
        ctx.store.stats.preemption_victims += victims.len() as u64;
        for &id in victims {
            let Some(v) = ctx.store.pods.get(id) else {
                continue;
            };
            if v.meta.deletion.is_some() {
                continue;
            }
            let (ns, name) = (v.meta.namespace.clone(), v.meta.name.clone());
            ctx.store.update_pod(id, now, |p| {
                p.status.disruption_target = REASON_PREEMPTION_BY_SCHEDULER.to_string();
            });
            ctx.store.delete_pod(id, now, None);
            ctx.store
                .record_event(now, Kind::Pod, &ns, &name, "Preempted", || {
                    format!("Preempted by pod {preemptor_uid} on node {node_name}")
                });
        }
        let lower: Vec<u32> = self
            .queue
            .nominator
            .for_node(node_name)
            .iter()
            .filter(|(_, p)| *p < priority)
            .map(|(id, _)| *id)
            .collect();
        for id in lower {
            self.queue.nominator.remove(id);
            ctx.store
                .update_pod(id, now, |p| p.status.nominated_node_name.clear());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::manifest::load_str;
    use crate::api::objects::{Object, PdbStatusFields};
    use crate::api::selector::LabelSelector;
    use crate::controllers::scheduler::SchedulerConfig;
    use crate::controllers::{Controller, Key, Outbox, WorkQueue};
    use crate::engine::RngStreams;

    fn pod(name: &str, priority: i32, cpu: &str, started: Option<u64>, labels: &str) -> Pod {
        let y = format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: default, labels: {{{labels}}}}}\nspec:\n  containers:\n  - name: c\n    image: i\n    resources: {{requests: {{cpu: '{cpu}'}}}}\n"
        );
        let Object::Pod(mut p) = load_str(&y, "t.yaml", 1).unwrap().objects.remove(0).object else {
            unreachable!()
        };
        p.spec.priority = priority;
        p.status.start_time = started.map(SimTime::from_secs);
        *p
    }

    fn usage(pods: &[&Pod]) -> NodeUsage {
        let mut u = NodeUsage::default();
        for p in pods {
            u.apply_pod(p, 1);
        }
        u
    }

    /// A 3-CPU node: the pod fits when the sums leave room for `want` millicores.
    fn fits(want: i64) -> impl Fn(&NodeUsage) -> Result<(), Vec<String>> {
        move |u| {
            if u.requested.cpu_milli + want <= 3000 {
                Ok(())
            } else {
                Err(vec!["Insufficient cpu".into()])
            }
        }
    }

    fn pdb(labels: &str, allowed: i32) -> PodDisruptionBudget {
        PodDisruptionBudget {
            meta: crate::api::ObjectMeta {
                name: "b".into(),
                namespace: "default".into(),
                ..Default::default()
            },
            min_available: None,
            max_unavailable: None,
            selector: LabelSelector::parse(labels).unwrap(),
            unhealthy_pod_eviction_policy: None,
            status: PdbStatusFields {
                disruptions_allowed: allowed,
                ..Default::default()
            },
        }
    }

    fn names(v: &[&Pod]) -> Vec<String> {
        v.iter().map(|p| p.meta.name.clone()).collect()
    }

    #[test]
    fn victims_without_pdbs_keep_the_most_important() {
        let (a, b, c) = (
            pod("p10", 10, "1", Some(1), "app: a"),
            pod("p20", 20, "1", Some(2), "app: b"),
            pod("p30", 30, "1", Some(0), "app: c"),
        );
        let u = usage(&[&a, &b, &c]);
        match select_victims(25, [&a, &b, &c], &[], &u, SimTime::ZERO, fits(1000)) {
            SelectOutcome::Victims(v, n) => {
                assert_eq!(names(&v), ["p10"]);
                assert_eq!(n, 0);
            }
            o => panic!("{o:?}"),
        }
        // Needing 2 CPU: both lower-priority pods go, most important first.
        match select_victims(25, [&a, &b, &c], &[], &u, SimTime::ZERO, fits(2000)) {
            SelectOutcome::Victims(v, _) => assert_eq!(names(&v), ["p20", "p10"]),
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn pdb_violating_victims_are_reprieved_first() {
        let (a, b, c) = (
            pod("p10", 10, "1", Some(1), "app: a"),
            pod("p20", 20, "1", Some(2), "app: b"),
            pod("p30", 30, "1", Some(0), "app: c"),
        );
        let u = usage(&[&a, &b, &c]);
        let budget = pdb("app=a", 0);
        match select_victims(25, [&a, &b, &c], &[&budget], &u, SimTime::ZERO, fits(1000)) {
            SelectOutcome::Victims(v, n) => {
                assert_eq!(names(&v), ["p20"], "p10 is protected and reprieved first");
                assert_eq!(n, 0);
            }
            o => panic!("{o:?}"),
        }
        // When both must go, the protected one counts as a violation.
        match select_victims(25, [&a, &b, &c], &[&budget], &u, SimTime::ZERO, fits(2000)) {
            SelectOutcome::Victims(v, n) => {
                assert_eq!(names(&v), ["p20", "p10"], "re-sorted by importance");
                assert_eq!(n, 1);
            }
            o => panic!("{o:?}"),
        }
        // A budget with room, or a pod already disrupted, does not violate.
        let roomy = pdb("app=a", 1);
        let (viol, _) = filter_pods_with_pdb_violation(&[&a], &[&roomy]);
        assert!(viol.is_empty());
        let mut seen = pdb("app=a", 0);
        seen.status
            .disrupted_pods
            .insert("p10".into(), SimTime::ZERO);
        let (viol, _) = filter_pods_with_pdb_violation(&[&a], &[&seen]);
        assert!(viol.is_empty());
        // An empty selector matches nothing here.
        let (viol, _) = filter_pods_with_pdb_violation(&[&a], &[&pdb("", 0)]);
        assert!(viol.is_empty());
    }

    #[test]
    fn equal_priority_victims_reprieve_the_older_pod() {
        let (old, young, high) = (
            pod("old", 10, "1", Some(5), ""),
            pod("young", 10, "1", Some(50), ""),
            pod("high", 30, "1", Some(0), ""),
        );
        let u = usage(&[&young, &old, &high]);
        match select_victims(
            25,
            [&young, &old, &high],
            &[],
            &u,
            SimTime::from_secs(100),
            fits(1000),
        ) {
            SelectOutcome::Victims(v, _) => assert_eq!(names(&v), ["young"]),
            o => panic!("{o:?}"),
        }
        // Unset start times count as now: a pod not started yet is the least important.
        let fresh = pod("fresh", 10, "1", None, "");
        let u = usage(&[&fresh, &old, &high]);
        match select_victims(
            25,
            [&fresh, &old, &high],
            &[],
            &u,
            SimTime::from_secs(100),
            fits(1000),
        ) {
            SelectOutcome::Victims(v, _) => assert_eq!(names(&v), ["fresh"]),
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn no_victims_and_unfit() {
        let (a, b) = (pod("a", 30, "1", None, ""), pod("b", 10, "1", None, ""));
        let u = usage(&[&a, &b]);
        assert!(matches!(
            select_victims(25, [&a], &[], &u, SimTime::ZERO, fits(1000)),
            SelectOutcome::NoVictims
        ));
        assert!(
            matches!(
                select_victims(10, [&a, &b], &[], &u, SimTime::ZERO, fits(1000)),
                SelectOutcome::NoVictims
            ),
            "equal priority is not lower"
        );
        match select_victims(25, [&a, &b], &[], &u, SimTime::ZERO, fits(2500)) {
            SelectOutcome::Unfit(r) => assert_eq!(r, ["Insufficient cpu"]),
            o => panic!("{o:?}"),
        }
    }

    fn cand(victims: &[(i32, u64)], pdb: i64) -> CandidateSummary {
        CandidateSummary {
            victims: victims
                .iter()
                .map(|&(p, t)| (p, SimTime::from_secs(t)))
                .collect(),
            num_pdb_violations: pdb,
        }
    }

    #[test]
    fn pick_one_node_criteria_in_order() {
        assert_eq!(pick_one_node_for_preemption(&[]), None);
        // 1. fewest PDB violations, even with more and higher victims.
        let c = [cand(&[(1, 0)], 1), cand(&[(5, 0), (4, 0)], 0)];
        assert_eq!(pick_one_node_for_preemption(&c), Some(1));
        // 2. lowest highest-priority victim.
        let c = [cand(&[(5, 0)], 0), cand(&[(3, 0), (3, 0), (3, 0)], 0)];
        assert_eq!(pick_one_node_for_preemption(&c), Some(1));
        // 3. smallest sum of priorities (negative priorities shifted by 2^31).
        let c = [cand(&[(3, 0), (2, 0)], 0), cand(&[(3, 0), (1, 0)], 0)];
        assert_eq!(pick_one_node_for_preemption(&c), Some(1));
        let c = [cand(&[(-5, 0), (-5, 0)], 0), cand(&[(-5, 0)], 0)];
        assert_eq!(pick_one_node_for_preemption(&c), Some(1));
        // 4. fewest victims (sums equal: 2 + 2 = 4 + shifts differ, so use equal sums).
        let c = [cand(&[(2, 0), (2, 0)], 0), cand(&[(2, 0), (2, 0)], 0)];
        assert_eq!(
            pick_one_node_for_preemption(&c),
            Some(0),
            "full tie: the first"
        );
        // 5. latest earliest start among the highest-priority victims.
        let c = [
            cand(&[(4, 10), (4, 30), (1, 99)], 0),
            cand(&[(4, 20), (4, 25), (1, 0)], 0),
        ];
        assert_eq!(pick_one_node_for_preemption(&c), Some(1));
    }

    #[test]
    fn candidate_count_and_offset_arithmetic() {
        assert_eq!(num_candidates(50, 10, 100), 50, "never more than the nodes");
        assert_eq!(num_candidates(1000, 10, 100), 100);
        assert_eq!(num_candidates(5000, 10, 100), 500);
        assert_eq!(num_candidates(1000, 40, 10), 400);
        assert_eq!(num_candidates(7, 0, 1), 1);
        // The offset is uniform in [0, n) from the scheduler's stream, reproducibly.
        let mut a = RngStreams::new(3).stream("sched");
        let mut b = RngStreams::new(3).stream("sched");
        for n in [1u64, 2, 7, 100] {
            let (x, y) = (below(&mut a, n), below(&mut b, n));
            assert_eq!(x, y);
            assert!(x < n);
        }
    }

    #[test]
    fn eligibility() {
        let mut p = pod("p", 100, "1", None, "");
        assert!(eligible_to_preempt(&p, false, []).is_ok());
        p.spec.preemption_policy = Some(PreemptionPolicy::Never);
        assert_eq!(
            eligible_to_preempt(&p, false, []),
            Err("not eligible due to preemptionPolicy=Never.")
        );
        p.spec.preemption_policy = None;
        p.status.nominated_node_name = "n1".into();
        let mut v = pod("v", 10, "1", None, "");
        v.meta.deletion = Some(SimTime(1));
        assert!(
            eligible_to_preempt(&p, false, [&v]).is_ok(),
            "terminating, but not by preemption"
        );
        v.status.disruption_target = REASON_PREEMPTION_BY_SCHEDULER.into();
        assert_eq!(
            eligible_to_preempt(&p, false, [&v]),
            Err("not eligible due to a terminating pod on the nominated node.")
        );
        assert!(
            eligible_to_preempt(&p, true, [&v]).is_ok(),
            "an unresolvable nominated node allows preempting elsewhere"
        );
    }

    #[test]
    fn reason_codes() {
        for r in [
            "node(s) were unschedulable",
            "node(s) didn't match Pod's node affinity/selector",
            "node(s) didn't match pod affinity rules",
            super::super::plugins::taint_toleration::ERR_REASON_UNTOLERATED_TAINT,
            super::super::plugins::pod_topology_spread::ERR_REASON_NODE_LABEL_NOT_MATCH,
        ] {
            assert!(reason_unresolvable(r), "{r}");
        }
        for r in [
            "Insufficient cpu",
            "Too many pods",
            super::super::ERR_REASON_NODE_PORTS,
            super::super::plugins::pod_topology_spread::ERR_REASON_CONSTRAINTS_NOT_MATCH,
            "node(s) didn't match pod anti-affinity rules",
            "node(s) didn't satisfy existing pods anti-affinity rules",
        ] {
            assert!(!reason_unresolvable(r), "{r}");
        }
    }

    /// Runs the scheduler over `yaml` (nodes, bound pods, one pending pod) and returns
    /// the store.
    fn schedule(yaml: &str) -> Store {
        let mut s = Store::new(RngStreams::new(1).stream("names"), true);
        for l in load_str(yaml, "t.yaml", 1).unwrap().objects {
            s.create(l.object, SimTime::ZERO).expect("created");
        }
        let mut sched = Scheduler::new(SchedulerConfig {
            tie_break_by_name: true,
            ..SchedulerConfig::default()
        });
        let mut rng = RngStreams::new(1).stream("sched");
        let (mut out, mut wq) = (Outbox::default(), WorkQueue::default());
        for c in s.take_changes() {
            sched.on_change(&c, &s, &mut wq);
        }
        let mut ctx = Ctx {
            now: SimTime::from_secs(10),
            store: &mut s,
            rng: &mut rng,
            out: &mut out,
        };
        sched.reconcile(Key::SINGLETON, &mut ctx);
        s
    }

    fn node(name: &str, extra: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Node\nmetadata: {{name: {name}}}\n{extra}status:\n  allocatable: {{cpu: '2', memory: 8Gi, pods: '110'}}\n---\n"
        )
    }

    fn bound(name: &str, node: &str, class: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: default}}\nspec:\n  nodeName: {node}\n  priorityClassName: {class}\n  containers:\n  - name: c\n    image: i\n    resources: {{requests: {{cpu: '2'}}}}\n---\n"
        )
    }

    const CLASSES: &str = "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: low}\nvalue: 10\n---\napiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: high}\nvalue: 100\n---\n";

    fn events(s: &mut Store, reason: &str) -> Vec<(String, String)> {
        s.take_journal()
            .into_iter()
            .filter(|j| j.reason == reason)
            .map(|j| (j.name, j.message))
            .collect()
    }

    #[test]
    fn unresolvable_nodes_are_skipped_and_victims_evicted() {
        // tainted has the cheapest victim but an untolerated taint: preemption cannot help
        // there, so the victim on plain goes.
        let y = CLASSES.to_string()
            + &node("plain", "")
            + &node(
                "tainted",
                "spec:\n  taints: [{key: k, value: v, effect: NoSchedule}]\n",
            )
            + &bound("victim", "plain", "low")
            + &bound("spared", "tainted", "low")
            + &bound("high", "", "high").replace("  nodeName: \n", "");
        let mut s = schedule(&y);
        let id = |s: &Store, n: &str| s.pods.id_of("default", n).unwrap();
        let v = s.pods.get(id(&s, "victim")).unwrap();
        assert!(v.meta.deletion.is_some());
        assert_eq!(v.status.disruption_target, REASON_PREEMPTION_BY_SCHEDULER);
        assert!(
            s.pods
                .get(id(&s, "spared"))
                .unwrap()
                .meta
                .deletion
                .is_none()
        );
        let h = s.pods.get(id(&s, "high")).unwrap();
        assert_eq!(h.status.nominated_node_name, "plain");
        assert!(h.spec.node_name.is_empty());
        let uid = h.meta.uid;
        assert_eq!((s.stats.preemptions, s.stats.preemption_victims), (1, 1));
        let j = s.take_journal();
        let preempted: Vec<_> = j.iter().filter(|e| e.reason == "Preempted").collect();
        assert_eq!(preempted.len(), 1);
        assert_eq!(preempted[0].name, "victim");
        assert_eq!(
            preempted[0].message,
            format!("Preempted by pod {uid} on node plain")
        );
        let failed: Vec<_> = j
            .iter()
            .filter(|e| e.reason == "FailedScheduling")
            .collect();
        assert_eq!(
            failed[0].message,
            "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint(s)."
        );
    }

    #[test]
    fn no_candidates_message_and_never_policy() {
        let y = CLASSES.to_string()
            + &node("n1", "")
            + &bound("peer", "n1", "high")
            + &bound("p", "", "high").replace("  nodeName: \n", "");
        let mut s = schedule(&y);
        assert_eq!(
            events(&mut s, "FailedScheduling"),
            [(
                "p".to_string(),
                "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.".to_string()
            )]
        );
        let never = "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: polite}\nvalue: 100\npreemptionPolicy: Never\n---\n";
        let y = CLASSES.to_string()
            + never
            + &node("n1", "")
            + &bound("low", "n1", "low")
            + &bound("p", "", "polite").replace("  nodeName: \n", "");
        let mut s = schedule(&y);
        assert_eq!(
            events(&mut s, "FailedScheduling")[0].1,
            "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never."
        );
        assert_eq!(s.stats.preemption_victims, 0);
        let y = CLASSES.to_string()
            + &node("t", "spec:\n  unschedulable: true\n")
            + &bound("p", "", "high").replace("  nodeName: \n", "");
        let mut s = schedule(&y);
        assert_eq!(
            events(&mut s, "FailedScheduling")[0].1,
            "0/1 nodes are available: 1 node(s) were unschedulable. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
        );
    }

    proptest::proptest! {
        /// Victims always have a strictly lower priority than the preemptor, and removing
        /// exactly them makes the pod fit.
        #[test]
        fn victims_are_strictly_lower_and_sufficient(
            prios in proptest::collection::vec(0i32..5, 1..8),
            cpus in proptest::collection::vec(1i64..4, 8),
            preemptor in 0i32..6,
            want in 1i64..3000,
            protected in 0usize..8,
        ) {
            let pods: Vec<Pod> = prios
                .iter()
                .enumerate()
                .map(|(i, &p)| {
                    let cpu = format!("{}m", cpus[i] * 100);
                    let l = if i == protected { "app: p" } else { "app: x" };
                    pod(&format!("p{i}"), p, &cpu, Some(i as u64), l)
                })
                .collect();
            let refs: Vec<&Pod> = pods.iter().collect();
            let u = usage(&refs);
            let budget = pdb("app=p", 0);
            let fit = move |u: &NodeUsage| {
                if u.requested.cpu_milli + want <= 3000 { Ok(()) } else { Err(vec![String::new()]) }
            };
            if let SelectOutcome::Victims(v, _) =
                select_victims(preemptor, refs.iter().copied(), &[&budget], &u, SimTime::ZERO, fit)
            {
                let mut after = u.clone();
                for p in &v {
                    proptest::prop_assert!(p.spec.priority < preemptor);
                    after.apply_pod(p, -1);
                }
                proptest::prop_assert!(fit(&after).is_ok());
            }
        }
    }
}
