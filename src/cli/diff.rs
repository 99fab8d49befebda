//! `kubetwin diff RUN_A RUN_B`: what differs in two recorded runs' inputs, the first
//! divergence of their journals, and the deltas of every numeric `summary.json` field.
//! Informational: exit 0 (1 with `--fail-on-divergence` when the journals differ), 2 a
//! bad recording.

use super::{EXIT_CHECK_FAILED, EXIT_OK, Output};
use crate::error::Error;
use crate::replay::diff::{diff as diff_runs, render_table};
use crate::replay::journal::Recording;
use clap::Args;
use std::path::PathBuf;

/// `kubetwin diff` arguments.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Run A: a report directory or its `events.jsonl`.
    pub a: PathBuf,
    /// Run B.
    pub b: PathBuf,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: Output,
    /// Show only the metrics that changed.
    #[arg(long)]
    pub changed: bool,
    /// Exit 1 when the journals diverge.
    #[arg(long)]
    pub fail_on_divergence: bool,
}

/// Runs the command.
pub fn diff(args: &DiffArgs) -> Result<i32, Error> {
    let a = Recording::open(&args.a)?;
    let b = Recording::open(&args.b)?;
    let d = diff_runs(
        &a,
        &args.a.display().to_string(),
        &b,
        &args.b.display().to_string(),
    )?;
    match args.output {
        Output::Json => {
            let mut v = serde_json::to_value(&d).unwrap_or_default();
            if args.changed
                && let Some(m) = v.get_mut("metrics").and_then(|m| m.as_array_mut())
            {
                m.retain(|r| r["a"] != r["b"]);
            }
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        }
        _ => print!("{}", render_table(&d, args.changed)),
    }
    Ok(if args.fail_on_divergence && d.first_divergence.is_some() {
        EXIT_CHECK_FAILED
    } else {
        EXIT_OK
    })
}
