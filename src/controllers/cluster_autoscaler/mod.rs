//! The cluster autoscaler: node groups grow when pods are unschedulable and shrink when
//! nodes are unneeded. A port of kubernetes/autoscaler's cluster-autoscaler main loop
//! (core/static_autoscaler.go `RunOnce`, every `--scan-interval`):
//!
//! - **scale-up** (core/scaleup/orchestrator/orchestrator.go `ScaleUp`): the pods the
//!   scheduler marked unschedulable (older than `--new-pod-scale-up-delay`) that still fit
//!   no existing or upcoming node (processors/podlistprocessor filter_out_schedulable.go)
//!   are grouped by controller (equivalence groups); every group below its max whose
//!   template node takes some of them (the scheduler's own Filter plugins,
//!   [`crate::controllers::scheduler::hypothetical`]) gets an expansion option sized by the
//!   [`estimator`]; the [`expander`] picks one; the count is capped at the group's max and
//!   the nodes register Ready after the group's provisioning delay;
//! - **scale-down** (core/scaledown/planner/planner.go, eligibility/eligibility.go,
//!   unneeded/nodes.go, actuation/actuator.go and drain.go): a group node whose
//!   [`utilization`] is below the threshold and whose pods can all move ([`drain_rules`],
//!   then placed on the other nodes with the scheduler's filters, cumulatively over the
//!   pass) is unneeded; after `--scale-down-unneeded-time`, outside the cooldowns and above
//!   the group's min it is tainted `ToBeDeletedByClusterAutoscaler`, its pods evicted through
//!   the Eviction API (retried every 10 s for up to `--max-pod-eviction-time`) and the Node
//!   deleted once they are gone; empty nodes go in bulk.
//!
//! Node-hours and cost are kept in the [`accounting`] ledger.

pub mod accounting;
pub mod config;
pub mod drain_rules;
pub mod estimator;
pub mod expander;
pub mod unneeded;
pub mod utilization;

use super::disruption::eviction::evict;
use super::disruption::rules::EvictionOutcome;
use super::kubelet::SharedBackend;
use super::scheduler::hypothetical::NodeFilter;
use super::scheduler::profile::Profile;
use super::{Controller, Ctx, Key, Next, WorkQueue};
use crate::api::objects::{ConditionStatus, Object};
use crate::api::store::NodeUsage;
use crate::api::taint::{Taint, TaintEffect};
use crate::api::{Change, Kind, Node, Op, Pod, Store};
use crate::engine::{SimDuration, SimTime};
use accounting::SharedLedger;
use config::{AutoscalerConfig, NODE_GROUP_LABEL, NodeGroup, TO_BE_DELETED_TAINT};
use drain_rules::{RemainingPdbs, SCALE_DOWN_DISABLED, pods_to_move};
use expander::{ExpansionOption, best_option};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use unneeded::Unneeded;

/// actuation/drain.go `DefaultEvictionRetryTime`.
pub const EVICTION_RETRY: SimDuration = SimDuration::from_secs(10);
/// `--max-graceful-termination-sec` (600) plus drain.go `DefaultPodEvictionHeadroom`
/// (30 s): how long evicted pods may take to go before the node is deleted anyway.
pub const MAX_POD_TERMINATION: SimDuration = SimDuration::from_secs(630);
/// `--unremovable-node-recheck-timeout` (5m): a node a simulation could not remove is not
/// simulated again for this long.
pub const UNREMOVABLE_RECHECK: SimDuration = SimDuration::from_secs(300);

/// planner.go `unneededNodesLimit`: with N = the deletion parallelism (here
/// `max_empty_bulk_delete`, upstream's `--max-scale-down-parallelism`), at most
/// `previous + 2N` unneeded nodes, and never more than `N * (unneeded time / scan
/// interval) + N`.
pub fn unneeded_nodes_limit(previous: usize, cfg: &AutoscalerConfig) -> usize {
    let n = cfg.max_empty_bulk_delete;
    let limit = previous + 2 * n;
    let interval = cfg.scan_interval.as_millis().max(1);
    let u = cfg.scale_down_unneeded_time.as_millis().max(interval);
    let upper = n * (u / interval) as usize + n;
    limit.min(upper)
}

/// How long an identical `NotTriggerScaleUp` is not repeated for a pod (client-go's
/// event correlator aggregates repeats; kubetwin simply holds them back).
pub const EVENT_REPEAT: SimDuration = SimDuration::from_secs(300);

#[derive(Debug, Clone)]
struct Upcoming {
    n: usize,
    requested: SimTime,
    ready_at: SimTime,
}

#[derive(Debug, Clone)]
struct Deletion {
    group: usize,
    name: String,
    /// When the taint went on.
    tainted: SimTime,
    /// When the next step is due.
    due: SimTime,
    empty: bool,
    /// Whether every eviction went through (then the node waits for its pods).
    evicted: Option<SimTime>,
    /// Pods whose eviction started (their `ScaleDown` event is recorded once).
    announced: BTreeSet<u32>,
}

/// The cluster autoscaler controller.
pub struct ClusterAutoscaler {
    cfg: AutoscalerConfig,
    groups: Vec<NodeGroup>,
    by_name: BTreeMap<String, usize>,
    /// Per scheduler profile: its name and resolved node filters.
    profiles: Vec<(String, NodeFilter)>,
    backend: SharedBackend,
    ledger: SharedLedger,
    started: bool,
    dirty: bool,
    next_scan: SimTime,
    timers: BTreeSet<SimTime>,
    members: Vec<BTreeSet<u32>>,
    next_index: Vec<usize>,
    upcoming: Vec<Vec<Upcoming>>,
    backoff_until: Vec<Option<SimTime>>,
    unneeded: Unneeded,
    deleting: BTreeMap<u32, Deletion>,
    last_scale_up: Option<SimTime>,
    last_failure: Option<SimTime>,
    last_delete: Option<SimTime>,
    not_triggered: BTreeMap<u32, (String, SimTime)>,
    /// Whether pods, nodes or budgets changed since the last scale-down simulation.
    changed: bool,
    /// That simulation's empty unneeded nodes.
    empty: BTreeSet<u32>,
    /// Nodes a simulation could not remove, until their recheck.
    unremovable: BTreeMap<u32, SimTime>,
    /// Pod id -> the node the last successful simulation moved it to.
    hints: BTreeMap<u32, u32>,
}

impl ClusterAutoscaler {
    /// An autoscaler for `groups` (their initial nodes are created by the runtime at time
    /// zero, named `<group>-1..initial`), scheduling with `profiles`, adding nodes to
    /// `backend` and accounting in `ledger`.
    pub fn new(
        cfg: AutoscalerConfig,
        groups: Vec<NodeGroup>,
        profiles: Vec<Profile>,
        backend: SharedBackend,
        ledger: SharedLedger,
    ) -> ClusterAutoscaler {
        let n = groups.len();
        let profiles = if profiles.is_empty() {
            vec![Profile::default()]
        } else {
            profiles
        };
        let profiles = profiles
            .iter()
            .map(|p| (p.scheduler_name.clone(), NodeFilter::new(p)))
            .collect();
        ClusterAutoscaler {
            by_name: groups
                .iter()
                .enumerate()
                .map(|(i, g)| (g.name.clone(), i))
                .collect(),
            next_index: groups.iter().map(|g| g.initial + 1).collect(),
            cfg,
            groups,
            profiles,
            backend,
            ledger,
            started: false,
            dirty: true,
            next_scan: SimTime::ZERO,
            timers: BTreeSet::new(),
            members: vec![BTreeSet::new(); n],
            upcoming: vec![Vec::new(); n],
            backoff_until: vec![None; n],
            unneeded: Unneeded::default(),
            deleting: BTreeMap::new(),
            last_scale_up: None,
            last_failure: None,
            last_delete: None,
            not_triggered: BTreeMap::new(),
            changed: true,
            empty: BTreeSet::new(),
            unremovable: BTreeMap::new(),
            hints: BTreeMap::new(),
        }
    }

    /// The ledger (shared with the runtime).
    pub fn ledger(&self) -> SharedLedger {
        self.ledger.clone()
    }

    fn group_of(&self, n: &Node) -> Option<usize> {
        n.meta
            .labels
            .get(NODE_GROUP_LABEL)
            .and_then(|g| self.by_name.get(g))
            .copied()
    }

    /// The node filters of the pod's scheduler profile (`None`: no profile serves it).
    fn profile(&self, pod: &Pod) -> Option<NodeFilter> {
        self.profiles
            .iter()
            .find(|(name, _)| *name == pod.spec.scheduler_name)
            .map(|(_, f)| *f)
    }

    fn timer(&mut self, ctx: &mut Ctx<'_>, at: SimTime) {
        if self.timers.insert(at) {
            ctx.requeue_at(at, Key::SINGLETON);
        }
    }

    fn account(&mut self, now: SimTime) {
        let mut l = self.ledger.borrow_mut();
        for g in 0..self.groups.len() {
            l.set(g, self.members[g].len(), self.upcoming[g].len(), now);
        }
        self.dirty = false;
    }

    /// Creates the upcoming nodes whose provisioning delay is over; gives up those past
    /// `--max-node-provision-time` (the group backs off).
    fn provision(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now;
        for g in 0..self.groups.len() {
            let (due, rest): (Vec<Upcoming>, Vec<Upcoming>) = std::mem::take(&mut self.upcoming[g])
                .into_iter()
                .partition(|u| {
                    u.ready_at <= now || u.requested + self.cfg.max_node_provision_time <= now
                });
            self.upcoming[g] = rest;
            let mut timed_out = false;
            for u in due {
                self.dirty = true;
                if u.ready_at > now || u.ready_at > u.requested + self.cfg.max_node_provision_time {
                    // clusterstate.go updateScaleRequests: a scale-up whose nodes did not
                    // register in time failed (one event per group); the group backs off.
                    self.backoff_until[g] = Some(now + self.cfg.initial_node_group_backoff);
                    if !timed_out {
                        timed_out = true;
                        let name = self.groups[g].name.clone();
                        let after = now.since(u.requested);
                        ctx.store.record_event(
                            now,
                            Kind::Node,
                            "",
                            &name,
                            "ScaleUpTimedOut",
                            || {
                                format!(
                                    "Nodes added to group {name} failed to register within {after}"
                                )
                            },
                        );
                    }
                    continue;
                }
                let mut node = self.groups[g].node(u.n);
                node.ready = ConditionStatus::True;
                node.ready_transition = now;
                let images: Vec<String> = node
                    .images
                    .iter()
                    .flat_map(|i| i.names.iter().cloned())
                    .collect();
                let name = node.meta.name.clone();
                self.backend.borrow_mut().add_node(&name, &images, now);
                if let Ok((_, id)) = ctx.store.create(Object::Node(Box::new(node)), now) {
                    self.members[g].insert(id);
                }
            }
        }
    }

    /// Usage of existing node `id` plus the pods `extra` assumed on it (borrowed from
    /// the store's aggregate when there are none).
    fn usage_with<'a>(
        store: &'a Store,
        id: u32,
        extra: impl IntoIterator<Item = &'a u32>,
    ) -> Cow<'a, NodeUsage> {
        let mut u = Cow::Borrowed(store.node_usage(id));
        for &p in extra {
            if let Some(p) = store.pods.get(p) {
                u.to_mut().apply_pod(p, 1);
            }
        }
        u
    }

    /// Whether `pod` could fit `node` holding `usage` with `extra` assumed on top, as a
    /// yes/no answer: the NodeResourcesFit sums first (cheap), the full filters only when
    /// they pass; the same answer as the filters alone, which fail on resources anyway.
    fn fits(
        filter: NodeFilter,
        pod: &Pod,
        node: &Node,
        store: &Store,
        id: u32,
        extra: &[&[u32]],
    ) -> bool {
        let base = store.node_usage(id);
        let (mut cpu, mut mem, mut pods) =
            (base.requested.cpu_milli, base.requested.memory, base.pods);
        for &q in extra.iter().flat_map(|e| e.iter()) {
            if let Some(q) = store.pods.get(q) {
                cpu += q.requests.cpu_milli;
                mem += q.requests.memory;
                pods += 1;
            }
        }
        let a = &node.allocatable;
        let r = &pod.requests;
        if pods >= a.pods
            || (r.cpu_milli > 0 && r.cpu_milli > a.cpu_milli - cpu)
            || (r.memory > 0 && r.memory > a.memory - mem)
        {
            return false;
        }
        let usage = Self::usage_with(store, id, extra.iter().flat_map(|e| e.iter()));
        filter.filter(pod, node, &usage, store).is_ok()
    }

    /// Nodes pods may go to: existing, Ready, not being deleted.
    fn destinations(&self, store: &Store) -> Vec<u32> {
        store
            .nodes
            .iter()
            .filter(|(id, n)| {
                n.ready == ConditionStatus::True
                    && !self.deleting.contains_key(id)
                    && !n.taints.iter().any(|t| t.key == TO_BE_DELETED_TAINT)
            })
            .map(|(id, _)| id)
            .collect()
    }

    fn run_once(&mut self, ctx: &mut Ctx<'_>) {
        if self.scale_up(ctx) {
            // static_autoscaler.go: no scale-down in a loop that scaled up.
            return;
        }
        if self.cfg.scale_down_enabled {
            self.scale_down(ctx);
        }
    }

    /// One scale-up attempt; whether it added nodes.
    fn scale_up(&mut self, ctx: &mut Ctx<'_>) -> bool {
        let now = ctx.now;
        let store: &Store = ctx.store;
        if store.pod_counts().unscheduled == 0 {
            return false;
        }
        let mut pending: Vec<u32> = store
            .pods
            .iter()
            .filter(|(_, p)| {
                p.spec.node_name.is_empty()
                    && p.meta.deletion.is_none()
                    && p.status.unschedulable
                    && !p.status.phase.is_terminal()
                    && p.meta.creation + self.cfg.new_pod_scale_up_delay <= now
            })
            .map(|(id, _)| id)
            .collect();
        if pending.is_empty() {
            return false;
        }
        // filter_out_schedulable.go: pods that fit existing or upcoming nodes need no
        // scale-up (higher priority first).
        pending.sort_by_key(|&id| {
            (
                std::cmp::Reverse(store.pods.get(id).map_or(0, |p| p.spec.priority)),
                id,
            )
        });
        let dests = self.destinations(store);
        let mut assumed: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
        let mut upcoming: Vec<(Node, NodeUsage)> = Vec::new();
        for (g, ups) in self.upcoming.iter().enumerate() {
            for u in ups {
                upcoming.push((self.groups[g].node(u.n), NodeUsage::default()));
            }
        }
        let mut unhelped = Vec::new();
        // Controllers one of whose pods fit nowhere: their later pods (the same spec)
        // fit nowhere either, as assumed pods only take room (filter_out_schedulable's
        // equivalence cache).
        let mut hopeless: BTreeSet<crate::api::Uid> = BTreeSet::new();
        for id in pending {
            let Some(pod) = store.pods.get(id) else {
                continue;
            };
            let Some(profile) = self.profile(pod) else {
                continue;
            };
            let owner = pod.meta.controller_ref().map(|o| o.uid);
            if owner.is_some_and(|o| hopeless.contains(&o)) {
                unhelped.push(id);
                continue;
            }
            let placed = dests.iter().copied().find(|&d| {
                let Some(node) = store.nodes.get(d) else {
                    return false;
                };
                let extra = assumed.get(&d).map_or(&[][..], Vec::as_slice);
                Self::fits(profile, pod, node, store, d, &[extra])
            });
            if let Some(d) = placed {
                assumed.entry(d).or_default().push(id);
                continue;
            }
            if let Some((_, u)) = upcoming
                .iter_mut()
                .find(|(n, u)| profile.filter(pod, n, u, store).is_ok())
            {
                u.apply_pod(pod, 1);
                continue;
            }
            hopeless.extend(owner);
            unhelped.push(id);
        }
        if unhelped.is_empty() {
            return false;
        }
        // equivalence/groups.go BuildPodGroups: pods of one controller are equivalent.
        let mut eq: Vec<Vec<u32>> = Vec::new();
        let mut by_owner: BTreeMap<crate::api::Uid, usize> = BTreeMap::new();
        for &id in &unhelped {
            let owner = store
                .pods
                .get(id)
                .and_then(|p| p.meta.controller_ref().map(|o| o.uid));
            match owner.and_then(|o| by_owner.get(&o).copied()) {
                Some(i) => eq[i].push(id),
                None => {
                    if let Some(o) = owner {
                        by_owner.insert(o, eq.len());
                    }
                    eq.push(vec![id]);
                }
            }
        }
        // Per equivalence group, the reasons (with counts over node groups) it was
        // not helped; per node group, the option.
        let mut reasons: Vec<BTreeMap<String, usize>> = vec![BTreeMap::new(); eq.len()];
        let mut options: Vec<ExpansionOption> = Vec::new();
        for (g, group) in self.groups.iter().enumerate() {
            let skip = if self.backoff_until[g].is_some_and(|t| t > now) {
                Some("in backoff after failed scale-up")
            } else if self.members[g].len() + self.upcoming[g].len() >= group.max {
                Some("max node group size reached")
            } else {
                None
            };
            if let Some(r) = skip {
                for m in &mut reasons {
                    *m.entry(r.to_string()).or_default() += 1;
                }
                continue;
            }
            let template = group.node(self.next_index[g]);
            let empty = NodeUsage::default();
            let mut fitting: Vec<Vec<(u32, &Pod)>> = Vec::new();
            for (i, pods) in eq.iter().enumerate() {
                let Some(ex) = store.pods.get(pods[0]) else {
                    continue;
                };
                let Some(profile) = self.profile(ex) else {
                    continue;
                };
                match profile.filter(ex, &template, &empty, store) {
                    Ok(()) => fitting.push(
                        pods.iter()
                            .filter_map(|&id| store.pods.get(id).map(|p| (id, p)))
                            .collect(),
                    ),
                    Err(rs) => {
                        *reasons[i].entry(rs.join(", ")).or_default() += 1;
                    }
                }
            }
            if fitting.is_empty() {
                continue;
            }
            let profiles = &self.profiles;
            let template = &template;
            let est = estimator::estimate(
                &fitting,
                template,
                self.cfg.max_nodes_per_scale_up,
                |p, u| {
                    profiles
                        .iter()
                        .find(|(name, _)| *name == p.spec.scheduler_name)
                        .is_some_and(|(_, f)| f.filter(p, template, u, store).is_ok())
                },
            );
            if est.node_count == 0 || est.scheduled.is_empty() {
                continue;
            }
            let (mut cpu, mut mem) = (0, 0);
            for &id in &est.scheduled {
                if let Some(p) = store.pods.get(id) {
                    for c in &p.spec.containers {
                        cpu += c.requests.cpu_milli;
                        mem += c.requests.memory;
                    }
                }
            }
            options.push(ExpansionOption {
                group: g,
                node_count: est.node_count,
                pods: est.scheduled,
                requested_cpu_milli: cpu,
                requested_memory: mem,
                node_cpu_milli: template.capacity.cpu_milli,
                node_memory: template.capacity.memory,
                priority: group.priority,
            });
        }
        let best = best_option(self.cfg.expander, &options, ctx.rng).map(|i| options[i].clone());
        let Some(best) = best else {
            // eventing_scale_up_processor.go: NotTriggerScaleUp with the aggregated
            // reasons.
            for (i, pods) in eq.iter().enumerate() {
                let msg = format!(
                    "pod didn't trigger scale-up: {}",
                    reasons[i]
                        .iter()
                        .map(|(r, n)| format!("{n} {r}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                for &id in pods {
                    self.not_triggered_event(ctx, id, &msg);
                }
            }
            return false;
        };
        let g = best.group;
        let current = self.members[g].len() + self.upcoming[g].len();
        let max = self.groups[g].max;
        let add = best.node_count.min(max - current);
        let delay = self.groups[g].provisioning_delay;
        for _ in 0..add {
            let n = self.next_index[g];
            self.next_index[g] += 1;
            self.upcoming[g].push(Upcoming {
                n,
                requested: now,
                ready_at: now + delay,
            });
        }
        let at = (now + delay).min(now + self.cfg.max_node_provision_time);
        self.timer(ctx, at);
        self.ledger.borrow_mut().groups[g].scale_ups += add as u64;
        self.dirty = true;
        self.last_scale_up = Some(now);
        let info = format!(
            "[{{{} {}->{} (max: {})}}]",
            self.groups[g].name,
            current,
            current + add,
            max
        );
        for &id in &best.pods {
            if let Some(p) = ctx.store.pods.get(id) {
                let (ns, name) = (p.meta.namespace.clone(), p.meta.name.clone());
                ctx.store
                    .record_event(now, Kind::Pod, &ns, &name, "TriggeredScaleUp", || {
                        format!("pod triggered scale-up: {info}")
                    });
            }
            self.not_triggered.remove(&id);
        }
        true
    }

    fn not_triggered_event(&mut self, ctx: &mut Ctx<'_>, id: u32, msg: &str) {
        let now = ctx.now;
        if let Some((m, t)) = self.not_triggered.get(&id)
            && m == msg
            && *t + EVENT_REPEAT > now
        {
            return;
        }
        self.not_triggered.insert(id, (msg.to_string(), now));
        if let Some(p) = ctx.store.pods.get(id) {
            let (ns, name) = (p.meta.namespace.clone(), p.meta.name.clone());
            let msg = msg.to_string();
            ctx.store
                .record_event(now, Kind::Pod, &ns, &name, "NotTriggerScaleUp", || msg);
        }
    }

    /// Finds the unneeded nodes and starts deleting those unneeded long enough.
    fn scale_down(&mut self, ctx: &mut Ctx<'_>) {
        // Nothing changed since the last simulation: the same nodes are unneeded (an
        // idle cluster costs no simulation per scan).
        let now = ctx.now;
        if self.changed || self.unremovable.values().any(|t| *t <= now) {
            self.changed = false;
            self.find_unneeded(ctx);
        }
        self.pick_and_delete(ctx);
    }

    /// planner.go UpdateClusterState / categorizeNodes: the unneeded nodes, and which of
    /// them are empty. Eligibility (eligibility.go) comes first, on the cluster as it
    /// is: group nodes not being deleted, not annotated scale-down-disabled, not found
    /// unremovable by a simulation in the last `--unremovable-node-recheck-timeout`, and
    /// underutilized. Then each, previously unneeded ones first, is simulated away
    /// (removal.go SimulateNodeRemoval): its pods (with those earlier simulations moved
    /// onto it) must pass the drain rules and find a place, trying the node the last
    /// simulation chose first (the hinting simulator), else the first node that fits.
    /// A successful simulation persists: its pods stay on their new nodes, the node is no
    /// destination any more, and the PDB budgets are used. At most
    /// [`unneeded_nodes_limit`] nodes are found.
    fn find_unneeded(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now;
        let store: &Store = ctx.store;
        self.unremovable.retain(|_, until| *until > now);
        let mut candidates: Vec<u32> = Vec::new();
        for m in &self.members {
            for &id in m {
                let Some(n) = store.nodes.get(id) else {
                    continue;
                };
                if self.deleting.contains_key(&id)
                    || n.taints.iter().any(|t| t.key == TO_BE_DELETED_TAINT)
                    || n.meta
                        .annotations
                        .get(SCALE_DOWN_DISABLED)
                        .map(String::as_str)
                        == Some("true")
                    || self.unremovable.contains_key(&id)
                {
                    continue;
                }
                let Some(u) = utilization::calculate(n, store.node_usage(id)) else {
                    continue;
                };
                if !utilization::underutilized(&u, self.cfg.scale_down_utilization_threshold) {
                    continue;
                }
                candidates.push(id);
            }
        }
        // processors/scaledowncandidates: previous candidates first.
        candidates.sort_by_key(|&id| (self.unneeded.since(id).is_none(), id));
        let limit = unneeded_nodes_limit(self.unneeded.nodes().len(), &self.cfg);
        let mut pdbs = RemainingPdbs::new(store);
        let dests = self.destinations(store);
        let mut removed: BTreeSet<u32> = BTreeSet::new();
        let mut assumed: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
        let mut unneeded: Vec<u32> = Vec::new();
        let mut empty: BTreeSet<u32> = BTreeSet::new();
        let mut hints: BTreeMap<u32, u32> = BTreeMap::new();
        let recheck = now + UNREMOVABLE_RECHECK;
        for id in candidates {
            if unneeded.len() >= limit {
                break;
            }
            let moved_here = assumed.remove(&id).unwrap_or_default();
            let Ok((pods, budgets)) = pods_to_move(store, id, &moved_here, &pdbs, now) else {
                self.unremovable.insert(id, recheck);
                if !moved_here.is_empty() {
                    assumed.insert(id, moved_here);
                }
                continue;
            };
            let mut placed: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
            let mut new_hints: Vec<(u32, u32)> = Vec::new();
            let mut all = true;
            for &p in &pods {
                let Some(pod) = store.pods.get(p) else {
                    continue;
                };
                let Some(profile) = self.profile(pod) else {
                    all = false;
                    break;
                };
                let ok = |d: u32| {
                    if d == id || removed.contains(&d) {
                        return false;
                    }
                    let Some(dn) = store.nodes.get(d) else {
                        return false;
                    };
                    let a = assumed.get(&d).map_or(&[][..], Vec::as_slice);
                    let q = placed.get(&d).map_or(&[][..], Vec::as_slice);
                    Self::fits(profile, pod, dn, store, d, &[a, q])
                };
                let hinted = self
                    .hints
                    .get(&p)
                    .copied()
                    .filter(|&d| dests.contains(&d) && ok(d));
                match hinted.or_else(|| dests.iter().copied().find(|&d| ok(d))) {
                    Some(d) => {
                        placed.entry(d).or_default().push(p);
                        new_hints.push((p, d));
                    }
                    None => {
                        all = false;
                        break;
                    }
                }
            }
            if !all {
                // NoPlaceToMovePods: not rechecked for a while; the snapshot reverts.
                self.unremovable.insert(id, recheck);
                if !moved_here.is_empty() {
                    assumed.insert(id, moved_here);
                }
                continue;
            }
            for (d, ps) in placed {
                assumed.entry(d).or_default().extend(ps);
            }
            hints.extend(new_hints);
            removed.insert(id);
            pdbs.remove(&budgets);
            if pods.is_empty() {
                empty.insert(id);
            }
            unneeded.push(id);
        }
        self.hints = hints;
        self.unneeded.update(&unneeded, now);
        self.empty = empty;
    }

    /// planner.go NodesToDelete and actuator.go StartDeletion, outside the cooldowns.
    fn pick_and_delete(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now;
        let store: &Store = ctx.store;
        if unneeded::in_cooldown(
            now,
            self.last_scale_up,
            self.last_failure,
            self.last_delete,
            &self.cfg,
        ) {
            return;
        }
        // NodesToDelete with the deletion budgets (actuation/budgets.go).
        let in_progress = self.deleting.len();
        let draining = self.deleting.values().filter(|d| !d.empty).count();
        let mut empty_budget = self.cfg.max_empty_bulk_delete.saturating_sub(in_progress);
        let mut drain_budget = self
            .cfg
            .max_drain_parallelism
            .saturating_sub(draining)
            .min(empty_budget);
        let mut picked: Vec<(u32, usize, bool)> = Vec::new();
        let mut picked_per_group = vec![0usize; self.groups.len()];
        for id in self.unneeded.nodes() {
            let Some(node) = store.nodes.get(id) else {
                continue;
            };
            let Some(g) = self.group_of(node) else {
                continue;
            };
            let Some(since) = self.unneeded.since(id) else {
                continue;
            };
            let is_empty = self.empty.contains(&id);
            if (is_empty && empty_budget == 0) || (!is_empty && drain_budget == 0) {
                continue;
            }
            let deleting =
                self.deleting.values().filter(|d| d.group == g).count() + picked_per_group[g];
            if unneeded::removable(
                since,
                now,
                node.ready == ConditionStatus::True,
                self.cfg.scale_down_unneeded_time,
                self.cfg.scale_down_unready_time,
                self.members[g].len() + self.upcoming[g].len(),
                deleting,
                self.groups[g].min,
            )
            .is_err()
            {
                continue;
            }
            picked_per_group[g] += 1;
            if is_empty {
                empty_budget -= 1;
                drain_budget = drain_budget.min(empty_budget);
            } else {
                drain_budget -= 1;
                empty_budget -= 1;
            }
            picked.push((id, g, is_empty));
        }
        for (id, g, is_empty) in picked {
            self.start_deletion(ctx, id, g, is_empty);
        }
    }

    fn start_deletion(&mut self, ctx: &mut Ctx<'_>, id: u32, g: usize, empty: bool) {
        let now = ctx.now;
        let Some(name) = ctx.store.nodes.get(id).map(|n| n.meta.name.clone()) else {
            return;
        };
        // utils/taints MarkToBeDeleted, cordoning too (`--cordon-node-before-terminating`
        // defaults to true).
        ctx.store.update_node(id, now, |n| {
            n.taints.push(Taint {
                key: TO_BE_DELETED_TAINT.into(),
                value: now.as_secs().to_string(),
                effect: TaintEffect::NoSchedule,
            });
            n.unschedulable = true;
        });
        ctx.store
            .record_event(now, Kind::Node, "", &name, "ScaleDown", || {
                "marked the node as toBeDeleted/unschedulable".into()
            });
        let due = now + self.cfg.node_delete_delay_after_taint;
        self.deleting.insert(
            id,
            Deletion {
                group: g,
                name,
                tainted: now,
                due,
                empty,
                evicted: None,
                announced: BTreeSet::new(),
            },
        );
        self.unneeded.remove(id);
        self.last_delete = Some(now);
        self.timer(ctx, due);
    }

    /// Advances the deletions in progress.
    fn actuate(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now;
        let ids: Vec<u32> = self
            .deleting
            .iter()
            .filter(|(_, d)| d.due <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            let Some(d) = self.deleting.get(&id).cloned() else {
                continue;
            };
            let live: Vec<u32> = ctx
                .store
                .pods_on_node(id)
                .filter(|&p| {
                    ctx.store
                        .pods
                        .get(p)
                        .is_some_and(|p| !p.status.phase.is_terminal())
                })
                .collect();
            if d.evicted.is_none() {
                let mut refused = 0;
                for &p in &live {
                    let Some(pod) = ctx.store.pods.get(p) else {
                        continue;
                    };
                    if pod.meta.deletion.is_some() {
                        continue;
                    }
                    // actuation/drain.go evictPod: the event first, then the attempts.
                    let (ns, pname) = (pod.meta.namespace.clone(), pod.meta.name.clone());
                    if self
                        .deleting
                        .get_mut(&id)
                        .is_some_and(|e| e.announced.insert(p))
                    {
                        ctx.store
                            .record_event(now, Kind::Pod, &ns, &pname, "ScaleDown", || {
                                "deleting pod for node scale down".into()
                            });
                    }
                    if evict(ctx.store, p, now) != EvictionOutcome::Evicted {
                        refused += 1;
                    }
                }
                if refused > 0 {
                    let start = d.tainted + self.cfg.node_delete_delay_after_taint;
                    if now >= start + self.cfg.max_pod_eviction_time {
                        let why = format!(
                            "failed to evict pods from {} within {}",
                            d.name, self.cfg.max_pod_eviction_time
                        );
                        self.fail_deletion(ctx, id, &d, &why);
                        continue;
                    }
                    let due = now + EVICTION_RETRY;
                    if let Some(e) = self.deleting.get_mut(&id) {
                        e.due = due;
                    }
                    self.timer(ctx, due);
                    continue;
                }
                if let Some(e) = self.deleting.get_mut(&id) {
                    e.evicted = Some(now);
                }
            }
            let evicted = self
                .deleting
                .get(&id)
                .and_then(|e| e.evicted)
                .unwrap_or(now);
            let still = ctx.store.pods_on_node(id).any(|p| {
                ctx.store
                    .pods
                    .get(p)
                    .is_some_and(|p| !p.status.phase.is_terminal())
            });
            if still && now < evicted + MAX_POD_TERMINATION {
                // Woken by the pods' changes; a timer bounds the wait.
                self.timer(ctx, evicted + MAX_POD_TERMINATION);
                continue;
            }
            self.delete_node(ctx, id, &d);
        }
    }

    fn fail_deletion(&mut self, ctx: &mut Ctx<'_>, id: u32, d: &Deletion, why: &str) {
        let now = ctx.now;
        // taints.CleanToBeDeleted: the taint and the cordon go.
        ctx.store.update_node(id, now, |n| {
            n.taints.retain(|t| t.key != TO_BE_DELETED_TAINT);
            n.unschedulable = false;
        });
        let msg = format!("failed to drain and delete node: {why}");
        ctx.store
            .record_event(now, Kind::Node, "", &d.name, "ScaleDownFailed", || msg);
        self.deleting.remove(&id);
        self.last_failure = Some(now);
    }

    fn delete_node(&mut self, ctx: &mut Ctx<'_>, id: u32, d: &Deletion) {
        let now = ctx.now;
        self.backend.borrow_mut().remove_node(&d.name);
        ctx.store.delete_object(Kind::Node, id, now);
        // actuation/delete_in_batch.go: the autoscaler's own events on success.
        let name = d.name.clone();
        if d.empty {
            ctx.store
                .record_event(now, Kind::Node, "", &d.name, "ScaleDownEmpty", || {
                    format!("Scale-down: empty node {name} removed")
                });
        } else {
            ctx.store
                .record_event(now, Kind::Node, "", &d.name, "ScaleDown", || {
                    format!("Scale-down: node {name} removed with drain")
                });
        }
        self.deleting.remove(&id);
        self.members[d.group].remove(&id);
        self.ledger.borrow_mut().groups[d.group].scale_downs += 1;
        self.dirty = true;
    }
}

impl Controller for ClusterAutoscaler {
    fn name(&self) -> &'static str {
        "cluster-autoscaler"
    }

    fn on_change(&mut self, change: &Change, store: &Store, queue: &mut WorkQueue) {
        if self.groups.is_empty() {
            return;
        }
        if matches!(
            change.kind,
            Kind::Pod | Kind::Node | Kind::PodDisruptionBudget
        ) {
            self.changed = true;
        }
        if !self.started {
            self.started = true;
            queue.add(Key::SINGLETON);
        }
        match (change.kind, change.op) {
            (Kind::Node, Op::Added) => {
                if let Some(g) = store.nodes.get(change.id).and_then(|n| self.group_of(n))
                    && self.members[g].insert(change.id)
                {
                    self.dirty = true;
                    queue.add(Key::SINGLETON);
                }
            }
            (Kind::Node, Op::Deleted) => {
                // A node deleted by someone else (the timeline's deleteNode).
                for g in 0..self.members.len() {
                    if self.members[g].remove(&change.id) {
                        self.dirty = true;
                        self.deleting.remove(&change.id);
                        self.unneeded.remove(change.id);
                        queue.add(Key::SINGLETON);
                    }
                }
            }
            (Kind::Pod, op)
                if !self.deleting.is_empty()
                    && (op == Op::Deleted
                        || store
                            .pod_node(change.id)
                            .is_some_and(|n| self.deleting.contains_key(&n))) =>
            {
                queue.add(Key::SINGLETON);
            }
            _ => {}
        }
    }

    fn reconcile(&mut self, _key: Key, ctx: &mut Ctx<'_>) -> Next {
        let now = ctx.now;
        self.timers.retain(|t| *t > now);
        if self.dirty {
            self.account(now);
        }
        self.provision(ctx);
        self.actuate(ctx);
        if now >= self.next_scan {
            self.run_once(ctx);
            self.next_scan = now + self.cfg.scan_interval;
            let at = self.next_scan;
            self.timer(ctx, at);
        }
        if self.dirty {
            self.account(now);
        }
        Next::Done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unneeded_limit_grows_by_two_parallelisms_up_to_the_bound() {
        let cfg = AutoscalerConfig::default();
        // N = 10: 20 more than before, at most 10 * (600 s / 10 s) + 10 = 610.
        assert_eq!(unneeded_nodes_limit(0, &cfg), 20);
        assert_eq!(unneeded_nodes_limit(5, &cfg), 25);
        assert_eq!(unneeded_nodes_limit(1000, &cfg), 610);
        let short = AutoscalerConfig {
            scale_down_unneeded_time: SimDuration::from_secs(1),
            ..AutoscalerConfig::default()
        };
        // The unneeded time is at least one loop: 10 * 1 + 10.
        assert_eq!(unneeded_nodes_limit(100, &short), 20);
    }
}
