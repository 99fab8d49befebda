//! NodeResourcesBalancedAllocation scoring math.
//!
//! Port of `pkg/scheduler/framework/plugins/noderesources/balanced_allocation.go`
//! (`balancedResourceScorer`, `PreScore` / `isBestEffortPod`). The plugin uses *actual*
//! requests (no 100m / 200Mi defaults): build the inputs with
//! [`pod_request`](super::noderesources::pod_request) with `non_zero = false` and
//! [`allocatable_and_requested`](super::noderesources::allocatable_and_requested) with the
//! node's actual requested sums. Weights are not used.

use crate::controllers::scheduler::normalize::MAX_NODE_SCORE;

/// PreScore: `true` when the pod requests 0 of every configured resource, in which case the
/// plugin returns `Skip` and scores no node (upstream `isBestEffortPod`).
pub fn pre_score_skip(pod_requests: &[i64]) -> bool {
    pod_requests.iter().all(|&r| r == 0)
}

/// Balanced allocation score of one node from per-resource `requested` / `allocatable`
/// values (same order, resources with allocatable 0 left out).
///
/// fraction = min(requested / allocatable, 1) in `f64`; std = |f1 - f2| / 2 for exactly two
/// fractions, the population standard deviation for more, 0 for fewer; score =
/// trunc((1 - std) * 100). Computes in two passes without allocating, performing the same
/// floating-point operations in the same order as upstream.
pub fn balanced_resource_score(requested: &[i64], allocatable: &[i64]) -> i64 {
    let fractions = || {
        requested
            .iter()
            .zip(allocatable)
            .filter(|&(_, &a)| a != 0)
            .map(|(&r, &a)| (r as f64 / a as f64).min(1.0))
    };
    let mut n: usize = 0;
    let mut total = 0.0_f64;
    let mut first = 0.0_f64;
    let mut second = 0.0_f64;
    for f in fractions() {
        match n {
            0 => first = f,
            1 => second = f,
            _ => {}
        }
        total += f;
        n += 1;
    }
    let std = match n {
        2 => ((first - second) / 2.0).abs(),
        0 | 1 => 0.0,
        _ => {
            let mean = total / n as f64;
            let mut sum = 0.0_f64;
            for f in fractions() {
                sum += (f - mean) * (f - mean);
            }
            (sum / n as f64).sqrt()
        }
    };
    ((1.0 - std) * MAX_NODE_SCORE as f64) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    // Rows of upstream balanced_allocation_test.go TestNodeResourcesBalancedAllocation,
    // reduced to requested/allocatable integers.
    #[test]
    fn upstream_rows() {
        // 'nothing scheduled, nothing requested': pod skipped at PreScore.
        assert!(pre_score_skip(&[0, 0]));
        assert!(!pre_score_skip(&[0, 1]));
        // 'nothing scheduled, resources requested, differently sized nodes':
        // node1 cpu 3000/4000 = 0.75, mem 5000/10000 = 0.5 -> std 0.125 -> 87.
        assert_eq!(balanced_resource_score(&[3000, 5000], &[4000, 10000]), 87);
        // node2 cpu 3000/6000 = 0.5, mem 0.5 -> 100.
        assert_eq!(balanced_resource_score(&[3000, 5000], &[6000, 10000]), 100);
        // 'resources requested, pods scheduled with resources':
        // node1 cpu 6000/10000 = 0.6, mem 5000/20000 = 0.25 -> std 0.175 -> 82.
        assert_eq!(balanced_resource_score(&[6000, 5000], &[10000, 20000]), 82);
        // node2 cpu 0.6, mem 10000/20000 = 0.5 -> std 0.05 -> 95.
        assert_eq!(balanced_resource_score(&[6000, 10000], &[10000, 20000]), 95);
        // 'requested resources at node capacity': cpu 6000/6000 = 1, mem 0/10000 -> 50.
        assert_eq!(balanced_resource_score(&[6000, 0], &[6000, 10000]), 50);
        // fraction capped at 1: cpu 8000/6000 -> 1, mem 10000/10000 -> 1 -> 100.
        assert_eq!(balanced_resource_score(&[8000, 10000], &[6000, 10000]), 100);
    }

    #[test]
    fn three_resources_population_std() {
        // Upstream 'include scalar resource on a node for balanced resource allocation' style:
        // fractions 0.6, 0.25, 0.5 -> mean 0.45, var = (0.0225+0.04+0.0025)/3 = 0.021666..,
        // std = 0.14719.. -> 85.
        assert_eq!(
            balanced_resource_score(&[6000, 5000, 2], &[10000, 20000, 4]),
            85
        );
        // Resources with allocatable 0 are left out; a single fraction has std 0.
        assert_eq!(balanced_resource_score(&[6000, 5000], &[10000, 0]), 100);
        assert_eq!(balanced_resource_score(&[], &[]), 100);
    }
}
