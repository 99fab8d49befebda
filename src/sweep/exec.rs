//! Running a sweep's runs on a local rayon pool. Every run is one single-threaded
//! simulation of its grid point's scenario with its seed (journal off, metrics on);
//! results are collected in run order, so the output does not depend on the number of
//! threads. A progress bar is drawn on stderr only when stderr is a terminal.

use super::grid::Grid;
use super::results::{RunResult, flatten};
use crate::error::Error;
use crate::simulation::{RunOptions, run};
use crate::workload::Scenario;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use std::io::IsTerminal as _;

/// The results of the runs executed.
#[derive(Debug)]
pub struct Executed {
    /// One result per run, in run order.
    pub results: Vec<RunResult>,
    /// Runs stopped at the event limit.
    pub truncated: Vec<usize>,
    /// Threads used.
    pub threads: usize,
}

/// Runs `runs` (indexes into the grid's run list); `scenarios[p]` is grid point `p`'s
/// scenario. `threads: None` uses one thread per core.
pub fn execute(
    scenarios: &[Scenario],
    grid: &Grid,
    runs: &[usize],
    threads: Option<usize>,
) -> Result<Executed, Error> {
    let mut builder = rayon::ThreadPoolBuilder::new()
        .thread_name(|i| format!("kubetwin-sweep-{i}"))
        .stack_size(8 << 20);
    if let Some(t) = threads {
        builder = builder.num_threads(t.max(1));
    }
    let pool = builder
        .build()
        .map_err(|e| Error::Internal(format!("thread pool: {e}")))?;
    let bar = if std::io::stderr().is_terminal() {
        let b =
            ProgressBar::with_draw_target(Some(runs.len() as u64), ProgressDrawTarget::stderr());
        if let Ok(style) =
            ProgressStyle::with_template("sweep {bar:40} {pos}/{len} runs  {elapsed} (eta {eta})")
        {
            b.set_style(style);
        }
        b
    } else {
        ProgressBar::hidden()
    };
    let outputs: Vec<Result<(RunResult, bool), Error>> = pool.install(|| {
        runs.par_iter()
            .with_max_len(1)
            .map(|&i| {
                let (point, seed) = grid.run(i);
                let opts = RunOptions {
                    seed: Some(grid.seeds[seed]),
                    journal: false,
                    metrics: true,
                    ..RunOptions::default()
                };
                let out = run(&scenarios[point], &opts)?;
                let summary = crate::report::summary(&out);
                let r = RunResult {
                    run: i,
                    passed: out.passed(),
                    metrics: flatten(&summary),
                };
                bar.inc(1);
                Ok((r, out.truncated))
            })
            .collect()
    });
    bar.finish_and_clear();
    let mut results = Vec::with_capacity(outputs.len());
    let mut truncated = Vec::new();
    for o in outputs {
        let (r, t) = o?;
        if t {
            truncated.push(r.run);
        }
        results.push(r);
    }
    Ok(Executed {
        results,
        truncated,
        threads: pool.current_num_threads(),
    })
}
