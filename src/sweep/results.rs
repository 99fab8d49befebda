//! What a sweep measures and how it is aggregated.
//!
//! Every numeric leaf of a run's summary.json is a metric, named by its dotted path
//! (`pods.pending`, `cost.total`, `load.web.dropped_pct`; list items as `[i]`); booleans
//! and strings are not metrics, and the run's `seed` is left out. `expectations.passed`
//! (1 when every expectation held, else 0) is added. Metric columns are
//! `expectations.passed` first, then every other name seen in any run, sorted.
//!
//! Per grid point, each metric's p5/p50/p95/p99 are nearest-rank percentiles
//! ([`crate::metrics::percentile_f64`]: the value at rank `ceil(p/100 * n)`, at least 1,
//! of the n sorted values) over the seeds where the metric is defined; a metric defined
//! in no seed of a point has empty cells.

use super::grid::Grid;
use crate::error::Error;
use crate::metrics::percentile_f64;
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// The metric added to the summary's leaves.
pub const PASSED: &str = "expectations.passed";

/// One run's metrics, sorted by name.
#[derive(Debug, Clone, PartialEq)]
pub struct RunResult {
    /// The run index (see [`super::grid`]).
    pub run: usize,
    /// Whether every expectation held.
    pub passed: bool,
    /// Metric values by name (sorted; without [`PASSED`]).
    pub metrics: Vec<(String, f64)>,
}

/// The numeric leaves of a summary, by dotted path (sorted), without `seed`.
pub fn flatten(summary: &Value) -> Vec<(String, f64)> {
    fn walk(v: &Value, path: &mut String, out: &mut Vec<(String, f64)>) {
        match v {
            Value::Number(n) => {
                if let Some(f) = n.as_f64() {
                    out.push((path.clone(), f));
                }
            }
            Value::Object(m) => {
                for (k, v) in m {
                    let len = path.len();
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(k);
                    walk(v, path, out);
                    path.truncate(len);
                }
            }
            Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    let len = path.len();
                    let _ = write!(path, "[{i}]");
                    walk(v, path, out);
                    path.truncate(len);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(summary, &mut String::new(), &mut out);
    out.retain(|(k, _)| k != "seed" && k != PASSED);
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// All runs of a sweep (or shard) in run order, with the metric columns.
#[derive(Debug, Clone, PartialEq)]
pub struct RunTable {
    /// Metric names: [`PASSED`], then the rest sorted.
    pub metrics: Vec<String>,
    /// Per run: (run index, values per metric).
    pub rows: Vec<(usize, Vec<Option<f64>>)>,
}

impl RunTable {
    /// Builds the table from run results (sorted by run index).
    pub fn new(results: &[RunResult]) -> RunTable {
        let names: BTreeSet<&str> = results
            .iter()
            .flat_map(|r| r.metrics.iter().map(|(k, _)| k.as_str()))
            .collect();
        let mut metrics = vec![PASSED.to_string()];
        metrics.extend(names.into_iter().map(str::to_string));
        let rows = results
            .iter()
            .map(|r| {
                let mut v = vec![None; metrics.len()];
                v[0] = Some(if r.passed { 1.0 } else { 0.0 });
                // Both sorted: one merge pass.
                let mut j = 1;
                for (k, x) in &r.metrics {
                    while j < metrics.len() && metrics[j].as_str() < k.as_str() {
                        j += 1;
                    }
                    if j < metrics.len() && metrics[j] == *k {
                        v[j] = Some(*x);
                    }
                }
                (r.run, v)
            })
            .collect();
        RunTable { metrics, rows }
    }

    /// The column of `metric`.
    pub fn column(&self, metric: &str) -> Option<usize> {
        self.metrics.iter().position(|m| m == metric)
    }

    /// `runs.csv`: run, point, the parameters, seed, then the metrics (empty: undefined).
    pub fn to_csv(&self, grid: &Grid) -> Result<String, Error> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header = vec!["run".to_string(), "point".to_string()];
        header.extend(grid.axes.iter().map(|a| a.name.clone()));
        header.push("seed".to_string());
        header.extend(self.metrics.iter().cloned());
        w.write_record(&header).map_err(csv_err)?;
        for (run, vals) in &self.rows {
            let (point, seed) = grid.run(*run);
            let mut rec = vec![run.to_string(), point.to_string()];
            rec.extend(grid.values(point).iter().map(|s| s.to_string()));
            rec.push(grid.seeds[seed].to_string());
            rec.extend(vals.iter().map(|v| fmt_opt(*v)));
            w.write_record(&rec).map_err(csv_err)?;
        }
        finish(w)
    }

    /// Reads a `runs.csv` written by [`RunTable::to_csv`] for `grid`.
    pub fn from_csv(text: &str, grid: &Grid, file: &str) -> Result<RunTable, Error> {
        let bad = |m: String| Error::Usage(format!("{file}: {m}"));
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = r
            .headers()
            .map_err(|e| bad(e.to_string()))?
            .iter()
            .map(str::to_string)
            .collect();
        let fixed = 3 + grid.axes.len();
        let mut expected = vec!["run".to_string(), "point".to_string()];
        expected.extend(grid.axes.iter().map(|a| a.name.clone()));
        expected.push("seed".to_string());
        if header.len() <= fixed || header[..fixed] != expected[..] || header[fixed] != PASSED {
            return Err(bad(format!(
                "not a runs.csv of this sweep (expected columns {}, {PASSED}, ...)",
                expected.join(", ")
            )));
        }
        let metrics = header[fixed..].to_vec();
        let mut rows = Vec::new();
        for (i, rec) in r.records().enumerate() {
            let rec = rec.map_err(|e| bad(e.to_string()))?;
            let line = i + 2;
            let run: usize = rec
                .get(0)
                .and_then(|s| s.parse().ok())
                .filter(|&r| r < grid.runs())
                .ok_or_else(|| bad(format!("line {line}: bad run index")))?;
            let mut vals = Vec::with_capacity(metrics.len());
            for (j, name) in header.iter().enumerate().skip(fixed) {
                let cell = rec.get(j).unwrap_or("");
                vals.push(if cell.is_empty() {
                    None
                } else {
                    Some(cell.parse::<f64>().map_err(|_| {
                        bad(format!("line {line}: {name}: {cell:?} is not a number"))
                    })?)
                });
            }
            rows.push((run, vals));
        }
        Ok(RunTable { metrics, rows })
    }

    /// Merges tables (their metric sets may differ) into one, sorted by run index.
    pub fn merge(tables: Vec<RunTable>) -> RunTable {
        let names: BTreeSet<String> = tables
            .iter()
            .flat_map(|t| t.metrics.iter().skip(1).cloned())
            .collect();
        let mut metrics = vec![PASSED.to_string()];
        metrics.extend(names);
        let mut rows = Vec::new();
        for t in tables {
            let map: Vec<usize> = t
                .metrics
                .iter()
                .map(|m| metrics.iter().position(|x| x == m).unwrap_or(0))
                .collect();
            for (run, vals) in t.rows {
                let mut v = vec![None; metrics.len()];
                for (j, x) in vals.into_iter().enumerate() {
                    v[map[j]] = x;
                }
                rows.push((run, v));
            }
        }
        rows.sort_by_key(|r| r.0);
        RunTable { metrics, rows }
    }
}

/// Percentiles of one metric at one grid point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    /// 5th percentile (plots only).
    pub p5: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
}

impl Spread {
    /// Nearest-rank percentiles of the defined values; none without any.
    pub fn of(values: &[Option<f64>]) -> Option<Spread> {
        let mut v: Vec<f64> = values.iter().flatten().copied().collect();
        v.sort_by(f64::total_cmp);
        Some(Spread {
            p5: percentile_f64(&v, 5.0)?,
            p50: percentile_f64(&v, 50.0)?,
            p95: percentile_f64(&v, 95.0)?,
            p99: percentile_f64(&v, 99.0)?,
        })
    }
}

/// One grid point's aggregate.
#[derive(Debug, Clone, PartialEq)]
pub struct PointSummary {
    /// The grid point.
    pub point: usize,
    /// Runs (seeds).
    pub runs: usize,
    /// Runs whose expectations all held.
    pub passed: usize,
    /// Per metric (in [`RunTable::metrics`] order).
    pub spreads: Vec<Option<Spread>>,
}

impl PointSummary {
    /// Share of runs whose expectations all held.
    pub fn pass_share(&self) -> f64 {
        if self.runs == 0 {
            0.0
        } else {
            self.passed as f64 / self.runs as f64
        }
    }
}

/// The aggregate of a complete run table: one entry per grid point, in order.
pub fn summarize(grid: &Grid, table: &RunTable) -> Vec<PointSummary> {
    let k = grid.seeds.len();
    (0..grid.points())
        .map(|p| {
            let rows = &table.rows[p * k..(p + 1) * k];
            let passed = rows.iter().filter(|r| r.1[0] == Some(1.0)).count();
            let mut col = Vec::with_capacity(k);
            let spreads = (0..table.metrics.len())
                .map(|j| {
                    col.clear();
                    col.extend(rows.iter().map(|r| r.1[j]));
                    Spread::of(&col)
                })
                .collect();
            PointSummary {
                point: p,
                runs: k,
                passed,
                spreads,
            }
        })
        .collect()
}

/// `sweep.csv`: one row per grid point: the parameters, runs, pass_share, then
/// `<metric>_p50,<metric>_p95,<metric>_p99` per metric.
pub fn sweep_csv(grid: &Grid, table: &RunTable, points: &[PointSummary]) -> Result<String, Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = grid.axes.iter().map(|a| a.name.clone()).collect();
    header.push("runs".to_string());
    header.push("pass_share".to_string());
    for m in &table.metrics {
        for p in ["p50", "p95", "p99"] {
            header.push(format!("{m}_{p}"));
        }
    }
    w.write_record(&header).map_err(csv_err)?;
    for s in points {
        let mut rec: Vec<String> = grid.values(s.point).iter().map(|v| v.to_string()).collect();
        rec.push(s.runs.to_string());
        rec.push(s.pass_share().to_string());
        for sp in &s.spreads {
            match sp {
                Some(x) => rec.extend([x.p50, x.p95, x.p99].iter().map(|v| v.to_string())),
                None => rec.extend([String::new(), String::new(), String::new()]),
            }
        }
        w.write_record(&rec).map_err(csv_err)?;
    }
    finish(w)
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

fn csv_err(e: csv::Error) -> Error {
    Error::Internal(format!("csv: {e}"))
}

fn finish(w: csv::Writer<Vec<u8>>) -> Result<String, Error> {
    let bytes = w
        .into_inner()
        .map_err(|e| Error::Internal(format!("csv: {e}")))?;
    String::from_utf8(bytes).map_err(|e| Error::Internal(format!("csv: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::grid::Axis;
    use crate::sweep::values::ParamValue;
    use serde_json::json;

    #[test]
    fn flatten_takes_numeric_leaves() {
        let s = json!({"seed": 4, "passed": true, "nodes": {"total": 3},
            "cost": {"total": 1.5, "groups": {"a": {"min": 1}}},
            "scheduling": {"latency_ms_p50": null}, "l": [{"x": 2}], "scenario": "s"});
        let f = flatten(&s);
        let names: Vec<&str> = f.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            ["cost.groups.a.min", "cost.total", "l[0].x", "nodes.total"]
        );
        assert_eq!(f[1].1, 1.5);
    }

    fn grid(seeds: usize) -> Grid {
        Grid {
            axes: vec![Axis {
                name: "n".into(),
                paths: vec![],
                values: vec![ParamValue::new("1"), ParamValue::new("2")],
            }],
            seeds: (1..=seeds as u64).collect(),
        }
    }

    fn results(seeds: usize) -> Vec<RunResult> {
        (0..2 * seeds)
            .map(|run| RunResult {
                run,
                passed: run % 3 != 0,
                metrics: if run == 1 {
                    vec![("a".into(), run as f64)]
                } else {
                    vec![("a".into(), run as f64), ("b".into(), 0.5)]
                },
            })
            .collect()
    }

    #[test]
    fn table_and_percentiles() {
        let g = grid(20);
        let t = RunTable::new(&results(20));
        assert_eq!(t.metrics, [PASSED, "a", "b"]);
        assert_eq!(t.rows[1].1, [Some(1.0), Some(1.0), None]);
        let pts = summarize(&g, &t);
        assert_eq!(pts.len(), 2);
        // Point 0 holds runs 0..20: a = 0..19; nearest rank p50 = 10th value = 9.
        let a = pts[0].spreads[1].unwrap();
        assert_eq!((a.p5, a.p50, a.p95, a.p99), (0.0, 9.0, 18.0, 19.0));
        assert_eq!(pts[0].passed, 13);
        let csv = sweep_csv(&g, &t, &pts).unwrap();
        let head = csv.lines().next().unwrap();
        assert_eq!(
            head,
            "n,runs,pass_share,expectations.passed_p50,expectations.passed_p95,expectations.passed_p99,a_p50,a_p95,a_p99,b_p50,b_p95,b_p99"
        );
        assert!(
            csv.lines()
                .nth(1)
                .unwrap()
                .starts_with("1,20,0.65,1,1,1,9,18,19,0.5,")
        );
    }

    #[test]
    fn runs_csv_round_trips_and_merges() {
        let g = grid(3);
        let all = RunTable::new(&results(3));
        let text = all.to_csv(&g).unwrap();
        assert_eq!(RunTable::from_csv(&text, &g, "r.csv").unwrap(), all);
        // Two halves with different metric sets merge back into the whole.
        let r = results(3);
        let (odd, even): (Vec<_>, Vec<_>) = r.into_iter().partition(|x| x.run % 2 == 1);
        let merged = RunTable::merge(vec![RunTable::new(&odd), RunTable::new(&even)]);
        assert_eq!(merged, all);
        assert!(RunTable::from_csv("x,y\n", &g, "r.csv").is_err());
    }
}
