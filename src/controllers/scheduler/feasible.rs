//! How many feasible nodes the scheduler looks for before it stops running Filter plugins.
//!
//! Port of `pkg/scheduler/schedule_one.go`: `(*Scheduler).numFeasibleNodesToFind` with the
//! constants `minFeasibleNodesToFind` and `minFeasibleNodesPercentageToFind`.

/// Upstream `minFeasibleNodesToFind`: below this many nodes every node is filtered.
pub const MIN_FEASIBLE_NODES_TO_FIND: i64 = 100;

/// Upstream `minFeasibleNodesPercentageToFind`: floor of the adaptive percentage.
pub const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND: i64 = 5;

/// Number of feasible nodes to find out of `num_all_nodes`.
///
/// `percentage_of_nodes_to_score` is the effective setting (the profile value if set, else the
/// global one); 0 means unset and selects the adaptive percentage
/// `max(50 - num_all_nodes / 125, 5)`. The result is `max(num_all_nodes * pct / 100, 100)`,
/// or `num_all_nodes` itself when fewer than 100 nodes exist. Computed in `i64` (upstream uses
/// `int32`, which could only differ on overflow beyond ~21 million nodes).
pub fn num_feasible_nodes_to_find(percentage_of_nodes_to_score: i64, num_all_nodes: i64) -> i64 {
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND {
        return num_all_nodes;
    }
    let mut percentage = percentage_of_nodes_to_score;
    if percentage == 0 {
        percentage = (50 - num_all_nodes / 125).max(MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND);
    }
    let num_nodes = num_all_nodes.saturating_mul(percentage) / 100;
    num_nodes.max(MIN_FEASIBLE_NODES_TO_FIND)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Rows of upstream pkg/scheduler/schedule_one_test.go TestNumFeasibleNodesToFind.
    #[test]
    fn upstream_rows() {
        // (profile pct, global pct, numAllNodes, want); profile pct wins when set.
        let rows: &[(Option<i64>, i64, i64, i64)] = &[
            (None, 0, 10, 10),
            (None, 40, 10, 10),
            (None, 0, 1000, 420),
            (None, 40, 1000, 400),
            (None, 0, 6000, 300),
            (None, 40, 6000, 2400),
            (Some(40), 0, 1000, 400),
            (Some(40), 50, 1000, 400),
            (Some(50), 40, 1000, 500),
            (Some(40), 0, 6000, 2400),
        ];
        for &(profile, global, n, want) in rows {
            let pct = profile.unwrap_or(global);
            assert_eq!(
                num_feasible_nodes_to_find(pct, n),
                want,
                "{profile:?} {global} {n}"
            );
        }
    }

    #[test]
    fn boundaries() {
        assert_eq!(num_feasible_nodes_to_find(0, 0), 0);
        assert_eq!(num_feasible_nodes_to_find(0, 99), 99);
        assert_eq!(num_feasible_nodes_to_find(0, 100), 100);
        // 5000 nodes: pct = 50 - 40 = 10 -> 500.
        assert_eq!(num_feasible_nodes_to_find(0, 5000), 500);
        assert_eq!(num_feasible_nodes_to_find(1, 1000), 100);
        assert_eq!(num_feasible_nodes_to_find(100, 1000), 1000);
    }
}
