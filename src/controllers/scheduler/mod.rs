//! The scheduler (first version): the default profile's filters for what the object
//! model carries today (NodeUnschedulable, TaintToleration, NodeAffinity,
//! NodeResourcesFit) and the NodeResourcesFit LeastAllocated score, with upstream's
//! node sampling (pkg/scheduler/schedule_one.go `numFeasibleNodesToFind`, the rotating
//! `nextStartNodeIndex`, the zone-interleaved node order of
//! pkg/scheduler/backend/cache/node_tree.go) and `selectHost`'s reservoir-sampled tie
//! break. The scheduling [`queue`] orders pods by priority then arrival and backs off
//! unschedulable pods. Per-node sums come from the store's incremental aggregates, so a
//! pod costs O(nodes examined).

pub mod feasible;
pub mod framework;
pub mod normalize;
pub mod plugins;
pub mod queue;

use super::{Controller, Ctx, Key, Next, WorkQueue};
use crate::api::affinity::required_node_affinity_matches;
use crate::api::objects::Object;
use crate::api::store::non_zero_requests;
use crate::api::taint::{Taint, TaintEffect};
use crate::api::{Change, Kind, Node, Op, Pod, Store};
use crate::engine::SimDuration;
use crate::engine::rng::below;
use feasible::num_feasible_nodes_to_find;
use plugins::noderesources::least_allocated_score;
use plugins::taint_toleration::{
    ERR_REASON_UNTOLERATED_TAINT, find_untolerated_do_not_schedule_taint,
};
use queue::SchedulingQueue;
use std::collections::BTreeMap;

/// The default scheduler's name.
pub const DEFAULT_SCHEDULER: &str = "default-scheduler";
/// Scheduler settings.
#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    /// `percentageOfNodesToScore` (0 = adaptive).
    pub percentage_of_nodes_to_score: usize,
    /// Break ties by node name instead of at random (for CI baselines).
    pub tie_break_by_name: bool,
    /// Scheduler names this scheduler serves.
    pub scheduler_names: Vec<String>,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            percentage_of_nodes_to_score: 0,
            tie_break_by_name: false,
            scheduler_names: vec![DEFAULT_SCHEDULER.to_string()],
        }
    }
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

/// The scheduler controller.
pub struct Scheduler {
    lite: Vec<NodeLite>,
    config: SchedulerConfig,
    queue: SchedulingQueue,
    /// Node ids in upstream's zone-interleaved order.
    order: Vec<u32>,
    order_dirty: bool,
    next_start: usize,
    /// Statistics.
    pub stats: SchedulerStats,
}

impl Scheduler {
    /// A scheduler with `config`.
    pub fn new(config: SchedulerConfig) -> Scheduler {
        Scheduler {
            lite: Vec::new(),
            config,
            queue: SchedulingQueue::default(),
            order: Vec::new(),
            order_dirty: true,
            next_start: 0,
            stats: SchedulerStats::default(),
        }
    }

    fn serves(&self, p: &Pod) -> bool {
        self.config.scheduler_names.contains(&p.spec.scheduler_name)
    }

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
        if self.next_start >= self.order.len() {
            self.next_start = 0;
        }
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
        let n = self.order.len();
        let to_find =
            num_feasible_nodes_to_find(self.config.percentage_of_nodes_to_score as i64, n as i64)
                as usize;
        let (nz_cpu, nz_mem) = non_zero_requests(&pod.spec);
        let pod_has_affinity =
            !pod.spec.node_selector.is_empty() || pod.spec.node_affinity.is_some();
        let mut failures: BTreeMap<String, usize> = BTreeMap::new();
        let mut feasible: Vec<(u32, i64)> = Vec::with_capacity(to_find.min(n));
        let mut processed = 0;
        for k in 0..n {
            if feasible.len() >= to_find {
                break;
            }
            processed += 1;
            let node_id = self.order[(self.next_start + k) % n];
            let lite = self.lite[node_id as usize];
            if !lite.exists {
                continue;
            }
            match filter(pod, pod_has_affinity, &lite, ctx.store, node_id) {
                Ok(()) => {
                    let u = ctx.store.node_usage(node_id);
                    let cpu = least_allocated_score(u.non_zero_cpu_milli + nz_cpu, lite.cpu);
                    let mem = least_allocated_score(u.non_zero_memory + nz_mem, lite.memory);
                    feasible.push((node_id, (cpu + mem) / 2));
                }
                Err(reasons) => {
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
        if feasible.is_empty() {
            self.stats.failed_attempts += 1;
            ctx.store.stats.failed_scheduling_attempts += 1;
            let msg = fit_error_message(n, &failures);
            ctx.store
                .update_pod(pod_id, now, |p| p.status.unschedulable = true);
            ctx.store
                .record_event(now, Kind::Pod, &ns, &name, "FailedScheduling", || msg);
            return false;
        }
        let chosen = self.select_host(&feasible, ctx);
        let node_name = ctx
            .store
            .nodes
            .get(chosen)
            .map(|n| n.meta.name.clone())
            .unwrap_or_default();
        ctx.store.update_pod(pod_id, now, |p| {
            p.spec.node_name = node_name.clone();
            p.status.scheduled_at = Some(now);
            p.status.unschedulable = false;
        });
        self.stats.scheduled += 1;
        ctx.store
            .record_event(now, Kind::Pod, &ns, &name, "Scheduled", || {
                format!("Successfully assigned {ns}/{name} to {node_name}")
            });
        true
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

/// Runs the filters in the default profile's order and returns the first failing
/// plugin's reasons (framework RunFilterPlugins stops at the first failure).
fn filter(
    pod: &Pod,
    pod_has_affinity: bool,
    lite: &NodeLite,
    store: &Store,
    node_id: u32,
) -> Result<(), Vec<String>> {
    // NodeUnschedulable (plugins/nodeunschedulable): tolerating the unschedulable taint admits.
    if lite.unschedulable {
        let t = Taint {
            key: "node.kubernetes.io/unschedulable".into(),
            value: String::new(),
            effect: TaintEffect::NoSchedule,
        };
        if !pod
            .spec
            .tolerations
            .iter()
            .any(|tol| tol.tolerates(&t, false))
        {
            return Err(vec!["node(s) were unschedulable".into()]);
        }
    }
    if lite.has_taints || pod_has_affinity {
        let Some(node) = store.nodes.get(node_id) else {
            return Err(vec!["node(s) not found".into()]);
        };
        // TaintToleration (plugins/tainttoleration): NoSchedule and NoExecute taints.
        if lite.has_taints
            && find_untolerated_do_not_schedule_taint(&node.taints, &pod.spec.tolerations, false)
                .is_some()
        {
            return Err(vec![ERR_REASON_UNTOLERATED_TAINT.into()]);
        }
        // NodeAffinity (plugins/nodeaffinity): nodeSelector and required terms.
        if pod_has_affinity
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
    }
    // NodeResourcesFit (plugins/noderesources/fit.go fitsRequest): a fast check first,
    // the reasons only for nodes that fail.
    let u = store.node_usage(node_id);
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
        match (change.kind, change.op) {
            (Kind::Node, op) => {
                if op != Op::Modified {
                    self.order_dirty = true;
                } else if let (Some(l), Some(n)) = (
                    self.lite.get_mut(change.id as usize),
                    store.nodes.get(change.id),
                ) {
                    *l = lite_of(n);
                }
                if op != Op::Deleted {
                    // A node added or changed can make unschedulable pods schedulable.
                    self.queue.move_all_to_active_or_backoff();
                    queue.add(Key::SINGLETON);
                }
            }
            (Kind::Pod, Op::Deleted) => {
                self.queue.remove(change.id);
                if let Some(Object::Pod(p)) = change.old.as_deref()
                    && !p.spec.node_name.is_empty()
                {
                    self.queue.move_all_to_active_or_backoff();
                    queue.add(Key::SINGLETON);
                }
            }
            (Kind::Pod, _) => {
                let Some(p) = store.pods.get(change.id) else {
                    return;
                };
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

/// Scheduling latency of a bound pod: creation to binding.
pub fn scheduling_latency(p: &Pod) -> Option<SimDuration> {
    p.status.scheduled_at.map(|t| t.since(p.meta.creation))
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
