//! The disruption controller (pkg/controller/disruption/disruption.go): keeps every
//! PodDisruptionBudget's status (expected pods, desired and current healthy,
//! disruptions allowed) up to date from the pods its selector matches and the scale of
//! their controllers, through [`super::rules::compute_status`]. Pods recorded in
//! `disruptedPods` count as unhealthy until they are deleted or the 2-minute deletion
//! timeout passes. When a pod's controller cannot be found the status fails safe
//! (no disruptions allowed), as upstream.

use super::rules::{
    self, Budget, ControllerRef, DELETION_TIMEOUT_SECONDS, PdbPod, ScaledController,
};
use crate::api::{Change, Kind, Op, Store};
use crate::controllers::deployment::rules::IntOrPercent;
use crate::controllers::{Controller, Ctx, Key, Next, WorkQueue};
use crate::engine::{SimDuration, SimTime};

/// Parses an IntOrString as kubetwin keeps it (`"3"` or `"25%"`).
pub fn int_or_percent(s: &str) -> Option<IntOrPercent> {
    match s.parse::<i32>() {
        Ok(v) => Some(IntOrPercent::Int(v)),
        Err(_) => IntOrPercent::parse(s).ok(),
    }
}

/// The scale behind a pod's controller: a ReplicaSet owned by a Deployment reports the
/// Deployment (upstream's getPodDeployment); otherwise the ReplicaSet or
/// ReplicationController itself.
fn controller_scale(
    store: &Store,
    namespace: &str,
    kind: Kind,
    name: &str,
) -> Option<ScaledController> {
    let arena = store.rs_arena(kind);
    let rs = arena.get(arena.id_of(namespace, name)?)?;
    if kind == Kind::ReplicaSet
        && let Some(owner) = rs.meta.controller_ref()
        && owner.kind == Kind::Deployment
    {
        let d = store
            .deployments
            .get(store.deployments.id_of(namespace, &owner.name)?)?;
        return Some(ScaledController {
            reference: ControllerRef {
                kind: "Deployment".into(),
                name: d.meta.name.clone(),
            },
            replicas: d.replicas,
        });
    }
    Some(ScaledController {
        reference: ControllerRef {
            kind: kind.as_str().into(),
            name: rs.meta.name.clone(),
        },
        replicas: rs.replicas,
    })
}

fn secs(t: SimTime) -> i64 {
    t.as_secs() as i64
}

/// The disruption controller.
#[derive(Debug, Default)]
pub struct DisruptionController;

impl DisruptionController {
    /// A new controller.
    pub fn new() -> Self {
        DisruptionController
    }
}

impl Controller for DisruptionController {
    fn name(&self) -> &'static str {
        "disruption"
    }

    fn on_change(&mut self, change: &Change, store: &Store, queue: &mut WorkQueue) {
        match change.kind {
            Kind::PodDisruptionBudget if change.op != Op::Deleted => {
                queue.add(Key::new(Kind::PodDisruptionBudget, change.id))
            }
            Kind::Pod => {
                let labels_ns = match (change.op, change.old.as_deref()) {
                    (Op::Deleted, Some(crate::api::Object::Pod(p))) => {
                        Some((p.meta.labels.clone(), p.meta.namespace.clone()))
                    }
                    _ => store
                        .pods
                        .get(change.id)
                        .map(|p| (p.meta.labels.clone(), p.meta.namespace.clone())),
                };
                let Some((labels, ns)) = labels_ns else {
                    return;
                };
                for (id, pdb) in store.pdbs.iter() {
                    if pdb.meta.namespace == ns && pdb.selector.matches(&labels) {
                        queue.add(Key::new(Kind::PodDisruptionBudget, id));
                    }
                }
            }
            Kind::ReplicaSet | Kind::ReplicationController | Kind::Deployment => {
                // A scale change moves expectedPods.
                for (id, _) in store.pdbs.iter() {
                    queue.add(Key::new(Kind::PodDisruptionBudget, id));
                }
            }
            _ => {}
        }
    }

    fn reconcile(&mut self, key: Key, ctx: &mut Ctx<'_>) -> Next {
        let now = ctx.now;
        let Some(pdb) = ctx.store.pdbs.get(key.id).cloned() else {
            return Next::Done;
        };
        let budget = match (&pdb.min_available, &pdb.max_unavailable) {
            (Some(m), None) => int_or_percent(m).map(Budget::MinAvailable),
            (None, Some(m)) => int_or_percent(m).map(Budget::MaxUnavailable),
            // Neither set (policy/v1 has no default): upstream computes expectedCount 0,
            // so no disruption is ever allowed (updatePdbStatus).
            _ => None,
        };
        let ids = ctx.store.select_pods(&pdb.meta.namespace, &pdb.selector);
        // Expire disrupted pods that are gone or past the deletion timeout.
        let mut disrupted = pdb.status.disrupted_pods.clone();
        disrupted.retain(|name, at| {
            ctx.store
                .pods
                .id_of(&pdb.meta.namespace, name)
                .is_some_and(|id| {
                    ctx.store
                        .pods
                        .get(id)
                        .is_some_and(|p| p.meta.deletion.is_none())
                })
                && *at + SimDuration::from_secs(DELETION_TIMEOUT_SECONDS as u64) > now
        });
        let mut pods = Vec::with_capacity(ids.len());
        let mut controllers: Vec<ScaledController> = Vec::new();
        for id in ids {
            let Some(p) = ctx.store.pods.get(id) else {
                continue;
            };
            let controller_ref = p.meta.controller_ref().and_then(|o| {
                let sc = controller_scale(ctx.store, &p.meta.namespace, o.kind, &o.name)?;
                let r = sc.reference.clone();
                if !controllers.iter().any(|c| c.reference == r) {
                    controllers.push(sc);
                }
                Some(r)
            });
            // A pod whose controller is gone keeps a reference that will not resolve.
            let controller_ref = controller_ref.or_else(|| {
                p.meta.controller_ref().map(|o| ControllerRef {
                    kind: o.kind.as_str().into(),
                    name: o.name.clone(),
                })
            });
            pods.push(PdbPod {
                name: p.meta.name.clone(),
                labels: p.meta.labels.clone(),
                ready: p.status.ready,
                deletion_timestamp: p.meta.deletion.map(secs),
                controller_ref,
                disrupted_at: disrupted.get(&p.meta.name).map(|t| secs(*t)),
            });
        }
        let status = match budget {
            Some(b) => rules::compute_status(b, &pdb.selector, &controllers, &pods, secs(now)).ok(),
            None => {
                let matching: Vec<&PdbPod> = pods.iter().collect();
                Some(rules::PdbStatus {
                    disruptions_allowed: 0,
                    current_healthy: rules::count_healthy(&matching, secs(now)),
                    desired_healthy: 0,
                    expected_pods: 0,
                })
            }
        };
        let generation = pdb.meta.generation;
        let next_expiry = disrupted
            .values()
            .map(|t| *t + SimDuration::from_secs(DELETION_TIMEOUT_SECONDS as u64))
            .min();
        let mut st = pdb.status.clone();
        match status {
            Some(s) => {
                st.disruptions_allowed = s.disruptions_allowed;
                st.current_healthy = s.current_healthy;
                st.desired_healthy = s.desired_healthy;
                st.expected_pods = s.expected_pods;
            }
            // failSafe: no disruptions until the status can be computed.
            None => st.disruptions_allowed = 0,
        }
        st.disrupted_pods = disrupted;
        st.observed_generation = generation;
        // Write only a changed status (the write is itself a watch event).
        if st != pdb.status {
            ctx.store.update_pdb(key.id, now, |o| o.status = st);
        }
        match next_expiry {
            Some(at) if at > now => Next::RequeueAfter(at.since(now)),
            _ => Next::Done,
        }
    }
}
