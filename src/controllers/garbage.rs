//! Garbage collection: the pod garbage collector (pkg/controller/podgc/gc_controller.go
//! `gcOrphaned`: pods bound to a node that no longer exists are force-deleted after the
//! 40 s quarantine, checked every 20 s) and the owner-reference garbage collector's
//! background cascade (dependents of a deleted owner are deleted).

use super::{Controller, Ctx, Key, Next, WorkQueue};
use crate::api::objects::Object;
use crate::api::{Change, Kind, Op, Store, Uid};
use crate::engine::{SimDuration, SimTime};
use std::collections::BTreeMap;

/// PodGC's check period (`gcCheckPeriod`).
pub const GC_CHECK_PERIOD: SimDuration = SimDuration::from_secs(20);
/// How long a missing node stays quarantined before its pods go (`quarantineTime`).
pub const QUARANTINE: SimDuration = SimDuration::from_secs(40);

/// The garbage collector.
#[derive(Debug, Default)]
pub struct GarbageCollector {
    /// Deleted node (id, name) -> when its pods may be force-deleted.
    orphan_nodes: BTreeMap<(u32, String), SimTime>,
    /// Owners deleted, whose dependents must go.
    deleted_owners: Vec<Uid>,
}

impl GarbageCollector {
    /// A new collector.
    pub fn new() -> Self {
        Self::default()
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

    fn on_change(&mut self, change: &Change, _store: &Store, queue: &mut WorkQueue) {
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
