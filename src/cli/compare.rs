//! `kubetwin compare`: runs scenarios under two or more scheduler configurations over a
//! set of seeds (in parallel) and prints, per scenario, each metric's mean per
//! configuration and the paired per-seed deltas against the first configuration. It
//! reports the wall time of the whole batch, so it may read the clock.
#![allow(clippy::disallowed_methods)]

use super::EXIT_OK;
use crate::compare::{Comparison, ConfigEntry, Format, PlanResults, RunPlan, parse_seeds};
use crate::error::Error;
use crate::workload::Scenario;
use clap::Args;
use std::path::{Path, PathBuf};

/// The default `--seeds`.
pub const DEFAULT_SEEDS: &str = "1..10";

/// Arguments of `compare`.
#[derive(Debug, Clone, Args)]
pub struct CompareArgs {
    /// Scenario files.
    #[arg(required = true)]
    pub scenarios: Vec<PathBuf>,
    /// A KubeSchedulerConfiguration file; give it at least twice (the first is the
    /// baseline configuration).
    #[arg(long = "scheduler-config", value_name = "FILE")]
    pub scheduler_configs: Vec<PathBuf>,
    /// Seeds: `1..20` (inclusive), `5`, `1,2,7`, or a mix (`1..3,9`).
    #[arg(long, default_value = DEFAULT_SEEDS)]
    pub seeds: String,
    /// Runs in parallel (default: one per core).
    #[arg(short = 'j', long)]
    pub jobs: Option<usize>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: Format,
}

/// Parses `--seeds` (a usage error on bad syntax).
pub fn seeds(text: &str) -> Result<Vec<u64>, Error> {
    parse_seeds(text).map_err(|e| Error::Usage(e.to_string()))
}

/// Checks `--jobs`.
pub fn jobs(j: Option<usize>) -> Result<Option<usize>, Error> {
    match j {
        Some(0) => Err(Error::Usage("--jobs: must be at least 1".to_string())),
        j => Ok(j),
    }
}

/// Loads scenario files, printing their warnings.
pub fn load_scenarios(paths: &[PathBuf]) -> Result<Vec<Scenario>, Error> {
    let mut v = Vec::with_capacity(paths.len());
    for p in paths {
        let s = Scenario::load(p)?;
        for w in &s.warnings {
            eprintln!("{w}");
        }
        v.push(s);
    }
    Ok(v)
}

/// A configuration's label: the file stem.
pub fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Loads scheduler configuration files; labels are file stems, or the paths when two
/// stems are the same.
pub fn load_configs(paths: &[PathBuf]) -> Result<Vec<ConfigEntry>, Error> {
    let stems: Vec<String> = paths.iter().map(|p| stem(p)).collect();
    let mut v = Vec::with_capacity(paths.len());
    for (i, p) in paths.iter().enumerate() {
        let settings = crate::controllers::scheduler::plugins::gpu::framework::load_config(p)?;
        let unique = stems.iter().filter(|s| **s == stems[i]).count() == 1;
        v.push(ConfigEntry {
            label: if unique {
                stems[i].clone()
            } else {
                p.display().to_string()
            },
            source: p.display().to_string(),
            settings: Some(settings),
        });
    }
    Ok(v)
}

/// Runs a plan, reporting `VERB: N runs on J threads in X s` on stderr.
pub fn execute(verb: &str, plan: &RunPlan, jobs: Option<usize>) -> Result<PlanResults, Error> {
    let wall = std::time::Instant::now();
    let results = plan.execute(jobs)?;
    eprintln!(
        "{verb}: {} runs on {} threads in {:.2} s",
        results.len(),
        results.threads,
        wall.elapsed().as_secs_f64()
    );
    for &(s, c, k) in &results.truncated {
        eprintln!(
            "warning: {} with {} seed {} stopped at the event limit; its metrics cover a truncated run",
            plan.scenarios[s].file, plan.configs[c].label, plan.seeds[k]
        );
    }
    Ok(results)
}

/// Runs the command.
pub fn compare(a: &CompareArgs) -> Result<i32, Error> {
    let seeds = seeds(&a.seeds)?;
    let jobs = jobs(a.jobs)?;
    if a.scheduler_configs.len() < 2 {
        return Err(Error::Usage(format!(
            "compare needs at least two --scheduler-config files (got {}); the first is the baseline",
            a.scheduler_configs.len()
        )));
    }
    let scenarios = load_scenarios(&a.scenarios)?;
    let configs = load_configs(&a.scheduler_configs)?;
    let plan = RunPlan {
        scenarios,
        configs,
        seeds,
    };
    let results = execute("compare", &plan, jobs)?;
    let comparison = Comparison::build(&plan, &results);
    print!(
        "{}",
        crate::compare::table::render_comparison(&comparison, a.output)
    );
    Ok(EXIT_OK)
}
