//! `kubetwin sweep` (a scenario over a parameter grid times seeds, in parallel) and
//! `kubetwin merge` (shard directories back into one sweep). Exit 0 when a grid point
//! meets the expectations at the requested confidence (or a shard was written), 1 when
//! none does, 2 on bad input. The wall time and runs/s go to stderr, so this module
//! reads the clock.
#![allow(clippy::disallowed_methods)]

use super::{EXIT_CHECK_FAILED, EXIT_OK};
use crate::compare::parse_seeds;
use crate::error::Error;
use crate::sweep::grid::{Axis, Grid, Shard};
use crate::sweep::output::{self, Options};
use crate::sweep::parameters::{declarations, resolve, scenario_at};
use crate::sweep::results::RunTable;
use crate::sweep::shard::{Manifest, merge as merge_shards};
use crate::sweep::yaml::Node;
use crate::workload::Scenario;
use clap::{Args, ValueEnum};
use std::path::{Path, PathBuf};

/// The default `--seeds`.
pub const DEFAULT_SEEDS: &str = "1..20";

/// Output formats of `sweep` and `merge`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SweepFormat {
    /// A table of grid points and the answer line.
    Table,
    /// `answer.json`.
    Json,
}

/// Options shared by `sweep` and `merge`.
#[derive(Debug, Clone, Args)]
pub struct AnswerArgs {
    /// Share of seeds whose expectations must hold at the answer's grid point.
    #[arg(long, default_value_t = 0.95)]
    pub confidence: f64,
    /// The metric whose p50 the answer minimises (a dotted summary.json path).
    /// Default: cost.total, or the first eligible grid point when it is absent.
    #[arg(long, value_name = "METRIC")]
    pub minimize: Option<String>,
    /// A metric to plot against the parameters (repeatable; default: pass_share,
    /// cost.total, pods.pending, scheduling.latency_ms_p99, nodes.total where present).
    #[arg(long = "plot", value_name = "METRIC")]
    pub plots: Vec<String>,
    /// Output format on stdout.
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: SweepFormat,
}

/// Arguments of `sweep`.
#[derive(Debug, Clone, Args)]
pub struct SweepArgs {
    /// The scenario file.
    pub scenario: PathBuf,
    /// NAME=VALUES: a declared parameter (spec.parameters) or a path in the scenario,
    /// with `a..b:step`, `a..b` or a comma list (repeatable; the grid is their product).
    #[arg(long = "set", value_name = "NAME=VALUES")]
    pub sets: Vec<String>,
    /// Seeds: `1..100` (inclusive), `5`, `1,2,7`, or a mix.
    #[arg(long, default_value = DEFAULT_SEEDS)]
    pub seeds: String,
    /// Threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Output directory (default: reports/<scenario>/sweep, or
    /// reports/<scenario>/sweep-shard-I for a shard).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Run only shard I of N (0-based I, as a Kubernetes Indexed Job's completion index).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Answer and plot options.
    #[command(flatten)]
    pub answer: AnswerArgs,
}

/// Arguments of `merge`.
#[derive(Debug, Clone, Args)]
pub struct MergeArgs {
    /// Shard directories written by `sweep --shard`.
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
    /// Output directory (default: reports/<scenario>/sweep).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Answer and plot options.
    #[command(flatten)]
    pub answer: AnswerArgs,
}

fn options(a: &AnswerArgs) -> Result<Options, Error> {
    if !(a.confidence > 0.0 && a.confidence <= 1.0) {
        return Err(Error::Usage(format!(
            "--confidence {}: must be above 0 and at most 1",
            a.confidence
        )));
    }
    Ok(Options {
        confidence: a.confidence,
        minimize: a.minimize.clone(),
        plots: a.plots.clone(),
    })
}

/// Runs `sweep`.
pub fn sweep(a: &SweepArgs) -> Result<i32, Error> {
    let seeds = parse_seeds(&a.seeds).map_err(|e| Error::Usage(e.to_string()))?;
    if a.threads == Some(0) {
        return Err(Error::Usage("--threads: must be at least 1".into()));
    }
    let shard = match &a.shard {
        Some(s) => Shard::parse(s).map_err(|e| Error::Usage(e.to_string()))?,
        None => Shard::ALL,
    };
    let opts = options(&a.answer)?;
    let path = &a.scenario;
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let file = path.display().to_string();
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    // The scenario as written must load: its own errors are reported as usual.
    let original = Scenario::from_str(&text, &file, base.clone())?;
    for w in &original.warnings {
        eprintln!("{w}");
    }
    let tree = Node::parse(&text).map_err(|m| Error::Internal(format!("{file}: {m}")))?;
    let declared = declarations(&tree, &file, &text)?;
    let params = resolve(&a.sets, &tree, &file, &declared)?;
    let grid = Grid {
        axes: params.iter().map(Axis::from).collect(),
        seeds,
    };
    let runs = shard.runs(grid.runs());
    // Every grid point's scenario is built (and validated) before anything runs.
    let mut scenarios = Vec::with_capacity(grid.points());
    for p in 0..grid.points() {
        scenarios.push(if params.is_empty() {
            original.clone()
        } else {
            scenario_at(&tree, &text, &file, &base, &params, &grid.choice(p))?
        });
    }
    let manifest = Manifest::new(&original.name, &file, &text, &grid, shard);
    let wall = std::time::Instant::now();
    let done = crate::sweep::exec::execute(&scenarios, &grid, &runs, a.threads)?;
    let secs = wall.elapsed().as_secs_f64();
    eprintln!(
        "sweep: {} runs ({} grid points x {} seeds{}) on {} threads in {secs:.2} s ({:.1} runs/s)",
        runs.len(),
        grid.points(),
        grid.seeds.len(),
        if shard.count > 1 {
            format!(", shard {}/{}", shard.index, shard.count)
        } else {
            String::new()
        },
        done.threads,
        runs.len() as f64 / secs.max(1e-9)
    );
    for r in &done.truncated {
        let (p, k) = grid.run(*r);
        eprintln!(
            "warning: run {r} ({}, seed {}) stopped at the event limit; its metrics cover a truncated run",
            grid.label(p),
            grid.seeds[k]
        );
    }
    let table = RunTable::new(&done.results);
    let reports = PathBuf::from("reports").join(&original.name);
    if shard.count > 1 {
        let dir = a
            .out
            .clone()
            .unwrap_or_else(|| reports.join(format!("sweep-shard-{}", shard.index)));
        output::write_dir(
            &dir,
            &[
                ("manifest.json".to_string(), manifest.to_text()),
                ("runs.csv".to_string(), table.to_csv(&grid)?),
            ],
        )?;
        eprintln!(
            "shard {}/{}: {} runs written to {}; combine the shards with kubetwin merge",
            shard.index,
            shard.count,
            runs.len(),
            dir.display()
        );
        return Ok(EXIT_OK);
    }
    let dir = a.out.clone().unwrap_or_else(|| reports.join("sweep"));
    finish(&grid, &manifest, &table, &opts, &dir, a.answer.output)
}

/// Runs `merge`.
pub fn merge(a: &MergeArgs) -> Result<i32, Error> {
    let opts = options(&a.answer)?;
    let (manifest, grid, table) = merge_shards(&a.shards)?;
    let dir = a.out.clone().unwrap_or_else(|| {
        PathBuf::from("reports")
            .join(&manifest.scenario)
            .join("sweep")
    });
    eprintln!(
        "merge: {} shards, {} runs",
        a.shards.len(),
        table.rows.len()
    );
    finish(&grid, &manifest, &table, &opts, &dir, a.answer.output)
}

fn finish(
    grid: &Grid,
    manifest: &Manifest,
    table: &RunTable,
    opts: &Options,
    dir: &Path,
    format: SweepFormat,
) -> Result<i32, Error> {
    let c = output::complete(grid, manifest, table, opts)?;
    output::write_dir(dir, &c.files)?;
    let line = c.answer.line(grid, table, &c.points);
    match format {
        SweepFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&c.answer.to_json(grid, table, &c.points))
                .unwrap_or_default()
        ),
        SweepFormat::Table => {
            print!("{}", output::text_table(grid, table, &c));
            println!("{line}");
        }
    }
    if !c.answer.metric_present && opts.minimize.is_none() && c.answer.point.is_some() {
        eprintln!(
            "note: no run reports {}; the answer is the first grid point that meets the expectations",
            c.answer.minimize
        );
    }
    eprintln!("sweep report: {}", dir.display());
    Ok(if c.answer.point.is_some() {
        EXIT_OK
    } else {
        EXIT_CHECK_FAILED
    })
}
