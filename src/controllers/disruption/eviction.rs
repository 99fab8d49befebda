//! The Eviction API (`pods/eviction`, policy/v1): pkg/registry/core/pod/storage/eviction.go.
//! The decision is [`super::rules::evict`]; this module reads the PDBs that match the
//! pod, applies the outcome (decrementing `disruptionsAllowed` and recording the pod in
//! `disruptedPods` in the same write, as upstream) and deletes the pod gracefully.

use super::rules::{self, EvictionOutcome, EvictionPdb, EvictionPod, UnhealthyPodEvictionPolicy};
use crate::api::{Kind, Store};
use crate::engine::SimTime;

/// Evicts pod `id` at `now`; returns the API's outcome (`Evicted`, or the refusal).
pub fn evict(store: &mut Store, id: u32, now: SimTime) -> EvictionOutcome {
    let Some(p) = store.pods.get(id) else {
        return EvictionOutcome::Evicted;
    };
    let (ns, name, labels) = (
        p.meta.namespace.clone(),
        p.meta.name.clone(),
        p.meta.labels.clone(),
    );
    let pod = EvictionPod {
        phase: p.status.phase.as_str().to_string(),
        ready: p.status.ready,
        deletion_timestamp: p.meta.deletion.map(|t| t.as_secs() as i64),
    };
    let matching: Vec<u32> = store
        .pdbs
        .iter()
        .filter(|(_, b)| b.meta.namespace == ns && b.selector.matches(&labels))
        .map(|(i, _)| i)
        .collect();
    let mut views: Vec<EvictionPdb> = matching
        .iter()
        .filter_map(|&i| store.pdbs.get(i))
        .map(|b| EvictionPdb {
            generation: b.meta.generation,
            observed_generation: b.status.observed_generation,
            unhealthy_pod_eviction_policy: match b.unhealthy_pod_eviction_policy.as_deref() {
                Some("AlwaysAllow") => Some(UnhealthyPodEvictionPolicy::AlwaysAllow),
                Some("IfHealthyBudget") => Some(UnhealthyPodEvictionPolicy::IfHealthyBudget),
                _ => None,
            },
            current_healthy: b.status.current_healthy,
            desired_healthy: b.status.desired_healthy,
            disruptions_allowed: b.status.disruptions_allowed,
        })
        .collect();
    let before: Vec<i32> = views.iter().map(|v| v.disruptions_allowed).collect();
    let outcome = rules::evict(&pod, &mut views);
    if outcome != EvictionOutcome::Evicted {
        store.record_event(now, Kind::Pod, &ns, &name, "EvictionRefused", || {
            format!(
                "Cannot evict pod as it would violate the pod's disruption budget ({})",
                outcome.as_str()
            )
        });
        return outcome;
    }
    for ((pdb_id, view), was) in matching.iter().zip(&views).zip(before) {
        if view.disruptions_allowed != was {
            let allowed = view.disruptions_allowed;
            let pod_name = name.clone();
            store.update_pdb(*pdb_id, now, |b| {
                b.status.disruptions_allowed = allowed;
                b.status.disrupted_pods.insert(pod_name, now);
            });
        }
    }
    store.record_event(now, Kind::Pod, &ns, &name, "Evicted", || {
        format!("Evicting pod {ns}/{name}")
    });
    store.delete_pod(id, now, None);
    EvictionOutcome::Evicted
}
