//! A comparison of configurations: per scenario and metric, the per-seed values of each
//! configuration, their aggregate, and the paired deltas of every other configuration
//! against the first (the baseline configuration).

use super::metric::{Direction, Metric};
use super::plan::{PlanResults, RunPlan};
use super::stats::{Aggregate, DeltaSpread, aggregate, paired_deltas};

/// One configuration's identity in a comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigLabel {
    /// Label (the file stem).
    pub label: String,
    /// Source path.
    pub source: String,
}

/// One metric of one scenario across configurations.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRow {
    /// The metric.
    pub metric: Metric,
    /// Per configuration, the value of each seed (in seed order).
    pub values: Vec<Vec<Option<f64>>>,
    /// Per configuration, the aggregate over seeds.
    pub aggregates: Vec<Option<Aggregate>>,
    /// For configurations 1.., the paired deltas against configuration 0.
    pub deltas: Vec<Option<DeltaSpread>>,
}

impl MetricRow {
    /// Whether the metric is undefined in every configuration (e.g. GPU metrics on a
    /// cluster without GPUs).
    pub fn undefined(&self) -> bool {
        self.aggregates.iter().all(Option::is_none)
    }
}

/// The comparison rows of one scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioComparison {
    /// Scenario name.
    pub name: String,
    /// Scenario file.
    pub file: String,
    /// One row per metric, in [`Metric::ALL`] order.
    pub rows: Vec<MetricRow>,
}

/// A full comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Seeds run.
    pub seeds: Vec<u64>,
    /// Configurations; the first is the baseline.
    pub configs: Vec<ConfigLabel>,
    /// Per scenario, in the order given.
    pub scenarios: Vec<ScenarioComparison>,
}

/// How a delta reads for a metric: `better`, `worse`, `same`, or empty for neutral
/// metrics.
pub fn verdict(direction: Direction, delta: f64) -> &'static str {
    if direction == Direction::Neutral {
        return "";
    }
    let w = direction.worsening(0.0, delta);
    if w.abs() < 1e-9 {
        "same"
    } else if w > 0.0 {
        "worse"
    } else {
        "better"
    }
}

impl Comparison {
    /// Builds the comparison of a plan's results.
    pub fn build(plan: &RunPlan, results: &PlanResults) -> Comparison {
        let scenarios = plan
            .scenarios
            .iter()
            .enumerate()
            .map(|(s, sc)| ScenarioComparison {
                name: sc.name.clone(),
                file: sc.file.clone(),
                rows: Metric::ALL
                    .iter()
                    .map(|&m| {
                        let values: Vec<Vec<Option<f64>>> = (0..plan.configs.len())
                            .map(|c| {
                                (0..plan.seeds.len())
                                    .map(|k| results.get(s, c, k).get(m))
                                    .collect()
                            })
                            .collect();
                        let aggregates = values.iter().map(|v| aggregate(v)).collect();
                        let deltas = values
                            .iter()
                            .skip(1)
                            .map(|v| paired_deltas(&values[0], v))
                            .collect();
                        MetricRow {
                            metric: m,
                            values,
                            aggregates,
                            deltas,
                        }
                    })
                    .collect(),
            })
            .collect();
        Comparison {
            seeds: plan.seeds.clone(),
            configs: plan
                .configs
                .iter()
                .map(|c| ConfigLabel {
                    label: c.label.clone(),
                    source: c.source.clone(),
                })
                .collect(),
            scenarios,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts() {
        assert_eq!(verdict(Direction::LowerIsBetter, -2.0), "better");
        assert_eq!(verdict(Direction::LowerIsBetter, 2.0), "worse");
        assert_eq!(verdict(Direction::HigherIsBetter, 2.0), "better");
        assert_eq!(verdict(Direction::HigherIsBetter, 0.0), "same");
        assert_eq!(verdict(Direction::Neutral, 3.0), "");
    }
}
