//! `kubectl drain` (k8s.io/kubectl/pkg/drain): cordon the node, then evict its pods
//! through the Eviction API, retrying evictions a PodDisruptionBudget refuses every 5 s
//! until they go through. Without `force`, a node holding pods that no controller
//! manages is not drained (kubectl's "cannot delete Pods that declare no controller").

use super::disruption::eviction::evict;
use super::disruption::rules::EvictionOutcome;
use super::{Controller, Ctx, Key, Next, Request, WorkQueue};
use crate::api::{Change, Kind, Store};
use crate::engine::SimDuration;
use std::collections::BTreeMap;

/// kubectl drain's wait between eviction attempts refused with 429.
pub const EVICTION_RETRY: SimDuration = SimDuration::from_secs(5);

/// Drains in progress, by node id (value: force).
#[derive(Debug, Default)]
pub struct Drain {
    draining: BTreeMap<u32, bool>,
}

impl Drain {
    /// A new drain loop.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Controller for Drain {
    fn name(&self) -> &'static str {
        "drain"
    }

    fn on_change(&mut self, _change: &Change, _store: &Store, _queue: &mut WorkQueue) {}

    fn request(&mut self, req: &Request) -> Option<Key> {
        let Request::Drain { node, force } = req;
        self.draining.insert(*node, *force);
        Some(Key::new(Kind::Node, *node))
    }

    fn reconcile(&mut self, key: Key, ctx: &mut Ctx<'_>) -> Next {
        let Some(&force) = self.draining.get(&key.id) else {
            return Next::Done;
        };
        let now = ctx.now;
        let Some(node) = ctx.store.nodes.get(key.id) else {
            self.draining.remove(&key.id);
            return Next::Done;
        };
        let name = node.meta.name.clone();
        if !node.unschedulable {
            ctx.store
                .update_node(key.id, now, |n| n.unschedulable = true);
        }
        let pods: Vec<u32> = ctx
            .store
            .pods_on_node(key.id)
            .filter(|&p| {
                ctx.store
                    .pods
                    .get(p)
                    .is_some_and(|p| !p.status.phase.is_terminal() && p.meta.deletion.is_none())
            })
            .collect();
        if !force {
            let unmanaged: Vec<String> = pods
                .iter()
                .filter_map(|&p| ctx.store.pods.get(p))
                .filter(|p| p.meta.controller_ref().is_none())
                .map(|p| format!("{}/{}", p.meta.namespace, p.meta.name))
                .collect();
            if !unmanaged.is_empty() {
                self.draining.remove(&key.id);
                ctx.store.record_event(now, Kind::Node, "", &name, "DrainFailed", || {
                    format!("cannot delete Pods that declare no controller (use force to override): {}", unmanaged.join(", "))
                });
                return Next::Done;
            }
        }
        let mut refused = 0;
        for p in pods {
            if evict(ctx.store, p, now) != EvictionOutcome::Evicted {
                refused += 1;
            }
        }
        if refused > 0 {
            return Next::RequeueAfter(EVICTION_RETRY);
        }
        self.draining.remove(&key.id);
        ctx.store
            .record_event(now, Kind::Node, "", &name, "Drained", || {
                format!("node {name} drained")
            });
        Next::Done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::manifest::load_str;
    use crate::api::objects::{ConditionStatus, PodPhase};
    use crate::controllers::Outbox;
    use crate::controllers::disruption::controller::DisruptionController;
    use crate::engine::{RngStreams, SimTime};

    const OBJECTS: &str = "
apiVersion: v1
kind: Node
metadata: {name: a}
status: {capacity: {cpu: '8', memory: 8Gi, pods: '110'}}
---
apiVersion: v1
kind: ReplicationController
metadata: {name: web}
spec:
  replicas: 3
  selector: {app: web}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: nginx}]}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web}
spec:
  minAvailable: 2
  selector: {matchLabels: {app: web}}
";

    fn pod_yaml(i: usize) -> String {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: web-{i}, labels: {{app: web}}}}\nspec: {{nodeName: a, containers: [{{name: c, image: nginx}}]}}\n"
        )
    }

    #[test]
    fn drain_waits_for_the_budget() {
        let mut store = Store::new(RngStreams::new(1).stream("n"), true);
        let now = SimTime::ZERO;
        for l in load_str(OBJECTS, "t.yaml", 1).unwrap().objects {
            store.create(l.object, now).unwrap();
        }
        let rc_uid = store.rcs.get(0).unwrap().meta.uid;
        for i in 0..3 {
            let mut o = load_str(&pod_yaml(i), "p.yaml", 1)
                .unwrap()
                .objects
                .remove(0)
                .object;
            o.meta_mut().owners.push(crate::api::OwnerRef {
                kind: Kind::ReplicationController,
                name: "web".into(),
                uid: rc_uid,
                controller: true,
            });
            let (_, id) = store.create(o, now).unwrap();
            store.update_pod(id, now, |p| {
                p.status.phase = PodPhase::Running;
                p.status.ready = true;
            });
        }
        assert_eq!(store.nodes.get(0).unwrap().ready, ConditionStatus::True);
        let mut rng = RngStreams::new(1).stream("c");
        let mut out = Outbox::default();
        let mut dc = DisruptionController::new();
        let pdb = Key::new(Kind::PodDisruptionBudget, 0);
        dc.reconcile(
            pdb,
            &mut Ctx {
                now,
                store: &mut store,
                rng: &mut rng,
                out: &mut out,
            },
        );
        let st = store.pdbs.get(0).unwrap().status.clone();
        assert_eq!(
            (
                st.expected_pods,
                st.desired_healthy,
                st.current_healthy,
                st.disruptions_allowed
            ),
            (3, 2, 3, 1)
        );
        let mut drain = Drain::new();
        let key = drain
            .request(&Request::Drain {
                node: 0,
                force: false,
            })
            .unwrap();
        let next = drain.reconcile(
            key,
            &mut Ctx {
                now,
                store: &mut store,
                rng: &mut rng,
                out: &mut out,
            },
        );
        assert_eq!(
            next,
            Next::RequeueAfter(EVICTION_RETRY),
            "one eviction allowed, two refused"
        );
        assert!(store.nodes.get(0).unwrap().unschedulable, "cordoned first");
        assert_eq!(store.pod_counts().terminating, 1);
        assert_eq!(store.pdbs.get(0).unwrap().status.disruptions_allowed, 0);
        assert_eq!(store.pdbs.get(0).unwrap().status.disrupted_pods.len(), 1);
        // The budget recomputed: still 2 healthy of 2 desired, nothing allowed.
        dc.reconcile(
            pdb,
            &mut Ctx {
                now,
                store: &mut store,
                rng: &mut rng,
                out: &mut out,
            },
        );
        assert_eq!(store.pdbs.get(0).unwrap().status.disruptions_allowed, 0);
        let journal = store.take_journal();
        assert_eq!(
            journal
                .iter()
                .filter(|e| e.reason == "EvictionRefused")
                .count(),
            2
        );
    }
}
