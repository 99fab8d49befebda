//! Garbage collection: the pod garbage collector (pkg/controller/podgc/gc_controller.go:
//! `gcTerminated`, terminated pods beyond `--terminated-pod-gc-threshold` (12,500) are
//! deleted, evicted ones first, then the oldest; `gcOrphaned`, pods bound to a node that no
//! longer exists are force-deleted after the 40 s quarantine; both on the 20 s pass) and the owner-reference garbage collector's
//! background cascade (dependents of a deleted owner are deleted).

use super::{Controller, Ctx, Key, Next, WorkQueue};
use crate::api::objects::{Object, PodPhase};
use crate::api::{Change, Kind, Op, Store, Uid};
use crate::engine::{SimDuration, SimTime};
use std::collections::{BTreeMap, BTreeSet};

/// PodGC's check period (`gcCheckPeriod`).
pub const GC_CHECK_PERIOD: SimDuration = SimDuration::from_secs(20);
/// How long a missing node stays quarantined before its pods go (`quarantineTime`).
pub const QUARANTINE: SimDuration = SimDuration::from_secs(40);

/// kube-controller-manager's `--terminated-pod-gc-threshold` default.
pub const TERMINATED_POD_GC_THRESHOLD: usize = 12_500;

/// PodGC's deletion order of terminated pods (gc_controller.go
/// byEvictionAndCreationTimestamp): evicted pods first, then by creation time, then name.
type TerminatedKey = (bool, SimTime, String, u32);

/// The garbage collector.
#[derive(Debug)]
pub struct GarbageCollector {
    /// Deleted node (id, name) -> when its pods may be force-deleted.
    orphan_nodes: BTreeMap<(u32, String), SimTime>,
    /// Owners deleted, whose dependents must go.
    deleted_owners: Vec<Uid>,
    /// Terminated pods in deletion order, kept incrementally.
    terminated: BTreeSet<TerminatedKey>,
    /// Pod id -> its key in `terminated`.
    terminated_keys: BTreeMap<u32, TerminatedKey>,
    /// `terminatedPodGCThreshold` (0 disables the terminated-pod pass, as upstream).
    threshold: usize,
    /// The pass already requested for the terminated pods.
    pass_requested: Option<SimTime>,
}

impl Default for GarbageCollector {
    fn default() -> Self {
        GarbageCollector::with_threshold(TERMINATED_POD_GC_THRESHOLD)
    }
}

impl GarbageCollector {
    /// A new collector with upstream's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// A collector with `terminatedPodGCThreshold` = `threshold`.
    pub fn with_threshold(threshold: usize) -> Self {
        GarbageCollector {
            orphan_nodes: BTreeMap::new(),
            deleted_owners: Vec::new(),
            terminated: BTreeSet::new(),
            terminated_keys: BTreeMap::new(),
            threshold,
            pass_requested: None,
        }
    }

    fn untrack(&mut self, id: u32) {
        if let Some(k) = self.terminated_keys.remove(&id) {
            self.terminated.remove(&k);
        }
    }

    fn over_threshold(&self) -> bool {
        self.threshold > 0 && self.terminated.len() > self.threshold
    }
}

fn next_gc_pass(t: SimTime) -> SimTime {
    let p = GC_CHECK_PERIOD.as_nanos();
    SimTime(t.as_nanos().div_ceil(p) * p)
}

impl Controller for GarbageCollector {
    fn name(&self) -> &'static str {
        "garbage-collector"
    }

    fn on_change(&mut self, change: &Change, store: &Store, queue: &mut WorkQueue) {
        if change.kind == Kind::Pod && self.threshold > 0 {
            match store.pods.get(change.id) {
                Some(p) if change.op != Op::Deleted && p.status.phase.is_terminal() => {
                    if !self.terminated_keys.contains_key(&change.id) {
                        let evicted =
                            p.status.phase == PodPhase::Failed && p.status.reason == "Evicted";
                        let k = (!evicted, p.meta.creation, p.meta.name.clone(), change.id);
                        self.terminated.insert(k.clone());
                        self.terminated_keys.insert(change.id, k);
                        if self.over_threshold() {
                            queue.add(Key::SINGLETON);
                        }
                    }
                }
                _ => self.untrack(change.id),
            }
        }
        if change.op != Op::Deleted {
            return;
        }
        match (change.kind, change.old.as_deref()) {
            (Kind::Node, Some(Object::Node(n))) => {
                self.orphan_nodes
                    .insert((change.id, n.meta.name.clone()), SimTime::MAX);
                queue.add(Key::SINGLETON);
            }
            (Kind::ReplicaSet | Kind::ReplicationController | Kind::Deployment, Some(o)) => {
                self.deleted_owners.push(o.meta().uid);
                queue.add(Key::SINGLETON);
            }
            _ => {}
        }
    }

    fn reconcile(&mut self, key: Key, ctx: &mut Ctx<'_>) -> Next {
        let now = ctx.now;
        if self.over_threshold() {
            let pass = next_gc_pass(now);
            if pass == now {
                // gcTerminated: force-delete the excess, evicted and oldest first.
                let excess = self.terminated.len() - self.threshold;
                let victims: Vec<u32> = self.terminated.iter().take(excess).map(|k| k.3).collect();
                for id in victims {
                    self.untrack(id);
                    ctx.store.remove_pod(id, now);
                }
            } else if self.pass_requested != Some(pass) {
                self.pass_requested = Some(pass);
                ctx.requeue_at(pass, key);
            }
        }
        for uid in std::mem::take(&mut self.deleted_owners) {
            let pods: Vec<u32> = ctx.store.pods_owned_by(uid).collect();
            for p in pods {
                ctx.store.delete_pod(p, now, None);
            }
            let rss: Vec<(Kind, u32)> = ctx
                .store
                .replicasets
                .iter()
                .filter(|(_, r)| r.meta.controller_ref().is_some_and(|o| o.uid == uid))
                .map(|(id, _)| (Kind::ReplicaSet, id))
                .collect();
            for (k, id) in rss {
                ctx.store.delete_object(k, id, now);
            }
        }
        let mut next: Option<SimTime> = None;
        let entries: Vec<((u32, String), SimTime)> = self
            .orphan_nodes
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        for ((id, name), due) in entries {
            if ctx.store.nodes.id_of("", &name).is_some() {
                self.orphan_nodes.remove(&(id, name));
                continue;
            }
            let due = if due == SimTime::MAX {
                // First noticed at the next pass, then quarantined.
                let d = next_gc_pass(now) + QUARANTINE;
                self.orphan_nodes.insert((id, name.clone()), d);
                d
            } else {
                due
            };
            if due <= now {
                let pods: Vec<u32> = ctx.store.pods_on_node(id).collect();
                for p in pods {
                    if let Some(pod) = ctx.store.pods.get(p) {
                        let (ns, pname) = (pod.meta.namespace.clone(), pod.meta.name.clone());
                        ctx.store.record_event(now, Kind::Pod, &ns, &pname, "PodGC", || format!("Deleting orphaned pod {ns}/{pname}: node {name} no longer exists"));
                    }
                    ctx.store.remove_pod(p, now);
                }
                self.orphan_nodes.remove(&(id, name));
            } else {
                next = Some(next.map_or(due, |n| n.min(due)));
            }
        }
        if let Some(at) = next {
            ctx.requeue_at(at, key);
        }
        Next::Done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::manifest::load_str;
    use crate::controllers::manager::Manager;
    use crate::engine::RngStreams;

    fn pods(n: usize) -> String {
        (0..n)
            .map(|i| {
                format!(
                    "apiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}}}\nspec:\n  containers: [{{name: c, image: busybox}}]\n---\n"
                )
            })
            .collect()
    }

    #[test]
    fn terminated_pods_beyond_threshold_go_evicted_then_oldest_on_the_pass() {
        let mut store = Store::new(RngStreams::new(1).stream("names"), false);
        let loaded = load_str(&pods(5), "t.yaml", 1).expect("valid");
        for (i, l) in loaded.objects.into_iter().enumerate() {
            store
                .create(l.object, SimTime::ZERO + SimDuration::from_secs(i as u64))
                .expect("created");
        }
        let mut m = Manager::new(
            vec![Box::new(GarbageCollector::with_threshold(2))],
            &RngStreams::new(1),
        );
        m.settle(SimTime::ZERO, &mut store);
        let t = SimTime::ZERO + SimDuration::from_secs(7);
        // p0..p3 finish; p3 was evicted; p4 keeps running.
        for (name, phase, reason) in [
            ("p0", PodPhase::Succeeded, ""),
            ("p1", PodPhase::Failed, ""),
            ("p2", PodPhase::Succeeded, ""),
            ("p3", PodPhase::Failed, "Evicted"),
        ] {
            let id = store.pods.id_of("default", name).expect("pod");
            store.update_pod(id, t, |p| {
                p.status.phase = phase;
                p.status.reason = reason.into();
            });
        }
        let wakes = m.settle(t, &mut store);
        // Nothing happens before the 20 s pass.
        assert_eq!(store.pods.len(), 5);
        let pass = SimTime::ZERO + SimDuration::from_secs(20);
        assert!(wakes.iter().any(|(at, _)| *at == pass), "{wakes:?}");
        for (_, w) in wakes {
            if let crate::controllers::manager::Wake::Timer(i, k) = w {
                m.enqueue(i, k);
            }
        }
        m.settle(pass, &mut store);
        let left: Vec<&str> = store
            .pods
            .iter()
            .map(|(_, p)| p.meta.name.as_str())
            .collect();
        // 4 terminated, threshold 2: the evicted p3 and the oldest p0 go.
        assert_eq!(left, vec!["p1", "p2", "p4"]);
    }
}
