//! Running every (scenario, configuration, seed) of a comparison. Runs are independent
//! simulations on identical inputs (journal off, metrics on) spread over a local rayon
//! pool; results land in a vector indexed by (scenario, configuration, seed), so the
//! output does not depend on the number of threads.

use super::outcome::RunMetrics;
use crate::controllers::scheduler::config::SchedulerSettings;
use crate::error::Error;
use crate::simulation::{RunOptions, run};
use crate::workload::Scenario;
use rayon::prelude::*;

/// One scheduler configuration under comparison.
#[derive(Debug, Clone)]
pub struct ConfigEntry {
    /// Label in tables (the file stem).
    pub label: String,
    /// Where it came from (a path, or `default`).
    pub source: String,
    /// The settings; `None` runs the scenario's own scheduler settings.
    pub settings: Option<SchedulerSettings>,
}

/// What to run.
#[derive(Debug)]
pub struct RunPlan {
    /// Scenarios.
    pub scenarios: Vec<Scenario>,
    /// Configurations; the first is the baseline of comparisons.
    pub configs: Vec<ConfigEntry>,
    /// Seeds, overriding each scenario's.
    pub seeds: Vec<u64>,
}

/// The metrics of every run of a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanResults {
    configs: usize,
    seeds: usize,
    runs: Vec<RunMetrics>,
    /// Runs stopped early by the event limit, as (scenario, config, seed) indexes.
    pub truncated: Vec<(usize, usize, usize)>,
    /// Threads used.
    pub threads: usize,
}

impl PlanResults {
    /// The metrics of one run.
    pub fn get(&self, scenario: usize, config: usize, seed: usize) -> &RunMetrics {
        &self.runs[(scenario * self.configs + config) * self.seeds + seed]
    }

    /// The number of runs.
    pub fn len(&self) -> usize {
        self.runs.len()
    }

    /// True without runs.
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }
}

impl RunPlan {
    /// The number of runs.
    pub fn runs(&self) -> usize {
        self.scenarios.len() * self.configs.len() * self.seeds.len()
    }

    /// The (scenario, config, seed) indexes of run `i`.
    fn coords(&self, i: usize) -> (usize, usize, usize) {
        let (c, k) = (self.configs.len(), self.seeds.len());
        (i / (c * k), (i / k) % c, i % k)
    }

    /// Runs the plan on `jobs` threads (`None`: one per core).
    pub fn execute(&self, jobs: Option<usize>) -> Result<PlanResults, Error> {
        let mut builder = rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("kubetwin-compare-{i}"))
            // Simulations keep their state on the heap; the main thread's stack size
            // keeps deep manifests as safe as in `run`.
            .stack_size(8 << 20);
        if let Some(j) = jobs {
            builder = builder.num_threads(j.max(1));
        }
        let pool = builder
            .build()
            .map_err(|e| Error::Internal(format!("thread pool: {e}")))?;
        let outputs: Vec<Result<(RunMetrics, bool), Error>> = pool.install(|| {
            (0..self.runs())
                .into_par_iter()
                .map(|i| {
                    let (s, c, k) = self.coords(i);
                    let opts = RunOptions {
                        seed: Some(self.seeds[k]),
                        journal: false,
                        metrics: true,
                        scheduler: self.configs[c].settings.clone(),
                        ..RunOptions::default()
                    };
                    let out = run(&self.scenarios[s], &opts)?;
                    Ok((RunMetrics::from_output(&out), out.truncated))
                })
                .collect()
        });
        let mut runs = Vec::with_capacity(outputs.len());
        let mut truncated = Vec::new();
        for (i, r) in outputs.into_iter().enumerate() {
            let (m, t) = r?;
            if t {
                truncated.push(self.coords(i));
            }
            runs.push(m);
        }
        Ok(PlanResults {
            configs: self.configs.len(),
            seeds: self.seeds.len(),
            runs,
            truncated,
            threads: pool.current_num_threads(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coords_cover_every_run_once() {
        let plan = RunPlan {
            scenarios: Vec::new(),
            configs: vec![
                ConfigEntry {
                    label: "a".into(),
                    source: "a".into(),
                    settings: None,
                },
                ConfigEntry {
                    label: "b".into(),
                    source: "b".into(),
                    settings: None,
                },
            ],
            seeds: vec![1, 2, 3],
        };
        let (c, k) = (2, 3);
        for s in 0..2 {
            for ci in 0..c {
                for ki in 0..k {
                    let i = (s * c + ci) * k + ki;
                    assert_eq!(plan.coords(i), (s, ci, ki));
                }
            }
        }
    }
}
