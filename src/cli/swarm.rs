//! `kubetwin swarm SCENARIO --runs N [--seed S]`: for each seed, a fault mix drawn from
//! the seed is injected, healed at the cut-off, and the cluster must converge to its
//! desired state within `--converge-within`. A run that does not exits 1 and prints the
//! command that reproduces it.

use super::{EXIT_CHECK_FAILED, EXIT_OK, Output};
use crate::engine::SimDuration;
use crate::error::Error;
use crate::faults::swarm::{SwarmRun, run_swarm};
use crate::workload::Scenario;
use std::path::PathBuf;

/// `kubetwin swarm` arguments.
#[derive(Debug, clap::Args)]
pub struct SwarmArgs {
    /// The scenario file.
    pub scenario: PathBuf,
    /// How many seeds to run.
    #[arg(long, default_value_t = 10)]
    pub runs: u64,
    /// The first seed (default: the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// When every fault is healed (default: the scenario's duration).
    #[arg(long, value_parser = parse_duration)]
    pub cutoff: Option<SimDuration>,
    /// How long after the cut-off the cluster has to be back at its desired state.
    #[arg(long, value_parser = parse_duration, default_value = "10m")]
    pub converge_within: SimDuration,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: Output,
}

fn parse_duration(s: &str) -> Result<SimDuration, String> {
    SimDuration::parse(s).map_err(|e| e.to_string())
}

/// Runs the command.
pub fn swarm(args: &SwarmArgs) -> Result<i32, Error> {
    if args.runs == 0 {
        return Err(Error::Usage("--runs must be at least 1".into()));
    }
    if args.converge_within == SimDuration::ZERO {
        return Err(Error::Usage(
            "--converge-within must be greater than 0".into(),
        ));
    }
    let scenario = Scenario::load(&args.scenario)?;
    for w in &scenario.warnings {
        eprintln!("{w}");
    }
    let first = args.seed.unwrap_or(scenario.seed);
    let cutoff = args.cutoff.unwrap_or(scenario.duration);
    if cutoff == SimDuration::ZERO {
        return Err(Error::Usage("--cutoff must be greater than 0".into()));
    }
    let runs = run_swarm(&scenario, first, args.runs, cutoff, args.converge_within)?;
    match args.output {
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(&runs).unwrap_or_default()
        ),
        _ => print!("{}", table(&runs)),
    }
    let failed: Vec<&SwarmRun> = runs.iter().filter(|r| !r.converged()).collect();
    let passed = runs.len() - failed.len();
    eprintln!(
        "swarm: {passed}/{} runs converged within {} of the cut-off at {cutoff}",
        runs.len(),
        args.converge_within
    );
    for r in &failed {
        eprintln!(
            "seed {} did not converge; reproduce with:\n  {}",
            r.seed,
            reproduce(args, r.seed, cutoff)
        );
    }
    Ok(if failed.is_empty() {
        EXIT_OK
    } else {
        EXIT_CHECK_FAILED
    })
}

/// The one command that reproduces the swarm run of `seed`.
pub fn reproduce(args: &SwarmArgs, seed: u64, cutoff: SimDuration) -> String {
    format!(
        "kubetwin swarm {} --seed {seed} --runs 1 --cutoff {cutoff} --converge-within {}",
        args.scenario.display(),
        args.converge_within
    )
}

fn table(runs: &[SwarmRun]) -> String {
    let mut s = String::from("SEED  FAULTS  RESULT\n");
    for r in runs {
        s.push_str(&format!(
            "{:<5} {:<7} {}\n",
            r.seed,
            r.faults.len(),
            if r.converged() {
                "converged".to_string()
            } else {
                format!("NOT CONVERGED ({} violations)", r.violations.len())
            }
        ));
        for f in &r.faults {
            let end = f
                .end_s
                .map_or_else(|| "-".to_string(), |e| format!("{e:.0}s"));
            s.push_str(&format!(
                "      {:>6.0}s..{end:<7} {}\n",
                f.start_s, f.description
            ));
        }
        for v in &r.violations {
            s.push_str(&format!("      violation: {v}\n"));
        }
    }
    s
}
