//! Which pods a scale-down must move, and which block it: port of
//! cluster-autoscaler/simulator/drainability/rules/rules.go `Default` (the rules in their
//! order; the first with an outcome decides) and simulator/drain.go `GetPodsToMove`.
//!
//! Modelled rules: long-terminating pods are skipped (rules/longterminating); pods
//! annotated `cluster-autoscaler.kubernetes.io/safe-to-evict: "true"` and terminal pods
//! are drainable (rules/safetoevict, rules/terminal); then pods no controller manages
//! block (rules/replicated, "not replicated"), `kube-system` pods no PDB covers block
//! (rules/system, `--skip-nodes-with-system-pods` true), pods annotated
//! `safe-to-evict: "false"` block (rules/notsafetoevict), and a pod whose PDB allows no
//! disruption blocks (rules/pdb). Finally every PDB must allow as many disruptions as
//! pods of the node it covers (pdb/basic.go `CanRemovePods`), counted against what earlier
//! nodes of the same pass already used. DaemonSet, mirror and local-storage pods are not
//! modelled.

use crate::api::{Pod, Store};
use crate::engine::SimTime;
use std::collections::BTreeMap;

/// `cluster-autoscaler.kubernetes.io/safe-to-evict`.
pub const SAFE_TO_EVICT: &str = "cluster-autoscaler.kubernetes.io/safe-to-evict";
/// `cluster-autoscaler.kubernetes.io/scale-down-disabled` (on a node).
pub const SCALE_DOWN_DISABLED: &str = "cluster-autoscaler.kubernetes.io/scale-down-disabled";
/// drain.go `PodLongTerminatingExtraThreshold`.
const LONG_TERMINATING_EXTRA_SECS: i64 = 300;

/// Why a node cannot be removed because of one of its pods (drain.BlockingPodReason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockingPod {
    /// `namespace/name`.
    pub pod: String,
    /// Upstream's error text.
    pub reason: String,
}

/// Disruptions still allowed per PDB id in the current pass (pdb.RemainingPdbTracker).
#[derive(Debug, Clone, Default)]
pub struct RemainingPdbs {
    allowed: BTreeMap<u32, i32>,
}

impl RemainingPdbs {
    /// Every PDB's `disruptionsAllowed`.
    pub fn new(store: &Store) -> RemainingPdbs {
        RemainingPdbs {
            allowed: store
                .pdbs
                .iter()
                .map(|(id, b)| (id, b.status.disruptions_allowed))
                .collect(),
        }
    }

    fn matching(store: &Store, pod: &Pod) -> Vec<u32> {
        store
            .pdbs
            .iter()
            .filter(|(_, b)| {
                b.meta.namespace == pod.meta.namespace && b.selector.matches(&pod.meta.labels)
            })
            .map(|(id, _)| id)
            .collect()
    }

    /// Uses the budgets of pods that a removal will evict.
    pub fn remove(&mut self, budgets: &[u32]) {
        for b in budgets {
            if let Some(v) = self.allowed.get_mut(b) {
                *v -= 1;
            }
        }
    }
}

/// The pods to move off a node (its own, then `extra`: pods an earlier simulation of the
/// pass moved onto it), or the pod that blocks its removal. On success also the PDB ids
/// the moves use (one entry per pod and matching PDB), for [`RemainingPdbs::remove`].
pub fn pods_to_move(
    store: &Store,
    node: u32,
    extra: &[u32],
    pdbs: &RemainingPdbs,
    now: SimTime,
) -> Result<(Vec<u32>, Vec<u32>), BlockingPod> {
    let mut pods = Vec::new();
    let mut used: Vec<u32> = Vec::new();
    for id in store.pods_on_node(node).chain(extra.iter().copied()) {
        let Some(p) = store.pods.get(id) else {
            continue;
        };
        let name = format!("{}/{}", p.meta.namespace, p.meta.name);
        // rules/longterminating: past the grace period plus 5 minutes, skipped.
        if let Some(del) = p.meta.deletion {
            let grace = p.meta.deletion_grace_seconds.unwrap_or(0);
            if now.as_secs() as i64 > del.as_secs() as i64 + grace + LONG_TERMINATING_EXTRA_SECS {
                continue;
            }
        }
        let safe = p.meta.annotations.get(SAFE_TO_EVICT).map(String::as_str);
        // rules/safetoevict and rules/terminal: drainable. Terminal pods take no room,
        // so kubetwin does not place them elsewhere.
        if p.status.phase.is_terminal() {
            continue;
        }
        let matching = RemainingPdbs::matching(store, p);
        if safe != Some("true") {
            if p.meta.controller_ref().is_none() {
                return Err(BlockingPod {
                    reason: format!("{name} is not replicated"),
                    pod: name,
                });
            }
            if p.meta.namespace == "kube-system" && matching.is_empty() {
                return Err(BlockingPod {
                    reason: format!(
                        "non-daemonset, non-mirrored, non-pdb-assigned kube-system pod present: {}",
                        p.meta.name
                    ),
                    pod: name,
                });
            }
            if safe == Some("false") {
                return Err(BlockingPod {
                    reason: format!(
                        "pod annotated as not safe to evict present: {}",
                        p.meta.name
                    ),
                    pod: name,
                });
            }
        }
        // rules/pdb (it runs for safe-to-evict pods too: the Eviction API enforces it).
        if matching
            .iter()
            .any(|b| pdbs.allowed.get(b).copied().unwrap_or(0) < 1)
        {
            return Err(BlockingPod {
                reason: format!("not enough pod disruption budget to move {name}"),
                pod: name,
            });
        }
        if p.meta.deletion.is_some() {
            // Already terminating: it leaves by itself and needs no new place.
            continue;
        }
        used.extend(matching);
        pods.push(id);
    }
    // pdb/basic.go CanRemovePods: each budget must cover all of this node's pods.
    let mut count: BTreeMap<u32, i32> = BTreeMap::new();
    for b in &used {
        *count.entry(*b).or_default() += 1;
    }
    for (b, n) in &count {
        if pdbs.allowed.get(b).copied().unwrap_or(0) < *n {
            let name = pods
                .iter()
                .filter_map(|&id| store.pods.get(id))
                .find(|p| RemainingPdbs::matching(store, p).contains(b))
                .map(|p| format!("{}/{}", p.meta.namespace, p.meta.name))
                .unwrap_or_default();
            return Err(BlockingPod {
                reason: format!("not enough pod disruption budget to move {name}"),
                pod: name,
            });
        }
    }
    Ok((pods, used))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::manifest::load_str;
    use crate::api::{Kind, OwnerRef};

    const NODE: &str = "apiVersion: v1\nkind: Node\nmetadata: {name: a}\nstatus: {capacity: {cpu: '8', memory: 8Gi, pods: '110'}}\n";

    fn pod(store: &mut Store, name: &str, ns: &str, owned: bool, annotations: &str) -> u32 {
        let y = format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {ns}, labels: {{app: web}}, annotations: {{{annotations}}}}}\nspec: {{nodeName: a, containers: [{{name: c, image: nginx}}]}}\n"
        );
        let mut o = load_str(&y, "p.yaml", 1).unwrap().objects.remove(0).object;
        if owned {
            o.meta_mut().owners.push(OwnerRef {
                kind: Kind::ReplicaSet,
                name: "web".into(),
                uid: crate::api::Uid(42),
                controller: true,
            });
        }
        store.create(o, SimTime::ZERO).unwrap().1
    }

    fn store() -> Store {
        let mut s = Store::new(crate::engine::RngStreams::new(1).stream("n"), false);
        let n = load_str(NODE, "n.yaml", 1)
            .unwrap()
            .objects
            .remove(0)
            .object;
        s.create(n, SimTime::ZERO).unwrap();
        s
    }

    fn pdb(store: &mut Store, allowed: i32) {
        let y = "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web}\nspec: {minAvailable: 1, selector: {matchLabels: {app: web}}}\n";
        let o = load_str(y, "b.yaml", 1).unwrap().objects.remove(0).object;
        let (_, id) = store.create(o, SimTime::ZERO).unwrap();
        store.update_pdb(id, SimTime::ZERO, |b| {
            b.status.disruptions_allowed = allowed
        });
    }

    #[test]
    fn replicated_pods_move_bare_pods_block() {
        let mut s = store();
        let a = pod(&mut s, "a", "default", true, "");
        let b = pod(&mut s, "b", "default", true, "");
        let pdbs = RemainingPdbs::new(&s);
        assert_eq!(
            pods_to_move(&s, 0, &[], &pdbs, SimTime::ZERO),
            Ok((vec![a, b], vec![]))
        );
        pod(&mut s, "bare", "default", false, "");
        assert_eq!(
            pods_to_move(&s, 0, &[], &pdbs, SimTime::ZERO)
                .unwrap_err()
                .reason,
            "default/bare is not replicated"
        );
    }

    #[test]
    fn annotations_and_system_pods() {
        let mut s = store();
        let bare_safe = pod(
            &mut s,
            "safe",
            "default",
            false,
            "cluster-autoscaler.kubernetes.io/safe-to-evict: 'true'",
        );
        let pdbs = RemainingPdbs::new(&s);
        assert_eq!(
            pods_to_move(&s, 0, &[], &pdbs, SimTime::ZERO),
            Ok((vec![bare_safe], vec![])),
            "safe-to-evict overrides the replicated rule"
        );
        pod(&mut s, "dns", "kube-system", true, "");
        assert!(
            pods_to_move(&s, 0, &[], &pdbs, SimTime::ZERO)
                .unwrap_err()
                .reason
                .starts_with("non-daemonset, non-mirrored, non-pdb-assigned kube-system pod")
        );
        let mut s = store();
        pod(
            &mut s,
            "pinned",
            "default",
            true,
            "cluster-autoscaler.kubernetes.io/safe-to-evict: 'false'",
        );
        assert_eq!(
            pods_to_move(&s, 0, &[], &RemainingPdbs::new(&s), SimTime::ZERO)
                .unwrap_err()
                .reason,
            "pod annotated as not safe to evict present: pinned"
        );
    }

    #[test]
    fn budgets_are_counted_per_node_and_across_nodes() {
        let mut s = store();
        pod(&mut s, "a", "default", true, "");
        pod(&mut s, "b", "default", true, "");
        pdb(&mut s, 1);
        let mut pdbs = RemainingPdbs::new(&s);
        // Two pods, one disruption allowed: the node cannot be emptied.
        assert_eq!(
            pods_to_move(&s, 0, &[], &pdbs, SimTime::ZERO)
                .unwrap_err()
                .reason,
            "not enough pod disruption budget to move default/a"
        );
        let mut s = store();
        pod(&mut s, "a", "default", true, "");
        pdb(&mut s, 1);
        pdbs = RemainingPdbs::new(&s);
        let (_, used) = pods_to_move(&s, 0, &[], &pdbs, SimTime::ZERO).unwrap();
        assert_eq!(used, vec![0]);
        // An earlier node of the same pass used the budget.
        pdbs.remove(&used);
        assert_eq!(
            pods_to_move(&s, 0, &[], &pdbs, SimTime::ZERO)
                .unwrap_err()
                .reason,
            "not enough pod disruption budget to move default/a"
        );
    }
}
