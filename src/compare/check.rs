//! `check`'s verdict: every metric of every scenario, baseline mean against current mean,
//! judged with its tolerance ([`super::tolerance`]), and the rendering of that report.

use super::baseline::{Baseline, Mismatch};
use super::metric::{Metric, format_signed, format_value};
use super::seeds::format_seeds;
use super::table::{Format, NA, markdown_table, text_table};
use super::tolerance::{Status, Tolerance, Tolerances, judge};
use serde_json::{Value, json};

/// One metric's verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckRow {
    /// The metric.
    pub metric: Metric,
    /// The baseline mean.
    pub baseline: Option<f64>,
    /// The current mean.
    pub current: Option<f64>,
    /// The tolerance applied.
    pub tolerance: Tolerance,
    /// The worsening allowed (none without a baseline value).
    pub allowed: Option<f64>,
    /// The verdict.
    pub status: Status,
}

/// The verdicts of one scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioCheck {
    /// Scenario name.
    pub name: String,
    /// Scenario file (current).
    pub file: String,
    /// One row per metric, in [`Metric::ALL`] order.
    pub rows: Vec<CheckRow>,
}

/// The full `check` report.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckReport {
    /// Seeds.
    pub seeds: Vec<u64>,
    /// Per scenario, in the current order.
    pub scenarios: Vec<ScenarioCheck>,
}

impl CheckReport {
    /// The number of regressed metrics over all scenarios.
    pub fn regressions(&self) -> usize {
        self.scenarios
            .iter()
            .flat_map(|s| &s.rows)
            .filter(|r| r.status == Status::Regressed)
            .count()
    }
}

/// Compares `current` (built like a baseline, so rounded the same way) with `baseline`.
pub fn check(
    baseline: &Baseline,
    current: &Baseline,
    tolerances: &Tolerances,
) -> Result<CheckReport, Mismatch> {
    baseline.matches(current)?;
    let scenarios = current
        .scenarios
        .iter()
        .map(|cur| {
            let base = baseline.scenario(&cur.name);
            ScenarioCheck {
                name: cur.name.clone(),
                file: cur.file.clone(),
                rows: Metric::ALL
                    .iter()
                    .map(|&m| {
                        let b = base.and_then(|s| s.mean(m));
                        let c = cur.mean(m);
                        let tolerance = tolerances.get(m);
                        CheckRow {
                            metric: m,
                            baseline: b,
                            current: c,
                            tolerance,
                            allowed: b.map(|b| tolerance.allowed(m, b)),
                            status: judge(m, b, c, tolerance),
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    Ok(CheckReport {
        seeds: current.seeds.clone(),
        scenarios,
    })
}

fn change(r: &CheckRow) -> String {
    let dec = r.metric.unit().decimals();
    match (r.baseline, r.current) {
        (Some(b), Some(c)) => {
            let d = c - b;
            if b.abs() > 1e-12 {
                format!(
                    "{} ({}%)",
                    format_signed(d, dec),
                    format_signed(d * 100.0 / b.abs(), 1)
                )
            } else {
                format_signed(d, dec)
            }
        }
        _ => NA.to_string(),
    }
}

fn rows(s: &ScenarioCheck) -> Vec<Vec<String>> {
    s.rows
        .iter()
        .filter(|r| r.status != Status::NotApplicable)
        .map(|r| {
            let m = r.metric;
            let dec = m.unit().decimals();
            let f = |v: Option<f64>| v.map_or_else(|| NA.to_string(), |v| format_value(v, dec));
            let allowed = if m.direction() == super::metric::Direction::Neutral {
                "-".to_string()
            } else {
                format!(
                    "{} ({})",
                    r.allowed
                        .map_or_else(|| NA.to_string(), |a| format_value(a, dec.max(2))),
                    r.tolerance.describe()
                )
            };
            vec![
                m.label(),
                m.direction().as_str().to_string(),
                f(r.baseline),
                f(r.current),
                change(r),
                allowed,
                r.status.as_str().to_string(),
            ]
        })
        .collect()
}

const HEADER: [&str; 7] = [
    "METRIC", "BETTER", "BASELINE", "CURRENT", "CHANGE", "ALLOWED", "STATUS",
];

/// Renders the report.
pub fn render_check(r: &CheckReport, format: Format) -> String {
    let header: Vec<String> = HEADER.iter().map(|h| h.to_string()).collect();
    match format {
        Format::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&check_json(r)).unwrap_or_default()
        ),
        Format::Table => {
            let mut out = String::new();
            for (i, s) in r.scenarios.iter().enumerate() {
                if i > 0 {
                    out.push('\n');
                }
                out.push_str(&format!(
                    "SCENARIO  {}  ({})  seeds {}  (means over seeds)\n\n",
                    s.name,
                    s.file,
                    format_seeds(&r.seeds)
                ));
                out.push_str(&text_table(&header, &rows(s)));
            }
            out
        }
        Format::Markdown => {
            let header: Vec<String> = header.iter().map(|h| h.to_lowercase()).collect();
            let mut out = String::new();
            for (i, s) in r.scenarios.iter().enumerate() {
                if i > 0 {
                    out.push('\n');
                }
                out.push_str(&format!(
                    "### {} (`{}`), seeds {}\n\n",
                    s.name,
                    s.file,
                    format_seeds(&r.seeds)
                ));
                let mut body = rows(s);
                for row in &mut body {
                    row[0] = format!("`{}`", row[0]);
                    if row[6] == Status::Regressed.as_str() {
                        row[6] = format!("**{}**", row[6]);
                    }
                }
                out.push_str(&markdown_table(&header, &body));
            }
            out
        }
    }
}

/// The report as JSON.
pub fn check_json(r: &CheckReport) -> Value {
    json!({
        "seeds": r.seeds,
        "regressions": r.regressions(),
        "scenarios": r.scenarios.iter().map(|s| json!({
            "name": s.name,
            "file": s.file,
            "metrics": s.rows.iter().map(|row| json!({
                "metric": row.metric.key(),
                "better": row.metric.direction().as_str(),
                "baseline": row.baseline,
                "current": row.current,
                "tolerance": row.tolerance.describe(),
                "allowed": row.allowed,
                "status": row.status.as_str(),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::baseline::{BaselineScenario, BaselineValue, SCHEMA};
    use std::collections::BTreeMap;

    fn baseline(p99: f64, pending: f64) -> Baseline {
        let v = |mean| {
            Some(BaselineValue {
                mean,
                n: 2,
                p5: mean,
                p50: mean,
                p95: mean,
            })
        };
        let mut metrics = BTreeMap::new();
        metrics.insert("p99_latency".to_string(), v(p99));
        metrics.insert("pending".to_string(), v(pending));
        Baseline {
            scenarios: vec![BaselineScenario {
                file: "s.yaml".into(),
                metrics,
                name: "s".into(),
            }],
            scheduler_config: None,
            schema: SCHEMA,
            seeds: vec![1, 2],
        }
    }

    #[test]
    fn regression_beyond_tolerance_is_counted() {
        let t = Tolerances::default();
        let same = check(&baseline(100.0, 0.0), &baseline(100.0, 0.0), &t).unwrap();
        assert_eq!(same.regressions(), 0);
        let worse = check(&baseline(100.0, 0.0), &baseline(120.0, 0.0), &t).unwrap();
        assert_eq!(worse.regressions(), 1);
        let text = render_check(&worse, Format::Table);
        assert!(
            text.contains("REGRESSED") && text.contains("+20 (+20%)"),
            "{text}"
        );
        // A 20 % tolerance on p99 lets it pass; pending=0 catches a single extra pod.
        let t = Tolerances::parse(&["p99_latency=20%,pending=0".to_string()]).unwrap();
        let r = check(&baseline(100.0, 0.0), &baseline(120.0, 0.5), &t).unwrap();
        assert_eq!(r.regressions(), 1);
        assert_eq!(r.scenarios[0].rows[0].status, Status::Regressed);
        let md = render_check(&r, Format::Markdown);
        assert!(md.contains("**REGRESSED**"), "{md}");
        let j = check_json(&r);
        assert_eq!(j["regressions"], 1);
    }

    #[test]
    fn mismatch_is_reported() {
        let mut other = baseline(1.0, 0.0);
        other.seeds = vec![7];
        assert!(check(&baseline(1.0, 0.0), &other, &Tolerances::default()).is_err());
    }
}
