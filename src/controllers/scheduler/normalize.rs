//! Score helpers shared by scheduler plugins: `DefaultNormalizeScore` and the broken linear
//! function used by `RequestedToCapacityRatio`.
//!
//! Port of `pkg/scheduler/framework/plugins/helper/normalize_score.go` (`DefaultNormalizeScore`)
//! and `pkg/scheduler/framework/plugins/helper/shape_score.go` (`BuildBrokenLinearFunction`).

/// Upstream `framework.MaxNodeScore`.
pub const MAX_NODE_SCORE: i64 = 100;

/// Upstream `framework.MinNodeScore`.
pub const MIN_NODE_SCORE: i64 = 0;

/// Upstream `config.MaxCustomPriorityScore`: the top of the RequestedToCapacityRatio shape scale.
pub const MAX_CUSTOM_PRIORITY_SCORE: i64 = 10;

/// Normalizes `scores` in place to `[0, max_priority]`, reversing them when `reverse`.
///
/// Port of `helper.DefaultNormalizeScore`: with m = max(scores) (never below 0), when m is 0
/// every score becomes `max_priority` if `reverse` and is left unchanged otherwise; else each
/// score s becomes `max_priority * s / m` (truncating division) and then
/// `max_priority - that` when `reverse`.
pub fn default_normalize_score(max_priority: i64, reverse: bool, scores: &mut [i64]) {
    let max_count = scores.iter().copied().fold(0_i64, i64::max);
    if max_count == 0 {
        if reverse {
            scores.iter_mut().for_each(|s| *s = max_priority);
        }
        return;
    }
    for s in scores.iter_mut() {
        // i128 keeps the product exact; the quotient fits i64 for non-negative inputs <= m.
        let scaled = match max_priority.checked_mul(*s) {
            Some(v) => v / max_count,
            None => (i128::from(max_priority) * i128::from(*s) / i128::from(max_count)) as i64,
        };
        *s = if reverse {
            max_priority - scaled
        } else {
            scaled
        };
    }
}

/// One point of a broken linear function shape (upstream `helper.FunctionShapePoint`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunctionShapePoint {
    /// X coordinate (utilization).
    pub utilization: i64,
    /// Y coordinate (score).
    pub score: i64,
}

/// Evaluates the broken linear function through `shape` (sorted by utilization) at `p`.
///
/// Port of `helper.BuildBrokenLinearFunction`: the first score for `p <= x0`, the last score
/// for `p` beyond the last point, otherwise linear interpolation on the first segment whose
/// right end is `>= p`, in integer arithmetic truncating toward zero. An empty shape (upstream
/// panics; configuration validation forbids it) yields 0.
pub fn broken_linear_function(shape: &[FunctionShapePoint], p: i64) -> i64 {
    for (i, pt) in shape.iter().enumerate() {
        if p <= pt.utilization {
            if i == 0 {
                return pt.score;
            }
            let prev = shape[i - 1];
            let dx = pt.utilization - prev.utilization;
            if dx == 0 {
                // Only reachable with duplicate x values (invalid config): p == prev.x here.
                return pt.score;
            }
            return prev.score + (pt.score - prev.score) * (p - prev.utilization) / dx;
        }
    }
    shape.last().map_or(0, |pt| pt.score)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(max: i64, reverse: bool, scores: &[i64]) -> Vec<i64> {
        let mut v = scores.to_vec();
        default_normalize_score(max, reverse, &mut v);
        v
    }

    // Rows of upstream helper/normalize_score_test.go TestDefaultNormalizeScore.
    #[test]
    fn normalize_upstream_rows() {
        assert_eq!(
            norm(100, false, &[1, 2, 3, 4, 5]),
            vec![20, 40, 60, 80, 100]
        );
        assert_eq!(norm(100, true, &[1, 2, 3, 4, 5]), vec![80, 60, 40, 20, 0]);
        assert_eq!(norm(10, false, &[1, 2, 3, 4, 5]), vec![2, 4, 6, 8, 10]);
        assert_eq!(norm(10, true, &[1, 2, 3, 4, 5]), vec![8, 6, 4, 2, 0]);
        assert_eq!(norm(100, false, &[1, 1, 1, 1]), vec![100, 100, 100, 100]);
        assert_eq!(norm(100, false, &[1000, 1, 1, 1]), vec![100, 0, 0, 0]);
        assert_eq!(norm(100, true, &[0, 1, 1, 1]), vec![100, 0, 0, 0]);
        assert_eq!(norm(100, false, &[0, 0, 0, 0]), vec![0, 0, 0, 0]);
        assert_eq!(norm(100, true, &[0, 0, 0, 0]), vec![100, 100, 100, 100]);
    }

    fn shape(points: &[(i64, i64)]) -> Vec<FunctionShapePoint> {
        points
            .iter()
            .map(|&(utilization, score)| FunctionShapePoint { utilization, score })
            .collect()
    }

    // Rows of upstream helper/shape_score_test.go / requested_to_capacity_ratio_test.go
    // TestBrokenLinearFunction.
    /// (shape points, (p, expected) checks).
    type ShapeCase<'a> = (&'a [(i64, i64)], &'a [(i64, i64)]);

    #[test]
    fn broken_linear_upstream_rows() {
        let cases: &[ShapeCase<'_>] = &[
            (
                &[(10, 1), (90, 9)],
                &[
                    (-10, 1),
                    (0, 1),
                    (9, 1),
                    (10, 1),
                    (15, 1),
                    (19, 1),
                    (20, 2),
                    (89, 8),
                    (90, 9),
                    (99, 9),
                    (100, 9),
                    (110, 9),
                ],
            ),
            (
                &[(0, 2), (40, 10), (100, 0)],
                &[
                    (-10, 2),
                    (0, 2),
                    (20, 6),
                    (30, 8),
                    (40, 10),
                    (70, 5),
                    (100, 0),
                    (110, 0),
                ],
            ),
            (
                &[(0, 2), (40, 2), (100, 2)],
                &[
                    (-10, 2),
                    (0, 2),
                    (20, 2),
                    (30, 2),
                    (40, 2),
                    (70, 2),
                    (100, 2),
                    (110, 2),
                ],
            ),
        ];
        for (pts, checks) in cases {
            let s = shape(pts);
            for &(p, want) in *checks {
                assert_eq!(broken_linear_function(&s, p), want, "shape {pts:?} p {p}");
            }
        }
        assert_eq!(broken_linear_function(&[], 5), 0);
    }
}
