//! The failure memo: a scheduling cycle that failed is replayed, not recomputed, for a
//! pod identical to it while nothing the scheduler reads has changed.
//!
//! Upstream kube-scheduler retries an unschedulable pod after every relevant cluster event
//! and at least every `podMaxInUnschedulablePodsDuration` (5 min;
//! pkg/scheduler/backend/queue/scheduling_queue.go), and each retry filters
//! every node again. A pod that is unschedulable for days (a replayed trace keeps dozens
//! of them) therefore costs a full node scan every five minutes, and a Deployment's
//! pending replicas each cost one after every event that moves them. When the cluster is
//! unchanged since an identical pod failed, that scan gives the same answer: the same
//! per-node reasons, the same FailedScheduling message, the same PostFilter outcome, the
//! rotating start index back where it was (all `n` nodes were processed). The memo keeps
//! the outcome of such a cycle and replays its effects (the stats, the nomination
//! cleared, the pod's status, the Event, the affinity terms it waits for) instead of
//! scanning, so every observable result is the one a full cycle gives.
//!
//! "Unchanged" is the pair ([`Store::scheduling_epoch`], the scheduler's own count of
//! delivered watch events and bindings). "Identical" is equal namespace, labels,
//! annotations and spec. A cycle that drew from the random stream (preemption's
//! candidate offset), nominated a node or chose victims is never memoised, nor is one of
//! a nominated pod or one being explained.
//!
//! [`Store::scheduling_epoch`]: crate::api::store::Store::scheduling_epoch

use super::plugins::inter_pod_affinity::AffinityTerm;
use crate::api::Pod;

/// How many distinct failed pod shapes are remembered at once.
const CAPACITY: usize = 16;

/// What a failed cycle did, to be done again for an identical pod.
#[derive(Debug, Clone)]
pub(super) struct Failure {
    /// The FailedScheduling message (with the PostFilter's part).
    pub message: String,
    /// Whether PostFilter cleared the pod's nomination (otherwise it left it alone).
    pub clear_nomination: bool,
    /// Nodes processed by the scan (all of them).
    pub processed: usize,
    /// Required affinity terms PreFilter registered as waited for.
    pub waiting: Vec<AffinityTerm>,
}

#[derive(Debug, Clone)]
struct Entry {
    epochs: (u64, u64),
    profile: usize,
    pod: Pod,
    failure: Failure,
}

/// Recently failed pod shapes with the cluster state they failed in.
#[derive(Debug, Default)]
pub(super) struct FailureMemo {
    entries: Vec<Entry>,
    /// Cycles replayed from the memo (for tests and profiling).
    pub hits: u64,
}

/// Whether `a` and `b` schedule alike: every field a plugin reads.
fn same_shape(a: &Pod, b: &Pod) -> bool {
    a.meta.namespace == b.meta.namespace
        && a.meta.labels == b.meta.labels
        && a.meta.annotations == b.meta.annotations
        && a.spec == b.spec
}

impl FailureMemo {
    /// The failure recorded for a pod shaped like `pod` in `profile` at `epochs`.
    pub fn lookup(&mut self, epochs: (u64, u64), profile: usize, pod: &Pod) -> Option<&Failure> {
        self.entries.retain(|e| e.epochs == epochs);
        let hit = self
            .entries
            .iter()
            .find(|e| e.profile == profile && same_shape(&e.pod, pod))?;
        self.hits += 1;
        Some(&hit.failure)
    }

    /// Records that `pod` failed as `failure` in `profile` at `epochs`.
    pub fn insert(&mut self, epochs: (u64, u64), profile: usize, pod: &Pod, failure: Failure) {
        self.entries.retain(|e| e.epochs == epochs);
        if self.entries.len() >= CAPACITY {
            self.entries.remove(0);
        }
        let mut pod = pod.clone();
        // Only the shape is compared; the status is not kept.
        pod.status = Default::default();
        self.entries.push(Entry {
            epochs,
            profile,
            pod,
            failure,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, cpu: &str) -> Pod {
        let yaml = format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, labels: {{app: a}}}}\n\
             spec: {{containers: [{{name: c, image: i, resources: {{requests: {{cpu: \"{cpu}\"}}}}}}]}}\n"
        );
        let loaded = crate::api::manifest::load_str(&yaml, "t.yaml", 1).expect("valid");
        match loaded.objects.into_iter().next().expect("one").object {
            crate::api::objects::Object::Pod(p) => *p,
            _ => unreachable!("a pod"),
        }
    }

    fn failure() -> Failure {
        Failure {
            message: "0/1 nodes are available: 1 Insufficient cpu.".into(),
            clear_nomination: true,
            processed: 1,
            waiting: Vec::new(),
        }
    }

    #[test]
    fn identical_pods_hit_while_the_epochs_hold() {
        let mut m = FailureMemo::default();
        m.insert((3, 4), 0, &pod("a", "2"), failure());
        assert!(
            m.lookup((3, 4), 0, &pod("b", "2")).is_some(),
            "name differs only"
        );
        assert!(
            m.lookup((3, 4), 1, &pod("b", "2")).is_none(),
            "other profile"
        );
        assert!(
            m.lookup((3, 4), 0, &pod("b", "3")).is_none(),
            "other request"
        );
        assert_eq!(m.hits, 1);
        assert!(
            m.lookup((4, 4), 0, &pod("b", "2")).is_none(),
            "store changed"
        );
        assert!(
            m.lookup((3, 4), 0, &pod("b", "2")).is_none(),
            "dropped for good"
        );
    }

    #[test]
    fn capacity_is_bounded() {
        let mut m = FailureMemo::default();
        for i in 0..(CAPACITY + 4) {
            m.insert((1, 1), 0, &pod("a", &format!("{}", i + 1)), failure());
        }
        assert_eq!(m.entries.len(), CAPACITY);
        assert!(
            m.lookup((1, 1), 0, &pod("x", "1")).is_none(),
            "oldest evicted"
        );
        assert!(m.lookup((1, 1), 0, &pod("x", "20")).is_some());
    }
}
