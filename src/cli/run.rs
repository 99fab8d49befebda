//! `kubetwin run`: runs a scenario, writes the report, prints the summary and the
//! expectations, and exits 1 when an expectation failed. It measures wall time for the
//! user, so it may read the clock.
#![allow(clippy::disallowed_methods)]

use super::{EXIT_CHECK_FAILED, EXIT_OK, Output};
use crate::error::Error;
use crate::simulation::{RunOptions, run as simulate};
use crate::workload::Scenario;
use std::path::{Path, PathBuf};

/// Loads a scenario file, or the embedded default.
pub fn load(path: Option<&Path>) -> Result<Scenario, Error> {
    match path {
        Some(p) => Scenario::load(p),
        None => Scenario::default_scenario(),
    }
}

/// The options of `kubetwin run` besides the scenario.
#[derive(Debug, Clone)]
pub struct RunArgs {
    /// Override the scenario's seed.
    pub seed: Option<u64>,
    /// Report directory.
    pub out: Option<PathBuf>,
    /// Do not write a report.
    pub no_report: bool,
    /// Output format of the summary.
    pub output: Output,
    /// `--scheduler-config`: overrides the scenario's `spec.scheduler.config`.
    pub scheduler_config: Option<PathBuf>,
    /// `--explain` values (pod name globs or `all`).
    pub explain: Vec<String>,
    /// `--explain-labels` values (label selectors).
    pub explain_labels: Vec<String>,
    /// `--trace` and the trace overrides.
    pub trace: crate::workload::traces::spec::TraceArgs,
    /// `--markdown`: print `report.md` instead of the table.
    pub markdown: bool,
}

/// Runs the command.
pub fn run(path: Option<&Path>, args: &RunArgs) -> Result<i32, Error> {
    let RunArgs {
        seed,
        out,
        no_report,
        output,
        scheduler_config,
        explain,
        explain_labels,
        trace,
        markdown,
    } = args.clone();
    let explain = crate::controllers::scheduler::explain::ExplainSelector::from_flags(
        &explain,
        &explain_labels,
    )
    .map_err(|e| Error::Usage(e.to_string()))?;
    if explain.is_some() && no_report {
        return Err(Error::Usage(
            "--explain writes explain.jsonl into the report: it cannot be used with --no-report"
                .into(),
        ));
    }
    let mut loaded = if trace.is_empty() {
        crate::replay::record::LoadedScenario::load(path)?
    } else {
        crate::workload::traces::spec::with_deferred_scans(|| {
            crate::replay::record::LoadedScenario::load(path)
        })?
    };
    trace.apply(&mut loaded.scenario)?;
    let scenario = &loaded.scenario;
    for w in &scenario.warnings {
        eprintln!("{w}");
    }
    let scheduler = match &scheduler_config {
        Some(p) => {
            let s = crate::controllers::scheduler::plugins::gpu::framework::load_config(p)?;
            for w in &s.warnings {
                eprintln!("{w}");
            }
            Some(s)
        }
        None => None,
    };
    let wall = std::time::Instant::now();
    let result = simulate(
        scenario,
        &RunOptions {
            seed,
            scheduler,
            explain,
            ..RunOptions::default()
        },
    )?;
    let elapsed = wall.elapsed();
    let dir = out.unwrap_or_else(|| {
        PathBuf::from("reports")
            .join(&scenario.name)
            .join(result.seed.to_string())
    });
    if !no_report {
        let header = loaded.header(
            result.seed,
            scheduler_config.as_deref(),
            &args.explain,
            &args.explain_labels,
        )?;
        crate::report::writer::write_recorded_report(&dir, &result, Some(&header))?;
    }
    let summary = crate::report::summary(&result);
    match output {
        _ if markdown => print!("{}", crate::report::writer::markdown(&result)?),
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(&summary).unwrap_or_default()
        ),
        _ => print!("{}", table(&result, &summary)),
    }
    if !no_report {
        eprintln!("report: {}", dir.join("index.html").display());
    }
    eprintln!(
        "simulated {} in {:.3}s wall ({} events, {:.0} events/s)",
        result.end,
        elapsed.as_secs_f64(),
        result.events,
        result.events as f64 / elapsed.as_secs_f64().max(1e-9)
    );
    if !result.passed() {
        let mut cmd = match path {
            Some(p) => format!("kubetwin run {} --seed {}", p.display(), result.seed),
            None => format!("kubetwin run --seed {}", result.seed),
        };
        if let Some(c) = &scheduler_config {
            cmd.push_str(&format!(" --scheduler-config {}", c.display()));
        }
        eprintln!("expectations failed; reproduce with: {cmd}");
        return Ok(EXIT_CHECK_FAILED);
    }
    Ok(EXIT_OK)
}

fn table(r: &crate::simulation::RunOutput, s: &serde_json::Value) -> String {
    let mut out = String::new();
    let g = |p: &str| s.pointer(p).map(|v| v.to_string()).unwrap_or_default();
    out.push_str(&format!(
        "SCENARIO  {}  (seed {}, simulated {})\n",
        r.scenario, r.seed, r.end
    ));
    out.push_str(&format!(
        "NODES     total {}  ready {}  not-ready {}\n",
        g("/nodes/total"),
        g("/nodes/ready"),
        g("/nodes/not_ready")
    ));
    out.push_str(&format!(
        "PODS      created {}  running {}  ready {}  pending {}  succeeded {}  failed {}  terminating {}\n",
        g("/pods/created"), g("/pods/running"), g("/pods/ready"), g("/pods/pending"), g("/pods/succeeded"), g("/pods/failed"), g("/pods/terminating")
    ));
    out.push_str(&format!(
        "SCHEDULE  bindings {}  latency p50 {} ms  p99 {} ms  max {} ms\n",
        g("/scheduling/bindings"),
        g("/scheduling/latency_ms_p50"),
        g("/scheduling/latency_ms_p99"),
        g("/scheduling/latency_ms_max")
    ));
    if let Some(w) = s.get("workloads").and_then(|w| w.as_object())
        && !w.is_empty()
    {
        out.push_str("\nWORKLOAD                          DESIRED   CURRENT   READY   AVAILABLE\n");
        for (k, v) in w {
            out.push_str(&format!(
                "{:<33} {:<9} {:<9} {:<7} {}\n",
                k,
                v["desired"].to_string(),
                v["current"].to_string(),
                v["ready"].to_string(),
                v["available"]
            ));
        }
    }
    if !r.expectations.is_empty() {
        out.push('\n');
        out.push_str(&crate::report::expectations::text_table(&r.expectations));
    }
    out
}
