//! Scale-down victim ordering of the ReplicaSet controller: the `ActivePodsWithRanks` comparator
//! with `LogarithmicScaleDown` (GA) time bucketing and the optional `PodDeletionCost` gate.
//!
//! Port of pkg/controller/controller_utils.go: `ActivePodsWithRanks.Less`, `afterOrZero`,
//! `logarithmicRankDiff`, `compareMaxContainerRestarts`, and
//! pkg/apis/core/helper (GetDeletionCostFromPodAnnotations).

use std::collections::BTreeMap;

/// Annotation holding a pod's deletion cost (`controller.kubernetes.io/pod-deletion-cost`).
pub const POD_DELETION_COST_ANNOTATION: &str = "controller.kubernetes.io/pod-deletion-cost";

/// The facts about one pod that the deletion ranking looks at.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RankedPod {
    /// Pod name (not used by the ordering; carried for the caller).
    pub name: String,
    /// Pod UID (final tie-break between equal time buckets).
    pub uid: String,
    /// `spec.nodeName` (empty = unscheduled).
    pub node_name: String,
    /// `status.phase` (`Pending`, `Running`, `Unknown`, ...).
    pub phase: String,
    /// Whether the pod's Ready condition is `True`.
    pub ready: bool,
    /// `lastTransitionTime` of the Ready condition (Unix seconds), `None` if unset.
    pub ready_last_transition_time: Option<i64>,
    /// Maximum restart count over the regular containers.
    pub max_container_restarts: i32,
    /// Maximum restart count over restartable init (sidecar) containers.
    pub max_sidecar_restarts: i32,
    /// `metadata.creationTimestamp` (Unix seconds), `None` if unset.
    pub creation_timestamp: Option<i64>,
    /// Deletion cost from [`deletion_cost_from_annotations`] (0 by default).
    pub deletion_cost: i32,
    /// Number of active pods of the same owner on the same node.
    pub rank: i32,
}

/// Phase ordinal used by the ranking: `Pending` (and any phase other than `Unknown` / `Running`)
/// 0, `Unknown` 1, `Running` 2.
pub fn phase_ordinal(phase: &str) -> u8 {
    match phase {
        "Unknown" => 1,
        "Running" => 2,
        _ => 0,
    }
}

/// The pod deletion cost: the annotation parsed as a 32-bit integer; absent or unparseable -> 0.
// Port of pkg/apis/core/helper/helpers.go: GetDeletionCostFromPodAnnotations (error ignored by
// the comparator, which then sees 0).
pub fn deletion_cost_from_annotations(annotations: &BTreeMap<String, String>) -> i32 {
    annotations
        .get(POD_DELETION_COST_ANNOTATION)
        .and_then(|v| v.parse::<i32>().ok())
        .unwrap_or(0)
}

/// Maximum of a list of restart counts (0 for an empty list).
pub fn max_restarts(counts: &[i32]) -> i32 {
    counts.iter().copied().max().unwrap_or(0).max(0)
}

/// Logarithmic time bucket: floor(log2(now - t in nanoseconds)), or -1 when now - t <= 0.
// Port of pkg/controller/controller_utils.go: logarithmicRankDiff (per-time part).
pub fn time_bucket(t: i64, now: i64) -> i64 {
    let d_nanos = (i128::from(now) - i128::from(t)) * 1_000_000_000;
    if d_nanos <= 0 {
        -1
    } else {
        // Go: int64(math.Log2(float64(d))).
        (d_nanos as f64).log2() as i64
    }
}

/// Time comparison of steps 6 and 8: `Some(true)` when t1 sorts first, `Some(false)` when it
/// does not; `None` when the times are equal (the criterion does not decide).
fn compare_times(
    t1: Option<i64>,
    t2: Option<i64>,
    uid1: &str,
    uid2: &str,
    now: i64,
) -> Option<bool> {
    if t1 == t2 {
        return None;
    }
    match (t1, t2) {
        // afterOrZero: a zero time sorts first.
        (None, _) => Some(true),
        (_, None) => Some(false),
        (Some(a), Some(b)) => {
            let diff = time_bucket(a, now) - time_bucket(b, now);
            if diff == 0 {
                Some(uid1 < uid2)
            } else {
                Some(diff < 0)
            }
        }
    }
}

/// True when `a` should be deleted before `b` (`ActivePodsWithRanks.Less(a, b)`), with
/// `LogarithmicScaleDown` on; `now` is in Unix seconds.
// Port of pkg/controller/controller_utils.go: ActivePodsWithRanks.Less.
pub fn delete_before(a: &RankedPod, b: &RankedPod, now: i64, pod_deletion_cost_gate: bool) -> bool {
    // 1. Unassigned < assigned.
    if a.node_name != b.node_name && (a.node_name.is_empty() || b.node_name.is_empty()) {
        return a.node_name.is_empty();
    }
    // 2. Pending < Unknown < Running.
    let (pa, pb) = (phase_ordinal(&a.phase), phase_ordinal(&b.phase));
    if pa != pb {
        return pa < pb;
    }
    // 3. Not ready < ready.
    if a.ready != b.ready {
        return !a.ready;
    }
    // 4. Lower deletion cost < higher deletion cost.
    if pod_deletion_cost_gate && a.deletion_cost != b.deletion_cost {
        return a.deletion_cost < b.deletion_cost;
    }
    // 5. Doubled up (higher rank) < not doubled up.
    if a.rank != b.rank {
        return a.rank > b.rank;
    }
    // 6. Ready for a shorter time < longer time.
    if a.ready
        && b.ready
        && let Some(res) = compare_times(
            a.ready_last_transition_time,
            b.ready_last_transition_time,
            &a.uid,
            &b.uid,
            now,
        )
    {
        return res;
    }
    // 7. Higher restart count < lower restart count (regular containers, then sidecars).
    if a.max_container_restarts != b.max_container_restarts {
        return a.max_container_restarts > b.max_container_restarts;
    }
    if a.max_sidecar_restarts != b.max_sidecar_restarts {
        return a.max_sidecar_restarts > b.max_sidecar_restarts;
    }
    // 8. Empty creation time < newer < older.
    if let Some(res) = compare_times(
        a.creation_timestamp,
        b.creation_timestamp,
        &a.uid,
        &b.uid,
        now,
    ) {
        return res;
    }
    false
}

/// Sorts `pods` so that pods to delete first come first. The sort is a stable merge sort driven
/// only by [`delete_before`], so it never panics even where the comparator is not a strict weak
/// order, and pods that compare equal keep their input order.
pub fn sort_for_deletion(pods: &mut Vec<RankedPod>, now: i64, pod_deletion_cost_gate: bool) {
    let taken = std::mem::take(pods);
    *pods = merge_sort(taken, &|a, b| {
        delete_before(a, b, now, pod_deletion_cost_gate)
    });
}

fn merge_sort<T, F: Fn(&T, &T) -> bool>(mut items: Vec<T>, before: &F) -> Vec<T> {
    if items.len() <= 1 {
        return items;
    }
    let right = items.split_off(items.len() / 2);
    let left = merge_sort(items, before);
    let right = merge_sort(right, before);
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut l = left.into_iter().peekable();
    let mut r = right.into_iter().peekable();
    loop {
        let take_right = match (l.peek(), r.peek()) {
            (Some(a), Some(b)) => before(b, a),
            (Some(_), None) => false,
            (None, Some(_)) => true,
            (None, None) => break,
        };
        let next = if take_right { r.next() } else { l.next() };
        if let Some(x) = next {
            out.push(x);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;

    fn pod(name: &str) -> RankedPod {
        RankedPod {
            name: name.into(),
            node_name: "node".into(),
            phase: "Running".into(),
            ready: true,
            ..Default::default()
        }
    }

    #[test]
    fn unassigned_first() {
        let a = RankedPod {
            node_name: String::new(),
            ..pod("a")
        };
        let b = pod("b");
        assert!(delete_before(&a, &b, NOW, true));
        assert!(!delete_before(&b, &a, NOW, true));
    }

    #[test]
    fn phase_order() {
        let pending = RankedPod {
            phase: "Pending".into(),
            ..pod("p")
        };
        let unknown = RankedPod {
            phase: "Unknown".into(),
            ..pod("u")
        };
        let running = pod("r");
        assert!(delete_before(&pending, &unknown, NOW, true));
        assert!(delete_before(&unknown, &running, NOW, true));
        let succeeded = RankedPod {
            phase: "Succeeded".into(),
            ..pod("s")
        };
        assert!(delete_before(&succeeded, &unknown, NOW, true));
    }

    #[test]
    fn deletion_cost_only_with_gate() {
        let high = RankedPod {
            deletion_cost: 100,
            ..pod("h")
        };
        let low = RankedPod {
            deletion_cost: 10,
            ..pod("l")
        };
        assert!(delete_before(&low, &high, NOW, true));
        assert!(!delete_before(&high, &low, NOW, true));
        assert!(!delete_before(&low, &high, NOW, false));
        assert!(!delete_before(&high, &low, NOW, false));
    }

    #[test]
    fn deletion_cost_parsing() {
        let mut ann = BTreeMap::new();
        assert_eq!(deletion_cost_from_annotations(&ann), 0);
        ann.insert(POD_DELETION_COST_ANNOTATION.to_string(), "-5".to_string());
        assert_eq!(deletion_cost_from_annotations(&ann), -5);
        ann.insert(POD_DELETION_COST_ANNOTATION.to_string(), "x".to_string());
        assert_eq!(deletion_cost_from_annotations(&ann), 0);
    }

    #[test]
    fn higher_rank_first() {
        let a = RankedPod {
            rank: 2,
            ..pod("a")
        };
        let b = RankedPod {
            rank: 1,
            ..pod("b")
        };
        assert!(delete_before(&a, &b, NOW, true));
    }

    #[test]
    fn buckets() {
        assert_eq!(time_bucket(NOW, NOW), -1);
        assert_eq!(time_bucket(NOW + 5, NOW), -1);
        // 1 s = 1e9 ns -> floor(log2(1e9)) = 29.
        assert_eq!(time_bucket(NOW - 1, NOW), 29);
        assert_eq!(time_bucket(NOW - 2, NOW), 30);
        assert_eq!(time_bucket(NOW - 3, NOW), 31);
    }

    #[test]
    fn same_bucket_falls_back_to_uid() {
        // 3 s and 2.5 s ... use 5 h vs 5 h + 1 s (same bucket).
        let a = RankedPod {
            uid: "a".into(),
            creation_timestamp: Some(NOW - 18_000),
            ..pod("a")
        };
        let b = RankedPod {
            uid: "b".into(),
            creation_timestamp: Some(NOW - 18_001),
            ..pod("b")
        };
        assert!(delete_before(&a, &b, NOW, true));
        assert!(!delete_before(&b, &a, NOW, true));
        let b2 = RankedPod {
            uid: "a".into(),
            ..b
        };
        assert!(!delete_before(&a, &b2, NOW, true));
        assert!(!delete_before(&b2, &a, NOW, true));
    }

    #[test]
    fn null_time_first_and_restarts() {
        let a = RankedPod {
            ready_last_transition_time: None,
            ..pod("a")
        };
        let b = RankedPod {
            ready_last_transition_time: Some(NOW - 100),
            ..pod("b")
        };
        assert!(delete_before(&a, &b, NOW, true));
        let c = RankedPod {
            max_container_restarts: 3,
            ..pod("c")
        };
        let d = RankedPod {
            max_container_restarts: 2,
            ..pod("d")
        };
        assert!(delete_before(&c, &d, NOW, true));
        let e = RankedPod {
            max_sidecar_restarts: 3,
            ..pod("e")
        };
        assert!(delete_before(&e, &pod("f"), NOW, true));
    }

    #[test]
    fn sort_is_stable_and_ordered() {
        let mut pods = vec![
            pod("r1"),
            RankedPod {
                phase: "Pending".into(),
                ..pod("p")
            },
            pod("r2"),
            RankedPod {
                node_name: String::new(),
                phase: "Pending".into(),
                ..pod("u")
            },
        ];
        sort_for_deletion(&mut pods, NOW, true);
        let names: Vec<_> = pods.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["u", "p", "r1", "r2"]);
    }
}
