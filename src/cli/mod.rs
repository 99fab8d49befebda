//! The command line, in kubectl's habits: `run`, `validate`, `get`, `conformance`,
//! `bench`, `compare`, `check`, `explain`, `sweep`, `merge`, `experiment`. Exit codes: 0 ok,
//! 1 an expectation or check failed, 2 bad input or an internal error.

pub mod bench;
pub mod check;
pub mod compare;
pub mod diff;
pub mod experiment;
pub mod explain;
pub mod get;
pub mod import;
pub mod replay;
pub mod run;
pub mod swarm;
pub mod sweep;
pub mod validate;

use crate::error::Error;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Exit code: success.
pub const EXIT_OK: i32 = 0;
/// Exit code: an expectation or check failed.
pub const EXIT_CHECK_FAILED: i32 = 1;
/// Exit code: bad input or an internal error.
pub const EXIT_BAD_INPUT: i32 = 2;

/// kubetwin: a deterministic Kubernetes cluster simulator and digital twin.
#[derive(Debug, Parser)]
#[command(name = "kubetwin", version, about, long_about = None)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Human-readable table.
    Table,
    /// JSON.
    Json,
    /// kubectl's wide table (for `get`).
    Wide,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario (the embedded default when none is given) and write its report.
    Run {
        /// The scenario file.
        scenario: Option<PathBuf>,
        /// Override the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Report directory (default: reports/<scenario>/<seed>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Do not write a report.
        #[arg(long)]
        no_report: bool,
        /// Output format of the summary on stdout.
        #[arg(short = 'o', long, value_enum, default_value = "table")]
        output: Output,
        /// A KubeSchedulerConfiguration file (kubescheduler.config.k8s.io/v1) overriding
        /// the scenario's `spec.scheduler.config`.
        #[arg(long, value_name = "FILE")]
        scheduler_config: Option<PathBuf>,
        /// Explain the scheduling attempts of these pods in `explain.jsonl`: `all`, or
        /// comma-separated pod name globs (`web-*`, `default/db-?`). Repeatable.
        #[arg(long, value_name = "PODS")]
        explain: Vec<String>,
        /// Explain the scheduling attempts of the pods this label selector selects
        /// (kubectl `-l` syntax: `app=web,tier!=db`). Repeatable.
        #[arg(long, value_name = "SELECTOR")]
        explain_labels: Vec<String>,
        /// Trace replay: `--trace`, window, time scale, filters, `--skip-bad-rows`.
        #[command(flatten)]
        trace: crate::workload::traces::spec::TraceArgs,
        /// Print the run's Markdown summary (`report.md`, for a CI comment) on stdout
        /// instead of the table.
        #[arg(long)]
        markdown: bool,
    },
    /// Validate manifests, scenario files and KubeSchedulerConfiguration files.
    Validate {
        /// Files or directories.
        #[arg(short = 'f', long = "filename", required = true)]
        files: Vec<PathBuf>,
        /// Recurse into directories.
        #[arg(short = 'R', long)]
        recursive: bool,
    },
    /// Print objects as kubectl would, at a simulated time.
    Get(get::GetArgs),
    /// Run conformance case files (see the conformance README's runner contract).
    Conformance {
        /// Case files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Benchmarks: the event engine and the reference workload.
    Bench(bench::BenchArgs),
    /// Compare scheduler configurations on scenarios over many seeds.
    Compare(compare::CompareArgs),
    /// Check scheduling metrics against a baseline file (exit 1 on a regression).
    Check(check::CheckArgs),
    /// Experiments against published results (`gpu-fragmentation`).
    Experiment(experiment::ExperimentArgs),
    /// Explain one pod's scheduling attempts: per node the filter result and scores.
    Explain(explain::ExplainArgs),
    /// Run a scenario over a parameter grid and seeds; answer the cheapest grid point
    /// whose expectations hold (exit 1 when none does).
    Sweep(sweep::SweepArgs),
    /// Merge `sweep --shard` directories into one sweep report.
    Merge(sweep::MergeArgs),
    /// Inject a fault mix drawn from each seed, heal it, and require convergence to the
    /// desired state (exit 1 with the reproducing command otherwise).
    Swarm(swarm::SwarmArgs),
    /// Import a cluster (a `kubectl get ... -A -o yaml` dump, or the ByteDance M3
    /// snapshot) as a digital twin scenario.
    Import(import::ImportArgs),
    /// Re-run a recorded run (a report directory or its events.jsonl) and check that it
    /// reproduces (exit 1 naming the first divergence).
    Replay(replay::ReplayArgs),
    /// Compare two recorded runs: input changes, first divergence and metric deltas.
    Diff(diff::DiffArgs),
}

/// Runs the CLI and returns the process exit code.
pub fn main() -> i32 {
    // Keep each message on one line (tools and tests grep for `file:line: field: message`).
    let _ = miette::set_hook(Box::new(|_| {
        Box::new(miette::MietteHandlerOpts::new().wrap_lines(false).build())
    }));
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                EXIT_BAD_INPUT
            } else {
                EXIT_OK
            };
            let _ = e.print();
            return code;
        }
    };
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            report_error(e);
            EXIT_BAD_INPUT
        }
    }
}

/// Prints an error with miette (file, line, field and a source snippet).
pub fn report_error(e: Error) {
    let report = miette::Report::new(e);
    eprintln!("{report:?}");
}

fn dispatch(cli: Cli) -> Result<i32, Error> {
    match cli.command {
        Command::Run {
            scenario,
            seed,
            out,
            no_report,
            output,
            scheduler_config,
            explain,
            explain_labels,
            trace,
            markdown,
        } => run::run(
            scenario.as_deref(),
            &run::RunArgs {
                seed,
                out,
                no_report,
                output,
                scheduler_config,
                explain,
                explain_labels,
                trace,
                markdown,
            },
        ),
        Command::Validate { files, recursive } => validate::validate(&files, recursive),
        Command::Get(args) => get::get(&args),
        Command::Conformance { paths } => {
            let mut stdout = std::io::stdout().lock();
            match crate::conformance::run(&paths, &mut stdout) {
                Ok(s) => Ok(if s.exit_ok() {
                    EXIT_OK
                } else {
                    EXIT_CHECK_FAILED
                }),
                Err(e) => Err(Error::Usage(e.to_string())),
            }
        }
        Command::Bench(args) => bench::bench(&args),
        Command::Experiment(args) => match &args.which {
            experiment::Experiment::GpuFragmentation(a) => experiment::gpu_fragmentation(a),
        },
        Command::Compare(args) => compare::compare(&args),
        Command::Check(args) => check::check(&args),
        Command::Explain(args) => explain::explain(&args),
        Command::Sweep(args) => sweep::sweep(&args),
        Command::Merge(args) => sweep::merge(&args),
        Command::Swarm(args) => swarm::swarm(&args),
        Command::Import(args) => import::import(&args),
        Command::Replay(args) => replay::replay(&args),
        Command::Diff(args) => diff::diff(&args),
    }
}
