//! `kubetwin experiment gpu-fragmentation`: the ATC'23 GPU fragmentation study on the
//! openb trace (see `docs/gpu-fragmentation.md`).

use super::EXIT_OK;
use crate::controllers::scheduler::plugins::gpu::Policy;
use crate::error::Error;
use crate::experiment::gpu_results::{
    TRACES, node_file, outputs, pod_file, results_table, run_grid, short_name, write_outputs,
};
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// `kubetwin experiment ...`
#[derive(Debug, Args)]
pub struct ExperimentArgs {
    /// The experiment.
    #[command(subcommand)]
    pub which: Experiment,
}

/// The experiments.
#[derive(Debug, Subcommand)]
pub enum Experiment {
    /// GPU allocation and fragmentation of the openb cluster under the six GPU policies.
    GpuFragmentation(GpuFragmentationArgs),
}

/// Arguments of `experiment gpu-fragmentation`.
#[derive(Debug, Args)]
pub struct GpuFragmentationArgs {
    /// The openb trace folder (`alibaba-clusterdata-gpu-v2023`, with `csv/`).
    #[arg(long, value_name = "DIR")]
    pub traces: PathBuf,
    /// Pod lists to run (`default`, `cpu050`, ...; default: the paper's 17).
    #[arg(long = "trace", value_name = "NAME")]
    pub trace: Vec<String>,
    /// Policies to run (Random, DotProd, GpuClustering, GpuPacking, BestFit, FGD; default: all).
    #[arg(long = "policy", value_name = "NAME")]
    pub policy: Vec<String>,
    /// Seeds: `42..51` (inclusive), `1,2,3` or one number.
    #[arg(long, default_value = "42..51")]
    pub seeds: String,
    /// Node list (default: `csv/openb_node_list_gpu_node.csv` under `--traces`).
    #[arg(long, value_name = "FILE")]
    pub nodes: Option<PathBuf>,
    /// Output folder.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// Parses `42..51` (inclusive), `1,2,3` or `7`.
pub fn parse_seeds(s: &str) -> Result<Vec<u64>, Error> {
    let bad = || {
        Error::Usage(format!(
            "--seeds {s:?}: expected A..B, a comma list or a number"
        ))
    };
    if let Some((a, b)) = s.split_once("..") {
        let b = b.strip_prefix('=').unwrap_or(b);
        let (a, b): (u64, u64) = (
            a.trim().parse().map_err(|_| bad())?,
            b.trim().parse().map_err(|_| bad())?,
        );
        if b < a || b - a > 100_000 {
            return Err(bad());
        }
        return Ok((a..=b).collect());
    }
    s.split(',')
        .map(|x| x.trim().parse().map_err(|_| bad()))
        .collect()
}

/// Runs the experiment and writes its outputs.
pub fn gpu_fragmentation(a: &GpuFragmentationArgs) -> Result<i32, Error> {
    let seeds = parse_seeds(&a.seeds)?;
    let mut policies = Vec::new();
    for p in &a.policy {
        let p = Policy::parse(p).ok_or_else(|| {
            Error::Usage(format!(
                "--policy {p:?}: expected one of Random, DotProd, GpuClustering, GpuPacking, BestFit, FGD"
            ))
        })?;
        if !policies.contains(&p) {
            policies.push(p);
        }
    }
    if policies.is_empty() {
        policies = Policy::ALL.to_vec();
    }
    let names: Vec<String> = if a.trace.is_empty() {
        TRACES.iter().map(|s| s.to_string()).collect()
    } else {
        a.trace.iter().map(|t| short_name(t)).collect()
    };
    let mut traces = Vec::new();
    for n in names {
        let path = pod_file(&a.traces, &n);
        if !path.exists() {
            return Err(Error::Usage(format!(
                "--trace {n}: no pod list {}",
                path.display()
            )));
        }
        traces.push((n, path));
    }
    let nodes = a.nodes.clone().unwrap_or_else(|| node_file(&a.traces));
    #[allow(clippy::disallowed_methods)]
    let started = std::time::Instant::now();
    let (cluster, cells) = run_grid(&nodes, &traces, &policies, &seeds)?;
    let elapsed = started.elapsed();
    let gpus = cluster.gpu_milli as f64 / 1000.0;
    let files = outputs(&cells, &policies, gpus)?;
    write_outputs(&a.out, &files)?;
    print!("{}", results_table(&cells, &policies, gpus));
    eprintln!(
        "{} runs ({} traces x {} policies x {} seeds) on {} nodes in {:.2} s wall; wrote {}",
        cells.iter().map(|c| c.runs.len()).sum::<usize>(),
        traces.len(),
        policies.len(),
        seeds.len(),
        cluster.nodes.len(),
        elapsed.as_secs_f64(),
        a.out.display()
    );
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_parse() {
        assert_eq!(parse_seeds("42..51").unwrap().len(), 10);
        assert_eq!(parse_seeds("1,3").unwrap(), vec![1, 3]);
        assert_eq!(parse_seeds("7").unwrap(), vec![7]);
        assert!(parse_seeds("9..2").is_err());
        assert!(parse_seeds("x").is_err());
    }
}
