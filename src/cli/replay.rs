//! `kubetwin replay DIR_OR_EVENTS`: re-runs a recorded run from its `events.jsonl`
//! header and checks the journal (and `metrics.csv`, `summary.json`, `explain.jsonl`
//! when present beside it) line by line. Exit 0 identical, 1 the first divergence, 2 a
//! bad recording.

use super::{EXIT_CHECK_FAILED, EXIT_OK, Output};
use crate::error::Error;
use crate::replay::divergence;
use crate::replay::journal::Recording;
use crate::replay::rerun::{rerun, verify};
use clap::Args;
use std::path::PathBuf;

/// `kubetwin replay` arguments.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// A report directory or its `events.jsonl`.
    pub recording: PathBuf,
    /// Where external (large) inputs are looked for: the original scenario's directory
    /// (default: the scenario directory recorded in the header, relative to here).
    #[arg(long, value_name = "DIR")]
    pub inputs: Option<PathBuf>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: Output,
}

/// Runs the command.
pub fn replay(args: &ReplayArgs) -> Result<i32, Error> {
    let rec = Recording::open(&args.recording)?;
    let out = rerun(&rec.header, args.inputs.as_deref(), &mut |w| {
        eprintln!("{w}")
    })?;
    let v = verify(&rec, &out)?;
    let name = rec.file.display().to_string();
    match args.output {
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "recording": name,
                "identical": v.identical(),
                "verdict": v,
            }))
            .unwrap_or_default()
        ),
        _ => print!("{}", render(&name, &v)),
    }
    Ok(if v.identical() {
        EXIT_OK
    } else {
        EXIT_CHECK_FAILED
    })
}

fn render(name: &str, v: &crate::replay::rerun::Verdict) -> String {
    let mut s = String::new();
    match &v.divergence {
        None => s.push_str(&format!("{name}: identical ({} events)\n", v.events)),
        Some(d) => {
            s.push_str(&format!("{name}: diverged: "));
            s.push_str(&divergence::render(d, "recorded", "replayed"));
        }
    }
    for f in &v.files {
        match &f.difference {
            None => s.push_str(&format!("{}: identical\n", f.name)),
            Some((line, a, b)) => {
                s.push_str(&format!("{}: differs at line {line}\n", f.name));
                s.push_str(&format!(
                    "  recorded  {}\n  replayed  {}\n",
                    a.as_deref().unwrap_or("<end of file>"),
                    b.as_deref().unwrap_or("<end of file>")
                ));
            }
        }
    }
    s
}
