//! The ReplicaSet controller, which also serves ReplicationControllers (upstream runs
//! the same code for both). Port of pkg/controller/replicaset/replica_set.go:
//! `syncReplicaSet`, `manageReplicas` (diff, burst limit, slow-start creation batches,
//! deletion ranking), expectations (pkg/controller/controller_utils.go
//! `ControllerExpectations`, `UIDTrackingControllerExpectations`), orphan adoption, and
//! pkg/controller/replicaset/replica_set_utils.go `calculateStatus`.

pub mod expectations;
pub mod ranking;
pub mod slow_start;

use super::{Controller, Ctx, Key, Next, WorkQueue};
use crate::api::objects::Object;
use crate::api::{Change, Kind, ObjectMeta, Op, OwnerRef, Pod, ReplicaSet, Store, Uid};
use crate::engine::{SimDuration, SimTime};
use expectations::Expectations;
use ranking::RankedPod;
use std::collections::{BTreeMap, BTreeSet};

/// The ReplicaSet / ReplicationController controller.
#[derive(Debug, Default)]
pub struct ReplicaSetController {
    expectations: BTreeMap<Uid, Expectations>,
    /// Pods without a controller owner: candidates for adoption.
    orphans: BTreeSet<u32>,
}

impl ReplicaSetController {
    /// A new controller.
    pub fn new() -> Self {
        Self::default()
    }
}

fn is_rs_kind(k: Kind) -> bool {
    matches!(k, Kind::ReplicaSet | Kind::ReplicationController)
}

fn owner_key(store: &Store, namespace: &str, owner: &OwnerRef) -> Option<Key> {
    if !is_rs_kind(owner.kind) {
        return None;
    }
    let id = store.rs_arena(owner.kind).id_of(namespace, &owner.name)?;
    // A controllerRef to a same-named object with another uid is not ours.
    (store.rs_arena(owner.kind).get(id)?.meta.uid == owner.uid).then_some(Key::new(owner.kind, id))
}

/// Whether a pod counts as available: ready for at least `min_ready_seconds`
/// (pkg/api/v1/pod/util.go IsPodAvailable).
pub fn pod_available(p: &Pod, min_ready_seconds: i32, now: SimTime) -> bool {
    if !p.status.ready {
        return false;
    }
    if min_ready_seconds <= 0 {
        return true;
    }
    match p.status.ready_transition {
        Some(t) => t + SimDuration::from_secs(min_ready_seconds as u64) <= now,
        None => false,
    }
}

impl Controller for ReplicaSetController {
    fn name(&self) -> &'static str {
        "replicaset"
    }

    fn on_change(&mut self, change: &Change, store: &Store, queue: &mut WorkQueue) {
        match change.kind {
            k if is_rs_kind(k) => {
                if change.op == Op::Deleted {
                    if let Some(Object::ReplicaSet(rs)) = change.old.as_deref() {
                        self.expectations.remove(&rs.meta.uid);
                    }
                } else {
                    queue.add(Key::new(k, change.id));
                    // A new or changed selector may adopt orphans.
                }
            }
            Kind::Pod => {
                let (meta, deleted_now) = match (&change.op, change.old.as_deref()) {
                    (Op::Deleted, Some(Object::Pod(p))) => (&p.meta, true),
                    _ => match store.pods.get(change.id) {
                        Some(p) => (&p.meta, false),
                        None => return,
                    },
                };
                let Some(owner) = meta.controller_ref() else {
                    if deleted_now {
                        self.orphans.remove(&change.id);
                    } else if meta.deletion.is_none() {
                        self.orphans.insert(change.id);
                        // Adoption: queue every ReplicaSet-like controller in the namespace
                        // whose selector matches (upstream getPodReplicaSets).
                        if let Some(p) = store.pods.get(change.id) {
                            for kind in [Kind::ReplicaSet, Kind::ReplicationController] {
                                for (id, rs) in store.rs_arena(kind).iter() {
                                    if rs.meta.namespace == p.meta.namespace
                                        && rs.selector.matches(&p.meta.labels)
                                    {
                                        queue.add(Key::new(kind, id));
                                    }
                                }
                            }
                        }
                    }
                    return;
                };
                self.orphans.remove(&change.id);
                let Some(key) = owner_key(store, &meta.namespace, owner) else {
                    return;
                };
                let pod_key = format!("{}/{}", meta.namespace, meta.name);
                if let Some(e) = self.expectations.get_mut(&owner.uid) {
                    match change.op {
                        Op::Added => e.creation_observed(),
                        Op::Deleted => e.deletion_observed(&pod_key),
                        Op::Modified if meta.deletion.is_some() => e.deletion_observed(&pod_key),
                        Op::Modified => {}
                    }
                }
                queue.add(key);
            }
            _ => {}
        }
    }

    fn reconcile(&mut self, key: Key, ctx: &mut Ctx<'_>) -> Next {
        let Some(rs) = ctx.store.rs_arena(key.kind).get(key.id).cloned() else {
            return Next::Done;
        };
        let now = ctx.now;
        let uid = rs.meta.uid;
        self.adopt_orphans(&rs, key, ctx);
        let pods: Vec<u32> = ctx
            .store
            .pods_owned_by(uid)
            .filter(|&id| ctx.store.pods.get(id).is_some_and(|p| p.is_active()))
            .collect();
        let needs_sync = self.expectations.get(&uid).is_none_or(|e| e.satisfied(now));
        if needs_sync && rs.meta.deletion.is_none() {
            self.manage_replicas(&rs, key, &pods, ctx);
        }
        // Status (calculateStatus), over the active pods after this sync.
        let pods: Vec<&Pod> = ctx
            .store
            .pods_owned_by(uid)
            .filter_map(|id| ctx.store.pods.get(id))
            .filter(|p| p.is_active())
            .collect();
        let mut status = crate::api::objects::ReplicaSetStatus {
            replicas: pods.len() as i32,
            observed_generation: rs.meta.generation,
            ..Default::default()
        };
        for p in &pods {
            if rs
                .template
                .labels
                .iter()
                .all(|(k, v)| p.meta.labels.get(k) == Some(v))
            {
                status.fully_labeled_replicas += 1;
            }
            if p.status.ready {
                status.ready_replicas += 1;
                if pod_available(p, rs.min_ready_seconds, now) {
                    status.available_replicas += 1;
                }
            }
        }
        if status != rs.status {
            ctx.store
                .update_rs(key.kind, key.id, now, false, |r| r.status = status.clone());
        }
        // Resync to notice pods crossing minReadySeconds (upstream AddAfter).
        if rs.min_ready_seconds > 0
            && status.ready_replicas == rs.replicas
            && status.available_replicas != rs.replicas
        {
            return Next::RequeueAfter(SimDuration::from_secs(rs.min_ready_seconds as u64));
        }
        Next::Done
    }
}

impl ReplicaSetController {
    /// Claims matching orphans (pkg/controller/controller_ref_manager.go ClaimPods: adopt
    /// when the selector matches and neither is being deleted).
    fn adopt_orphans(&mut self, rs: &ReplicaSet, key: Key, ctx: &mut Ctx<'_>) {
        if rs.meta.deletion.is_some() || self.orphans.is_empty() {
            return;
        }
        let candidates: Vec<u32> = self
            .orphans
            .iter()
            .copied()
            .filter(|&id| {
                ctx.store.pods.get(id).is_some_and(|p| {
                    p.meta.namespace == rs.meta.namespace
                        && p.meta.deletion.is_none()
                        && p.meta.controller_ref().is_none()
                        && rs.selector.matches(&p.meta.labels)
                })
            })
            .collect();
        for id in candidates {
            self.orphans.remove(&id);
            let owner = OwnerRef {
                kind: key.kind,
                name: rs.meta.name.clone(),
                uid: rs.meta.uid,
                controller: true,
            };
            ctx.store
                .update_pod(id, ctx.now, |p| p.meta.owners.push(owner));
        }
    }

    fn manage_replicas(&mut self, rs: &ReplicaSet, key: Key, active: &[u32], ctx: &mut Ctx<'_>) {
        let now = ctx.now;
        let diff = active.len() as i64 - rs.replicas as i64;
        if diff < 0 {
            let count = ((-diff) as usize).min(slow_start::BURST_REPLICAS);
            self.expectations
                .entry(rs.meta.uid)
                .or_default()
                .expect_creations(count as i64, now);
            let outcome = slow_start::slow_start_batch_with_sizes(
                count,
                slow_start::SLOW_START_INITIAL_BATCH_SIZE,
                |_| create_pod(rs, key.kind, ctx),
            );
            // Creations that were never issued will never be observed.
            let skipped = count - outcome.total_calls();
            let failed = outcome.total_calls() - outcome.successes;
            if let Some(e) = self.expectations.get_mut(&rs.meta.uid) {
                for _ in 0..skipped + failed {
                    e.creation_observed();
                }
            }
        } else if diff > 0 {
            let count = (diff as usize).min(slow_start::BURST_REPLICAS);
            let victims = pods_to_delete(ctx.store, active, count, now);
            let keys: Vec<String> = victims
                .iter()
                .filter_map(|&id| ctx.store.pods.get(id))
                .map(|p| format!("{}/{}", p.meta.namespace, p.meta.name))
                .collect();
            self.expectations
                .entry(rs.meta.uid)
                .or_default()
                .expect_deletions(keys, now);
            for id in victims {
                let Some(name) = ctx.store.pods.get(id).map(|p| p.meta.name.clone()) else {
                    continue;
                };
                ctx.store.delete_pod(id, now, None);
                ctx.store.record_event(
                    now,
                    key.kind,
                    &rs.meta.namespace,
                    &rs.meta.name,
                    "SuccessfulDelete",
                    || format!("Deleted pod: {name}"),
                );
            }
        }
    }
}

/// Creates one pod from the controller's template (pkg/controller/controller_utils.go
/// GetPodFromTemplate: generateName `<name>-`, template labels and annotations, a
/// controller owner reference).
fn create_pod(rs: &ReplicaSet, kind: Kind, ctx: &mut Ctx<'_>) -> Result<(), String> {
    let meta = ObjectMeta {
        generate_name: format!("{}-", rs.meta.name),
        namespace: rs.meta.namespace.clone(),
        labels: rs.template.labels.clone(),
        annotations: rs.template.annotations.clone(),
        owners: vec![OwnerRef {
            kind,
            name: rs.meta.name.clone(),
            uid: rs.meta.uid,
            controller: true,
        }],
        ..ObjectMeta::default()
    };
    let pod = Pod::new(meta, rs.template.spec.clone());
    match ctx.store.create(Object::Pod(Box::new(pod)), ctx.now) {
        Ok((_, id)) => {
            let name = ctx
                .store
                .pods
                .get(id)
                .map(|p| p.meta.name.clone())
                .unwrap_or_default();
            ctx.store.record_event(
                ctx.now,
                kind,
                &rs.meta.namespace,
                &rs.meta.name,
                "SuccessfulCreate",
                || format!("Created pod: {name}"),
            );
            Ok(())
        }
        Err(e) => {
            let msg = e.to_string();
            ctx.store.record_event(
                ctx.now,
                kind,
                &rs.meta.namespace,
                &rs.meta.name,
                "FailedCreate",
                || format!("Error creating: {msg}"),
            );
            Err(msg)
        }
    }
}

/// Chooses `count` pods to delete: ranks each by the number of active pods of the same
/// controller on its node and sorts with upstream's ActivePodsWithRanks order
/// (pkg/controller/replicaset/replica_set.go getPodsToDelete / getPodsRankedByRelatedPodsOnSameNode).
pub fn pods_to_delete(store: &Store, active: &[u32], count: usize, now: SimTime) -> Vec<u32> {
    if count >= active.len() {
        return active.to_vec();
    }
    let mut on_node: BTreeMap<&str, i32> = BTreeMap::new();
    for &id in active {
        if let Some(p) = store.pods.get(id)
            && !p.spec.node_name.is_empty()
        {
            *on_node.entry(p.spec.node_name.as_str()).or_default() += 1;
        }
    }
    let secs = |t: SimTime| t.as_secs() as i64;
    let mut ranked: Vec<RankedPod> = active
        .iter()
        .filter_map(|&id| store.pods.get(id).map(|p| (id, p)))
        .map(|(id, p)| RankedPod {
            name: id.to_string(),
            uid: p.meta.uid.to_string(),
            node_name: p.spec.node_name.clone(),
            phase: p.status.phase.as_str().to_string(),
            ready: p.status.ready,
            ready_last_transition_time: p.status.ready_transition.map(secs),
            max_container_restarts: p
                .status
                .containers
                .iter()
                .map(|c| c.restart_count)
                .max()
                .unwrap_or(0),
            max_sidecar_restarts: 0,
            creation_timestamp: Some(secs(p.meta.creation)),
            deletion_cost: ranking::deletion_cost_from_annotations(&p.meta.annotations),
            rank: if p.spec.node_name.is_empty() {
                0
            } else {
                on_node.get(p.spec.node_name.as_str()).copied().unwrap_or(0)
            },
        })
        .collect();
    ranking::sort_for_deletion(&mut ranked, secs(now), true);
    ranked
        .into_iter()
        .take(count)
        .filter_map(|r| r.name.parse().ok())
        .collect()
}
