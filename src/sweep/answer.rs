//! The sweep's answer: the cheapest grid point whose expectations held in at least the
//! requested share of its seeds. Eligible points have `passed / runs >= confidence`;
//! among them the one with the lowest p50 of the minimised metric wins (ties: the first
//! in grid order). Points where that metric is undefined rank after those where it is
//! defined; when it is defined nowhere, the answer is the first eligible point in grid
//! order.

use super::grid::Grid;
use super::results::{PointSummary, RunTable};
use serde_json::{Value, json};

/// The default metric to minimise.
pub const DEFAULT_MINIMIZE: &str = "cost.total";

/// The outcome of the answer rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The winning grid point, if any is eligible.
    pub point: Option<usize>,
    /// The minimised metric.
    pub minimize: String,
    /// Whether that metric exists in any run.
    pub metric_present: bool,
    /// The required pass share.
    pub confidence: f64,
    /// The highest pass share of any point (for the "none" message).
    pub best_share: f64,
}

/// Whether `passed` of `runs` meets `confidence` (exact in integers: `passed >=
/// ceil(confidence * runs)` up to float rounding of the product).
pub fn meets(passed: usize, runs: usize, confidence: f64) -> bool {
    runs > 0 && passed as f64 >= confidence * runs as f64 - 1e-9
}

/// Applies the rule.
pub fn answer(
    table: &RunTable,
    points: &[PointSummary],
    minimize: &str,
    confidence: f64,
) -> Answer {
    let col = table.column(minimize);
    let p50 = |s: &PointSummary| col.and_then(|j| s.spreads[j]).map(|x| x.p50);
    let mut best: Option<(usize, Option<f64>)> = None;
    for s in points
        .iter()
        .filter(|s| meets(s.passed, s.runs, confidence))
    {
        let v = p50(s);
        let better = match (&best, v) {
            (None, _) => true,
            (Some((_, None)), Some(_)) => true,
            (Some((_, Some(b))), Some(x)) => x < *b,
            _ => false,
        };
        if better {
            best = Some((s.point, v));
        }
    }
    Answer {
        point: best.map(|b| b.0),
        minimize: minimize.to_string(),
        metric_present: col.is_some(),
        confidence,
        best_share: points
            .iter()
            .map(PointSummary::pass_share)
            .fold(0.0, f64::max),
    }
}

impl Answer {
    /// The one-line verdict printed on stdout.
    pub fn line(&self, grid: &Grid, table: &RunTable, points: &[PointSummary]) -> String {
        let pct = format_pct(self.confidence);
        match self.point {
            Some(p) => {
                let s = &points[p];
                let label = match grid.label(p) {
                    l if l.is_empty() => "the scenario as written".to_string(),
                    l => l,
                };
                let metric = match table.column(&self.minimize).and_then(|j| s.spreads[j]) {
                    Some(x) => format!("{} p50 {}", self.minimize, x.p50),
                    None => format!("{} not reported; first eligible point", self.minimize),
                };
                format!(
                    "answer: {label} ({metric}; expectations held in {}/{} seeds, >= {pct})",
                    s.passed, s.runs
                )
            }
            None => format!(
                "no grid point meets the expectations at {pct} (best pass share {})",
                format_pct(self.best_share)
            ),
        }
    }

    /// `answer.json`.
    pub fn to_json(&self, grid: &Grid, table: &RunTable, points: &[PointSummary]) -> Value {
        let point = self.point.map(|p| {
            let s = &points[p];
            let params: serde_json::Map<String, Value> = grid
                .axes
                .iter()
                .zip(grid.values(p))
                .map(|(a, v)| (a.name.clone(), Value::from(v)))
                .collect();
            let spread = table.column(&self.minimize).and_then(|j| s.spreads[j]);
            json!({
                "index": p,
                "parameters": params,
                "runs": s.runs,
                "passed": s.passed,
                "pass_share": s.pass_share(),
                "metric": spread.map(|x| json!({"p50": x.p50, "p95": x.p95, "p99": x.p99})),
            })
        });
        json!({
            "found": self.point.is_some(),
            "confidence": self.confidence,
            "minimize": self.minimize,
            "metric_present": self.metric_present,
            "best_pass_share": self.best_share,
            "point": point,
        })
    }
}

/// `0.95` as `95%`.
fn format_pct(share: f64) -> String {
    format!("{}%", (share * 10000.0).round() / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::results::{PASSED, Spread};

    fn table() -> RunTable {
        RunTable {
            metrics: vec![PASSED.into(), "cost.total".into()],
            rows: vec![],
        }
    }

    fn pt(point: usize, passed: usize, cost: Option<f64>) -> PointSummary {
        PointSummary {
            point,
            runs: 20,
            passed,
            spreads: vec![
                None,
                cost.map(|c| Spread {
                    p5: c,
                    p50: c,
                    p95: c,
                    p99: c,
                }),
            ],
        }
    }

    #[test]
    fn cheapest_eligible_point_wins() {
        let t = table();
        // 19/20 = 0.95 meets 95 %; 18/20 does not.
        let pts = [
            pt(0, 20, Some(9.0)),
            pt(1, 19, Some(5.0)),
            pt(2, 18, Some(1.0)),
        ];
        let a = answer(&t, &pts, "cost.total", 0.95);
        assert_eq!(a.point, Some(1));
        // Ties go to the first point.
        let pts = [pt(0, 20, Some(5.0)), pt(1, 20, Some(5.0))];
        assert_eq!(answer(&t, &pts, "cost.total", 0.95).point, Some(0));
        // Undefined ranks last; absent everywhere: first eligible.
        let pts = [pt(0, 20, None), pt(1, 20, Some(7.0))];
        assert_eq!(answer(&t, &pts, "cost.total", 0.95).point, Some(1));
        let a = answer(&t, &[pt(0, 1, None), pt(1, 20, None)], "nope", 0.95);
        assert_eq!((a.point, a.metric_present), (Some(1), false));
    }

    #[test]
    fn none_eligible() {
        let t = table();
        let a = answer(&t, &[pt(0, 18, Some(1.0))], "cost.total", 0.95);
        assert_eq!(a.point, None);
        assert_eq!(a.best_share, 0.9);
        assert!(meets(95, 100, 0.95) && !meets(94, 100, 0.95) && meets(1, 1, 1.0));
        assert!(!meets(0, 0, 0.0));
    }
}
